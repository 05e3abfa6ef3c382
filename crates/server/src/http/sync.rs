//! `/sync`: run an ADQL query and stream the result (TAP §2.2).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::io::AsyncReadExt;
use tokio::sync::{mpsc, oneshot};

use super::body::read_params;
use crate::exec::file::FileOutcome;
use crate::exec::{self, Outcome, QueryRun, Sink};
use crate::tap::pipeline;
use crate::tap::Service;
use crate::tap::TapError;
use crate::upload;

/// Chunks in flight between the query task and the HTTP body: back-pressure beyond that.
const CHANNEL_DEPTH: usize = 4;

/// The receiving end as a body stream. Unlike `stream::unfold` it may be polled again after
/// its end (a body wrapper may do that).
pub(crate) struct ChunkStream(pub(crate) mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl futures_util::Stream for ChunkStream {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// Chunks to the HTTP body.
struct ChannelSink(mpsc::Sender<Result<Bytes, std::io::Error>>);

impl Sink for ChannelSink {
    async fn send(&mut self, chunk: Vec<u8>) -> bool {
        self.0.send(Ok(Bytes::from(chunk))).await.is_ok()
    }

    async fn abort(&mut self, message: &str) {
        // An error item makes the server end the response without its final chunk.
        let _ = self.0.send(Err(std::io::Error::other(message.to_string()))).await;
    }
}

pub async fn sync(State(state): State<Arc<Service>>, req: Request) -> Response {
    let started = Instant::now();
    let id = state.metrics.next_request_id();
    let result = run_sync(&state, req, id, started).await;
    match result {
        Ok(r) => r,
        Err(e) => {
            state.metrics.query_finished("error", started.elapsed(), 0, 0);
            tracing::info!(request = id, kind = ?e.kind, "sync query refused: {}", e.message);
            e.into_response()
        }
    }
}

/// How long a client is told to wait before trying again when every sync connection is busy.
pub(crate) const SYNC_RETRY_AFTER_SECS: u64 = 5;

/// A connection for a sync query, waiting at most `limits.sync_queue_wait_secs` for one to be
/// free: past that the service is saturated and says so with 503 + Retry-After instead of
/// holding the request for as long as others run (one client's excess is a 429 earlier, in
/// `http::per_client`). A database that cannot be reached is a 503 without Retry-After.
pub(crate) async fn sync_connection(state: &Service) -> Result<deadpool_postgres::Object, TapError> {
    let timeouts = deadpool_postgres::Timeouts {
        wait: Some(Duration::from_secs(state.config.limits.sync_queue_wait_secs)),
        create: Some(Duration::from_secs(15)),
        recycle: Some(Duration::from_secs(15)),
    };
    match state.sync_pool.timeout_get(&timeouts).await {
        Ok(client) => Ok(client),
        Err(deadpool_postgres::PoolError::Timeout(deadpool_postgres::TimeoutType::Wait)) => {
            tracing::warn!(
                waited_secs = state.config.limits.sync_queue_wait_secs,
                "every sync connection is busy: answering 503"
            );
            Err(TapError::busy(
                format!(
                    "all {} connections for synchronous queries are busy; try again shortly, or \
                     submit the query as an asynchronous job",
                    state.sync_pool.status().max_size
                ),
                SYNC_RETRY_AFTER_SECS,
            ))
        }
        Err(e) => Err(TapError::unavailable(format!(
            "no database connection available: {e}"
        ))),
    }
}

async fn run_sync(
    state: &Arc<Service>,
    req: Request,
    id: u64,
    started: Instant,
) -> Result<Response, TapError> {
    let caller = super::auth::caller_of(&req);
    let params = read_params(state, req, state.config.limits.upload_max_bytes).await?;
    let prepared = pipeline::prepare(state, &caller, &params, upload::Limits::sync(state)).await?;
    let qr = &prepared.request;
    tracing::info!(request = id, maxrec = qr.maxrec, uploads = prepared.uploads.len(), query = %qr.query, "sync query");
    let client = sync_connection(state).await?;
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(CHANNEL_DEPTH);
    let (ready_tx, ready_rx) = oneshot::channel();
    let timeout = Duration::from_secs(state.config.limits.sync_timeout_secs);
    let content_type = qr.format.content_type.clone();
    let content_encoding = qr.format.format.content_encoding();
    let task_state = Arc::clone(state);
    // Dropped with this handler if the client goes away before the answer begins; sent once
    // the answer is handed over. Until then the query is ours to cancel.
    let (waiting, gone) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let cancel = client.cancel_token();
        let mut work = Box::pin(async {
            if let Err(message) = prepared.load_uploads(&task_state, &client).await {
                let _ = ready_tx.send(Err(exec::QueryError {
                    user_error: true,
                    message,
                }));
                return;
            }
            let mut writer = prepared.request.format.writer();
            let mut run = prepared.run(&task_state, timeout, None);
            // Told to go async before the database pays for it (issue 12).
            let max_cost = task_state.config.limits.sync_max_cost;
            run.max_cost = (max_cost > 0.0).then_some(max_cost);
            let outcome = if writer.needs_patch() {
                spooled(&task_state, &client, &run, writer.as_mut(), tx, ready_tx).await
            } else {
                let mut sink = ChannelSink(tx);
                exec::run(&client, &run, writer.as_mut(), &mut sink, ready_tx).await
            };
            prepared.unload_uploads(&client).await;
            record(&task_state, id, started, &outcome);
        });
        // None: the work is done. Some(true): the handler was dropped before the answer began.
        let waited = tokio::select! {
            _ = &mut work => None,
            answer = gone => Some(answer.is_err()),
        };
        let abandoned = waited == Some(true);
        if abandoned {
            // The client left while the query was planning, loading or waiting for its first
            // row: stop it in the database now rather than when it would send its first rows.
            // A cancel that lands between two statements is lost, so it is repeated until the
            // work has ended.
            tracing::info!(
                request = id,
                "the client went away before the answer began: cancelling"
            );
            loop {
                if let Err(e) = cancel.cancel_query(tokio_postgres::NoTls).await {
                    tracing::warn!(request = id, "could not cancel an abandoned query: {e}");
                }
                if tokio::time::timeout(Duration::from_millis(250), &mut work)
                    .await
                    .is_ok()
                {
                    break;
                }
            }
        } else if waited.is_some() {
            (&mut work).await;
        }
        drop(work);
        if abandoned {
            // A cancel can land on whatever statement the connection runs next: do not hand
            // this connection to another request.
            let _ = deadpool_postgres::Object::take(client);
        }
    });
    let ready = ready_rx.await;
    let _ = waiting.send(());
    match ready {
        Ok(Ok(())) => {
            let mut response = (
                StatusCode::OK,
                [(header::CONTENT_TYPE, content_type)],
                Body::from_stream(ChunkStream(rx)),
            )
                .into_response();
            if let Some(encoding) = content_encoding {
                // The writer compressed the body (votable_gzip); the header also keeps the
                // compression layer from compressing it a second time.
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
            }
            Ok(response)
        }
        Ok(Err(e)) if e.user_error => Err(TapError::bad_request(e.message)),
        Ok(Err(e)) => Err(TapError::internal(e.message)),
        Err(_) => Err(TapError::internal("the query task ended unexpectedly")),
    }
}

/// FITS and other patched formats: write to a spool file, patch its header, then send it.
async fn spooled(
    state: &Service,
    client: &tokio_postgres::Client,
    run: &QueryRun<'_>,
    writer: &mut dyn votable::ResultWriter,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    ready: oneshot::Sender<Result<(), exec::QueryError>>,
) -> Outcome {
    let path = state.spool_path();
    // Nothing goes to the client until the file is complete; the client waits on `ready`.
    let outcome = match exec::file::run_to_file(client, run, writer, &path, false).await {
        FileOutcome::Rejected(e) => {
            let _ = ready.send(Err(e));
            Outcome::Rejected
        }
        FileOutcome::Ran { outcome, file } => {
            let _ = ready.send(Ok(()));
            match &outcome {
                // A late error the file cannot show: fail the transfer rather than send it.
                Outcome::Failed { message, .. } if !writer.reports_errors() => {
                    let _ = tx.send(Err(std::io::Error::other(message.clone()))).await;
                }
                _ => send_file(file, &tx).await,
            }
            outcome
        }
    };
    if let Err(e) = tokio::fs::remove_file(&path).await {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!("cannot remove spool file {}: {e}", path.display());
        }
    }
    outcome
}

/// Copy a file into a body channel, 64 KiB at a time; a read error aborts the transfer.
pub(crate) async fn send_file<R: tokio::io::AsyncRead + Unpin>(
    mut file: R,
    tx: &mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut chunk).await {
            Ok(0) => break,
            Ok(n) => {
                if tx.send(Ok(Bytes::copy_from_slice(&chunk[..n]))).await.is_err() {
                    break;
                }
            }
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                break;
            }
        }
    }
}

fn record(state: &Service, id: u64, started: Instant, outcome: &Outcome) {
    let elapsed = started.elapsed();
    let (label, rows, bytes) = match outcome {
        Outcome::Complete { rows, bytes } => ("ok", *rows, *bytes),
        Outcome::Overflow { rows, bytes } => ("overflow", *rows, *bytes),
        Outcome::Cancelled { rows } => ("cancelled", *rows, 0),
        Outcome::Failed { rows, .. } => ("error", *rows, 0),
        // Refused before it started: the request handler counts and logs it.
        Outcome::Rejected => return,
    };
    state.metrics.query_finished(label, elapsed, rows, bytes);
    tracing::info!(
        request = id,
        outcome = label,
        rows,
        bytes,
        ms = elapsed.as_millis() as u64,
        "sync query finished"
    );
}
