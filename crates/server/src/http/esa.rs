//! ESA TAP+ job calls (CLIENTS.md §5.2): the job search `GET {base}/jobs/{list}` and
//! `POST {base}/deletejobs`, which astroquery's TapPlus uses for `search_async_jobs`,
//! `load_async_job(name=...)` and `remove_jobs`.
//!
//! They are not UWS: the search answers a `<uws:jobs>` root holding whole `<uws:job>` elements
//! (TapPlus's job parser looks only for the `uws:`-prefixed job elements), with the job's name
//! as `<uws:name>`, which UWS documents never carry. The rules (parameters, wildcards, sort
//! columns) are in `uws::search`; the one statement is `store::search`. The service is
//! anonymous, so anyone may delete any job, as with `DELETE /async/{id}`.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::auth::caller_of;
use super::body::read_form;
use crate::identity::Caller;
use crate::job_store::{self as store, Found};
use crate::jobs::Jobs;
use crate::tap::Params;
use crate::tap::Service;
use crate::tap::TapError;

/// `GET {base}/jobs/async` (and `/jobs/sync`): ESA's job search, in the order asked, one page.
/// Tapir keeps no records of sync queries, so `/jobs/sync` is always an empty list; its
/// parameters are still checked, so a client learns of a mistake from either list.
pub async fn jobs(
    State(state): State<Arc<Service>>,
    State(jobs): State<Arc<Jobs>>,
    Path(list): Path<String>,
    req: Request,
) -> Result<Response, TapError> {
    let caller = caller_of(&req);
    let params = read_form(req).await?;
    search(&state, &jobs, &caller, &list, params).await
}

/// `GET {base}/jobs?list=async`: the same search with the list named by a parameter, the
/// form seed 002 §2.12 writes as `jobs/list?...` and clients build either way.
pub async fn jobs_by_parameter(
    State(state): State<Arc<Service>>,
    State(jobs): State<Arc<Jobs>>,
    req: Request,
) -> Result<Response, TapError> {
    let caller = caller_of(&req);
    let mut params = read_form(req).await?;
    let Some(list) = params.take("list") else {
        return Err(TapError::bad_request(format!(
            "name the job list: {base}/jobs?list=async (or {base}/jobs/async)",
            base = state.base_url
        )));
    };
    search(&state, &jobs, &caller, list.trim(), params).await
}

/// The job search over the list `list` (`async` or `sync`), among the caller's jobs.
async fn search(
    state: &Service,
    jobs: &Jobs,
    caller: &Caller,
    list: &str,
    params: Params,
) -> Result<Response, TapError> {
    let is_async = match list {
        "async" => true,
        "sync" => false,
        other => {
            return Err(TapError::not_found(format!(
                "there is no job list '{other}': the lists are {base}/jobs/async and {base}/jobs/sync",
                base = state.base_url
            )))
        }
    };
    let pairs = params.pairs().iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let mut search = uws::JobSearch::from_params(pairs).map_err(|e| TapError::bad_request(e.to_string()))?;
    // One page at most jobs.list_max jobs, whatever `limit` says (or when it says nothing).
    let cap = state.config.jobs.list_max;
    search.limit = Some(search.limit.map_or(cap, |n| n.min(cap)));
    let found = if is_async {
        let client = jobs.connection().await?;
        store::search(&client, caller.owner(), &search).await?
    } else {
        Vec::new()
    };
    let mut out = String::with_capacity(200 + found.len() * 1000);
    uws::job_list_start(&mut out);
    for f in &found {
        write_found(state, f, search.metadata_only, &mut out);
    }
    uws::job_list_end(&mut out);
    Ok(([(header::CONTENT_TYPE, "application/xml")], out).into_response())
}

/// One job of the search, with what its `/async/{id}` document shows: parameters under their
/// lower-case ids, the result of a COMPLETED job, the message of an ERROR or ABORTED one.
fn write_found(state: &Service, found: &Found, metadata_only: bool, out: &mut String) {
    super::jobs::with_job_doc(state, &found.job, |doc| {
        uws::job_search_entry(doc, found.name.as_deref(), metadata_only, out)
    });
}

/// `POST {base}/deletejobs` with `JOB_IDS=a,b,c` (in the body or the query string; commas raw
/// or `%2C`): deletes each of those jobs that exists, with its result files, and answers 200
/// (the only status TapPlus's `remove_jobs` accepts) with the count and the ids deleted. Ids
/// that name no job are ignored, as ESA does, so that removing a list twice is harmless.
pub async fn delete_jobs(State(jobs): State<Arc<Jobs>>, req: Request) -> Result<Response, TapError> {
    let caller = caller_of(&req);
    let params = read_form(req).await?;
    if params.get("JOB_IDS").is_none() {
        return Err(TapError::bad_request(
            "JOB_IDS is missing: give the ids of the jobs to delete, separated by commas",
        ));
    }
    let asked = uws::job_id_list(params.all("JOB_IDS"));
    // Ids of another shape were never issued: no need to ask the database about them.
    let ours: Vec<&str> = asked
        .iter()
        .copied()
        .filter(|id| uws::looks_like_job_id(id))
        .collect();
    let deleted = {
        let client = jobs.connection().await?;
        // Only the caller's own: another's id is treated like one that names no job.
        store::delete_many(&client, caller.owner(), &ours).await?
    };
    let mut body = format!("deleted {} of {} jobs\n", deleted.len(), asked.len());
    for id in &deleted {
        jobs.remove_files(id).await;
        body.push_str(id);
        body.push('\n');
    }
    tracing::info!(
        asked = asked.len(),
        deleted = deleted.len(),
        "jobs deleted (deletejobs)"
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response())
}
