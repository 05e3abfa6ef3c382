//! Accepting connections with bounds a public service needs (issue 12): at most
//! `server.max_connections` at once (more are closed at once), the request headers within
//! `server.header_timeout_secs` of the connection being ready for them — which also closes a
//! keep-alive connection left idle that long and a slowloris one sending a byte at a time —
//! and a graceful stop that lets requests in flight finish.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

use super::tls::TlsSource;
use crate::config::ServerConfig;

/// How long in-flight requests get to finish after the stop signal.
const DRAIN: Duration = Duration::from_secs(30);

/// Serve `app` on `listener` (over TLS when `tls` is given) until `stop` resolves, then drain.
pub async fn serve<S>(
    listener: TcpListener,
    app: S,
    cfg: &ServerConfig,
    tls: Option<Arc<TlsSource>>,
    stop: impl std::future::Future<Output = ()>,
) where
    S: tower::Service<Request, Response = axum::response::Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
{
    let max = cfg.max_connections.max(1);
    let slots = Arc::new(Semaphore::new(max));
    let (stopping, stopped) = watch::channel(false);
    let header_timeout = Duration::from_secs(cfg.header_timeout_secs.max(1));
    tokio::pin!(stop);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::warn!(%peer, max, "too many connections: closing a new one");
            drop(tcp);
            continue;
        };
        // Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm
        // and the client's delayed ACK hold small responses back for 40 ms.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!("cannot set TCP_NODELAY: {e}");
        }
        let https = tls.is_some();
        let service = app.clone().map_request(move |req: hyper::Request<Incoming>| {
            let mut req = req.map(Body::new);
            // Per-client limits need the peer (http::client); credentials need to know
            // whether the request came over TLS (http::auth).
            req.extensions_mut().insert(super::client::Peer(peer));
            if https {
                req.extensions_mut().insert(super::auth::Https);
            }
            req
        });
        let stopped = stopped.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => connection(TokioIo::new(tcp), service, header_timeout, stopped).await,
                Some(source) => {
                    let acceptor = tokio_rustls::TlsAcceptor::from(source.current());
                    // The handshake has the headers' time limit: a client that opens a
                    // connection and says nothing is closed just the same.
                    match tokio::time::timeout(header_timeout, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            connection(TokioIo::new(stream), service, header_timeout, stopped).await
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
            drop(slot);
        });
    }
    let _ = stopping.send(true);
    // Every connection holds a slot until it ends: taking them all means all have ended.
    let drained = tokio::time::timeout(DRAIN, slots.acquire_many(max as u32)).await;
    if drained.is_err() {
        tracing::warn!(
            "some connections were still open {} s after the stop",
            DRAIN.as_secs()
        );
    }
}

/// One HTTP/1.1 connection over `io` (plain TCP or TLS), closed gracefully when `stopped`
/// turns true.
async fn connection<I, S>(
    io: TokioIo<I>,
    service: S,
    header_timeout: Duration,
    mut stopped: watch::Receiver<bool>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: tower::Service<hyper::Request<Incoming>, Response = axum::response::Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let conn = builder
        .serve_connection(io, TowerToHyperService::new(service))
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = async { let _ = stopped.wait_for(|s| *s).await.map(|_| ()); } => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
