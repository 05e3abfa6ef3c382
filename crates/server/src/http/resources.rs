//! The VOSI resources, the examples and /metrics (the landing page is `web::query`): documents built
//! by `crate::vosi` from the configuration and the current catalogue.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::body::read_form;
use crate::tap::Service;
use crate::tap::TapError;
use crate::vosi::{self, TablesRequest};

const XML: &str = "text/xml; charset=utf-8";

fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, XML)], body).into_response()
}

pub async fn capabilities(State(state): State<Arc<Service>>) -> Response {
    let served = state.served_for(&crate::identity::Caller::Anonymous);
    xml(vosi::capabilities(
        &state.config,
        &served.tap_schema,
        &state.udfs,
        true,
    ))
}

pub async fn availability(State(state): State<Arc<Service>>) -> Response {
    let up = !state.sync_pool.is_closed();
    let note = if up {
        "Tapir is accepting queries."
    } else {
        "The database is not available."
    };
    xml(vosi::availability(up, note))
}

/// `true`/`1`/`yes` in any case.
fn flag(v: &str) -> bool {
    matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes")
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// `/tables` with VOSI `detail` and the ESA TAP+ `tables`, `schemas`, `only_tables`,
/// `only_schemas`, by GET or (as the Gaia archive's curl lines send it) POST, in the query
/// string or a form body; the TAP+ parameters follow seed 002 §3.10's priorities
/// ([`TablesRequest::prioritised`]).
pub async fn tables(State(state): State<Arc<Service>>, req: Request) -> Result<Response, TapError> {
    let served = state.served_for(&super::auth::caller_of(&req));
    let params = read_form(req).await?;
    let mut req = TablesRequest::default();
    for (k, v) in params.pairs() {
        match k.to_ascii_lowercase().as_str() {
            "detail" => match v.to_ascii_lowercase().as_str() {
                "min" => req.min = true,
                "max" => req.min = false,
                other => {
                    return Err(TapError::bad_request(format!(
                        "detail must be min or max, not '{other}'"
                    )));
                }
            },
            "only_tables" => req.only_tables = flag(v),
            "only_schemas" => req.only_schemas = flag(v),
            "tables" => req.tables = Some(list(v)),
            "schemas" => req.schemas = Some(list(v)),
            _ => {}
        }
    }
    let req = req.prioritised();
    if let Some(names) = &req.tables {
        if let Some(missing) = names.iter().find(|n| served.tap_schema.table(n).is_none()) {
            return Err(TapError::not_found(format!(
                "no table '{missing}' in this service"
            )));
        }
    }
    if let Some(names) = &req.schemas {
        if let Some(missing) = names.iter().find(|n| !served.tap_schema.has_schema(n)) {
            return Err(TapError::not_found(format!(
                "no schema '{missing}' in this service"
            )));
        }
    }
    Ok(xml(vosi::tableset(&state.config, &served.tap_schema, &req)))
}

/// `/tables/{schema.table}` (VOSI 1.1).
pub async fn table(
    State(state): State<Arc<Service>>,
    Path(name): Path<String>,
    req: Request,
) -> Result<Response, TapError> {
    let served = state.served_for(&super::auth::caller_of(&req));
    let t = served
        .tap_schema
        .table(&name)
        .ok_or_else(|| TapError::not_found(format!("no table '{name}' in this service")))?;
    Ok(xml(vosi::table(&state.config, &served.tap_schema, t)))
}

pub async fn examples(State(state): State<Arc<Service>>, req: Request) -> Response {
    let served = state.served_for(&super::auth::caller_of(&req));
    (
        [(header::CONTENT_TYPE, "application/xhtml+xml; charset=utf-8")],
        vosi::examples(&state.config, &served.tap_schema),
    )
        .into_response()
}

pub async fn esatapplus_xsd() -> Response {
    ([(header::CONTENT_TYPE, XML)], vosi::esatapplus_xsd()).into_response()
}

pub async fn metrics(State(state): State<Arc<Service>>) -> Response {
    let s = state.sync_pool.status();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render((s.size, s.available, s.waiting)),
    )
        .into_response()
}

pub async fn not_found() -> Response {
    TapError::not_found("no such resource in this TAP service").into_response()
}
