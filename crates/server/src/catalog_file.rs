//! The catalogue file of the command line: the tables and columns a query may use,
//! described the way TAP_SCHEMA describes them, in TOML or JSON.
//!
//! ```toml
//! [[tables]]
//! schema = "bench"          # optional
//! name = "objects"
//! description = "..."       # optional
//! [[tables.columns]]
//! name = "ra"
//! datatype = "double"       # VOTable or adql: names, as in TAP_SCHEMA
//! arraysize = "*"           # optional
//! xtype = "point"           # optional
//! unit = "deg"              # optional; also ucd, utype, description
//! ```
//!
//! JSON has the same structure: `{"tables": [{"name": ..., "columns": [{...}]}]}`.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use adql::{AdqlType, Column, MemoryCatalog, Table};
use serde::Deserialize;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    #[serde(default)]
    pub tables: Vec<TableSpec>,
}

/// One table, as in `TAP_SCHEMA.tables`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    pub schema: Option<String>,
    pub name: String,
    pub description: Option<String>,
    #[serde(default)]
    pub columns: Vec<ColumnSpec>,
}

/// One column, as in `TAP_SCHEMA.columns`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    pub name: String,
    pub datatype: String,
    pub arraysize: Option<String>,
    pub xtype: Option<String>,
    pub unit: Option<String>,
    pub ucd: Option<String>,
    pub utype: Option<String>,
    pub description: Option<String>,
}

/// The two encodings of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Json,
}

impl Format {
    /// JSON if the name ends in `.json` (any case), TOML otherwise.
    pub fn from_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::Toml,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Toml => "TOML",
            Format::Json => "JSON",
        })
    }
}

/// Why a catalogue description could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CatalogFileError {
    /// Shown as the I/O error itself, so that it is not repeated in error chains.
    #[error("{0}")]
    Read(std::io::Error),
    #[error("invalid {format}: {message}")]
    Syntax { format: Format, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// A [`CatalogFileError`] and the file it is about.
#[derive(Debug, thiserror::Error)]
#[error("catalogue file {}: {problem}", path.display())]
pub struct LoadError {
    pub path: PathBuf,
    pub problem: CatalogFileError,
}

impl CatalogFile {
    /// Decode the text of a catalogue file.
    pub fn parse(text: &str, format: Format) -> Result<CatalogFile, CatalogFileError> {
        let syntax = |message: String| CatalogFileError::Syntax { format, message };
        match format {
            Format::Toml => toml::from_str(text).map_err(|e| syntax(e.to_string().trim_end().to_owned())),
            Format::Json => serde_json::from_str(text).map_err(|e| syntax(e.to_string())),
        }
    }

    /// Read and decode a file, choosing the format from its name.
    pub fn read(path: &Path) -> Result<CatalogFile, CatalogFileError> {
        let text = std::fs::read_to_string(path).map_err(CatalogFileError::Read)?;
        Self::parse(&text, Format::from_path(path))
    }

    /// Check the description and turn it into the checker's catalogue.
    ///
    /// Rejects empty names, duplicate tables or columns, and datatypes that the
    /// checker would not know (they would silently become untyped).
    pub fn into_catalog(self) -> Result<MemoryCatalog, CatalogFileError> {
        let mut tables = Vec::with_capacity(self.tables.len());
        let mut seen_tables = HashSet::new();
        for spec in self.tables {
            let schema = spec.schema.as_deref().map(str::trim).filter(|s| !s.is_empty());
            let qualified = match schema {
                Some(s) => format!("{s}.{}", spec.name),
                None => spec.name.clone(),
            };
            if spec.name.trim().is_empty() {
                return Err(CatalogFileError::Invalid(match schema {
                    Some(s) => format!("a table in schema '{s}' has an empty name"),
                    None => "a table has an empty name".to_owned(),
                }));
            }
            if !seen_tables.insert(qualified.clone()) {
                return Err(CatalogFileError::Invalid(format!(
                    "table '{qualified}' is described twice"
                )));
            }
            let mut columns = Vec::with_capacity(spec.columns.len());
            let mut seen_columns = HashSet::new();
            for c in spec.columns {
                if c.name.trim().is_empty() {
                    return Err(CatalogFileError::Invalid(format!(
                        "table '{qualified}' has a column with an empty name"
                    )));
                }
                if !seen_columns.insert(c.name.clone()) {
                    return Err(CatalogFileError::Invalid(format!(
                        "column '{}' of table '{qualified}' is described twice",
                        c.name
                    )));
                }
                columns.push(column(&qualified, c)?);
            }
            let mut table = Table::new(schema, &spec.name, columns);
            table.description = non_empty(spec.description);
            tables.push(table);
        }
        Ok(MemoryCatalog::new(tables))
    }
}

/// Read a catalogue file and build the catalogue from it.
pub fn load(path: &Path) -> Result<MemoryCatalog, LoadError> {
    CatalogFile::read(path)
        .and_then(CatalogFile::into_catalog)
        .map_err(|problem| LoadError {
            path: path.to_owned(),
            problem,
        })
}

fn column(table: &str, spec: ColumnSpec) -> Result<Column, CatalogFileError> {
    let arraysize = non_empty(spec.arraysize);
    let xtype = non_empty(spec.xtype);
    let ty = AdqlType::from_tap(&spec.datatype, arraysize.as_deref(), xtype.as_deref());
    if ty == AdqlType::Unknown {
        return Err(CatalogFileError::Invalid(format!(
            "column '{}' of table '{table}': unknown datatype '{}'{}",
            spec.name,
            spec.datatype,
            match &xtype {
                Some(x) => format!(" with xtype '{x}'"),
                None => String::new(),
            }
        )));
    }
    let mut col = Column::new(spec.name, ty);
    col.arraysize = arraysize;
    col.unit = non_empty(spec.unit);
    col.ucd = non_empty(spec.ucd);
    col.utype = non_empty(spec.utype);
    col.description = non_empty(spec.description);
    Ok(col)
}

/// TAP_SCHEMA often holds empty strings where it means "none".
fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use adql::Catalog;

    const TOML_EXAMPLE: &str = r#"
[[tables]]
schema = "bench"
name = "objects"
description = "synthetic objects"

[[tables.columns]]
name = "id"
datatype = "long"
ucd = "meta.id;meta.main"

[[tables.columns]]
name = "ra"
datatype = "double"
unit = "deg"
ucd = "pos.eq.ra;meta.main"

[[tables.columns]]
name = "name"
datatype = "char"
arraysize = "16*"

[[tables.columns]]
name = "pos"
datatype = "double"
arraysize = "2"
xtype = "point"

[[tables]]
name = "v_ll_data_item"

[[tables.columns]]
name = "begin_time"
datatype = "adql:TIMESTAMP"
unit = ""
"#;

    const JSON_EXAMPLE: &str = r#"{
  "tables": [
    {
      "schema": "bench",
      "name": "objects",
      "description": "synthetic objects",
      "columns": [
        {"name": "id", "datatype": "long", "ucd": "meta.id;meta.main"},
        {"name": "ra", "datatype": "double", "unit": "deg", "ucd": "pos.eq.ra;meta.main"},
        {"name": "name", "datatype": "char", "arraysize": "16*"},
        {"name": "pos", "datatype": "double", "arraysize": "2", "xtype": "point"}
      ]
    },
    {
      "name": "v_ll_data_item",
      "columns": [{"name": "begin_time", "datatype": "adql:TIMESTAMP", "unit": ""}]
    }
  ]
}"#;

    fn check_example(cat: &MemoryCatalog) {
        let tables = cat.tables();
        assert_eq!(tables.len(), 2);
        let objects = &tables[0];
        assert_eq!(objects.schema.as_deref(), Some("bench"));
        assert_eq!(objects.name, "objects");
        assert_eq!(objects.description.as_deref(), Some("synthetic objects"));
        assert!(!objects.open);
        let cols = &objects.columns;
        assert_eq!(cols.len(), 4);
        assert_eq!(cols[0].ty, AdqlType::BigInt);
        assert_eq!(cols[0].ucd.as_deref(), Some("meta.id;meta.main"));
        assert_eq!(cols[1].ty, AdqlType::Double);
        assert_eq!(cols[1].unit.as_deref(), Some("deg"));
        assert_eq!(cols[2].ty, AdqlType::VarChar(Some(16)));
        assert_eq!(cols[2].arraysize.as_deref(), Some("16*"));
        assert_eq!(cols[3].ty, AdqlType::Point);
        assert_eq!(cols[3].arraysize.as_deref(), Some("2"));
        let items = &tables[1];
        assert_eq!(items.schema, None);
        assert_eq!(items.columns[0].ty, AdqlType::Timestamp);
        assert_eq!(items.columns[0].unit, None, "an empty unit means none");
    }

    #[test]
    fn reads_toml() {
        let file = CatalogFile::parse(TOML_EXAMPLE, Format::Toml).unwrap();
        check_example(&file.into_catalog().unwrap());
    }

    #[test]
    fn reads_json() {
        let file = CatalogFile::parse(JSON_EXAMPLE, Format::Json).unwrap();
        check_example(&file.into_catalog().unwrap());
    }

    #[test]
    fn format_follows_the_file_name() {
        assert_eq!(Format::from_path(Path::new("a/cat.json")), Format::Json);
        assert_eq!(Format::from_path(Path::new("cat.JSON")), Format::Json);
        assert_eq!(Format::from_path(Path::new("cat.toml")), Format::Toml);
        assert_eq!(Format::from_path(Path::new("catalogue")), Format::Toml);
    }

    #[test]
    fn rejects_bad_descriptions() {
        let err = |text: &str| match CatalogFile::parse(text, Format::Toml) {
            Ok(file) => file.into_catalog().err().map(|e| e.to_string()),
            Err(e) => Some(e.to_string()),
        };
        let unknown_type =
            "[[tables]]\nname = \"t\"\n[[tables.columns]]\nname = \"a\"\ndatatype = \"quaternion\"\n";
        assert!(err(unknown_type).is_some_and(|e| e.contains("unknown datatype 'quaternion'")));
        let dup_column = "[[tables]]\nname = \"t\"\n[[tables.columns]]\nname = \"a\"\ndatatype = \"int\"\n\
                          [[tables.columns]]\nname = \"a\"\ndatatype = \"int\"\n";
        assert!(err(dup_column).is_some_and(|e| e.contains("described twice")));
        let dup_table =
            "[[tables]]\nschema = \"s\"\nname = \"t\"\n[[tables]]\nschema = \"s\"\nname = \"t\"\n";
        assert!(err(dup_table).is_some_and(|e| e.contains("'s.t' is described twice")));
        let typo =
            "[[tables]]\nname = \"t\"\n[[tables.columns]]\nname = \"a\"\ndatatype = \"int\"\nunits = \"m\"\n";
        assert!(err(typo).is_some_and(|e| e.contains("units")));
        let no_datatype = "[[tables]]\nname = \"t\"\n[[tables.columns]]\nname = \"a\"\n";
        assert!(err(no_datatype).is_some_and(|e| e.contains("datatype")));
        assert!(CatalogFile::parse("{\"tables\": [}", Format::Json).is_err());
    }

    #[test]
    fn load_errors_name_the_file() {
        let path = Path::new("no/such/catalogue.json");
        let e = load(path).unwrap_err();
        assert!(matches!(e.problem, CatalogFileError::Read(_)));
        assert!(
            e.to_string()
                .starts_with("catalogue file no/such/catalogue.json: "),
            "{e}"
        );
    }

    /// The demo catalogue shipped in `config/` must load, with every column typed.
    #[test]
    fn demo_catalogue_loads() {
        let text = include_str!("../../../config/demo-catalog.toml");
        let cat = CatalogFile::parse(text, Format::Toml)
            .unwrap()
            .into_catalog()
            .unwrap();
        let names: Vec<String> = cat.tables().iter().map(Table::qualified_name).collect();
        for wanted in [
            "bench.objects",
            "gaiadr1.gaia_source",
            "ivoa.ObsCore",
            "v_ll_data_item",
            "v_auxiliary_file",
        ] {
            assert!(
                names.iter().any(|n| n == wanted),
                "{wanted} missing from {names:?}"
            );
        }
        let obscore = cat.tables().iter().find(|t| t.name == "ObsCore").unwrap();
        let s_region = obscore.columns.iter().find(|c| c.name == "s_region").unwrap();
        assert_eq!(s_region.ty, AdqlType::Polygon);
        assert_eq!(s_region.arraysize.as_deref(), Some("*"));
    }
}
