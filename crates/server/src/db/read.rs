//! Reading TAP_SCHEMA into [`TapSchema`].
//!
//! The TAP_SCHEMA may be Tapir's own or an operator's (DaCHS, an older TAP 1.0 service), so
//! the reader takes what is there:
//! * the physical schema is `tap_schema`, or any case variant such as `"TAP_SCHEMA"`;
//! * columns TAP 1.0 lacks (`*_index`, `arraysize`, `xtype`) read as NULL, found through
//!   `information_schema`; TAP 1.0 `adql:` datatypes are turned into the TAP 1.1 triple
//!   (datatype, arraysize, xtype) that the rest of Tapir expects;
//! * `table_name` `schema.table` is split into schema and name, quote-aware, with the quotes
//!   of delimited identifiers removed (`"J/A+A/1"` → `J/A+A/1`); a name without a dot lives in
//!   the default search path (`schema: None`), whatever its schema_name says;
//! * names whose case does not match the database (an unquoted `ivoa.ObsCore` describing the
//!   table PostgreSQL folded to `ivoa.obscore`) are mapped to the stored name when that is
//!   unambiguous, because the ADQL layer emits stored names quoted;
//! * a TAP_SCHEMA that does not describe itself gets its five tables described from the
//!   catalogue, since ADQL requires `TAP_SCHEMA.*` to be queryable.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use tokio_postgres::Client;

use super::quote_ident;
use super::DbError;
use crate::tap_schema::{ColumnInfo, KeyInfo, SchemaInfo, TableInfo, TapSchema};

/// The five TAP_SCHEMA tables, by their standard names.
const TABLES: [&str; 5] = ["schemas", "tables", "columns", "keys", "key_columns"];

/// Standard (lower-case) table name → (physical table name, its columns in order as
/// (physical name, information_schema data_type)).
type Tables = HashMap<String, (String, Vec<(String, String)>)>;

/// Where TAP_SCHEMA physically is, and which columns each of its tables has.
#[derive(Debug, Clone)]
pub(crate) struct Location {
    /// The physical schema, e.g. `tap_schema` or `TAP_SCHEMA`.
    pub schema: String,
    /// Physical name of the `schemas` table (for callers that read only that one).
    pub schemas: String,
    tables: Tables,
}

/// Find TAP_SCHEMA: the schema named `tap_schema` in any case that has a `tables` table,
/// preferring the lower-case one.
pub(crate) async fn locate(client: &Client) -> Result<Option<Location>, DbError> {
    let rows = client
        .query(
            "SELECT table_schema::text, table_name::text, column_name::text, data_type::text
             FROM information_schema.columns
             WHERE lower(table_schema) = 'tap_schema'
               AND lower(table_name) IN ('schemas', 'tables', 'columns', 'keys', 'key_columns')
             ORDER BY (table_schema = 'tap_schema') DESC, table_schema, table_name, ordinal_position",
            &[],
        )
        .await
        .map_err(DbError::query("cannot look for TAP_SCHEMA"))?;
    let mut by_schema: BTreeMap<String, Tables> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for row in &rows {
        let schema: String = row.get(0);
        let table: String = row.get(1);
        if !order.contains(&schema) {
            order.push(schema.clone());
        }
        let entry = by_schema
            .entry(schema)
            .or_default()
            .entry(table.to_lowercase())
            .or_insert_with(|| (table.clone(), Vec::new()));
        // Two tables differing only in case: keep the lower-case one.
        if entry.0 == table || table == table.to_lowercase() {
            if entry.0 != table {
                *entry = (table.clone(), Vec::new());
            }
            entry.1.push((row.get(2), row.get(3)));
        }
    }
    for schema in order {
        let Some(tables) = by_schema.remove(&schema) else {
            continue;
        };
        if tables.contains_key("tables") {
            let schemas = tables
                .get("schemas")
                .map_or_else(|| "schemas".to_string(), |t| t.0.clone());
            return Ok(Some(Location {
                schema,
                schemas,
                tables,
            }));
        }
    }
    Ok(None)
}

impl Location {
    /// The physical name of a TAP_SCHEMA table by its standard name (`tables`, `keys`, ...).
    pub(crate) fn physical(&self, standard: &str) -> Option<String> {
        self.tables.get(standard).map(|t| t.0.clone())
    }

    /// Read `wanted` columns of one TAP_SCHEMA table as text, NULL where the column does not
    /// exist (TAP 1.0). A missing table reads as empty.
    async fn read(
        &self,
        client: &Client,
        table: &str,
        wanted: &[&str],
    ) -> Result<Vec<Vec<Option<String>>>, DbError> {
        let Some((physical, columns)) = self.tables.get(table) else {
            return Ok(Vec::new());
        };
        let select: Vec<String> = wanted
            .iter()
            .map(|w| {
                // Exact name first, then any case variant.
                columns
                    .iter()
                    .find(|(c, _)| c == w)
                    .or_else(|| columns.iter().find(|(c, _)| c.eq_ignore_ascii_case(w)))
                    .map_or_else(
                        || "NULL::text".to_string(),
                        |(c, _)| format!("{}::text", quote_ident(c)),
                    )
            })
            .collect();
        let sql = format!(
            "SELECT {} FROM {}.{}",
            select.join(", "),
            quote_ident(&self.schema),
            quote_ident(physical)
        );
        let rows = client
            .query(&sql, &[])
            .await
            .map_err(DbError::query(format!("cannot read TAP_SCHEMA.{table}")))?;
        Ok(rows
            .iter()
            .map(|r| (0..wanted.len()).map(|i| r.get::<_, Option<String>>(i)).collect())
            .collect())
    }

    /// Whether a TAP_SCHEMA table has a column (any case).
    fn has_column(&self, table: &str, column: &str) -> bool {
        self.tables
            .get(table)
            .is_some_and(|(_, cols)| cols.iter().any(|(c, _)| c.eq_ignore_ascii_case(column)))
    }
}

/// Read TAP_SCHEMA (1.1 columns where present, 1.0 otherwise).
pub async fn read_tap_schema(client: &Client) -> Result<TapSchema, DbError> {
    let Some(loc) = locate(client).await? else {
        return Err(DbError::Setup(
            "this database has no TAP_SCHEMA that Tapir's user can see (no schema tap_schema with a \
             tables table it may read)"
                .into(),
        ));
    };
    for (table, column) in [
        ("tables", "table_name"),
        ("columns", "table_name"),
        ("columns", "column_name"),
    ] {
        if loc.tables.contains_key(table) && !loc.has_column(table, column) {
            return Err(DbError::Setup(format!(
                "TAP_SCHEMA.{table} in schema {} has no column {column}",
                loc.schema
            )));
        }
    }
    let schema_rows = loc
        .read(
            client,
            "schemas",
            &["schema_name", "utype", "description", "schema_index"],
        )
        .await?;
    let table_rows = loc
        .read(
            client,
            "tables",
            &[
                "schema_name",
                "table_name",
                "table_type",
                "utype",
                "description",
                "table_index",
            ],
        )
        .await?;
    let column_rows = loc
        .read(
            client,
            "columns",
            &[
                "table_name",
                "column_name",
                "datatype",
                "arraysize",
                "xtype",
                "size",
                "description",
                "utype",
                "unit",
                "ucd",
                "indexed",
                "principal",
                "std",
                "column_index",
            ],
        )
        .await?;
    let key_rows = loc
        .read(
            client,
            "keys",
            &["key_id", "from_table", "target_table", "description", "utype"],
        )
        .await?;
    let key_column_rows = loc
        .read(client, "key_columns", &["key_id", "from_column", "target_column"])
        .await?;

    let mut ts = assemble(schema_rows, table_rows, column_rows, key_rows, key_column_rows);
    if let Err(e) = resolve_physical(client, &mut ts.tables).await {
        // The names as TAP_SCHEMA gives them are still the best guess.
        tracing::warn!("cannot compare TAP_SCHEMA with the database catalogue: {e}");
    }
    describe_self_if_missing(&loc, &mut ts);
    sort(&mut ts);
    Ok(ts)
}

/// Build the model from the raw rows (all text, NULL as None).
pub(crate) fn assemble(
    schema_rows: Vec<Vec<Option<String>>>,
    table_rows: Vec<Vec<Option<String>>>,
    column_rows: Vec<Vec<Option<String>>>,
    key_rows: Vec<Vec<Option<String>>>,
    key_column_rows: Vec<Vec<Option<String>>>,
) -> TapSchema {
    let schemas = schema_rows
        .into_iter()
        .filter_map(|mut r| {
            Some(SchemaInfo {
                name: take(&mut r, 0)?,
                utype: take(&mut r, 1),
                description: take(&mut r, 2),
                index: parse_index(take(&mut r, 3)),
            })
        })
        .collect();

    let mut tables: Vec<TableInfo> = Vec::new();
    // TAP_SCHEMA's table_name (as stored) → position in `tables`.
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for mut r in table_rows {
        let Some(stored) = take(&mut r, 1) else {
            continue;
        };
        let (schema, name) = split_table_name(&stored);
        by_name.insert(stored, tables.len());
        tables.push(TableInfo {
            schema,
            name,
            table_type: take(&mut r, 2).unwrap_or_else(|| "table".into()).to_lowercase(),
            utype: take(&mut r, 3),
            description: take(&mut r, 4),
            index: parse_index(take(&mut r, 5)),
            columns: Vec::new(),
        });
    }

    let mut orphans = 0usize;
    for mut r in column_rows {
        let (Some(table), Some(name)) = (take(&mut r, 0), take(&mut r, 1)) else {
            continue;
        };
        let Some(&pos) = by_name.get(&table) else {
            orphans += 1;
            continue;
        };
        let (datatype, arraysize, xtype) = normalize_type(
            &take(&mut r, 2).unwrap_or_else(|| "char".into()),
            take(&mut r, 3),
            take(&mut r, 4),
            parse_index(take(&mut r, 5)),
        );
        tables[pos].columns.push(ColumnInfo {
            name: unquote_ident(&name),
            datatype,
            arraysize,
            xtype,
            description: take(&mut r, 6),
            utype: take(&mut r, 7),
            unit: take(&mut r, 8),
            ucd: take(&mut r, 9),
            indexed: parse_flag(take(&mut r, 10)),
            principal: parse_flag(take(&mut r, 11)),
            std: parse_flag(take(&mut r, 12)),
            index: parse_index(take(&mut r, 13)),
        });
    }
    if orphans > 0 {
        tracing::warn!("TAP_SCHEMA.columns has {orphans} rows for tables not in TAP_SCHEMA.tables; ignored");
    }

    let mut keys: Vec<KeyInfo> = key_rows
        .into_iter()
        .filter_map(|mut r| {
            Some(KeyInfo {
                key_id: take(&mut r, 0)?,
                from_table: take(&mut r, 1)?,
                target_table: take(&mut r, 2)?,
                description: take(&mut r, 3),
                utype: take(&mut r, 4),
                columns: Vec::new(),
            })
        })
        .collect();
    for mut r in key_column_rows {
        let (Some(id), Some(from), Some(target)) = (take(&mut r, 0), take(&mut r, 1), take(&mut r, 2)) else {
            continue;
        };
        if let Some(key) = keys.iter_mut().find(|k| k.key_id == id) {
            key.columns.push((unquote_ident(&from), unquote_ident(&target)));
        }
    }
    TapSchema {
        schemas,
        tables,
        keys,
    }
}

/// Take a cell, treating empty strings as NULL (TAP_SCHEMAs use both for "none").
fn take(row: &mut [Option<String>], i: usize) -> Option<String> {
    row.get_mut(i)?.take().filter(|s| !s.trim().is_empty())
}

/// 0/1, booleans, or anything numeric: non-zero is true.
pub(crate) fn parse_flag(value: Option<String>) -> bool {
    let Some(v) = value else {
        return false;
    };
    let v = v.trim().to_ascii_lowercase();
    match v.as_str() {
        "t" | "true" | "y" | "yes" => true,
        _ => v.parse::<f64>().is_ok_and(|n| n != 0.0),
    }
}

/// An integer column that may come as any numeric type (or text) in foreign TAP_SCHEMAs.
pub(crate) fn parse_index(value: Option<String>) -> Option<i32> {
    let v = value?;
    let v = v.trim();
    if let Ok(n) = v.parse::<i64>() {
        return Some(n.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32);
    }
    v.parse::<f64>().ok().filter(|f| f.is_finite()).map(|f| f as i32)
}

/// Split TAP_SCHEMA's `table_name` into (schema, table), honouring delimited identifiers:
/// `ivoa.ObsCore` → (ivoa, ObsCore), `"J/A+A/1"` → (None, J/A+A/1), `cat.s.t` → (s, t).
/// A name that does not parse is taken whole, as a table in the default schema.
pub(crate) fn split_table_name(stored: &str) -> (Option<String>, String) {
    let mut parts: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut chars = stored.trim().chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, '"') if current.trim().is_empty() => {
                current.clear();
                quoted = true;
            }
            (true, '"') => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    current.push('"');
                } else {
                    quoted = false;
                    // Only a dot (or the end) may follow a closing quote.
                    while chars.peek().is_some_and(|c| c.is_whitespace()) {
                        chars.next();
                    }
                    if chars.peek().is_some_and(|c| *c != '.') {
                        return (None, stored.to_string());
                    }
                }
            }
            (false, '.') => parts.push(std::mem::take(&mut current).trim().to_string()),
            (_, c) => current.push(c),
        }
    }
    if quoted {
        return (None, stored.to_string());
    }
    parts.push(current.trim().to_string());
    if parts.iter().any(String::is_empty) {
        return (None, stored.to_string());
    }
    let name = parts.pop().unwrap_or_default();
    (parts.pop(), name)
}

/// `"size"` → `size`; anything not wholly delimited is returned as is.
pub(crate) fn unquote_ident(name: &str) -> String {
    let t = name.trim();
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        t[1..t.len() - 1].replace("\"\"", "\"")
    } else {
        name.to_string()
    }
}

/// TAP 1.0 `adql:` types → TAP 1.1's (VOTable datatype, arraysize, xtype); 1.1 values pass
/// through. TAP 1.0's `size` supplies the length of character and binary columns.
pub(crate) fn normalize_type(
    datatype: &str,
    arraysize: Option<String>,
    xtype: Option<String>,
    size: Option<i32>,
) -> (String, Option<String>, Option<String>) {
    let lower = datatype.trim().to_ascii_lowercase();
    let Some(adql) = lower.strip_prefix("adql:") else {
        return (datatype.trim().to_string(), arraysize, xtype);
    };
    let n = size.filter(|n| *n > 0);
    let fixed = || arraysize.clone().or_else(|| n.map(|n| n.to_string()));
    let variable = || {
        arraysize
            .clone()
            .or_else(|| Some(n.map_or_else(|| "*".to_string(), |n| format!("{n}*"))))
    };
    let x = |default: &str| xtype.clone().or_else(|| Some(default.to_string()));
    let (dt, size, xt) = match adql {
        "smallint" => ("short", None, xtype.clone()),
        "integer" => ("int", None, xtype.clone()),
        "bigint" => ("long", None, xtype.clone()),
        "real" => ("float", None, xtype.clone()),
        "double" => ("double", None, xtype.clone()),
        "boolean" => ("boolean", None, xtype.clone()),
        "char" => ("char", fixed(), xtype.clone()),
        "varchar" => ("char", variable(), xtype.clone()),
        "clob" => ("char", Some("*".into()), x("adql:clob")),
        "timestamp" => ("char", variable(), x("timestamp")),
        "binary" => ("unsignedByte", fixed(), xtype.clone()),
        "varbinary" => ("unsignedByte", variable(), xtype.clone()),
        "blob" => ("unsignedByte", Some("*".into()), x("adql:blob")),
        "point" => ("double", Some("2".into()), x("point")),
        "circle" => ("double", Some("3".into()), x("circle")),
        "polygon" => ("double", Some("*".into()), x("polygon")),
        "region" => ("char", Some("*".into()), x("adql:region")),
        _ => return (datatype.trim().to_string(), arraysize, xtype),
    };
    (dt.to_string(), size, xt)
}

/// Map TAP_SCHEMA names to the names stored in the database where only the case differs.
async fn resolve_physical(client: &Client, tables: &mut [TableInfo]) -> Result<(), DbError> {
    let wanted: Vec<String> = tables
        .iter()
        .map(|t| t.name.to_lowercase())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let rows = client
        .query(
            "SELECT n.nspname::text, c.relname::text, a.attname::text
             FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p') AND lower(c.relname) = ANY($1)
             ORDER BY a.attnum",
            &[&wanted],
        )
        .await?;
    let search_path: Vec<String> = client
        .query_one("SELECT current_schemas(false)::text[]", &[])
        .await?
        .get(0);
    let mut relations: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for row in &rows {
        let columns = relations.entry((row.get(0), row.get(1))).or_default();
        if let Some(column) = row.get::<_, Option<String>>(2) {
            columns.push(column);
        }
    }
    for table in tables.iter_mut() {
        let Some(((schema, name), columns)) = find_relation(&relations, table, &search_path) else {
            tracing::warn!(
                "TAP_SCHEMA lists {}, which is not a table or view in the database (or not visible to \
                 Tapir's user)",
                table.qualified_name()
            );
            continue;
        };
        if table.schema.is_some() && table.schema.as_deref() != Some(schema.as_str()) {
            tracing::debug!("TAP_SCHEMA schema {:?} is {schema} in the database", table.schema);
            table.schema = Some(schema.clone());
        }
        if table.name != *name {
            tracing::debug!("TAP_SCHEMA table {} is {name} in the database", table.name);
            table.name = name.clone();
        }
        for column in &mut table.columns {
            if let Some(stored) = pick(columns.iter(), &column.name) {
                if *stored != column.name {
                    tracing::debug!("column {} of {name} is {stored} in the database", column.name);
                    column.name = stored.clone();
                }
            }
        }
    }
    Ok(())
}

type Relations = BTreeMap<(String, String), Vec<String>>;

/// The relation a TAP_SCHEMA table names: in its schema, or for an unqualified name the first
/// schema of the search path that has it. Exact names win over case-insensitive matches.
fn find_relation<'r>(
    relations: &'r Relations,
    table: &TableInfo,
    search_path: &[String],
) -> Option<(&'r (String, String), &'r Vec<String>)> {
    let in_schema = |schema: &str| {
        let names = relations.keys().filter(|(s, _)| s == schema).map(|(_, n)| n);
        pick(names, &table.name).and_then(|n| relations.get_key_value(&(schema.to_string(), n.clone())))
    };
    match &table.schema {
        Some(wanted) => {
            let schemas: BTreeSet<&String> = relations.keys().map(|(s, _)| s).collect();
            let schema = pick(schemas.iter().copied(), wanted)?;
            in_schema(schema)
        }
        None => search_path.iter().find_map(|s| in_schema(s)),
    }
}

/// `wanted` itself if present, else its only case-insensitive match.
fn pick<'a>(mut names: impl Iterator<Item = &'a String> + Clone, wanted: &str) -> Option<&'a String> {
    if let Some(exact) = names.clone().find(|n| *n == wanted) {
        return Some(exact);
    }
    let first = names.find(|n| n.eq_ignore_ascii_case(wanted))?;
    if names.any(|n| n.eq_ignore_ascii_case(wanted)) {
        None
    } else {
        Some(first)
    }
}

/// Describe TAP_SCHEMA's own tables when it does not (TAP says it SHOULD; ADQL says
/// `TAP_SCHEMA.*` MUST be queryable, which needs them in the allow-list).
fn describe_self_if_missing(loc: &Location, ts: &mut TapSchema) {
    let described = ts.tables.iter().any(|t| {
        t.schema
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("tap_schema"))
            && t.name.eq_ignore_ascii_case("tables")
    });
    if described {
        return;
    }
    tracing::info!("TAP_SCHEMA does not describe itself; describing its tables from the catalogue");
    if !ts
        .schemas
        .iter()
        .any(|s| s.name.eq_ignore_ascii_case("tap_schema"))
    {
        ts.schemas.push(SchemaInfo {
            name: loc.schema.clone(),
            description: Some("Metadata about the published schemas, tables and columns".into()),
            utype: None,
            index: None,
        });
    }
    for (i, standard) in TABLES.iter().enumerate() {
        let Some((physical, columns)) = loc.tables.get(*standard) else {
            continue;
        };
        ts.tables.push(TableInfo {
            schema: Some(loc.schema.clone()),
            name: physical.clone(),
            table_type: "table".into(),
            description: Some(format!("TAP_SCHEMA.{standard}")),
            utype: None,
            index: Some(1000 + i as i32),
            columns: columns
                .iter()
                .enumerate()
                .map(|(j, (name, pg_type))| {
                    let (datatype, arraysize, xtype) = votable_type_of(pg_type);
                    ColumnInfo {
                        name: name.clone(),
                        datatype: datatype.into(),
                        arraysize: arraysize.map(Into::into),
                        xtype: xtype.map(Into::into),
                        unit: None,
                        ucd: None,
                        utype: None,
                        description: None,
                        principal: true,
                        indexed: false,
                        std: true,
                        index: Some(j as i32 + 1),
                    }
                })
                .collect(),
        });
    }
}

/// The VOTable triple for an `information_schema` data_type.
pub(crate) fn votable_type_of(pg_type: &str) -> (&'static str, Option<&'static str>, Option<&'static str>) {
    match pg_type {
        "smallint" => ("short", None, None),
        "integer" => ("int", None, None),
        "bigint" => ("long", None, None),
        "real" => ("float", None, None),
        "double precision" | "numeric" => ("double", None, None),
        "boolean" => ("boolean", None, None),
        t if t.starts_with("timestamp") => ("char", Some("*"), Some("timestamp")),
        _ => ("char", Some("*"), None),
    }
}

/// Order by the `*_index` columns (NULL last), then by name; columns without an index keep
/// TAP_SCHEMA's row order, which is the order their authors wrote them in.
pub(crate) fn sort(ts: &mut TapSchema) {
    ts.schemas
        .sort_by(|a, b| (a.index.is_none(), a.index, &a.name).cmp(&(b.index.is_none(), b.index, &b.name)));
    ts.tables.sort_by(|a, b| {
        (a.index.is_none(), a.index, &a.schema, &a.name).cmp(&(
            b.index.is_none(),
            b.index,
            &b.schema,
            &b.name,
        ))
    });
    for table in &mut ts.tables {
        table.columns.sort_by_key(|c| (c.index.is_none(), c.index));
    }
    ts.keys.sort_by(|a, b| a.key_id.cmp(&b.key_id));
}
