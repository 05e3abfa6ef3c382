//! Tables that `tapir load` creates: their description (one source for both the physical
//! DDL and the TAP_SCHEMA rows, so the two cannot disagree), and the bookkeeping that keeps
//! `tapir load` away from anything it did not create.

use tokio_postgres::Client;

use super::migrate::quote_literal;
use super::quote_ident;
use super::{DbError, QUERY_ROLE};

/// Column flags.
pub(crate) const PRINCIPAL: u8 = 1;
pub(crate) const INDEXED: u8 = 2;
/// Defined by a standard (ObsCore): TAP_SCHEMA's `std`.
pub(crate) const STD: u8 = 4;
/// The primary key (implies indexed and not null).
pub(crate) const KEY: u8 = 8;
pub(crate) const NOT_NULL: u8 = 16;
/// The name is an ADQL reserved word, so clients must delimit it (`"level"`); TAP_SCHEMA
/// then stores it with the quotes, as TAP 1.1 §4.3 asks.
pub(crate) const DELIMITED: u8 = 32;
/// A region published the TAP 1.0 / ObsCore way: `char` with xtype `adql:REGION` (values as
/// STC-S text), which is what ObsCore clients and taplint expect of `s_region`.
pub(crate) const REGION: u8 = 64;

/// One column of a table Tapir creates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Col {
    pub name: &'static str,
    /// PostgreSQL type: `bigint`, `double precision`, `text`, `timestamp`, `spoly`, ...
    pub sql: &'static str,
    pub unit: &'static str,
    pub ucd: &'static str,
    pub utype: &'static str,
    pub description: &'static str,
    pub flags: u8,
}

/// A column; unit, UCD and utype may be empty.
pub(crate) const fn col(
    name: &'static str,
    sql: &'static str,
    unit: &'static str,
    ucd: &'static str,
    description: &'static str,
) -> Col {
    Col {
        name,
        sql,
        unit,
        ucd,
        utype: "",
        description,
        flags: 0,
    }
}

impl Col {
    pub(crate) const fn utype(mut self, utype: &'static str) -> Col {
        self.utype = utype;
        self
    }

    pub(crate) const fn flags(mut self, flags: u8) -> Col {
        self.flags |= flags;
        self
    }

    fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// The name as TAP_SCHEMA stores it: what a client types.
    pub(crate) fn tap_name(&self) -> String {
        if self.has(DELIMITED) || !is_regular(self.name) {
            quote_ident(self.name)
        } else {
            self.name.to_string()
        }
    }

    /// TAP_SCHEMA's (datatype, arraysize, xtype) for the PostgreSQL type (DALI for geometry).
    pub(crate) fn votable(&self) -> (&'static str, Option<String>, Option<&'static str>) {
        if self.has(REGION) {
            return ("char", Some("*".into()), Some("adql:REGION"));
        }
        let sql = self.sql.trim().to_ascii_lowercase();
        let sized = |prefix: &str| -> Option<String> {
            sql.strip_prefix(prefix)?
                .trim_start_matches('(')
                .trim_end_matches(')')
                .trim()
                .parse::<u32>()
                .ok()
                .map(|n| n.to_string())
        };
        match sql.as_str() {
            "smallint" => ("short", None, None),
            "integer" => ("int", None, None),
            "bigint" => ("long", None, None),
            "real" => ("float", None, None),
            "double precision" => ("double", None, None),
            "boolean" => ("boolean", None, None),
            "timestamp" => ("char", Some("*".into()), Some("timestamp")),
            "spoint" => ("double", Some("2".into()), Some("point")),
            "scircle" => ("double", Some("3".into()), Some("circle")),
            "spoly" => ("double", Some("*".into()), Some("polygon")),
            _ => {
                if let Some(n) = sized("varchar") {
                    ("char", Some(format!("{n}*")), None)
                } else if let Some(n) = sized("char") {
                    ("char", Some(n), None)
                } else {
                    ("char", Some("*".into()), None)
                }
            }
        }
    }
}

/// A regular ADQL identifier: a Latin letter, then letters, digits or underscores.
pub(crate) fn is_regular(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A schema Tapir publishes tables in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SchemaDef {
    /// Physical name; `public` stands for the default schema (tables listed without prefix).
    pub name: &'static str,
    pub description: &'static str,
    pub index: i32,
}

/// A table Tapir creates and describes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TableDef {
    pub schema: &'static SchemaDef,
    /// Physical name, case and all.
    pub name: &'static str,
    pub description: &'static str,
    pub utype: &'static str,
    pub columns: &'static [Col],
}

impl TableDef {
    /// `"schema"."name"` for SQL.
    pub(crate) fn sql_name(&self) -> String {
        format!("{}.{}", quote_ident(self.schema.name), quote_ident(self.name))
    }

    /// `schema.name`, the key in tapir.catalogue.
    pub(crate) fn key(&self) -> String {
        format!("{}.{}", self.schema.name, self.name)
    }

    /// TAP_SCHEMA's table_name: qualified except in the default schema, quoted where the name
    /// is not a regular identifier.
    pub(crate) fn tap_name(&self) -> String {
        let name = if is_regular(self.name) {
            self.name.to_string()
        } else {
            quote_ident(self.name)
        };
        if self.schema.name == "public" {
            name
        } else {
            format!("{}.{name}", self.schema.name)
        }
    }

    /// `CREATE TABLE` under the given (possibly temporary) SQL name; without the primary key
    /// when a bulk load adds it afterwards ([`TableDef::key_sql`]).
    pub(crate) fn create_sql(&self, sql_name: &str, with_key: bool) -> String {
        let mut lines: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                let not_null = if c.has(NOT_NULL) || c.has(KEY) {
                    " NOT NULL"
                } else {
                    ""
                };
                format!("    {} {}{not_null}", quote_ident(c.name), c.sql)
            })
            .collect();
        if let (true, Some(keys)) = (with_key, self.key_columns()) {
            lines.push(format!("    PRIMARY KEY ({keys})"));
        }
        format!("CREATE TABLE {sql_name} (\n{}\n)", lines.join(",\n"))
    }

    /// The primary key's columns, quoted and comma-separated.
    fn key_columns(&self) -> Option<String> {
        let keys: Vec<String> = self
            .columns
            .iter()
            .filter(|c| c.has(KEY))
            .map(|c| quote_ident(c.name))
            .collect();
        (!keys.is_empty()).then(|| keys.join(", "))
    }

    /// `ALTER TABLE ... ADD CONSTRAINT <name> PRIMARY KEY (...)`, if the table has a key.
    pub(crate) fn key_sql(&self, sql_name: &str, constraint: &str) -> Option<String> {
        self.key_columns().map(|keys| {
            format!(
                "ALTER TABLE {sql_name} ADD CONSTRAINT {} PRIMARY KEY ({keys})",
                quote_ident(constraint)
            )
        })
    }
}

/// `tapir load` writes only to a TAP_SCHEMA that Tapir created (tapir.state says so); an
/// operator's TAP_SCHEMA is theirs to maintain.
pub(crate) async fn ensure_managed_tap_schema(client: &Client) -> Result<(), DbError> {
    let owner: Option<String> = client
        .query_opt("SELECT value FROM tapir.state WHERE key = 'tap_schema'", &[])
        .await
        .map_err(DbError::query("cannot read tapir.state"))?
        .map(|r| r.get(0));
    if owner.as_deref() == Some("tapir") {
        return Ok(());
    }
    Err(DbError::Setup(
        "TAP_SCHEMA in this database was not created by Tapir, so `tapir load` will not modify it: \
         load and describe the tables with the tools that maintain it"
            .into(),
    ))
}

/// The loader recorded for a table in tapir.catalogue, if any.
pub(crate) async fn loader_of(client: &Client, table: &TableDef) -> Result<Option<String>, DbError> {
    Ok(client
        .query_opt(
            "SELECT loader FROM tapir.catalogue WHERE table_name = $1",
            &[&table.key()],
        )
        .await?
        .map(|r| r.get(0)))
}

/// Refuse to replace a table that exists but that `tapir load` did not create.
pub(crate) async fn check_replaceable(client: &Client, table: &TableDef) -> Result<(), DbError> {
    let exists: bool = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table.sql_name()])
        .await?
        .get(0);
    if exists && loader_of(client, table).await?.is_none() {
        return Err(DbError::Setup(format!(
            "refusing to replace {}: it exists and was not created by `tapir load`",
            table.key()
        )));
    }
    Ok(())
}

/// Remember that `tapir load` created a table.
pub(crate) async fn record(
    client: &Client,
    table: &TableDef,
    loader: &str,
    rows: i64,
) -> Result<(), DbError> {
    client
        .execute(
            "INSERT INTO tapir.catalogue (table_name, loader, row_count) VALUES ($1, $2, $3)
             ON CONFLICT (table_name) DO UPDATE
             SET loader = EXCLUDED.loader, row_count = EXCLUDED.row_count, loaded_at = now()",
            &[&table.key(), &loader, &rows],
        )
        .await
        .map_err(DbError::query("cannot record the table in tapir.catalogue"))?;
    Ok(())
}

/// Create a schema if it is missing (checked first: IF NOT EXISTS still needs the privilege).
pub(crate) async fn ensure_schema(client: &Client, schema: &SchemaDef) -> Result<(), DbError> {
    let exists = client
        .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&schema.name])
        .await?
        .is_some();
    if !exists {
        client
            .batch_execute(&format!("CREATE SCHEMA {}", quote_ident(schema.name)))
            .await
            .map_err(DbError::query(format!("cannot create schema {}", schema.name)))?;
    }
    Ok(())
}

/// Write a table's TAP_SCHEMA rows (replacing earlier ones) and its schema's row.
pub(crate) async fn publish(client: &Client, table: &TableDef, table_index: i32) -> Result<(), DbError> {
    let context = || format!("cannot describe {} in TAP_SCHEMA", table.key());
    let schema = table.schema;
    client
        .execute(
            "INSERT INTO tap_schema.schemas (schema_name, utype, description, schema_index)
             VALUES ($1, NULL, $2, $3)
             ON CONFLICT (schema_name) DO UPDATE
             SET description = EXCLUDED.description, schema_index = EXCLUDED.schema_index",
            &[&schema.name, &schema.description, &schema.index],
        )
        .await
        .map_err(DbError::query(context()))?;
    let tap_name = table.tap_name();
    // Keys and columns go with the table (ON DELETE CASCADE).
    client
        .execute(
            "DELETE FROM tap_schema.tables WHERE table_name = $1",
            &[&tap_name],
        )
        .await
        .map_err(DbError::query(context()))?;
    client
        .execute(
            "INSERT INTO tap_schema.tables (schema_name, table_name, table_type, utype, description, table_index)
             VALUES ($1, $2, 'table', NULLIF($3, ''), $4, $5)",
            &[&schema.name, &tap_name, &table.utype, &table.description, &table_index],
        )
        .await
        .map_err(DbError::query(context()))?;
    let insert = client
        .prepare(
            "INSERT INTO tap_schema.columns (table_name, column_name, datatype, arraysize, xtype, \"size\",
                 description, utype, unit, ucd, indexed, principal, std, column_index)
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULLIF($8, ''), NULLIF($9, ''), NULLIF($10, ''),
                 $11, $12, $13, $14)",
        )
        .await
        .map_err(DbError::query(context()))?;
    for (i, c) in table.columns.iter().enumerate() {
        let (datatype, arraysize, xtype) = c.votable();
        // The deprecated "size": the number in a one-dimensional arraysize.
        let size: Option<i32> = arraysize
            .as_deref()
            .and_then(|a| a.trim_end_matches('*').parse().ok());
        let flag = |f: u8| i32::from(c.has(f));
        let indexed = i32::from(c.has(INDEXED) || c.has(KEY));
        client
            .execute(
                &insert,
                &[
                    &tap_name,
                    &c.tap_name(),
                    &datatype,
                    &arraysize,
                    &xtype,
                    &size,
                    &c.description,
                    &c.utype,
                    &c.unit,
                    &c.ucd,
                    &indexed,
                    &flag(PRINCIPAL),
                    &flag(STD),
                    &(i as i32 + 1),
                ],
            )
            .await
            .map_err(DbError::query(context()))?;
    }
    Ok(())
}

/// Let [`QUERY_ROLE`] read a table, if the role exists (an operator may not have let us make it).
pub(crate) async fn grant_read(client: &Client, table: &TableDef) -> Result<(), DbError> {
    let role_exists = client
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&QUERY_ROLE])
        .await?
        .is_some();
    if !role_exists {
        tracing::warn!(
            "role {QUERY_ROLE} does not exist; not granting it access to {}",
            table.key()
        );
        return Ok(());
    }
    // A restricted table is the groups' only: re-applied when the server starts or reloads.
    let restricted = super::access::restricted_in(client, table.schema.name).await?;
    if restricted.whole_schema || restricted.tables.iter().any(|t| t == table.name) {
        tracing::warn!(
            "{} is restricted (tapir.restricted): its groups read it again once the server restarts \
             or reloads (SIGHUP)",
            table.key()
        );
        return Ok(());
    }
    client
        .batch_execute(&format!(
            "GRANT USAGE ON SCHEMA {schema} TO {QUERY_ROLE}; GRANT SELECT ON {table} TO {QUERY_ROLE}",
            schema = quote_ident(table.schema.name),
            table = table.sql_name()
        ))
        .await
        .map_err(DbError::query(format!(
            "cannot grant {QUERY_ROLE} read access to {}",
            table.key()
        )))?;
    Ok(())
}

/// Record a `key = value` fact in tapir.state.
pub(crate) async fn set_state(client: &Client, key: &str, value: &str) -> Result<(), DbError> {
    client
        .execute(
            "INSERT INTO tapir.state (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
            &[&key, &value],
        )
        .await
        .map_err(DbError::query("cannot write tapir.state"))?;
    Ok(())
}

/// A fact from tapir.state.
pub(crate) async fn get_state(client: &Client, key: &str) -> Result<Option<String>, DbError> {
    Ok(client
        .query_opt("SELECT value FROM tapir.state WHERE key = $1", &[&key])
        .await
        .map_err(DbError::query("cannot read tapir.state"))?
        .map(|r| r.get(0)))
}

/// `ANALYZE` a table, so the planner knows its size and spread before the first query.
pub(crate) async fn analyze(client: &Client, table: &TableDef) -> Result<(), DbError> {
    client
        .batch_execute(&format!("ANALYZE {}", table.sql_name()))
        .await
        .map_err(DbError::query(format!("ANALYZE {} failed", table.key())))
}

/// Drop a table `tapir load` created (no CASCADE: someone's view on it makes this fail
/// loudly rather than silently disappear).
pub(crate) async fn drop_table(client: &Client, table: &TableDef) -> Result<(), DbError> {
    client
        .batch_execute(&format!("DROP TABLE IF EXISTS {}", table.sql_name()))
        .await
        .map_err(DbError::query(format!("cannot drop {}", table.key())))
}

/// For COMMENT ON: a literal.
pub(crate) fn literal(value: &str) -> String {
    quote_literal(value)
}
