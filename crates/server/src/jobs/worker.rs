//! A worker: claim the oldest QUEUED job, run its query into a result file, record the end.
//!
//! Workers sleep on the hub until a job is queued (NOTIFY), with a slow poll as a safety net.
//! A job's query runs with `statement_timeout` = its executionDuration, so the database itself
//! enforces the limit; an abort or deletion (from any process) cancels it through the hub.
//! The result is written to `<id>.part` and renamed to `<id>` only once complete, so a partial
//! result is never served.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::uploads;
use super::{part_path, remove_quietly, Jobs};
use crate::exec::file::{run_to_file, FileOutcome};
use crate::exec::{Outcome, Progress};
use crate::job_store::{self as store, Claimed, Finish, StoredResult};
use crate::tap::pipeline;
use crate::tap::Params;
use crate::tap::Service;
use crate::upload;

/// How often an idle worker looks for work even without a notification.
const POLL: Duration = Duration::from_secs(2);

/// Run jobs until the process shuts down.
pub async fn run(state: Arc<Service>, jobs: Arc<Jobs>, n: usize) {
    let mut shutdown = jobs.shutting_down();
    let running_limits = crate::tap::limits::RunningLimits::new(&state.config);
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Registered before looking, so a job queued in between still wakes us.
        let queued = jobs.hub.queued.notified();
        tokio::pin!(queued);
        queued.as_mut().enable();
        let claimed = match jobs.store.connection().await {
            Ok(client) => store::claim(&client, &jobs.process_id, &running_limits).await,
            Err(e) => Err(crate::db::DbError::Setup(e.to_string())),
        };
        match claimed {
            Ok(Some(job)) => {
                run_job(&state, &jobs, job).await;
                continue;
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(worker = n, "cannot claim a job: {e}");
            }
        }
        tokio::select! {
            _ = &mut queued => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// How a job ended, from this worker's point of view.
enum Ended {
    Completed(StoredResult),
    Error(String),
    /// Aborted or deleted meanwhile (or the process is stopping): nothing to record here.
    Stopped,
}

async fn run_job(state: &Arc<Service>, jobs: &Arc<Jobs>, job: Claimed) {
    let started = Instant::now();
    jobs.hub.started(&job.id);
    let ended = execute(state, jobs, &job).await;
    jobs.hub.finished(&job.id);
    let (label, rows, bytes) = match &ended {
        Ended::Completed(r) if r.overflow => ("overflow", r.rows, r.bytes),
        Ended::Completed(r) => ("ok", r.rows, r.bytes),
        Ended::Error(_) => ("error", 0, 0),
        Ended::Stopped => ("cancelled", 0, 0),
    };
    state
        .metrics
        .query_finished(label, started.elapsed(), rows, bytes);
    tracing::info!(job = %job.id, outcome = label, rows, bytes, ms = started.elapsed().as_millis() as u64, "async job finished");
    let how = match &ended {
        Ended::Completed(r) => Finish::Completed(r),
        Ended::Error(m) => Finish::Error(m),
        Ended::Stopped => {
            jobs.remove_files(&job.id).await;
            return;
        }
    };
    let recorded = match jobs.store.connection().await {
        Ok(client) => store::finish(&client, &job.id, &jobs.process_id, how).await,
        Err(e) => Err(crate::db::DbError::Setup(e.to_string())),
    };
    match recorded {
        Ok(true) => {
            if let Ended::Completed(r) = &ended {
                store_copies(&state.config.compression, jobs, r);
            }
        }
        // Aborted or deleted while it ran: the result belongs to no one.
        Ok(false) => jobs.remove_files(&job.id).await,
        Err(e) => {
            // The job stays EXECUTING under our heartbeat; the shutdown or recovery ends it.
            tracing::error!(job = %job.id, "cannot record the end of the job: {e}");
            jobs.remove_files(&job.id).await;
        }
    }
}

/// Compressed copies are written one job at a time: finishing jobs must not take every core
/// from the queries.
static COPIES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// The compressed copies of a completed result, in the background after the job is recorded
/// COMPLETED (`coding::write_copies` says why). Not for results that are small, already
/// encoded (`votable_gzip`) or of a compact type (Parquet): those are sent as they are.
fn store_copies(c: &crate::config::CompressionConfig, jobs: &Jobs, r: &StoredResult) {
    if !c.store_copies
        || r.bytes < c.min_bytes
        || super::stored_encoding(&r.file).is_some()
        || crate::coding::compact(&r.mime)
    {
        return;
    }
    let (dir, file, c) = (jobs.results_dir().to_path_buf(), r.file.clone(), c.clone());
    tokio::spawn(async move {
        let Ok(_turn) = COPIES.acquire().await else { return };
        let written = tokio::task::spawn_blocking(move || crate::coding::write_copies(&dir, &file, &c)).await;
        if let Err(e) = written {
            tracing::warn!("the compressed copies of a result were not written: {e}");
        }
    });
}

/// The stored files of the job's inline uploads, as the file parts of its parameters.
async fn with_stored_files(
    state: &Service,
    jobs: &Jobs,
    job: &Claimed,
    params: &mut Params,
) -> Result<(), String> {
    let inline = params
        .all("UPLOAD")
        .any(|u| u.to_ascii_lowercase().contains("param:"));
    if !inline {
        return Ok(());
    }
    let client = jobs.store.connection().await.map_err(|e| e.to_string())?;
    params.file_parts = uploads::all(&client, &job.id, || state.spool_path())
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// A failure, unless the job was stopped (aborted, deleted) meanwhile, which caused it.
fn failed(stopped: bool, message: String) -> Ended {
    if stopped {
        Ended::Stopped
    } else {
        Ended::Error(message)
    }
}

/// How often an executing job's progress is written to the store (when it changed): twice a
/// second, so that the job document is never more than a second behind.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(500);

/// Copy the progress of a running job into the store until aborted: one small UPDATE per
/// interval at most, none while nothing changes.
fn report_progress(jobs: Arc<Jobs>, id: String, progress: Arc<Progress>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PROGRESS_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last = None;
        loop {
            tick.tick().await;
            let now = (progress.rows(), progress.bytes());
            if last == Some(now) {
                continue;
            }
            let Ok(client) = jobs.store.connection().await else {
                continue;
            };
            match store::set_progress(&client, &id, now.0, now.1).await {
                Ok(true) => last = Some(now),
                Ok(false) => return,
                Err(e) => tracing::debug!(job = %id, "progress not recorded: {e}"),
            }
        }
    })
}

async fn execute(state: &Arc<Service>, jobs: &Arc<Jobs>, job: &Claimed) -> Ended {
    let mut params = Params::from_pairs(job.params.clone());
    // A request that cannot run ends here, before its stored files are read.
    if let Err(e) = crate::tap::query_request(state, &params) {
        return Ended::Error(e.message);
    }
    if let Err(message) = with_stored_files(state, jobs, job, &mut params).await {
        return Ended::Error(message);
    }
    // The owner's groups as they are now (an anonymous job needs no look-up).
    let caller = match job.owner.as_deref() {
        None => crate::identity::Caller::Anonymous,
        Some(owner) => match jobs.connection().await {
            Ok(c) => match crate::identity::caller_of_owner(&c, owner).await {
                Ok(caller) => caller,
                Err(e) => return Ended::Error(format!("cannot look up the job's owner: {e}")),
            },
            Err(e) => return Ended::Error(e.message),
        },
    };
    let prepared = match pipeline::prepare(state, &caller, &params, upload::Limits::async_job(state)).await {
        Ok(p) => p,
        Err(e) => return Ended::Error(e.message),
    };
    let qr = &prepared.request;
    let client = match jobs.query_pool.get().await {
        Ok(c) => c,
        Err(e) => return Ended::Error(format!("no database connection available: {e}")),
    };
    if !jobs.hub.executing(&job.id, client.cancel_token()) {
        return Ended::Stopped;
    }
    if let Err(message) = prepared.load_uploads(state, &client).await {
        return failed(jobs.hub.stopped(&job.id), message);
    }
    let part = part_path(jobs.results_dir(), &job.id);
    let progress = Arc::new(Progress::default());
    let timeout = Duration::from_secs(job.execution_duration.max(1));
    let run = prepared.run(state, timeout, Some(&progress));
    let mut writer = qr.format.writer();
    let reporter = report_progress(Arc::clone(jobs), job.id.clone(), Arc::clone(&progress));
    let ran = run_to_file(&client, &run, writer.as_mut(), &part, true).await;
    reporter.abort();
    prepared.unload_uploads(&client).await;
    drop(client);
    let stopped = || jobs.hub.stopped(&job.id);
    match ran {
        FileOutcome::Rejected(e) => {
            remove_quietly(&part).await;
            failed(stopped(), e.message)
        }
        FileOutcome::Ran { outcome, file } => {
            let size = file.metadata().await.map(|m| m.len()).ok();
            drop(file);
            let (rows, overflow) = match outcome {
                Outcome::Complete { rows, .. } => (rows, false),
                Outcome::Overflow { rows, .. } => (rows, true),
                Outcome::Failed { message, .. } => {
                    remove_quietly(&part).await;
                    return failed(stopped(), message);
                }
                Outcome::Cancelled { .. } | Outcome::Rejected => {
                    remove_quietly(&part).await;
                    return failed(stopped(), "the result could not be written".into());
                }
            };
            if stopped() {
                remove_quietly(&part).await;
                return Ended::Stopped;
            }
            let file = super::result_file(&job.id, qr.format.format);
            if let Err(e) = tokio::fs::rename(&part, jobs.results_dir().join(&file)).await {
                remove_quietly(&part).await;
                return Ended::Error(format!("cannot store the result: {e}"));
            }
            Ended::Completed(StoredResult {
                file,
                mime: qr.format.content_type.clone(),
                rows,
                bytes: size.unwrap_or(0),
                overflow,
            })
        }
    }
}
