//! Tapir's schema changes and the read-only query role.
//!
//! The SQL lives in the repository's top-level `migrations/` directory, one numbered file per
//! change, compiled into the binary. They run in one transaction under an advisory lock:
//! several Tapir processes starting together apply each file exactly once, and a failing file
//! leaves the database as it was. Applied versions are recorded in `tapir.migrations`.

use tokio_postgres::Client;

use super::{describe, pgsphere, quote_ident, read, DbError, QUERY_ROLE};

/// Every migration: version, name, SQL. Append only; never edit an applied file.
pub(crate) const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "tapir", include_str!("../../../../migrations/0001_tapir.sql")),
    (
        2,
        "tap_schema",
        include_str!("../../../../migrations/0002_tap_schema.sql"),
    ),
    (3, "jobs", include_str!("../../../../migrations/0003_jobs.sql")),
    (
        4,
        "job_names",
        include_str!("../../../../migrations/0004_job_names.sql"),
    ),
    (
        5,
        "job_uploads",
        include_str!("../../../../migrations/0005_job_uploads.sql"),
    ),
    (
        6,
        "job_progress",
        include_str!("../../../../migrations/0006_job_progress.sql"),
    ),
    (
        7,
        "identity",
        include_str!("../../../../migrations/0007_identity.sql"),
    ),
    (
        8,
        "restricted",
        include_str!("../../../../migrations/0008_restricted.sql"),
    ),
];

/// Advisory lock keys (arbitrary constants: "tapir" plus a number).
pub(crate) const LOCK_MIGRATE: i64 = 0x7461_7069_7200_0001;
pub(crate) const LOCK_LOAD: i64 = 0x7461_7069_7200_0002;

/// Who we are to the database, which decides what failing to set something up means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Our own cluster, as superuser: everything must work.
    Embedded,
    /// An operator's database with whatever privileges we were given: the optional parts
    /// (the query role, grants) are skipped with a warning when not permitted. pgSphere is
    /// not optional: without it the start fails with what the administrator must do.
    Operator,
}

/// Everything a database needs before Tapir serves it: pgSphere, the migrations, the query
/// role and its read access to the published schemas.
pub(crate) async fn prepare(client: &Client, mode: Mode) -> Result<(), DbError> {
    ensure_pgsphere(client).await?;
    migrate(client).await?;
    match ensure_query_role(client).await {
        Ok(()) => grant_published(client).await?,
        Err(e) if mode == Mode::Operator => tracing::warn!(
            "cannot set up the query role {QUERY_ROLE} ({e}); queries will run with Tapir's own \
             privileges. Ask the database administrator to run: CREATE ROLE {QUERY_ROLE} NOLOGIN; \
             GRANT {QUERY_ROLE} TO <tapir's user>"
        ),
        Err(e) => return Err(e),
    }
    Ok(())
}

/// Apply the migrations not yet recorded; returns the versions applied now.
pub(crate) async fn migrate(client: &Client) -> Result<Vec<i32>, DbError> {
    client.batch_execute("BEGIN").await?;
    let result = migrate_in_transaction(client).await;
    finish(client, result).await
}

async fn migrate_in_transaction(client: &Client) -> Result<Vec<i32>, DbError> {
    client
        .execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_MIGRATE])
        .await
        .map_err(DbError::query("cannot take the migration lock"))?;
    // Check before creating: CREATE ... IF NOT EXISTS still demands the privilege to create,
    // which a database user that was given the schema may lack.
    let has_schema = client
        .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = 'tapir'", &[])
        .await?
        .is_some();
    if !has_schema {
        client.batch_execute("CREATE SCHEMA tapir").await.map_err(|e| {
            DbError::Setup(format!(
                "cannot create Tapir's schema `tapir` ({}): grant CREATE on the database to Tapir's \
                 user, or create the schema for it (CREATE SCHEMA tapir AUTHORIZATION <user>)",
                describe(&e)
            ))
        })?;
    }
    let has_table = client
        .query_one("SELECT to_regclass('tapir.migrations') IS NOT NULL", &[])
        .await?
        .get::<_, bool>(0);
    if !has_table {
        client
            .batch_execute(
                "CREATE TABLE tapir.migrations (
                     version integer PRIMARY KEY,
                     name text NOT NULL,
                     applied_at timestamptz NOT NULL DEFAULT now()
                 )",
            )
            .await
            .map_err(DbError::query("cannot create tapir.migrations"))?;
    }
    let applied: Vec<i32> = client
        .query("SELECT version FROM tapir.migrations", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let newest_known = MIGRATIONS.iter().map(|m| m.0).max().unwrap_or(0);
    if let Some(newer) = applied.iter().copied().filter(|v| *v > newest_known).max() {
        tracing::warn!(
            "the database has Tapir migration {newer}, newer than this Tapir knows ({newest_known}): \
             is an older Tapir running against a newer database?"
        );
    }
    let mut done = Vec::new();
    for (version, name, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        tracing::info!("applying migration {version:04} ({name})");
        client
            .batch_execute(sql)
            .await
            .map_err(DbError::query(format!("migration {version:04} ({name}) failed")))?;
        client
            .execute(
                "INSERT INTO tapir.migrations (version, name) VALUES ($1, $2)",
                &[version, name],
            )
            .await?;
        done.push(*version);
    }
    Ok(done)
}

/// COMMIT after success, ROLLBACK after failure, and hand the result on.
pub(crate) async fn finish<T>(client: &Client, result: Result<T, DbError>) -> Result<T, DbError> {
    match result {
        Ok(value) => {
            client
                .batch_execute("COMMIT")
                .await
                .map_err(DbError::query("COMMIT failed"))?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) = client.batch_execute("ROLLBACK").await {
                tracing::warn!("ROLLBACK failed: {}", describe(&rollback));
            }
            Err(e)
        }
    }
}

/// pgSphere provides the geometry of ADQL. The embedded cluster has created it already
/// (repairing what it can); in an operator's database we create it if we may, and otherwise
/// refuse to start with what the administrator must do ([`pgsphere::explain`]).
async fn ensure_pgsphere(client: &Client) -> Result<(), DbError> {
    if pgsphere::present(client).await? {
        return Ok(());
    }
    match pgsphere::create(client).await {
        Ok(()) => {
            tracing::info!("created the pg_sphere extension");
            Ok(())
        }
        Err(e) => Err(pgsphere::explain(client, &e).await),
    }
}

/// Create [`QUERY_ROLE`] (NOLOGIN) if missing and make Tapir's user a member, so that
/// `SET LOCAL ROLE` works. PostgreSQL before 16 does not make a role's creator a member.
pub(crate) async fn ensure_query_role(client: &Client) -> Result<(), DbError> {
    super::access::ensure_role(client, QUERY_ROLE, &[]).await
}

/// Give [`QUERY_ROLE`] read access to TAP_SCHEMA and to every schema it lists. Each grant is
/// its own statement, so one refused grant (an operator's schema we do not own) costs only a
/// warning.
pub(crate) async fn grant_published(client: &Client) -> Result<(), DbError> {
    let schemas = published_schemas(client).await?;
    for schema in &schemas {
        grant_schema(client, schema).await;
    }
    // GRANT ... ON ALL TABLES only warns about tables Tapir's user does not own: count them.
    let unreadable: Vec<String> = client
        .query(
            "SELECT n.nspname || '.' || c.relname
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'v', 'm', 'f', 'p')
               AND NOT has_table_privilege($2, c.oid, 'SELECT')
             ORDER BY 1",
            &[&schemas, &QUERY_ROLE],
        )
        .await
        .map_err(DbError::query("cannot check the query role's privileges"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if !unreadable.is_empty() {
        tracing::warn!(
            "role {QUERY_ROLE} cannot read {} table(s) in the published schemas, e.g. {}: their owner \
             must GRANT SELECT ON them TO {QUERY_ROLE}",
            unreadable.len(),
            unreadable.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
        );
    }
    Ok(())
}

/// USAGE on the schema and SELECT on its tables, warning instead of failing; what
/// `tapir.restricted` lists is left out (one simple-query batch is one transaction, so a
/// restricted table is never readable in between).
pub(crate) async fn grant_schema(client: &Client, schema: &str) {
    let quoted = quote_ident(schema);
    let restricted = match super::access::restricted_in(client, schema).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("cannot read tapir.restricted, not granting schema {schema}: {e}");
            return;
        }
    };
    if restricted.whole_schema {
        return;
    }
    let mut sql = format!(
        "GRANT USAGE ON SCHEMA {quoted} TO {QUERY_ROLE}; \
         GRANT SELECT ON ALL TABLES IN SCHEMA {quoted} TO {QUERY_ROLE};"
    );
    for table in &restricted.tables {
        sql.push_str(&format!(
            "REVOKE SELECT ON {quoted}.{} FROM {QUERY_ROLE};",
            quote_ident(table)
        ));
    }
    if let Err(e) = client.batch_execute(&sql).await {
        tracing::warn!(
            "cannot give {QUERY_ROLE} read access to schema {schema}: {}",
            describe(&e)
        );
    }
}

/// The physical schemas TAP_SCHEMA publishes, TAP_SCHEMA's own included. Names in
/// TAP_SCHEMA.schemas are matched exactly, or else case-insensitively when that is unique.
async fn published_schemas(client: &Client) -> Result<Vec<String>, DbError> {
    let Some(ts) = read::locate(client).await? else {
        return Ok(Vec::new());
    };
    let physical: Vec<String> = client
        .query(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' \
             AND nspname <> 'information_schema'",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let listed: Vec<String> = match client
        .query(
            &format!(
                "SELECT schema_name::text FROM {}.{}",
                quote_ident(&ts.schema),
                quote_ident(&ts.schemas)
            ),
            &[],
        )
        .await
    {
        Ok(rows) => rows
            .iter()
            .filter_map(|r| r.get::<_, Option<String>>(0))
            .collect(),
        Err(e) => {
            tracing::warn!("cannot read TAP_SCHEMA.schemas: {}", describe(&e));
            Vec::new()
        }
    };
    let mut out = vec![ts.schema.clone()];
    for name in listed {
        let found = if physical.contains(&name) {
            Some(name.clone())
        } else {
            let ci: Vec<&String> = physical
                .iter()
                .filter(|p| p.eq_ignore_ascii_case(&name))
                .collect();
            match ci.as_slice() {
                [one] => Some((*one).clone()),
                _ => None,
            }
        };
        match found {
            Some(s) if !out.contains(&s) => out.push(s),
            Some(_) => {}
            None => tracing::debug!("TAP_SCHEMA.schemas lists {name}, which is not a schema here"),
        }
    }
    Ok(out)
}

/// Quote an SQL string literal.
pub(crate) fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}
