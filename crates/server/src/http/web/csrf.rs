//! Cross-site request forgery: the one rule, applied in front of every route.
//!
//! A browser sends the session cookie with any request to this service, also one that a page
//! of another site makes it send (a hidden form posted by a script). SameSite=Lax on the cookie
//! already keeps it off cross-site POSTs in current browsers; this rule also covers sites that
//! count as the same "site" but are another origin (another port or subdomain) and older
//! browsers: a state-changing request (any method but GET, HEAD, OPTIONS) that carries the
//! session cookie and no `Authorization` header must not come from a page of another origin.
//!
//! Browsers say where a request comes from in `Origin` (every POST from a form or a fetch), or
//! failing that in `Referer`. A request with neither is not a browser's cross-site request
//! (browsers always send `Origin` on cross-origin POSTs), and it is what programs send:
//! TapPlus logs in and then posts with the cookie and no `Origin`, so it is allowed. Requests
//! authenticated by `Authorization` (Basic or Bearer: scripts) are never forged by a browser
//! and are not checked. `Origin: null` (a sandboxed or privacy-stripped origin) is refused.
//!
//! The service's own origins: that of its public base URL, and that of the `Host` the request
//! was sent to (a browser always sets `Host` to the server it talks to, so a page cannot make
//! its origin equal the target's `Host` without being served from that host and port).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::tap::TapError;

/// What the rule needs to know of the service.
pub struct Origins {
    /// The origin of `Service::base_url` (`scheme://host[:port]`, lower case).
    pub public: String,
}

impl Origins {
    pub fn new(base_url: &str) -> Origins {
        Origins {
            public: origin_of(base_url).unwrap_or_default(),
        }
    }
}

/// `scheme://authority` of a URL, lower case; None when it is not an absolute http(s) URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

/// The origin's authority without a default port, so `http://h:80` and `http://h` compare equal.
fn normal(origin: &str) -> String {
    origin
        .strip_suffix(":80")
        .filter(|_| origin.starts_with("http://"))
        .or_else(|| {
            origin
                .strip_suffix(":443")
                .filter(|_| origin.starts_with("https://"))
        })
        .unwrap_or(origin)
        .to_string()
}

/// Whether the rule applies: a state-changing method, the session cookie, no Authorization.
fn cookie_authenticated_change(method: &Method, headers: &HeaderMap) -> bool {
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    !safe
        && !headers.contains_key(header::AUTHORIZATION)
        && crate::http::auth::session_cookie(headers).is_some()
}

/// The decision: Ok, or the reason for refusing.
pub fn check(method: &Method, headers: &HeaderMap, own: &Origins) -> Result<(), String> {
    if !cookie_authenticated_change(method, headers) {
        return Ok(());
    }
    let value = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let (from, said) = match (value(header::ORIGIN), value(header::REFERER)) {
        (Some(o), _) => (origin_of(o), o),
        (None, Some(r)) => (origin_of(r), r),
        // Not a browser's cross-site request (see the module's comment).
        (None, None) => return Ok(()),
    };
    let host = value(header::HOST).map(str::to_ascii_lowercase);
    let allowed = from.as_deref().map(normal).is_some_and(|from| {
        from == normal(&own.public)
            || host.as_deref().is_some_and(|h| {
                from == normal(&format!("http://{h}")) || from == normal(&format!("https://{h}"))
            })
    });
    if allowed {
        Ok(())
    } else {
        Err(format!(
            "refused: this request carries your session cookie but comes from a page of another \
             site ({said}), so it may have been made without your knowledge; use the forms of \
             this service's own pages ({}), or authenticate scripts with a token \
             (Authorization: Bearer) instead of the cookie",
            if own.public.is_empty() {
                "this service"
            } else {
                &own.public
            }
        ))
    }
}

/// The layer in front of every route (`http::router`).
pub async fn guard(State(own): State<Arc<Origins>>, req: Request, next: Next) -> Response {
    match check(req.method(), req.headers(), &own) {
        Ok(()) => next.run(req).await,
        Err(why) => {
            tracing::warn!(path = %req.uri().path(), "cross-site request refused");
            TapError::forbidden(why).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn req(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn own() -> Origins {
        Origins::new("https://archive.example.org/tap")
    }

    const COOKIE: (&str, &str) = ("cookie", "JSESSIONID=abc");

    #[test]
    fn foreign_origins_are_refused_with_the_cookie() {
        let h = req(&[
            COOKIE,
            ("origin", "https://evil.example"),
            ("host", "archive.example.org"),
        ]);
        let e = check(&Method::POST, &h, &own()).unwrap_err();
        assert!(e.contains("another site (https://evil.example)"), "{e}");
        let h = req(&[
            COOKIE,
            ("referer", "https://evil.example/page"),
            ("host", "archive.example.org"),
        ]);
        assert!(check(&Method::DELETE, &h, &own()).is_err());
        let h = req(&[COOKIE, ("origin", "null")]);
        assert!(check(&Method::POST, &h, &own()).is_err());
        // Same host, another port: another origin.
        let h = req(&[COOKIE, ("origin", "https://archive.example.org:8443")]);
        assert!(check(&Method::POST, &h, &own()).is_err());
    }

    #[test]
    fn own_pages_and_programs_pass() {
        for h in [
            req(&[COOKIE, ("origin", "https://archive.example.org")]),
            req(&[COOKIE, ("origin", "https://Archive.Example.org:443")]),
            req(&[COOKIE, ("referer", "https://archive.example.org/tap/manage")]),
            // The Host the browser talked to (behind no proxy, a bind address).
            req(&[
                COOKIE,
                ("origin", "http://127.0.0.1:8080"),
                ("host", "127.0.0.1:8080"),
            ]),
            // TapPlus: the cookie, no Origin, no Referer.
            req(&[COOKIE]),
            // Scripts with credentials of their own.
            req(&[
                COOKIE,
                ("origin", "https://evil.example"),
                ("authorization", "Bearer t"),
            ]),
            // No cookie: nothing of the user's to forge.
            req(&[("origin", "https://evil.example")]),
        ] {
            assert_eq!(check(&Method::POST, &h, &own()), Ok(()), "{h:?}");
        }
        let h = req(&[COOKIE, ("origin", "https://evil.example")]);
        assert_eq!(check(&Method::GET, &h, &own()), Ok(()));
    }
}
