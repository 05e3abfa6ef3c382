//! `GET /tables` and `GET /tables/{name}` (TB-01..03): VOSI 1.1 documents with VODataService 1.2
//! content (namespace still `VODataService/v1.1`), plus the ESA TAP+ extras TapPlus needs.
//!
//! Every `<column>` carries `esatapplus:flags` (TapPlus reads it unconditionally), and the
//! documents point `xsi:schemaLocation` at our own copy of a schema for that namespace
//! (`{base}/xml/esatapplus.xsd`) so that taplint validates them without errors (CLIENTS §6.1).

use adql::AdqlType;

use super::capabilities::{NS_VS, NS_XSI};
use super::xml::{nonblank, Writer};
use super::{TablesRequest, XML_DECL};
use crate::config::Config;
use crate::tap_schema::{ColumnInfo, KeyInfo, SchemaInfo, TableInfo, TapSchema};

pub(crate) const NS_VOSI_TABLES: &str = "http://www.ivoa.net/xml/VOSITables/v1.0";
pub(crate) const NS_ESATAPPLUS: &str = "http://esa.int/xml/EsaTapPlus";

/// Where tables without a schema (`TableInfo::schema == None`, e.g. Solar Orbiter's
/// `v_ll_data_item`) are listed: PostgreSQL's default schema. VODataService has no table outside
/// a `<schema>`; TAP_SCHEMA.schemas should have a row for it so that `/tables` and TAP_SCHEMA
/// agree (taplint TMC).
pub(crate) const DEFAULT_SCHEMA: &str = "public";

/// The primitive names `vs:VOTableType` allows.
const VOTABLE_TYPES: &[&str] = &[
    "boolean",
    "bit",
    "unsignedByte",
    "short",
    "int",
    "long",
    "char",
    "unicodeChar",
    "float",
    "double",
    "floatComplex",
    "doubleComplex",
];

/// `esatapplus:flags` bits as TapPlus reads them.
const ESA_RA: u32 = 1;
const ESA_DEC: u32 = 2;
const ESA_FLUX: u32 = 4;
const ESA_MAG: u32 = 8;

pub(super) const ESATAPPLUS_XSD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           targetNamespace="http://esa.int/xml/EsaTapPlus"
           elementFormDefault="qualified"
           attributeFormDefault="qualified">
  <xs:annotation>
    <xs:documentation>
      The attributes ESA TAP+ clients (astroquery TapPlus) read from VOSI tables documents,
      declared so that schema validators accept them on VODataService elements.
      flags: bit set on columns (1 right ascension, 2 declination, 4 flux, 8 magnitude,
      16 primary key); size: column size; size_bytes: table size in bytes; public: whether
      a table is public.
    </xs:documentation>
  </xs:annotation>
  <xs:attribute name="flags" type="xs:int"/>
  <xs:attribute name="size" type="xs:int"/>
  <xs:attribute name="size_bytes" type="xs:long"/>
  <xs:attribute name="public" type="xs:boolean"/>
</xs:schema>
"#;

/// A `<schema>` of the tableset: the TAP_SCHEMA row if there is one, and its tables in order.
pub(crate) struct Group<'a> {
    pub(crate) name: String,
    pub(crate) info: Option<&'a SchemaInfo>,
    pub(crate) tables: Vec<&'a TableInfo>,
}

/// Tables grouped under their schemas: TAP_SCHEMA.schemas order first, then any schema that only
/// the tables mention (first mention first), so that no table is ever left out.
pub(crate) fn groups(schema: &TapSchema) -> Vec<Group<'_>> {
    let mut groups: Vec<Group> = schema
        .schemas
        .iter()
        .map(|s| Group {
            name: s.name.clone(),
            info: Some(s),
            tables: Vec::new(),
        })
        .collect();
    for t in &schema.tables {
        let key = t.schema.as_deref().unwrap_or(DEFAULT_SCHEMA);
        let at = groups
            .iter()
            .position(|g| g.name == key)
            .or_else(|| groups.iter().position(|g| g.name.eq_ignore_ascii_case(key)));
        match at {
            Some(i) => groups[i].tables.push(t),
            None => groups.push(Group {
                name: key.to_string(),
                info: None,
                tables: vec![t],
            }),
        }
    }
    groups
}

fn wanted(names: &[String], candidates: &[&str]) -> bool {
    names
        .iter()
        .map(|n| n.trim())
        .any(|n| candidates.iter().any(|c| c.eq_ignore_ascii_case(n)))
}

/// Open the root element: namespaces and the schema location of the ESA attributes, then
/// `extra` (the table type on `<vosi:table>`).
fn open_root(w: &mut Writer, name: &str, base: &str, extra: Option<(&str, &str)>) {
    let location = format!("{NS_ESATAPPLUS} {base}/xml/esatapplus.xsd");
    let mut attrs = vec![
        ("xmlns:vosi", NS_VOSI_TABLES),
        ("xmlns:vs", NS_VS),
        ("xmlns:xsi", NS_XSI),
        ("xmlns:esatapplus", NS_ESATAPPLUS),
        ("xsi:schemaLocation", location.as_str()),
    ];
    attrs.extend(extra);
    w.open(name, &attrs);
}

pub(super) fn tableset(config: &Config, schema: &TapSchema, req: &TablesRequest) -> String {
    let base = config.base_url();
    let with_columns = !(req.min || req.only_tables);
    let mut w = Writer::new(XML_DECL);
    open_root(&mut w, "vosi:tableset", &base, None);
    for group in groups(schema) {
        if let Some(names) = &req.schemas {
            if !wanted(names, &[&group.name]) {
                continue;
            }
        }
        let tables: Vec<&TableInfo> = match &req.tables {
            Some(names) => group
                .tables
                .iter()
                .copied()
                .filter(|t| {
                    let in_group = format!("{}.{}", group.name, t.name);
                    wanted(names, &[&t.qualified_name(), &t.adql_name(), &in_group])
                })
                .collect(),
            None => group.tables.clone(),
        };
        if req.tables.is_some() && tables.is_empty() {
            continue;
        }
        w.open("schema", &[]);
        w.leaf("name", &[], &group.name);
        if let Some(info) = group.info {
            w.opt_leaf("description", info.description.as_deref());
            w.opt_leaf("utype", info.utype.as_deref());
        }
        if !req.only_schemas {
            for t in tables {
                write_table(&mut w, "table", None, t, &schema.keys, with_columns);
            }
        }
        w.close("schema");
    }
    w.close("vosi:tableset");
    w.finish()
}

pub(super) fn table(config: &Config, schema: &TapSchema, t: &TableInfo) -> String {
    let base = config.base_url();
    let mut w = Writer::new(XML_DECL);
    write_table(&mut w, "vosi:table", Some(&base), t, &schema.keys, true);
    w.finish()
}

/// A `<table>` (or the `<vosi:table>` root when `root_base` is given) in VODataService order:
/// name, description, utype, columns, foreign keys.
fn write_table(
    w: &mut Writer,
    element: &str,
    root_base: Option<&str>,
    t: &TableInfo,
    keys: &[KeyInfo],
    with_columns: bool,
) {
    let table_type = nonblank(Some(&t.table_type));
    match root_base {
        Some(base) => open_root(w, element, base, table_type.map(|ty| ("type", ty))),
        None => w.open(
            element,
            &table_type.map(|ty| ("type", ty)).into_iter().collect::<Vec<_>>(),
        ),
    }
    w.leaf("name", &[], &t.adql_name());
    w.opt_leaf("description", t.description.as_deref());
    w.opt_leaf("utype", t.utype.as_deref());
    if with_columns {
        for c in &t.columns {
            write_column(w, c);
        }
        let qualified = t.qualified_name();
        for k in keys
            .iter()
            .filter(|k| k.from_table.eq_ignore_ascii_case(&qualified))
        {
            write_key(w, k);
        }
    }
    w.close(element);
}

fn write_column(w: &mut Writer, c: &ColumnInfo) {
    let flags = esa_flags(c).to_string();
    let mut attrs = Vec::with_capacity(2);
    if c.std {
        attrs.push(("std", "true"));
    }
    attrs.push(("esatapplus:flags", flags.as_str()));
    w.open("column", &attrs);
    w.leaf("name", &[], &c.adql_name());
    w.opt_leaf("description", c.description.as_deref());
    w.opt_leaf("unit", c.unit.as_deref());
    w.opt_leaf("ucd", c.ucd.as_deref());
    w.opt_leaf("utype", c.utype.as_deref());
    let (datatype, arraysize, xtype) = votable_type(c);
    let mut attrs = vec![("xsi:type", "vs:VOTableType")];
    if let Some(a) = arraysize.as_deref().filter(|a| valid_arraysize(a)) {
        attrs.push(("arraysize", a));
    }
    if let Some(x) = xtype.as_deref() {
        attrs.push(("extendedType", x));
    }
    w.leaf("dataType", &attrs, datatype);
    if c.indexed {
        w.leaf("flag", &[], "indexed");
    }
    // TAP_SCHEMA `principal` is VODataService's `primary` (the convention of CADC and the
    // other TAP servers); TAP_SCHEMA has no notion of nullability or primary keys.
    if c.principal {
        w.leaf("flag", &[], "primary");
    }
    w.close("column");
}

/// A foreign key: target table and column pairs, then the utype. The description is left out
/// on purpose: TapPlus keeps the last `<description>` it sees inside a table as the table's.
fn write_key(w: &mut Writer, k: &KeyInfo) {
    if k.columns.is_empty() {
        return;
    }
    w.open("foreignKey", &[]);
    w.leaf("targetTable", &[], &k.target_table);
    for (from, target) in &k.columns {
        w.open("fkColumn", &[]);
        w.leaf("fromColumn", &[], from);
        w.leaf("targetColumn", &[], target);
        w.close("fkColumn");
    }
    w.opt_leaf("utype", k.utype.as_deref());
    w.close("foreignKey");
}

/// The VOTable (datatype, arraysize, xtype) for `vs:VOTableType`: TAP_SCHEMA's own values when
/// it uses VOTable names (TAP 1.1), converted from the TAP 1.0 `adql:` names otherwise.
fn votable_type(c: &ColumnInfo) -> (&'static str, Option<String>, Option<String>) {
    let dt = c.datatype.trim();
    let arraysize = nonblank(c.arraysize.as_deref()).map(str::to_string);
    let xtype = nonblank(c.xtype.as_deref()).map(str::to_string);
    if let Some(v) = VOTABLE_TYPES.iter().find(|v| v.eq_ignore_ascii_case(dt)) {
        return (v, arraysize, xtype);
    }
    let (v, size, x) = AdqlType::from_tap(dt, arraysize.as_deref(), xtype.as_deref()).votable();
    (v, size, xtype.or(x.map(str::to_string)))
}

/// `vs:ArrayShape`: `([0-9]+x)*[0-9]*[*]?`, and not empty.
fn valid_arraysize(s: &str) -> bool {
    let mut parts: Vec<&str> = s.split('x').collect();
    let last = parts.pop().unwrap_or("");
    let last = last.strip_suffix('*').unwrap_or(last);
    !s.is_empty()
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && last.bytes().all(|b| b.is_ascii_digit())
}

/// The ESA TAP+ column flags we can derive: position and photometry from the UCD.
fn esa_flags(c: &ColumnInfo) -> u32 {
    let Some(ucd) = nonblank(c.ucd.as_deref()) else {
        return 0;
    };
    let ucd = ucd.to_ascii_lowercase();
    let atoms: Vec<&str> = ucd.split(';').map(str::trim).collect();
    let main = atoms.contains(&"meta.main");
    match atoms.first().copied() {
        Some("pos.eq.ra") if main => ESA_RA,
        Some("pos.eq.dec") if main => ESA_DEC,
        Some("phot.flux") => ESA_FLUX,
        Some("phot.mag") => ESA_MAG,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{config, demo_schema};
    use super::super::xml::parse::{document, Element};
    use super::*;

    fn parsed(req: &TablesRequest) -> Element {
        let text = tableset(&config(), &demo_schema(), req);
        document(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    fn table_names(doc: &Element) -> Vec<String> {
        doc.all("schema")
            .flat_map(|s| s.all("table"))
            .map(|t| t.child("name").text.clone())
            .collect()
    }

    /// Children must follow the XSD sequence: each name's rank never goes down.
    fn assert_order(el: &Element, order: &[&str]) {
        let names = el.child_names();
        let ranks: Vec<usize> = names
            .iter()
            .map(|n| {
                order
                    .iter()
                    .position(|o| o == n)
                    .unwrap_or_else(|| panic!("unexpected <{n}> in <{}>", el.name))
            })
            .collect();
        assert!(
            ranks.windows(2).all(|w| w[0] <= w[1]),
            "{} children {names:?}",
            el.name
        );
    }

    #[test]
    fn root_namespaces_and_schema_location() {
        let doc = parsed(&TablesRequest::default());
        assert_eq!(doc.name, "vosi:tableset");
        assert_eq!(doc.attr("xmlns:vosi"), Some(NS_VOSI_TABLES));
        assert_eq!(doc.attr("xmlns:vs"), Some(NS_VS));
        assert_eq!(doc.attr("xmlns:xsi"), Some(NS_XSI));
        assert_eq!(doc.attr("xmlns:esatapplus"), Some(NS_ESATAPPLUS));
        assert_eq!(
            doc.attr("xsi:schemaLocation"),
            Some("http://esa.int/xml/EsaTapPlus http://127.0.0.1:8080/tap/xml/esatapplus.xsd")
        );
    }

    #[test]
    fn full_tableset_structure() {
        let doc = parsed(&TablesRequest::default());
        let schemas: Vec<&str> = doc.all("schema").map(|s| s.child("name").text.as_str()).collect();
        assert_eq!(schemas, ["TAP_SCHEMA", "gaiadr1", "ivoa", "public", "bench"]);
        assert_eq!(
            table_names(&doc),
            [
                "TAP_SCHEMA.schemas",
                "TAP_SCHEMA.keys",
                "gaiadr1.gaia_source",
                "ivoa.ObsCore",
                "v_ll_data_item",
                "bench.objects"
            ]
        );
        for s in doc.all("schema") {
            assert_order(s, &["name", "title", "description", "utype", "table"]);
            for t in s.all("table") {
                assert_order(
                    t,
                    &[
                        "name",
                        "title",
                        "description",
                        "utype",
                        "nrows",
                        "column",
                        "foreignKey",
                    ],
                );
                for c in t.all("column") {
                    assert_order(
                        c,
                        &["name", "description", "unit", "ucd", "utype", "dataType", "flag"],
                    );
                    assert!(
                        c.attr("esatapplus:flags").is_some(),
                        "every column has esatapplus:flags"
                    );
                }
            }
        }
        let gaia = doc
            .descendants()
            .into_iter()
            .find(|e| e.name == "table" && e.child("name").text == "gaiadr1.gaia_source")
            .unwrap();
        assert_eq!(gaia.attr("type"), Some("table"));
        assert_eq!(
            gaia.child("description").text,
            "Gaia DR1 source catalogue (subset)"
        );
        let ra = gaia.all("column").find(|c| c.child("name").text == "ra").unwrap();
        assert_eq!(ra.attr("esatapplus:flags"), Some("1"));
        assert_eq!(ra.child("unit").text, "deg");
        assert_eq!(ra.child("ucd").text, "pos.eq.ra;meta.main");
        let dt = ra.child("dataType");
        assert_eq!(
            (dt.text.as_str(), dt.attr("xsi:type")),
            ("double", Some("vs:VOTableType"))
        );
        let flags: Vec<&str> = ra.all("flag").map(|f| f.text.as_str()).collect();
        assert_eq!(flags, ["indexed", "primary"]);
        let dec = gaia
            .all("column")
            .find(|c| c.child("name").text == "dec")
            .unwrap();
        assert_eq!(dec.attr("esatapplus:flags"), Some("2"));
        let mag = gaia
            .all("column")
            .find(|c| c.child("name").text == "phot_g_mean_mag")
            .unwrap();
        assert_eq!(mag.attr("esatapplus:flags"), Some("8"));
        assert!(mag.all("flag").next().is_none());
        assert!(mag.all("unit").next().is_some());
        assert!(mag.all("utype").next().is_none(), "blank values are left out");
    }

    #[test]
    fn data_types_arraysize_xtype_and_std() {
        let doc = parsed(&TablesRequest::default());
        let all = doc.descendants();
        let col = |table: &str, name: &str| -> Element {
            let t = all
                .iter()
                .find(|e| e.name == "table" && e.child("name").text == table)
                .unwrap();
            t.all("column")
                .find(|c| c.child("name").text == name)
                .unwrap()
                .clone()
        };
        let region = col("ivoa.ObsCore", "s_region");
        let dt = region.child("dataType");
        assert_eq!(dt.text, "double");
        assert_eq!(dt.attr("arraysize"), Some("*"));
        assert_eq!(dt.attr("extendedType"), Some("polygon"));
        assert_eq!(region.attr("std"), Some("true"));
        let begin = col("v_ll_data_item", "begin_time");
        let dt = begin.child("dataType");
        assert_eq!(
            (dt.text.as_str(), dt.attr("arraysize"), dt.attr("extendedType")),
            ("char", Some("*"), Some("timestamp"))
        );
        assert_eq!(begin.attr("std"), None);
        // TAP 1.0 names are converted to VOTable ones.
        let legacy = col("bench.objects", "name");
        let dt = legacy.child("dataType");
        assert_eq!((dt.text.as_str(), dt.attr("arraysize")), ("char", Some("*")));
        let legacy = col("bench.objects", "pos");
        let dt = legacy.child("dataType");
        assert_eq!(
            (dt.text.as_str(), dt.attr("arraysize"), dt.attr("extendedType")),
            ("double", Some("2"), Some("adql:POINT"))
        );
        // A malformed arraysize is dropped rather than making the document invalid.
        let odd = col("bench.objects", "flag");
        assert_eq!(odd.child("dataType").attr("arraysize"), None);
    }

    #[test]
    fn foreign_keys() {
        let doc = parsed(&TablesRequest::default());
        let keys = doc
            .descendants()
            .into_iter()
            .find(|e| e.name == "table" && e.child("name").text == "TAP_SCHEMA.keys")
            .unwrap()
            .clone();
        let fks: Vec<&Element> = keys.all("foreignKey").collect();
        assert_eq!(fks.len(), 1);
        assert_order(fks[0], &["targetTable", "fkColumn", "description", "utype"]);
        assert_eq!(fks[0].child("targetTable").text, "TAP_SCHEMA.tables");
        let pairs: Vec<(&str, &str)> = fks[0]
            .all("fkColumn")
            .map(|c| {
                (
                    c.child("fromColumn").text.as_str(),
                    c.child("targetColumn").text.as_str(),
                )
            })
            .collect();
        assert_eq!(
            pairs,
            [("from_table", "table_name"), ("target_table", "table_name")]
        );
        assert!(
            fks[0].all("description").next().is_none(),
            "TapPlus would take it as the table's"
        );
    }

    #[test]
    fn detail_min_and_only_tables_drop_columns() {
        for req in [
            TablesRequest {
                min: true,
                ..Default::default()
            },
            TablesRequest {
                only_tables: true,
                ..Default::default()
            },
        ] {
            let doc = parsed(&req);
            assert_eq!(table_names(&doc).len(), 6);
            let all = doc.descendants();
            assert!(
                all.iter().all(|e| e.name != "column" && e.name != "foreignKey"),
                "{req:?}"
            );
            let gaia = all
                .iter()
                .find(|e| e.name == "table" && e.child("name").text == "gaiadr1.gaia_source")
                .unwrap();
            assert_eq!(gaia.child_names(), ["name", "description"]);
        }
    }

    #[test]
    fn only_schemas() {
        let doc = parsed(&TablesRequest {
            only_schemas: true,
            ..Default::default()
        });
        assert_eq!(doc.all("schema").count(), 5);
        assert!(table_names(&doc).is_empty());
        let tap = doc.all("schema").next().unwrap();
        assert_eq!(tap.child_names(), ["name", "description"]);
    }

    #[test]
    fn tables_filter_keeps_columns() {
        let req = TablesRequest {
            tables: Some(vec![
                "GAIADR1.gaia_source".into(),
                " public.v_ll_data_item".into(),
            ]),
            ..Default::default()
        };
        let doc = parsed(&req);
        assert_eq!(table_names(&doc), ["gaiadr1.gaia_source", "v_ll_data_item"]);
        let schemas: Vec<&str> = doc.all("schema").map(|s| s.child("name").text.as_str()).collect();
        assert_eq!(schemas, ["gaiadr1", "public"]);
        assert!(doc.descendants().iter().filter(|e| e.name == "column").count() > 5);
        let none = parsed(&TablesRequest {
            tables: Some(vec!["nope.nothing".into()]),
            ..Default::default()
        });
        assert!(none.children.is_empty());
    }

    #[test]
    fn schemas_filter() {
        let req = TablesRequest {
            schemas: Some(vec!["ivoa".into(), "Bench".into()]),
            ..Default::default()
        };
        let doc = parsed(&req);
        assert_eq!(table_names(&doc), ["ivoa.ObsCore", "bench.objects"]);
    }

    #[test]
    fn single_table_document() {
        let schema = demo_schema();
        let keys = schema.table("tap_schema.KEYS").unwrap();
        let text = table(&config(), &schema, keys);
        let doc = document(&text).unwrap();
        assert_eq!(doc.name, "vosi:table");
        assert_eq!(doc.attr("xmlns:vosi"), Some(NS_VOSI_TABLES));
        assert_eq!(doc.attr("type"), Some("table"));
        assert!(doc
            .attr("xsi:schemaLocation")
            .unwrap()
            .ends_with("/tap/xml/esatapplus.xsd"));
        assert_eq!(doc.child("name").text, "TAP_SCHEMA.keys");
        assert_order(
            &doc,
            &[
                "name",
                "title",
                "description",
                "utype",
                "nrows",
                "column",
                "foreignKey",
            ],
        );
        assert_eq!(doc.all("foreignKey").count(), 1);
        assert!(doc.all("column").all(|c| c.attr("esatapplus:flags").is_some()));
        let solo = table(&config(), &schema, schema.table("v_ll_data_item").unwrap());
        let doc = document(&solo).unwrap();
        assert_eq!(doc.child("name").text, "v_ll_data_item");
        assert!(doc.all("foreignKey").next().is_none());
    }

    #[test]
    fn text_is_escaped() {
        let mut s = demo_schema();
        s.tables[0].description = Some("a < b & \"c\"".into());
        let text = tableset(&config(), &s, &TablesRequest::default());
        let doc = document(&text).unwrap();
        let first = doc.child("schema").child("table");
        assert_eq!(first.child("description").text, "a < b & \"c\"");
    }

    #[test]
    fn arraysize_shapes() {
        for ok in ["*", "2", "16*", "3x2", "3x*", "10x20x*", "2x"] {
            assert!(valid_arraysize(ok), "{ok}");
        }
        for bad in ["", "x", "a", "*2", "2**", "x3", "2*x3"] {
            assert!(!valid_arraysize(bad), "{bad}");
        }
    }

    #[test]
    fn esatapplus_schema_is_well_formed() {
        let doc = document(ESATAPPLUS_XSD).unwrap();
        assert_eq!(doc.attr("targetNamespace"), Some(NS_ESATAPPLUS));
        let attrs: Vec<&str> = doc.all("xs:attribute").map(|a| a.attr("name").unwrap()).collect();
        assert_eq!(attrs, ["flags", "size", "size_bytes", "public"]);
    }
}
