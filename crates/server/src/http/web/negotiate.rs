//! Whether a request comes from a person's browser navigating to a page, read off its `Accept`
//! header, so that a job URL can answer such a visitor with a page and every program with the
//! XML it always got.
//!
//! Plain q-value negotiation is not enough: Java's default header, which taplint, STILTS and
//! TOPCAT send (`text/html, image/gif, image/jpeg, */*; q=0.2`), ranks text/html first, and
//! those clients must keep getting UWS XML. What sets a browser's navigation apart is that it
//! names XHTML and XML explicitly beside HTML (Chromium, Firefox and Safari all send
//! `text/html,application/xhtml+xml,application/xml;q=0.9,...`). So a request gets HTML only
//! when it names `application/xhtml+xml`, and ranks `text/html` above XML (explicit or through
//! a wildcard). Absent `Accept`, `*/*`, `application/xml` and `text/plain` all mean XML.

use axum::http::{header, HeaderMap};

/// One media range of an `Accept` header: its type (lower case) and its quality.
fn ranges(headers: &HeaderMap) -> Vec<(String, f32)> {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|range| {
            let mut parts = range.split(';');
            let media = parts.next()?.trim().to_ascii_lowercase();
            if media.is_empty() {
                return None;
            }
            let q = parts
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
                .and_then(|(_, v)| v.trim().parse::<f32>().ok())
                .unwrap_or(1.0)
                .clamp(0.0, 1.0);
            Some((media, q))
        })
        .collect()
}

/// The quality given to `media` by the most specific range that covers it (RFC 9110 §12.5.1).
fn quality(ranges: &[(String, f32)], media: &str) -> f32 {
    let major = media.split('/').next().unwrap_or("");
    let wildcard = format!("{major}/*");
    let exact = ranges.iter().find(|(m, _)| m == media).map(|(_, q)| *q);
    let partial = ranges.iter().find(|(m, _)| *m == wildcard).map(|(_, q)| *q);
    let any = ranges.iter().find(|(m, _)| m == "*/*").map(|(_, q)| *q);
    exact.or(partial).or(any).unwrap_or(0.0)
}

/// Whether the request is a browser asking for a page (see the module's comment).
pub fn prefers_html(headers: &HeaderMap) -> bool {
    let ranges = ranges(headers);
    let names = |m: &str| ranges.iter().any(|(r, q)| r == m && *q > 0.0);
    if !names("application/xhtml+xml") || !names("text/html") {
        return false;
    }
    let html = quality(&ranges, "text/html");
    let xml = quality(&ranges, "application/xml").max(quality(&ranges, "text/xml"));
    html > xml
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn html_for(accept: Option<&str>) -> bool {
        let mut h = HeaderMap::new();
        if let Some(a) = accept {
            h.insert(header::ACCEPT, HeaderValue::from_str(a).unwrap());
        }
        prefers_html(&h)
    }

    /// What browsers send when a person follows a link or a form's 303.
    pub const BROWSERS: &[&str] = &[
        // Chromium 1xx
        "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
        // Firefox
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        // Safari
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    ];

    #[test]
    fn browsers_navigating_get_html() {
        for b in BROWSERS {
            assert!(html_for(Some(b)), "{b}");
        }
    }

    #[test]
    fn programs_get_xml() {
        for a in [
            None,
            Some("*/*"),
            Some("application/xml"),
            Some("text/xml"),
            Some("text/plain"),
            // taplint, STILTS, TOPCAT: Java's default, text/html first.
            Some("text/html, image/gif, image/jpeg, */*; q=0.2"),
            Some("text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"),
            // pyvo (requests) and TapPlus's POSTs.
            Some("*/*"),
            Some("text/plain"),
            // A script that asks for HTML only, without XHTML: still a script.
            Some("text/html"),
            // A page's fetch asking for XML (job.js).
            Some("application/xml"),
            // XHTML and XML named, but XML ranked as high as HTML.
            Some("text/html,application/xhtml+xml,application/xml"),
            // HTML refused.
            Some("text/html;q=0,application/xhtml+xml"),
        ] {
            assert!(!html_for(a), "{a:?}");
        }
    }
}
