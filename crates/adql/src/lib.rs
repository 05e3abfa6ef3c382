//! ADQL 2.1 front end of Tapir: parse, check against the catalogue, translate to
//! PostgreSQL + pgSphere.
//!
//! A pure library: no I/O, no database, no HTTP. The server hands it the query
//! text and a [`Catalog`] built from TAP_SCHEMA and gets back SQL that is safe to
//! run (every name resolved through the allow-list, every construct checked) and
//! the VOTable metadata of every result column.
//!
//! ```
//! use adql::{translate, AdqlType, Column, MemoryCatalog, Table, UdfRegistry};
//! let cat = MemoryCatalog::new(vec![Table::new(Some("bench"), "objects", vec![
//!     Column::new("id", AdqlType::BigInt),
//!     Column::new("ra", AdqlType::Double).with_unit("deg"),
//!     Column::new("dec", AdqlType::Double).with_unit("deg"),
//! ])]);
//! let t = translate("SELECT TOP 5 ra, dec FROM bench.objects ORDER BY ra", &cat, &UdfRegistry::standard()).unwrap();
//! assert_eq!(t.sql, r#"SELECT "t1"."ra" AS "ra", "t1"."dec" AS "dec" FROM "bench"."objects" AS "t1" ORDER BY "t1"."ra" ASC LIMIT 5"#);
//! assert_eq!(t.columns[0].unit.as_deref(), Some("deg"));
//! ```

mod catalog;
mod check;
mod dialect;
mod error;
mod functions;
mod parse;
pub mod region;
mod reserved;
mod types;
mod udf;
pub mod units;

pub use catalog::{Catalog, Column, MemoryCatalog, Table};
pub use error::{AdqlError, ErrorKind, Position};
pub use parse::{parse, Parsed};
pub use types::{AdqlType, Family};
pub use udf::{Udf, UdfRegistry};

/// Whether a word is reserved in ADQL 2.1 (AQ-03), so that a column or table of that name must
/// be written delimited (`"size"`); services use it to publish such names quoted.
pub fn is_reserved_word(word: &str) -> bool {
    reserved::is_reserved(word)
}

/// The query languages a client may name in LANG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V2_0,
    V2_1,
}

impl Version {
    /// `ADQL`, `ADQL-2.0`, `ADQL-2.1` in any case; `None` for anything else.
    pub fn from_lang(lang: &str) -> Option<Version> {
        let l = lang.trim();
        if l.eq_ignore_ascii_case("ADQL") || l.eq_ignore_ascii_case("ADQL-2.1") {
            Some(Version::V2_1)
        } else if l.eq_ignore_ascii_case("ADQL-2.0") {
            Some(Version::V2_0)
        } else {
            None
        }
    }
}

/// The metadata of one result column, ready for a VOTable FIELD.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputColumn {
    /// Unique within the result, deterministic.
    pub name: String,
    pub ty: AdqlType,
    /// VOTable datatype (`double`, `long`, `char`, ...).
    pub datatype: &'static str,
    pub arraysize: Option<String>,
    pub xtype: Option<&'static str>,
    pub unit: Option<String>,
    pub ucd: Option<String>,
    pub utype: Option<String>,
    pub description: Option<String>,
}

/// A checked query: the SQL to run and what its columns are.
#[derive(Debug, Clone, PartialEq)]
pub struct Translation {
    /// PostgreSQL + pgSphere SQL; geometry output already turned into DALI arrays.
    pub sql: String,
    pub columns: Vec<OutputColumn>,
    /// The TOP of the outermost query, if any (the server combines it with MAXREC).
    pub top: Option<u64>,
}

/// Parse, check and translate one ADQL query.
pub fn translate(adql: &str, catalog: &dyn Catalog, udfs: &UdfRegistry) -> Result<Translation, AdqlError> {
    let parsed = parse(adql)?;
    // Every error says where; when a node carries no position, point at the start.
    check::translate(&parsed, catalog, udfs).map_err(|e| e.at(Some(Position { line: 1, column: 1 })))
}
