//! The requests of the archives' own pages (`../shared/seeds/`), run as their readers run them,
//! against one embedded server (issue 10): ESO's wget and curl lines to manage a job by its URL,
//! the Solar Orbiter archive's "direct request" GET and curl POST, the Gaia archive's curl lines
//! for tables and job lists; plus what TapPlus sends (Accept: text/plain), the ESA job search
//! filters, the TAP+ `tables` priorities and a running job's progress in `jobInfo`. Every check
//! looks at content: phases, parameter values, rows.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{curl, get, post, start_with, Reply, Server};

/// A quick query for jobs whose result does not matter.
const PROBE: &str = "SELECT TOP 1 id FROM bench.objects";

/// The text of the first `<name>` element (prefix included), if any.
fn element(doc: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = doc.find(&open)? + open.len();
    let end = doc[start..].find(&format!("</{name}>"))? + start;
    Some(doc[start..end].to_string())
}

fn phase(doc: &str) -> String {
    element(doc, "uws:phase").unwrap_or_default()
}

/// The value of `<uws:parameter id="ID">`.
fn parameter(doc: &str, id: &str) -> Option<String> {
    let open = format!("<uws:parameter id=\"{id}\">");
    let start = doc.find(&open)? + open.len();
    let end = doc[start..].find("</uws:parameter>")? + start;
    Some(doc[start..end].to_string())
}

/// A PENDING job with these parameters; its URL.
fn pending(s: &Server, params: &[(&str, &str)]) -> String {
    let r = post(s, "/async", params);
    assert_eq!(r.status, 303, "{}", r.text());
    r.header("location").expect("Location")
}

/// The job document once the phase is one of `wanted` (10 s at most).
fn await_phase(s: &Server, job: &str, wanted: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let d = curl(s, &[&format!("{job}?WAIT=2")]).text();
        if wanted.contains(&phase(&d).as_str()) {
            return d;
        }
        assert!(Instant::now() < deadline, "still {} : {d}", phase(&d));
    }
}

/// Run a command line the way a reader of the page would (stdout), from the server's directory.
fn shell(s: &Server, line: &str) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(&s.dir)
        .output()
        .expect("sh runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wget_missing() -> bool {
    let missing = !Command::new("sh")
        .args(["-c", "command -v wget"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(!(missing && std::env::var_os("CI").is_some()), "CI needs wget");
    missing
}

#[test]
fn the_seeds_requests() {
    let Some(s) = start_with(&[], None) else {
        return;
    };
    eso_manage_a_job_by_its_url(&s);
    eso_curl_line(&s);
    soar_direct_request_and_curl(&s);
    gaia_tables_and_job_lists(&s);
    tapplus_wants_200(&s);
    job_search_filters(&s);
    progress_while_executing(&s);
}

/// ESO 000, "Controlling programmatically your asynchronous queries": every wget line, in the
/// page's order, with its job URL. wget follows the 303 and prints the job.
fn eso_manage_a_job_by_its_url(s: &Server) {
    if wget_missing() {
        eprintln!("skipping the ESO wget lines: wget is not installed");
        return;
    }
    let job = pending(
        s,
        &[
            ("LANG", "ADQL"),
            ("FORMAT", "csv"),
            ("QUERY", "SELECT TOP 3 id FROM bench.objects ORDER BY id"),
        ],
    );
    let d = shell(
        s,
        &format!("wget -O - '{job}' --post-data 'executionduration=120'"),
    );
    assert_eq!(
        element(&d, "uws:executionDuration").as_deref(),
        Some("120"),
        "{d}"
    );
    assert_eq!(phase(&d), "PENDING");
    // The page's destruction time is in the past: granted as asked (the client wants the job
    // gone; the reaper removes it on its next round), so it goes to a job of its own.
    let doomed = pending(s, &[("LANG", "ADQL"), ("QUERY", PROBE)]);
    let d = shell(
        s,
        &format!("wget -O - '{doomed}' --post-data 'destruction=2018-09-01T00:00:00'"),
    );
    assert_eq!(
        element(&d, "uws:destruction").as_deref(),
        Some("2018-09-01T00:00:00.000Z"),
        "{d}"
    );
    let d = shell(
        s,
        &format!("wget -O - '{job}' --post-data 'destruction=2030-01-01T00:00:00'"),
    );
    let destruction = element(&d, "uws:destruction").expect("destruction");
    assert!(
        destruction.as_str() > "2026" && destruction.as_str() < "2030",
        "clamped to the longest retention: {d}"
    );
    let d = shell(s, &format!("wget -O - '{job}' --post-data 'PHASE=RUN'"));
    assert!(
        ["QUEUED", "EXECUTING", "COMPLETED"].contains(&phase(&d).as_str()),
        "{d}"
    );
    let d = shell(s, &format!("wget -O - '{job}'"));
    assert_eq!(
        parameter(&d, "query").as_deref(),
        Some("SELECT TOP 3 id FROM bench.objects ORDER BY id")
    );
    await_phase(s, &job, &["COMPLETED"]);
    let rows = shell(s, &format!("wget -O - '{job}/results/result'"));
    assert_eq!(rows.replace("\r\n", "\n"), "id\n1\n2\n3\n");
    let d = shell(s, &format!("wget -O - '{job}' --post-data 'PHASE=ABORT'"));
    assert_eq!(
        phase(&d),
        "COMPLETED",
        "ABORT leaves a finished job as it is: {d}"
    );

    // ABORT of a running job, then DELETE.
    let slow = pending(
        s,
        &[
            ("LANG", "ADQL"),
            ("MAXREC", "50000000"),
            (
                "QUERY",
                "SELECT a.id, b.id AS other FROM bench.objects AS a, bench.objects AS b",
            ),
        ],
    );
    shell(s, &format!("wget -O - '{slow}' --post-data 'PHASE=RUN'"));
    await_phase(s, &slow, &["EXECUTING"]);
    let d = shell(s, &format!("wget -O - '{slow}' --post-data 'PHASE=ABORT'"));
    assert!(["ABORTED", "EXECUTING"].contains(&phase(&d).as_str()), "{d}");
    await_phase(s, &slow, &["ABORTED"]);
    let list = shell(s, &format!("wget -O - '{slow}' --post-data 'ACTION=DELETE'"));
    assert!(list.contains("<uws:jobs"), "wget lands on the job list: {list}");
    assert!(!list.contains(slow.rsplit('/').next().unwrap_or("?")), "{list}");
    assert_eq!(curl(s, &[&slow]).status, 404);

    // Parameters of the page's forms (MAXREC, the query) posted to the job URL.
    let job = pending(s, &[("LANG", "ADQL"), ("QUERY", PROBE)]);
    let d = shell(
        s,
        &format!(
            "wget -O - '{job}' --post-data 'MAXREC=7&QUERY=SELECT%20TOP%209%20id%20FROM%20bench.objects'"
        ),
    );
    assert_eq!(parameter(&d, "maxrec").as_deref(), Some("7"), "{d}");
    assert_eq!(
        parameter(&d, "query").as_deref(),
        Some("SELECT TOP 9 id FROM bench.objects")
    );
    shell(s, &format!("wget -O - '{job}' --post-data 'PHASE=RUN'"));
    await_phase(s, &job, &["COMPLETED"]);
    let d = shell(s, &format!("wget -O - '{job}' --post-data 'MAXREC=8'"));
    assert_eq!(d, "", "wget prints nothing for a 403");
    let r = post(s, &job.replace(&s.base, ""), &[("MAXREC", "8")]);
    assert_eq!(r.status, 403, "parameters only while PENDING: {}", r.text());
    assert!(r.text().contains("only while it is PENDING"), "{}", r.text());
}

/// ESO 000: "curl -Lw -X POST '...' -d 'PHASE=RUN'", as printed (curl takes `-X` as the -w
/// format and `POST` as a first URL that does not resolve; the real request still posts).
fn eso_curl_line(s: &Server) {
    let job = pending(s, &[("LANG", "ADQL"), ("QUERY", PROBE)]);
    let out = shell(s, &format!("curl -Lw -X POST '{job}' -d 'PHASE=RUN'"));
    assert!(out.contains("<uws:job "), "curl -L shows the job: {out}");
    await_phase(s, &job, &["COMPLETED"]);
}

/// Solar Orbiter 001: the "direct request" link (as a browser sends it, percent-encoding what
/// a URL may not hold raw) creates and starts a job and redirects to it; the JOBNAME variant
/// names it; the curl POST line answers 303 with a Location.
fn soar_direct_request_and_curl(s: &Server) {
    let link = "/async?PHASE=run&REQUEST=doQuery&LANG=ADQL&FORMAT=votable_plain&QUERY=SELECT+*+FROM+v_ll_data_item+WHERE+((instrument=%27MAG%27)+OR+(instrument=%27EPD%27))+AND+begin_time%3E%272020-08-29+00:00:28%27";
    let r = get(s, link);
    assert_eq!(r.status, 303, "{}", r.text());
    let job = r.header("location").expect("Location");
    let d = await_phase(s, &job, &["COMPLETED"]);
    assert_eq!(parameter(&d, "format").as_deref(), Some("votable_plain"));
    let result = curl(s, &[&format!("{job}/results/result")]).text();
    assert!(
        result.contains("<TABLEDATA>"),
        "votable_plain is TABLEDATA: {result}"
    );
    let instruments: Vec<&str> = result
        .split("<TD>")
        .skip(1)
        .filter_map(|c| c.split("</TD>").next())
        .filter(|c| ["MAG", "EPD", "SWA", "RPW", "EUI"].contains(c))
        .collect();
    assert!(!instruments.is_empty(), "{result}");
    assert!(
        instruments.iter().all(|i| ["MAG", "EPD"].contains(i)),
        "{instruments:?}"
    );

    let named = "/async?PHASE=run&JOBNAME=optionalJobName&JOBDESCRIPTION=optionalDescription&REQUEST=doQuery&LANG=ADQL&FORMAT=votable_plain&QUERY=SELECT+TOP+5+*+FROM+v_auxiliary_file";
    let r = get(s, named);
    assert_eq!(r.status, 303, "{}", r.text());
    let job = r.header("location").expect("Location");
    let d = await_phase(s, &job, &["COMPLETED"]);
    assert_eq!(
        element(&d, "tapir:jobName").as_deref(),
        Some("optionalJobName"),
        "{d}"
    );
    assert_eq!(
        parameter(&d, "jobdescription").as_deref(),
        Some("optionalDescription")
    );

    // Without a QUERY, GET /async stays the job list.
    let list = get(s, "/async?PHASE=COMPLETED");
    assert_eq!(list.status, 200);
    assert!(list.text().contains(job.rsplit('/').next().unwrap_or("?")));

    let out = shell(
        s,
        &format!(
            "curl -i -X POST --data \"PHASE=run&REQUEST=doQuery&LANG=ADQL&FORMAT=votable_plain&QUERY=SELECT+*+FROM+v_ll_data_item+WHERE+((instrument='MAG')+OR+(instrument='EPD'))+AND+begin_time>'2020-08-29+00:00:28'\" \"{}/async?\"",
            s.base
        ),
    );
    assert!(out.starts_with("HTTP/1.1 303"), "{out}");
    let location = out
        .lines()
        .find_map(|l| {
            l.strip_prefix("location: ")
                .or_else(|| l.strip_prefix("Location: "))
        })
        .expect("Location")
        .trim()
        .to_string();
    let d = await_phase(s, &location, &["COMPLETED"]);
    assert_eq!(parameter(&d, "lang").as_deref(), Some("ADQL"));
}

/// Gaia 002: `curl -b cookies.txt -X POST .../tables` (§2.3) and the job lists of §2.12 in both
/// forms; the TAP+ `tables` parameter priorities of §3.10.
fn gaia_tables_and_job_lists(s: &Server) {
    let out = shell(
        s,
        &format!("curl -k -b cookies.txt -X POST \"{}/tables\"", s.base),
    );
    assert!(
        out.contains("<vosi:tableset") && out.contains("<name>bench.objects</name>"),
        "{out}"
    );
    assert!(out.contains("<column "), "POST /tables is the full tableset");

    let page = shell(
        s,
        &format!(
            "curl -k -b cookies.txt \"{}/jobs/async?offset=0&limit=20&order=CREATION_TIME:DESC\"",
            s.base
        ),
    );
    let by_parameter = get(s, "/jobs?list=async&offset=0&limit=20&order=CREATION_TIME:DESC");
    assert_eq!(by_parameter.status, 200);
    assert_eq!(by_parameter.text(), page, "jobs?list=async is jobs/async");
    assert!(page.matches("<uws:jobId>").count() >= 3, "{page}");
    let r = get(s, "/jobs");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("jobs?list=async"), "{}", r.text());

    // tables= given: no other TAP+ parameter applies (the table comes with its columns).
    let t = get(
        s,
        "/tables?tables=bench.objects&only_tables=true&schemas=ivoa&only_schemas=true",
    );
    assert!(t.text().contains("<name>bench.objects</name>"), "{}", t.text());
    assert!(
        t.text().contains("<column "),
        "only_tables is not applied with tables="
    );
    assert!(!t.text().contains("ivoa.ObsCore"), "only the table asked for");
    // only_schemas: every schema, no tables, whatever `schemas` says.
    let t = get(s, "/tables?only_schemas=true&schemas=bench").text();
    assert!(
        !t.contains("<table") && t.contains("<name>ivoa</name>") && t.contains("<name>bench</name>"),
        "{t}"
    );
    // schemas with only_tables: those schemas' tables without columns.
    let t = get(s, "/tables?schemas=bench&only_tables=true").text();
    assert!(
        t.contains("<name>bench.objects</name>") && !t.contains("<column") && !t.contains("<name>ivoa"),
        "{t}"
    );
    let t = shell(
        s,
        &format!("curl -s -X POST \"{}/tables\" -d only_tables=true", s.base),
    );
    assert!(
        t.contains("<table") && !t.contains("<column"),
        "POST with a form body: {t}"
    );
}

/// TapPlus posts with `Accept: text/plain` and wants 200 from `send_parameter` (POST to the
/// job) and `abort` (POST to /phase); UWS clients keep their 303.
fn tapplus_wants_200(s: &Server) {
    let job = pending(s, &[("LANG", "ADQL"), ("QUERY", PROBE)]);
    let tapplus = |path: &str, body: &str| -> Reply {
        curl(
            s,
            &[
                "-H",
                "Accept: text/plain",
                "-H",
                "Content-type: application/x-www-form-urlencoded",
                "--data",
                body,
                &format!("{job}{path}"),
            ],
        )
    };
    let r = tapplus("", "MAXREC=11");
    assert_eq!((r.status, r.text().as_str()), (200, "PENDING"), "send_parameter");
    let d = curl(s, &[&job]).text();
    assert_eq!(parameter(&d, "maxrec").as_deref(), Some("11"), "{d}");
    let r = tapplus("/phase", "PHASE=ABORT");
    assert_eq!((r.status, r.text().as_str()), (200, "ABORTED"), "abort");
    let r = tapplus("", "MAXREC=12");
    assert_eq!(r.status, 403, "{}", r.text());
    let job = pending(s, &[("LANG", "ADQL"), ("QUERY", PROBE)]);
    let r = post(
        s,
        &format!("{}/phase", job.replace(&s.base, "")),
        &[("PHASE", "ABORT")],
    );
    assert_eq!(r.status, 303, "UWS clients (Accept: */*) get the 303");
}

/// The ESA job search with TapPlus' `query` and time filters.
fn job_search_filters(s: &Server) {
    let marked = pending(
        s,
        &[
            ("LANG", "ADQL"),
            ("QUERY", "SELECT TOP 1 id AS Needle_In_Query FROM bench.objects"),
            ("PHASE", "RUN"),
        ],
    );
    await_phase(s, &marked, &["COMPLETED"]);
    let id = marked.rsplit('/').next().expect("id").to_string();
    let ids = |q: &str| -> Vec<String> {
        let r = get(s, &format!("/jobs/async?{q}"));
        assert_eq!(r.status, 200, "{q}: {}", r.text());
        r.text()
            .split("<uws:jobId>")
            .skip(1)
            .filter_map(|p| p.split("</uws:jobId>").next())
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        ids("query=needle_in_query"),
        std::slice::from_ref(&id),
        "case-insensitive text search"
    );
    assert!(ids("query=no%20such%20text").is_empty());
    assert!(ids("start_time_init=2000-01-01&end_time_limit=2999-01-01").contains(&id));
    assert!(!ids("start_time_init=2999-01-01").contains(&id));
    assert!(
        !ids("end_time_limit=946684800000").contains(&id),
        "milliseconds: 2000-01-01"
    );
    let pending_job = pending(s, &[("LANG", "ADQL"), ("QUERY", PROBE)]);
    let pending_id = pending_job.rsplit('/').next().expect("id").to_string();
    assert!(ids("").contains(&pending_id));
    assert!(
        !ids("start_time_init=2000-01-01").contains(&pending_id),
        "a job that never started is not in a start-time range"
    );
}

/// A running job reports rows and bytes written so far in `jobInfo`, growing, at least once a
/// second; ABORT stops it.
fn progress_while_executing(s: &Server) {
    let job = pending(
        s,
        &[
            ("LANG", "ADQL"),
            ("FORMAT", "csv"),
            ("MAXREC", "50000000"),
            (
                "QUERY",
                "SELECT a.id, b.id AS other FROM bench.objects AS a, bench.objects AS b",
            ),
            ("PHASE", "RUN"),
        ],
    );
    await_phase(s, &job, &["EXECUTING"]);
    let mut seen: Vec<(u64, u64)> = Vec::new();
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(1100));
        let d = curl(s, &[&job]).text();
        assert_eq!(phase(&d), "EXECUTING", "{d}");
        let rows: u64 = element(&d, "tapir:rows").expect("rows").parse().expect("a count");
        let bytes: u64 = element(&d, "tapir:bytes")
            .expect("bytes")
            .parse()
            .expect("a count");
        seen.push((rows, bytes));
    }
    assert!(seen[0].0 > 0, "{seen:?}");
    assert!(
        seen.windows(2).all(|w| w[1].0 > w[0].0 && w[1].1 > w[0].1),
        "growing: {seen:?}"
    );
    let r = post(
        s,
        &format!("{}/phase", job.replace(&s.base, "")),
        &[("PHASE", "ABORT")],
    );
    assert_eq!(r.status, 303);
    let d = await_phase(s, &job, &["ABORTED"]);
    assert!(
        element(&d, "tapir:rows").is_none(),
        "no progress once stopped: {d}"
    );
}

/// `jobs.create_by_get = false`: the GET link is refused, the POST still works.
#[test]
fn get_creation_can_be_turned_off() {
    let Some(s) = start_with(&[("TAPIR_JOBS_CREATE_BY_GET", "false")], None) else {
        return;
    };
    let r = get(&s, "/async?PHASE=run&QUERY=SELECT+TOP+1+id+FROM+bench.objects");
    assert_eq!(r.status, 405, "{}", r.text());
    assert!(r.text().contains("only by POST"), "{}", r.text());
    assert!(
        !get(&s, "/async").text().contains("<uws:jobref"),
        "no job was made"
    );
    let r = post(&s, "/async", &[("QUERY", PROBE), ("PHASE", "RUN")]);
    assert_eq!(r.status, 303);
}

/// Back-pressure as clients understand it (issues 10 and 12): with the one sync connection
/// busy, a second query of the same client waits the configured second and is answered 503
/// with Retry-After (the service is busy, plain text) while `/availability` stays up; a third
/// running at once from that client is over its per-client allowance and is answered 429 with
/// Retry-After at once (pyvo's `DALRateLimitError`). With the job queue full, a job that would
/// queue is answered 429 with Retry-After, while creating a PENDING one still works.
#[test]
fn back_pressure_is_429_or_503_with_retry_after() {
    let env = [
        ("TAPIR_DATABASE_SYNC_POOL", "1"),
        ("TAPIR_LIMITS_SYNC_QUEUE_WAIT_SECS", "1"),
        ("TAPIR_LIMITS_SYNC_PER_CLIENT", "2"),
        ("TAPIR_JOBS_WORKERS", "1"),
        ("TAPIR_JOBS_QUEUE_MAX", "1"),
    ];
    let Some(s) = start_with(&env, None) else {
        return;
    };
    let slow = "SELECT COUNT(*) AS n FROM bench.objects AS a, bench.objects AS b WHERE a.ra > b.ra";
    let mut busy = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", &format!("{}/sync", s.base)])
        .args(["--data-urlencode", &format!("QUERY={slow}"), "-d", "LANG=ADQL"])
        .spawn()
        .expect("curl runs");
    std::thread::sleep(Duration::from_millis(500));
    let (second, third, availability) = std::thread::scope(|scope| {
        let second = scope.spawn(|| {
            let t0 = Instant::now();
            let r = post(&s, "/sync", &[("LANG", "ADQL"), ("QUERY", PROBE)]);
            (r, t0.elapsed())
        });
        // The second one now holds the client's other slot while it waits for a connection.
        std::thread::sleep(Duration::from_millis(300));
        let t0 = Instant::now();
        let third = post(&s, "/sync", &[("LANG", "ADQL"), ("QUERY", PROBE)]);
        let third_took = t0.elapsed();
        let t0 = Instant::now();
        let availability = get(&s, "/availability");
        let availability_took = t0.elapsed();
        let second = second.join().expect("second request");
        (second, (third, third_took), (availability, availability_took))
    });
    let (r, waited) = second;
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.header("retry-after").as_deref(), Some("5"));
    assert!(
        r.header("content-type")
            .unwrap_or_default()
            .starts_with("text/plain"),
        "{}",
        r.headers
    );
    assert!(
        r.text().contains("connections for synchronous queries are busy"),
        "{}",
        r.text()
    );
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    eprintln!("pool checkout refused with 503 after {waited:?} (limits.sync_queue_wait_secs = 1)");
    let (r, took) = third;
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.header("retry-after").as_deref(), Some("5"));
    assert!(r.text().contains("2 synchronous queries running"), "{}", r.text());
    assert!(took < Duration::from_millis(500), "refused at once: {took:?}");
    let (r, took) = availability;
    assert!(
        r.text().contains("<vosi:available>true</vosi:available>"),
        "{}",
        r.text()
    );
    assert!(
        took < Duration::from_millis(500),
        "/availability answered in {took:?}"
    );
    let _ = busy.kill();
    let _ = busy.wait();

    let running = pending(
        &s,
        &[
            ("LANG", "ADQL"),
            ("MAXREC", "50000000"),
            ("QUERY", "SELECT a.id FROM bench.objects AS a, bench.objects AS b"),
            ("PHASE", "RUN"),
        ],
    );
    await_phase(&s, &running, &["EXECUTING"]);
    let queued = pending(&s, &[("LANG", "ADQL"), ("QUERY", PROBE), ("PHASE", "RUN")]);
    assert_eq!(phase(&curl(&s, &[&queued]).text()), "QUEUED");
    let r = post(
        &s,
        "/async",
        &[("LANG", "ADQL"), ("QUERY", PROBE), ("PHASE", "RUN")],
    );
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.header("retry-after").as_deref(), Some("30"));
    assert!(r.text().contains("the job queue is full"), "{}", r.text());
    let waiting = pending(&s, &[("LANG", "ADQL"), ("QUERY", PROBE)]);
    let r = post(
        &s,
        &format!("{}/phase", waiting.replace(&s.base, "")),
        &[("PHASE", "RUN")],
    );
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(
        phase(&curl(&s, &[&waiting]).text()),
        "PENDING",
        "refused RUN leaves it PENDING"
    );
    post(
        &s,
        &format!("{}/phase", running.replace(&s.base, "")),
        &[("PHASE", "ABORT")],
    );
    await_phase(&s, &queued, &["COMPLETED"]);
    let r = post(
        &s,
        &format!("{}/phase", waiting.replace(&s.base, "")),
        &[("PHASE", "RUN")],
    );
    assert_eq!(r.status, 303, "room again: {}", r.text());
}
