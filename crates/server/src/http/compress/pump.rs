//! Feeding an answer through its compressor, a chunk at a time on the blocking pool.

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;
use tokio::sync::mpsc;

use crate::coding::Encoder;

/// The most uncompressed bytes compressed in one trip to the blocking pool.
const BATCH: usize = 512 * 1024;

/// The compressed body's side of the channel: `Err` makes the server end the response without
/// its final chunk, so a client can tell a failed answer from a complete one.
pub type Out = mpsc::Sender<Result<Bytes, std::io::Error>>;

/// Compress `head` (chunks already read from the answer while deciding) and then the rest of
/// `body` into `out`, on the blocking pool so that the runtime's threads, which also run the
/// queries and every other request, never spend milliseconds deflating.
///
/// No blocking thread is held between batches: a download waiting for its client, or for the
/// database, holds none, and so cannot starve `tokio::fs` (which result downloads read with)
/// however many downloads are in progress. The answer is streamed: one batch of at most
/// [`BATCH`] bytes is being compressed at a time, and the channels on either side bound what
/// waits.
///
/// An error of the answer (a query failing mid-stream) is passed on without the coding's
/// trailer, so the client sees a broken transfer rather than a well-formed truncated body.
/// A client that goes away closes `out`; the answer is then dropped, which stops its query.
pub async fn pump(mut encoder: Encoder, head: Vec<Bytes>, mut body: Body, out: Out) {
    use futures_util::FutureExt;
    let mut head = head.into_iter();
    let mut ended = false;
    while !ended {
        // A batch: the chunks read while deciding, then whatever the answer has ready, up to
        // BATCH bytes; it waits only when nothing at all is ready. On a busy machine each trip
        // to the blocking pool waits for a thread to be scheduled, so fewer, larger trips keep
        // up better than one per 64 KiB chunk.
        let mut batch: Vec<Bytes> = Vec::new();
        let mut size = 0;
        while size < BATCH {
            if let Some(c) = head.next() {
                size += c.len();
                batch.push(c);
                continue;
            }
            let next = if batch.is_empty() {
                Some(body.frame().await)
            } else {
                body.frame().now_or_never()
            };
            match next {
                // Nothing more ready: compress what there is.
                None => break,
                Some(None) => {
                    ended = true;
                    break;
                }
                Some(Some(Err(e))) => {
                    let _ = out.send(Err(std::io::Error::other(e))).await;
                    return;
                }
                Some(Some(Ok(frame))) => {
                    // Trailers: none of the service's answers has them.
                    if let Ok(data) = frame.into_data() {
                        size += data.len();
                        batch.push(data);
                    }
                }
            }
        }
        if size == 0 {
            continue;
        }
        let done = tokio::task::spawn_blocking(move || {
            let compressed: std::io::Result<Vec<Bytes>> = batch
                .iter()
                .map(|chunk| encoder.push(chunk))
                .filter(|r| !matches!(r, Ok(b) if b.is_empty()))
                .collect();
            (encoder, compressed)
        })
        .await;
        let (back, compressed) = match done {
            Ok(done) => done,
            Err(e) => {
                let _ = out.send(Err(stopped(e))).await;
                return;
            }
        };
        encoder = back;
        match compressed {
            Ok(pieces) => {
                for piece in pieces {
                    if out.send(Ok(piece)).await.is_err() {
                        return;
                    }
                }
            }
            Err(e) => {
                tracing::warn!("cannot compress an answer: {e}");
                let _ = out.send(Err(e)).await;
                return;
            }
        }
    }
    let last = match tokio::task::spawn_blocking(move || encoder.finish()).await {
        Ok(last) => last,
        Err(e) => Err(stopped(e)),
    };
    let _ = out.send(last).await;
}

/// A compressor task that panicked or was cancelled (the runtime shutting down).
fn stopped(e: tokio::task::JoinError) -> std::io::Error {
    tracing::warn!("a compressor stopped: {e}");
    std::io::Error::other(format!("the compressor stopped: {e}"))
}
