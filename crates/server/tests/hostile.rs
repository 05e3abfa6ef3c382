//! Careless and hostile input (issue 12): every user mistake is a 4xx with a message, never a
//! 500. Loopback only, bounded loops.

mod common;

use common::{curl, start_with, Reply};

fn assert_refused(r: &Reply, status: u16, needle: &str, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.text());
    assert!(r.text().contains(needle), "{what}: {}", r.text());
}

#[test]
fn nul_bytes_and_broken_bodies_are_the_users_mistakes() {
    let Some(s) = start_with(&[], None) else {
        return;
    };
    // A NUL inside a string literal of a sync query, in an async QUERY and RUNID, and in a raw
    // urlencoded body: 400 naming the parameter.
    let sync = curl(
        &s,
        &[
            &format!("{}/sync", s.base),
            "--data",
            "LANG=ADQL&QUERY=SELECT%20TOP%201%20id%20FROM%20bench.objects%20WHERE%20name%20%3D%20%27a%00b%27",
        ],
    );
    assert_refused(
        &sync,
        400,
        "parameter QUERY contains a NUL character",
        "sync literal",
    );
    for (name, body) in [
        (
            "QUERY",
            "LANG=ADQL&QUERY=SELECT%20TOP%201%20id%20FROM%20bench.objects%00",
        ),
        (
            "RUNID",
            "LANG=ADQL&QUERY=SELECT%20TOP%201%20id%20FROM%20bench.objects&RUNID=run%00id",
        ),
    ] {
        let r = curl(&s, &[&format!("{}/async", s.base), "--data", body]);
        assert_refused(
            &r,
            400,
            &format!("parameter {name} contains a NUL character"),
            name,
        );
    }
    let r = curl(
        &s,
        &[
            &format!("{}/async", s.base),
            "--data-binary",
            "QUERY=x&JOB%00NAME=y",
        ],
    );
    assert_refused(&r, 400, "contains a NUL character", "a NUL in a name");
    assert!(
        !common::get(&s, "/async").text().contains("<uws:jobref"),
        "no job was made"
    );

    // A chunked body that breaks off is a 400, not a 413 (nothing was too large).
    let broken = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "printf 'POST {path}/sync HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/x-www-form-urlencoded\\r\\nTransfer-Encoding: chunked\\r\\nConnection: close\\r\\n\\r\\nZZ\\r\\nQUERY=x\\r\\n' | curl -s -m 5 telnet://127.0.0.1:{port} 2>/dev/null | head -1",
            path = s.base.split("127.0.0.1").nth(1).and_then(|r| r.find('/').map(|i| &r[i..])).unwrap_or("/tap"),
            port = s.base.split(':').nth(2).and_then(|p| p.split('/').next()).unwrap_or("0"),
        ))
        .output()
        .expect("sh runs");
    let status_line = String::from_utf8_lossy(&broken.stdout);
    assert!(
        status_line.starts_with("HTTP/1.1 400"),
        "broken chunked body: {status_line:?}"
    );
}

/// Bounded answers and bodies: parameter values over their caps are 413; a job list shows at
/// most `jobs.list_max` jobs however many exist (and honours a smaller LAST/limit); routes that
/// take no uploads refuse bodies past 64 KiB.
#[test]
fn lists_values_and_bodies_are_bounded() {
    let Some(s) = start_with(&[("TAPIR_JOBS_LIST_MAX", "3")], None) else {
        return;
    };
    let long_runid = format!(
        "LANG=ADQL&QUERY=SELECT%20TOP%201%20id%20FROM%20bench.objects&RUNID={}",
        "r".repeat(5000)
    );
    let r = curl(&s, &[&format!("{}/async", s.base), "--data", &long_runid]);
    assert_refused(
        &r,
        413,
        "parameter RUNID has 5000 bytes; this service takes at most 4096",
        "RUNID",
    );
    for i in 0..5 {
        let r = curl(
            &s,
            &[
                &format!("{}/async", s.base),
                "--data",
                &format!("LANG=ADQL&QUERY=SELECT%20TOP%201%20id%20FROM%20bench.objects&RUNID=list-{i}"),
            ],
        );
        assert_eq!(r.status, 303, "{}", r.text());
    }
    let listed = common::get(&s, "/async").text();
    assert_eq!(listed.matches("<uws:jobref").count(), 3, "{listed}");
    assert!(
        listed.contains("list-4") && !listed.contains("list-1"),
        "the newest: {listed}"
    );
    assert_eq!(
        common::get(&s, "/async?LAST=2")
            .text()
            .matches("<uws:jobref")
            .count(),
        2
    );
    let searched = common::get(&s, "/jobs/async").text();
    assert_eq!(searched.matches("<uws:jobId>").count(), 3, "{searched}");
    assert_eq!(
        common::get(&s, "/jobs/async?limit=100")
            .text()
            .matches("<uws:jobId>")
            .count(),
        3
    );

    let job = curl(
        &s,
        &[
            &format!("{}/async", s.base),
            "--data",
            "LANG=ADQL&QUERY=SELECT%20TOP%201%20id%20FROM%20bench.objects",
            "-o",
            "/dev/null",
            "-w",
            "%{redirect_url}",
        ],
    );
    let job = String::from_utf8_lossy(&job.body).to_string();
    let big = format!("PHASE=RUN&X={}", "x".repeat(70 * 1024));
    let r = curl(&s, &[&format!("{job}/phase"), "--data", &big]);
    assert_refused(&r, 413, "larger than 65536 bytes", "a big body to /phase");
}

/// Slow clients cannot hold connections: a request whose headers never finish is closed after
/// `server.header_timeout_secs`; past `server.max_connections` new connections are closed at
/// once; a body announced larger than the limit is refused before any of it is read.
#[test]
fn slow_clients_are_cut_off() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::{Duration, Instant};

    let env = [
        // Long enough that a loaded machine (the whole suite runs in parallel) does not let
        // the held connections time out before the fifth one arrives.
        ("TAPIR_SERVER_HEADER_TIMEOUT_SECS", "4"),
        ("TAPIR_SERVER_MAX_CONNECTIONS", "4"),
    ];
    let Some(s) = start_with(&env, None) else {
        return;
    };
    let addr = s
        .base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("host:port")
        .to_string();
    let path = format!("/{}", s.base.splitn(4, '/').nth(3).unwrap_or("tap"));
    let open = || {
        let mut c = TcpStream::connect(&addr).expect("connects");
        c.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        c.write_all(format!("GET {path}/availability HTTP/1.1\r\nHost: x\r\n").as_bytes())
            .expect("writes");
        c
    };
    // Slowloris: the headers never end.
    let t0 = Instant::now();
    let mut held: Vec<TcpStream> = (0..4).map(|_| open()).collect();
    std::thread::sleep(Duration::from_millis(300));
    // The fifth connection is over the cap: closed without an answer.
    let mut fifth = TcpStream::connect(&addr).expect("connects");
    fifth
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _ = fifth.write_all(format!("GET {path}/availability HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    let mut buf = [0u8; 256];
    let n = fifth.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "over the cap: {:?}", String::from_utf8_lossy(&buf[..n]));
    for c in &mut held {
        let mut out = Vec::new();
        let _ = c.read_to_end(&mut out);
        let text = String::from_utf8_lossy(&out);
        assert!(out.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");
    }
    let took = t0.elapsed();
    eprintln!("slowloris connections closed after {took:?} (header timeout 4 s)");
    assert!(
        took >= Duration::from_millis(3900) && took < Duration::from_secs(10),
        "{took:?}"
    );
    assert_eq!(
        common::get(&s, "/availability").status,
        200,
        "served again once they are gone"
    );

    // A body announced at 150 MiB to /sync (limit 100 MiB + 1 MiB) is refused at once.
    let t0 = Instant::now();
    let mut c = TcpStream::connect(&addr).expect("connects");
    c.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    c.write_all(
        format!(
            "POST {path}/sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 157286400\r\n\r\nQUERY="
        )
        .as_bytes(),
    )
    .expect("writes");
    let n = c.read(&mut buf).unwrap_or(0);
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
}

/// Work stops when nobody waits for it: a client that gives up while its sync query is still
/// working towards its first row has the query cancelled in the database within a second.
#[test]
fn a_query_nobody_waits_for_is_cancelled_before_its_first_row() {
    use std::process::Command;
    use std::time::{Duration, Instant};

    let Some(s) = start_with(&[], None) else {
        return;
    };
    let active = || {
        common::psql(
        &s,
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%tapir_result%' AND pid <> pg_backend_pid()",
    )
    };
    // Counting 10^8 pairs takes seconds and sends no row until it is done.
    let slow = "SELECT COUNT(*) AS n FROM bench.objects AS a, bench.objects AS b WHERE a.ra > b.ra";
    let mut client = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", &format!("{}/sync", s.base)])
        .args(["-d", "LANG=ADQL", "--data-urlencode", &format!("QUERY={slow}")])
        .spawn()
        .expect("curl runs");
    let deadline = Instant::now() + Duration::from_secs(5);
    while active() != "1" {
        assert!(Instant::now() < deadline, "the query never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = client.kill();
    let _ = client.wait();
    let gone_at = Instant::now();
    while active() != "0" {
        assert!(
            gone_at.elapsed() < Duration::from_secs(1),
            "the abandoned query still runs"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!(
        "abandoned query cancelled {:?} after the client left",
        gone_at.elapsed()
    );
    // The service goes on: the next query gets a clean connection.
    let r = common::post(
        &s,
        "/sync",
        &[
            ("LANG", "ADQL"),
            ("QUERY", "SELECT TOP 1 id FROM bench.objects"),
            ("FORMAT", "csv"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

/// Query cost is bounded before the database pays for it: 17 relations are refused with the
/// limit in the message; the largest query allowed (16 self-joins) is planned within a stated
/// memory ceiling (peak RSS of the cluster's processes, sampled from `ps`).
#[test]
fn many_joins_are_refused_or_bounded() {
    use std::process::Command;
    use std::time::{Duration, Instant};

    let Some(s) = start_with(&[], None) else {
        return;
    };
    let join = |n: usize| {
        let mut q = String::from("SELECT t0.id FROM bench.objects AS t0");
        for i in 1..n {
            q.push_str(&format!(" JOIN bench.objects AS t{i} ON t{i}.id = t0.id"));
        }
        q
    };
    let r = common::post(
        &s,
        "/sync",
        &[("LANG", "ADQL"), ("QUERY", &join(17)), ("MAXREC", "1")],
    );
    assert_refused(&r, 400, "more than 16 tables and subqueries", "17 relations");

    let peak_rss_kb = || -> u64 {
        let out = Command::new("ps")
            .args(["-C", "postgres", "-o", "rss="])
            .output()
            .expect("ps");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .max()
            .unwrap_or(0)
    };
    let query = join(16);
    let base = s.base.clone();
    let t0 = Instant::now();
    let worker = std::thread::spawn(move || {
        Command::new("curl")
            .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "60"])
            .arg(format!("{base}/sync"))
            .args([
                "-d",
                "LANG=ADQL",
                "-d",
                "MAXREC=1",
                "--data-urlencode",
                &format!("QUERY={query}"),
            ])
            .output()
            .expect("curl")
    });
    let mut peak = 0;
    while !worker.is_finished() {
        peak = peak.max(peak_rss_kb());
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = worker.join().expect("curl thread");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200");
    eprintln!(
        "16 relations planned and run in {:?}, peak PostgreSQL process RSS {} MB",
        t0.elapsed(),
        peak / 1024
    );
    // 173 MB measured; the ceiling leaves room for other machines' planners.
    assert!(peak < 600 * 1024, "peak RSS {peak} kB");
}

/// CORS and `/metrics` are the operator's choice: by default any origin may call the TAP
/// resources from a browser (never with credentials) and `/metrics` is served; configured, only
/// the listed origins get CORS headers and `/metrics` is gone.
#[test]
fn cors_and_metrics_follow_the_configuration() {
    let origin_of = |r: &Reply| r.header("access-control-allow-origin");
    let Some(open) = start_with(&[], None) else {
        return;
    };
    let r = curl(
        &open,
        &[
            "-H",
            "Origin: https://any.example",
            &format!("{}/availability", open.base),
        ],
    );
    assert_eq!(origin_of(&r).as_deref(), Some("*"));
    assert!(r.header("access-control-allow-credentials").is_none());
    let metrics = format!("{}/metrics", open.base.trim_end_matches("/tap"));
    assert_eq!(curl(&open, &[&metrics]).status, 200);
    drop(open);

    let env = [
        ("TAPIR_SERVER_CORS_ORIGINS", "https://allowed.example"),
        ("TAPIR_SERVER_METRICS", "false"),
    ];
    let Some(s) = start_with(&env, None) else {
        return;
    };
    let r = curl(
        &s,
        &[
            "-H",
            "Origin: https://allowed.example",
            &format!("{}/availability", s.base),
        ],
    );
    assert_eq!(origin_of(&r).as_deref(), Some("https://allowed.example"));
    let r = curl(
        &s,
        &[
            "-H",
            "Origin: https://evil.example",
            &format!("{}/availability", s.base),
        ],
    );
    assert_eq!(r.status, 200, "the request itself is served");
    assert!(
        origin_of(&r).is_none(),
        "no CORS for an origin not listed: {}",
        r.headers
    );
    let preflight = curl(
        &s,
        &[
            "-X",
            "OPTIONS",
            "-H",
            "Origin: https://allowed.example",
            "-H",
            "Access-Control-Request-Method: PUT",
            &format!("{}/sync", s.base),
        ],
    );
    let methods = preflight
        .header("access-control-allow-methods")
        .unwrap_or_default();
    assert!(
        methods.contains("POST") && !methods.contains("PUT"),
        "{}",
        preflight.headers
    );
    let metrics = format!("{}/metrics", s.base.trim_end_matches("/tap"));
    assert_eq!(curl(&s, &[&metrics]).status, 404, "metrics off");
}

/// Admission from the planner's estimate (issue 12): a sync query whose EXPLAIN cost is over
/// `limits.sync_max_cost` is refused before it runs, with the estimate and the way out (an
/// async job) in the message; cheap queries are served as before, and the same query is
/// accepted as a job.
#[test]
fn a_sync_query_over_the_cost_limit_is_told_to_go_async() {
    use std::time::{Duration, Instant};

    let Some(s) = start_with(&[("TAPIR_LIMITS_SYNC_MAX_COST", "100000")], None) else {
        return;
    };
    let costly = "SELECT COUNT(*) AS n FROM bench.objects AS a, bench.objects AS b WHERE a.ra > b.ra";
    let t0 = Instant::now();
    let r = common::post(&s, "/sync", &[("LANG", "ADQL"), ("QUERY", costly)]);
    let took = t0.elapsed();
    assert_refused(&r, 400, "too expensive to run synchronously", "costly sync query");
    assert!(r.text().contains("asynchronous job"), "{}", r.text());
    assert!(r.text().contains("(1.00e5)"), "the limit is named: {}", r.text());
    // Running it takes seconds (10^8 pairs); the refusal only plans it.
    assert!(took < Duration::from_secs(1), "refused in {took:?}");
    eprintln!("costly sync query refused in {took:?}");

    let r = common::post(
        &s,
        "/sync",
        &[
            ("LANG", "ADQL"),
            ("QUERY", "SELECT id FROM bench.objects WHERE id = 42"),
            ("FORMAT", "csv"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text().lines().collect::<Vec<_>>(), ["id", "42"]);

    let job = common::post(&s, "/async", &[("LANG", "ADQL"), ("QUERY", costly)]);
    assert_eq!(job.status, 303, "the job is accepted: {}", job.text());
}

/// A job store holding a million jobs (issue 12): every job list stays within `jobs.list_max`
/// (1000) and answers in bounded time and size, whatever the store holds. The jobs are written
/// straight into `tapir.jobs` (triggers off, so no million notifications).
#[test]
fn a_million_jobs_are_listed_within_the_cap() {
    use std::time::{Duration, Instant};

    let Some(s) = start_with(&[], None) else {
        return;
    };
    let t0 = Instant::now();
    common::psql(
        &s,
        "SET session_replication_role = replica; \
         INSERT INTO tapir.jobs (job_id, run_id, phase, creation_time, execution_duration, \
             destruction, param_names, param_values) \
         SELECT 'bulk' || g, 'bulk-run-' || g, \
             CASE WHEN g % 10 = 0 THEN 'COMPLETED' ELSE 'PENDING' END, \
             now() - g * interval '1 second', 3600, now() + interval '30 days', \
             '{LANG,QUERY}', ARRAY['ADQL', 'SELECT TOP 1 id FROM bench.objects'] \
         FROM generate_series(1, 1000000) AS g; \
         ANALYZE tapir.jobs",
    );
    eprintln!("1,000,000 jobs written in {:?}", t0.elapsed());
    assert_eq!(common::psql(&s, "SELECT count(*) FROM tapir.jobs"), "1000000");

    // (path, what marks a job in the answer, jobs expected, the newest job listed)
    let lists: [(&str, &str, usize, &str); 5] = [
        ("/async", "<uws:jobref", 1000, "bulk1"),
        ("/async?PHASE=COMPLETED", "<uws:jobref", 1000, "bulk10"),
        ("/async?LAST=10", "<uws:jobref", 10, "bulk1"),
        ("/jobs/async", "<uws:jobId>", 1000, "bulk1"),
        ("/jobs/async?limit=20", "<uws:jobId>", 20, "bulk1"),
    ];
    for (path, element, expected, newest) in lists {
        let t0 = Instant::now();
        let r = common::get(&s, path);
        let took = t0.elapsed();
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        let text = r.text();
        assert_eq!(text.matches(element).count(), expected, "{path}");
        // The newest first (bulk1 is the youngest of the million).
        let first = text
            .split(element)
            .nth(1)
            .unwrap_or_default()
            .split(['<', '"'])
            .find(|t| t.starts_with("bulk"))
            .unwrap_or_default();
        assert_eq!(first, newest, "{path}: newest first");
        assert!(text.len() < 1_000_000, "{path}: {} bytes", text.len());
        assert!(took < Duration::from_secs(5), "{path} took {took:?}");
        eprintln!("{path}: {expected} jobs, {} bytes in {took:?}", text.len());
    }
}
