//! VOSI and TAPRegExt documents and the DALI examples, as pure
//! functions of the configuration and the catalogue.
//!
//! Media types the HTTP layer should answer with: `text/xml` for capabilities, availability,
//! tables and the XSD (what pyvo, taplint and TapPlus all accept); `text/html; charset=utf-8`
//! (or `application/xhtml+xml`) for examples.
//!
//! Submodules: `capabilities`, `availability`, `tables` (also the ESA TAP+ XSD), `examples`,
//! and `xml` (escaping and a small writer). The landing page is the query page of the web
//! front (`http/web/query.rs`), which uses the examples and the table groups from here.

mod availability;
mod capabilities;
pub(crate) mod examples;
pub(crate) mod tables;
pub(crate) mod xml;

use crate::config::Config;
use crate::tap_schema::{TableInfo, TapSchema};

/// Every XML document starts with this.
const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

/// How much `/tables` says (VOSI 1.1 `detail`, and the ESA TAP+ parameters).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TablesRequest {
    /// `detail=min`: tables without columns.
    pub min: bool,
    /// ESA `only_tables=true`: names only, no columns.
    pub only_tables: bool,
    /// ESA `only_schemas=true`.
    pub only_schemas: bool,
    /// ESA `tables=a.b,c.d`: just these tables.
    pub tables: Option<Vec<String>>,
    /// ESA `schemas=a,b`: just these schemas.
    pub schemas: Option<Vec<String>>,
}

impl TablesRequest {
    /// The TAP+ parameters by the priorities of seed 002 §3.10: when `tables` is given, no
    /// other TAP+ parameter is looked at (the named tables come whole); otherwise
    /// `only_schemas=true` ends the checks (every schema, no tables); otherwise `schemas`
    /// picks the schemas and `only_tables` drops the columns. VOSI's `detail` always applies.
    pub fn prioritised(self) -> TablesRequest {
        if self.tables.is_some() {
            TablesRequest {
                min: self.min,
                tables: self.tables,
                ..TablesRequest::default()
            }
        } else if self.only_schemas {
            TablesRequest {
                min: self.min,
                only_schemas: true,
                ..TablesRequest::default()
            }
        } else {
            self
        }
    }
}

/// `GET /capabilities`: the TAP capability (`tr:TableAccess`, with the ObsCore data model when
/// `ivoa.ObsCore` is served, every UDF and output format, the limits) and the VOSI and DALI
/// examples capabilities. `uploads` adds the two upload methods and the upload limit.
pub fn capabilities(config: &Config, schema: &TapSchema, udfs: &adql::UdfRegistry, uploads: bool) -> String {
    capabilities::capabilities(config, schema, udfs, uploads)
}

/// `GET /availability`. `note` is left out when blank.
pub fn availability(up: bool, note: &str) -> String {
    availability::availability(up, note)
}

/// `GET /tables` (a VOSI tableset). Tables without a schema are listed under `public`
/// (`tables::DEFAULT_SCHEMA`). When the filters match nothing, the tableset has no `<schema>`.
pub fn tableset(config: &Config, schema: &TapSchema, req: &TablesRequest) -> String {
    tables::tableset(config, schema, req)
}

/// `GET /tables/{name}` (a single VOSI table, full detail, `<vosi:table>` root). `schema` supplies
/// the foreign keys; the caller finds the table (`TapSchema::table`) and answers 404 without one.
pub fn table(config: &Config, schema: &TapSchema, table: &TableInfo) -> String {
    tables::table(config, schema, table)
}

/// `GET /examples` (DALI examples, XHTML with RDFa): the examples whose tables are served.
pub fn examples(config: &Config, schema: &TapSchema) -> String {
    examples::examples(config, schema)
}

/// The XSD for the ESA TAP+ attributes, served at `{base}/xml/esatapplus.xsd` so that taplint
/// can validate `esatapplus:flags`.
pub fn esatapplus_xsd() -> &'static str {
    tables::ESATAPPLUS_XSD
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use super::*;
    use crate::tap_schema::{ColumnInfo, KeyInfo, SchemaInfo, TableInfo};

    /// The default configuration: base URL `http://127.0.0.1:8080/tap`.
    pub(super) fn config() -> Config {
        let mut c = Config::default();
        c.validate().expect("defaults are valid");
        c
    }

    pub(super) fn col(name: &str, datatype: &str) -> ColumnInfo {
        ColumnInfo {
            name: name.into(),
            datatype: datatype.into(),
            arraysize: None,
            xtype: None,
            unit: None,
            ucd: None,
            utype: None,
            description: None,
            principal: false,
            indexed: false,
            std: false,
            index: None,
        }
    }

    fn with(mut c: ColumnInfo, f: impl FnOnce(&mut ColumnInfo)) -> ColumnInfo {
        f(&mut c);
        c
    }

    fn mk_table(schema: Option<&str>, name: &str, description: &str, columns: Vec<ColumnInfo>) -> TableInfo {
        TableInfo {
            schema: schema.map(str::to_string),
            name: name.into(),
            table_type: "table".into(),
            description: Some(description.into()),
            utype: None,
            index: None,
            columns,
        }
    }

    fn schema_info(name: &str, description: &str) -> SchemaInfo {
        SchemaInfo {
            name: name.into(),
            description: Some(description.into()),
            utype: None,
            index: None,
        }
    }

    fn text(c: ColumnInfo) -> ColumnInfo {
        with(c, |c| c.arraysize = Some("*".into()))
    }

    /// A small catalogue with one of everything the documents must render. `bench` is missing
    /// from TAP_SCHEMA.schemas on purpose (it must still be listed), and `public` is there for
    /// the tables without a schema.
    pub(super) fn demo_schema() -> TapSchema {
        let ra = with(col("ra", "double"), |c| {
            c.unit = Some("deg".into());
            c.ucd = Some("pos.eq.ra;meta.main".into());
            c.description = Some("Right ascension (ICRS)".into());
            c.indexed = true;
            c.principal = true;
        });
        let dec = with(col("dec", "double"), |c| {
            c.unit = Some("deg".into());
            c.ucd = Some("pos.eq.dec;meta.main".into());
            c.indexed = true;
            c.principal = true;
        });
        let gaia = mk_table(
            Some("gaiadr1"),
            "gaia_source",
            "Gaia DR1 source catalogue (subset)",
            vec![
                with(col("source_id", "long"), |c| {
                    c.ucd = Some("meta.id;meta.main".into())
                }),
                ra.clone(),
                dec.clone(),
                with(col("phot_g_mean_mag", "double"), |c| {
                    c.unit = Some("mag".into());
                    c.ucd = Some("phot.mag;em.opt".into());
                    c.utype = Some("  ".into());
                }),
            ],
        );
        let obscore = mk_table(
            Some("ivoa"),
            "ObsCore",
            "ObsCore 1.1",
            vec![
                with(text(col("dataproduct_type", "char")), |c| c.std = true),
                with(col("s_region", "double"), |c| {
                    c.arraysize = Some("*".into());
                    c.xtype = Some("polygon".into());
                    c.std = true;
                    c.utype = Some("obscore:Char.SpatialAxis.Coverage.Support.Area".into());
                }),
            ],
        );
        let solo = mk_table(
            None,
            "v_ll_data_item",
            "Solar Orbiter low-latency data items",
            vec![
                text(col("instrument", "char")),
                with(text(col("begin_time", "char")), |c| {
                    c.xtype = Some("timestamp".into())
                }),
            ],
        );
        let bench = mk_table(
            Some("bench"),
            "objects",
            "Synthetic benchmark catalogue",
            vec![
                col("id", "long"),
                ra,
                dec,
                with(col("name", "adql:VARCHAR"), |c| c.arraysize = Some("".into())),
                with(col("pos", "adql:POINT"), |c| c.xtype = Some("adql:POINT".into())),
                with(col("flag", "short"), |c| c.arraysize = Some("two".into())),
            ],
        );
        let ts_schemas = mk_table(
            Some("TAP_SCHEMA"),
            "schemas",
            "The schemas of this service",
            vec![text(col("schema_name", "char"))],
        );
        let ts_keys = mk_table(
            Some("TAP_SCHEMA"),
            "keys",
            "Foreign keys",
            vec![
                text(col("key_id", "char")),
                text(col("from_table", "char")),
                text(col("target_table", "char")),
            ],
        );
        TapSchema {
            schemas: vec![
                schema_info("TAP_SCHEMA", "Metadata of this service"),
                schema_info("gaiadr1", "Gaia Data Release 1"),
                schema_info("ivoa", "IVOA standard tables"),
                schema_info("public", "Tables in the default schema"),
            ],
            tables: vec![ts_schemas, ts_keys, gaia, obscore, solo, bench],
            keys: vec![
                KeyInfo {
                    key_id: "keys_from".into(),
                    from_table: "TAP_SCHEMA.keys".into(),
                    target_table: "TAP_SCHEMA.tables".into(),
                    description: Some("from and target tables are tables".into()),
                    utype: None,
                    columns: vec![
                        ("from_table".into(), "table_name".into()),
                        ("target_table".into(), "table_name".into()),
                    ],
                },
                KeyInfo {
                    key_id: "empty".into(),
                    from_table: "TAP_SCHEMA.keys".into(),
                    target_table: "TAP_SCHEMA.tables".into(),
                    description: None,
                    utype: None,
                    columns: vec![],
                },
            ],
        }
    }

    /// The real demo catalogue (`config/demo-catalog.toml`) plus the TAP_SCHEMA tables, as the
    /// database would report it.
    pub(super) fn full_demo_schema() -> TapSchema {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/demo-catalog.toml");
        let file = crate::catalog_file::CatalogFile::read(&path).expect("demo catalogue reads");
        let mut schema = TapSchema::default();
        let ts = |name: &str, cols: &[&str]| {
            mk_table(
                Some("TAP_SCHEMA"),
                name,
                "TAP_SCHEMA",
                cols.iter().map(|c| text(col(c, "char"))).collect(),
            )
        };
        schema
            .tables
            .push(ts("schemas", &["schema_name", "description", "utype"]));
        schema.tables.push(ts(
            "tables",
            &["schema_name", "table_name", "table_type", "description", "utype"],
        ));
        schema.tables.push(ts(
            "columns",
            &[
                "table_name",
                "column_name",
                "datatype",
                "unit",
                "ucd",
                "utype",
                "description",
            ],
        ));
        for t in file.tables {
            let columns = t
                .columns
                .into_iter()
                .map(|c| ColumnInfo {
                    name: c.name,
                    datatype: c.datatype,
                    arraysize: c.arraysize,
                    xtype: c.xtype,
                    unit: c.unit,
                    ucd: c.ucd,
                    utype: c.utype,
                    description: c.description,
                    principal: false,
                    indexed: false,
                    std: false,
                    index: None,
                })
                .collect();
            let mut info = mk_table(t.schema.as_deref(), &t.name, "", columns);
            info.description = t.description;
            schema.tables.push(info);
        }
        for s in ["TAP_SCHEMA", "bench", "gaiadr1", "ivoa", tables::DEFAULT_SCHEMA] {
            schema.schemas.push(schema_info(s, "schema"));
        }
        schema
    }

    /// Is `stilts` here? Without it the schema-validation tests are skipped, unless `CI` is
    /// set, where a missing stilts is a failure.
    fn stilts() -> bool {
        let found = Command::new("stilts")
            .arg("-version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !found {
            assert!(
                std::env::var_os("CI").is_none(),
                "stilts is required when CI is set"
            );
            eprintln!("note: stilts not found; skipping XML schema validation");
        }
        found
    }

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!("tapir-vosi-{tag}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// `stilts xsdvalidate` with its bundled IVOA schemas (`uselocals=true`, no network) and our
    /// own XSD for the ESA namespace. Returns stilts' report when the document is not valid.
    fn xsdvalidate(dir: &TempDir, name: &str, doc: &str) -> Result<(), String> {
        let file = dir.0.join(name);
        std::fs::write(&file, doc).expect("write document");
        let xsd = dir.0.join("esatapplus.xsd");
        std::fs::write(&xsd, esatapplus_xsd()).expect("write xsd");
        let out = Command::new("stilts")
            .arg("xsdvalidate")
            .arg("uselocals=true")
            .arg(format!(
                "schemaloc=http://esa.int/xml/EsaTapPlus={}",
                xsd.display()
            ))
            .arg(format!("doc={}", file.display()))
            .output()
            .expect("run stilts");
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() && !report.to_ascii_lowercase().contains("error") {
            Ok(())
        } else {
            Err(report)
        }
    }

    /// Writes every document for the demo catalogue into `$VOSI_DUMP_DIR` (`capabilities.xml`,
    /// `tables.xml`, `table-{name}.xml`, `examples.xhtml`, ...) for checking them with outside
    /// tools, e.g. `VOSI_DUMP_DIR=/tmp/vosi VOSI_BASE=http://127.0.0.1:8765/tap cargo test -p
    /// tapir vosi::tests::dump_documents -- --ignored`.
    #[test]
    #[ignore = "writes files; run by hand"]
    fn dump_documents() {
        let dir = PathBuf::from(std::env::var("VOSI_DUMP_DIR").expect("VOSI_DUMP_DIR"));
        let mut c = config();
        c.server.public_url = std::env::var("VOSI_BASE").unwrap_or_default();
        c.validate().expect("valid");
        let s = full_demo_schema();
        let udfs = adql::UdfRegistry::standard();
        std::fs::create_dir_all(&dir).unwrap();
        let mut files = vec![
            ("capabilities.xml".to_string(), capabilities(&c, &s, &udfs, false)),
            (
                "availability.xml".to_string(),
                availability(true, "Tapir is accepting queries."),
            ),
            (
                "tables.xml".to_string(),
                tableset(&c, &s, &TablesRequest::default()),
            ),
            ("examples.xhtml".to_string(), examples(&c, &s)),
            ("esatapplus.xsd".to_string(), esatapplus_xsd().to_string()),
        ];
        for t in &s.tables {
            files.push((format!("table-{}.xml", t.qualified_name()), table(&c, &s, t)));
        }
        for (name, body) in files {
            std::fs::write(dir.join(name), body).unwrap();
        }
    }

    #[test]
    fn documents_validate_against_the_ivoa_schemas() {
        if !stilts() {
            return;
        }
        let dir = TempDir::new("xsd");
        let c = config();
        let s = full_demo_schema();
        let udfs = adql::UdfRegistry::standard();
        let mut docs = vec![
            ("capabilities.xml", capabilities(&c, &s, &udfs, false)),
            ("capabilities-uploads.xml", capabilities(&c, &s, &udfs, true)),
            ("availability.xml", availability(true, "all good")),
            ("availability-down.xml", availability(false, "")),
            ("tables.xml", tableset(&c, &s, &TablesRequest::default())),
            (
                "tables-fixture.xml",
                tableset(&c, &demo_schema(), &TablesRequest::default()),
            ),
            (
                "tables-min.xml",
                tableset(
                    &c,
                    &s,
                    &TablesRequest {
                        min: true,
                        ..Default::default()
                    },
                ),
            ),
            (
                "tables-schemas.xml",
                tableset(
                    &c,
                    &s,
                    &TablesRequest {
                        only_schemas: true,
                        ..Default::default()
                    },
                ),
            ),
            (
                "table.xml",
                table(&c, &s, s.table("ivoa.ObsCore").expect("ObsCore")),
            ),
            (
                "table-keys.xml",
                table(
                    &c,
                    &demo_schema(),
                    demo_schema().table("TAP_SCHEMA.keys").expect("keys"),
                ),
            ),
        ];
        docs.push(("esatapplus.xsd", esatapplus_xsd().to_string()));
        for (name, doc) in &docs {
            if let Err(report) = xsdvalidate(&dir, name, doc) {
                panic!("{name} is not valid:\n{report}\n{doc}");
            }
        }
        // And the validator does catch mistakes: an element out of XSD order.
        let broken = tableset(&c, &s, &TablesRequest::default()).replacen(
            "<description>",
            "<utype>x</utype><description>",
            2,
        );
        assert!(
            xsdvalidate(&dir, "broken.xml", &broken).is_err(),
            "stilts reports invalid documents"
        );
    }
}
