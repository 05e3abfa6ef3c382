//! Restricted data, the database wall (issue 14). The in-memory wall (`tap::access`) keeps a
//! restricted table out of what a caller is served; this one makes PostgreSQL refuse it too,
//! whatever SQL might reach it:
//! * the query role ([`QUERY_ROLE`]) and PUBLIC lose SELECT on every restricted table (and
//!   USAGE on a schema restricted as a whole);
//! * each group a rule names has a role `tapir_group_<name>` (NOLOGIN, a member of the query
//!   role) with SELECT on what that group may read; a caller in several such groups runs as a
//!   role that is a member of each (`tapir_groups_<digest>`, made when first needed);
//! * TAP_SCHEMA's tables get row security: a row about a table shows only to a role that may
//!   read that table, so `SELECT * FROM TAP_SCHEMA.tables` does not name what the caller
//!   cannot see. Tapir reads TAP_SCHEMA as its owner, to which the policies do not apply.
//!
//! Applied at start, after the published schemas were granted to the query role, so that a
//! rule removed from the configuration gives the table back to everyone.

use sha2::{Digest, Sha256};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::{describe, quote_ident, read, DbError, QUERY_ROLE};
use crate::tap::access::Rules;
use crate::tap_schema::TapSchema;

const GROUP_PREFIX: &str = "tapir_group_";
const GROUPS_PREFIX: &str = "tapir_groups_";
/// PostgreSQL's longest identifier (NAMEDATALEN - 1); longer names are cut, so could collide.
const MAX_NAME: usize = 63;

/// The role of one group.
pub(crate) fn group_role(group: &str) -> String {
    let name = format!("{GROUP_PREFIX}{group}");
    if name.len() <= MAX_NAME {
        name
    } else {
        format!("{GROUP_PREFIX}{}", &hex(&Sha256::digest(group.as_bytes()))[..32])
    }
}

/// The role a caller in `groups` (sorted, restricted groups only, not empty) runs as.
pub(crate) fn role_for(groups: &[String]) -> String {
    match groups {
        [one] => group_role(one),
        _ => {
            let digest = Sha256::digest(groups.join("\n").as_bytes());
            format!("{GROUPS_PREFIX}{}", &hex(&digest)[..32])
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Create `role` (NOLOGIN) unless it exists, make it a member of `member_of`, and make Tapir's
/// user a member of it so that `SET LOCAL ROLE` works (PostgreSQL 15 does not do that for the
/// creator). Used for the query role too (`migrate::ensure_query_role`).
pub(crate) async fn ensure_role(client: &Client, role: &str, member_of: &[String]) -> Result<(), DbError> {
    let quoted = quote_ident(role);
    let exists = client
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&role])
        .await?
        .is_some();
    if !exists {
        if let Err(e) = client
            .batch_execute(&format!("CREATE ROLE {quoted} NOLOGIN"))
            .await
        {
            if e.code() != Some(&SqlState::DUPLICATE_OBJECT) {
                return Err(DbError::query(format!("cannot create role {role}"))(e));
            }
        } else {
            tracing::info!("created role {role}");
        }
    }
    let mut sql = String::new();
    for parent in member_of {
        sql.push_str(&format!("GRANT {} TO {quoted};", quote_ident(parent)));
    }
    let member: bool = client
        .query_one("SELECT pg_has_role(current_user, $1, 'MEMBER')", &[&role])
        .await?
        .get(0);
    if !member {
        sql.push_str(&format!("GRANT {quoted} TO CURRENT_USER;"));
    }
    if !sql.is_empty() {
        client
            .batch_execute(&sql)
            .await
            .map_err(DbError::query(format!("cannot set up role {role}")))?;
    }
    Ok(())
}

/// The role of a caller in several restricted groups: a member of each group's role.
pub(crate) async fn ensure_combined_role(client: &Client, groups: &[String]) -> Result<String, DbError> {
    let role = role_for(groups);
    let parents: Vec<String> = groups.iter().map(|g| group_role(g)).collect();
    ensure_role(client, &role, &parents).await?;
    Ok(role)
}

/// What `tapir.restricted` lists in one schema.
#[derive(Debug, Default)]
pub(crate) struct Restricted {
    /// The schema as a whole (no USAGE for the query role).
    pub whole_schema: bool,
    /// Tables of the schema the query role may not read.
    pub tables: Vec<String>,
}

/// The restrictions recorded for `schema` (physical name), for the code that grants the
/// query role read access and must leave these out.
pub(crate) async fn restricted_in(client: &Client, schema: &str) -> Result<Restricted, DbError> {
    let rows = client
        .query(
            "SELECT table_name FROM tapir.restricted WHERE schema_name = $1",
            &[&schema],
        )
        .await
        .map_err(DbError::query("cannot read tapir.restricted"))?;
    let mut r = Restricted::default();
    for row in rows {
        let table: String = row.get(0);
        if table.is_empty() {
            r.whole_schema = true;
        } else {
            r.tables.push(table);
        }
    }
    Ok(r)
}

/// Make the database agree with `rules` for the tables of `full` (see the module comment), in
/// one transaction: no table is readable by the wrong role at any moment. Any failure is an
/// error: restrictions the database does not enforce must not be served.
pub(crate) async fn apply(client: &Client, rules: &Rules, full: &TapSchema) -> Result<(), DbError> {
    let mut groups: Vec<String> = rules.rules().iter().flat_map(|r| r.groups.clone()).collect();
    groups.sort();
    groups.dedup();
    for g in &groups {
        ensure_role(client, &group_role(g), &[QUERY_ROLE.to_string()]).await?;
    }
    client.batch_execute("BEGIN").await?;
    let result = apply_in_transaction(client, rules, full).await;
    match result {
        Ok(()) => client.batch_execute("COMMIT").await?,
        Err(e) => {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(e);
        }
    }
    if rules.is_empty() {
        return Ok(());
    }
    protect_tap_schema(client).await
}

async fn apply_in_transaction(client: &Client, rules: &Rules, full: &TapSchema) -> Result<(), DbError> {
    // What the rules take away now, in physical names: whole schemas, then tables with the
    // groups that may read them.
    let mut schemas = Vec::new();
    for rule in rules.rules().iter().filter(|r| r.table.is_none()) {
        if let Some(schema) = physical_schema(client, &rule.schema).await? {
            schemas.push(schema);
        }
    }
    let mut tables: Vec<(String, String, Vec<String>)> = Vec::new();
    for table in &full.tables {
        let Some(readers) = rules.readers(table) else {
            continue;
        };
        let schema = table.schema.as_deref().unwrap_or("public").to_string();
        let physical = format!("{}.{}", quote_ident(&schema), quote_ident(&table.name));
        let exists = client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&physical])
            .await?
            .get::<_, bool>(0);
        if exists {
            tables.push((
                schema,
                table.name.clone(),
                readers.iter().map(|g| g.to_string()).collect(),
            ));
        } else {
            tracing::warn!(
                "access.restricted: {} is in TAP_SCHEMA but not in the database",
                table.qualified_name()
            );
        }
    }

    // What group roles were given before is taken back: a rule may have changed.
    let granted = client
        .query(
            "SELECT 'TABLE ' || c.oid::regclass::text, r.rolname::text
             FROM pg_class c, aclexplode(c.relacl) a, pg_roles r
             WHERE r.oid = a.grantee AND r.rolname LIKE 'tapir\\_group\\_%'
             UNION ALL
             SELECT 'SCHEMA ' || quote_ident(n.nspname), r.rolname::text
             FROM pg_namespace n, aclexplode(n.nspacl) a, pg_roles r
             WHERE r.oid = a.grantee AND r.rolname LIKE 'tapir\\_group\\_%'",
            &[],
        )
        .await?;
    for row in &granted {
        let (object, role): (String, String) = (row.get(0), row.get(1));
        client
            .batch_execute(&format!("REVOKE ALL ON {object} FROM {}", quote_ident(&role)))
            .await
            .map_err(DbError::query(format!(
                "cannot revoke {role}'s access to {object}"
            )))?;
    }

    // The new list, then the query role's access back where a restriction was lifted.
    let before: Vec<String> = client
        .query("SELECT DISTINCT schema_name FROM tapir.restricted", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    client.batch_execute("DELETE FROM tapir.restricted").await?;
    let insert =
        "INSERT INTO tapir.restricted (schema_name, table_name) VALUES ($1, $2) ON CONFLICT DO NOTHING";
    for schema in &schemas {
        client.execute(insert, &[schema, &""]).await?;
    }
    for (schema, table, _) in &tables {
        client.execute(insert, &[schema, table]).await?;
    }
    for schema in &before {
        let exists = client
            .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[schema])
            .await?
            .is_some();
        if exists {
            super::migrate::grant_schema(client, schema).await;
        }
    }

    for schema in &schemas {
        let q = quote_ident(schema);
        client
            .batch_execute(&format!("REVOKE USAGE ON SCHEMA {q} FROM PUBLIC, {QUERY_ROLE}"))
            .await
            .map_err(DbError::query(format!("cannot restrict schema {schema}")))?;
    }
    for (schema, table, readers) in &tables {
        let physical = format!("{}.{}", quote_ident(schema), quote_ident(table));
        let mut sql = format!("REVOKE SELECT ON {physical} FROM PUBLIC, {QUERY_ROLE};");
        for g in readers {
            let role = quote_ident(&group_role(g));
            sql.push_str(&format!(
                "GRANT USAGE ON SCHEMA {} TO {role}; GRANT SELECT ON {physical} TO {role};",
                quote_ident(schema)
            ));
        }
        client
            .batch_execute(&sql)
            .await
            .map_err(DbError::query(format!("cannot restrict {schema}.{table}")))?;
    }
    Ok(())
}

/// Row security on TAP_SCHEMA: rows about a table show only to roles that may read it.
async fn protect_tap_schema(client: &Client) -> Result<(), DbError> {
    let Some(ts) = read::locate(client).await? else {
        return Ok(());
    };
    let schema = quote_ident(&ts.schema);
    // The rows' table names are resolved as Tapir's user (SECURITY DEFINER: the caller may
    // lack USAGE on the schema, and then could not even name the table) and the privileges
    // checked for the caller, passed in as `current_user` from the policy. A name PostgreSQL
    // cannot resolve stays visible: only what the caller cannot read is hidden, and the names
    // of restricted tables are checked by `apply`. A mixed-case name written without quotes
    // in TAP_SCHEMA is tried as written too.
    let function = format!(
        "DROP FUNCTION IF EXISTS {schema}.tapir_may_read(text, name) CASCADE;
         CREATE FUNCTION {schema}.tapir_may_read(name text, who name) RETURNS boolean
         LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $f$
         DECLARE
             rel regclass;
         BEGIN
             rel := to_regclass(name);
             IF rel IS NULL AND position('\"' in name) = 0 THEN
                 rel := to_regclass(array_to_string(
                     ARRAY(SELECT quote_ident(p) FROM unnest(string_to_array(name, '.')) AS p), '.'));
             END IF;
             IF rel IS NULL THEN
                 RETURN true;
             END IF;
             RETURN has_table_privilege(who, rel, 'SELECT')
                 AND has_schema_privilege(who, (SELECT relnamespace FROM pg_class WHERE oid = rel), 'USAGE');
         EXCEPTION WHEN others THEN
             RETURN true;
         END $f$"
    );
    client
        .batch_execute(&function)
        .await
        .map_err(DbError::query("cannot create TAP_SCHEMA's row filter"))?;
    let may = |col: &str| format!("{schema}.tapir_may_read({col}, current_user)");
    let policies = [
        ("tables", may("table_name")),
        ("columns", may("table_name")),
        (
            "keys",
            format!("{} AND {}", may("from_table"), may("target_table")),
        ),
        (
            "key_columns",
            format!(
                "EXISTS (SELECT 1 FROM {schema}.{} k WHERE k.key_id = {schema}.{}.key_id)",
                quote_ident(&ts.physical("keys").unwrap_or_else(|| "keys".into())),
                quote_ident(&ts.physical("key_columns").unwrap_or_else(|| "key_columns".into()))
            ),
        ),
        (
            "schemas",
            "coalesce((SELECT bool_or(has_schema_privilege(n.oid, 'USAGE')) FROM pg_namespace n \
             WHERE n.nspname IN (schema_name, lower(schema_name))), true)"
                .to_string(),
        ),
    ];
    for (standard, using) in policies {
        let Some(physical) = ts.physical(standard) else {
            continue;
        };
        let table = format!("{schema}.{}", quote_ident(&physical));
        let sql = format!(
            "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
             DROP POLICY IF EXISTS tapir_visible ON {table};
             CREATE POLICY tapir_visible ON {table} FOR SELECT USING ({using})"
        );
        if let Err(e) = client.batch_execute(&sql).await {
            return Err(DbError::Setup(format!(
                "cannot protect TAP_SCHEMA.{standard} with row security ({}); Tapir's user must own \
                 TAP_SCHEMA for access.restricted",
                describe(&e)
            )));
        }
    }
    Ok(())
}

/// The physical name of a schema a rule names: exact, else the unique case-insensitive match.
async fn physical_schema(client: &Client, name: &str) -> Result<Option<String>, DbError> {
    let found: Vec<String> = client
        .query(
            "SELECT nspname::text FROM pg_namespace WHERE lower(nspname) = lower($1) ORDER BY nspname <> $1",
            &[&name],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok(match found.as_slice() {
        [] => None,
        [first, ..] if first == name => Some(first.clone()),
        [one] => Some(one.clone()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_fit_and_differ() {
        assert_eq!(group_role("soar-team"), "tapir_group_soar-team");
        let long = "g".repeat(64);
        assert!(group_role(&long).len() <= MAX_NAME);
        assert_ne!(group_role(&long), group_role(&"g".repeat(63)));
        let two = role_for(&["a".into(), "b".into()]);
        assert!(two.starts_with(GROUPS_PREFIX) && two.len() <= MAX_NAME);
        assert_ne!(two, role_for(&["a".into(), "c".into()]));
        assert_eq!(role_for(&["a".into()]), "tapir_group_a");
    }
}
