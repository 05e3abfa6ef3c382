//! The database side: the embedded cluster, Tapir's schema, the demo and benchmark
//! catalogues, and reading TAP_SCHEMA.
//!
//! Two ways to run:
//! * **embedded** (`database.url` empty): Tapir starts a private PostgreSQL from the machine's
//!   binaries in `data_dir/pg`, listening on a Unix socket only, and loads the demo catalogue
//!   the first time ([`embedded`]);
//! * **operator** (`database.url` set): Tapir connects to an existing database and only adds its
//!   own schema `tapir` (plus TAP_SCHEMA when there is none) and the read-only [`QUERY_ROLE`].
//!
//! Either way [`migrate::prepare`] applies the SQL files of the top-level `migrations/`
//! directory under an advisory lock, so several Tapir processes may start at once.

pub(crate) mod access;
mod bench;
mod catalogue;
mod demo;
mod embedded;
mod migrate;
mod pgsphere;
mod read;

#[cfg(test)]
mod tests;

use std::time::Duration;

use tokio_postgres::NoTls;

use crate::config::Config;

pub(crate) use migrate::finish as finish_transaction;
pub use read::read_tap_schema;

/// The role user queries run as (`SET LOCAL ROLE`): it can read the catalogue, never write it.
pub const QUERY_ROLE: &str = "tapir_query";

/// What can go wrong on the database side.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Setup(String),
    /// The message includes PostgreSQL's detail and hint: a bare "db error" helps no one.
    #[error("database: {}", describe(.0))]
    Postgres(tokio_postgres::Error),
    /// A failed statement, with what Tapir was doing at the time.
    #[error("{context}: {}", describe(.source))]
    Query {
        context: String,
        source: tokio_postgres::Error,
    },
}

impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> Self {
        DbError::Postgres(e)
    }
}

impl DbError {
    /// Whether the failure is the connection's (the server went away, a socket error) rather
    /// than a statement the server refused: the database is unavailable, nobody erred.
    pub fn is_connection(&self) -> bool {
        match self {
            DbError::Setup(_) => false,
            DbError::Postgres(e) | DbError::Query { source: e, .. } => e.as_db_error().is_none(),
        }
    }

    /// Wrap a PostgreSQL error with what was being done.
    pub(crate) fn query(context: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> DbError {
        let context = context.into();
        move |source| DbError::Query { context, source }
    }
}

/// Quote an SQL identifier (a doubled `"` stands for one): the one way Tapir writes a name it
/// did not choose itself (a schema, a table, a column, a role) into a statement.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// PostgreSQL's own words for an error: message, detail and hint for server errors, the
/// whole cause chain for connection errors (tokio-postgres' `Display` says only "db error").
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = db.message().to_string();
        if let Some(detail) = db.detail() {
            s.push_str(&format!(" ({detail})"));
        }
        if let Some(hint) = db.hint() {
            s.push_str(&format!("; hint: {hint}"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        s.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    s
}

/// The database Tapir serves: an operator's server, or the embedded cluster it started.
pub struct Database {
    /// A libpq-style connection string or URL that tokio-postgres accepts. For the embedded
    /// cluster: `host=<socket dir> port=5432 user=postgres dbname=tapir`.
    pub url: String,
    embedded: Option<embedded::Cluster>,
}

impl Database {
    /// Connect to `database.url`, or start the embedded cluster (with the demo catalogue)
    /// when it is empty; apply Tapir's migrations either way.
    pub async fn open(config: &Config) -> Result<Database, DbError> {
        let url = config.database.url.trim();
        if url.is_empty() {
            // The cluster stops itself when dropped, so an error below leaves nothing running.
            let mut cluster = embedded::Cluster::start(config).await?;
            cluster.ensure_pgsphere(config.database.pgsphere_fix).await?;
            let database = Database {
                url: cluster.url(),
                embedded: Some(cluster),
            };
            let client = database.admin_client().await?;
            migrate::prepare(&client, migrate::Mode::Embedded).await?;
            demo::load_if_missing(&client).await?;
            Ok(database)
        } else {
            let database = Database {
                url: url.to_string(),
                embedded: None,
            };
            let client = database.admin_client().await?;
            migrate::prepare(&client, migrate::Mode::Operator).await?;
            Ok(database)
        }
    }

    /// A connection pool of `size` connections.
    pub fn pool(&self, size: usize) -> Result<deadpool_postgres::Pool, DbError> {
        self.pool_named(size, None)
    }

    /// A connection pool whose connections carry `application_name` (visible in
    /// `pg_stat_activity`, which is how the queries of a dead process's jobs are found).
    pub fn pool_named(
        &self,
        size: usize,
        application_name: Option<&str>,
    ) -> Result<deadpool_postgres::Pool, DbError> {
        let mut pg = self.pg_config()?;
        if let Some(name) = application_name {
            pg.application_name(name);
        }
        let manager = deadpool_postgres::Manager::from_config(
            pg,
            NoTls,
            deadpool_postgres::ManagerConfig {
                recycling_method: deadpool_postgres::RecyclingMethod::Fast,
            },
        );
        deadpool_postgres::Pool::builder(manager)
            .max_size(size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            // A server that is down must surface as an error, not as requests hanging forever.
            .create_timeout(Some(Duration::from_secs(15)))
            .build()
            .map_err(|e| DbError::Setup(format!("cannot create the connection pool: {e}")))
    }

    /// A dedicated connection with Tapir's own privileges (not [`QUERY_ROLE`]'s), for
    /// administrative work: loading catalogues, the job store, reading TAP_SCHEMA.
    pub async fn admin_client(&self) -> Result<tokio_postgres::Client, DbError> {
        let pg = self.pg_config()?;
        let (client, connection) = pg.connect(NoTls).await.map_err(|e| {
            DbError::Setup(format!(
                "cannot connect to {}: {}",
                self.describe_target(),
                describe(&e)
            ))
        })?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("database connection ended: {}", describe(&e));
            }
        });
        Ok(client)
    }

    /// Stop the embedded cluster cleanly (no-op for an operator's database).
    pub async fn shutdown(mut self) {
        if let Some(cluster) = self.embedded.take() {
            cluster.stop().await;
        }
    }

    pub fn pg_config(&self) -> Result<tokio_postgres::Config, DbError> {
        let mut pg: tokio_postgres::Config = self
            .url
            .parse()
            .map_err(|e| DbError::Setup(format!("database.url is not a valid PostgreSQL URL: {e}")))?;
        if pg.get_application_name().is_none() {
            pg.application_name("tapir");
        }
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(Duration::from_secs(10));
        }
        Ok(pg)
    }

    /// Where we connect, for error messages: never the password.
    fn describe_target(&self) -> String {
        match self.pg_config() {
            Ok(pg) => {
                let hosts: Vec<String> = pg
                    .get_hosts()
                    .iter()
                    .map(|h| match h {
                        tokio_postgres::config::Host::Tcp(name) => name.clone(),
                        tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
                    })
                    .collect();
                format!(
                    "database {} on {} as {}",
                    pg.get_dbname().unwrap_or("(default)"),
                    if hosts.is_empty() {
                        "localhost".to_string()
                    } else {
                        hosts.join(",")
                    },
                    pg.get_user().unwrap_or("(default user)")
                )
            }
            Err(_) => "the database".to_string(),
        }
    }
}

/// Create (or refresh) the demo catalogue and its TAP_SCHEMA rows.
pub async fn load_demo(client: &tokio_postgres::Client) -> Result<(), DbError> {
    demo::load(client).await
}

/// Build `bench.objects` with `rows` rows per BENCH-DATA.md, its GiST index, and ANALYZE.
pub async fn load_bench(client: &tokio_postgres::Client, rows: u64) -> Result<(), DbError> {
    bench::load(client, rows).await
}
