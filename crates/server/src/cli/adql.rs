//! `tapir adql parse` and `tapir adql translate`: the ADQL front end on the command line.

use std::io::{self, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use adql::{OutputColumn, Translation, UdfRegistry};
use anyhow::Context;
use serde::Serialize;

use crate::catalog_file;

/// Exit status when the query itself is rejected.
const REJECTED: u8 = 1;

/// Check a query against the ADQL 2.1 grammar (the allow-list, conditions and values, the
/// arguments of ADQL's functions), without a catalogue.
pub fn parse(query: Option<String>) -> anyhow::Result<ExitCode> {
    let query = read_query(query)?;
    match adql::parse(&query) {
        Ok(_) => {
            println!("ok");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(ExitCode::from(REJECTED))
        }
    }
}

/// Translate a query against the tables of a catalogue file and print the SQL and
/// the metadata of the result columns.
pub fn translate(catalog: &Path, json: bool, query: Option<String>) -> anyhow::Result<ExitCode> {
    let catalog = catalog_file::load(catalog)?;
    let query = read_query(query)?;
    let translation = match adql::translate(&query, &catalog, &UdfRegistry::standard()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(REJECTED));
        }
    };
    let out = if json {
        let mut s = serde_json::to_string_pretty(&JsonTranslation::from(&translation))
            .context("cannot encode the translation as JSON")?;
        s.push('\n');
        s
    } else {
        render_text(&translation)
    };
    // A closed pipe (`| head`) is not worth a panic from println!.
    let mut stdout = io::stdout().lock();
    match stdout.write_all(out.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e).context("cannot write to standard output"),
    }
}

/// The query from the argument, or from standard input when there is none (or it is `-`).
fn read_query(arg: Option<String>) -> anyhow::Result<String> {
    match arg {
        Some(q) if q != "-" => Ok(q),
        _ => {
            let mut q = String::new();
            io::stdin()
                .read_to_string(&mut q)
                .context("cannot read the query from standard input")?;
            Ok(q)
        }
    }
}

/// The SQL, a blank line, then one tab-separated line per output column:
/// name, datatype, arraysize, xtype, unit, ucd (`-` where empty).
fn render_text(t: &Translation) -> String {
    let mut out = String::with_capacity(t.sql.len() + 64 * t.columns.len());
    out.push_str(&t.sql);
    out.push_str("\n\n");
    for c in &t.columns {
        let fields = [
            Some(c.name.as_str()),
            Some(c.datatype),
            c.arraysize.as_deref(),
            c.xtype,
            c.unit.as_deref(),
            c.ucd.as_deref(),
        ];
        let line: Vec<String> = fields.iter().map(|f| field(*f)).collect();
        out.push_str(&line.join("\t"));
        out.push('\n');
    }
    out
}

/// One field of the column table: `-` when empty; tabs and line breaks (possible in
/// delimited identifiers) become spaces so that every column stays on one line.
fn field(value: Option<&str>) -> String {
    match value {
        None | Some("") => "-".to_owned(),
        Some(v) => v.replace(['\t', '\n', '\r'], " "),
    }
}

#[derive(Serialize)]
struct JsonTranslation<'a> {
    sql: &'a str,
    top: Option<u64>,
    columns: Vec<JsonColumn<'a>>,
}

#[derive(Serialize)]
struct JsonColumn<'a> {
    name: &'a str,
    datatype: &'a str,
    arraysize: Option<&'a str>,
    xtype: Option<&'a str>,
    unit: Option<&'a str>,
    ucd: Option<&'a str>,
    utype: Option<&'a str>,
    description: Option<&'a str>,
}

impl<'a> From<&'a Translation> for JsonTranslation<'a> {
    fn from(t: &'a Translation) -> Self {
        JsonTranslation {
            sql: &t.sql,
            top: t.top,
            columns: t.columns.iter().map(JsonColumn::from).collect(),
        }
    }
}

impl<'a> From<&'a OutputColumn> for JsonColumn<'a> {
    fn from(c: &'a OutputColumn) -> Self {
        JsonColumn {
            name: &c.name,
            datatype: c.datatype,
            arraysize: c.arraysize.as_deref(),
            xtype: c.xtype,
            unit: c.unit.as_deref(),
            ucd: c.ucd.as_deref(),
            utype: c.utype.as_deref(),
            description: c.description.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use adql::AdqlType;

    fn sample() -> Translation {
        Translation {
            sql: "SELECT 1".into(),
            columns: vec![
                OutputColumn {
                    name: "source_id".into(),
                    ty: AdqlType::BigInt,
                    datatype: "long",
                    arraysize: None,
                    xtype: None,
                    unit: None,
                    ucd: Some("meta.id;meta.main".into()),
                    utype: None,
                    description: None,
                },
                OutputColumn {
                    name: "odd\tname".into(),
                    ty: AdqlType::Point,
                    datatype: "double",
                    arraysize: Some("2".into()),
                    xtype: Some("point"),
                    unit: Some("deg".into()),
                    ucd: Some(String::new()),
                    utype: None,
                    description: None,
                },
            ],
            top: Some(3),
        }
    }

    #[test]
    fn text_output() {
        assert_eq!(
            render_text(&sample()),
            "SELECT 1\n\nsource_id\tlong\t-\t-\t-\tmeta.id;meta.main\nodd name\tdouble\t2\tpoint\tdeg\t-\n"
        );
    }

    #[test]
    fn json_output() {
        let t = sample();
        let v = serde_json::to_value(JsonTranslation::from(&t)).unwrap();
        assert_eq!(v["sql"], "SELECT 1");
        assert_eq!(v["top"], 3);
        assert_eq!(v["columns"][0]["name"], "source_id");
        assert_eq!(v["columns"][0]["arraysize"], serde_json::Value::Null);
        assert_eq!(v["columns"][1]["xtype"], "point");
    }
}
