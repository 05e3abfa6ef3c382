//! The served catalogue: TAP_SCHEMA as read from the database.
//!
//! One in-memory model feeds three consumers: the ADQL checker (the allow-list of
//! tables and columns), `/tables` (VOSI), and the metadata of result columns. It is
//! read at start and on SIGHUP, and swapped atomically.

use adql::{AdqlType, MemoryCatalog};

/// `TAP_SCHEMA.schemas`.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaInfo {
    pub name: String,
    pub description: Option<String>,
    pub utype: Option<String>,
    pub index: Option<i32>,
}

/// `TAP_SCHEMA.tables`.
#[derive(Debug, Clone, PartialEq)]
pub struct TableInfo {
    /// The schema name as in TAP_SCHEMA (`None` for tables in the default search path).
    pub schema: Option<String>,
    /// The table name without schema (TAP_SCHEMA stores `schema.table`; we split it).
    pub name: String,
    /// `table` or `view`.
    pub table_type: String,
    pub description: Option<String>,
    pub utype: Option<String>,
    pub index: Option<i32>,
    pub columns: Vec<ColumnInfo>,
}

impl TableInfo {
    /// The name clients use: `schema.table`, or `table` in the default schema.
    pub fn qualified_name(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// The name as an ADQL query writes it (and as TAP_SCHEMA publishes it): parts that are
    /// not regular identifiers, or are reserved words, in double quotes (TAP 1.1 §4.3).
    pub fn adql_name(&self) -> String {
        match &self.schema {
            Some(s) => format!("{}.{}", adql_name(s), adql_name(&self.name)),
            None => adql_name(&self.name).into_owned(),
        }
    }
}

impl ColumnInfo {
    /// See [`TableInfo::adql_name`].
    pub fn adql_name(&self) -> std::borrow::Cow<'_, str> {
        adql_name(&self.name)
    }
}

/// A name as ADQL must write it: delimited unless it is a regular, unreserved identifier.
pub fn adql_name(name: &str) -> std::borrow::Cow<'_, str> {
    let regular = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if regular && !adql::is_reserved_word(name) {
        std::borrow::Cow::Borrowed(name)
    } else {
        std::borrow::Cow::Owned(crate::db::quote_ident(name))
    }
}

/// `TAP_SCHEMA.columns`.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    pub datatype: String,
    pub arraysize: Option<String>,
    pub xtype: Option<String>,
    pub unit: Option<String>,
    pub ucd: Option<String>,
    pub utype: Option<String>,
    pub description: Option<String>,
    pub principal: bool,
    pub indexed: bool,
    pub std: bool,
    pub index: Option<i32>,
}

/// `TAP_SCHEMA.keys` with its `key_columns`.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyInfo {
    pub key_id: String,
    pub from_table: String,
    pub target_table: String,
    pub description: Option<String>,
    pub utype: Option<String>,
    /// (from_column, target_column) pairs.
    pub columns: Vec<(String, String)>,
}

/// Everything TAP_SCHEMA says, ordered by the `*_index` columns then by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TapSchema {
    pub schemas: Vec<SchemaInfo>,
    pub tables: Vec<TableInfo>,
    pub keys: Vec<KeyInfo>,
}

impl TapSchema {
    /// The allow-list for the ADQL checker.
    pub fn to_adql_catalog(&self) -> MemoryCatalog {
        let tables = self
            .tables
            .iter()
            .map(|t| {
                let columns = t
                    .columns
                    .iter()
                    .map(|c| {
                        let mut col = adql::Column::new(
                            c.name.clone(),
                            AdqlType::from_tap(&c.datatype, c.arraysize.as_deref(), c.xtype.as_deref()),
                        );
                        col.arraysize = c.arraysize.clone();
                        col.unit = c.unit.clone();
                        col.ucd = c.ucd.clone();
                        col.utype = c.utype.clone();
                        col.description = c.description.clone();
                        col.unicode = c.datatype.eq_ignore_ascii_case("unicodeChar");
                        col
                    })
                    .collect();
                let mut table = adql::Table::new(t.schema.as_deref(), &t.name, columns);
                table.description = t.description.clone();
                table
            })
            .collect();
        MemoryCatalog::new(tables)
    }

    /// Find a table by its qualified name, case-insensitively (as `/tables/{name}` and `tables=`
    /// need). Tables of the default schema answer to `name` and to `public.name`, the form
    /// `/tables` lists them under.
    pub fn table(&self, qualified: &str) -> Option<&TableInfo> {
        self.tables.iter().find(|t| {
            t.qualified_name().eq_ignore_ascii_case(qualified)
                || t.adql_name().eq_ignore_ascii_case(qualified)
                || (t.schema.is_none()
                    && qualified
                        .get(..7)
                        .is_some_and(|p| p.eq_ignore_ascii_case("public."))
                    && qualified[7..].eq_ignore_ascii_case(&t.name))
        })
    }

    /// Whether a schema of that name (case-insensitive; `public` for the default one) has tables.
    pub fn has_schema(&self, name: &str) -> bool {
        self.schemas.iter().any(|s| s.name.eq_ignore_ascii_case(name))
            || self.tables.iter().any(|t| match &t.schema {
                Some(s) => s.eq_ignore_ascii_case(name),
                None => name.eq_ignore_ascii_case("public"),
            })
    }
}
