//! The job page: what a browser gets at `GET {base}/async/{id}` (see `negotiate`), a readable
//! view of the UWS job with the next sensible actions as plain HTML forms. The forms post to
//! the UWS endpoints themselves, which answer with the 303 to the job that UWS gives, so the
//! browser comes back here; `job.js` makes the phase live with UWS's blocking `WAIT`.
//!
//! Programs asking the same URL keep getting the UWS XML unchanged (`jobs::job`).

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::response::Response;
use uws::{Phase, UtcTime};

use super::negotiate::prefers_html;
use super::page::Page;
use crate::http::auth::caller_of;
use crate::http::jobs;
use crate::job_store::Job;
use crate::jobs::Jobs;
use crate::tap::{Service, TapError};

/// `GET {base}/async/{id}`: the page for a browser, the UWS document for everyone else.
pub async fn job_or_page(
    State(state): State<Arc<Service>>,
    State(jobs_side): State<Arc<Jobs>>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, TapError> {
    if !prefers_html(req.headers()) {
        let mut r = jobs::job(State(state), State(jobs_side), Path(id), req).await?;
        super::vary_accept(&mut r);
        return Ok(r);
    }
    let caller = caller_of(&req);
    let job = jobs::fetch(&jobs_side, &id).await?;
    let mut r = page(&state, &job).respond(&state.config, &caller);
    super::vary_accept(&mut r);
    Ok(r)
}

/// `GET {base}/async`: the UWS job list for programs; a browser (which lands here after
/// deleting a job, the 303 UWS gives) goes to the pages that list a person's jobs: "My jobs"
/// for a signed-in user, the job-number forms otherwise.
pub async fn list_or_page(
    State(state): State<Arc<Service>>,
    State(jobs_side): State<Arc<Jobs>>,
    req: Request,
) -> Result<Response, TapError> {
    if !prefers_html(req.headers()) || req.uri().query().is_some_and(|q| !q.is_empty()) {
        let mut r = jobs::list(State(state), State(jobs_side), req).await?;
        super::vary_accept(&mut r);
        return Ok(r);
    }
    let base = &state.config.server.base_path;
    let to = match caller_of(&req).owner() {
        Some(_) => format!("{base}/myjobs"),
        None => format!("{base}/manage"),
    };
    let mut r = super::see_other(&to);
    super::vary_accept(&mut r);
    Ok(r)
}

/// A size for people: `1.2 MB (1234567 bytes)`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} bytes");
    }
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {} ({bytes} bytes)", UNITS[unit])
}

/// A duration for people: `3600 s (1 h)`; 0 is UWS's "no limit".
fn duration(secs: u64) -> String {
    if secs == 0 {
        return "no limit".into();
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut human = String::new();
    for (n, unit) in [(h, "h"), (m, "min"), (s, "s")] {
        if n > 0 {
            human.push_str(&format!("{}{n} {unit}", if human.is_empty() { "" } else { " " }));
        }
    }
    format!("{secs} seconds ({human})")
}

fn when(t: Option<UtcTime>) -> String {
    t.map_or_else(|| "—".into(), |t| t.to_iso())
}

/// What each phase means, in a sentence a person who never read UWS understands.
pub fn phase_help(phase: Phase) -> &'static str {
    match phase {
        Phase::Pending => "The job is waiting for you: change it if you like, then run it.",
        Phase::Queued => "The job waits for a free worker; it starts by itself.",
        Phase::Executing => "The query is running.",
        Phase::Completed => "The query has finished; the result is below.",
        Phase::Error => "The query failed; the reason is below.",
        Phase::Aborted => "The job was stopped before it finished.",
        Phase::Held | Phase::Suspended => "The service has paused the job; it goes on by itself.",
        Phase::Archived => "The job finished long ago; its result is gone.",
        Phase::Unknown => "The service cannot tell the phase right now; look again soon.",
    }
}

/// The job's value of a parameter (names are stored upper-cased).
fn param<'a>(job: &'a Job, name: &str) -> Option<&'a str> {
    job.params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The page of one job.
pub fn page(state: &Service, job: &Job) -> Page {
    let base = state.config.server.base_path.as_str();
    let t = xmltext::text;
    let a = xmltext::attr;
    let url = format!("{base}/async/{}", job.id);
    let mut p = Page::new(format!("Job {}", job.id));
    let b = &mut p.body;
    let phase = job.phase.as_str();
    b.push_str(&format!(
        "<section id=\"live\" data-job=\"{}\" data-phase=\"{phase}\">\n",
        a(&url)
    ));
    b.push_str(&format!(
        "<p class=\"phase\">Phase: <strong id=\"phase\" class=\"phase-{}\" aria-live=\"polite\">{phase}</strong> \
         <span id=\"phase-help\">{}</span></p>\n",
        phase.to_ascii_lowercase(),
        t(phase_help(job.phase))
    ));
    let progress = match (job.phase, job.progress) {
        (Phase::Executing, Some((rows, bytes))) => {
            format!("{rows} rows written so far ({})", size(bytes))
        }
        (Phase::Executing, None) => "0 rows written so far".into(),
        _ => String::new(),
    };
    b.push_str(&format!(
        "<p id=\"progress\" aria-live=\"polite\">{}</p>\n</section>\n",
        t(&progress)
    ));
    // What a person came for first: the result or the error, and what to do next.
    results(b, job, &url);
    actions(
        b,
        job,
        &url,
        base,
        &format!("{}/async/{}", state.base_url, job.id),
    );
    b.push_str("<h2>Summary</h2>\n<table class=\"summary\">\n");
    let owner = job
        .owner_id
        .clone()
        .unwrap_or_else(|| "anonymous (a job made without logging in)".into());
    // Each value cell has an id (`s-started`...), which job.js updates.
    let mut row = |id: &str, k: &str, v: &str| {
        b.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td id=\"s-{id}\">{}</td></tr>\n",
            t(k),
            t(v)
        ));
    };
    row("id", "Job number", &job.id);
    if let Some(run_id) = &job.run_id {
        row("runid", "Name (RUNID)", run_id);
    }
    if let Some(name) = param(job, "JOBNAME") {
        row("name", "Job name", name);
    }
    row("owner", "Owner", &owner);
    row("created", "Created", &job.creation_time.to_iso());
    row("started", "Started", &when(job.start_time));
    row("ended", "Ended", &when(job.end_time));
    row(
        "duration",
        "Execution duration (limit)",
        &duration(job.execution_duration),
    );
    row(
        "destruction",
        "Destruction (removed at)",
        &job.destruction.to_iso(),
    );
    row("quote", "Expected end (quote)", &when(job.quote));
    b.push_str("</table>\n");
    // The parameters, the query first.
    b.push_str("<h2>Parameters</h2>\n");
    if let Some(q) = param(job, "QUERY") {
        b.push_str(&format!("<pre id=\"query\">{}</pre>\n", t(q)));
    }
    let others: Vec<&(String, String)> = job
        .params
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("QUERY"))
        .collect();
    if !others.is_empty() || !job.upload_parts.is_empty() {
        b.push_str("<table id=\"parameters\">\n");
        for (k, v) in others {
            b.push_str(&format!(
                "<tr><th scope=\"row\">{}</th><td>{}</td></tr>\n",
                t(k),
                t(v)
            ));
        }
        for part in &job.upload_parts {
            let escaped: String = form_urlencoded::byte_serialize(part.as_bytes()).collect();
            b.push_str(&format!(
                "<tr><th scope=\"row\">{}</th><td><a href=\"{}/parameters/{}\">uploaded file</a></td></tr>\n",
                t(part),
                a(&url),
                a(&escaped)
            ));
        }
        b.push_str("</table>\n");
    }
    p.scripts.push("job.js");
    p
}

/// The result with its size and link, or the error text.
fn results(b: &mut String, job: &Job, url: &str) {
    let t = xmltext::text;
    let a = xmltext::attr;
    b.push_str("<h2 id=\"results\">Results</h2>\n");
    match (job.phase, &job.result, &job.error_message) {
        (Phase::Completed, Some(r), _) => {
            b.push_str(
                "<table id=\"result-list\">\n<tr><th scope=\"col\">Result</th><th scope=\"col\">Format</th>\
                        <th scope=\"col\">Rows</th><th scope=\"col\">Size</th></tr>\n",
            );
            b.push_str(&format!(
                "<tr><td><a href=\"{}/results/result\">result</a></td><td>{}</td><td>{}{}</td><td>{}</td></tr>\n</table>\n",
                a(url),
                t(&r.mime),
                r.rows,
                if r.overflow {
                    " (cut at MAXREC: there are more)"
                } else {
                    ""
                },
                t(&size(r.bytes))
            ));
            // The rows as a page, with their sky plot when they have positions (web::results).
            b.push_str(&format!(
                "<p><a id=\"result-view\" href=\"{}/results/view\">Look at the rows</a> \
                 (the first rows as a table, and a sky plot when the result has positions)</p>\n",
                a(url)
            ));
        }
        (Phase::Error | Phase::Aborted, _, Some(m)) => {
            b.push_str(&format!(
                "<p>No result. The service says:</p>\n<pre id=\"error\" class=\"error\">{}</pre>\n\
                 <p><a href=\"{}/error\">The error document (VOTable)</a></p>\n",
                t(m),
                a(url)
            ));
        }
        (p, _, _) if p.is_active() => {
            b.push_str("<p id=\"no-result\">No result yet: it appears here when the job has completed.</p>\n")
        }
        _ => b.push_str("<p id=\"no-result\">This job has no result.</p>\n"),
    }
}

/// A form posting `fields` (hidden) and `controls` (visible, already HTML) to `action`.
fn form(b: &mut String, class: &str, action: &str, hidden: &[(&str, &str)], controls: &str, button: &str) {
    let a = xmltext::attr;
    b.push_str(&format!(
        "<form method=\"post\" class=\"action {}\" action=\"{}\">",
        a(class),
        a(action)
    ));
    for (k, v) in hidden {
        b.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            a(k),
            a(v)
        ));
    }
    b.push_str(controls);
    b.push_str(&format!(
        " <button type=\"submit\">{}</button></form>\n",
        xmltext::text(button)
    ));
}

/// The next sensible actions for the job's phase, as forms to the UWS endpoints.
fn actions(b: &mut String, job: &Job, url: &str, base: &str, public_url: &str) {
    let a = xmltext::attr;
    let t = xmltext::text;
    b.push_str("<h2>What you can do</h2>\n<div id=\"actions\">\n");
    if job.phase == Phase::Pending {
        form(
            b,
            "when-pending",
            &format!("{url}/phase"),
            &[("PHASE", "RUN")],
            "",
            "Run the query",
        );
        let secs = job.execution_duration.to_string();
        form(
            b,
            "when-pending",
            &format!("{url}/executionduration"),
            &[],
            &format!(
                "<label for=\"f-duration\">Execution duration (whole seconds; 0 for the longest allowed)</label>\
                 <input id=\"f-duration\" name=\"EXECUTIONDURATION\" type=\"number\" min=\"0\" step=\"1\" required value=\"{}\">",
                a(&secs)
            ),
            "Change the duration",
        );
        let maxrec = param(job, "MAXREC").unwrap_or("");
        form(
            b,
            "when-pending",
            &format!("{url}/parameters"),
            &[],
            &format!(
                "<label for=\"f-maxrec\">MAXREC (the most rows the result may have)</label>\
                 <input id=\"f-maxrec\" name=\"MAXREC\" type=\"number\" min=\"0\" step=\"1\" required value=\"{}\">",
                a(maxrec)
            ),
            "Change MAXREC",
        );
        let query = param(job, "QUERY").unwrap_or("");
        form(
            b,
            "when-pending",
            &format!("{url}/parameters"),
            &[],
            &format!(
                "<label for=\"f-query\">The query (ADQL)</label>\
                 <textarea id=\"f-query\" name=\"QUERY\" rows=\"5\" required>{}</textarea>",
                t(query)
            ),
            "Change the query",
        );
        let destruction = job.destruction.to_iso();
        let shown = destruction.get(..19).unwrap_or(&destruction);
        form(
            b,
            "when-pending",
            &format!("{url}/destruction"),
            &[],
            &format!(
                "<label for=\"f-destruction\">Destruction time, UTC (yyyy-mm-ddThh:mm:ss)</label>\
                 <input id=\"f-destruction\" name=\"DESTRUCTION\" type=\"text\" required \
                 pattern=\"\\d{{4}}-\\d{{2}}-\\d{{2}}([T ]\\d{{2}}:\\d{{2}}(:\\d{{2}})?)?Z?\" value=\"{}\">",
                a(shown)
            ),
            "Change the destruction time",
        );
    }
    if job.phase.is_active() || matches!(job.phase, Phase::Held | Phase::Suspended) {
        form(
            b,
            "when-active",
            &format!("{url}/phase"),
            &[("PHASE", "ABORT")],
            "",
            "Abort the job",
        );
    }
    form(b, "always", url, &[("ACTION", "DELETE")], "", "Delete the job");
    b.push_str(&format!(
        "</div>\n<p class=\"links\"><a href=\"{}/manage\">Manage a job by its number</a> · \
         <a href=\"{}/myjobs\">My jobs</a></p>\n\
         <p class=\"note\">Programs get this job as UWS XML at the same address: <code>curl {}</code></p>\n",
        a(base),
        a(base),
        t(public_url)
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_read_well() {
        assert_eq!(size(999), "999 bytes");
        assert_eq!(size(1234), "1.2 kB (1234 bytes)");
        assert_eq!(size(5_000_000), "5.0 MB (5000000 bytes)");
        assert_eq!(duration(0), "no limit");
        assert_eq!(duration(3661), "3661 seconds (1 h 1 min 1 s)");
        assert_eq!(duration(120), "120 seconds (2 min)");
    }
}
