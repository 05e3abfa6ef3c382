//! TAP+ login and logout (ESA seeds 001 "Authentication", 002 §2): `POST {login}` with
//! `username` and `password` (form-encoded) answers 200 and sets the session cookie as the
//! first item of its `Set-Cookie` header (TapPlus reads only that position); `POST {logout}`
//! ends the session server-side. Both answer at `{base}/login` and at the parent of the base
//! path (`/tap-server/login` for TAP at `/tap-server/tap`, the Gaia layout).
//!
//! A new random session is made at every login: a cookie the client had before is never
//! adopted (no session fixation).
//!
//! The web front's forms (`web::myjobs`) add `next`, a path of this service: then the answer
//! is a 303 to it (with `?login=failed` after a refused password), so a browser lands back on
//! the page. TapPlus never sends `next` and gets exactly the answers above.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::auth::{session_cookie, AuthState, SESSION_COOKIE};
use super::body::read_form;
use crate::identity::authenticator::refused_message;
use crate::identity::LoginError;
use crate::tap::TapError;

pub async fn login(State(auth): State<Arc<AuthState>>, req: Request) -> Response {
    match login_inner(&auth, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn login_inner(auth: &AuthState, req: Request) -> Result<Response, TapError> {
    if !auth.transport_ok(&req) {
        return Err(TapError::forbidden(
            "log in over HTTPS: passwords are not accepted over plain HTTP",
        ));
    }
    let secure = auth.secure_cookie(&req);
    let address = auth.address(&req);
    let params = read_form(req).await?;
    let (Some(user), Some(password)) = (params.get("USERNAME"), params.get("PASSWORD")) else {
        return Err(TapError::bad_request(
            "a login needs the parameters username and password",
        ));
    };
    let next = params.get("next").and_then(local_path);
    match auth.authenticator.login(user, password, address).await {
        Ok((caller, cookie)) => {
            let max_age = auth.authenticator.session_max().as_secs();
            let mut value =
                format!("{SESSION_COOKIE}={cookie}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}");
            if secure {
                value.push_str("; Secure");
            }
            let mut response = match &next {
                Some(path) => super::web::see_other(path),
                None => (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    format!("logged in as {}\n", caller.label()),
                )
                    .into_response(),
            };
            let cookie = HeaderValue::from_str(&value)
                .map_err(|e| TapError::internal(format!("cannot write the cookie: {e}")))?;
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(response)
        }
        Err(LoginError::Refused) => match next {
            Some(path) => Ok(super::web::see_other(&with_query(&path, "login=failed"))),
            None => Err(TapError::unauthorized(refused_message())),
        },
        Err(LoginError::Failed(e)) => Err(e),
    }
}

pub async fn logout(State(auth): State<Arc<AuthState>>, req: Request) -> Response {
    if let Some(cookie) = session_cookie(req.headers()) {
        if let Err(e) = auth.authenticator.logout(&cookie).await {
            return e.into_response();
        }
    }
    // TapPlus's logout has an empty body; the web front's form names where to go back to.
    let next = match read_form(req).await {
        Ok(params) => params.get("next").and_then(local_path),
        Err(_) => None,
    };
    let mut response = match next {
        Some(path) => super::web::see_other(&with_query(&path, "logout=done")),
        None => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "logged out\n",
        )
            .into_response(),
    };
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("JSESSIONID=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    response
}

/// `next` when it is a path of this server (`/...`, not `//host`, letters, digits and `/_.-`
/// only), so that the login form cannot be made to send a person to another site.
fn local_path(next: &str) -> Option<String> {
    let next = next.trim();
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && next
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'.' | b'-'));
    ok.then(|| next.to_string())
}

fn with_query(path: &str, query: &str) -> String {
    format!("{path}?{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_a_local_path_only() {
        assert_eq!(local_path("/tap/myjobs").as_deref(), Some("/tap/myjobs"));
        for bad in [
            "//evil.example/x",
            "https://evil.example",
            "/a?b",
            "/a\\b",
            "myjobs",
            "/a b",
            "",
        ] {
            assert_eq!(local_path(bad), None, "{bad}");
        }
    }
}
