//! Response compression (`Content-Encoding`, issue 13), in place of tower-http's layer.
//!
//! Every Python `requests` user (pyvo, astroquery) sends `Accept-Encoding: gzip`, so the
//! compressor sits on the path of nearly every result a scientist downloads. tower-http's
//! layer deflated at the default level on the request's own task: a 200,000-row BINARY2
//! result took 2.9 s instead of 0.24 s. This layer instead
//! - prefers zstd over gzip when both are accepted, and compresses at fast levels
//!   (`compression.zstd_level`, `compression.gzip_level`, 1 by default): binary VOTables
//!   gain little from harder work, and the point is to be no slower than the network;
//! - compresses a batch of ready chunks at a time on the blocking pool ([`pump::pump`]),
//!   streaming;
//! - lets async result downloads use the compressed copies stored when the job ended
//!   (`http/jobs.rs::stored_copy`, `coding::write_copies`): those pass here already encoded;
//! - leaves alone what would not gain: answers under `compression.min_bytes`, answers that
//!   already have a `Content-Encoding` (`votable_gzip`, stored gzip results), compact formats
//!   (Parquet, gzip, zstd, zip, images), `Cache-Control: no-transform`, and partial content:
//!   a request with `Range` is answered uncompressed, so byte ranges always count bytes of
//!   the result as stored and a resumed download fits the part already saved;
//! - says `Vary: Accept-Encoding` on every answer it could have compressed.

mod pump;

use std::sync::Arc;

use axum::body::HttpBody as _;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt;
use tokio::sync::mpsc;

use crate::coding::{accept, compact, Encoder};
use crate::config::CompressionConfig;

/// Compressed chunks waiting for the client: back-pressure beyond that (as for `/sync`).
const CHANNEL_DEPTH: usize = 4;

/// The layer's settings, from `[compression]`.
#[derive(Debug, Clone)]
pub struct Settings(CompressionConfig);

impl Settings {
    pub fn new(c: &CompressionConfig) -> Settings {
        Settings(c.clone())
    }
}

/// The middleware (`axum::middleware::from_fn_with_state`).
pub async fn layer(State(settings): State<Arc<Settings>>, req: Request, next: Next) -> Response {
    let offer = crate::coding::Offer::from_config(&settings.0);
    // HEAD has no body to compress; a Range request is answered as stored (module doc).
    if !(offer.zstd || offer.gzip)
        || req.method() == Method::HEAD
        || req.headers().contains_key(header::RANGE)
    {
        return next.run(req).await;
    }
    let accepted = req
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok());
    let coding = accept::choose(accepted, offer);
    let response = next.run(req).await;
    if !compressible(response.status(), response.headers()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    add_vary(&mut parts.headers);
    let Some(coding) = coding else {
        return Response::from_parts(parts, body);
    };
    let known = body
        .size_hint()
        .exact()
        .or_else(|| content_length(&parts.headers));
    let (head, rest) = match known {
        Some(n) if n < settings.0.min_bytes => return Response::from_parts(parts, body),
        Some(_) => (Vec::new(), body),
        // A streamed answer (a query's rows): read until the minimum size is reached, or the
        // answer ends below it. The query task sends 64 KiB chunks, so this is one chunk.
        None => match peek(body, settings.0.min_bytes).await {
            Peeked::Open(head, rest) => (head, rest),
            Peeked::Whole(head) => return Response::from_parts(parts, Body::from(concat(head))),
            Peeked::Failed(head, e) => {
                let chunks = head.into_iter().map(Ok).chain(std::iter::once(Err(e)));
                return Response::from_parts(parts, Body::from_stream(futures_util::stream::iter(chunks)));
            }
        },
    };
    let level = coding.level(&settings.0).unwrap_or(1);
    let encoder = match Encoder::new(coding, level) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(
                "cannot start a {} compressor, answering uncompressed: {e}",
                coding.token()
            );
            return Response::from_parts(parts, prepend(head, rest));
        }
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding.token()));
    let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
    tokio::spawn(pump::pump(encoder, head, rest, tx));
    Response::from_parts(parts, Body::from_stream(super::sync::ChunkStream(rx)))
}

/// Whether an answer may be compressed at all (whatever the client accepts).
fn compressible(status: StatusCode, headers: &HeaderMap) -> bool {
    let has_body = status.is_success() || status.is_client_error() || status.is_server_error();
    if !has_body || status == StatusCode::NO_CONTENT || status == StatusCode::PARTIAL_CONTENT {
        return false;
    }
    // Never twice (votable_gzip, stored gzip results, anything a handler encoded itself).
    if headers.contains_key(header::CONTENT_ENCODING) {
        return false;
    }
    let no_transform = headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|d| d.trim().eq_ignore_ascii_case("no-transform"));
    if no_transform {
        return false;
    }
    match headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        Some(t) => !compact(t),
        None => true,
    }
}

/// `Vary: Accept-Encoding`, added to what is there, once.
pub(crate) fn add_vary(headers: &mut HeaderMap) {
    let present = headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| {
            let v = v.trim();
            v == "*" || v.eq_ignore_ascii_case("accept-encoding")
        });
    if !present {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The start of a streamed answer, read to decide whether to compress it.
enum Peeked {
    /// At least the minimum size was read; the rest follows in the body.
    Open(Vec<Bytes>, Body),
    /// The answer ended below the minimum size.
    Whole(Vec<Bytes>),
    /// The answer failed before the minimum size: sent as it is, error included.
    Failed(Vec<Bytes>, axum::Error),
}

async fn peek(mut body: Body, min_bytes: u64) -> Peeked {
    let mut head = Vec::new();
    let mut read: u64 = 0;
    while read < min_bytes {
        match body.frame().await {
            None => return Peeked::Whole(head),
            Some(Err(e)) => return Peeked::Failed(head, e),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    read += data.len() as u64;
                    head.push(data);
                }
            }
        }
    }
    Peeked::Open(head, body)
}

fn concat(chunks: Vec<Bytes>) -> Bytes {
    match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.into_iter().next().unwrap_or_default(),
        _ => chunks.concat().into(),
    }
}

/// `head` followed by the rest of `body`, uncompressed.
fn prepend(head: Vec<Bytes>, body: Body) -> Body {
    use futures_util::StreamExt;
    let head = futures_util::stream::iter(head.into_iter().map(Ok::<_, axum::Error>));
    Body::from_stream(head.chain(body.into_data_stream()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coding::Coding;
    use std::io::Read;

    #[test]
    fn what_is_compressed() {
        let with = |pairs: &[(header::HeaderName, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.append(k.clone(), HeaderValue::from_static(v));
            }
            h
        };
        let votable = with(&[(
            header::CONTENT_TYPE,
            "application/x-votable+xml;serialization=BINARY2",
        )]);
        assert!(compressible(StatusCode::OK, &votable));
        assert!(compressible(StatusCode::BAD_REQUEST, &votable));
        assert!(!compressible(StatusCode::PARTIAL_CONTENT, &votable));
        assert!(!compressible(StatusCode::NO_CONTENT, &votable));
        assert!(!compressible(StatusCode::SEE_OTHER, &votable));
        assert!(!compressible(StatusCode::NOT_MODIFIED, &votable));
        assert!(compressible(StatusCode::OK, &HeaderMap::new()));
        let gz = with(&[
            (header::CONTENT_TYPE, "application/x-votable+xml"),
            (header::CONTENT_ENCODING, "gzip"),
        ]);
        assert!(!compressible(StatusCode::OK, &gz));
        let parquet = with(&[(header::CONTENT_TYPE, "application/vnd.apache.parquet")]);
        assert!(!compressible(StatusCode::OK, &parquet));
        assert!(!compressible(
            StatusCode::OK,
            &with(&[(header::CONTENT_TYPE, "Image/PNG")])
        ));
        assert!(compressible(
            StatusCode::OK,
            &with(&[(header::CONTENT_TYPE, "image/svg+xml")])
        ));
        let no_transform = with(&[
            (header::CONTENT_TYPE, "text/csv"),
            (header::CACHE_CONTROL, "private, No-Transform"),
        ]);
        assert!(!compressible(StatusCode::OK, &no_transform));
    }

    #[test]
    fn vary_is_added_once() {
        let mut h = HeaderMap::new();
        h.insert(header::VARY, HeaderValue::from_static("origin"));
        add_vary(&mut h);
        add_vary(&mut h);
        let all: Vec<_> = h.get_all(header::VARY).iter().collect();
        assert_eq!(all, ["origin", "accept-encoding"]);
    }

    /// Both codings decode to the bytes that went in, fed in uneven chunks.
    #[tokio::test]
    async fn round_trip() {
        let data: Vec<u8> = (0..300_000u32).flat_map(|i| (i % 977).to_le_bytes()).collect();
        for coding in [Coding::Gzip, Coding::Zstd] {
            let chunks: Vec<Result<Bytes, std::io::Error>> = data
                .chunks(70_001)
                .map(|c| Ok(Bytes::copy_from_slice(c)))
                .collect();
            let body = Body::from_stream(futures_util::stream::iter(chunks));
            let head = vec![Bytes::new()];
            let (tx, mut rx) = mpsc::channel(CHANNEL_DEPTH);
            let encoder = Encoder::new(coding, 1).expect("encoder");
            tokio::spawn(pump::pump(encoder, head, body, tx));
            let mut compressed = Vec::new();
            while let Some(c) = rx.recv().await {
                compressed.extend_from_slice(&c.expect("no error"));
            }
            assert!(
                compressed.len() < data.len() / 2,
                "{coding:?}: {}",
                compressed.len()
            );
            let mut back = Vec::new();
            match coding {
                Coding::Gzip => flate2::read::GzDecoder::new(&compressed[..])
                    .read_to_end(&mut back)
                    .expect("gzip decodes"),
                Coding::Zstd => zstd::stream::read::Decoder::new(&compressed[..])
                    .expect("zstd decoder")
                    .read_to_end(&mut back)
                    .expect("zstd decodes"),
            };
            assert_eq!(back, data, "{coding:?}");
        }
    }

    /// An answer that fails mid-stream ends in an error, without the coding's trailer.
    #[tokio::test]
    async fn errors_are_passed_on() {
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(Bytes::from(vec![b'a'; 100_000])),
            Err(std::io::Error::other("the query failed")),
        ];
        let body = Body::from_stream(futures_util::stream::iter(chunks));
        let (tx, mut rx) = mpsc::channel(CHANNEL_DEPTH);
        let encoder = Encoder::new(Coding::Gzip, 1).expect("encoder");
        tokio::spawn(pump::pump(encoder, Vec::new(), body, tx));
        let mut items = Vec::new();
        while let Some(c) = rx.recv().await {
            items.push(c);
        }
        assert!(matches!(items.last(), Some(Err(_))), "{items:?}");
    }
}
