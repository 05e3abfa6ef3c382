//! Reading who asks off a request (issue 14): the credentials (`Authorization: Basic` or
//! `Bearer`, the `JSESSIONID` cookie) and whether they came over HTTPS. The decision itself is
//! `identity::Authenticator::caller`; this layer runs it once per request, before any handler,
//! and puts the resulting `identity::Caller` into the request's extensions, where every handler
//! reads it. A request whose credentials are wrong never reaches a handler.
//!
//! Credentials are accepted only over HTTPS (the TLS listener, or a trusted proxy saying
//! `X-Forwarded-Proto: https`), and over plain HTTP from loopback when the operator allows it
//! (`identity.plain_http_on_loopback`, for tests): anywhere else a password or token would
//! already have crossed the network in clear, so the request is refused (403) and the client is
//! told to use HTTPS.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::client::{self, Peer};
use crate::identity::{Authenticator, Caller, Credentials};
use crate::netblock::NetBlock;
use crate::tap::TapError;

/// The session cookie's name: the one TapPlus looks for first after `SESSION`.
pub const SESSION_COOKIE: &str = "JSESSIONID";

/// Marks a request that arrived on the TLS listener (`http::listen`).
#[derive(Debug, Clone, Copy)]
pub struct Https;

/// What the authentication layer needs.
pub struct AuthState {
    pub authenticator: Authenticator,
    pub proxies: Vec<NetBlock>,
    pub plain_http_on_loopback: bool,
    /// `identity.proxy_user_header`, when an authenticating front proxy is trusted.
    pub proxy_user_header: Option<axum::http::HeaderName>,
}

impl AuthState {
    /// Whether credentials may be read from this request.
    pub fn transport_ok(&self, req: &Request) -> bool {
        if req.extensions().get::<Https>().is_some() {
            return true;
        }
        let Some(peer) = req.extensions().get::<Peer>().map(|p| p.0.ip()) else {
            return false;
        };
        if self.proxies.iter().any(|p| p.contains(peer)) {
            let proto = req
                .headers()
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok());
            if proto.is_some_and(|p| p.trim().eq_ignore_ascii_case("https")) {
                return true;
            }
        }
        self.plain_http_on_loopback && is_loopback(peer)
    }

    /// Whether the session cookie gets `Secure` (always, except plain loopback testing).
    pub fn secure_cookie(&self, req: &Request) -> bool {
        let plain_loopback = req.extensions().get::<Https>().is_none()
            && req
                .extensions()
                .get::<Peer>()
                .is_some_and(|p| is_loopback(p.0.ip()));
        !(self.plain_http_on_loopback && plain_loopback)
    }

    pub fn address(&self, req: &Request) -> Option<IpAddr> {
        client::address(req, &self.proxies)
    }

    /// The user named by the trusted front proxy's header, when it came from such a proxy.
    fn proxied_user(&self, req: &Request) -> Option<String> {
        let header = self.proxy_user_header.as_ref()?;
        let value = req.headers().get(header)?.to_str().ok()?.trim();
        let peer = req.extensions().get::<Peer>()?.0.ip();
        if !self.proxies.iter().any(|p| p.contains(peer)) {
            tracing::debug!(%peer, "a user header from a peer that is not a trusted proxy: ignored");
            return None;
        }
        (!value.is_empty()).then(|| value.to_string())
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// The credentials a request carries; a malformed `Authorization` header is an error.
pub fn credentials(headers: &HeaderMap) -> Result<Credentials, TapError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let text = value
            .to_str()
            .map_err(|_| TapError::unauthorized("the Authorization header is not readable text"))?;
        let (scheme, rest) = text.trim().split_once(' ').unwrap_or((text.trim(), ""));
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    TapError::unauthorized("the Basic credentials are not base64 of user:password")
                })?;
            let (user, password) = decoded
                .split_once(':')
                .ok_or_else(|| TapError::unauthorized("the Basic credentials have no ':'"))?;
            return Ok(Credentials::Basic {
                user: user.to_string(),
                password: password.to_string(),
                digest: crate::identity::secret::digest(text),
            });
        }
        if scheme.eq_ignore_ascii_case("bearer") {
            return Ok(Credentials::Bearer(rest.to_string()));
        }
        return Err(TapError::unauthorized(format!(
            "the authorization scheme {scheme:?} is not supported here (use Basic or Bearer)"
        )));
    }
    Ok(session_cookie(headers).map_or(Credentials::None, Credentials::Session))
}

/// The session cookie's value, if the request has one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|item| item.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim_matches('"').to_string())
}

/// The layer in front of every route.
pub async fn authenticate(State(auth): State<Arc<AuthState>>, mut req: Request, next: Next) -> Response {
    let creds = match credentials(req.headers()) {
        Ok(c) => c,
        Err(e) => return challenge(e),
    };
    if creds != Credentials::None && !auth.transport_ok(&req) {
        return TapError::forbidden(
            "credentials (a password, a token or a session cookie) are accepted over HTTPS only; \
             use this service's https:// address",
        )
        .into_response();
    }
    let address = auth.address(&req);
    let decided = match auth.proxied_user(&req) {
        // The front proxy authenticated the user; credentials it let through are not ours.
        Some(user) => auth.authenticator.proxied(&user).await,
        None => auth.authenticator.caller(&creds, address).await,
    };
    let caller = match decided {
        Ok(c) => c,
        Err(e) => return challenge(e),
    };
    req.extensions_mut().insert(caller);
    next.run(req).await
}

/// A 401 says how to authenticate (RFC 9110 §11.6.1).
fn challenge(e: TapError) -> Response {
    let unauthorized = e.kind == crate::tap::ErrorKind::Unauthorized;
    let mut response = e.into_response();
    if unauthorized {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Tapir\", Bearer realm=\"Tapir\""),
        );
    }
    response
}

/// The caller of a request that went through [`authenticate`] (anonymous otherwise).
pub fn caller_of(req: &Request) -> Caller {
    req.extensions().get::<Caller>().cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn credentials_are_read_from_the_headers() {
        assert_eq!(credentials(&headers(&[])).unwrap(), Credentials::None);
        let basic = credentials(&headers(&[("authorization", "Basic YWxpY2U6cDp3")])).unwrap();
        match basic {
            Credentials::Basic { user, password, .. } => {
                assert_eq!((user.as_str(), password.as_str()), ("alice", "p:w"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            credentials(&headers(&[("authorization", "bearer abc")])).unwrap(),
            Credentials::Bearer("abc".into())
        );
        assert!(credentials(&headers(&[("authorization", "Basic !!!")])).is_err());
        assert!(credentials(&headers(&[("authorization", "Digest x")])).is_err());
        assert_eq!(
            credentials(&headers(&[("cookie", "a=1; JSESSIONID=abc; b=2")])).unwrap(),
            Credentials::Session("abc".into())
        );
        // The header wins over a cookie.
        assert_eq!(
            credentials(&headers(&[
                ("cookie", "JSESSIONID=abc"),
                ("authorization", "Bearer t")
            ]))
            .unwrap(),
            Credentials::Bearer("t".into())
        );
    }
}
