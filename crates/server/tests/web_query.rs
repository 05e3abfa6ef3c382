//! The query page (issue 15) through the real server: the landing page with its form, tables
//! and examples; the ADQL error's position in the DALI error document (and pyvo reading that
//! document as before); the sky plot of a cone query; a finished job's result view and plot; a
//! hostile table description shown as text; and the page in headless Chromium
//! (`web_query.py`: completion, a sync run with its table, the error marked in the editor, an
//! example into the editor, the sky plot, an async submit).
//!
//! Without PostgreSQL and curl the test is skipped with a note (fails in CI). Without Chromium,
//! chromedriver or a Python with Selenium (scripts/client-venv) the browser part is skipped with
//! a note, and fails in CI. `TAPIR_SCREENSHOTS=1` saves the browser's screenshots into
//! `docs/screenshots/`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{curl, get, post, psql, start, sync, Reply, Server};

/// A cone around Sgr A*, where the demo catalogue has a cluster of sources.
const CONE: &str = "SELECT source_id, ra, dec FROM gaiadr1.gaia_source \
                    WHERE 1=CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 266.4168, -29.0078, 0.1))";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A Python that imports `module`: the clients' virtualenv first, then the system's.
fn python_with(module: &str) -> Option<PathBuf> {
    let venv = std::env::var_os("TAPIR_CLIENT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv-clients"));
    [venv.join("bin/python"), PathBuf::from("python3")]
        .into_iter()
        .find(|p| {
            Command::new(p)
                .args(["-c", &format!("import {module}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// `what` is missing: a failure in CI, a note elsewhere.
fn missing(what: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but {what} (.ci/run installs chromium and chromium-driver; scripts/client-venv installs selenium and pyvo)"
    );
    eprintln!("note: {what}; skipping that part");
}

fn count(s: &Server, query: &str) -> usize {
    let r = sync(
        s,
        &format!("SELECT COUNT(*) AS n FROM ({query}) AS q"),
        &[("FORMAT", "csv")],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.text()
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .expect("a count")
}

fn plot(s: &Server, query: &str, maxrec: Option<&str>) -> Reply {
    let url = format!("{}/plot.svg", s.base);
    let mut args = vec![url.as_str(), "--get", "--data-urlencode", "LANG=ADQL"];
    let q = format!("QUERY={query}");
    args.extend(["--data-urlencode", &q]);
    let m = maxrec.map(|m| format!("MAXREC={m}"));
    if let Some(m) = &m {
        args.extend(["--data-urlencode", m]);
    }
    curl(s, &args)
}

#[test]
fn the_query_page() {
    let Some(s) = start() else {
        return;
    };

    // The landing page: the form posting to /sync (and to /async as a job), the tables, the
    // examples, the endpoints; the script and the policy that forbids inline scripts.
    let page = get(&s, "/");
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert!(
        html.contains("<form id=\"query-form\" action=\"/tap/sync\" method=\"post\">"),
        "{html}"
    );
    assert!(html.contains("name=\"QUERY\""), "{html}");
    assert!(
        html.contains("<input type=\"hidden\" name=\"LANG\" value=\"ADQL\">"),
        "{html}"
    );
    assert!(
        html.contains("formaction=\"/tap/async\" name=\"PHASE\" value=\"RUN\""),
        "{html}"
    );
    assert!(
        html.contains(&format!("href=\"{}/tables/gaiadr1.gaia_source\"", s.base)),
        "{html}"
    );
    assert!(html.contains(&format!("href=\"{}/examples\"", s.base)), "{html}");
    assert!(
        html.contains("class=\"use-example\" hidden data-query=\"SELECT"),
        "{html}"
    );
    assert!(html.contains("/tap/static/query.js?v="), "{html}");
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let js = get(&s, "/static/query.js");
    assert_eq!(js.status, 200);
    assert!(js
        .header("content-type")
        .unwrap_or_default()
        .starts_with("text/javascript"));
    // The form without JavaScript: a post of its fields runs the query.
    let ran = post(
        &s,
        "/sync",
        &[
            ("LANG", "ADQL"),
            ("QUERY", "SELECT TOP 10 * FROM TAP_SCHEMA.tables"),
            ("FORMAT", "html"),
            ("MAXREC", "1000"),
        ],
    );
    assert_eq!(ran.status, 200, "{}", ran.text());
    assert!(ran.text().contains("<table"), "{}", ran.text());

    // The error's place, as INFOs after QUERY_STATUS; the document stays a valid VOTable and
    // pyvo reads the message from it as before.
    let bad = "SELECT source_id,\n  rra FROM gaiadr1.gaia_source";
    let err = sync(&s, bad, &[]);
    assert_eq!(err.status, 400);
    let text = err.text();
    assert!(
        text.contains("<INFO name=\"QUERY_STATUS\" value=\"ERROR\">ADQL unknown name"),
        "{text}"
    );
    assert!(text.contains("<INFO name=\"line\" value=\"2\"/>"), "{text}");
    assert!(text.contains("<INFO name=\"column\" value=\"3\"/>"), "{text}");
    assert!(
        text.contains("<INFO name=\"hint\" value=\"did you mean"),
        "{text}"
    );
    if let Some(report) = common::votlint(&s, &err.body) {
        assert!(
            !report.to_ascii_lowercase().contains("error"),
            "votlint: {report}"
        );
    }
    match python_with("pyvo") {
        Some(py) => {
            let script = "import sys, pyvo\n\
                          try:\n    pyvo.dal.TAPService(sys.argv[1]).run_sync(sys.argv[2])\n\
                          except pyvo.dal.DALQueryError as e:\n    print('DALQueryError:', e)\n";
            let out = Command::new(py)
                .args(["-c", script, &s.base, bad])
                .output()
                .expect("python runs");
            let said = String::from_utf8_lossy(&out.stdout);
            assert!(
                said.contains("DALQueryError: ADQL unknown name: column 'rra' not found"),
                "{said}{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        None => missing("no Python with pyvo"),
    }

    // The sky plot of a cone: a point per row, labelled axes, an SVG that runs nothing.
    let n = count(&s, CONE);
    assert!(n > 10 && n < 1000, "{n} sources in the cone");
    let svg = plot(&s, CONE, None);
    assert_eq!(svg.status, 200, "{}", svg.text());
    assert!(svg
        .header("content-type")
        .unwrap_or_default()
        .starts_with("image/svg+xml"));
    assert!(svg
        .header("content-security-policy")
        .unwrap_or_default()
        .contains("default-src 'none'"));
    let drawn = svg.text();
    assert_eq!(drawn.matches("class=\"pt\"").count(), n, "{drawn}");
    assert!(drawn.contains(&format!(">{n} positions</text>")), "{drawn}");
    assert!(drawn.contains("Right ascension (deg)") && drawn.contains("Declination (deg)"));
    assert!(drawn.contains("class=\"tick-ra\"") && drawn.contains("class=\"tick-dec\""));
    // MAXREC caps the points (and is capped itself); a wrong query is the usual error.
    let few = plot(&s, CONE, Some("5")).text();
    assert_eq!(few.matches("class=\"pt\"").count(), 5);
    assert!(few.contains("the first 5 rows only"), "{few}");
    let wrong = plot(&s, bad, None);
    assert_eq!(wrong.status, 400);
    assert!(
        wrong.text().contains("<INFO name=\"line\" value=\"2\"/>"),
        "{}",
        wrong.text()
    );
    assert_eq!(plot(&s, CONE, Some("many")).status, 400);

    // A job's result, for a person: the first rows, the download, the plot.
    let created = post(
        &s,
        "/async",
        &[
            ("LANG", "ADQL"),
            ("PHASE", "RUN"),
            ("FORMAT", "votable"),
            ("QUERY", CONE),
        ],
    );
    let id = created.job_id();
    let mut phase = String::new();
    for _ in 0..100 {
        phase = get(&s, &format!("/async/{id}/phase")).text();
        if !matches!(phase.as_str(), "PENDING" | "QUEUED" | "EXECUTING") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(phase, "COMPLETED");
    let view = get(&s, &format!("/async/{id}/results/view"));
    assert_eq!(view.status, 200, "{}", view.text());
    let v = view.text();
    assert!(v.contains(&format!("{n} rows")), "{v}");
    assert!(
        v.contains("<th scope=\"col\">deg</th>"),
        "units in the header: {v}"
    );
    assert!(
        v.contains(&format!("href=\"/tap/async/{id}/results/result\"")),
        "{v}"
    );
    assert!(
        v.contains(&format!("src=\"/tap/async/{id}/results/plot.svg\"")),
        "{v}"
    );
    assert_eq!(v.matches("<tr><td>").count(), n.min(50), "{v}");
    assert!(
        v.contains("href=\"/tap/sync?LANG=ADQL&amp;FORMAT=fits&amp;QUERY=SELECT"),
        "other formats: {v}"
    );
    let job_plot = get(&s, &format!("/async/{id}/results/plot.svg"));
    assert_eq!(job_plot.status, 200);
    assert_eq!(job_plot.text().matches("class=\"pt\"").count(), n);
    assert_eq!(get(&s, "/async/nosuchjob0/results/view").status, 404);

    // A hostile table description is text on the page.
    psql(
        &s,
        "UPDATE TAP_SCHEMA.tables SET description = '<script>alert(\"x\")</script> & co' \
         WHERE table_name = 'gaiadr1.gaia_source'",
    );
    let hup = Command::new("kill")
        .args(["-HUP", &s.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(hup.success());
    let mut page = String::new();
    for _ in 0..100 {
        page = get(&s, "/").text();
        if page.contains("&amp; co") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        page.contains("&lt;script&gt;alert(") && page.contains("&lt;/script&gt; &amp; co"),
        "{page}"
    );
    assert!(!page.contains("<script>alert"), "{page}");

    browser(&s, n);
}

/// The page in headless Chromium (web_query.py).
fn browser(s: &Server, cone_rows: usize) {
    for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        if !Path::new(tool).exists() {
            return missing(&format!("{tool} is not installed"));
        }
    }
    let Some(py) = python_with("selenium") else {
        return missing("no Python with selenium");
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/web_query.py");
    let mut cmd = Command::new(py);
    cmd.arg(&script).arg(&s.base).arg(CONE).arg(cone_rows.to_string());
    if std::env::var("TAPIR_SCREENSHOTS").is_ok_and(|v| v == "1") {
        let dir = repo().join("docs/screenshots");
        std::fs::create_dir_all(&dir).expect("docs/screenshots");
        cmd.arg(dir);
    }
    let out = cmd.output().expect("python runs");
    let report = String::from_utf8_lossy(&out.stdout);
    eprintln!("{report}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the browser checks failed:\n{report}");
    assert!(report.contains("all browser checks passed"), "{report}");
}
