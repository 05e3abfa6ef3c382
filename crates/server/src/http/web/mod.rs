//! Pages for people (issue 15): server-rendered HTML that works without JavaScript, plus a
//! little JavaScript and CSS shipped inside the binary (`crates/server/web/`). The pages call
//! the same endpoints as any TAP client, so they get the same limits, identity and errors.
//!
//! Every page is built by [`page::Page`], which gives it a title, a link back to the landing
//! page, and the security headers (`page::security_headers`: a Content-Security-Policy that
//! allows scripts and styles from this service only, so nothing inline runs). Text from users or
//! the catalogue goes through `xmltext` like every other document Tapir writes.
//!
//! The query side: `query` (the landing page, which is the query page; `web/query.js` makes its
//! form an editor), `plot` (`/plot.svg`, a query's positions through the sync pipeline) and
//! `plot_svg` (the chart itself), `results` (a finished job's result as a page, and its plot).
//!
//! The job side: `job` (a job's page for a browser, chosen by `negotiate` from `Accept`, the UWS
//! document for every other client), `manage` (ESO's job-number forms), `myjobs` (log in, the
//! user's jobs, bulk delete), `csrf` (the Origin rule for cookie-authenticated changes) and
//! `errors` (an error as a page for a browser, the DALI document for programs).

pub(crate) mod assets;
pub(crate) mod csrf;
mod errors;
pub(crate) mod job;
mod manage;
mod myjobs;
pub(crate) mod negotiate;
pub(crate) mod page;
pub(crate) mod plot;
pub(crate) mod plot_svg;
pub(crate) mod query;
pub(crate) mod results;

use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::AppState;
use crate::tap::Service;

pub use errors::html_errors;

/// The web front's routes, relative to the service's base path.
pub fn routes() -> Router<AppState> {
    Router::new().route("/static/{name}", get(assets::asset))
}

/// The pages for managing jobs (`manage`, `myjobs`), with errors shown as pages (`errors`).
pub fn job_pages(state: &Arc<Service>) -> Router<AppState> {
    Router::new()
        .route("/manage", get(manage::manage))
        .route("/manage/go", get(manage::go).post(manage::go))
        .route("/myjobs", get(myjobs::myjobs))
        .route("/myjobs/delete", post(myjobs::delete))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(state),
            errors::html_errors,
        ))
}

/// 303 to a path of this service (after a form: the browser then GETs it).
pub(crate) fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => (StatusCode::SEE_OTHER, [(header::LOCATION, v)]).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "cannot redirect").into_response(),
    }
}

/// An answer that depends on `Accept` says so, so that no cache gives a browser's page to a
/// program or the reverse.
pub(crate) fn vary_accept(r: &mut Response) {
    r.headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept"));
}
