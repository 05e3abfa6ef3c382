//! End to end for the asynchronous side: UWS 1.1 jobs under `{base}/async` (STANDARDS.md §5),
//! spoken to over real HTTP. Item IDs (JB-01, WT-01, PH-03, ...) say what each check covers.
//!
//! * `async_jobs_end_to_end`: one server, walked through in sections: the life of a job and
//!   its sub-resources, refused changes, a failing query, the job list, blocking WAITs,
//!   ABORT of a running query, the time limit, deletion, and destruction by the reaper.
//! * `two_processes_share_one_job_store`: two `tapir serve` on one database run 400 jobs,
//!   each exactly once.
//! * `a_killed_process_leaves_no_job_executing`: a process killed with SIGKILL; the survivor
//!   ends the dead one's running jobs and runs what it left queued.
//!
//! The tests run in parallel threads. Checks of timing (WAIT latencies, cancellation within
//! 1 s, the time limit) take the write side of [`GATE`] and the heavy phases of the other tests
//! (starting clusters, bursts of jobs) its read side, so the timings are measured on a quiet
//! machine. Skipped like e2e.rs when PostgreSQL or curl are missing (a failure in CI).

mod common;

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{curl, embedded_url, get, post, psql, start_with, sync, td_rows, votlint, Reply, Server};

/// Three rows at once (bench.objects ids start at 1).
const QUICK: &str = "SELECT TOP 3 id, ra FROM bench.objects ORDER BY id";
/// A count over 10,000³ rows: never finishes in practice.
const LONG: &str = "SELECT COUNT(*) AS n FROM bench.objects AS a, bench.objects AS b, bench.objects AS c";
/// How many backends run a query on bench (other than psql's own).
const ACTIVE_BENCH: &str = "SELECT count(*) FROM pg_stat_activity \
     WHERE state = 'active' AND query LIKE '%bench%' AND pid <> pg_backend_pid()";
const FINAL: [&str; 3] = ["COMPLETED", "ERROR", "ABORTED"];
const PHASES: [&str; 10] = [
    "PENDING",
    "QUEUED",
    "EXECUTING",
    "COMPLETED",
    "ERROR",
    "ABORTED",
    "UNKNOWN",
    "HELD",
    "SUSPENDED",
    "ARCHIVED",
];
/// The main server's TAPIR_JOBS_WAIT_MAX_SECS (WT-03).
const WAIT_CAP_SECS: f64 = 2.0;
/// TAPIR_JOBS_DURATION_MAX_SECS and TAPIR_JOBS_RETENTION_MAX_SECS by default.
const DURATION_MAX: &str = "14400";
const RETENTION_MAX_SECS: f64 = 15_552_000.0;

static GATE: RwLock<()> = RwLock::new(());

/// Exclusive use of the machine, for checks of timing.
fn quiet() -> RwLockWriteGuard<'static, ()> {
    GATE.write().unwrap_or_else(PoisonError::into_inner)
}

/// Shared use, for work that loads the machine.
fn busy() -> RwLockReadGuard<'static, ()> {
    GATE.read().unwrap_or_else(PoisonError::into_inner)
}

#[test]
fn async_jobs_end_to_end() {
    let env = [
        ("TAPIR_JOBS_REAP_INTERVAL_SECS", "1"),
        ("TAPIR_JOBS_WAIT_MAX_SECS", "2"),
    ];
    let Some(s) = start_with(&env, None) else { return };
    // Started first so that its destruction time has passed by the end.
    let doomed = destruction_requested(&s);
    let done = lifecycle(&s);
    forbidden_changes(&s, &done);
    let failed = failing_query(&s);
    let (older, newer) = job_list(&s, &done, &failed);
    blocking_wait(&s, &done);
    abort_running(&s);
    time_limit(&s);
    deletion(&s, &done, &older, &newer);
    destruction_done(&s, &doomed);
}

/// JB-01..JB-05, LF-01, PH-01, PH-04 and the sub-resources (AS-01, AS-04, taplint's UWS
/// stage): a job created PENDING, changed, run, and its result in two formats and as a byte
/// range. Returns the COMPLETED job.
fn lifecycle(s: &Server) -> String {
    let first_query = "SELECT TOP 2 id FROM bench.objects WHERE id < 10 ORDER BY id";
    let before = now_ms() as f64 / 1000.0;
    let id = create(
        s,
        &[
            ("REQUEST", "doQuery"),
            ("LANG", "ADQL"),
            ("QUERY", first_query),
            ("FORMAT", "votable/td"),
            ("RUNID", "uws-life-1"),
        ],
    );
    let after = now_ms() as f64 / 1000.0;
    let d = doc(s, &id);
    assert_eq!(phase(&d), "PENDING", "JB-01: {d}");
    assert_eq!(text(&d, "uws:runId").as_deref(), Some("uws-life-1"), "JB-04: {d}");
    // JB-04, with lower-case ids (TapPlus reads parameters['query']); REQUEST=doQuery echoed
    // (taplint).
    assert_eq!(param(&d, "request").as_deref(), Some("doQuery"), "{d}");
    assert_eq!(param(&d, "lang").as_deref(), Some("ADQL"), "{d}");
    assert_eq!(param(&d, "format").as_deref(), Some("votable/td"), "{d}");
    assert_eq!(param(&d, "query").as_deref(), Some(first_query), "{d}");
    assert!(d.contains("id &lt; 10"), "JB-04: values are XML-escaped: {d}");
    // LF-01: the defaults.
    assert_eq!(text(&d, "uws:executionDuration").as_deref(), Some("3600"), "{d}");
    let created = instant_of(&d, "uws:creationTime").expect("a creationTime");
    assert!(
        created >= before - 1.0 && created <= after + 1.0,
        "creationTime {created} outside {before}..{after}: {d}"
    );
    let destruction = instant_of(&d, "uws:destruction").expect("a destruction time");
    assert!(
        (destruction - created - 86_400.0).abs() < 60.0,
        "LF-01: destruction one day after creation by default: {d}"
    );
    assert!(
        nil(&d, "uws:startTime") && nil(&d, "uws:endTime"),
        "not started: {d}"
    );
    assert_eq!(text(&d, "uws:results").as_deref().map(str::trim), Some(""), "{d}");
    assert!(!d.contains("uws:errorSummary"), "{d}");

    // The sub-resources say exactly what the document says (text/plain, AS-04).
    assert_eq!(plain(s, &id, "phase"), "PENDING");
    assert_eq!(
        Some(plain(s, &id, "executionduration")),
        text(&d, "uws:executionDuration")
    );
    assert_eq!(Some(plain(s, &id, "destruction")), text(&d, "uws:destruction"));
    let quote = if nil(&d, "uws:quote") {
        String::new()
    } else {
        text(&d, "uws:quote").unwrap_or_default()
    };
    assert_eq!(plain(s, &id, "quote"), quote, "{d}");
    assert_eq!(plain(s, &id, "owner"), "", "anonymous");
    let listed = xml(s, &format!("/async/{id}/parameters"));
    assert!(listed.contains("<uws:parameters"), "{listed}");
    assert_eq!(params(&listed), params(&d), "{listed}");
    let results = xml(s, &format!("/async/{id}/results"));
    assert!(
        results.contains("<uws:results") && !results.contains("<uws:result "),
        "{results}"
    );
    assert_eq!(
        get(s, &format!("/async/{id}/results/result")).status,
        404,
        "PH-04"
    );
    assert_eq!(get(s, &format!("/async/{id}/error")).status, 404);

    // JB-03 [DEC]: a single-valued parameter posted again replaces the old value.
    let r = post(
        s,
        &format!("/async/{id}/parameters"),
        &[("RUNID", "uws-life-2"), ("QUERY", QUICK)],
    );
    assert_to_job(s, &r, &id);
    let d = doc(s, &id);
    assert_eq!(text(&d, "uws:runId").as_deref(), Some("uws-life-2"), "{d}");
    let queries: Vec<_> = params(&d).into_iter().filter(|(k, _)| k == "query").collect();
    assert_eq!(queries, [("query".to_string(), QUICK.to_string())], "{d}");
    assert_eq!(param(&d, "request").as_deref(), Some("doQuery"), "{d}");

    // LF-01: executionDuration and destruction change while PENDING, clamped to the maximum
    // (0 asks for the maximum).
    for (asked, granted) in [
        ("120", "120"),
        ("99999", DURATION_MAX),
        ("0", DURATION_MAX),
        ("600", "600"),
    ] {
        let r = post(
            s,
            &format!("/async/{id}/executionduration"),
            &[("EXECUTIONDURATION", asked)],
        );
        assert_to_job(s, &r, &id);
        assert_eq!(plain(s, &id, "executionduration"), granted, "asked {asked}");
    }
    let in_two_days = now_ms() / 1000 * 1000 + 2 * 86_400_000;
    let r = post(
        s,
        &format!("/async/{id}/destruction"),
        &[("DESTRUCTION", &iso(in_two_days))],
    );
    assert_to_job(s, &r, &id);
    let granted = plain(s, &id, "destruction");
    assert_eq!(instant(&granted), Some(in_two_days as f64 / 1000.0), "{granted}");
    assert_eq!(text(&doc(s, &id), "uws:destruction"), Some(granted));
    let r = post(
        s,
        &format!("/async/{id}/destruction"),
        &[("DESTRUCTION", &iso(now_ms() + 400 * 86_400_000))],
    );
    assert_to_job(s, &r, &id);
    let clamped = instant(&plain(s, &id, "destruction")).expect("an instant");
    let latest = now_ms() as f64 / 1000.0 + RETENTION_MAX_SECS + 1.0;
    assert!(
        clamped >= created + RETENTION_MAX_SECS - 60.0 && clamped <= latest,
        "LF-01: destruction clamped to the retention maximum, got {clamped}"
    );

    // PH-01: RUN answers 303 to the job, which is at once past PENDING (pyvo's wait()).
    let r = post(s, &format!("/async/{id}/phase"), &[("PHASE", "RUN")]);
    assert_to_job(s, &r, &id);
    let now = plain(s, &id, "phase");
    assert!(
        ["QUEUED", "EXECUTING", "COMPLETED"].contains(&now.as_str()),
        "{now}"
    );
    // WT-01: WAIT=-1 until it ends.
    let d = await_phase(s, &id, -1, |p| p == "COMPLETED", Duration::from_secs(30));
    let start = instant_of(&d, "uws:startTime").expect("a startTime");
    let end = instant_of(&d, "uws:endTime").expect("an endTime");
    assert!(created <= start && start <= end, "{d}");
    assert_eq!(text(&d, "uws:executionDuration").as_deref(), Some("600"), "{d}");
    assert!(!d.contains("uws:errorSummary"), "{d}");
    let href = format!("{}/async/{id}/results/result", s.base);
    let result = elements(&d, "uws:result");
    assert_eq!(result.len(), 1, "{d}");
    assert_eq!(
        attr(result[0].attrs, "id").as_deref(),
        Some("result"),
        "AS-01: {d}"
    );
    assert_eq!(
        attr(result[0].attrs, "xlink:href").as_deref(),
        Some(href.as_str()),
        "an absolute href with the xlink: prefix (pyvo): {d}"
    );
    let listed = xml(s, &format!("/async/{id}/results"));
    assert!(listed.contains(&format!("xlink:href=\"{href}\"")), "{listed}");

    // PH-04: the result in the format asked for, with the rows /sync gives.
    let r = get(s, &format!("/async/{id}/results/result"));
    assert_eq!(r.status, 200, "{}", r.text());
    let ct = r.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("application/x-votable+xml"), "{ct}");
    let body = r.text();
    assert!(
        body.contains("<INFO name=\"QUERY_STATUS\" value=\"OK\""),
        "{body}"
    );
    let rows = td_rows(&body);
    let ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, ["1", "2", "3"], "{body}");
    let direct = sync(s, QUICK, &[("FORMAT", "votable/td")]).text();
    assert_eq!(
        rows,
        td_rows(&direct),
        "async and sync disagree:\n{body}\n{direct}"
    );
    if let Some(lint) = votlint(s, &r.body) {
        assert!(!lint.contains("ERROR"), "votlint: {lint}");
    }
    let files = result_files(s, &id);
    assert!(
        files.len() == 1 && !files[0].ends_with(".part"),
        "one result file for {id}: {files:?}"
    );

    // A byte range of the result: 206 with the right slice and Content-Range.
    let full = &r.body;
    assert!(full.len() > 50, "{body}");
    let part = curl(
        s,
        &[
            "-H",
            "Range: bytes=10-49",
            &format!("{}/async/{id}/results/result", s.base),
        ],
    );
    assert_eq!(part.status, 206, "{}", part.headers);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 10-49/{}", full.len())),
        "{}",
        part.headers
    );
    assert_eq!(part.body, full[10..50], "the bytes 10 to 49");

    // The same query as CSV (RESPONSEFORMAT, created with PHASE=RUN: JB-02).
    let csv = create(
        s,
        &[
            ("LANG", "ADQL"),
            ("QUERY", QUICK),
            ("RESPONSEFORMAT", "csv"),
            ("PHASE", "RUN"),
        ],
    );
    await_phase(s, &csv, -1, |p| p == "COMPLETED", Duration::from_secs(30));
    let r = get(s, &format!("/async/{csv}/results/result"));
    assert_eq!(r.status, 200, "{}", r.text());
    let ct = r.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("text/csv"), "{ct}");
    let table = r.text();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert_eq!(lines[0], "id,ra", "{table}");
    assert!(lines[1].starts_with("1,"), "{table}");
    assert_eq!(table, sync(s, QUICK, &[("FORMAT", "csv")]).text());
    id
}

/// On a COMPLETED job: a repeated RUN or ABORT is a 303 that changes nothing (PH-02); a new
/// executionDuration, destruction or parameter is refused with 403 (LF-01, JB-03).
fn forbidden_changes(s: &Server, id: &str) {
    let before = doc(s, id);
    for asked in ["RUN", "ABORT"] {
        let r = post(s, &format!("/async/{id}/phase"), &[("PHASE", asked)]);
        assert_to_job(s, &r, id);
    }
    let after = doc(s, id);
    assert_eq!(phase(&after), "COMPLETED", "{after}");
    assert_eq!(
        text(&after, "uws:endTime"),
        text(&before, "uws:endTime"),
        "not run again: {after}"
    );
    let runs = psql(s, &format!("SELECT runs FROM tapir.jobs WHERE job_id = '{id}'"));
    assert_eq!(runs, "1", "a worker claimed the job once");
    let tomorrow = iso(now_ms() + 86_400_000);
    for (resource, name, value) in [
        ("executionduration", "EXECUTIONDURATION", "5"),
        ("destruction", "DESTRUCTION", tomorrow.as_str()),
        ("parameters", "RUNID", "too-late"),
    ] {
        let r = post(s, &format!("/async/{id}/{resource}"), &[(name, value)]);
        assert_eq!(r.status, 403, "{name} on a COMPLETED job: {}", r.text());
    }
    let after = doc(s, id);
    for name in ["uws:executionDuration", "uws:destruction", "uws:runId"] {
        assert_eq!(text(&after, name), text(&before, name), "{name} changed: {after}");
    }
    assert_eq!(get(s, &format!("/async/{id}/results/result")).status, 200);
}

/// PH-03: a query naming an unknown column is accepted (303), then the job ends in ERROR with
/// the message in errorSummary and /error; PH-04: its result is the error document, 400.
fn failing_query(s: &Server) -> String {
    let id = create(
        s,
        &[
            ("LANG", "ADQL"),
            ("QUERY", "SELECT TOP 3 nosuchcolumn FROM bench.objects"),
            ("PHASE", "RUN"),
        ],
    );
    let d = await_phase(s, &id, -1, |p| p == "ERROR", Duration::from_secs(30));
    assert!(message(&d).contains("nosuchcolumn"), "{d}");
    let t = error_document(s, &format!("/async/{id}/error"), 200);
    assert!(t.contains("nosuchcolumn"), "{t}");
    error_document(s, &format!("/async/{id}/results/result"), 400);
    assert!(!xml(s, &format!("/async/{id}/results")).contains("<uws:result "));
    id
}

/// JL-01, JL-02: the job list with PHASE, AFTER and LAST, newest first, each jobref with its
/// phase. Returns two new PENDING jobs, older first.
fn job_list(s: &Server, done: &str, failed: &str) -> (String, String) {
    let older = create(s, &[("LANG", "ADQL"), ("QUERY", QUICK), ("RUNID", "uws-list-1")]);
    thread::sleep(Duration::from_millis(50));
    let between = iso(now_ms());
    thread::sleep(Duration::from_millis(50));
    let newer = create(s, &[("LANG", "ADQL"), ("QUERY", QUICK), ("RUNID", "uws-list-2")]);

    let all = jobs(s, "");
    let position = |id: &str| all.iter().position(|(j, _)| j == id);
    let order = [newer.as_str(), older.as_str(), failed, done].map(position);
    assert!(
        order.iter().all(Option::is_some) && order.windows(2).all(|w| w[0] < w[1]),
        "every job, newest first: {all:?}"
    );
    let pending = jobs(s, "?PHASE=PENDING");
    assert!(pending.iter().all(|(_, p)| p == "PENDING"), "{pending:?}");
    assert!(has(&pending, &older) && has(&pending, &newer) && !has(&pending, done));
    let ended = jobs(s, "?PHASE=COMPLETED&PHASE=ERROR");
    assert!(
        ended.iter().all(|(_, p)| p == "COMPLETED" || p == "ERROR"),
        "{ended:?}"
    );
    assert!(has(&ended, done) && has(&ended, failed) && !has(&ended, &older));
    let last = jobs(s, "?LAST=2");
    assert_eq!(ids_of(&last), [newer.as_str(), older.as_str()], "LAST=2");
    let after = jobs(s, &format!("?AFTER={between}"));
    assert!(
        has(&after, &newer) && !has(&after, &older),
        "AFTER={between}: {after:?}"
    );
    let future = jobs(s, &format!("?AFTER={}", iso(now_ms() + 86_400_000)));
    assert!(future.is_empty(), "{future:?}");
    let combined = jobs(s, &format!("?PHASE=PENDING&AFTER={between}&LAST=1"));
    assert_eq!(ids_of(&combined), [newer.as_str()], "filters combine with AND");
    (older, newer)
}

/// WT-01..WT-03: a WAIT returns as soon as the phase changes, at once in a final phase or
/// when the phase is not the one named, after n seconds otherwise, and never past the cap.
/// Timed over raw TCP so that no process start is measured.
fn blocking_wait(s: &Server, done: &str) {
    let _quiet = quiet();
    let id = create(s, &[("LANG", "ADQL"), ("QUERY", QUICK)]);
    let (woke, abort) = thread::scope(|scope| {
        let waiter = scope.spawn(|| raw(s, "GET", &format!("/async/{id}?WAIT=30"), &[]));
        thread::sleep(Duration::from_millis(300));
        let abort = raw(s, "POST", &format!("/async/{id}/phase"), &[("PHASE", "ABORT")]);
        (waiter.join().expect("the waiting thread"), abort)
    });
    assert_to_job(s, &abort.reply, &id);
    assert_eq!(woke.reply.status, 200, "{}", woke.reply.text());
    let lag = woke
        .arrived
        .checked_duration_since(abort.sent)
        .expect("WT-01: the WAIT returned before the ABORT was sent");
    assert!(
        lag < Duration::from_millis(50),
        "WT-01: the WAIT returned {lag:?} after the ABORT"
    );
    assert_eq!(phase(&woke.reply.text()), "ABORTED", "{}", woke.reply.text());

    // WT-02: in a final phase, at once; RUN on an ABORTED job changes nothing (PH-02).
    for job in [id.as_str(), done] {
        let r = raw(s, "GET", &format!("/async/{job}?WAIT=30"), &[]);
        let took = r.arrived - r.sent;
        assert!(
            took < Duration::from_millis(200),
            "WAIT on a final job took {took:?}"
        );
        assert!(FINAL.contains(&phase(&r.reply.text()).as_str()));
    }
    let r = post(s, &format!("/async/{id}/phase"), &[("PHASE", "RUN")]);
    assert_to_job(s, &r, &id);
    assert_eq!(plain(s, &id, "phase"), "ABORTED");

    // WT-02: with PHASE=X, at once when the phase is not X.
    let pending = create(s, &[("LANG", "ADQL"), ("QUERY", QUICK)]);
    let r = raw(
        s,
        "GET",
        &format!("/async/{pending}?WAIT=30&PHASE=EXECUTING"),
        &[],
    );
    let took = r.arrived - r.sent;
    assert!(
        took < Duration::from_millis(200),
        "WAIT with another PHASE took {took:?}"
    );
    // WT-01: n seconds when nothing happens; WT-03: WAIT=-1 ends at the cap.
    for (wait, low, high) in [("1", 0.9, 3.0), ("-1", WAIT_CAP_SECS - 0.2, WAIT_CAP_SECS + 2.0)] {
        let r = raw(s, "GET", &format!("/async/{pending}?WAIT={wait}"), &[]);
        let took = (r.arrived - r.sent).as_secs_f64();
        assert!(took >= low && took <= high, "WAIT={wait} took {took:.2} s");
        assert_eq!(phase(&r.reply.text()), "PENDING");
    }
    let r = curl(s, &["-X", "DELETE", &format!("{}/async/{pending}", s.base)]);
    assert_eq!(r.status, 303);
}

/// PH-01 ABORT of a running query: its backend is gone within 1 s, the job is ABORTED, /error
/// explains, and there is no result (PH-04).
fn abort_running(s: &Server) {
    let _quiet = quiet();
    let id = create(s, &[("LANG", "ADQL"), ("QUERY", LONG), ("PHASE", "RUN")]);
    await_phase(s, &id, 1, |p| p == "EXECUTING", Duration::from_secs(30));
    let deadline = Instant::now() + Duration::from_secs(10);
    while active_bench(s) == 0 {
        assert!(Instant::now() < deadline, "the query never reached PostgreSQL");
        thread::sleep(Duration::from_millis(50));
    }
    let r = post(s, &format!("/async/{id}/phase"), &[("PHASE", "ABORT")]);
    assert_to_job(s, &r, &id);
    assert_backends_gone(s, "ABORT");
    let d = await_phase(s, &id, 1, |p| p == "ABORTED", Duration::from_secs(5));
    assert!(instant_of(&d, "uws:endTime").is_some(), "{d}");
    error_document(s, &format!("/async/{id}/error"), 200);
    assert_eq!(get(s, &format!("/async/{id}/results/result")).status, 404);
}

/// LF-02 as Tapir words it: past its executionDuration a job ends in ERROR ("time limit"), in
/// time, and its query is cancelled.
fn time_limit(s: &Server) {
    let _quiet = quiet();
    let t0 = Instant::now();
    let id = create(
        s,
        &[
            ("LANG", "ADQL"),
            ("QUERY", LONG),
            ("EXECUTIONDURATION", "1"),
            ("PHASE", "RUN"),
        ],
    );
    let d = await_phase(s, &id, -1, |p| p == "ERROR", Duration::from_secs(10));
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(2), "a 1 s job ended after {took:?}");
    assert_eq!(text(&d, "uws:executionDuration").as_deref(), Some("1"), "{d}");
    assert!(message(&d).contains("time limit"), "{d}");
    assert_backends_gone(s, "the time limit");
}

/// LF-05, AS-03, PH-01, AS-02: DELETE and ACTION=DELETE remove a job and its result file
/// (303 to /async, then 404); an unknown ACTION or PHASE posted to the job URL is a 400, a
/// parameter (AS-03, decided 2026-12) is applied to a PENDING job; an unknown phase is a 400;
/// an unknown job is a 404.
fn deletion(s: &Server, done: &str, older: &str, newer: &str) {
    assert!(!result_files(s, done).is_empty(), "{done} has its result file");
    let r = curl(s, &["-X", "DELETE", &format!("{}/async/{done}", s.base)]);
    assert_to_list(s, &r);
    for sub in ["", "/phase", "/results/result"] {
        assert_eq!(get(s, &format!("/async/{done}{sub}")).status, 404, "{sub}");
    }
    assert_eq!(
        result_files(s, done),
        Vec::<String>::new(),
        "the result file is removed"
    );
    assert!(!has(&jobs(s, ""), done), "a deleted job is not listed");
    let r = post(s, &format!("/async/{older}"), &[("ACTION", "DELETE")]);
    assert_to_list(s, &r);
    assert_eq!(get(s, &format!("/async/{older}")).status, 404);

    for refused in [("ACTION", "FROB"), ("PHASE", "SUSPEND")] {
        let r = post(s, &format!("/async/{newer}"), &[refused]);
        assert_eq!(r.status, 400, "AS-03: POST {refused:?} to the job: {}", r.text());
    }
    let r = post(s, &format!("/async/{newer}/phase"), &[("PHASE", "FOO")]);
    assert_eq!(r.status, 400, "PH-01: {}", r.text());
    let d = doc(s, newer);
    assert_eq!(phase(&d), "PENDING", "{d}");
    assert_eq!(text(&d, "uws:runId").as_deref(), Some("uws-list-2"), "{d}");
    let r = post(s, &format!("/async/{newer}"), &[("RUNID", "renamed")]);
    assert_eq!(
        r.status,
        303,
        "AS-03: a parameter posted to the job: {}",
        r.text()
    );
    let d = doc(s, newer);
    assert_eq!(text(&d, "uws:runId").as_deref(), Some("renamed"), "{d}");
    assert_eq!(phase(&d), "PENDING", "{d}");

    let ghost = "a".repeat(26);
    for sub in ["", "/phase", "/parameters", "/results/result", "/error"] {
        assert_eq!(get(s, &format!("/async/{ghost}{sub}")).status, 404, "{sub}");
    }
    let r = post(s, &format!("/async/{ghost}/phase"), &[("PHASE", "RUN")]);
    assert_eq!(r.status, 404);
    let r = curl(s, &["-X", "DELETE", &format!("{}/async/{ghost}", s.base)]);
    assert_eq!(r.status, 404);
    let r = curl(s, &["-X", "DELETE", &format!("{}/async/{newer}", s.base)]);
    assert_to_list(s, &r);
}

/// LF-03, first half: a job asked to be destroyed 3 to 4 s from now runs, with the
/// destruction time granted as asked, and has its result file.
fn destruction_requested(s: &Server) -> String {
    let at = (now_ms() / 1000 + 4) * 1000;
    let id = create(
        s,
        &[
            ("LANG", "ADQL"),
            ("QUERY", QUICK),
            ("DESTRUCTION", &iso(at)),
            ("PHASE", "RUN"),
        ],
    );
    let d = await_phase(s, &id, -1, |p| p == "COMPLETED", Duration::from_secs(3));
    assert_eq!(instant_of(&d, "uws:destruction"), Some(at as f64 / 1000.0), "{d}");
    assert_eq!(result_files(s, &id).len(), 1, "{id}");
    id
}

/// LF-03, second half: once the destruction time has passed the reaper (every second here)
/// forgets the job and removes its result file.
fn destruction_done(s: &Server, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while get(s, &format!("/async/{id}")).status != 404 || !result_files(s, id).is_empty() {
        assert!(
            Instant::now() < deadline,
            "{id} outlived its destruction: {:?}",
            result_files(s, id)
        );
        thread::sleep(Duration::from_millis(200));
    }
}

/// Two processes on one job store: 200 quick jobs posted to each are all COMPLETED, every one
/// claimed exactly once (`runs` = 1), and each process shows the other's jobs.
#[test]
fn two_processes_share_one_job_store() {
    let _busy = busy();
    let workers = [("TAPIR_JOBS_WORKERS", "4")];
    let Some(a) = start_with(&workers, None) else {
        return;
    };
    let Some(b) = start_with(&workers, Some(&embedded_url(&a))) else {
        return;
    };
    let job = [("LANG", "ADQL"), ("QUERY", QUICK), ("PHASE", "RUN")];
    // Four threads per server, 50 jobs each; A's jobs come first.
    let ids: Vec<String> = thread::scope(|scope| {
        let mut threads = Vec::new();
        for server in [&a, &b] {
            for _ in 0..4 {
                threads.push(scope.spawn(move || {
                    (0..50)
                        .map(|_| job_id(server, &raw(server, "POST", "/async", &job).reply))
                        .collect::<Vec<_>>()
                }));
            }
        }
        threads
            .into_iter()
            .flat_map(|t| t.join().expect("a submitting thread"))
            .collect()
    });
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 400, "400 distinct jobs");

    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let counts = psql(
            &a,
            "SELECT count(*) FILTER (WHERE phase = 'COMPLETED'), \
             count(*) FILTER (WHERE phase IN ('ERROR', 'ABORTED')), count(*) FROM tapir.jobs",
        );
        let n: Vec<u64> = counts.split('|').map(|c| c.parse().expect(&counts)).collect();
        assert_eq!(n[1], 0, "failed jobs: {}", failed_jobs(&a));
        if n[0] == 400 {
            assert_eq!(n[2], 400, "jobs in the store");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of 400 jobs COMPLETED after 120 s",
            n[0]
        );
        thread::sleep(Duration::from_millis(250));
    }
    let twice = psql(
        &a,
        "SELECT count(*) FROM tapir.jobs WHERE runs IS DISTINCT FROM 1",
    );
    assert_eq!(
        twice,
        "0",
        "jobs not claimed exactly once: {}",
        psql(
            &a,
            "SELECT job_id, runs FROM tapir.jobs WHERE runs IS DISTINCT FROM 1 LIMIT 10"
        )
    );
    for (server, id) in [(&a, &ids[399]), (&b, &ids[0])] {
        assert_eq!(
            phase(&doc(server, id)),
            "COMPLETED",
            "{id} seen from {}",
            server.base
        );
    }
}

/// A process killed with SIGKILL (B, 2 workers) beside a live one (A, 4 workers), both with
/// 3 s leases: six long jobs occupy all six workers and three quick ones wait in the queue.
/// After the kill, exactly B's two running jobs end in ERROR ("stopped") while A's four keep
/// running; once those are aborted, A runs the quick jobs B left queued. Every job is claimed
/// once. The long queries wait on a lock held by psql, so they cost no CPU.
#[test]
fn a_killed_process_leaves_no_job_executing() {
    let busy = busy();
    let lease = ("TAPIR_JOBS_LEASE_SECS", "3");
    let reap = ("TAPIR_JOBS_REAP_INTERVAL_SECS", "1");
    let Some(a) = start_with(&[lease, reap, ("TAPIR_JOBS_WORKERS", "4")], None) else {
        return;
    };
    // Processes that share a job store share the results directory (jobs.results_dir).
    let results = a.dir.join("data").join("results");
    let results_env = results.display().to_string();
    let b_env = [
        lease,
        reap,
        ("TAPIR_JOBS_WORKERS", "2"),
        ("TAPIR_JOBS_RESULTS_DIR", results_env.as_str()),
    ];
    let Some(mut b) = start_with(&b_env, Some(&embedded_url(&a))) else {
        return;
    };
    drop(busy);

    // Created before the lock (the quote's EXPLAIN would wait for it too), run after it.
    let long_job = [("LANG", "ADQL"), ("QUERY", LONG), ("EXECUTIONDURATION", "600")];
    let long: Vec<String> = (0..6).map(|_| create(&b, &long_job)).collect();

    let lock = common::BenchLock::take(&a, "uws-lock");

    for id in &long {
        let r = post(&b, &format!("/async/{id}/phase"), &[("PHASE", "RUN")]);
        assert_to_job(&b, &r, id);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while !long.iter().all(|id| plain(&b, id, "phase") == "EXECUTING") {
        assert!(Instant::now() < deadline, "six workers did not start six jobs");
        thread::sleep(Duration::from_millis(100));
    }
    let quick_job = [
        ("LANG", "ADQL"),
        (
            "QUERY",
            "SELECT TOP 3 source_id FROM gaiadr1.gaia_source ORDER BY source_id",
        ),
        ("FORMAT", "csv"),
        ("PHASE", "RUN"),
    ];
    let quick: Vec<String> = (0..3).map(|_| create(&b, &quick_job)).collect();
    thread::sleep(Duration::from_millis(500));
    for id in &quick {
        assert_eq!(plain(&b, id, "phase"), "QUEUED", "no worker is free for {id}");
    }

    let killed = Command::new("kill")
        .args(["-KILL", &b.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let _ = b.child.wait();
    let t0 = Instant::now();
    let phases = || -> Vec<String> { long.iter().map(|id| plain(&a, id, "phase")).collect() };
    let mut now = phases();
    while now.iter().filter(|p| *p == "ERROR").count() < 2 {
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "the dead process's jobs still run: {now:?}"
        );
        thread::sleep(Duration::from_millis(250));
        now = phases();
    }
    thread::sleep(Duration::from_millis(500));
    now = phases();
    let executing = now.iter().filter(|p| *p == "EXECUTING").count();
    assert_eq!(executing, 4, "the live process's jobs keep running: {now:?}");
    // The dead process's partial results go with recovery (the reaper runs every second);
    // the running jobs keep theirs.
    let part = |id: &str| results.join(format!("{id}.part")).exists();
    let swept_at = Instant::now();
    loop {
        let left: Vec<&String> = long
            .iter()
            .zip(&now)
            .filter(|(id, p)| *p == "ERROR" && part(id))
            .map(|(id, _)| id)
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(
            swept_at.elapsed() < Duration::from_secs(10),
            "partial results of ended jobs left behind: {left:?}"
        );
        thread::sleep(Duration::from_millis(200));
    }
    eprintln!(
        "partial results of the dead process's jobs removed {:?} after they ended",
        swept_at.elapsed()
    );
    for (id, p) in long.iter().zip(&now) {
        if p == "EXECUTING" {
            assert!(part(id), "a running job keeps its partial result: {id}");
        }
    }
    for id in &long {
        let d = doc(&a, id);
        match phase(&d).as_str() {
            "ERROR" => assert!(message(&d).contains("stopped"), "{d}"),
            "EXECUTING" => {
                let r = post(&a, &format!("/async/{id}/phase"), &[("PHASE", "ABORT")]);
                assert_to_job(&a, &r, id);
            }
            other => panic!("{id} is {other}: {d}"),
        }
    }
    for id in &quick {
        await_phase(&a, id, 1, |p| p == "COMPLETED", Duration::from_secs(15));
        let r = get(&a, &format!("/async/{id}/results/result"));
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.text().lines().count(), 4, "{}", r.text());
    }
    for id in &long {
        let p = phase(&doc(&a, id));
        assert!(p == "ERROR" || p == "ABORTED", "{id} is {p}");
    }
    let twice = psql(
        &a,
        "SELECT count(*) FROM tapir.jobs WHERE runs IS DISTINCT FROM 1",
    );
    assert_eq!(twice, "0", "every job claimed exactly once");
    let deadline = Instant::now() + Duration::from_secs(10);
    while long.iter().any(|id| part(id)) {
        assert!(
            Instant::now() < deadline,
            "partial results left after every job ended"
        );
        thread::sleep(Duration::from_millis(200));
    }

    // The dead process's backends still wait for the lock: end them, then let it go.
    psql(
        &a,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE query LIKE '%bench%' AND application_name <> 'uws-lock' AND pid <> pg_backend_pid()",
    );
    drop(lock);
}

/// The helpers below read what they should (no server needed).
#[test]
fn helpers_read_uws_documents_and_instants() {
    assert_eq!(iso(1_796_205_603_000), "2026-12-02T10:00:03Z");
    assert_eq!(iso(1_796_205_603_120), "2026-12-02T10:00:03.120Z");
    assert_eq!(iso(1_709_164_800_000), "2024-02-29T00:00:00Z");
    assert_eq!(instant("1999-12-31T23:59:59Z"), Some(946_684_799.0));
    let frac = instant("2026-12-02T10:00:03.120Z").expect("an instant");
    assert!((frac - 1_796_205_603.12).abs() < 1e-6, "{frac}");
    assert_eq!(instant("2026-12-02 10:00:03Z"), None, "AS-05 wants the T");
    assert_eq!(instant("2026-12-02T10:00:03"), None, "AS-05 wants the Z");
    let d = "<uws:job version=\"1.1\"><uws:jobId>x</uws:jobId><uws:ownerId xsi:nil=\"true\"/>\
             <uws:parameters><uws:parameter id=\"query\">a &lt; 1</uws:parameter>\
             <uws:parameter id=\"lang\">ADQL</uws:parameter></uws:parameters><uws:results/>\
             </uws:job>";
    assert_eq!(text(d, "uws:jobId").as_deref(), Some("x"));
    assert!(nil(d, "uws:ownerId") && !nil(d, "uws:jobId"));
    assert_eq!(text(d, "uws:results").as_deref(), Some(""));
    assert_eq!(elements(d, "uws:parameter").len(), 2);
    assert_eq!(param(d, "query").as_deref(), Some("a < 1"));
    assert_eq!(text(d, "uws:runId"), None);
    assert_eq!(
        attr("id=\"r\" xlink:href=\"h\"", "xlink:href").as_deref(),
        Some("h")
    );
    assert_eq!(attr("xlink:href=\"h\"", "href"), None);
    assert_eq!(dechunk(b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"), b"abcde");
}

// ---------------------------------------------------------------------------------------------
// Requests.

/// POST /async: 303 to an absolute `{base}/async/{id}` (JB-01). Returns the id.
fn create(s: &Server, params: &[(&str, &str)]) -> String {
    job_id(s, &post(s, "/async", params))
}

/// The id a creation answer redirects to, checked: 303, Location `{base}/async/{id}`, the id
/// one path segment of 26 characters from [a-z2-7] (AS-01).
fn job_id(s: &Server, r: &Reply) -> String {
    assert_eq!(r.status, 303, "creating a job: {}{}", r.headers, r.text());
    let location = r.header("location").unwrap_or_default();
    let prefix = format!("{}/async/", s.base);
    let id = location
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("Location {location:?} is not under {prefix}"));
    assert!(
        id.len() == 26
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)),
        "job id {id:?}"
    );
    id.to_string()
}

/// 303 to the job (PH-01, JB-03, LF-01).
fn assert_to_job(s: &Server, r: &Reply, id: &str) {
    assert_eq!(r.status, 303, "{}{}", r.headers, r.text());
    assert_eq!(r.header("location"), Some(format!("{}/async/{id}", s.base)));
}

/// 303 to the job list (LF-05).
fn assert_to_list(s: &Server, r: &Reply) {
    assert_eq!(r.status, 303, "{}{}", r.headers, r.text());
    assert_eq!(r.header("location"), Some(format!("{}/async", s.base)));
}

/// GET an XML container: 200, text/xml or application/xml (AS-04).
fn xml(s: &Server, path: &str) -> String {
    let r = get(s, path);
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    let ct = r.header("content-type").unwrap_or_default();
    assert!(
        ct.starts_with("text/xml") || ct.starts_with("application/xml"),
        "{path}: content type {ct}"
    );
    r.text()
}

/// GET a DALI error document (VT-07) answered with `status`: its text.
fn error_document(s: &Server, path: &str, status: u16) -> String {
    let r = get(s, path);
    let t = r.text();
    assert_eq!(r.status, status, "{path}: {t}");
    assert!(
        t.contains("<INFO name=\"QUERY_STATUS\" value=\"ERROR\""),
        "{path}: {t}"
    );
    t
}

/// The job document, checked for what holds in every phase.
fn doc(s: &Server, id: &str) -> String {
    let d = xml(s, &format!("/async/{id}"));
    check_document(id, &d);
    d
}

/// A text/plain sub-resource of a job (AS-04), trimmed.
fn plain(s: &Server, id: &str, sub: &str) -> String {
    let r = get(s, &format!("/async/{id}/{sub}"));
    assert_eq!(r.status, 200, "{sub} of {id}: {}", r.text());
    let ct = r.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("text/plain"), "{sub}: content type {ct}");
    r.text().trim().to_string()
}

/// GET the job with `WAIT=wait` until `done(phase)`, for at most `limit`. A final phase that
/// is not the awaited one fails at once.
fn await_phase(s: &Server, id: &str, wait: i32, done: impl Fn(&str) -> bool, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let d = xml(s, &format!("/async/{id}?WAIT={wait}"));
        check_document(id, &d);
        let p = phase(&d);
        if done(&p) {
            return d;
        }
        assert!(!FINAL.contains(&p.as_str()), "{id} ended {p}: {d}");
        assert!(Instant::now() < deadline, "{id} still {p} after {limit:?}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// The job list (JL-01): (id, phase) in document order, each jobref checked.
fn jobs(s: &Server, query: &str) -> Vec<(String, String)> {
    let list = xml(s, &format!("/async{query}"));
    let root = elements(&list, "uws:jobs");
    assert!(
        root.len() == 1 && root[0].attrs.contains("version=\"1.1\""),
        "JB-05: {list}"
    );
    elements(&list, "uws:jobref")
        .iter()
        .map(|j| {
            let id = attr(j.attrs, "id").unwrap_or_else(|| panic!("a jobref without id: {list}"));
            let href = attr(j.attrs, "xlink:href");
            assert_eq!(href, Some(format!("{}/async/{id}", s.base)), "{list}");
            // phase first, unpadded (TapPlus takes the text raw).
            assert!(j.text.trim_start().starts_with("<uws:phase>"), "JL-01: {list}");
            let p = text(j.text, "uws:phase").unwrap_or_default();
            assert!(PHASES.contains(&p.as_str()), "phase {p:?}: {list}");
            (id, p)
        })
        .collect()
}

fn has(list: &[(String, String)], id: &str) -> bool {
    list.iter().any(|(j, _)| j == id)
}

fn ids_of(list: &[(String, String)]) -> Vec<&str> {
    list.iter().map(|(j, _)| j.as_str()).collect()
}

/// The files in `<data-dir>/results` whose names start with the job id.
fn result_files(s: &Server, id: &str) -> Vec<String> {
    let dir = s.dir.join("data").join("results");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.starts_with(id))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn active_bench(s: &Server) -> u32 {
    let n = psql(s, ACTIVE_BENCH);
    n.parse().unwrap_or_else(|_| panic!("count: {n}"))
}

/// Within 1 s no backend runs a bench query any more.
fn assert_backends_gone(s: &Server, after: &str) {
    let t0 = Instant::now();
    loop {
        let at = t0.elapsed();
        let left = active_bench(s);
        if left == 0 {
            return;
        }
        assert!(
            at < Duration::from_secs(1),
            "{left} queries still run 1 s after {after}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

fn failed_jobs(s: &Server) -> String {
    psql(
        s,
        "SELECT job_id, phase FROM tapir.jobs WHERE phase IN ('ERROR', 'ABORTED') LIMIT 10",
    )
}

/// An answer over a plain TcpStream, with the instant just before the request was written and
/// the one when the first byte of the answer arrived.
struct Timed {
    reply: Reply,
    sent: Instant,
    arrived: Instant,
}

/// One HTTP/1.1 request (`Connection: close`, a urlencoded form body for POST) without curl,
/// so that timings hold no process start.
fn raw(s: &Server, method: &str, path: &str, form: &[(&str, &str)]) -> Timed {
    let rest = s.base.strip_prefix("http://").expect("an http:// base");
    let (authority, prefix) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let body: Vec<String> = form
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    let body = body.join("&");
    let mut request =
        format!("{method} {prefix}{path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    if method == "POST" {
        request.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    let mut stream = TcpStream::connect(authority).expect("connect");
    stream.set_nodelay(true).expect("TCP_NODELAY");
    stream
        .set_read_timeout(Some(Duration::from_secs(90)))
        .expect("a read timeout");
    let sent = Instant::now();
    stream.write_all(request.as_bytes()).expect("send");
    let mut data = vec![0; 65536];
    let n = stream.read(&mut data).expect("an answer");
    let arrived = Instant::now();
    assert!(n > 0, "{method} {path}: the connection closed without an answer");
    data.truncate(n);
    stream.read_to_end(&mut data).expect("the whole answer");
    let split = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let mut reply = Reply {
        status: 0,
        headers: String::from_utf8_lossy(&data[..split]).into_owned(),
        body: data[split + 4..].to_vec(),
    };
    reply.status = reply
        .headers
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    if reply
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        reply.body = dechunk(&reply.body);
    }
    Timed { reply, sent, arrived }
}

/// Percent-encoding for a form value: everything but the unreserved characters.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The payload of a chunked transfer encoding.
fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let line = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        data = &data[eol + 2..];
        if size == 0 || data.len() < size {
            break;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[(size + 2).min(data.len())..];
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Reading UWS documents: enough XML for documents Tapir writes, by literal `uws:` names (the
// prefix TapPlus requires).

/// What every job document must be, in any phase: JB-05 and the namespaces, the XSD's element
/// order with the required elements present, AS-05 instants, an anonymous nil ownerId,
/// lower-case unique parameter ids (TapPlus, taplint's E-UWS-PADU), a well-formed errorSummary.
fn check_document(id: &str, d: &str) {
    let root = elements(d, "uws:job");
    assert_eq!(root.len(), 1, "one uws:job: {d}");
    for needed in [
        "version=\"1.1\"",
        "xmlns:uws=\"http://www.ivoa.net/xml/UWS/v1.0\"",
        "xmlns:xlink=\"http://www.w3.org/1999/xlink\"",
        "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"",
    ] {
        assert!(root[0].attrs.contains(needed), "uws:job needs {needed}: {d}");
    }
    assert_eq!(text(d, "uws:jobId").as_deref(), Some(id), "{d}");
    let order = [
        ("uws:jobId", true),
        ("uws:runId", false),
        ("uws:ownerId", true),
        ("uws:phase", true),
        ("uws:quote", false),
        ("uws:creationTime", true),
        ("uws:startTime", true),
        ("uws:endTime", true),
        ("uws:executionDuration", true),
        ("uws:destruction", true),
        ("uws:parameters", false),
        ("uws:results", true),
        ("uws:errorSummary", false),
        ("uws:jobInfo", false),
    ];
    let mut last = 0;
    for (name, required) in order {
        let found = elements(d, name);
        assert!(found.len() <= 1, "{name} twice: {d}");
        match found.first() {
            Some(e) => {
                assert!(e.at > last, "{name} out of the UWS 1.1 order: {d}");
                last = e.at;
            }
            None => assert!(!required, "{name} missing: {d}"),
        }
    }
    assert!(nil(d, "uws:ownerId"), "anonymous: ownerId xsi:nil: {d}");
    assert!(PHASES.contains(&phase(d).as_str()), "{d}");
    assert!(
        instant_of(d, "uws:creationTime").is_some(),
        "AS-05 creationTime: {d}"
    );
    for name in ["uws:quote", "uws:startTime", "uws:endTime", "uws:destruction"] {
        if text(d, name).is_some() && !nil(d, name) {
            assert!(instant_of(d, name).is_some(), "AS-05 {name}: {d}");
        }
    }
    let duration = text(d, "uws:executionDuration").unwrap_or_default();
    assert!(duration.parse::<u64>().is_ok(), "executionDuration {duration:?}");
    let ids: Vec<String> = params(d).into_iter().map(|(k, _)| k).collect();
    assert!(
        ids.iter().all(|k| !k.is_empty() && *k == k.to_lowercase()),
        "lower-case parameter ids: {ids:?}"
    );
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len(), "{ids:?}");
    if let Some(e) = elements(d, "uws:errorSummary").first() {
        let kind = attr(e.attrs, "type").unwrap_or_default();
        let detail = attr(e.attrs, "hasDetail").unwrap_or_default();
        assert!(kind == "fatal" || kind == "transient", "errorSummary type: {d}");
        assert!(
            detail == "true" || detail == "false",
            "errorSummary hasDetail: {d}"
        );
        assert!(text(e.text, "uws:message").is_some(), "errorSummary message: {d}");
    }
}

fn phase(d: &str) -> String {
    text(d, "uws:phase").unwrap_or_else(|| panic!("no uws:phase: {d}"))
}

/// errorSummary/message (what pyvo's raise_if_error shows), or "".
fn message(d: &str) -> String {
    text(d, "uws:errorSummary")
        .and_then(|e| text(&e, "uws:message"))
        .unwrap_or_default()
}

/// One occurrence of an element: where it starts, its attributes and its raw content ("" when
/// it is self-closing).
struct Element<'a> {
    at: usize,
    attrs: &'a str,
    text: &'a str,
}

/// Every `<name ...>` in the document (not `<name-longer>`), in order.
fn elements<'a>(doc: &'a str, name: &str) -> Vec<Element<'a>> {
    let open = format!("<{name}");
    let close = format!("</{name}>");
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = doc[from..].find(&open) {
        let at = from + i;
        from = at + open.len();
        let rest = &doc[from..];
        if !rest.starts_with(|c: char| c == '>' || c == '/' || c.is_ascii_whitespace()) {
            continue;
        }
        let Some(gt) = rest.find('>') else { break };
        let tag = &rest[..gt];
        let attrs = tag.trim_end_matches('/').trim();
        if tag.ends_with('/') {
            found.push(Element { at, attrs, text: "" });
            continue;
        }
        let content = &rest[gt + 1..];
        let end = content.find(&close).unwrap_or(content.len());
        found.push(Element {
            at,
            attrs,
            text: &content[..end],
        });
    }
    found
}

/// The unescaped content of the first `name` element.
fn text(doc: &str, name: &str) -> Option<String> {
    elements(doc, name).first().map(|e| unescape(e.text))
}

/// Whether the first `name` element is `xsi:nil="true"`.
fn nil(doc: &str, name: &str) -> bool {
    elements(doc, name)
        .first()
        .is_some_and(|e| attr(e.attrs, "xsi:nil").as_deref() == Some("true"))
}

/// The instant in the first `name` element, if it is one (AS-05).
fn instant_of(doc: &str, name: &str) -> Option<f64> {
    instant(&text(doc, name)?)
}

/// An attribute's unescaped value.
fn attr(attrs: &str, name: &str) -> Option<String> {
    let padded = format!(" {attrs}");
    let key = format!(" {name}=\"");
    let start = padded.find(&key)? + key.len();
    let len = padded[start..].find('"')?;
    Some(unescape(&padded[start..start + len]))
}

/// The job's parameters (JB-04), as (id, value).
fn params(doc: &str) -> Vec<(String, String)> {
    elements(doc, "uws:parameter")
        .iter()
        .map(|e| (attr(e.attrs, "id").unwrap_or_default(), unescape(e.text)))
        .collect()
}

fn param(doc: &str, id: &str) -> Option<String> {
    params(doc).into_iter().find(|(k, _)| k == id).map(|(_, v)| v)
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

// ---------------------------------------------------------------------------------------------
// UWS instants (AS-05: UTC, `T`, `Z`), from and to milliseconds since 1970.

fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970");
    i64::try_from(since.as_millis()).expect("a sane clock")
}

/// `YYYY-MM-DDThh:mm:ss[.mmm]Z`, the milliseconds only when there are some.
fn iso(ms: i64) -> String {
    let (secs, milli) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, t) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let frac = if milli == 0 {
        String::new()
    } else {
        format!(".{milli:03}")
    };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{frac}Z",
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

/// Seconds since 1970 of `YYYY-MM-DDThh:mm:ss[.f...]Z`; None for anything else.
fn instant(text: &str) -> Option<f64> {
    let (date, time) = text.strip_suffix('Z')?.split_once('T')?;
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let fields = |s: &str, sep: char, widths: [usize; 3]| -> Option<[i64; 3]> {
        let parts: Vec<&str> = s.split(sep).collect();
        if parts.len() != 3 || parts.iter().zip(widths).any(|(p, w)| p.len() != w || !digits(p)) {
            return None;
        }
        Some([
            parts[0].parse().ok()?,
            parts[1].parse().ok()?,
            parts[2].parse().ok()?,
        ])
    };
    let [y, mo, d] = fields(date, '-', [4, 2, 2])?;
    let [h, mi, s] = fields(hms, ':', [2, 2, 2])?;
    if !frac.is_empty() && !digits(frac) {
        return None;
    }
    let fraction: f64 = format!("0.{frac}0").parse().ok()?;
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s;
    Some(secs as f64 + fraction)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}
