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

pub(crate) mod assets;
pub(crate) mod page;
pub(crate) mod plot;
pub(crate) mod plot_svg;
pub(crate) mod query;
pub(crate) mod results;

use std::sync::Arc;

use axum::routing::get;
use axum::Router;

use crate::tap::Service;

/// The web front's routes, relative to the service's base path.
pub fn routes() -> Router<Arc<Service>> {
    Router::new().route("/static/{name}", get(assets::asset))
}
