//! Request bodies: read frame by frame within the route's limit and deadline, multipart parts
//! parsed as they arrive with large file parts spooled to files, and all bodies together held
//! to `limits.bodies_in_flight_bytes`.
//!
//! Why not read the body whole and parse it then: a body is as large as the client makes it
//! (100 MiB for /sync, 500 MiB for /async by default), and three of them took the server from
//! 29 to 816 MiB. Here a body costs at most `limits.body_memory_bytes` of file parts plus
//! [`VALUES_LIMIT`] of parameter values in memory, whatever its size; the rest is on disk until
//! the upload is parsed (or copied into the job store) and is removed with the request.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::header;
use bytes::BytesMut;

use crate::tap::part::Spooling;
use crate::tap::{ErrorKind, FilePart, Params, PartData, Service, TapError};
use crate::upload::Charge;

/// The body of a request that carries no uploads (a phase change, a job search, `/tables`):
/// a form, never more than this.
pub const FORM_LIMIT: u64 = 64 * 1024;

/// A urlencoded body holds parameters only (a 1 MiB QUERY percent-encoded is at most 3 MiB);
/// tables go in multipart file parts, which can be spooled.
const URLENCODED_LIMIT: u64 = 4 << 20;

/// Parameter values (multipart fields that are not files) one body may hold in memory
/// together: a QUERY of 1 MiB and the rest.
const VALUES_LIMIT: u64 = 2 << 20;

/// File parts one body may have: more uploads than any query needs, and a bound on the spool
/// files one body can make (a body of tiny parts would otherwise make one file per part).
const MAX_FILE_PARTS: usize = 100;

/// The body beyond the file parts: parameters, part headers, boundaries.
const SLACK: u64 = 1 << 20;

/// Seconds a client is told to wait when the service is receiving too many bodies at once.
const BUSY_RETRY_AFTER_SECS: u64 = 10;

/// A body that sends nothing for this long is abandoned (408).
const BODY_IDLE: Duration = Duration::from_secs(30);

/// The slowest a body may arrive on the whole, past [`BODY_IDLE`] of grace: a client that
/// announces a large body and trickles it cannot hold the request for ever.
const BODY_MIN_RATE: u64 = 16 * 1024;

/// Parameters of a request that takes no files: the query string and a small form body
/// (in memory: 64 KiB per connection at most, so not counted against the body budget).
pub async fn read_form(req: Request) -> Result<Params, TapError> {
    let mut params = query_string(&req)?;
    let announced = announced(&req);
    if announced.is_some_and(|n| n > FORM_LIMIT) {
        return Err(body_too_large(FORM_LIMIT));
    }
    let content_type = content_type(&req);
    let mut incoming = Incoming::new(req.into_body(), FORM_LIMIT, announced, None);
    if is_multipart(&content_type) && announced != Some(0) {
        // A form sent as multipart (curl -F): its fields; files have no place here.
        let rules = PartRules {
            max_files: 0,
            memory_bytes: 0,
            spool: &|| None,
        };
        read_multipart(&content_type, incoming, &rules, &mut params).await?;
    } else {
        let body = incoming.collect().await?;
        params.add_urlencoded(&body)?;
    }
    Ok(params)
}

/// Read every parameter of a request: the query string, then a urlencoded or multipart body
/// whose file parts (inline uploads) may have `max_upload` bytes together.
pub async fn read_params(state: &Service, req: Request, max_upload: u64) -> Result<Params, TapError> {
    let mut params = query_string(&req)?;
    let announced = announced(&req);
    let content_type = content_type(&req);
    let multipart = is_multipart(&content_type) && announced != Some(0);
    let limit = if multipart {
        max_upload.saturating_add(SLACK)
    } else {
        URLENCODED_LIMIT
    };
    if let Some(n) = announced.filter(|n| *n > limit) {
        return Err(if multipart {
            body_too_large(limit)
        } else {
            TapError::too_large(format!(
                "the request body has {n} bytes; a urlencoded body holds parameters only, at most \
                 {URLENCODED_LIMIT} bytes (send tables as multipart file parts)"
            ))
        });
    }
    // The announced size is taken at once, so a client learns before it sends anything that
    // the service is too busy; a body of unknown size is charged as it arrives.
    let budget = &state.budgets.bodies;
    let charge = budget.charge(announced.unwrap_or(0)).ok_or_else(|| {
        let mut e = TapError::unavailable(format!(
            "the service is receiving {} bytes of uploads already and takes at most {} at once; \
             try again shortly",
            budget.in_flight(),
            budget.max()
        ));
        e.retry_after = Some(BUSY_RETRY_AFTER_SECS);
        e
    })?;
    let incoming = Incoming::new(req.into_body(), limit, announced, Some(charge));
    if multipart {
        let spool = || Some(state.spool_path());
        let rules = PartRules {
            max_files: max_upload,
            memory_bytes: state.config.limits.body_memory_bytes,
            spool: &spool,
        };
        let hold = read_multipart(&content_type, incoming, &rules, &mut params).await?;
        params.hold = hold.map(Arc::new);
    } else {
        let mut incoming = incoming;
        let body = incoming.collect().await?;
        params.add_urlencoded(&body)?;
        params.hold = incoming.charge.take().map(Arc::new);
    }
    Ok(params)
}

fn query_string(req: &Request) -> Result<Params, TapError> {
    let mut params = Params::default();
    if let Some(q) = req.uri().query() {
        params.add_urlencoded(q.as_bytes())?;
    }
    Ok(params)
}

fn content_type(req: &Request) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

fn is_multipart(content_type: &str) -> bool {
    content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/")
}

fn announced(req: &Request) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

fn body_too_large(limit: u64) -> TapError {
    TapError::too_large(format!("the request body is larger than {limit} bytes"))
}

/// A body arriving frame by frame: 413 past the limit, 408 when a frame does not come within
/// [`BODY_IDLE`] or the whole takes longer than its size allows at [`BODY_MIN_RATE`], 400 when
/// the transfer breaks, 503 when a body of unknown size outgrows the service's budget.
struct Incoming {
    body: Body,
    limit: u64,
    received: u64,
    deadline: tokio::time::Instant,
    /// Charged with the announced size up front, or grown frame by frame.
    charge: Option<Charge>,
    ended: bool,
}

impl Incoming {
    fn new(body: Body, limit: u64, announced: Option<u64>, charge: Option<Charge>) -> Incoming {
        let expected = announced.unwrap_or(limit);
        Incoming {
            body,
            limit,
            received: 0,
            deadline: tokio::time::Instant::now() + BODY_IDLE + Duration::from_secs(expected / BODY_MIN_RATE),
            charge,
            ended: false,
        }
    }

    /// The next piece of the body, None at its end.
    async fn next(&mut self) -> Result<Option<Bytes>, TapError> {
        use http_body_util::BodyExt;
        while !self.ended {
            let wait = BODY_IDLE.min(
                self.deadline
                    .saturating_duration_since(tokio::time::Instant::now()),
            );
            let frame = match tokio::time::timeout(wait, self.body.frame()).await {
                Err(_) => {
                    self.ended = true;
                    return Err(TapError::new(
                        ErrorKind::Timeout,
                        "the request body did not arrive in time",
                    ));
                }
                Ok(None) => {
                    self.ended = true;
                    return Ok(None);
                }
                Ok(Some(Err(e))) => {
                    self.ended = true;
                    return Err(TapError::bad_request(format!(
                        "the request body could not be read: {e}"
                    )));
                }
                Ok(Some(Ok(frame))) => frame,
            };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            self.received += data.len() as u64;
            if self.received > self.limit {
                self.ended = true;
                return Err(body_too_large(self.limit));
            }
            if let Some(charge) = self.charge.as_mut() {
                let more = self.received.saturating_sub(charge.bytes());
                if more > 0 && !charge.grow(more) {
                    self.ended = true;
                    let mut e = TapError::unavailable(
                        "the service is receiving too many uploads at once; try again shortly",
                    );
                    e.retry_after = Some(BUSY_RETRY_AFTER_SECS);
                    return Err(e);
                }
            }
            return Ok(Some(data));
        }
        Ok(None)
    }

    /// The whole body in memory (forms and urlencoded bodies, which are small).
    async fn collect(&mut self) -> Result<Bytes, TapError> {
        let mut all = BytesMut::new();
        while let Some(data) = self.next().await? {
            all.extend_from_slice(&data);
        }
        Ok(all.freeze())
    }
}

/// How the parts of one multipart body are kept.
struct PartRules<'a> {
    /// Bytes of file parts the body may have together (413 past it).
    max_files: u64,
    /// Bytes of file parts kept in memory; later ones go to spool files.
    memory_bytes: u64,
    /// A fresh spool file path; None: nothing may be spooled (413 instead).
    spool: &'a (dyn Fn() -> Option<PathBuf> + Sync),
}

/// Parse a multipart body as it arrives into `params`: fields as parameters, file parts (and
/// fields too long to be parameter values) as file parts, in memory while the body's file
/// parts fit in `rules.memory_bytes`, spooled past that. Returns the body's budget charge.
async fn read_multipart(
    content_type: &str,
    incoming: Incoming,
    rules: &PartRules<'_>,
    params: &mut Params,
) -> Result<Option<Charge>, TapError> {
    let boundary = crate::tap::params::boundary(content_type)
        .ok_or_else(|| TapError::bad_request("multipart request without a boundary in its Content-Type"))?;
    // multer sees the body's errors only as text: the error itself waits here, so that a 413,
    // 408 or 503 reaches the client as such rather than as a malformed body.
    let failure: Arc<Mutex<Option<TapError>>> = Arc::default();
    let charge: Arc<Mutex<Option<Charge>>> = Arc::default();
    let stream = body_stream(incoming, Arc::clone(&failure), Arc::clone(&charge));
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut files_in_memory: u64 = 0;
    let mut file_bytes: u64 = 0;
    let mut value_bytes: u64 = 0;
    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(failed(&failure, format!("malformed multipart body: {e}"))),
        };
        let name = field.name().unwrap_or_default().to_string();
        let is_file = field.file_name().is_some();
        if name.contains('\0') {
            // The job store keeps part names as text, which cannot hold NUL.
            return Err(TapError::bad_request(
                "a multipart part name contains a NUL character (%00), which no part name may hold",
            ));
        }
        if is_file && params.file_parts.len() >= MAX_FILE_PARTS {
            return Err(TapError::bad_request(format!(
                "the request has more than {MAX_FILE_PARTS} file parts; this service takes at most \
                 {MAX_FILE_PARTS} uploads at once"
            )));
        }
        let mut memory = BytesMut::new();
        let mut spooled: Option<Spooling> = None;
        let mut size: u64 = 0;
        loop {
            let chunk = match field.chunk().await {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    return Err(failed(
                        &failure,
                        format!("malformed multipart part '{name}': {e}"),
                    ))
                }
            };
            size += chunk.len() as u64;
            let room = if is_file {
                rules.memory_bytes.saturating_sub(files_in_memory)
            } else {
                Params::MAX_VALUE_BYTES as u64
            };
            let spill = spooled.is_none() && size > room;
            if (is_file || spill || spooled.is_some()) && file_bytes + size > rules.max_files {
                return Err(files_too_large(rules.max_files));
            }
            if spill {
                let path = (rules.spool)().ok_or_else(|| files_too_large(rules.max_files))?;
                spooled = Some(Spooling::create(path, &memory).await.map_err(spool_failed)?);
                memory = BytesMut::new();
            }
            match spooled.as_mut() {
                Some(s) => s.write(&chunk).await.map_err(spool_failed)?,
                None => memory.extend_from_slice(&chunk),
            }
        }
        match spooled {
            Some(s) => {
                // A field too long for any parameter: a table sent as an ordinary field (it
                // is found by `param:NAME` like a file part), unless it is a parameter with a
                // cap, which is the client's mistake.
                let key = name.trim().to_ascii_uppercase();
                if let Some(cap) = Params::value_cap(&key).filter(|_| !is_file) {
                    return Err(TapError::too_large(format!(
                        "parameter {key} has {size} bytes; this service takes at most {cap}"
                    )));
                }
                file_bytes += size;
                let file = s.finish().await.map_err(spool_failed)?;
                params.file_parts.push(FilePart {
                    name,
                    data: PartData::Spooled(file),
                });
            }
            None if is_file => {
                file_bytes += size;
                files_in_memory += size;
                params.file_parts.push(FilePart::in_memory(name, memory.freeze()));
            }
            None => {
                value_bytes += size;
                if value_bytes > VALUES_LIMIT {
                    return Err(TapError::too_large(format!(
                        "the parameters of the request have more than {VALUES_LIMIT} bytes together"
                    )));
                }
                let value = String::from_utf8(memory.to_vec())
                    .map_err(|_| TapError::bad_request(format!("parameter {name} is not UTF-8 text")))?;
                params.push(&name, value)?;
            }
        }
    }
    let charge = match charge.lock() {
        Ok(mut c) => c.take(),
        Err(poisoned) => poisoned.into_inner().take(),
    };
    Ok(charge)
}

/// The body as the stream multer reads; an error is kept in `failure`, and the budget charge
/// is handed to `charge` at the end of the body.
fn body_stream(
    incoming: Incoming,
    failure: Arc<Mutex<Option<TapError>>>,
    charge: Arc<Mutex<Option<Charge>>>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::unfold(Some(incoming), move |state| {
        let failure = Arc::clone(&failure);
        let charge = Arc::clone(&charge);
        async move {
            let mut incoming = state?;
            match incoming.next().await {
                Ok(Some(data)) => Some((Ok(data), Some(incoming))),
                Ok(None) => {
                    if let Ok(mut slot) = charge.lock() {
                        *slot = incoming.charge.take();
                    }
                    None
                }
                Err(e) => {
                    let message = e.message.clone();
                    if let Ok(mut slot) = failure.lock() {
                        *slot = Some(e);
                    }
                    Some((Err(std::io::Error::other(message)), None))
                }
            }
        }
    })
}

/// The error the body itself had, if any, else a malformed-body error with `message`.
fn failed(failure: &Mutex<Option<TapError>>, message: String) -> TapError {
    let kept = match failure.lock() {
        Ok(mut slot) => slot.take(),
        Err(poisoned) => poisoned.into_inner().take(),
    };
    kept.unwrap_or_else(|| TapError::bad_request(message))
}

fn files_too_large(max: u64) -> TapError {
    TapError::too_large(format!(
        "the uploaded files have more than {max} bytes, the limit of this service"
    ))
}

fn spool_failed(e: std::io::Error) -> TapError {
    TapError::internal(format!(
        "cannot write the uploaded file to the spool directory: {e}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(boundary: &str, name: &str, file: bool, content: &[u8]) -> Vec<u8> {
        let filename = if file { "; filename=\"f\"" } else { "" };
        let mut out =
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{filename}\r\n\r\n")
                .into_bytes();
        out.extend_from_slice(content);
        out.extend_from_slice(b"\r\n");
        out
    }

    async fn parse(
        body: Vec<u8>,
        boundary: &str,
        memory_bytes: u64,
        dir: &std::path::Path,
    ) -> Result<Params, TapError> {
        let n = std::sync::atomic::AtomicU64::new(0);
        let spool = || {
            let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Some(dir.join(format!("part-{i}")))
        };
        let rules = PartRules {
            max_files: 10 << 20,
            memory_bytes,
            spool: &spool,
        };
        let len = body.len() as u64;
        let incoming = Incoming::new(Body::from(body), len + 1, Some(len), None);
        let mut params = Params::default();
        let content_type = format!("multipart/form-data; boundary={boundary}");
        read_multipart(&content_type, incoming, &rules, &mut params).await?;
        Ok(params)
    }

    #[tokio::test]
    async fn parts_past_the_memory_bound_are_spooled_and_removed() {
        let dir = std::env::temp_dir().join(format!("tapir-body-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let b = "===17===";
        let mut body = part(b, "QUERY", false, b"SELECT 1");
        body.extend(part(b, "small", true, b"<VOTABLE/>"));
        body.extend(part(b, "large", true, &[b'a'; 5000]));
        // A table sent as an ordinary field, longer than any parameter value may be.
        body.extend(part(b, "field", false, &vec![b'f'; (1 << 20) + 10]));
        body.extend(format!("--{b}--\r\n").into_bytes());
        let params = parse(body, b, 1000, &dir).await.expect("parsed");
        assert_eq!(params.get("query"), Some("SELECT 1"));
        let kinds: Vec<(String, bool, u64)> = params
            .file_parts
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    matches!(p.data, PartData::Spooled(_)),
                    p.data.size(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("small".to_string(), false, 10),
                ("large".to_string(), true, 5000),
                ("field".to_string(), true, (1 << 20) + 10),
            ]
        );
        let large = params.file_part("large").expect("large");
        assert_eq!(&large.data.bytes().await.expect("read")[..], &[b'a'; 5000][..]);
        assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 2);
        drop(params);
        assert_eq!(
            std::fs::read_dir(&dir).expect("dir").count(),
            0,
            "spool files removed"
        );

        // A QUERY too long to be one is the client's mistake, and leaves no file behind.
        let mut body = part(b, "QUERY", false, &vec![b'q'; (1 << 20) + 1]);
        body.extend(format!("--{b}--\r\n").into_bytes());
        let e = parse(body, b, 1000, &dir).await.expect_err("refused");
        assert_eq!(e.kind, ErrorKind::TooLarge);
        assert!(e.message.contains("parameter QUERY"), "{}", e.message);
        assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 0);

        // A part name the job store could not keep: the user's mistake (multer already refuses
        // a raw NUL in a part's headers; the name check is there should that change).
        let mut body = part(b, "a\0b", true, b"x");
        body.extend(format!("--{b}--\r\n").into_bytes());
        let e = parse(body, b, 1000, &dir).await.expect_err("refused");
        assert_eq!(e.kind, ErrorKind::BadRequest, "{}", e.message);

        // A body of many tiny parts cannot make a spool file each.
        let mut body = Vec::new();
        for i in 0..=MAX_FILE_PARTS {
            body.extend(part(b, &format!("p{i}"), true, b"x"));
        }
        body.extend(format!("--{b}--\r\n").into_bytes());
        let e = parse(body, b, 0, &dir).await.expect_err("refused");
        assert_eq!(e.kind, ErrorKind::BadRequest);
        assert!(e.message.contains("more than 100 file parts"), "{}", e.message);
        assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
