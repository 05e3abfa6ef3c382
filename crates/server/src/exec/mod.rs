//! Running a translated query and streaming its rows into a result writer.
//!
//! The same path serves /sync (chunks go to the HTTP body) and, later, async jobs
//! (chunks go to a result file). Guarantees: the query runs in a READ ONLY
//! transaction, as the query role, with `statement_timeout` set in the database,
//! through the extended protocol; rows go out as they arrive (bounded memory);
//! a consumer that goes away cancels the backend query instead of draining it.

pub mod admission;
pub mod decode;
pub mod file;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};
use votable::{Ending, ResultWriter, TableMeta};

use decode::{Decoder, Raw, Scratch};

/// Bytes gathered before they are handed to the sink.
const CHUNK: usize = 64 * 1024;

/// One query to run.
pub struct QueryRun<'a> {
    /// Translated SQL (one SELECT).
    pub sql: &'a str,
    /// Output column metadata from the translator.
    pub columns: &'a [adql::OutputColumn],
    /// Rows to return at most; one more is fetched to tell whether the result overflowed.
    pub maxrec: u64,
    pub timeout: Duration,
    /// `SET LOCAL ROLE` to this role when given.
    pub role: Option<&'a str>,
    /// The ADQL text, echoed in an INFO of the result.
    pub adql: &'a str,
    /// Further INFOs for the result (name, value): e.g. how upload columns were renamed.
    pub notes: &'a [(String, String)],
    /// Where an async job's progress is kept up to date (None for /sync).
    pub progress: Option<&'a Progress>,
    /// Planner and memory bounds.
    pub bounds: QueryBounds,
    /// Refuse the query, before it runs, when the planner's cost estimate is above this
    /// (`limits.sync_max_cost`; sync queries only: a job is quoted instead).
    pub max_cost: Option<f64>,
}

/// How far a running query has got: rows encoded and bytes of result so far. The row loop
/// updates it with two relaxed stores per row (no allocation, no lock); a job's reporter reads
/// it twice a second for the job document's `jobInfo`.
#[derive(Debug, Default)]
pub struct Progress {
    rows: AtomicU64,
    bytes: AtomicU64,
}

impl Progress {
    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    fn record(&self, rows: u64, bytes: u64) {
        self.rows.store(rows, Ordering::Relaxed);
        self.bytes.store(bytes, Ordering::Relaxed);
    }
}

/// Where encoded bytes go. `send` returns false when the consumer has gone away.
pub trait Sink {
    fn send(&mut self, chunk: Vec<u8>) -> impl std::future::Future<Output = bool> + Send;
    /// The result broke after it had begun, in a format that cannot say so (CSV): end the
    /// transfer as an error, so the client does not take a truncated result for a whole one.
    fn abort(&mut self, message: &str) -> impl std::future::Future<Output = ()> + Send;
}

/// A failure before any byte was written, with the HTTP status it deserves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// True when the query (not the service) is at fault.
    pub user_error: bool,
    pub message: String,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Complete {
        rows: u64,
        bytes: u64,
    },
    Overflow {
        rows: u64,
        bytes: u64,
    },
    /// The consumer went away; the backend query was cancelled.
    Cancelled {
        rows: u64,
    },
    /// Failed after the result had started; the document records the error.
    Failed {
        rows: u64,
        message: String,
    },
    /// Failed before anything was written (reported through `ready`).
    Rejected,
}

/// Map a database error to words for the user, and whether it is their query's fault.
pub fn describe(e: &tokio_postgres::Error, timeout: Duration) -> QueryError {
    match e.as_db_error() {
        Some(db) if *db.code() == SqlState::QUERY_CANCELED => QueryError {
            user_error: true,
            message: format!(
                "the query was stopped because it reached the time limit of {} s",
                timeout.as_secs()
            ),
        },
        Some(db) => {
            let class = &db.code().code()[..2];
            // 22: data exceptions (division by zero, bad casts), 42: names and syntax,
            // 21/23/2201x: cardinality and similar: all caused by the query itself.
            let user_error = matches!(class, "22" | "42" | "21" | "23" | "54" | "0A");
            QueryError {
                user_error,
                message: format!("the database rejected the query: {}", db.message()),
            }
        }
        None => QueryError {
            user_error: false,
            message: format!("database connection failed: {e}"),
        },
    }
}

/// What one user query may use of the database besides time: planner and memory bounds,
/// from `[limits]` (`query_work_mem_kb`, `planner_collapse_limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryBounds {
    /// `work_mem` per sort or hash, in kB.
    pub work_mem_kb: u64,
    /// `join_collapse_limit` and `from_collapse_limit`: past this many relations the planner
    /// keeps the written join order instead of searching every order, which bounds planning
    /// time and memory for queries with many joins.
    pub collapse_limit: u32,
}

impl QueryBounds {
    pub fn of(limits: &crate::config::LimitsConfig) -> QueryBounds {
        QueryBounds {
            work_mem_kb: limits.query_work_mem_kb.max(64),
            collapse_limit: limits.planner_collapse_limit.clamp(1, 64),
        }
    }
}

/// The statements that open the transaction every user query (and every EXPLAIN of one) runs
/// in: read-only, with `statement_timeout` and the [`QueryBounds`], as the query role when
/// there is one. Every setting is `SET LOCAL`: it ends with the transaction, so a pooled
/// connection goes back as it was.
pub(crate) fn guarded(timeout: Duration, role: Option<&str>, bounds: QueryBounds) -> String {
    // One statement sets all four (set_config(..., true) is SET LOCAL): each statement costs
    // a round of parsing and executing in the server, which a one-row lookup notices.
    let mut setup = format!(
        "BEGIN TRANSACTION READ ONLY; SELECT set_config('statement_timeout', '{}', true), \
         set_config('work_mem', '{}', true), set_config('join_collapse_limit', '{}', true), \
         set_config('from_collapse_limit', '{}', true);",
        timeout.as_millis().max(1),
        bounds.work_mem_kb,
        bounds.collapse_limit,
        bounds.collapse_limit
    );
    if let Some(role) = role {
        setup.push_str(&format!(" SET LOCAL ROLE {};", crate::db::quote_ident(role)));
    }
    setup
}

/// The SQL actually sent: the translation wrapped so that at most `limit` rows come back.
pub(crate) fn limited(sql: &str, limit: u64) -> String {
    format!("SELECT * FROM ({sql}) AS \"tapir_result\" LIMIT {limit}")
}

/// Run the query. `ready` is answered once the outcome of the start is known: `Ok`
/// means the result has begun (send a 200), `Err` means nothing was written.
pub async fn run<S: Sink>(
    client: &Client,
    q: &QueryRun<'_>,
    writer: &mut dyn ResultWriter,
    sink: &mut S,
    ready: oneshot::Sender<Result<(), QueryError>>,
) -> Outcome {
    let mut ready = Some(ready);
    let mut reject = |e: QueryError| {
        if let Some(r) = ready.take() {
            let _ = r.send(Err(e));
        }
        Outcome::Rejected
    };

    if let Err(e) = client.batch_execute(&guarded(q.timeout, q.role, q.bounds)).await {
        let _ = client.batch_execute("ROLLBACK").await;
        return reject(describe(&e, q.timeout));
    }
    let outcome = run_in_transaction(client, q, writer, sink, &mut ready).await;
    // Read-only: there is nothing to commit; ROLLBACK also ends a transaction a failed query aborted.
    if let Err(e) = client.batch_execute("ROLLBACK").await {
        tracing::warn!("ROLLBACK after a query failed: {e}");
    }
    if let Some(r) = ready.take() {
        // Not answered on some path: treat as a service failure rather than hang the request.
        let _ = r.send(Err(QueryError {
            user_error: false,
            message: "the query ended without a result".into(),
        }));
    }
    outcome
}

async fn run_in_transaction<S: Sink>(
    client: &Client,
    q: &QueryRun<'_>,
    writer: &mut dyn ResultWriter,
    sink: &mut S,
    ready: &mut Option<oneshot::Sender<Result<(), QueryError>>>,
) -> Outcome {
    let reject = |ready: &mut Option<oneshot::Sender<Result<(), QueryError>>>, e: QueryError| {
        if let Some(r) = ready.take() {
            let _ = r.send(Err(e));
        }
        Outcome::Rejected
    };
    let sql = limited(q.sql, q.maxrec.saturating_add(1));
    // The admission EXPLAIN and the statement's preparation go out together (the client
    // pipelines concurrent requests): the check costs the planning, not another round trip.
    let (admitted, prepared) = match q.max_cost {
        Some(max) => tokio::join!(
            admission::admit(client, &sql, max, q.timeout),
            client.prepare(&sql)
        ),
        None => (Ok(()), client.prepare(&sql).await),
    };
    if let Err(e) = admitted {
        return reject(ready, e);
    }
    let statement = match prepared {
        Ok(s) => s,
        Err(e) => return reject(ready, describe(&e, q.timeout)),
    };
    let mut decoders = Vec::with_capacity(statement.columns().len());
    let mut fields = Vec::with_capacity(statement.columns().len());
    for (i, col) in statement.columns().iter().enumerate() {
        let Some(d) = Decoder::for_type(col.type_()) else {
            return reject(
                ready,
                QueryError {
                    user_error: false,
                    message: format!(
                        "column '{}' has type {}, which Tapir cannot send",
                        col.name(),
                        col.type_()
                    ),
                },
            );
        };
        let meta = q
            .columns
            .get(i)
            .cloned()
            .unwrap_or_else(|| fallback_column(col.name()));
        fields.push(d.field(&meta));
        decoders.push(d);
    }

    let mut buf = Vec::with_capacity(CHUNK + 4096);
    let mut infos: Vec<(&str, &str)> = Vec::with_capacity(1 + q.notes.len());
    infos.push(("QUERY", q.adql));
    infos.extend(q.notes.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let meta = TableMeta::new(&fields).with_infos(&infos);
    if let Err(e) = writer.begin(&mut buf, &meta) {
        return reject(
            ready,
            QueryError {
                user_error: false,
                message: format!("cannot write the result header: {e}"),
            },
        );
    }

    if q.maxrec == 0 {
        if let Some(r) = ready.take() {
            let _ = r.send(Ok(()));
        }
        return finish(writer, sink, buf, Ending::Complete, 0, 0).await;
    }

    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 0] = [];
    let stream = match client.query_raw(&statement, params).await {
        Ok(s) => s,
        Err(e) => return reject(ready, describe(&e, q.timeout)),
    };
    futures_util::pin_mut!(stream);
    use futures_util::StreamExt;

    // Wait for the first row (or the end) before answering, so that errors PostgreSQL
    // reports at once (timeouts of a sort, division by zero) still get an error status.
    let mut next = stream.next().await;
    if let Some(Err(e)) = &next {
        return reject(ready, describe(e, q.timeout));
    }
    if let Some(r) = ready.take() {
        let _ = r.send(Ok(()));
    }

    let mut scratch: Vec<Scratch> = vec![Scratch::default(); decoders.len()];
    let mut rows: u64 = 0;
    let mut bytes: u64 = 0;
    let mut overflow = false;
    while let Some(item) = next {
        let row = match item {
            Ok(r) => r,
            Err(e) => {
                let message = describe(&e, q.timeout).message;
                return fail(writer, sink, buf, rows, message).await;
            }
        };
        if rows == q.maxrec {
            overflow = true;
            break;
        }
        let mut values = Vec::with_capacity(decoders.len());
        for ((i, d), s) in decoders.iter().enumerate().zip(scratch.iter_mut()) {
            let raw = match row.try_get::<_, Raw>(i) {
                Ok(r) => r.0,
                Err(e) => {
                    drop(values);
                    return fail(writer, sink, buf, rows, format!("cannot read column {i}: {e}")).await;
                }
            };
            match d.decode(raw, s) {
                Ok(v) => values.push(v),
                Err(m) => {
                    drop(values);
                    return fail(writer, sink, buf, rows, m).await;
                }
            }
        }
        if let Err(e) = writer.row(&mut buf, &values) {
            drop(values);
            return fail(
                writer,
                sink,
                buf,
                rows,
                format!("cannot encode row {}: {e}", rows + 1),
            )
            .await;
        }
        drop(values);
        rows += 1;
        if let Some(progress) = q.progress {
            progress.record(rows, bytes + buf.len() as u64);
        }
        if buf.len() >= CHUNK {
            bytes += buf.len() as u64;
            let full = std::mem::replace(&mut buf, Vec::with_capacity(CHUNK + 4096));
            if !sink.send(full).await {
                cancel(client).await;
                return Outcome::Cancelled { rows };
            }
        }
        next = stream.next().await;
    }
    let ending = if overflow {
        Ending::Overflow
    } else {
        Ending::Complete
    };
    finish(writer, sink, buf, ending, rows, bytes).await
}

/// Metadata for a column the translator did not describe (should not happen).
fn fallback_column(name: &str) -> adql::OutputColumn {
    adql::OutputColumn {
        name: name.to_string(),
        ty: adql::AdqlType::Unknown,
        datatype: "char",
        arraysize: None,
        xtype: None,
        unit: None,
        ucd: None,
        utype: None,
        description: None,
    }
}

async fn finish<S: Sink>(
    writer: &mut dyn ResultWriter,
    sink: &mut S,
    mut buf: Vec<u8>,
    ending: Ending<'_>,
    rows: u64,
    bytes: u64,
) -> Outcome {
    let overflow = matches!(ending, Ending::Overflow);
    if let Err(e) = writer.end(&mut buf, ending) {
        return Outcome::Failed {
            rows,
            message: format!("cannot finish the result: {e}"),
        };
    }
    let total = bytes + buf.len() as u64;
    if !sink.send(buf).await {
        return Outcome::Cancelled { rows };
    }
    if overflow {
        Outcome::Overflow { rows, bytes: total }
    } else {
        Outcome::Complete { rows, bytes: total }
    }
}

async fn fail<S: Sink>(
    writer: &mut dyn ResultWriter,
    sink: &mut S,
    mut buf: Vec<u8>,
    rows: u64,
    message: String,
) -> Outcome {
    tracing::warn!(rows, "query failed while streaming: {message}");
    if writer.reports_errors() && writer.end(&mut buf, Ending::Error(&message)).is_ok() {
        sink.send(buf).await;
    } else {
        sink.send(buf).await;
        sink.abort(&message).await;
    }
    Outcome::Failed { rows, message }
}

/// Ask the server to stop the running statement (dropping the stream would let it run on).
async fn cancel(client: &Client) {
    if let Err(e) = client.cancel_token().cancel_query(NoTls).await {
        tracing::warn!("could not cancel a query whose client went away: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_rails_of_every_query() {
        let bounds = QueryBounds {
            work_mem_kb: 65_536,
            collapse_limit: 8,
        };
        let sql = guarded(Duration::from_secs(600), Some("tapir_query"), bounds);
        assert!(sql.starts_with("BEGIN TRANSACTION READ ONLY;"), "{sql}");
        for part in [
            "set_config('statement_timeout', '600000', true)",
            "set_config('work_mem', '65536', true)",
            "set_config('join_collapse_limit', '8', true)",
            "set_config('from_collapse_limit', '8', true)",
            "SET LOCAL ROLE \"tapir_query\";",
        ] {
            assert!(sql.contains(part), "{part} in {sql}");
        }
        let unbounded = crate::config::LimitsConfig {
            query_work_mem_kb: 0,
            planner_collapse_limit: 1000,
            ..crate::config::LimitsConfig::default()
        };
        assert_eq!(
            QueryBounds::of(&unbounded),
            QueryBounds {
                work_mem_kb: 64,
                collapse_limit: 64
            },
            "configured values are kept within what PostgreSQL accepts"
        );
    }
}
