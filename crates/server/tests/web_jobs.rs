//! The web front's job pages (issue 15) through the real server: the HTML job page for
//! browsers only (every UWS client's `Accept` keeps getting the XML it got), the ESO forms of
//! `/manage`, `/myjobs`, hostile job parameters shown as text, the CSRF rule, and a real
//! headless Chromium (`web_jobs_browser.py`, selenium from the clients' virtualenv) managing
//! jobs through every form, watching the phase change live, logging in and deleting jobs.
//!
//! Without PostgreSQL and curl the tests are skipped with a note (they fail in CI); so is the
//! browser part without Chromium, chromedriver or selenium.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{add_user, curl, embedded_url, get, post, start_with, Reply, Server};

/// What Chromium sends when a person follows a link or a form's 303.
const CHROMIUM: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,\
                        image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
const FIREFOX: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// The `Accept` headers of the clients that must keep getting UWS XML (spec/CLIENTS.md): none
/// (TapPlus's GETs), pyvo's (requests), taplint's and STILTS's (Java's default), TapPlus's
/// POSTs, and explicit XML.
const CLIENTS: &[(&str, Option<&str>)] = &[
    ("TapPlus GET (no Accept)", None),
    ("pyvo (requests)", Some("*/*")),
    (
        "taplint 3.4.7",
        Some("text/html, image/gif, image/jpeg, */*; q=0.2"),
    ),
    (
        "STILTS / Java default",
        Some("text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"),
    ),
    ("TapPlus POST", Some("text/plain")),
    ("XML", Some("application/xml")),
];

const PENDING_QUERY: &str = "SELECT TOP 3 id FROM bench.objects";

fn start() -> Option<Server> {
    start_with(&[("TAPIR_IDENTITY_PLAIN_HTTP_ON_LOOPBACK", "true")], None)
}

/// GET `{base}{path}` with these headers.
fn get_with(s: &Server, path: &str, headers: &[String]) -> Reply {
    let mut args = vec![format!("{}{path}", s.base)];
    for h in headers {
        args.extend(["-H".to_string(), h.clone()]);
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    curl(s, &refs)
}

/// POST `{base}{path}` (urlencoded) with these headers.
fn post_with(s: &Server, path: &str, headers: &[String], params: &[(&str, &str)]) -> Reply {
    let mut args = vec![format!("{}{path}", s.base)];
    for h in headers {
        args.extend(["-H".to_string(), h.clone()]);
    }
    for (k, v) in params {
        args.extend(["--data-urlencode".to_string(), format!("{k}={v}")]);
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    curl(s, &refs)
}

fn accept(a: &str) -> String {
    format!("Accept: {a}")
}

fn pending_job(s: &Server, extra: &[(&str, &str)]) -> String {
    let mut params = vec![("LANG", "ADQL"), ("QUERY", PENDING_QUERY)];
    params.extend_from_slice(extra);
    post(s, "/async", &params).job_id()
}

/// A UWS job document's element text (`<uws:NAME>...</uws:NAME>`).
fn uws_value(xml: &str, name: &str) -> String {
    let open = format!("<uws:{name}>");
    xml.split(&open)
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap_or("")
        .to_string()
}

fn assert_page(r: &Reply, status: u16) -> String {
    let body = r.text();
    assert_eq!(r.status, status, "{}{body}", r.headers);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{}",
        r.headers
    );
    assert!(body.starts_with("<!DOCTYPE html>"), "{body}");
    let csp = r.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("script-src 'self'"), "{}", r.headers);
    body
}

#[test]
fn browsers_get_the_job_page_and_clients_the_xml() {
    let Some(s) = start() else {
        return;
    };
    let id = pending_job(&s, &[("MAXREC", "7"), ("RUNID", "my-run")]);
    let job = format!("/async/{id}");
    // Every client's Accept: the same XML document, byte for byte, as before.
    let mut first: Option<Vec<u8>> = None;
    for (who, a) in CLIENTS {
        let headers: Vec<String> = a.iter().map(|a| accept(a)).collect();
        let r = get_with(&s, &job, &headers);
        assert_eq!(r.status, 200, "{who}: {}", r.text());
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/xml"),
            "{who}: {}",
            r.headers
        );
        assert!(r.text().contains("<uws:job "), "{who}: {}", r.text());
        assert!(
            r.header("vary")
                .is_some_and(|v| v.to_lowercase().contains("accept")),
            "{who}: {}",
            r.headers
        );
        match &first {
            None => first = Some(r.body.clone()),
            Some(f) => assert_eq!(&r.body, f, "{who}: the same document"),
        }
        // The job list too.
        let list = get_with(&s, "/async", &headers);
        assert_eq!(list.status, 200, "{who}");
        assert!(list.text().contains("<uws:jobs"), "{who}: {}", list.text());
        // And WAIT (pyvo's wait(), job.js) still blocks and answers XML.
        let w = get_with(&s, &format!("{job}?WAIT=1"), &headers);
        assert!(w.text().contains("<uws:phase>PENDING</uws:phase>"), "{who}");
    }
    eprintln!("XML for: {:?}", CLIENTS.iter().map(|c| c.0).collect::<Vec<_>>());
    // Browsers: the page.
    for b in [CHROMIUM, FIREFOX] {
        let r = get_with(&s, &job, &[accept(b)]);
        let page = assert_page(&r, 200);
        assert!(r
            .header("vary")
            .is_some_and(|v| v.to_lowercase().contains("accept")));
        for want in [
            format!("<title>Job {id}"),
            "<strong id=\"phase\" class=\"phase-pending\" aria-live=\"polite\">PENDING</strong>".into(),
            format!("<pre id=\"query\">{PENDING_QUERY}</pre>"),
            "<th scope=\"row\">MAXREC</th><td>7</td>".into(),
            "<th scope=\"row\">Name (RUNID)</th><td id=\"s-runid\">my-run</td>".into(),
            "anonymous".into(),
            format!("action=\"/tap/async/{id}/phase\""),
            format!("action=\"/tap/async/{id}/executionduration\""),
            format!("action=\"/tap/async/{id}/parameters\""),
            format!("action=\"/tap/async/{id}/destruction\""),
            "<input type=\"hidden\" name=\"ACTION\" value=\"DELETE\">".into(),
            "<input type=\"hidden\" name=\"PHASE\" value=\"RUN\">".into(),
            "<input type=\"hidden\" name=\"PHASE\" value=\"ABORT\">".into(),
            format!("data-job=\"/tap/async/{id}\" data-phase=\"PENDING\""),
            "/static/job.js?v=".into(),
            "Execution duration".into(),
            "Destruction".into(),
            "No result yet".into(),
        ] {
            assert!(page.contains(&want), "{want} in\n{page}");
        }
    }
    // The page's forms post to the UWS endpoints, which answer a browser with UWS's 303 to
    // the job, and TapPlus's text/plain with 200 and the phase, as before.
    let browser = [accept(CHROMIUM)];
    let r = post_with(
        &s,
        &format!("{job}/executionduration"),
        &browser,
        &[("EXECUTIONDURATION", "120")],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some(format!("{}{job}", s.base)));
    let r = post_with(&s, &format!("{job}/parameters"), &browser, &[("MAXREC", "2")]);
    assert_eq!(r.status, 303, "{}", r.text());
    let r = post_with(&s, &job, &[accept("text/plain")], &[("EXECUTIONDURATION", "100")]);
    assert_eq!((r.status, r.text().as_str()), (200, "PENDING"));
    let xml = get(&s, &job).text();
    assert_eq!(uws_value(&xml, "executionDuration"), "100");
    assert!(
        xml.contains("<uws:parameter id=\"maxrec\">2</uws:parameter>"),
        "{xml}"
    );
    // A change the phase does not allow: the same 403, as a page for the browser.
    let r = post_with(&s, &format!("{job}/phase"), &browser, &[("PHASE", "ABORT")]);
    assert_eq!(r.status, 303);
    let refused = post_with(
        &s,
        &format!("{job}/executionduration"),
        &browser,
        &[("EXECUTIONDURATION", "5")],
    );
    let page = assert_page(&refused, 403);
    assert!(
        page.contains("can be changed only while it is PENDING; this one is ABORTED"),
        "{page}"
    );
    assert!(
        page.contains(&format!("href=\"/tap{job}\">Back to the job")),
        "{page}"
    );
    let refused = post(
        &s,
        &format!("{job}/executionduration"),
        &[("EXECUTIONDURATION", "5")],
    );
    assert_eq!(refused.status, 403);
    assert!(
        refused.text().contains("QUERY_STATUS"),
        "programs: the VOTable: {}",
        refused.text()
    );
    // An ABORTED job's page: no change forms, the delete form, the message.
    let page = assert_page(&get_with(&s, &job, &browser), 200);
    assert!(!page.contains("name=\"EXECUTIONDURATION\""), "{page}");
    assert!(page.contains("value=\"DELETE\""), "{page}");
    // A browser deleting lands where people see their jobs; programs get the XML list.
    let r = post_with(&s, &job, &browser, &[("ACTION", "DELETE")]);
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some(format!("{}/async", s.base)));
    let r = get_with(&s, "/async", &browser);
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/tap/manage".into()))
    );
    let gone = get_with(&s, &job, &browser);
    let page = assert_page(&gone, 404);
    assert!(page.contains(&format!("there is no job '{id}'")), "{page}");
    assert_eq!(get(&s, &job).status, 404);
}

#[test]
fn the_manage_forms_do_what_the_seed_lists() {
    let Some(s) = start() else {
        return;
    };
    let browser = [accept(CHROMIUM)];
    let page = assert_page(&get_with(&s, "/manage", &browser), 200);
    for label in [
        "Enter job number to run:",
        "Enter job number to check its status:",
        "Enter job number to change its execution duration:",
        "Enter job number to change MAXREC of:",
        "Enter job number to edit the query of:",
        "Enter job number to delay its destruction:",
        "New destruction GMT time (yyyy-mm-ddThh:mm:ss)",
        "Enter job number to view results or errors (if they exist):",
        "Enter job number to abort:",
        "Enter job number to delete:",
        "This action can be taken only before running a job.",
    ] {
        assert!(page.contains(label), "{label}");
    }
    assert_eq!(page.matches("<form id=\"form-").count(), 9, "{page}");
    assert!(
        page.contains(&format!("<code id=\"service-url\">{}</code>", s.base)),
        "{page}"
    );
    assert!(
        page.contains(&format!("RUN: wget -O - '{}/async/", s.base)),
        "{page}"
    );
    assert!(
        page.contains(&format!("wget '{}/async' --post-data", s.base)),
        "{page}"
    );
    assert!(
        page.contains("href=\"/tap/manage\">Manage jobs</a>"),
        "NAV: {page}"
    );
    let id = pending_job(&s, &[]);
    let go = |params: &[(&str, &str)]| post_with(&s, "/manage/go", &browser, params);
    let to_job = Some(format!("/tap/async/{id}"));
    for (action, value) in [
        ("duration", "77"),
        ("maxrec", "1"),
        ("query", "SELECT TOP 2 id FROM bench.objects"),
        ("destruction", "2099-01-01T00:00:00"),
    ] {
        let r = go(&[("action", action), ("job", &format!(" {id} ")), ("value", value)]);
        assert_eq!(
            (r.status, r.header("location")),
            (303, to_job.clone()),
            "{action}: {}",
            r.text()
        );
    }
    let xml = get(&s, &format!("/async/{id}")).text();
    assert_eq!(uws_value(&xml, "executionDuration"), "77");
    assert!(
        xml.contains("<uws:parameter id=\"maxrec\">1</uws:parameter>"),
        "{xml}"
    );
    assert!(xml.contains("SELECT TOP 2 id FROM bench.objects"), "{xml}");
    // Clamped to the longest allowed (180 days after creation), as the UWS endpoint does.
    assert!(!uws_value(&xml, "destruction").starts_with("2099"), "{xml}");
    // Reading forms are GETs to the job page.
    let r = get_with(&s, &format!("/manage/go?action=status&job={id}"), &browser);
    assert_eq!((r.status, r.header("location")), (303, to_job.clone()));
    let r = get_with(&s, &format!("/manage/go?action=results&job={id}"), &browser);
    assert_eq!(r.header("location"), Some(format!("/tap/async/{id}#results")));
    // A changing action by GET is refused (a link must not change a job).
    let r = get_with(&s, &format!("/manage/go?action=delete&job={id}"), &browser);
    assert_page(&r, 405);
    // Wrong numbers and missing values: pages with the reason.
    let r = go(&[("action", "run"), ("job", "12345678")]);
    assert!(assert_page(&r, 404).contains("a job number has 26 letters and digits"));
    let r = go(&[("action", "run"), ("job", "")]);
    assert!(assert_page(&r, 400).contains("enter the job number"));
    let r = go(&[("action", "duration"), ("job", &id), ("value", "")]);
    assert!(assert_page(&r, 400).contains("enter the new value"));
    // Run, then abort (refused: done already) and delete.
    let r = go(&[("action", "run"), ("job", &id)]);
    assert_eq!(r.status, 303, "{}", r.text());
    let mut phase = String::new();
    for _ in 0..100 {
        phase = get(&s, &format!("/async/{id}/phase")).text();
        if phase == "COMPLETED" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(phase, "COMPLETED");
    let page = assert_page(&get_with(&s, &format!("/async/{id}"), &browser), 200);
    assert!(
        page.contains(&format!("<a href=\"/tap/async/{id}/results/result\">result</a>")),
        "{page}"
    );
    assert!(
        page.contains("<td>1 (cut at MAXREC: there are more)</td>"),
        "{page}"
    );
    // The rows as a page (web::results), which a person reaches from the job page.
    assert!(
        page.contains(&format!(
            "href=\"/tap/async/{id}/results/view\">Look at the rows</a>"
        )),
        "{page}"
    );
    // Aborting a finished job changes nothing (UWS), and says so on the job page.
    let r = go(&[("action", "abort"), ("job", &id)]);
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(get(&s, &format!("/async/{id}/phase")).text(), "COMPLETED");
    let r = go(&[("action", "delete"), ("job", &id)]);
    assert_eq!(r.header("location"), Some(format!("/tap/manage?deleted={id}")));
    assert_eq!(get(&s, &format!("/async/{id}")).status, 404);
    let page = assert_page(&get_with(&s, &format!("/manage?deleted={id}"), &browser), 200);
    assert!(page.contains(&format!("Job {id} has been deleted.")), "{page}");
}

/// A job whose QUERY and RUNID are hostile is shown as text everywhere.
#[test]
fn hostile_job_parameters_are_text() {
    let Some(s) = start() else {
        return;
    };
    let script = "<script>alert(1)</script>";
    let img = "\"><img src=x onerror=alert(2)>";
    let id = post(
        &s,
        "/async",
        &[
            ("LANG", "ADQL"),
            ("QUERY", &format!("SELECT 1 -- {script}{img}")),
            ("RUNID", &format!("{img}{script}")),
        ],
    )
    .job_id();
    let page = assert_page(&get_with(&s, &format!("/async/{id}"), &[accept(CHROMIUM)]), 200);
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains("<img"), "{page}");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{page}");
    assert!(page.contains("&lt;img src=x onerror=alert(2)&gt;"), "{page}");
    // The textarea of the query form too.
    assert!(
        page.contains(
            "<textarea id=\"f-query\" name=\"QUERY\" rows=\"5\" required>SELECT 1 -- &lt;script&gt;"
        ),
        "{page}"
    );
    // A deleted= that is not a job id is not echoed.
    let page = assert_page(
        &get_with(&s, "/manage?deleted=%3Cscript%3E", &[accept(CHROMIUM)]),
        200,
    );
    assert!(!page.contains("has been deleted"), "{page}");
    // An error page quoting the input escapes it.
    let r = post_with(
        &s,
        "/manage/go",
        &[accept(CHROMIUM)],
        &[("action", "duration"), ("job", &id), ("value", "<b>x</b>")],
    );
    let page = assert_page(&r, 400);
    assert!(
        page.contains("&lt;b&gt;x&lt;/b&gt;") && !page.contains("<b>x"),
        "{page}"
    );
}

/// The session cookie of a login by the TAP+ endpoint (as TapPlus does it).
fn login_cookie(s: &Server, user: &str, password: &str) -> String {
    let r = post(s, "/login", &[("username", user), ("password", password)]);
    assert_eq!(r.status, 200, "{}", r.text());
    let set = r.header("set-cookie").unwrap_or_default();
    set.split(';').next().unwrap_or_default().to_string()
}

#[test]
fn cross_site_changes_with_the_cookie_are_refused() {
    let Some(s) = start() else {
        return;
    };
    add_user(&s, "alice", "alice-pw");
    let cookie = format!("Cookie: {}", login_cookie(&s, "alice", "alice-pw"));
    let origin = s.base.trim_end_matches("/tap").to_string();
    // TapPlus: the cookie and no Origin creates and changes jobs.
    let r = post_with(
        &s,
        "/async",
        std::slice::from_ref(&cookie),
        &[("LANG", "ADQL"), ("QUERY", PENDING_QUERY)],
    );
    let id = r.job_id();
    let job = format!("/async/{id}");
    let duration = |s: &Server| {
        get_with(
            s,
            &format!("{job}/executionduration"),
            std::slice::from_ref(&cookie),
        )
        .text()
    };
    let change = |headers: &[String], secs: &str| {
        let mut h = vec![cookie.clone()];
        h.extend_from_slice(headers);
        post_with(
            &s,
            &format!("{job}/executionduration"),
            &h,
            &[("EXECUTIONDURATION", secs)],
        )
    };
    assert_eq!(change(&[], "101").status, 303);
    assert_eq!(duration(&s), "101");
    // A foreign page: refused with the reason, nothing changes.
    for foreign in [
        "Origin: https://evil.example".to_string(),
        "Referer: https://evil.example/attack.html".to_string(),
        "Origin: null".to_string(),
        format!("Origin: {}", origin.replace("127.0.0.1", "localhost")),
    ] {
        let r = change(std::slice::from_ref(&foreign), "5");
        assert_eq!(r.status, 403, "{foreign}: {}", r.text());
        assert!(
            r.text().contains("comes from a page of another site"),
            "{foreign}: {}",
            r.text()
        );
        assert_eq!(duration(&s), "101", "{foreign}");
    }
    // The browser's form on a page of this service: same origin, accepted.
    let r = change(&[format!("Origin: {origin}"), accept(CHROMIUM)], "102");
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(duration(&s), "102");
    let r = change(&[format!("Referer: {}/manage", s.base)], "103");
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(duration(&s), "103");
    // Scripts authenticated by a header are not cookie-authenticated: not checked.
    let r = post_with(
        &s,
        &format!("{job}/executionduration"),
        &["Origin: https://evil.example".to_string()],
        &[("EXECUTIONDURATION", "104")],
    );
    assert_eq!(r.status, 404, "anonymous cannot see alice's job: {}", r.text());
    let r = curl(
        &s,
        &[
            &format!("{}{job}/executionduration", s.base),
            "-u",
            "alice:alice-pw",
            "-H",
            "Origin: https://evil.example",
            "-H",
            &cookie,
            "-d",
            "EXECUTIONDURATION=104",
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(duration(&s), "104");
    // The web front's own forms and the other job endpoints follow the same rule.
    let evil = "Origin: https://evil.example".to_string();
    for (path, params) in [
        ("/manage/go", vec![("action", "delete"), ("job", id.as_str())]),
        ("/myjobs/delete", vec![("JOB_IDS", id.as_str())]),
        ("/deletejobs", vec![("JOB_IDS", id.as_str())]),
        (job.as_str(), vec![("ACTION", "DELETE")]),
        ("/async", vec![("QUERY", PENDING_QUERY)]),
        ("/logout", vec![("next", "/tap/myjobs")]),
    ] {
        let r = post_with(&s, path, &[cookie.clone(), evil.clone()], &params);
        assert_eq!(r.status, 403, "{path}: {}", r.text());
    }
    assert_eq!(
        get_with(&s, &job, std::slice::from_ref(&cookie)).status,
        200,
        "still there"
    );
    // Same origin: the bulk delete of the page works.
    let r = post_with(
        &s,
        "/myjobs/delete",
        &[cookie.clone(), format!("Origin: {origin}"), accept(CHROMIUM)],
        &[("JOB_IDS", &id)],
    );
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/tap/myjobs?deleted=1".into())),
        "{}",
        r.text()
    );
    assert_eq!(get_with(&s, &job, std::slice::from_ref(&cookie)).status, 404);
    // The login form's `next`: 303 back to the page, or to it with login=failed; TapPlus's
    // login without it is unchanged (login_cookie above).
    let r = post(
        &s,
        "/login",
        &[
            ("username", "alice"),
            ("password", "alice-pw"),
            ("next", "/tap/myjobs"),
        ],
    );
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/tap/myjobs".into()))
    );
    assert!(r
        .header("set-cookie")
        .is_some_and(|c| c.starts_with("JSESSIONID=")));
    let r = post(
        &s,
        "/login",
        &[
            ("username", "alice"),
            ("password", "wrong"),
            ("next", "/tap/myjobs"),
        ],
    );
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/tap/myjobs?login=failed".into()))
    );
    let r = post(
        &s,
        "/login",
        &[
            ("username", "alice"),
            ("password", "alice-pw"),
            ("next", "//evil.example/"),
        ],
    );
    assert_eq!(r.status, 200, "no open redirect: {}", r.headers);
    // Logout from the page.
    let r = post_with(
        &s,
        "/logout",
        &[cookie.clone(), format!("Origin: {origin}")],
        &[("next", "/tap/myjobs")],
    );
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/tap/myjobs?logout=done".into()))
    );
    let page = assert_page(&get_with(&s, "/myjobs", &[cookie.clone(), accept(CHROMIUM)]), 200);
    assert!(
        page.contains("<form id=\"login\""),
        "logged out: the login form: {page}"
    );
}

/// `/myjobs`: only the user's own jobs, filtered by phase, name and creation date; the login
/// form for anyone else.
#[test]
fn my_jobs_lists_and_filters() {
    let Some(s) = start() else {
        return;
    };
    add_user(&s, "alice", "alice-pw");
    add_user(&s, "bob", "bob-pw");
    let cookie = format!("Cookie: {}", login_cookie(&s, "alice", "alice-pw"));
    let mut ids = Vec::new();
    for (name, user) in [
        ("survey-1", "alice"),
        ("survey-2", "alice"),
        ("calib", "alice"),
        ("bobs", "bob"),
    ] {
        let r = curl(
            &s,
            &[
                &format!("{}/async", s.base),
                "-u",
                &format!("{user}:{user}-pw"),
                "--data-urlencode",
                &format!("QUERY={PENDING_QUERY}"),
                "--data-urlencode",
                &format!("RUNID={name}"),
            ],
        );
        ids.push(r.job_id());
    }
    let browser = accept(CHROMIUM);
    let list = |query: &str| {
        let page = assert_page(
            &get_with(&s, &format!("/myjobs{query}"), &[cookie.clone(), browser.clone()]),
            200,
        );
        let mut names: Vec<String> = ["survey-1", "survey-2", "calib", "bobs"]
            .iter()
            .filter(|n| page.contains(&format!("<td>{n}</td>")))
            .map(|n| n.to_string())
            .collect();
        names.sort();
        (names, page)
    };
    let (all, page) = list("");
    assert_eq!(all, ["calib", "survey-1", "survey-2"], "{page}");
    assert!(page.contains("<form id=\"logout\""), "{page}");
    assert!(page.contains("id=\"my-tables\""), "{page}");
    assert!(!page.contains(&ids[3]), "bob's job is not alice's");
    assert_eq!(list("?name=SURVEY").0, ["survey-1", "survey-2"]);
    assert_eq!(list("?phase=PENDING&name=cal").0, ["calib"]);
    assert!(list("?phase=COMPLETED").0.is_empty());
    let xml = get_with(&s, &format!("/async/{}", ids[0]), std::slice::from_ref(&cookie)).text();
    let day = uws_value(&xml, "creationTime")[..10].to_string();
    assert_eq!(list(&format!("?from={day}&to={day}")).0.len(), 3);
    assert!(list("?from=2099-01-01").0.is_empty());
    assert!(list("?to=2000-01-01").0.is_empty());
    let bad = get_with(&s, "/myjobs?from=yesterday", &[cookie.clone(), browser.clone()]);
    assert!(
        assert_page(&bad, 400).contains("use yyyy-mm-dd"),
        "{}",
        bad.text()
    );
    // Bulk delete by another user's session deletes nothing of alice's.
    let bob = format!("Cookie: {}", login_cookie(&s, "bob", "bob-pw"));
    let r = post_with(
        &s,
        "/myjobs/delete",
        &[bob, browser.clone()],
        &[("JOB_IDS", &ids[0]), ("JOB_IDS", &ids[1])],
    );
    assert_eq!(r.header("location"), Some("/tap/myjobs?deleted=0".into()));
    assert_eq!(list("").0.len(), 3);
    // Anonymous: the login form, posting to TAP+'s login with the way back.
    let page = assert_page(&get_with(&s, "/myjobs", std::slice::from_ref(&browser)), 200);
    assert!(
        page.contains("<form id=\"login\" method=\"post\" action=\"/tap/login\">"),
        "{page}"
    );
    assert!(
        page.contains("<input type=\"hidden\" name=\"next\" value=\"/tap/myjobs\">"),
        "{page}"
    );
    assert!(!page.contains("<table id=\"jobs\">"), "{page}");
    let r = post_with(&s, "/myjobs/delete", &[browser], &[("JOB_IDS", &ids[0])]);
    assert_page(&r, 403);
}

// ----- the browser -------------------------------------------------------------------------

/// A Python with selenium (the clients' virtualenv), Chromium and chromedriver; None (after a
/// note) outside CI when one is missing.
fn browser() -> Option<PathBuf> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = std::env::var_os("TAPIR_CLIENT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join(".venv-clients"));
    let python = [venv.join("bin/python"), PathBuf::from("python3")]
        .into_iter()
        .find(|p| {
            Command::new(p)
                .args(["-c", "import selenium"])
                .output()
                .is_ok_and(|o| o.status.success())
        });
    let missing = match &python {
        None => Some("no Python with selenium (scripts/client-venv)"),
        Some(_) if !Path::new("/usr/bin/chromium").exists() => Some("/usr/bin/chromium (Debian's chromium)"),
        Some(_) if !Path::new("/usr/bin/chromedriver").exists() => {
            Some("/usr/bin/chromedriver (Debian's chromium-driver)")
        }
        Some(_) => None,
    };
    if let Some(what) = missing {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but the browser test cannot run: missing {what} (.ci/run installs them)"
        );
        eprintln!("note: skipping the browser test: missing {what}");
        return None;
    }
    python
}

#[test]
fn a_person_manages_jobs_in_chromium() {
    let Some(python) = browser() else {
        return;
    };
    let Some(s) = start() else {
        return;
    };
    add_user(&s, "alice", "alice-pw");
    let shots = std::env::var_os("TAPIR_SCREENSHOTS")
        .filter(|v| v == "1")
        .map(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/web_jobs_browser.py");
    let profile = s.dir.join("chromium-profile");
    let mut command = Command::new(&python);
    command
        .arg(&script)
        .arg(&s.base)
        .arg(embedded_url(&s))
        .arg(&profile)
        .env("TAPIR_WEB_USER", "alice:alice-pw");
    if let Some(dir) = &shots {
        std::fs::create_dir_all(dir).expect("docs/screenshots");
        command.env("TAPIR_SCREENSHOT_DIR", dir);
    }
    let out = command.output().expect("python runs");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{report}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "the browser test failed:\n{report}\n{}",
        s.log()
    );
    assert!(report.contains("ALL STEPS PASSED"), "{report}");
}
