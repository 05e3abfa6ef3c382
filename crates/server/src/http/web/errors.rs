//! Errors for people: when a browser's request to a job endpoint or a page fails (a change a
//! running job does not allow, a job that is not there, a wrong job number), the error
//! VOTable or text that programs get becomes a page saying the same message, with the same
//! status, and a way back. Programs keep getting exactly what they got.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::negotiate::prefers_html;
use super::page::Page;
use crate::http::auth::caller_of;
use crate::tap::Service;

/// Error bodies are short; a longer one is cut (the message is at its start).
const MAX_ERROR_BODY: usize = 256 * 1024;

/// The layer on the job endpoints and the job pages (`http::router`, `web::routes`).
pub async fn html_errors(State(state): State<Arc<Service>>, req: Request, next: Next) -> Response {
    // Programs (every UWS client) pass straight through, at no cost.
    if !prefers_html(req.headers()) {
        return next.run(req).await;
    }
    let caller = caller_of(&req);
    let path = req.uri().path().to_string();
    let response = next.run(req).await;
    let status = response.status();
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_html {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_ERROR_BODY)
        .await
        .unwrap_or_default();
    let message = message_of(&String::from_utf8_lossy(&bytes));
    let mut page = Page::new(title(status));
    page.status = status;
    let base = &state.config.server.base_path;
    page.body = format!(
        "<p id=\"message\" class=\"error\">{}</p>\n",
        xmltext::text(&message)
    );
    page.body.push_str("<p class=\"links\">");
    if let Some(job) = job_path(base, &path) {
        if status != StatusCode::NOT_FOUND {
            page.body.push_str(&format!(
                "<a href=\"{}\">Back to the job</a> · ",
                xmltext::attr(&job)
            ));
        }
    }
    page.body.push_str(&format!(
        "<a href=\"{b}/manage\">Manage a job by its number</a> · <a href=\"{b}/myjobs\">My jobs</a></p>\n",
        b = xmltext::attr(base)
    ));
    let mut out = page.respond(&state.config, &caller);
    for keep in [header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = parts.headers.get(&keep) {
            out.headers_mut().insert(keep, v.clone());
        }
    }
    out
}

fn title(status: StatusCode) -> String {
    match status {
        StatusCode::NOT_FOUND => "Not found".into(),
        StatusCode::FORBIDDEN => "Not allowed".into(),
        StatusCode::BAD_REQUEST => "Cannot do that".into(),
        StatusCode::UNAUTHORIZED => "Please log in".into(),
        StatusCode::TOO_MANY_REQUESTS => "Too busy: try again later".into(),
        s => format!("Error {}", s.as_u16()),
    }
}

/// `{base}/async/{id}` of a path under a job, if it is one. Inside the base path's router
/// (`Router::nest`) the path has lost the base already.
fn job_path(base: &str, path: &str) -> Option<String> {
    let rest = path.strip_prefix(base).unwrap_or(path).strip_prefix("/async/")?;
    let id = rest.split('/').next()?;
    uws::looks_like_job_id(id).then(|| format!("{base}/async/{id}"))
}

/// The message of an error body: the text of the DALI error VOTable's QUERY_STATUS INFO, or
/// the plain text.
fn message_of(body: &str) -> String {
    let Some(at) = body.find("name=\"QUERY_STATUS\"") else {
        return body.trim().to_string();
    };
    let rest = &body[at..];
    let text = rest
        .split_once('>')
        .map(|(_, r)| r)
        .and_then(|r| r.split_once("</INFO>"))
        .map_or("", |(m, _)| m);
    unescape(text.trim())
}

/// The entities `xmltext` writes, read back (the message is escaped again for the page).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let Some(end) = after.find(';').filter(|e| *e <= 10) else {
            out.push('&');
            rest = &after[1..];
            continue;
        };
        let entity = &after[1..end];
        let c = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_come_out_of_error_votables() {
        let doc = votable::error_document("the job is <EXECUTING> & \"busy\"");
        assert_eq!(
            message_of(&String::from_utf8_lossy(&doc)),
            "the job is <EXECUTING> & \"busy\""
        );
        assert_eq!(message_of("  plain text\n"), "plain text");
        assert_eq!(
            unescape("a &amp;lt; b &#65;&#x42; &bogus; &"),
            "a &lt; b AB &bogus; &"
        );
    }

    #[test]
    fn job_paths() {
        let id = "abcdefghijklmnopqrstuvwxya";
        assert!(uws::looks_like_job_id(id));
        assert_eq!(
            job_path("/tap", &format!("/tap/async/{id}/phase")),
            Some(format!("/tap/async/{id}"))
        );
        assert_eq!(job_path("/tap", "/tap/async/nope"), None);
        assert_eq!(
            job_path("/tap", &format!("/async/{id}")),
            Some(format!("/tap/async/{id}"))
        );
        assert_eq!(job_path("/tap", "/tap/manage/go"), None);
    }
}
