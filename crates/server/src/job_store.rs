//! The job store: every statement that reads or changes `tapir.jobs`.
//!
//! A phase change always names the phase it expects (`WHERE phase = $from`), so when two
//! processes race the loser changes nothing and says so, and the legal transitions stay those
//! the `uws` crate allows. Times are `timestamptz`, read as `SystemTime`.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use tokio_postgres::{Client, Row};
use uws::{Phase, UtcTime};

use crate::db::DbError;

/// The job store as the query side reads it: JOB_UPLOAD opens earlier results through it. The
/// same pool and directory as the async side's (`jobs::Jobs`), so `tap/` needs nothing of `jobs/`.
#[derive(Clone)]
pub struct JobStore {
    pool: deadpool_postgres::Pool,
    results_dir: PathBuf,
}

/// No job-store connection: an outage, never the user's mistake (a 503 in `tap::TapError`).
#[derive(Debug, thiserror::Error)]
#[error("the job store is not reachable: {0}")]
pub struct Unreachable(String);

impl JobStore {
    pub fn new(pool: deadpool_postgres::Pool, results_dir: PathBuf) -> JobStore {
        JobStore { pool, results_dir }
    }

    /// A connection: the one way every request, upload and task gets one, so an outage reads
    /// the same everywhere.
    pub async fn connection(&self) -> Result<deadpool_postgres::Object, Unreachable> {
        self.pool.get().await.map_err(|e| Unreachable(e.to_string()))
    }

    /// Where finished results (and their compressed copies) are kept.
    pub fn results_dir(&self) -> &Path {
        &self.results_dir
    }
}

/// The running allowance the workers' claim applies per owner: the default, and per group the
/// group's (`i64::MAX` for no limit), so a user's current groups decide in the database.
pub struct RunningLimits {
    pub default: i64,
    pub groups: Vec<String>,
    pub limits: Vec<i64>,
}

/// The columns [`Job::from_row`] reads, in its order.
const JOB_COLUMNS: &str = "job_id, run_id, owner_id, phase, creation_time, start_time, end_time, \
     execution_duration, destruction, quote, param_names, param_values, error_message, \
     result_file, result_mime, result_rows, result_bytes, result_overflow, progress_rows, \
     progress_bytes";

/// A job as stored.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub run_id: Option<String>,
    pub owner_id: Option<String>,
    pub phase: Phase,
    pub creation_time: UtcTime,
    pub start_time: Option<UtcTime>,
    pub end_time: Option<UtcTime>,
    pub execution_duration: u64,
    pub destruction: UtcTime,
    pub quote: Option<UtcTime>,
    /// Parameters as posted, names upper-cased.
    pub params: Vec<(String, String)>,
    pub error_message: Option<String>,
    pub result: Option<StoredResult>,
    /// Names of the files uploaded with the job (`tapir.job_uploads`), read by [`get`] only.
    pub upload_parts: Vec<String>,
    /// Rows and bytes of result written so far, while EXECUTING (see [`set_progress`]).
    pub progress: Option<(u64, u64)>,
}

/// A COMPLETED job's result file and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResult {
    /// File name inside the results directory.
    pub file: String,
    pub mime: String,
    pub rows: u64,
    pub bytes: u64,
    pub overflow: bool,
}

fn time(t: Option<SystemTime>) -> Option<UtcTime> {
    t.map(UtcTime::from_system)
}

fn unsigned(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl Job {
    fn from_row(r: &Row) -> Result<Job, DbError> {
        let phase_text: String = r.try_get(3)?;
        let phase = Phase::parse(&phase_text).unwrap_or(Phase::Unknown);
        let names: Vec<String> = r.try_get(10)?;
        let values: Vec<String> = r.try_get(11)?;
        let file: Option<String> = r.try_get(13)?;
        let result = match file {
            Some(file) => Some(StoredResult {
                file,
                mime: r.try_get::<_, Option<String>>(14)?.unwrap_or_default(),
                rows: unsigned(r.try_get::<_, Option<i64>>(15)?.unwrap_or(0)),
                bytes: unsigned(r.try_get::<_, Option<i64>>(16)?.unwrap_or(0)),
                overflow: r.try_get::<_, Option<bool>>(17)?.unwrap_or(false),
            }),
            None => None,
        };
        Ok(Job {
            id: r.try_get(0)?,
            run_id: r.try_get(1)?,
            owner_id: r.try_get(2)?,
            phase,
            creation_time: UtcTime::from_system(r.try_get(4)?),
            start_time: time(r.try_get(5)?),
            end_time: time(r.try_get(6)?),
            execution_duration: unsigned(r.try_get(7)?),
            destruction: UtcTime::from_system(r.try_get(8)?),
            quote: time(r.try_get(9)?),
            params: names.into_iter().zip(values).collect(),
            error_message: r.try_get(12)?,
            result,
            upload_parts: Vec::new(),
            progress: match (r.try_get::<_, Option<i64>>(18)?, r.try_get::<_, Option<i64>>(19)?) {
                (Some(rows), Some(bytes)) => Some((unsigned(rows), unsigned(bytes))),
                _ => None,
            },
        })
    }
}

/// A new job, before it is stored.
pub struct NewJob<'a> {
    pub id: &'a str,
    pub phase: Phase,
    pub creation_time: UtcTime,
    pub execution_duration: u64,
    pub destruction: UtcTime,
    pub quote: Option<UtcTime>,
    pub params: &'a [(String, String)],
    /// The authenticated user who created it (None: anonymous).
    pub owner: Option<&'a str>,
}

fn split(params: &[(String, String)]) -> (Vec<&str>, Vec<&str>) {
    params.iter().map(|(k, v)| (k.as_str(), v.as_str())).unzip()
}

fn run_id_of(params: &[(String, String)]) -> Option<&str> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("RUNID"))
        .map(|(_, v)| v.as_str())
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Store a new job (PENDING, or QUEUED when created with PHASE=RUN).
pub async fn insert(client: &Client, job: &NewJob<'_>) -> Result<(), DbError> {
    let (names, values) = split(job.params);
    let queued = job.phase == Phase::Queued;
    client
        .execute(
            "INSERT INTO tapir.jobs (job_id, run_id, phase, execution_duration, destruction, \
             param_names, param_values, queued_at, creation_time, quote, owner_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN clock_timestamp() END, $9, $10, $11)",
            &[
                &job.id,
                &run_id_of(job.params),
                &job.phase.as_str(),
                &i64_of(job.execution_duration),
                &job.destruction.to_system(),
                &names,
                &values,
                &queued,
                &job.creation_time.to_system(),
                &job.quote.map(UtcTime::to_system),
                &job.owner,
            ],
        )
        .await
        .map_err(DbError::query("cannot store the job"))?;
    Ok(())
}

/// One job with the names of its uploaded files (one statement), or None when there is no
/// such job.
pub async fn get(client: &Client, id: &str) -> Result<Option<Job>, DbError> {
    let sql = format!(
        "SELECT {JOB_COLUMNS}, ARRAY(SELECT part FROM tapir.job_uploads u \
         WHERE u.job_id = j.job_id ORDER BY part) FROM tapir.jobs j WHERE job_id = $1"
    );
    let row = client
        .query_opt(&sql, &[&id])
        .await
        .map_err(DbError::query("cannot read the job"))?;
    let Some(row) = row else { return Ok(None) };
    let mut job = Job::from_row(&row)?;
    job.upload_parts = row.try_get(20)?;
    Ok(Some(job))
}

/// Change the phase from `from` to `to`, with the bookkeeping the new phase needs. False when
/// the job was not in `from` any more (another request or process got there first).
pub async fn set_phase(client: &Client, id: &str, from: Phase, to: Phase) -> Result<bool, DbError> {
    let sql = match to {
        Phase::Queued => {
            "UPDATE tapir.jobs SET phase = $3, queued_at = clock_timestamp() \
             WHERE job_id = $1 AND phase = $2"
        }
        Phase::Aborted => {
            "UPDATE tapir.jobs SET phase = $3, end_time = clock_timestamp(), \
             error_message = 'the job was aborted at the user''s request' \
             WHERE job_id = $1 AND phase = $2"
        }
        _ => "UPDATE tapir.jobs SET phase = $3 WHERE job_id = $1 AND phase = $2",
    };
    let n = client
        .execute(sql, &[&id, &from.as_str(), &to.as_str()])
        .await
        .map_err(DbError::query("cannot change the job's phase"))?;
    Ok(n == 1)
}

/// Replace the parameters (and so the quote) of a PENDING job. False when it is not PENDING
/// any more.
pub async fn set_params(
    client: &Client,
    id: &str,
    params: &[(String, String)],
    quote: Option<UtcTime>,
) -> Result<bool, DbError> {
    let (names, values) = split(params);
    let n = client
        .execute(
            "UPDATE tapir.jobs SET param_names = $2, param_values = $3, run_id = $4, quote = $5 \
             WHERE job_id = $1 AND phase = 'PENDING'",
            &[
                &id,
                &names,
                &values,
                &run_id_of(params),
                &quote.map(UtcTime::to_system),
            ],
        )
        .await
        .map_err(DbError::query("cannot change the job's parameters"))?;
    Ok(n == 1)
}

/// Set executionDuration of a PENDING job. False when it is not PENDING any more.
pub async fn set_duration(client: &Client, id: &str, secs: u64) -> Result<bool, DbError> {
    let n = client
        .execute(
            "UPDATE tapir.jobs SET execution_duration = $2 WHERE job_id = $1 AND phase = 'PENDING'",
            &[&id, &i64_of(secs)],
        )
        .await
        .map_err(DbError::query("cannot change the job's executionDuration"))?;
    Ok(n == 1)
}

/// How many jobs wait in QUEUED (for the queue bound, `jobs.queue_max`).
pub async fn queued(client: &Client) -> Result<u64, DbError> {
    let n: i64 = client
        .query_one("SELECT count(*) FROM tapir.jobs WHERE phase = 'QUEUED'", &[])
        .await
        .map_err(DbError::query("cannot count the queued jobs"))?
        .get(0);
    Ok(unsigned(n))
}

/// How many jobs of `owner` are QUEUED.
pub async fn queued_of(client: &Client, owner: &str) -> Result<u64, DbError> {
    let n: i64 = client
        .query_one(
            "SELECT count(*) FROM tapir.jobs WHERE phase = 'QUEUED' AND owner_id = $1",
            &[&owner],
        )
        .await
        .map_err(DbError::query("cannot count the queued jobs"))?
        .get(0);
    Ok(unsigned(n))
}

/// Bytes of the results `owner`'s jobs keep (the result-storage quota, issue 14).
pub async fn result_bytes_of(client: &Client, owner: &str) -> Result<u64, DbError> {
    let n: i64 = client
        .query_one(
            "SELECT coalesce(sum(result_bytes), 0)::bigint FROM tapir.jobs \
             WHERE owner_id = $1 AND result_file IS NOT NULL",
            &[&owner],
        )
        .await
        .map_err(DbError::query("cannot add up the stored results"))?
        .get(0);
    Ok(unsigned(n))
}

/// Record how far an EXECUTING job has got (rows and bytes of result written so far). False
/// when the job is not EXECUTING any more.
pub async fn set_progress(client: &Client, id: &str, rows: u64, bytes: u64) -> Result<bool, DbError> {
    let n = client
        .execute(
            "UPDATE tapir.jobs SET progress_rows = $2, progress_bytes = $3 \
             WHERE job_id = $1 AND phase = 'EXECUTING'",
            &[&id, &i64_of(rows), &i64_of(bytes)],
        )
        .await
        .map_err(DbError::query("cannot record the job's progress"))?;
    Ok(n == 1)
}

/// Set the destruction time of a PENDING job. False when it is not PENDING any more.
pub async fn set_destruction(client: &Client, id: &str, at: UtcTime) -> Result<bool, DbError> {
    let n = client
        .execute(
            "UPDATE tapir.jobs SET destruction = $2 WHERE job_id = $1 AND phase = 'PENDING'",
            &[&id, &at.to_system()],
        )
        .await
        .map_err(DbError::query("cannot change the job's destruction time"))?;
    Ok(n == 1)
}

/// Whose job `id` is: None when there is no such job, Some(None) for an anonymous one.
pub async fn owner_of(client: &Client, id: &str) -> Result<Option<Option<String>>, DbError> {
    let row = client
        .query_opt("SELECT owner_id FROM tapir.jobs WHERE job_id = $1", &[&id])
        .await
        .map_err(DbError::query("cannot look up the job"))?;
    Ok(row.map(|r| r.get(0)))
}

/// Remove a job (its uploads go with it); false when there was no such job.
pub async fn delete(client: &Client, id: &str) -> Result<bool, DbError> {
    let n = client
        .execute("DELETE FROM tapir.jobs WHERE job_id = $1", &[&id])
        .await
        .map_err(DbError::query("cannot delete the job"))?;
    Ok(n == 1)
}

/// One line of the job list.
pub struct Listed {
    pub id: String,
    pub phase: Phase,
    pub run_id: Option<String>,
    pub owner_id: Option<String>,
    pub creation_time: UtcTime,
}

/// The job list (JL-02) of one owner (None: the anonymous jobs): the given phases, created
/// after `after`, newest first, at most `last`. The owner and creation-time index serves the
/// order and the limit.
pub async fn list(
    client: &Client,
    owner: Option<&str>,
    phases: &[Phase],
    after: Option<UtcTime>,
    last: Option<u64>,
) -> Result<Vec<Listed>, DbError> {
    let names: Vec<&str> = phases.iter().map(|p| p.as_str()).collect();
    let after = after.map(UtcTime::to_system);
    let last = last.map(i64_of);
    let rows = client
        .query(
            "SELECT job_id, phase, run_id, owner_id, creation_time FROM tapir.jobs \
             WHERE phase = ANY($1) AND ($2::timestamptz IS NULL OR creation_time > $2) \
               AND owner_id IS NOT DISTINCT FROM $4 \
             ORDER BY creation_time DESC, job_id LIMIT $3",
            &[&names, &after, &last, &owner],
        )
        .await
        .map_err(DbError::query("cannot list the jobs"))?;
    rows.iter()
        .map(|r| {
            let phase: String = r.try_get(1)?;
            Ok(Listed {
                id: r.try_get(0)?,
                phase: Phase::parse(&phase).unwrap_or(Phase::Unknown),
                run_id: r.try_get(2)?,
                owner_id: r.try_get(3)?,
                creation_time: UtcTime::from_system(r.try_get(4)?),
            })
        })
        .collect()
}

/// A job claimed by a worker: what it needs to run it.
pub struct Claimed {
    pub id: String,
    pub execution_duration: u64,
    pub params: Vec<(String, String)>,
    /// Whose job it is: the query runs with what that user may read today.
    pub owner: Option<String>,
}

/// The phase changes the service makes itself, each checked against `uws`'s transition table
/// by a test ([`tests::server_transitions_follow_the_uws_table`]); the statements below are
/// written from these constants, so SQL and table cannot disagree.
pub(crate) mod server_change {
    use uws::Phase;

    /// A worker claims a queued job.
    pub const CLAIM: (Phase, Phase) = (Phase::Queued, Phase::Executing);
    /// The job's result is stored.
    pub const COMPLETE: (Phase, Phase) = (Phase::Executing, Phase::Completed);
    /// The job failed, or its process died under it.
    pub const FAIL: (Phase, Phase) = (Phase::Executing, Phase::Error);
    /// A dead process's job is queued again (`jobs.requeue_on_crash`).
    pub const REQUEUE: (Phase, Phase) = (Phase::Executing, Phase::Queued);

    /// All of them, for the test that checks them against the table.
    #[cfg(test)]
    pub const ALL: [(Phase, Phase); 4] = [CLAIM, COMPLETE, FAIL, REQUEUE];
}

/// Take the oldest QUEUED job for `process` (EXECUTING from now on). `SKIP LOCKED` lets
/// several workers and processes claim at once without ever taking the same job twice.
///
/// Fair share (issue 14): the next job is the oldest QUEUED one of the owner with the fewest
/// jobs EXECUTING (anonymous jobs count as one owner), so one user's 200 queued jobs do not
/// hold another user's single job behind them. Between owners running as many, the one with
/// fewer jobs waiting goes first: by age alone, whenever both had none running (a worker
/// freed while the other worker ran someone else's job), the backlog's oldest job won the
/// tie, and a single job waited for several of the backlog's to start first. An
/// authenticated user runs at most their running allowance at once (`limits`: the default,
/// or the widest of their groups' as `tapir.user_groups` has them now); their further jobs
/// stay QUEUED (never refused) until one ends.
pub async fn claim(
    client: &Client,
    process: &str,
    limits: &RunningLimits,
) -> Result<Option<Claimed>, DbError> {
    let (from, to) = server_change::CLAIM;
    let sql = format!(
        "UPDATE tapir.jobs SET phase = '{to}', start_time = clock_timestamp(), \
             runs = runs + 1, process_id = $1 \
         WHERE job_id = ( \
             WITH running AS (SELECT owner_id, count(*) AS n FROM tapir.jobs \
                              WHERE phase = '{to}' GROUP BY owner_id), \
                  waiting AS (SELECT owner_id, count(*) AS n FROM tapir.jobs \
                              WHERE phase = '{from}' GROUP BY owner_id), \
                  allowed AS (SELECT g.user_name, max(l.n) AS n FROM tapir.user_groups g \
                              JOIN unnest($3::text[], $4::bigint[]) AS l(grp, n) ON l.grp = g.group_name \
                              GROUP BY g.user_name) \
             SELECT q.job_id FROM tapir.jobs q \
                 LEFT JOIN running r ON r.owner_id IS NOT DISTINCT FROM q.owner_id \
                 LEFT JOIN waiting w ON w.owner_id IS NOT DISTINCT FROM q.owner_id \
                 LEFT JOIN allowed a ON a.user_name = q.owner_id \
             WHERE q.phase = '{from}' \
               AND (q.owner_id IS NULL OR coalesce(r.n, 0) < coalesce(a.n, $2::bigint)) \
             ORDER BY coalesce(r.n, 0), w.n, q.queued_at LIMIT 1 FOR UPDATE OF q SKIP LOCKED) \
           AND phase = '{from}' \
         RETURNING job_id, execution_duration, param_names, param_values, owner_id"
    );
    let row = client
        .query_opt(&sql, &[&process, &limits.default, &limits.groups, &limits.limits])
        .await
        .map_err(DbError::query("cannot claim a queued job"))?;
    let Some(r) = row else { return Ok(None) };
    let names: Vec<String> = r.try_get(2)?;
    let values: Vec<String> = r.try_get(3)?;
    Ok(Some(Claimed {
        id: r.try_get(0)?,
        execution_duration: unsigned(r.try_get(1)?),
        params: names.into_iter().zip(values).collect(),
        owner: r.try_get(4)?,
    }))
}

/// How a claimed job ended.
pub enum Finish<'a> {
    Completed(&'a StoredResult),
    Error(&'a str),
}

/// Record the end of a job this process ran. False when the job is no longer ours to end
/// (aborted or deleted meanwhile): the caller then throws the result away.
pub async fn finish(client: &Client, id: &str, process: &str, how: Finish<'_>) -> Result<bool, DbError> {
    let n = match how {
        Finish::Completed(r) => {
            let (from, to) = server_change::COMPLETE;
            client
                .execute(
                    &format!(
                        "UPDATE tapir.jobs SET phase = '{to}', end_time = clock_timestamp(), \
                             result_file = $3, result_mime = $4, result_rows = $5, \
                             result_bytes = $6, result_overflow = $7 \
                         WHERE job_id = $1 AND process_id = $2 AND phase = '{from}'"
                    ),
                    &[
                        &id,
                        &process,
                        &r.file,
                        &r.mime,
                        &i64_of(r.rows),
                        &i64_of(r.bytes),
                        &r.overflow,
                    ],
                )
                .await
        }
        Finish::Error(message) => {
            let (from, to) = server_change::FAIL;
            client
                .execute(
                    &format!(
                        "UPDATE tapir.jobs SET phase = '{to}', end_time = clock_timestamp(), \
                             error_message = $3 \
                         WHERE job_id = $1 AND process_id = $2 AND phase = '{from}'"
                    ),
                    &[&id, &process, &message],
                )
                .await
        }
    }
    .map_err(DbError::query("cannot record the end of a job"))?;
    Ok(n == 1)
}

/// The message of jobs whose process died under them.
pub const STOPPED: &str = "the server stopped while this job was running";

/// Announce this process (and refresh its heartbeat).
pub async fn heartbeat(client: &Client, process: &str) -> Result<(), DbError> {
    let host = std::env::var("HOSTNAME").unwrap_or_default();
    let pid = i32::try_from(std::process::id()).unwrap_or(0);
    client
        .execute(
            "INSERT INTO tapir.processes (process_id, host, pid) VALUES ($1, $2, $3) \
             ON CONFLICT (process_id) DO UPDATE SET heartbeat = clock_timestamp()",
            &[&process, &host, &pid],
        )
        .await
        .map_err(DbError::query("cannot record the heartbeat"))?;
    Ok(())
}

/// The statement that ends the EXECUTING jobs `which` selects, whose process is gone or going:
/// queued again with `requeue`, else ERROR with [`STOPPED`]. Returns their process ids.
fn end_orphans(requeue: bool, which: &str) -> String {
    let ((from, to), rest) = if requeue {
        (
            server_change::REQUEUE,
            "queued_at = clock_timestamp(), process_id = NULL, start_time = NULL".to_string(),
        )
    } else {
        (
            server_change::FAIL,
            format!("end_time = clock_timestamp(), error_message = '{STOPPED}'"),
        )
    };
    format!(
        "UPDATE tapir.jobs SET phase = '{to}', {rest} WHERE phase = '{from}' AND {which} \
         RETURNING process_id"
    )
}

/// The `application_name` of the connections a process runs jobs' queries on.
pub fn worker_application_name(process: &str) -> String {
    format!("tapir-worker:{process}")
}

/// End (or queue again) the EXECUTING jobs of processes without a heartbeat for `lease_secs`,
/// stop the queries such processes left running in the database (a killed process cannot
/// cancel them, and PostgreSQL notices a vanished client only when it next writes to it), and
/// forget the processes. Returns the number of jobs recovered.
pub async fn recover(client: &Client, lease_secs: u64, requeue: bool) -> Result<u64, DbError> {
    let lease = i64_of(lease_secs) as f64;
    let dead = "(process_id IS NULL OR process_id NOT IN (SELECT process_id FROM tapir.processes \
                WHERE heartbeat > clock_timestamp() - make_interval(secs => $1)))";
    let rows = client
        .query(&end_orphans(requeue, dead), &[&lease])
        .await
        .map_err(DbError::query("cannot recover the jobs of stopped processes"))?;
    let mut names: Vec<String> = rows
        .iter()
        .filter_map(|r| r.get::<_, Option<String>>(0))
        .map(|p| worker_application_name(&p))
        .collect();
    let stale = client
        .query(
            "SELECT process_id FROM tapir.processes \
             WHERE heartbeat < clock_timestamp() - make_interval(secs => $1)",
            &[&lease],
        )
        .await
        .map_err(DbError::query("cannot list stopped processes"))?;
    names.extend(
        stale
            .iter()
            .map(|r| worker_application_name(&r.get::<_, String>(0))),
    );
    names.sort();
    names.dedup();
    if !names.is_empty() {
        let stopped: i64 = client
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE application_name = ANY($1) AND pid <> pg_backend_pid()",
                &[&names],
            )
            .await
            .map_err(DbError::query("cannot stop the queries of stopped processes"))?
            .get(0);
        if stopped > 0 {
            tracing::warn!(
                queries = stopped,
                "stopped queries left running by Tapir processes that died"
            );
        }
        client
            .execute(
                "DELETE FROM tapir.processes WHERE heartbeat < clock_timestamp() - make_interval(secs => $1)",
                &[&lease],
            )
            .await
            .map_err(DbError::query("cannot forget stopped processes"))?;
    }
    Ok(rows.len() as u64)
}

/// At shutdown: end this process's EXECUTING jobs (their queries are cancelled with it) and
/// remove its heartbeat.
pub async fn retire(client: &Client, process: &str, requeue: bool) -> Result<u64, DbError> {
    let n = client
        .execute(&end_orphans(requeue, "process_id = $1"), &[&process])
        .await
        .map_err(DbError::query("cannot end this process's jobs"))?;
    client
        .execute("DELETE FROM tapir.processes WHERE process_id = $1", &[&process])
        .await
        .map_err(DbError::query("cannot remove the heartbeat"))?;
    Ok(n)
}

/// Delete up to `batch` jobs past their destruction time, under the reaper's advisory lock
/// so that one process reaps at a time. Returns their ids (the caller removes their files);
/// None when another process holds the lock.
pub async fn reap(client: &Client, batch: i64) -> Result<Option<Vec<String>>, DbError> {
    client.batch_execute("BEGIN").await?;
    let result = async {
        let locked: bool = client
            .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&LOCK_REAP])
            .await?
            .get(0);
        if !locked {
            return Ok(None);
        }
        let rows = client
            .query(
                "DELETE FROM tapir.jobs WHERE job_id IN (SELECT job_id FROM tapir.jobs \
                 WHERE destruction < clock_timestamp() ORDER BY destruction LIMIT $1 \
                 FOR UPDATE SKIP LOCKED) RETURNING job_id",
                &[&batch],
            )
            .await?;
        Ok(Some(rows.iter().map(|r| r.get(0)).collect()))
    }
    .await
    .map_err(DbError::query("cannot reap old jobs"));
    crate::db::finish_transaction(client, result).await
}

/// Of these job ids, the ones that exist.
pub async fn existing(client: &Client, ids: &[&str]) -> Result<Vec<String>, DbError> {
    let rows = client
        .query("SELECT job_id FROM tapir.jobs WHERE job_id = ANY($1)", &[&ids])
        .await
        .map_err(DbError::query("cannot look up jobs"))?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Of these jobs, the ones EXECUTING now (whose partial result files are in use).
pub async fn executing(client: &Client, ids: &[&str]) -> Result<Vec<String>, DbError> {
    let rows = client
        .query(
            "SELECT job_id FROM tapir.jobs WHERE job_id = ANY($1) AND phase = 'EXECUTING'",
            &[&ids],
        )
        .await
        .map_err(DbError::query("cannot look up running jobs"))?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The reaper's advisory lock key ("tapir" plus a number, like the others).
const LOCK_REAP: i64 = 0x7461_7069_7200_0003;

// ----- ESA TAP+ job search and deletion --------------------------------------------------

/// A job found by [`search`], with its name (the JOBNAME parameter, from the generated column
/// `job_name`).
pub struct Found {
    pub job: Job,
    pub name: Option<String>,
}

/// The SQL of one sort column: fixed text chosen by the enum, never the client's words.
fn sort_sql(column: uws::SortColumn) -> &'static str {
    use uws::SortColumn as C;
    match column {
        C::CreationTime => "creation_time",
        C::StartTime => "start_time",
        C::EndTime => "end_time",
        C::Destruction => "destruction",
        C::Phase => "phase",
        C::JobId => "job_id",
        C::JobName => "job_name",
        C::RunId => "run_id",
        C::ExecutionDuration => "execution_duration",
    }
}

/// The ORDER BY list of a search: its keys, then `job_id` so that equal keys still have one
/// order and consecutive pages neither repeat nor skip jobs. Nullable columns sort their NULLs
/// last in both directions (a job that never started is not "the latest"); NOT NULL columns
/// get no NULLS clause, so that `creation_time DESC` can still walk `jobs_by_creation`.
fn order_by(keys: &[uws::SortKey]) -> String {
    use uws::SortColumn as C;
    let mut sql = String::new();
    for key in keys {
        let column = key.column;
        sql.push_str(sort_sql(column));
        sql.push_str(match key.direction {
            uws::Direction::Asc => " ASC",
            uws::Direction::Desc => " DESC",
        });
        if matches!(column, C::StartTime | C::EndTime | C::JobName | C::RunId) {
            sql.push_str(" NULLS LAST");
        }
        sql.push_str(", ");
    }
    sql.push_str("job_id");
    sql
}

/// A name filter as an exact name or a LIKE pattern (with `\` escaping the pattern
/// characters the client meant literally).
fn name_terms(filter: Option<&uws::NameFilter>) -> (Option<String>, Option<String>) {
    match filter {
        None => (None, None),
        Some(uws::NameFilter::Exact(name)) => (Some(name.clone()), None),
        Some(uws::NameFilter::Wildcard(pieces)) => {
            let mut pattern = String::new();
            for (i, piece) in pieces.iter().enumerate() {
                if i > 0 {
                    pattern.push('%');
                }
                push_literal(&mut pattern, piece);
            }
            (None, Some(pattern))
        }
    }
}

/// Append `text` to a LIKE pattern as literal characters (`\` escapes the pattern characters).
fn push_literal(pattern: &mut String, text: &str) {
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
}

/// The ILIKE pattern of the `query` filter: the text anywhere in the job's QUERY.
fn query_pattern(text: Option<&str>) -> Option<String> {
    text.map(|t| {
        let mut pattern = String::from("%");
        push_literal(&mut pattern, t);
        pattern.push('%');
        pattern
    })
}

/// The ESA job search: the jobs that pass every filter, in the asked order, one page of them,
/// in one statement. The client's values are all bound as parameters; the ORDER BY is built
/// from [`sort_sql`]'s fixed names only.
pub async fn search(
    client: &Client,
    owner: Option<&str>,
    search: &uws::JobSearch,
) -> Result<Vec<Found>, DbError> {
    let phases: Vec<&str> = search.listed_phases().iter().map(|p| p.as_str()).collect();
    let (exact, pattern) = name_terms(search.name.as_ref());
    // With a time filter, a job without that instant (never started, still running) fails
    // the comparison with NULL and is left out, as `uws::TimeRange::accepts` says.
    let sql = format!(
        "SELECT {JOB_COLUMNS}, job_name FROM tapir.jobs \
         WHERE phase = ANY($1) AND ($2::text IS NULL OR job_id = $2) \
           AND ($3::text IS NULL OR job_name = $3) AND ($4::text IS NULL OR job_name LIKE $4) \
           AND ($7::text IS NULL OR param_values[array_position(param_names, 'QUERY')] ILIKE $7) \
           AND ($8::timestamptz IS NULL OR start_time >= $8) \
           AND ($9::timestamptz IS NULL OR start_time <= $9) \
           AND ($10::timestamptz IS NULL OR end_time >= $10) \
           AND ($11::timestamptz IS NULL OR end_time <= $11) \
           AND owner_id IS NOT DISTINCT FROM $12 \
         ORDER BY {} LIMIT $5 OFFSET $6",
        order_by(&search.order)
    );
    let rows = client
        .query(
            &sql,
            &[
                &phases,
                &search.job_id,
                &exact,
                &pattern,
                &search.limit.map(i64_of),
                &i64_of(search.offset),
                &query_pattern(search.query.as_deref()),
                &search.started.from.map(UtcTime::to_system),
                &search.started.to.map(UtcTime::to_system),
                &search.ended.from.map(UtcTime::to_system),
                &search.ended.to.map(UtcTime::to_system),
                &owner,
            ],
        )
        .await
        .map_err(DbError::query("cannot search the jobs"))?;
    rows.iter()
        .map(|r| {
            Ok(Found {
                job: Job::from_row(r)?,
                name: r.try_get(20)?,
            })
        })
        .collect()
}

/// Remove the jobs of `owner` with these ids, in one statement; returns the ids that existed
/// (and are gone now). Running queries are cancelled by their process, which hears of the
/// deletion.
pub async fn delete_many(client: &Client, owner: Option<&str>, ids: &[&str]) -> Result<Vec<String>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = client
        .query(
            "DELETE FROM tapir.jobs WHERE job_id = ANY($1) AND owner_id IS NOT DISTINCT FROM $2 \
             RETURNING job_id",
            &[&ids, &owner],
        )
        .await
        .map_err(DbError::query("cannot delete the jobs"))?;
    rows.iter().map(|r| r.try_get(0).map_err(DbError::from)).collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn server_transitions_follow_the_uws_table() {
        for (from, to) in server_change::ALL {
            assert!(
                from.can_become(to, uws::Actor::Server),
                "the store changes {from} to {to}, which uws does not allow the server"
            );
        }
        // And the statements say what the constants say.
        let executing = "phase = 'EXECUTING'";
        assert!(end_orphans(true, "true").starts_with("UPDATE tapir.jobs SET phase = 'QUEUED', "));
        assert!(end_orphans(false, "true").contains("SET phase = 'ERROR', "));
        assert!(end_orphans(false, "true").contains(&format!("WHERE {executing} AND true")));
    }

    use super::*;
    use uws::{Direction, NameFilter, SortColumn, SortKey};

    #[test]
    fn order_by_uses_fixed_names_and_breaks_ties_by_id() {
        assert_eq!(
            order_by(&uws::JobSearch::default().order),
            "creation_time DESC, job_id"
        );
        let keys = [
            SortKey {
                column: SortColumn::StartTime,
                direction: Direction::Desc,
            },
            SortKey {
                column: SortColumn::Phase,
                direction: Direction::Asc,
            },
            SortKey {
                column: SortColumn::JobName,
                direction: Direction::Asc,
            },
        ];
        assert_eq!(
            order_by(&keys),
            "start_time DESC NULLS LAST, phase ASC, job_name ASC NULLS LAST, job_id"
        );
        for c in SortColumn::ALL {
            assert!(sort_sql(c).chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'));
        }
    }

    #[test]
    fn names_become_exact_terms_or_escaped_patterns() {
        assert_eq!(name_terms(None), (None, None));
        assert_eq!(
            name_terms(Some(&NameFilter::parse("run_1"))),
            (Some("run_1".into()), None)
        );
        assert_eq!(
            name_terms(Some(&NameFilter::parse("run_1*"))),
            (None, Some("run\\_1%".into()))
        );
        assert_eq!(
            name_terms(Some(&NameFilter::parse("%a\\b*"))),
            (None, Some("%a\\\\b%".into()))
        );
    }
}
