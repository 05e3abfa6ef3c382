//! `{base}/manage`, "Manage your asynchronous queries": ESO's page of job-number forms (the
//! seed's list: run, check status, change execution duration, change MAXREC, edit the query,
//! delay destruction, view results or errors, abort, delete), and `{base}/manage/go`, the
//! handler they submit to, which needs the job number from a field (a plain form cannot put it
//! into its URL without JavaScript).
//!
//! Reading forms (status, results) are GETs that redirect to the job page. Changing forms are
//! POSTs: a GET that changes a job would run for any link a person follows (and a signed-in
//! user's cookie goes with top-level GETs from other sites), and POSTs get the CSRF rule. They
//! do what the UWS endpoint of the action does, under the same owner rule and the same phase
//! rules, then redirect to the job page; errors are shown as pages (`errors`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::response::Response;
use uws::Action;

use super::page::Page;
use crate::http::auth::caller_of;
use crate::http::body::read_form;
use crate::http::jobs;
use crate::jobs::Jobs;
use crate::tap::{Params, Service, TapError};

/// The forms, in the seed's order: (action, label of the job-number field, method, the value
/// field's label and kind, the note under it).
struct Form {
    action: &'static str,
    label: &'static str,
    post: bool,
    value: Option<(&'static str, Value)>,
    button: &'static str,
}

#[derive(Clone, Copy)]
enum Value {
    Number,
    Text,
    Query,
}

const FORMS: &[Form] = &[
    Form {
        action: "run",
        label: "Enter job number to run:",
        post: true,
        value: None,
        button: "Run",
    },
    Form {
        action: "status",
        label: "Enter job number to check its status:",
        post: false,
        value: None,
        button: "Check status",
    },
    Form {
        action: "duration",
        label: "Enter job number to change its execution duration:",
        post: true,
        value: Some((
            "New execution duration (integer number of seconds)",
            Value::Number,
        )),
        button: "Change execution duration",
    },
    Form {
        action: "maxrec",
        label: "Enter job number to change MAXREC of:",
        post: true,
        value: Some(("New MAXREC (the most rows the result may have)", Value::Number)),
        button: "Change MAXREC",
    },
    Form {
        action: "query",
        label: "Enter job number to edit the query of:",
        post: true,
        value: Some(("Corrected query", Value::Query)),
        button: "Change the query",
    },
    Form {
        action: "destruction",
        label: "Enter job number to delay its destruction:",
        post: true,
        value: Some(("New destruction GMT time (yyyy-mm-ddThh:mm:ss)", Value::Text)),
        button: "Change destruction time",
    },
    Form {
        action: "results",
        label: "Enter job number to view results or errors (if they exist):",
        post: false,
        value: None,
        button: "View results or errors",
    },
    Form {
        action: "abort",
        label: "Enter job number to abort:",
        post: true,
        value: None,
        button: "Abort",
    },
    Form {
        action: "delete",
        label: "Enter job number to delete:",
        post: true,
        value: None,
        button: "Delete",
    },
];

/// Actions that can be taken only before the job runs.
fn only_pending(action: &str) -> bool {
    matches!(action, "duration" | "maxrec" | "query" | "destruction")
}

/// `GET {base}/manage`.
pub async fn manage(State(state): State<Arc<Service>>, req: Request) -> Response {
    let caller = caller_of(&req);
    let deleted = req
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "deleted")
        .map(|(_, v)| v.into_owned())
        .filter(|id| uws::looks_like_job_id(id));
    page(&state, deleted.as_deref()).respond(&state.config, &caller)
}

fn page(state: &Service, deleted: Option<&str>) -> Page {
    let base = state.config.server.base_path.as_str();
    let url = state.base_url.as_str();
    let t = xmltext::text;
    let a = xmltext::attr;
    let mut p = Page::new("Manage your asynchronous queries");
    let b = &mut p.body;
    if let Some(id) = deleted {
        b.push_str(&format!(
            "<p id=\"done\" class=\"done\" role=\"status\">Job {} has been deleted.</p>\n",
            t(id)
        ));
    }
    let policy = &state.config.jobs;
    b.push_str(&format!(
        "<p>This page has simple forms to manage the asynchronous (ADQL) queries sent to this TAP \
         service. You launched an asynchronous query because you expect it to take a long time, \
         and what you want now is to get to its result: enter the job number (the job \
         identifier) you received when you submitted the query in one of the forms below.</p>\n\
         <p>Jobs that are not deleted are kept for a limited time, by default {}, unless you set \
         a destruction time, which cannot be later than {} after the job was created.</p>\n",
        t(&days(policy.retention_default_secs)),
        t(&days(policy.retention_max_secs)),
    ));
    b.push_str(&format!(
        "<h2>The service</h2>\n<p>This process serves one TAP service. The main URL for \
         programmatic access to it is: <code id=\"service-url\">{}</code></p>\n",
        t(url)
    ));
    b.push_str(&format!(
        "<p>Queries can also be submitted on the command line, with wget, curl or similar \
         programs:</p>\n<pre class=\"wrap\">wget '{u}/async' --post-data 'REQUEST=doQuery&amp;LANG=ADQL&amp;MAXREC=2&amp;FORMAT=csv&amp;QUERY=SELECT%20TOP%202%20*%20FROM%20TAP_SCHEMA.tables' -O -\n\n\
         curl -L '{u}/async' -d 'REQUEST=doQuery&amp;LANG=ADQL&amp;MAXREC=2&amp;FORMAT=csv&amp;QUERY=SELECT%20TOP%202%20*%20FROM%20TAP_SCHEMA.tables'</pre>\n",
        u = t(url)
    ));
    b.push_str(
        "<h2>Asynchronous query management</h2>\n<p>Once you have a job number, enter it in the \
         forms below: to run the job, to poll it for its status, to change its execution \
         duration, MAXREC or query or to delay its destruction (before it runs), to see its \
         result or its error, to abort it, and to delete it when you no longer need it. Each \
         form leads to the job's page, which shows all this too.</p>\n<div id=\"forms\">\n",
    );
    for f in FORMS {
        let id = format!("m-{}", f.action);
        b.push_str(&format!(
            "<form id=\"form-{act}\" class=\"manage\" method=\"{method}\" action=\"{go}\">\
             <input type=\"hidden\" name=\"action\" value=\"{act}\">\
             <label for=\"{id}\">{label}</label> \
             <input id=\"{id}\" name=\"job\" type=\"text\" required size=\"28\" autocomplete=\"off\" \
             spellcheck=\"false\" pattern=\"\\s*[a-zA-Z2-7]{{26}}\\s*\">",
            act = f.action,
            method = if f.post { "post" } else { "get" },
            go = a(&format!("{base}/manage/go")),
            label = t(f.label),
        ));
        if let Some((label, kind)) = f.value {
            let vid = format!("{id}-value");
            let control = match kind {
                Value::Number => format!(
                    "<input id=\"{vid}\" name=\"value\" type=\"number\" min=\"0\" step=\"1\" required>"
                ),
                Value::Text => format!(
                    "<input id=\"{vid}\" name=\"value\" type=\"text\" required placeholder=\"yyyy-mm-ddThh:mm:ss\" \
                     pattern=\"\\s*\\d{{4}}-\\d{{2}}-\\d{{2}}([T ]\\d{{2}}:\\d{{2}}(:\\d{{2}})?)?Z?\\s*\">"
                ),
                Value::Query => format!("<textarea id=\"{vid}\" name=\"value\" rows=\"3\" required></textarea>"),
            };
            b.push_str(&format!(" <label for=\"{vid}\">{}</label> {control}", t(label)));
        }
        b.push_str(&format!(" <button type=\"submit\">{}</button>", t(f.button)));
        if only_pending(f.action) {
            b.push_str("<p class=\"note\">This action can be taken only before running a job.</p>");
        }
        b.push_str("</form>\n");
    }
    b.push_str("</div>\n");
    examples(b, url);
    p
}

/// `86400` as `1 day`, `15552000` as `180 days`.
fn days(secs: u64) -> String {
    match secs {
        0 => "no limit".into(),
        s if s % 86_400 == 0 && s / 86_400 == 1 => "1 day".into(),
        s if s % 86_400 == 0 => format!("{} days", s / 86_400),
        s if s % 3600 == 0 => format!("{} hours", s / 3600),
        s => format!("{s} seconds"),
    }
}

/// The seed's section on controlling jobs programmatically, for this service's URL.
fn examples(b: &mut String, url: &str) {
    let t = xmltext::text;
    let job = format!("{url}/async/{EXAMPLE_ID}");
    b.push_str(
        "<h2>Controlling your asynchronous queries programmatically</h2>\n<p>Instead of the forms \
         above you may prefer to control your jobs from a program. You do not need wget in \
         particular: what matters is that you use HTTP POST to change a job (its phase or its \
         parameters) and HTTP GET to read it (its status, its results). The whole interface is \
         the IVOA standard Universal Worker Service Pattern, version 1.1.</p>\n",
    );
    b.push_str(&format!(
        "<p>In these examples the job identifier is <code>{}</code>; use the one you received \
         when you submitted your query.</p>\n<pre id=\"examples\" class=\"wrap\">",
        t(EXAMPLE_ID)
    ));
    for (what, tail) in [
        ("RUN", " --post-data 'PHASE=RUN'"),
        ("STATUS", ""),
        ("EXECUTIONDURATION", " --post-data 'executionduration=120'"),
        ("MAXREC", " --post-data 'MAXREC=1000'"),
        (
            "QUERY",
            " --post-data 'QUERY=SELECT%20TOP%2010%20*%20FROM%20TAP_SCHEMA.tables'",
        ),
        (
            "SET DESTRUCTION TIME",
            " --post-data 'destruction=2030-09-01T00:00:00'",
        ),
        ("ABORT", " --post-data 'PHASE=ABORT'"),
        ("DELETE", " --post-data 'ACTION=DELETE'"),
    ] {
        b.push_str(&format!("{what}: wget -O - '{}'{}\n", t(&job), t(tail)));
    }
    b.push_str(&format!(
        "RESULTS: wget -O - '{}/results/result'\n</pre>\n<p>The equivalent curl command looks like \
         this:</p>\n<pre class=\"wrap\">curl -L '{}' -d 'PHASE=RUN'</pre>\n",
        t(&job),
        t(&job)
    ));
}

/// A job id of the right shape for the examples.
const EXAMPLE_ID: &str = "abcdefghijklmnopqrstuvwxya";

/// `GET|POST {base}/manage/go`: one form's action on the job it names.
pub async fn go(
    State(state): State<Arc<Service>>,
    State(jobs_side): State<Arc<Jobs>>,
    req: Request,
) -> Result<Response, TapError> {
    let caller = caller_of(&req);
    let post = req.method() == Method::POST;
    let params = read_form(req).await?;
    let action = params.get("action").unwrap_or("").trim().to_ascii_lowercase();
    let Some(form) = FORMS.iter().find(|f| f.action == action) else {
        return Err(TapError::bad_request(format!(
            "unknown action '{action}': use one of the forms of the manage page"
        )));
    };
    let id = params.get("job").unwrap_or("").trim().to_ascii_lowercase();
    if id.is_empty() {
        return Err(TapError::bad_request(
            "enter the job number (the job identifier) of your job",
        ));
    }
    if !uws::looks_like_job_id(&id) {
        return Err(TapError::not_found(format!(
            "there is no job '{id}': a job number has 26 letters and digits, as in {EXAMPLE_ID}"
        )));
    }
    if form.post && !post {
        return Err(TapError::new(
            crate::tap::ErrorKind::MethodNotAllowed,
            "this action changes the job: use the form on the manage page (it posts)",
        ));
    }
    // The owner rule of the job's own endpoints: another's job is a job that is not there.
    jobs::callers(&jobs_side, &caller, &id).await?;
    let base = &state.config.server.base_path;
    let page = format!("{base}/async/{id}");
    let value = || {
        params
            .get("value")
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                TapError::bad_request(format!("enter the new value to {}", form.button.to_lowercase()))
            })
    };
    let mut client = jobs_side.connection().await?;
    match form.action {
        "status" => {}
        "results" => return Ok(super::see_other(&format!("{page}#results"))),
        "run" => jobs::apply_action(&state, &client, &caller, &id, Action::Run).await?,
        "abort" => jobs::apply_action(&state, &client, &caller, &id, Action::Abort).await?,
        "duration" => {
            let secs = jobs::parse_duration(value()?)?;
            jobs::apply_duration(&jobs_side, &client, &id, secs).await?;
        }
        "destruction" => {
            let at = jobs::parse_instant("DESTRUCTION", value()?)?;
            jobs::apply_destruction(&jobs_side, &client, &id, at).await?;
        }
        "maxrec" | "query" => {
            let v = value()?;
            if form.action == "maxrec" && v.parse::<u64>().is_err() {
                return Err(TapError::bad_request(format!(
                    "MAXREC must be a whole number, not '{v}'"
                )));
            }
            let name = if form.action == "maxrec" {
                "MAXREC"
            } else {
                "QUERY"
            };
            let changed = Params::from_pairs(vec![(name.to_string(), v.to_string())]);
            jobs::apply_params(&state, &caller, &mut client, &id, changed).await?;
        }
        "delete" => {
            drop(client);
            jobs::delete_job(&state, &jobs_side, &id).await?;
            return Ok(super::see_other(&format!("{base}/manage?deleted={id}")));
        }
        _ => {}
    }
    Ok(super::see_other(&page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_forms_in_order() {
        let actions: Vec<&str> = FORMS.iter().map(|f| f.action).collect();
        assert_eq!(
            actions,
            [
                "run",
                "status",
                "duration",
                "maxrec",
                "query",
                "destruction",
                "results",
                "abort",
                "delete"
            ]
        );
        assert!(uws::looks_like_job_id(EXAMPLE_ID));
        // Reading forms are GETs, changing ones POSTs.
        for f in FORMS {
            assert_eq!(f.post, !matches!(f.action, "status" | "results"), "{}", f.action);
        }
        assert_eq!(days(86_400), "1 day");
        assert_eq!(days(180 * 86_400), "180 days");
    }
}
