//! Feeding an answer through its compressor, a chunk at a time on the blocking pool.

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;
use tokio::sync::mpsc;

use crate::coding::Encoder;

/// The compressed body's side of the channel: `Err` makes the server end the response without
/// its final chunk, so a client can tell a failed answer from a complete one.
pub type Out = mpsc::Sender<Result<Bytes, std::io::Error>>;

/// Compress `head` (chunks already read from the answer while deciding) and then the rest of
/// `body` into `out`, each chunk on the blocking pool so that the runtime's threads, which
/// also run the queries and every other request, never spend milliseconds deflating.
///
/// No blocking thread is held between chunks: a download waiting for its client, or for the
/// database, holds none, and so cannot starve `tokio::fs` (which result downloads read with)
/// however many downloads are in progress. The answer is streamed: at most one chunk is
/// being compressed, and the channels on either side bound what waits.
///
/// An error of the answer (a query failing mid-stream) is passed on without the coding's
/// trailer, so the client sees a broken transfer rather than a well-formed truncated body.
/// A client that goes away closes `out`; the answer is then dropped, which stops its query.
pub async fn pump(mut encoder: Encoder, head: Vec<Bytes>, mut body: Body, out: Out) {
    let mut head = head.into_iter();
    loop {
        let chunk = match head.next() {
            Some(c) => c,
            None => match body.frame().await {
                None => break,
                Some(Err(e)) => {
                    let _ = out.send(Err(std::io::Error::other(e))).await;
                    return;
                }
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => data,
                    // Trailers: none of the service's answers has them.
                    Err(_) => continue,
                },
            },
        };
        if chunk.is_empty() {
            continue;
        }
        let done = tokio::task::spawn_blocking(move || {
            let compressed = encoder.push(&chunk);
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
            Ok(bytes) if bytes.is_empty() => {}
            Ok(bytes) => {
                if out.send(Ok(bytes)).await.is_err() {
                    return;
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
