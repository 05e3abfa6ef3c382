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
