//! TAP+ login and logout (ESA seeds 001 "Authentication", 002 §2): `POST {login}` with
//! `username` and `password` (form-encoded) answers 200 and sets the session cookie as the
//! first item of its `Set-Cookie` header (TapPlus reads only that position); `POST {logout}`
//! ends the session server-side. Both answer at `{base}/login` and at the parent of the base
//! path (`/tap-server/login` for TAP at `/tap-server/tap`, the Gaia layout).
//!
//! A new random session is made at every login: a cookie the client had before is never
//! adopted (no session fixation).

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
    match auth.authenticator.login(user, password, address).await {
        Ok((caller, cookie)) => {
            let max_age = auth.authenticator.session_max().as_secs();
            let mut value =
                format!("{SESSION_COOKIE}={cookie}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}");
            if secure {
                value.push_str("; Secure");
            }
            let mut response = (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("logged in as {}\n", caller.label()),
            )
                .into_response();
            let cookie = HeaderValue::from_str(&value)
                .map_err(|e| TapError::internal(format!("cannot write the cookie: {e}")))?;
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(response)
        }
        Err(LoginError::Refused) => Err(TapError::unauthorized(refused_message())),
        Err(LoginError::Failed(e)) => Err(e),
    }
}

pub async fn logout(State(auth): State<Arc<AuthState>>, req: Request) -> Response {
    if let Some(cookie) = session_cookie(req.headers()) {
        if let Err(e) = auth.authenticator.logout(&cookie).await {
            return e.into_response();
        }
    }
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "logged out\n",
    )
        .into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("JSESSIONID=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    response
}
