//! Creating pgSphere, and saying exactly what to do when it cannot be created.
//!
//! ADQL's geometry (POINT, CIRCLE, CONTAINS, DISTANCE, uploads of positions) is pgSphere, so
//! Tapir does not start without it: a service that advertises geometry and fails every cone
//! search is worse than one that refuses to start with the fix in its message. The embedded
//! cluster repairs the one known incompatibility itself (`embedded::Cluster::ensure_pgsphere`);
//! an operator's database is never changed beyond `CREATE EXTENSION`, so there the message
//! names the statements a database administrator has to run.

use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::migrate::LOCK_MIGRATE;
use super::{describe, DbError};

/// Whether pgSphere is already in the database.
pub(crate) async fn present(client: &Client) -> Result<bool, DbError> {
    Ok(client
        .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'pg_sphere'", &[])
        .await
        .map_err(DbError::query("cannot list the extensions"))?
        .is_some())
}

/// `CREATE EXTENSION pg_sphere` under the migration lock (several Tapir processes may start
/// at once). The error is PostgreSQL's own, for [`is_commutator_clash`] and [`explain`].
pub(crate) async fn create(client: &Client) -> Result<(), tokio_postgres::Error> {
    client.batch_execute("BEGIN").await?;
    let created = async {
        client
            .execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_MIGRATE])
            .await?;
        client
            .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_sphere")
            .await
    }
    .await;
    match created {
        Ok(()) => client.batch_execute("COMMIT").await,
        Err(e) => {
            // The first error is the one that matters; a failed ROLLBACK only gets a line.
            if let Err(rollback) = client.batch_execute("ROLLBACK").await {
                tracing::warn!("ROLLBACK failed: {}", describe(&rollback));
            }
            Err(e)
        }
    }
}

/// Whether creating pgSphere failed on the commutator clash of pgSphere 1.2.0 with
/// PostgreSQL 15.20 and later (see `pginstall::pgsphere`).
pub(crate) fn is_commutator_clash(e: &tokio_postgres::Error) -> bool {
    e.as_db_error()
        .is_some_and(|db| pginstall::pgsphere::is_commutator_clash(db.code().code(), db.message()))
}

/// What failed and what to do about it, for a database Tapir may not repair itself.
pub(crate) async fn explain(client: &Client, e: &tokio_postgres::Error) -> DbError {
    let (database, user, version) = match client
        .query_one(
            "SELECT current_database(), current_user, current_setting('server_version')",
            &[],
        )
        .await
    {
        Ok(row) => (
            row.get::<_, String>(0),
            row.get::<_, String>(1),
            row.get::<_, String>(2),
        ),
        Err(_) => ("<database>".into(), "<user>".into(), "?".into()),
    };
    DbError::Setup(advice(Failure::of(e), &describe(e), &database, &user, &version))
}

/// Why `CREATE EXTENSION pg_sphere` failed, as far as the advice differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// pgSphere 1.2.0 on PostgreSQL 15.20 or later.
    Clash,
    /// The extension's files are not on the database server.
    NotInstalled,
    /// Tapir's user is not a superuser.
    NotPermitted,
    Other,
}

impl Failure {
    fn of(e: &tokio_postgres::Error) -> Failure {
        if is_commutator_clash(e) {
            return Failure::Clash;
        }
        match e.code() {
            Some(c) if *c == SqlState::UNDEFINED_FILE || *c == SqlState::UNDEFINED_OBJECT => {
                Failure::NotInstalled
            }
            Some(c) if *c == SqlState::INSUFFICIENT_PRIVILEGE => Failure::NotPermitted,
            _ => Failure::Other,
        }
    }
}

/// The message of [`explain`]: PostgreSQL's words (`detail`), then what to do.
fn advice(failure: Failure, detail: &str, database: &str, user: &str, version: &str) -> String {
    let major = version.split(['.', ' ']).next().unwrap_or("15");
    let create = format!("CREATE EXTENSION pg_sphere; in database {database}");
    let ending = "Tapir needs pgSphere for ADQL geometry and does not start without it";
    match failure {
        Failure::Clash => {
            let statements = pginstall::pgsphere::OBSOLETE_OPERATORS
                .iter()
                .map(|(left, right)| format!("CREATE OPERATOR @ (LEFTARG = {left}, RIGHTARG = {right}, ...)"))
                .collect::<Vec<_>>()
                .join(" and ");
            format!(
                "cannot create the pg_sphere extension: {detail}. PostgreSQL {version} refuses the \
                 install script of pgSphere 1.2.0 (Debian 12's postgresql-{major}-pgsphere), which \
                 declares two obsolete operators. On the database server, either install pgSphere 1.4 \
                 or newer, or leave the statements {statements} out of the pg_sphere--*.sql scripts in \
                 PostgreSQL's extension directory (`pg_config --sharedir`/extension); then, as a \
                 superuser, run {create}. {ending} (see README, Troubleshooting)"
            )
        }
        Failure::NotInstalled => format!(
            "pgSphere is not installed on the database server ({detail}). Install it there \
             (Debian/Ubuntu: apt-get install postgresql-{major}-pgsphere), then, as a superuser, run \
             {create}. {ending}"
        ),
        Failure::NotPermitted => format!(
            "Tapir's database user {user} may not create the pg_sphere extension ({detail}): pgSphere \
             must be created by a superuser. Have one run {create}. {ending}"
        ),
        Failure::Other => format!("cannot create the pg_sphere extension: {detail}. {ending}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_names_the_fix_for_each_failure() {
        let clash = advice(
            Failure::Clash,
            "commutator operator @> is already the commutator of operator <@",
            "archive",
            "tapir",
            "15.20 (Debian 15.20-0+deb12u1)",
        );
        for needle in [
            "PostgreSQL 15.20 (Debian 15.20-0+deb12u1) refuses",
            "postgresql-15-pgsphere",
            "pgSphere 1.4 or newer",
            "CREATE OPERATOR @ (LEFTARG = bigint, RIGHTARG = smoc, ...) and CREATE OPERATOR @ (LEFTARG = spoint, RIGHTARG = smoc, ...)",
            "CREATE EXTENSION pg_sphere; in database archive",
        ] {
            assert!(clash.contains(needle), "{needle:?} in {clash}");
        }
        let missing = advice(
            Failure::NotInstalled,
            "could not open extension control file",
            "archive",
            "tapir",
            "16.4",
        );
        assert!(
            missing.contains("apt-get install postgresql-16-pgsphere"),
            "{missing}"
        );
        assert!(
            missing.contains("could not open extension control file"),
            "{missing}"
        );
        let denied = advice(
            Failure::NotPermitted,
            "permission denied",
            "archive",
            "reader",
            "15.18",
        );
        assert!(
            denied.contains("Tapir's database user reader may not create"),
            "{denied}"
        );
        assert!(
            denied.contains("CREATE EXTENSION pg_sphere; in database archive"),
            "{denied}"
        );
        let other = advice(
            Failure::Other,
            "out of shared memory",
            "archive",
            "tapir",
            "15.18",
        );
        assert!(
            other.contains("out of shared memory") && other.contains("does not start"),
            "{other}"
        );
    }
}
