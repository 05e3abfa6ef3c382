//! The one error type of the HTTP layer, answered as a DALI error document.
//!
//! The user's mistakes are 4xx, ours are 5xx (and logged), and the body is always the
//! VOTable with `<INFO name="QUERY_STATUS" value="ERROR">message</INFO>`, which pyvo,
//! TapPlus and taplint all parse.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapError {
    pub status: StatusCode,
    pub message: String,
    /// Seconds for a `Retry-After` header (429 and 503 answers that expect a retry).
    pub retry_after: Option<u64>,
}

impl TapError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        TapError {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// Too much at once (the sync connections are all busy, the job queue is full): 429 with
    /// `Retry-After`, which pyvo turns into `DALRateLimitError` and polite clients obey.
    pub fn too_many(message: impl Into<String>, retry_after_secs: u64) -> Self {
        TapError {
            retry_after: Some(retry_after_secs),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, message)
        }
    }

    /// The client's mistake: bad parameters, a bad query.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// Our failure: logged in full, reported to the client in general terms.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }
}

impl From<adql::AdqlError> for TapError {
    fn from(e: adql::AdqlError) -> Self {
        TapError::bad_request(format!("ADQL {e}"))
    }
}

impl IntoResponse for TapError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = %self.status, "{}", self.message);
        }
        // A 429 is the transport saying "not now", not an answer to the query: plain text,
        // so that pyvo's sync path, which parses a VOTable body before it looks at the
        // status, raises DALRateLimitError (with Retry-After) rather than a DALQueryError.
        let mut response = if self.status == StatusCode::TOO_MANY_REQUESTS {
            (
                self.status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                self.message,
            )
                .into_response()
        } else {
            (
                self.status,
                [(header::CONTENT_TYPE, "application/x-votable+xml")],
                votable::error_document(&self.message),
            )
                .into_response()
        };
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        response
    }
}
