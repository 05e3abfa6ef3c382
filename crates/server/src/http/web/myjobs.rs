//! `{base}/myjobs`: a signed-in user's jobs, with filters (phase, name, creation dates) and
//! bulk delete; the login form for anyone else; a logout button; and the place where the
//! user's own tables will be listed (a later issue).
//!
//! Logging in and out are TAP+'s own endpoints (`http::login`): the forms add `next`, which
//! makes them answer a browser with a 303 back here instead of the text TapPlus reads. The
//! list is the ESA job search (`store::search`) among the caller's jobs, as `/jobs/async` and
//! `/async` filter them; the name and date filters are applied to that page of jobs.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use uws::{Phase, UtcTime};

use super::page::Page;
use crate::http::auth::caller_of;
use crate::http::body::read_form;
use crate::identity::Caller;
use crate::job_store::{self as store, Found};
use crate::jobs::Jobs;
use crate::tap::{Params, Service, TapError};

/// The filters a person set in the form (all optional).
#[derive(Default)]
struct Filters {
    phase: Option<Phase>,
    name: String,
    from: Option<UtcTime>,
    to: Option<UtcTime>,
}

impl Filters {
    fn read(params: &Params) -> Result<Filters, TapError> {
        let value = |k: &str| params.get(k).map(str::trim).filter(|v| !v.is_empty());
        let phase = match value("phase") {
            None => None,
            Some(p) => {
                Some(Phase::parse(p).ok_or_else(|| TapError::bad_request(format!("unknown phase '{p}'")))?)
            }
        };
        let day = |k: &str, end: bool| -> Result<Option<UtcTime>, TapError> {
            match value(k) {
                None => Ok(None),
                Some(d) => {
                    let t = UtcTime::parse_iso(d)
                        .map_err(|e| TapError::bad_request(format!("the date {k}: {e} (use yyyy-mm-dd)")))?;
                    // A day alone means the whole day for the "to" end.
                    Ok(Some(if end && d.len() == 10 {
                        t.plus_secs(86_400)
                    } else {
                        t
                    }))
                }
            }
        };
        Ok(Filters {
            phase,
            name: value("name").unwrap_or("").to_string(),
            from: day("from", false)?,
            to: day("to", true)?,
        })
    }

    fn keeps(&self, f: &Found) -> bool {
        let name = self.name.to_lowercase();
        let named = name.is_empty()
            || [
                f.name.as_deref(),
                f.job.run_id.as_deref(),
                Some(f.job.id.as_str()),
            ]
            .into_iter()
            .flatten()
            .any(|n| n.to_lowercase().contains(&name));
        let created = f.job.creation_time;
        named && self.from.is_none_or(|t| created >= t) && self.to.is_none_or(|t| created < t)
    }
}

/// `GET {base}/myjobs`.
pub async fn myjobs(
    State(state): State<Arc<Service>>,
    State(jobs_side): State<Arc<Jobs>>,
    req: Request,
) -> Result<Response, TapError> {
    let caller = caller_of(&req);
    let params = read_form(req).await?;
    let mut p = Page::new("My jobs");
    let base = state.config.server.base_path.as_str();
    notices(&mut p.body, &params);
    match &caller {
        Caller::Anonymous => login_form(&mut p.body, base),
        Caller::User(account) => {
            let filters = Filters::read(&params)?;
            logout_form(&mut p.body, base, &account.name);
            let mut search = uws::JobSearch {
                phase: filters.phase,
                limit: Some(state.config.jobs.list_max),
                metadata_only: true,
                ..Default::default()
            };
            search.offset = 0;
            let client = jobs_side.connection().await?;
            let found = store::search(&client, caller.owner(), &search).await?;
            drop(client);
            let total = found.len();
            let shown: Vec<&Found> = found.iter().filter(|f| filters.keeps(f)).collect();
            filter_form(&mut p.body, base, &filters);
            job_table(&mut p.body, base, &shown, total);
        }
    }
    p.body.push_str(
        "<h2 id=\"my-tables\">My tables</h2>\n<p class=\"placeholder\">Your own tables (uploads kept \
         on the service, results saved as tables, shared with your groups) will be listed here: \
         this user space comes with a later version of the service. Until then, upload a table \
         with each query (the UPLOAD parameter).</p>\n",
    );
    Ok(p.respond(&state.config, &caller))
}

/// What the last action said, from the query string it redirected to.
fn notices(b: &mut String, params: &Params) {
    let say = |b: &mut String, class: &str, text: &str| {
        b.push_str(&format!(
            "<p class=\"{class}\" role=\"status\" id=\"notice\">{}</p>\n",
            xmltext::text(text)
        ))
    };
    if params.get("login").map(str::trim) == Some("failed") {
        say(b, "error", "Wrong user name or password: please try again.");
    }
    if params.get("logout").is_some() {
        say(b, "done", "You have logged out.");
    }
    if let Some(n) = params.get("deleted").and_then(|n| n.trim().parse::<u64>().ok()) {
        say(
            b,
            "done",
            &format!("{n} job{} deleted.", if n == 1 { "" } else { "s" }),
        );
    }
}

fn login_form(b: &mut String, base: &str) {
    let a = xmltext::attr;
    b.push_str(&format!(
        "<p>Log in to see and manage your jobs. Jobs you start while logged in are yours: nobody \
         else sees them.</p>\n\
         <form id=\"login\" method=\"post\" action=\"{}\">\
         <input type=\"hidden\" name=\"next\" value=\"{}\">\
         <p><label for=\"username\">User name</label> \
         <input id=\"username\" name=\"username\" type=\"text\" autocomplete=\"username\" required></p>\
         <p><label for=\"password\">Password</label> \
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required></p>\
         <p><button type=\"submit\">Log in</button></p></form>\n\
         <p class=\"note\">Jobs made without logging in are not listed here: find one by its number \
         on <a href=\"{}/manage\">Manage your asynchronous queries</a>.</p>\n",
        a(&format!("{base}/login")),
        a(&format!("{base}/myjobs")),
        a(base),
    ));
}

fn logout_form(b: &mut String, base: &str, user: &str) {
    let a = xmltext::attr;
    b.push_str(&format!(
        "<form id=\"logout\" method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"next\" value=\"{}\">\
         <p>Logged in as <strong id=\"user\">{}</strong>. <button type=\"submit\">Log out</button></p></form>\n",
        a(&format!("{base}/logout")),
        a(&format!("{base}/myjobs")),
        xmltext::text(user)
    ));
}

fn filter_form(b: &mut String, base: &str, f: &Filters) {
    let a = xmltext::attr;
    let mut phases = String::from("<option value=\"\">any</option>");
    for p in Phase::ALL {
        phases.push_str(&format!(
            "<option{}>{}</option>",
            if f.phase == Some(p) { " selected" } else { "" },
            p.as_str()
        ));
    }
    let date = |t: Option<UtcTime>, end: bool| {
        t.map(|t| {
            let t = if end {
                UtcTime::from_unix_millis(t.unix_millis() - 86_400_000)
            } else {
                t
            };
            t.to_iso().get(..10).unwrap_or("").to_string()
        })
        .unwrap_or_default()
    };
    b.push_str(&format!(
        "<form id=\"filters\" method=\"get\" action=\"{}\" class=\"filters\">\
         <label for=\"f-phase\">Phase</label> <select id=\"f-phase\" name=\"phase\">{phases}</select> \
         <label for=\"f-name\">Name or RUNID contains</label> <input id=\"f-name\" name=\"name\" type=\"search\" value=\"{}\"> \
         <label for=\"f-from\">Created from</label> <input id=\"f-from\" name=\"from\" type=\"date\" value=\"{}\"> \
         <label for=\"f-to\">to</label> <input id=\"f-to\" name=\"to\" type=\"date\" value=\"{}\"> \
         <button type=\"submit\">Filter</button> <a href=\"{}\">Show all</a></form>\n",
        a(&format!("{base}/myjobs")),
        a(&f.name),
        a(&date(f.from, false)),
        a(&date(f.to, true)),
        a(&format!("{base}/myjobs")),
    ));
}

fn job_table(b: &mut String, base: &str, jobs: &[&Found], total: usize) {
    let t = xmltext::text;
    let a = xmltext::attr;
    b.push_str(&format!(
        "<h2>Jobs</h2>\n<p id=\"count\">{} of your {total} job{} shown.</p>\n",
        jobs.len(),
        if total == 1 { "" } else { "s" }
    ));
    if jobs.is_empty() {
        return;
    }
    b.push_str(&format!(
        "<form id=\"bulk\" method=\"post\" action=\"{}\">\n<table id=\"jobs\">\n<thead><tr>\
         <th scope=\"col\">Select</th><th scope=\"col\">Job</th><th scope=\"col\">Name</th>\
         <th scope=\"col\">Phase</th><th scope=\"col\">Created</th><th scope=\"col\">Query</th></tr></thead>\n<tbody>\n",
        a(&format!("{base}/myjobs/delete"))
    ));
    for f in jobs {
        let j = &f.job;
        let name = f.name.as_deref().or(j.run_id.as_deref()).unwrap_or("");
        let query = j
            .params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("QUERY"))
            .map_or("", |(_, v)| v.as_str());
        let short: String = query.chars().take(80).collect();
        let ellipsis = if query.chars().count() > 80 { "…" } else { "" };
        b.push_str(&format!(
            "<tr id=\"job-{id}\"><td><input type=\"checkbox\" name=\"JOB_IDS\" value=\"{id}\" id=\"sel-{id}\" \
             aria-label=\"select job {id}\"></td><td><a href=\"{href}\">{id}</a></td><td>{}</td>\
             <td class=\"phase-{}\">{}</td><td>{}</td><td><code>{}{ellipsis}</code></td></tr>\n",
            t(name),
            j.phase.as_str().to_ascii_lowercase(),
            j.phase.as_str(),
            j.creation_time.to_iso(),
            t(&short),
            id = a(&j.id),
            href = a(&format!("{base}/async/{}", j.id)),
        ));
    }
    b.push_str(
        "</tbody>\n</table>\n<p><button type=\"submit\" id=\"delete-selected\">Delete the selected jobs</button></p>\n</form>\n",
    );
}

/// `POST {base}/myjobs/delete`: the checked jobs of the signed-in user, in one statement (the
/// same as ESA's `/deletejobs`); back to the list.
pub async fn delete(
    State(state): State<Arc<Service>>,
    State(jobs_side): State<Arc<Jobs>>,
    req: Request,
) -> Result<Response, TapError> {
    let caller = caller_of(&req);
    let Some(owner) = caller.owner() else {
        return Err(TapError::forbidden("log in to delete your jobs from this page"));
    };
    let params = read_form(req).await?;
    let asked = uws::job_id_list(params.all("JOB_IDS"));
    if asked.is_empty() {
        return Err(TapError::bad_request(
            "select the jobs to delete (the boxes in the first column)",
        ));
    }
    let ours: Vec<&str> = asked
        .into_iter()
        .filter(|id| uws::looks_like_job_id(id))
        .collect();
    let deleted = {
        let client = jobs_side.connection().await?;
        store::delete_many(&client, Some(owner), &ours).await?
    };
    for id in &deleted {
        jobs_side.remove_files(id).await;
    }
    tracing::info!(deleted = deleted.len(), owner, "jobs deleted (my jobs page)");
    let base = &state.config.server.base_path;
    Ok(super::see_other(&format!(
        "{base}/myjobs?deleted={}",
        deleted.len()
    )))
}
