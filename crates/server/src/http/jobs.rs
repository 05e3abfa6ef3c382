//! `/async`: the UWS 1.1 job list and jobs (TAP §2.3, UWS §2; STANDARDS.md §5).
//!
//! Every answer follows the UWS table: 303 after a change (JB-01, PH-01, LF-05), 403 for a
//! change the job's phase does not allow (AS-02, JB-03), 404 for unknown jobs, containers as
//! XML and single values as text/plain (AS-04). Phase rules come from the `uws` crate; the
//! store applies them with compare-and-set statements, so concurrent requests and processes
//! cannot take a job through an illegal transition.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::{broadcast, mpsc};
use uws::{Action, Phase, UtcTime};

use super::body::{read_form, read_params};
use super::sync::ChunkStream;
use crate::identity::Caller;
use crate::job_store::{self as store, Job};
use crate::jobs::hub::Event;
use crate::jobs::Jobs;
use crate::tap::limits::UserLimits;
use crate::tap::Params;
use crate::tap::Service;
use crate::tap::TapError;

const XML: &str = "application/xml";
const TEXT: &str = "text/plain; charset=utf-8";
/// Attempts at a compare-and-set change before giving up on a job that keeps changing.
const CAS_ATTEMPTS: usize = 5;

pub(super) fn job_url(state: &Service, id: &str) -> String {
    format!("{}/async/{id}", state.base_url)
}

fn see_other(location: String) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)], "").into_response()
}

fn text(body: String) -> Response {
    ([(header::CONTENT_TYPE, TEXT)], body).into_response()
}

fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, XML)], body).into_response()
}

fn forbidden(message: impl Into<String>) -> TapError {
    TapError::forbidden(message)
}

fn no_job(id: &str) -> TapError {
    TapError::not_found(format!("there is no job '{id}'"))
}

/// The job, or 404 (without a database query for ids we never issue).
async fn load(client: &tokio_postgres::Client, id: &str) -> Result<Job, TapError> {
    if !uws::looks_like_job_id(id) {
        return Err(no_job(id));
    }
    store::get(client, id).await?.ok_or_else(|| no_job(id))
}

/// The job, with a connection of its own (for requests that only read it).
pub(super) async fn fetch(jobs: &Jobs, id: &str) -> Result<Job, TapError> {
    let client = jobs.connection().await?;
    load(&client, id).await
}

/// A parameter the request cannot do without.
fn required<'a>(params: &'a Params, name: &str, what: &str) -> Result<&'a str, TapError> {
    params
        .get(name)
        .ok_or_else(|| TapError::bad_request(format!("{name} is missing{what}")))
}

/// Parameters in a job request's query string and body.
async fn params_of(state: &Service, req: Request) -> Result<Params, TapError> {
    read_params(state, req, state.config.limits.async_upload_max_bytes).await
}

// ----- the job list ----------------------------------------------------------------------

/// `GET /async` (JL-01, JL-02): newest first, with PHASE, AFTER and LAST. With a QUERY it
/// creates a job instead, as the Solar Orbiter archive documents its "direct request" link
/// (`async?PHASE=run&REQUEST=doQuery&...&QUERY=...`): a GET that changes state, accepted
/// because that page's readers click it, and turned off with `jobs.create_by_get = false`
/// (docs/tap.md).
pub async fn list(
    State(state): State<Arc<Service>>,
    State(jobs): State<Arc<Jobs>>,
    req: Request,
) -> Result<Response, TapError> {
    let caller = super::auth::caller_of(&req);
    let params = params_of(&state, req).await?;
    if params.get("QUERY").is_some() {
        if !state.config.jobs.create_by_get {
            return Err(TapError::new(
                crate::tap::ErrorKind::MethodNotAllowed,
                "this service creates jobs only by POST to /async (jobs.create_by_get = false)",
            ));
        }
        return create_job(&state, &jobs, &caller, params).await;
    }
    let filter = uws::JobFilter::from_params(params.pairs().iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| TapError::bad_request(e.to_string()))?;
    let client = jobs.connection().await?;
    // However many jobs there are, one answer lists at most jobs.list_max of them (the newest).
    let cap = state.config.jobs.list_max;
    let last = Some(filter.last.map_or(cap, |n| n.min(cap)));
    let jobs = store::list(
        &client,
        caller.owner(),
        &filter.listed_phases(),
        filter.after,
        last,
    )
    .await?;
    let mut out = String::with_capacity(200 + jobs.len() * 200);
    uws::job_list_start(&mut out);
    for j in &jobs {
        let href = job_url(&state, &j.id);
        uws::job_list_entry(
            &uws::JobRef {
                job_id: &j.id,
                href: &href,
                phase: j.phase,
                run_id: j.run_id.as_deref(),
                owner_id: j.owner_id.as_deref(),
                creation_time: Some(j.creation_time),
            },
            &mut out,
        );
    }
    uws::job_list_end(&mut out);
    Ok(xml(out))
}

/// The guard of every `/async/{id}` route (issue 14): the job must be the caller's (an
/// authenticated user's own, or an anonymous job for an anonymous caller). Another's job is
/// answered exactly like a job that does not exist (404), so its existence is not revealed,
/// and nothing changes. One statement (the owner by primary key) before the handler runs.
pub async fn owned(
    State(jobs): State<Arc<Jobs>>,
    Path(params): Path<Vec<(String, String)>>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(id) = params.iter().find(|(k, _)| k == "id").map(|(_, v)| v.clone()) else {
        return next.run(req).await;
    };
    match callers(&jobs, &super::auth::caller_of(&req), &id).await {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// The owner rule of [`owned`] for handlers that take the job id from elsewhere (the web
/// forms, `web::manage`): Ok when the job is the caller's, the 404 of a missing job otherwise.
pub(super) async fn callers(jobs: &Jobs, caller: &Caller, id: &str) -> Result<(), TapError> {
    if !uws::looks_like_job_id(id) {
        return Err(no_job(id));
    }
    let client = jobs.connection().await?;
    match store::owner_of(&client, id).await? {
        Some(owner) if owner.as_deref() == caller.owner() => Ok(()),
        // Not the caller's, or no such job: the same answer.
        _ => Err(no_job(id)),
    }
}

/// `POST /async` (JB-01, JB-02): a PENDING job, or a QUEUED one with PHASE=RUN; 303 to it.
pub async fn create(
    State(state): State<Arc<Service>>,
    State(jobs): State<Arc<Jobs>>,
    req: Request,
) -> Result<Response, TapError> {
    let caller = super::auth::caller_of(&req);
    let params = params_of(&state, req).await?;
    create_job(&state, &jobs, &caller, params).await
}

/// A new job of `caller` (its owner) from the request's parameters (POST, or GET with a
/// QUERY); 303 to it.
async fn create_job(
    state: &Service,
    jobs: &Jobs,
    caller: &Caller,
    mut params: Params,
) -> Result<Response, TapError> {
    let phase = match params.take("PHASE") {
        None => Phase::Pending,
        Some(p) => match Action::parse(&p) {
            Some(Action::Run) => Phase::Queued,
            _ => {
                return Err(TapError::bad_request(format!(
                    "PHASE={p} cannot create a job; use PHASE=RUN to start it at once, or leave it out"
                )))
            }
        },
    };
    let duration = match params.take("EXECUTIONDURATION") {
        None => None,
        Some(d) => Some(parse_duration(&d)?),
    };
    let requested_destruction = match params.take("DESTRUCTION") {
        None => None,
        Some(d) => Some(parse_instant("DESTRUCTION", &d)?),
    };
    let policy = jobs.policy_for(caller.owner().is_some());
    let created = UtcTime::now();
    let id = crate::jobs::new_id();
    let parts = std::mem::take(&mut params.file_parts);
    referenced(&params, &parts)?;
    let pairs = params.into_pairs();
    let quote = crate::jobs::quote::quote(state, caller, &pairs, created).await;
    // With uploaded files the job is queued only once they are stored, so that no worker can
    // start it without them.
    let job = store::NewJob {
        id: &id,
        phase: if parts.is_empty() { phase } else { Phase::Pending },
        creation_time: created,
        execution_duration: policy.grant_duration(duration),
        destruction: policy.grant_destruction(created, requested_destruction),
        quote,
        params: &pairs,
        owner: caller.owner(),
    };
    let mut client = jobs.connection().await?;
    if phase == Phase::Queued {
        room_in_queue(state, &client, caller).await?;
    }
    if parts.is_empty() {
        store::insert(&client, &job).await?;
    } else {
        // The job and its files together, or neither.
        let tx = client
            .transaction()
            .await
            .map_err(crate::db::DbError::query("cannot begin storing the job"))?;
        store::insert(tx.client(), &job).await?;
        let max = state.config.limits.async_upload_max_bytes;
        crate::jobs::uploads::save(&tx, &id, &parts, max).await?;
        tx.commit()
            .await
            .map_err(crate::db::DbError::query("cannot store the job"))?;
        if phase == Phase::Queued {
            store::set_phase(&client, &id, Phase::Pending, Phase::Queued).await?;
        }
    }
    tracing::info!(job = %id, phase = %phase, files = parts.len(), owner = caller.label(), "job created");
    Ok(see_other(job_url(state, &id)))
}

/// A file part that no UPLOAD of the job names (`param:NAME`) would only be stored for nothing
/// (and count against nobody's limit): refused with a message naming it.
fn referenced(params: &Params, parts: &[crate::tap::FilePart]) -> Result<(), TapError> {
    if parts.is_empty() {
        return Ok(());
    }
    let refs = crate::upload::inline_refs(params);
    match parts
        .iter()
        .find(|p| !refs.iter().any(|r| r.eq_ignore_ascii_case(&p.name)))
    {
        Some(p) => Err(TapError::bad_request(format!(
            "the file part '{}' is not named by any UPLOAD parameter of the job (UPLOAD=name,param:{}), \
             so it is not stored",
            p.name, p.name
        ))),
        None => Ok(()),
    }
}

pub(super) fn parse_duration(v: &str) -> Result<u64, TapError> {
    v.trim().parse::<u64>().map_err(|_| {
        TapError::bad_request(format!(
            "EXECUTIONDURATION must be a whole number of seconds (0 for the longest allowed), not '{v}'"
        ))
    })
}

pub(super) fn parse_instant(name: &str, v: &str) -> Result<UtcTime, TapError> {
    UtcTime::parse_iso(v).map_err(|e| TapError::bad_request(format!("{name}: {e}")))
}

// ----- one job ---------------------------------------------------------------------------

/// The parameters as a job document shows them: one entry per name, since ids must be unique
/// (taplint checks it), with repeated values (several UPLOADs) joined by `;`, the TAP 1.0 form
/// that means the same.
fn shown_params(params: &[(String, String)]) -> Vec<(String, String)> {
    let mut shown: Vec<(String, String)> = Vec::with_capacity(params.len());
    for (k, v) in params {
        match shown.iter_mut().find(|(s, _)| s.eq_ignore_ascii_case(k)) {
            Some((_, joined)) => {
                joined.push(';');
                joined.push_str(v);
            }
            None => shown.push((k.clone(), v.clone())),
        }
    }
    shown
}

/// The job's parameters, then its uploaded files by reference (UP-06).
fn all_param_refs<'a>(
    params: &'a [(String, String)],
    parts: &'a [String],
    urls: &'a [String],
) -> Vec<uws::Parameter<'a>> {
    let values = params.iter().map(|(k, v)| uws::Parameter {
        id: k,
        value: v,
        by_reference: false,
    });
    let files = parts.iter().zip(urls).map(|(p, u)| uws::Parameter {
        id: p,
        value: u,
        by_reference: true,
    });
    values.chain(files).collect()
}

fn part_urls(state: &Service, id: &str, parts: &[String]) -> Vec<String> {
    parts
        .iter()
        .map(|p| {
            let escaped: String = form_urlencoded::byte_serialize(p.as_bytes()).collect();
            format!("{}/parameters/{escaped}", job_url(state, id))
        })
        .collect()
}

/// A COMPLETED job has its one result, `result` (AS-01, PH-04); other phases have none.
fn result_refs<'a>(job: &'a Job, href: &'a str) -> Vec<uws::ResultRef<'a>> {
    match (&job.result, job.phase) {
        (Some(r), Phase::Completed) => vec![uws::ResultRef {
            id: "result",
            href,
            mime_type: Some(&r.mime),
            size: Some(r.bytes),
        }],
        _ => Vec::new(),
    }
}

/// The `uws` view of a stored job, handed to `write`: what every job document shows
/// (parameters with lower-case ids and uploaded files by reference, the result of a COMPLETED
/// job, the message of an ERROR or ABORTED one). `/async/{id}` and ESA's `/jobs/async` share it.
pub(super) fn with_job_doc<R>(state: &Service, job: &Job, write: impl FnOnce(&uws::JobDoc<'_>) -> R) -> R {
    let parts = &job.upload_parts;
    let urls = part_urls(state, &job.id, parts);
    let shown = shown_params(&job.params);
    let params = all_param_refs(&shown, parts, &urls);
    let href = format!("{}/results/result", job_url(state, &job.id));
    let results = result_refs(job, &href);
    let error = match (job.phase, &job.error_message) {
        (Phase::Error | Phase::Aborted, Some(m)) => Some(uws::ErrorSummary {
            error_type: uws::ErrorType::Fatal,
            has_detail: true,
            message: m,
        }),
        _ => None,
    };
    let info = job_info(job);
    let info: Vec<(&str, &str)> = info.iter().map(|(n, v)| (*n, v.as_str())).collect();
    write(&uws::JobDoc {
        job_id: &job.id,
        run_id: job.run_id.as_deref(),
        owner_id: job.owner_id.as_deref(),
        phase: job.phase,
        quote: job.quote,
        creation_time: job.creation_time,
        start_time: job.start_time,
        end_time: job.end_time,
        execution_duration: job.execution_duration,
        destruction: Some(job.destruction),
        parameters: &params,
        results: &results,
        error,
        job_info: &info,
    })
}

/// What the job document adds in `jobInfo` (as `tapir:` elements): the job's name when JOBNAME
/// was given (ESA's documents show it; the UWS schema has no other place for it), and the rows
/// and bytes of result written so far while EXECUTING, or in all when COMPLETED.
fn job_info(job: &Job) -> Vec<(&'static str, String)> {
    let mut info = Vec::new();
    if let Some((_, name)) = job
        .params
        .iter()
        .find(|(k, v)| k.eq_ignore_ascii_case("JOBNAME") && !v.is_empty())
    {
        info.push(("jobName", name.clone()));
    }
    let counts = match (job.phase, &job.result) {
        (Phase::Executing, _) => Some(job.progress.unwrap_or((0, 0))),
        (Phase::Completed, Some(r)) => Some((r.rows, r.bytes)),
        _ => None,
    };
    if let Some((rows, bytes)) = counts {
        info.push(("rows", rows.to_string()));
        info.push(("bytes", bytes.to_string()));
    }
    info
}

/// The job document (JB-04 order and nil rules, written by the `uws` crate).
fn job_document(state: &Service, job: &Job) -> String {
    let mut out = String::with_capacity(2048);
    with_job_doc(state, job, |doc| uws::write_job(doc, &mut out));
    out
}

/// `GET /async/{id}`, blocking with `WAIT` (WT-01..03).
pub async fn job(
    State(state): State<Arc<Service>>,
    State(jobs): State<Arc<Jobs>>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, TapError> {
    let mut params = Params::default();
    if let Some(q) = req.uri().query() {
        params.add_urlencoded(q.as_bytes())?;
    }
    let wait = match params.get("WAIT") {
        None => None,
        Some(w) => {
            let n: i64 = w.trim().parse().map_err(|_| {
                TapError::bad_request(format!("WAIT must be a whole number of seconds or -1, not '{w}'"))
            })?;
            let cap = state.config.jobs.wait_max_secs;
            Some(if n < 0 { cap } else { (n as u64).min(cap) })
        }
    };
    let only_in = match params.get("PHASE") {
        None => None,
        Some(p) => {
            Some(Phase::parse(p).ok_or_else(|| TapError::bad_request(format!("unknown PHASE '{p}'")))?)
        }
    };
    // Subscribed before the first read, so a change in between is not missed.
    let mut events = jobs.hub.subscribe();
    // The connection goes back to the pool before blocking.
    let mut job = fetch(&jobs, &id).await?;
    if let Some(secs) = wait {
        let blocks = job.phase.is_active() && only_in.is_none_or(|p| p == job.phase);
        if blocks && secs > 0 {
            job = wait_for_change(&jobs, &id, job, &mut events, Duration::from_secs(secs)).await?;
        }
    }
    Ok(xml(job_document(&state, &job)))
}

/// Block until the job's phase differs from `job.phase`, the time is up, or the process stops.
async fn wait_for_change(
    jobs: &Jobs,
    id: &str,
    job: Job,
    events: &mut broadcast::Receiver<Event>,
    limit: Duration,
) -> Result<Job, TapError> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut shutdown = jobs.shutting_down();
    let start_phase = job.phase;
    let mut current = job;
    loop {
        let look = tokio::select! {
            ev = events.recv() => match ev {
                Ok(e) => e.concerns(id),
                Err(broadcast::error::RecvError::Lagged(_)) => true,
                Err(broadcast::error::RecvError::Closed) => return Ok(current),
            },
            _ = tokio::time::sleep_until(deadline) => return Ok(current),
            _ = shutdown.changed() => return Ok(current),
        };
        if look {
            current = fetch(jobs, id).await?;
            if current.phase != start_phase {
                return Ok(current);
            }
        }
    }
}

/// `POST /async/{id}` (AS-03, decided 2026-12): `ACTION=DELETE`, and also what the ESO page
/// documents and TapPlus' `send_parameter` sends: `PHASE=RUN|ABORT`, `EXECUTIONDURATION`,
/// `DESTRUCTION` and job parameters, each under the rules of its own sub-resource. Every value
/// is checked before anything changes; then parameters, executionDuration and destruction are
/// applied, and the phase last (so `QUERY=...&PHASE=RUN` runs the new query).
pub async fn job_post(
    State(state): State<Arc<Service>>,
    State(jobs): State<Arc<Jobs>>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, TapError> {
    let accept = req.headers().clone();
    let caller = super::auth::caller_of(&req);
    let mut params = params_of(&state, req).await?;
    if let Some(action) = params.take("ACTION") {
        if action.trim().eq_ignore_ascii_case("DELETE") {
            return delete_job(&state, &jobs, &id).await;
        }
        return Err(TapError::bad_request(format!(
            "unknown ACTION '{action}'; the job resource takes ACTION=DELETE"
        )));
    }
    let action = match params.take("PHASE") {
        None => None,
        Some(p) => Some(
            Action::parse(&p)
                .ok_or_else(|| TapError::bad_request(format!("PHASE={p} is not RUN or ABORT")))?,
        ),
    };
    let duration = match params.take("EXECUTIONDURATION") {
        None => None,
        Some(d) => Some(parse_duration(&d)?),
    };
    let destruction = match params.take("DESTRUCTION") {
        None => None,
        Some(d) => Some(parse_instant("DESTRUCTION", &d)?),
    };
    let has_params = !params.pairs().is_empty() || !params.file_parts.is_empty();
    if action.is_none() && duration.is_none() && destruction.is_none() && !has_params {
        return Err(TapError::bad_request(
            "nothing to do: post ACTION=DELETE, PHASE=RUN or ABORT, EXECUTIONDURATION, DESTRUCTION \
             or job parameters to the job",
        ));
    }
    let mut client = jobs.connection().await?;
    if has_params {
        apply_params(&state, &caller, &mut client, &id, params).await?;
    }
    if let Some(secs) = duration {
        apply_duration(&jobs, &client, &id, secs).await?;
    }
    if let Some(at) = destruction {
        apply_destruction(&jobs, &client, &id, at).await?;
    }
    if let Some(action) = action {
        apply_action(&state, &client, &caller, &id, action).await?;
    }
    done(&state, &client, &accept, &id).await
}

/// The answer after a change (PH-01, JB-03): 303 to the job for UWS clients. A client whose
/// `Accept` admits only `text/plain` cannot use the XML the 303 leads to: astroquery's TapPlus
/// sends exactly that and treats anything but 200 from `send_parameter` and `abort` as a
/// failure, so it gets 200 with the job's phase as text.
async fn done(
    state: &Service,
    client: &tokio_postgres::Client,
    headers: &HeaderMap,
    id: &str,
) -> Result<Response, TapError> {
    if only_plain_text(headers) {
        let job = load(client, id).await?;
        return Ok(text(job.phase.as_str().to_string()));
    }
    Ok(see_other(job_url(state, id)))
}

/// Whether every media range the client accepts is `text/plain` (no wildcard, no XML).
fn only_plain_text(headers: &HeaderMap) -> bool {
    let mut ranges = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|range| range.split(';').next().unwrap_or("").trim())
        .filter(|range| !range.is_empty())
        .peekable();
    ranges.peek().is_some() && ranges.all(|range| range.eq_ignore_ascii_case("text/plain"))
}

/// `DELETE /async/{id}` (LF-05).
pub async fn job_delete(
    State(state): State<Arc<Service>>,
    State(jobs): State<Arc<Jobs>>,
    Path(id): Path<String>,
) -> Result<Response, TapError> {
    delete_job(&state, &jobs, &id).await
}

/// Remove the job and its files; a running query is cancelled by its process (hub).
pub(super) async fn delete_job(state: &Service, jobs: &Jobs, id: &str) -> Result<Response, TapError> {
    if !uws::looks_like_job_id(id) {
        return Err(no_job(id));
    }
    let client = jobs.connection().await?;
    if !store::delete(&client, id).await? {
        return Err(no_job(id));
    }
    jobs.remove_files(id).await;
    tracing::info!(job = %id, "job deleted");
    Ok(see_other(format!("{}/async", state.base_url)))
}

// ----- phase -----------------------------------------------------------------------------

pub async fn phase(State(jobs): State<Arc<Jobs>>, Path(id): Path<String>) -> Result<Response, TapError> {
    Ok(text(fetch(&jobs, &id).await?.phase.as_str().to_string()))
}

/// `POST /async/{id}/phase` with RUN or ABORT (PH-01, PH-02).
pub async fn phase_post(
    State(state): State<Arc<Service>>,
    State(jobs): State<Arc<Jobs>>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, TapError> {
    let accept = req.headers().clone();
    let caller = super::auth::caller_of(&req);
    let params = read_form(req).await?;
    let value = required(&params, "PHASE", "; it takes RUN or ABORT")?;
    let action = Action::parse(value)
        .ok_or_else(|| TapError::bad_request(format!("PHASE={value} is not RUN or ABORT")))?;
    let client = jobs.connection().await?;
    apply_action(&state, &client, &caller, &id, action).await?;
    done(&state, &client, &accept, &id).await
}

/// How long a client is told to wait when the job queue is full.
const QUEUE_RETRY_AFTER_SECS: u64 = 30;

/// 429 with Retry-After when `jobs.queue_max` jobs already wait in QUEUED: the queue does not
/// grow without bound, and the client learns to come back rather than that it erred. For a
/// user also their own share of the queue (429) and their result storage (403: waiting does
/// not help, deleting jobs does), by `tap::limits`.
async fn room_in_queue(
    state: &Service,
    client: &tokio_postgres::Client,
    caller: &Caller,
) -> Result<(), TapError> {
    let max = state.config.jobs.queue_max;
    if store::queued(client).await? >= max {
        return Err(TapError::too_many(
            format!("the job queue is full ({max} jobs wait to run); try again later"),
            QUEUE_RETRY_AFTER_SECS,
        ));
    }
    // Anonymous callers share the whole queue.
    let Some(owner) = caller.owner() else {
        return Ok(());
    };
    let limits = UserLimits::of(&state.config, caller);
    if let Some(per_user) = limits.queued {
        if store::queued_of(client, owner).await? >= per_user {
            return Err(TapError::too_many(
                format!(
                    "you have {per_user} jobs waiting to run already (the most you may queue); \
                     try again when some have started"
                ),
                QUEUE_RETRY_AFTER_SECS,
            ));
        }
    }
    if let Some(quota) = limits.result_storage_bytes {
        let used = store::result_bytes_of(client, owner).await?;
        if used >= quota {
            return Err(TapError::forbidden(format!(
                "your job results take {used} bytes, and you may keep {quota}: delete jobs you no \
                 longer need (DELETE {{job}}, or POST /deletejobs) before running more"
            )));
        }
    }
    Ok(())
}

/// Take the job through RUN or ABORT with a compare-and-set, retried while it changes under us;
/// 403 when its phase does not allow the action (AS-02), 429 when RUN finds the queue full.
pub(super) async fn apply_action(
    state: &Service,
    client: &tokio_postgres::Client,
    caller: &Caller,
    id: &str,
    action: Action,
) -> Result<(), TapError> {
    for _ in 0..CAS_ATTEMPTS {
        let job = load(client, id).await?;
        match uws::client_action(job.phase, action) {
            Ok(None) => return Ok(()),
            Ok(Some(to)) => {
                if to == Phase::Queued {
                    room_in_queue(state, client, caller).await?;
                }
                if store::set_phase(client, id, job.phase, to).await? {
                    tracing::info!(job = %id, from = %job.phase, to = %to, "phase changed");
                    return Ok(());
                }
            }
            Err(e) => return Err(forbidden(e.to_string())),
        }
    }
    Err(TapError::unavailable("the job keeps changing; try again"))
}

// ----- executionduration, destruction, quote, owner --------------------------------------

pub async fn duration(State(jobs): State<Arc<Jobs>>, Path(id): Path<String>) -> Result<Response, TapError> {
    Ok(text(fetch(&jobs, &id).await?.execution_duration.to_string()))
}

/// The refusal of a change of executionDuration, destruction or parameters, which are allowed
/// only while the job is PENDING (JB-03), as ESO does: 403.
fn not_pending(job: &Job, what: &str) -> TapError {
    forbidden(format!(
        "the {what} of a job can be changed only while it is PENDING; this one is {}",
        job.phase
    ))
}

pub async fn duration_post(
    State(state): State<Arc<Service>>,
    State(jobs): State<Arc<Jobs>>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, TapError> {
    let accept = req.headers().clone();
    let params = read_form(req).await?;
    let secs = parse_duration(required(&params, "EXECUTIONDURATION", "")?)?;
    let client = jobs.connection().await?;
    apply_duration(&jobs, &client, &id, secs).await?;
    done(&state, &client, &accept, &id).await
}

/// Set executionDuration, clamped by the policy (0 asks for the longest allowed).
pub(super) async fn apply_duration(
    jobs: &Jobs,
    client: &tokio_postgres::Client,
    id: &str,
    asked: u64,
) -> Result<(), TapError> {
    let secs = jobs.policy.grant_duration(Some(asked));
    let job = load(client, id).await?;
    if store::set_duration(client, id, secs).await? {
        Ok(())
    } else {
        Err(not_pending(&job, "executionDuration"))
    }
}

pub async fn destruction(
    State(jobs): State<Arc<Jobs>>,
    Path(id): Path<String>,
) -> Result<Response, TapError> {
    Ok(text(fetch(&jobs, &id).await?.destruction.to_iso()))
}

pub async fn destruction_post(
    State(state): State<Arc<Service>>,
    State(jobs): State<Arc<Jobs>>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, TapError> {
    let accept = req.headers().clone();
    let params = read_form(req).await?;
    let asked = parse_instant("DESTRUCTION", required(&params, "DESTRUCTION", "")?)?;
    let client = jobs.connection().await?;
    apply_destruction(&jobs, &client, &id, asked).await?;
    done(&state, &client, &accept, &id).await
}

/// Set the destruction time, clamped by the policy.
pub(super) async fn apply_destruction(
    jobs: &Jobs,
    client: &tokio_postgres::Client,
    id: &str,
    asked: UtcTime,
) -> Result<(), TapError> {
    let job = load(client, id).await?;
    let at = jobs
        .policy_for(job.owner_id.is_some())
        .grant_destruction(job.creation_time, Some(asked));
    if store::set_destruction(client, id, at).await? {
        Ok(())
    } else {
        Err(not_pending(&job, "destruction time"))
    }
}

pub async fn quote(State(jobs): State<Arc<Jobs>>, Path(id): Path<String>) -> Result<Response, TapError> {
    let job = fetch(&jobs, &id).await?;
    Ok(text(job.quote.map(UtcTime::to_iso).unwrap_or_default()))
}

pub async fn owner(State(jobs): State<Arc<Jobs>>, Path(id): Path<String>) -> Result<Response, TapError> {
    Ok(text(fetch(&jobs, &id).await?.owner_id.unwrap_or_default()))
}

// ----- parameters ------------------------------------------------------------------------

pub async fn parameters(
    State(state): State<Arc<Service>>,
    State(jobs): State<Arc<Jobs>>,
    Path(id): Path<String>,
) -> Result<Response, TapError> {
    let job = fetch(&jobs, &id).await?;
    let mut out = String::new();
    with_job_doc(&state, &job, |doc| {
        uws::write_parameters(doc.parameters, &mut out)
    });
    Ok(xml(out))
}

/// `GET /async/{id}/parameters/{part}`: an uploaded file of the job, as it was sent (UP-06).
pub async fn parameter_file(
    State(jobs): State<Arc<Jobs>>,
    Path((id, part)): Path<(String, String)>,
) -> Result<Response, TapError> {
    let client = jobs.connection().await?;
    load(&client, &id).await?;
    match crate::jobs::uploads::one(client, &id, &part).await? {
        Some(data) => Ok((
            [(header::CONTENT_TYPE, "application/octet-stream")],
            Body::from_stream(data),
        )
            .into_response()),
        None => Err(TapError::not_found(format!(
            "job {id} has no uploaded file '{part}'"
        ))),
    }
}

/// `POST /async/{id}/parameters` (JB-03): PENDING only; a repeated single-valued parameter
/// replaces the old value.
pub async fn parameters_post(
    State(state): State<Arc<Service>>,
    State(jobs): State<Arc<Jobs>>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, TapError> {
    let accept = req.headers().clone();
    let caller = super::auth::caller_of(&req);
    let later = params_of(&state, req).await?;
    let mut client = jobs.connection().await?;
    apply_params(&state, &caller, &mut client, &id, later).await?;
    done(&state, &client, &accept, &id).await
}

/// Merge parameters (and uploaded files) into a PENDING job and quote it again. The files and
/// the parameters are stored together or not at all: files past the job's upload limit, or a
/// job that left PENDING meanwhile, change nothing.
pub(super) async fn apply_params(
    state: &Service,
    caller: &Caller,
    client: &mut deadpool_postgres::Object,
    id: &str,
    mut later: Params,
) -> Result<(), TapError> {
    let job = load(client, id).await?;
    if job.phase != Phase::Pending {
        return Err(not_pending(&job, "parameters"));
    }
    let parts = std::mem::take(&mut later.file_parts);
    let mut params = Params::from_pairs(job.params.clone());
    params.merge(later);
    referenced(&params, &parts)?;
    let quote = crate::jobs::quote::quote(state, caller, params.pairs(), UtcTime::now()).await;
    let tx = client
        .transaction()
        .await
        .map_err(crate::db::DbError::query("cannot begin changing the job"))?;
    let max = state.config.limits.async_upload_max_bytes;
    crate::jobs::uploads::save(&tx, id, &parts, max).await?;
    if !store::set_params(tx.client(), id, params.pairs(), quote).await? {
        // Dropping the transaction rolls the files back.
        return Err(not_pending(&job, "parameters"));
    }
    tx.commit()
        .await
        .map_err(crate::db::DbError::query("cannot store the job's parameters"))?;
    Ok(())
}

// ----- results and error -----------------------------------------------------------------

pub async fn results(
    State(state): State<Arc<Service>>,
    State(jobs): State<Arc<Jobs>>,
    Path(id): Path<String>,
) -> Result<Response, TapError> {
    let job = fetch(&jobs, &id).await?;
    let mut out = String::new();
    with_job_doc(&state, &job, |doc| uws::write_results(doc.results, &mut out));
    Ok(xml(out))
}

/// `GET /async/{id}/error`: the error document of an ERROR or ABORTED job, with 200 (REQ-10).
pub async fn error(State(jobs): State<Arc<Jobs>>, Path(id): Path<String>) -> Result<Response, TapError> {
    let job = fetch(&jobs, &id).await?;
    match job.phase {
        Phase::Error | Phase::Aborted => {
            let message = job
                .error_message
                .unwrap_or_else(|| format!("the job is {}", job.phase));
            Ok((
                [(header::CONTENT_TYPE, "application/x-votable+xml")],
                votable::error_document(&message),
            )
                .into_response())
        }
        p => Err(TapError::not_found(format!("job {id} has no error: it is {p}"))),
    }
}

/// `GET /async/{id}/results/result` (PH-04), with single byte ranges so that large downloads
/// can resume. An ERROR job answers its error document with 400, which is what TapPlus
/// reports best (CLIENTS.md §5.2). A `votable_gzip` result is stored compressed and sent as it
/// is, with `Content-Encoding: gzip` (which also keeps the compression layer off it).
pub async fn result(
    State(state): State<Arc<Service>>,
    State(jobs): State<Arc<Jobs>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, TapError> {
    let job = fetch(&jobs, &id).await?;
    let stored = match (job.phase, &job.result) {
        (Phase::Completed, Some(r)) => r.clone(),
        (Phase::Error, _) => {
            return Err(TapError::bad_request(
                job.error_message.unwrap_or_else(|| "the job failed".into()),
            ))
        }
        (p, _) => return Err(TapError::not_found(format!("job {id} has no result: it is {p}"))),
    };
    if let Some(response) = stored_copy(&state, &jobs, &stored, &headers).await {
        return Ok(response);
    }
    let path = jobs.results_dir().join(&stored.file);
    let mut file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| TapError::internal(format!("the result file of job {id} cannot be read: {e}")))?;
    let len = file
        .metadata()
        .await
        .map_err(|e| TapError::internal(format!("the result file of job {id} cannot be read: {e}")))?
        .len();
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|r| byte_range(r, len));
    let (status, start, count) = match range {
        None | Some(Range::Ignored) => (StatusCode::OK, 0, len),
        Some(Range::Unsatisfiable) => {
            return Ok((
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, format!("bytes */{len}"))],
                "",
            )
                .into_response())
        }
        Some(Range::Bytes(a, b)) => (StatusCode::PARTIAL_CONTENT, a, b - a + 1),
    };
    if start > 0 {
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(|e| TapError::internal(format!("cannot seek in the result of job {id}: {e}")))?;
    }
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        let limited = file.take(count);
        super::sync::send_file(limited, &tx).await;
    });
    let mut response = Response::new(Body::from_stream(ChunkStream(rx)));
    *response.status_mut() = status;
    let h = response.headers_mut();
    if let Ok(v) = stored.mime.parse() {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Some(encoding) = crate::jobs::stored_encoding(&stored.file) {
        // Byte ranges then count bytes of the compressed file, as HTTP defines them.
        h.insert(
            header::CONTENT_ENCODING,
            header::HeaderValue::from_static(encoding),
        );
    }
    h.insert(header::ACCEPT_RANGES, header::HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, header::HeaderValue::from(count));
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(v) = format!("bytes {start}-{}/{len}", start + count - 1).parse() {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(response)
}

/// The whole result in the coding the client prefers, from the compressed copy written when
/// the job ended (`coding::write_copies`), when there is one: sent as stored, so that a
/// compressed download is no slower than an uncompressed one. `None` (the result as stored,
/// compressed on the fly if accepted) for a byte range, which counts bytes of the stored
/// result, for identity, and while or where no copy exists.
async fn stored_copy(
    state: &Service,
    jobs: &Jobs,
    stored: &crate::job_store::StoredResult,
    headers: &HeaderMap,
) -> Option<Response> {
    if headers.contains_key(header::RANGE) || crate::jobs::stored_encoding(&stored.file).is_some() {
        return None;
    }
    let offer = crate::coding::Offer::from_config(&state.config.compression);
    let accepted = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok());
    let coding = crate::coding::accept::choose(accepted, offer)?;
    let copy = jobs
        .results_dir()
        .join(crate::coding::copy_name(&stored.file, coding));
    let file = tokio::fs::File::open(&copy).await.ok()?;
    let len = file.metadata().await.ok()?.len();
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        super::sync::send_file(file, &tx).await;
    });
    let mut response = Response::new(Body::from_stream(ChunkStream(rx)));
    let h = response.headers_mut();
    if let Ok(v) = stored.mime.parse() {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::CONTENT_ENCODING,
        header::HeaderValue::from_static(coding.token()),
    );
    h.insert(header::CONTENT_LENGTH, header::HeaderValue::from(len));
    h.insert(header::ACCEPT_RANGES, header::HeaderValue::from_static("bytes"));
    super::compress::add_vary(h);
    Some(response)
}

/// What a `Range` header asks of a body of `len` bytes.
#[derive(Debug, PartialEq, Eq)]
enum Range {
    /// Inclusive first and last byte.
    Bytes(u64, u64),
    Unsatisfiable,
    /// Not a single byte range we serve (other units, several ranges): send everything.
    Ignored,
}

fn byte_range(header: &str, len: u64) -> Range {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Range::Ignored;
    };
    if spec.contains(',') {
        return Range::Ignored;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Range::Ignored;
    };
    let (a, b) = (a.trim(), b.trim());
    let parsed = match (a.is_empty(), b.is_empty()) {
        // "-n": the last n bytes.
        (true, false) => match b.parse::<u64>() {
            Ok(0) => return Range::Unsatisfiable,
            Ok(n) => Some((len.saturating_sub(n), len.saturating_sub(1))),
            Err(_) => None,
        },
        (false, true) => a.parse::<u64>().ok().map(|s| (s, len.saturating_sub(1))),
        (false, false) => match (a.parse::<u64>(), b.parse::<u64>()) {
            (Ok(s), Ok(e)) if s <= e => Some((s, e.min(len.saturating_sub(1)))),
            _ => None,
        },
        (true, true) => None,
    };
    match parsed {
        None => Range::Ignored,
        Some((s, _)) if len == 0 || s >= len => Range::Unsatisfiable,
        Some((s, e)) => Range::Bytes(s, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_shown_once() {
        let p = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            shown_params(&[
                p("UPLOAD", "a,param:x"),
                p("QUERY", "q"),
                p("UPLOAD", "b,param:y")
            ]),
            vec![p("UPLOAD", "a,param:x;b,param:y"), p("QUERY", "q")]
        );
    }

    #[test]
    fn byte_ranges() {
        assert_eq!(byte_range("bytes=0-9", 100), Range::Bytes(0, 9));
        assert_eq!(byte_range("bytes=90-", 100), Range::Bytes(90, 99));
        assert_eq!(byte_range("bytes=-10", 100), Range::Bytes(90, 99));
        assert_eq!(byte_range("bytes=95-200", 100), Range::Bytes(95, 99));
        assert_eq!(byte_range("bytes=100-", 100), Range::Unsatisfiable);
        assert_eq!(byte_range("bytes=-0", 100), Range::Unsatisfiable);
        assert_eq!(byte_range("bytes=5-2", 100), Range::Ignored);
        assert_eq!(byte_range("bytes=0-1,5-6", 100), Range::Ignored);
        assert_eq!(byte_range("items=0-1", 100), Range::Ignored);
        assert_eq!(byte_range("bytes=0-0", 0), Range::Unsatisfiable);
    }
}
