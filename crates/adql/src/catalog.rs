//! What the checker knows about tables: the server fills it from TAP_SCHEMA (and,
//! per query, from TAP_UPLOAD tables); the command line fills it from a file.

use crate::types::AdqlType;

/// One column as TAP_SCHEMA describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The exact stored name (what PostgreSQL calls it, case and all).
    pub name: String,
    pub ty: AdqlType,
    /// TAP_SCHEMA's arraysize when it says more than the type does (e.g. `16*`).
    pub arraysize: Option<String>,
    pub unit: Option<String>,
    pub ucd: Option<String>,
    pub utype: Option<String>,
    pub description: Option<String>,
    /// TAP_SCHEMA says `unicodeChar`: text that may hold any character (written as such in
    /// results, since `char` in binary VOTables is ASCII).
    pub unicode: bool,
}

impl Column {
    pub fn new(name: impl Into<String>, ty: AdqlType) -> Self {
        Column {
            name: name.into(),
            ty,
            arraysize: None,
            unit: None,
            ucd: None,
            utype: None,
            description: None,
            unicode: false,
        }
    }

    pub fn with_unit(mut self, unit: &str) -> Self {
        self.unit = Some(unit.to_owned());
        self
    }

    pub fn with_ucd(mut self, ucd: &str) -> Self {
        self.ucd = Some(ucd.to_owned());
        self
    }
}

/// One table (or view) as TAP_SCHEMA describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Exact stored schema name; `None` for a table in the default search path.
    pub schema: Option<String>,
    /// Exact stored table name, without the schema.
    pub name: String,
    pub columns: Vec<Column>,
    pub description: Option<String>,
    /// An open table accepts any column name, typed Unknown. Only for syntax-level
    /// checking without metadata (corpus placeholders, `tapir adql parse`); never
    /// set for a real catalogue.
    pub open: bool,
    /// Where the rows really are, as SQL, when that is not the ADQL name: an uploaded
    /// `TAP_UPLOAD.t` lives in a temporary table of the query's session (`pg_temp."..."`).
    /// The caller vouches for it: it is emitted as given.
    pub physical: Option<String>,
}

impl Table {
    pub fn new(schema: Option<&str>, name: &str, columns: Vec<Column>) -> Self {
        Table {
            schema: schema.map(str::to_owned),
            name: name.to_owned(),
            columns,
            description: None,
            open: false,
            physical: None,
        }
    }

    /// The ADQL name, `schema.table` or `table`.
    pub fn qualified_name(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// The tables an ADQL query may use: the allow-list.
pub trait Catalog {
    /// Every table, for name resolution and suggestions.
    fn tables(&self) -> &[Table];
}

/// A catalogue held in memory: what the server builds from TAP_SCHEMA.
#[derive(Debug, Clone, Default)]
pub struct MemoryCatalog {
    pub tables: Vec<Table>,
}

impl MemoryCatalog {
    pub fn new(tables: Vec<Table>) -> Self {
        MemoryCatalog { tables }
    }
}

impl Catalog for MemoryCatalog {
    fn tables(&self) -> &[Table] {
        &self.tables
    }
}
