//! TAP errors as HTTP answers: the one place where an error kind becomes a status code.
//!
//! The body is the DALI error VOTable with `<INFO name="QUERY_STATUS" value="ERROR">message</INFO>`,
//! which pyvo, TapPlus and taplint all parse; a "come back later" answer (429, or 503 with
//! Retry-After) is plain text (see below).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::tap::{ErrorKind, TapError};

/// The status code of each kind of error.
pub fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Timeout => StatusCode::REQUEST_TIMEOUT,
        ErrorKind::TooMany => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for TapError {
    fn into_response(self) -> Response {
        let code = status(self.kind);
        if self.is_ours() {
            tracing::error!(status = %code, "{}", self.message);
        }
        // A 429 or a 503 with Retry-After is the transport saying "not now", not an answer to
        // the query: plain text, so that pyvo's sync path, which parses a VOTable body before
        // it looks at the status, raises DALRateLimitError (429, with Retry-After) or
        // DALServiceError (503) rather than a DALQueryError that reads like a wrong query.
        let mut response = if self.kind == ErrorKind::TooMany || self.retry_after.is_some() {
            (
                code,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                self.message,
            )
                .into_response()
        } else {
            (
                code,
                [(header::CONTENT_TYPE, "application/x-votable+xml")],
                votable::error_document(&self.message),
            )
                .into_response()
        };
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
