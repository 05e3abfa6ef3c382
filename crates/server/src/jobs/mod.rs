//! Asynchronous UWS jobs: the store in PostgreSQL, the event hub, the worker pool, and the
//! maintenance tasks (heartbeat, recovery of dead processes' jobs, the reaper).
//!
//! Several Tapir processes may share one database: jobs are claimed with `FOR UPDATE SKIP
//! LOCKED`, phase changes are announced with NOTIFY, each process keeps a heartbeat, and the
//! reaper runs under an advisory lock. Result files live in one directory that such processes
//! must share.

pub mod hub;
mod maintenance;
pub mod quote;

pub mod uploads;
mod worker;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::watch;

use crate::config::Config;
use crate::db::{Database, DbError};
use crate::job_store as store;
use crate::tap::{Service, TapError};
pub use hub::Hub;

/// The async side of one process.
pub struct Jobs {
    /// Job store statements (UWS requests, workers' bookkeeping, maintenance) and the results
    /// directory; the query side holds a clone of it (`Service::job_store`).
    pub store: store::JobStore,
    /// The connections jobs' queries run on: one per worker, apart from /sync's.
    pub query_pool: deadpool_postgres::Pool,
    pub hub: Arc<Hub>,
    /// This process in `tapir.processes` and in the jobs it executes.
    pub process_id: String,
    /// Durations and retention of anonymous jobs.
    pub policy: uws::Policy,
    /// The same for the jobs of authenticated users, whose retention is
    /// `jobs.user_retention_secs` (0: until the user deletes them).
    pub user_policy: uws::Policy,
    shutdown: watch::Sender<bool>,
    workers: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Jobs {
    pub fn new(config: &Config, database: &Database) -> Result<Jobs, DbError> {
        let j = &config.jobs;
        let results_dir = j.results_dir(&config.server.data_dir);
        std::fs::create_dir_all(&results_dir).map_err(|e| {
            DbError::Setup(format!(
                "cannot create the results directory {}: {e}",
                results_dir.display()
            ))
        })?;
        let process_id = new_id();
        Ok(Jobs {
            // Workers claim and finish through the store too: they get connections of their own.
            store: store::JobStore::new(
                database.pool(config.database.async_pool + j.workers)?,
                results_dir,
            ),
            query_pool: database.pool_named(j.workers, Some(&store::worker_application_name(&process_id)))?,
            hub: Arc::new(Hub::default()),
            process_id,
            policy: uws::Policy {
                duration_default_secs: j.duration_default_secs,
                duration_max_secs: j.duration_max_secs,
                retention_default_secs: j.retention_default_secs,
                retention_max_secs: j.retention_max_secs,
            },
            user_policy: uws::Policy {
                duration_default_secs: j.duration_default_secs,
                duration_max_secs: j.duration_max_secs,
                retention_default_secs: user_retention(j.user_retention_secs),
                retention_max_secs: user_retention(j.user_retention_secs),
            },
            shutdown: watch::channel(false).0,
            workers: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// The policy for a job with an owner (an authenticated user's) or without.
    pub fn policy_for(&self, owned: bool) -> &uws::Policy {
        if owned {
            &self.user_policy
        } else {
            &self.policy
        }
    }

    /// Remove whatever files a job left (its result under either name, a partial result, the
    /// result's compressed copies and their partial files).
    pub async fn remove_files(&self, id: &str) {
        let dir = self.results_dir();
        remove_quietly(&dir.join(id)).await;
        remove_quietly(&dir.join(format!("{id}{GZIP_SUFFIX}"))).await;
        remove_quietly(&part_path(dir, id)).await;
        for coding in [crate::coding::Coding::Zstd, crate::coding::Coding::Gzip] {
            remove_quietly(&dir.join(crate::coding::copy_temp_name(id, coding))).await;
            remove_quietly(&dir.join(crate::coding::copy_name(id, coding))).await;
        }
    }

    /// Where finished results are kept.
    pub fn results_dir(&self) -> &Path {
        self.store.results_dir()
    }

    /// A job-store connection, or 503 "the job store is not reachable": the one way every
    /// request, upload and task gets one, so an outage reads the same everywhere and is never
    /// taken for the user's mistake.
    pub async fn connection(&self) -> Result<deadpool_postgres::Object, TapError> {
        Ok(self.store.connection().await?)
    }

    /// Resolves when the process is shutting down (for requests that block).
    pub fn shutting_down(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }
}

/// The name a gzip-encoded result is stored under: its encoding travels with the file.
const GZIP_SUFFIX: &str = ".gz";

/// An authenticated user's job is kept "until the user deletes it" (the Gaia archive's
/// promise) as a destruction a thousand years on: UWS needs an instant, and the reaper never
/// reaches it.
const KEPT_UNTIL_DELETED_SECS: u64 = 1000 * 365 * 86_400;

fn user_retention(configured_secs: u64) -> u64 {
    if configured_secs == 0 {
        KEPT_UNTIL_DELETED_SECS
    } else {
        configured_secs
    }
}

/// The file name of a job's finished result in the results directory: the job id, plus `.gz`
/// when the format's writer compresses its output (`votable_gzip`), so that `results/result`
/// knows to send the file with `Content-Encoding: gzip` ([`stored_encoding`]) and an upload of
/// the result knows to decompress it, without a column of its own in the job store.
pub fn result_file(id: &str, format: votable::Format) -> String {
    match format.content_encoding() {
        Some("gzip") => format!("{id}{GZIP_SUFFIX}"),
        _ => id.to_string(),
    }
}

/// The `Content-Encoding` of a stored result, from its file name ([`result_file`]).
pub fn stored_encoding(file: &str) -> Option<&'static str> {
    file.ends_with(GZIP_SUFFIX).then_some("gzip")
}

/// Where a job's result is written before it is complete.
fn part_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.part"))
}

async fn remove_quietly(path: &Path) {
    if let Err(e) = tokio::fs::remove_file(path).await {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!("cannot remove {}: {e}", path.display());
        }
    }
}

/// A fresh unguessable job (or process) id.
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No system randomness: fall back on time and a counter, still unique per process.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed) as u128;
        bytes = (nanos ^ (n << 64) ^ u128::from(std::process::id())).to_le_bytes();
    }
    uws::job_id_from_bytes(bytes)
}

/// Start the listener, the workers and the maintenance tasks.
pub async fn start(
    state: &Arc<Service>,
    jobs: &Arc<Jobs>,
    pg: tokio_postgres::Config,
) -> Result<(), DbError> {
    {
        let client = jobs
            .store
            .connection()
            .await
            .map_err(|e| DbError::Setup(format!("cannot start the job workers: {e}")))?;
        store::heartbeat(&client, &jobs.process_id).await?;
        let n = store::recover(
            &client,
            state.config.jobs.lease_secs,
            state.config.jobs.requeue_on_crash,
        )
        .await?;
        if n > 0 {
            tracing::warn!(jobs = n, "ended the jobs of Tapir processes that stopped");
        }
    }
    hub::spawn_listener(Arc::clone(&jobs.hub), pg);
    let mut handles = Vec::new();
    for n in 0..state.config.jobs.workers {
        handles.push(tokio::spawn(worker::run(Arc::clone(state), Arc::clone(jobs), n)));
    }
    maintenance::spawn(state.config.jobs.clone(), Arc::clone(jobs));
    tracing::info!(
        workers = state.config.jobs.workers,
        process = %jobs.process_id,
        results = %jobs.results_dir().display(),
        "async job workers started"
    );
    *jobs.workers.lock().unwrap_or_else(|p| p.into_inner()) = handles;
    Ok(())
}

/// Stop taking jobs, cancel the running ones, and record them as ended by the shutdown.
pub async fn stop(jobs: &Jobs, config: &Config) {
    let _ = jobs.shutdown.send(true);
    jobs.hub.stop_all();
    let handles = std::mem::take(&mut *jobs.workers.lock().unwrap_or_else(|p| p.into_inner()));
    for h in handles {
        let _ = h.await;
    }
    match jobs.store.connection().await {
        Ok(client) => match store::retire(&client, &jobs.process_id, config.jobs.requeue_on_crash).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "jobs still running at shutdown were ended"),
            Err(e) => tracing::warn!("cannot record the jobs ended by the shutdown: {e}"),
        },
        Err(e) => tracing::warn!("cannot reach the job store at shutdown: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_results_carry_their_encoding_in_the_name() {
        assert_eq!(result_file("abc", votable::Format::VOTableGzip), "abc.gz");
        assert_eq!(result_file("abc", votable::Format::Ecsv), "abc");
        assert_eq!(stored_encoding("abc.gz"), Some("gzip"));
        assert_eq!(stored_encoding("abc"), None);
    }
}
