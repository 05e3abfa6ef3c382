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

/// The DALI error document, with `line`, `column` and `hint` INFOs after `QUERY_STATUS` when
/// the error is in the ADQL text: the query page marks the place in its editor from them, and
/// clients that read `QUERY_STATUS` alone (pyvo, TapPlus, taplint) see the document as before.
fn error_body(e: &TapError) -> Vec<u8> {
    let mut infos: Vec<(&str, String)> = Vec::new();
    if let Some(p) = e.position {
        infos.push(("line", p.line.to_string()));
        infos.push(("column", p.column.to_string()));
    }
    if let Some(h) = &e.hint {
        infos.push(("hint", h.clone()));
    }
    let refs: Vec<(&str, &str)> = infos.iter().map(|(k, v)| (*k, v.as_str())).collect();
    votable::error_document_with(&e.message, &refs)
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
                error_body(&self),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adql_error_says_where_it_is_in_extra_infos() {
        let e = adql::AdqlError::new(adql::ErrorKind::UnknownName, "column 'rra' not found")
            .at(Some(adql::Position { line: 2, column: 8 }))
            .with_hint("did you mean 'ra'?");
        let body = String::from_utf8(error_body(&TapError::from(e))).unwrap_or_default();
        // QUERY_STATUS first and spelt as TapPlus searches for it; the position after it.
        let status = body.find("<INFO name=\"QUERY_STATUS\" value=\"ERROR\">ADQL unknown name");
        let line = body.find("<INFO name=\"line\" value=\"2\"/>");
        assert!(status.is_some() && line.is_some() && status < line, "{body}");
        assert!(body.contains("<INFO name=\"column\" value=\"8\"/>"), "{body}");
        assert!(
            body.contains("<INFO name=\"hint\" value=\"did you mean &apos;ra&apos;?\"/>")
                || body.contains("<INFO name=\"hint\" value=\"did you mean 'ra'?\"/>"),
            "{body}"
        );
        let plain = String::from_utf8(error_body(&TapError::bad_request("MAXREC must be a number")))
            .unwrap_or_default();
        assert!(!plain.contains("name=\"line\""), "{plain}");
    }
}
