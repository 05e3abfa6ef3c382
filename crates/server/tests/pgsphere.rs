//! pgSphere on the PostgreSQL a fresh Debian 12 has today (issue 9).
//!
//! Debian 12's PostgreSQL 15.20 refuses Debian 12's pgSphere 1.2.0 script ("commutator operator
//! @> is already the commutator of operator <@"). The embedded cluster then runs from a private
//! copy of the installation with a corrected script (`data/pg-install`); elsewhere it runs the
//! machine's own binaries. These tests hold on both kinds of machine: the copy is forced with
//! `TAPIR_DATABASE_PGSPHERE_FIX=always`, and "a machine whose pgSphere works" is a corrected
//! installation made for the test and given as `TAPIR_DATABASE_PG_BINDIR`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{curl, embedded_url, psql, restart, start_with, sync, Server};

/// The log line that says the corrected copy is in use.
const COPY_IN_USE: &str = "runs from a private copy of the installation";

/// The executable of the embedded cluster's postmaster.
fn postmaster_exe(s: &Server) -> PathBuf {
    let pid_file = s.dir.join("data/pg/postmaster.pid");
    let text = std::fs::read_to_string(&pid_file).expect("postmaster.pid");
    let pid = text.lines().next().expect("pid line").trim().to_string();
    std::fs::read_link(format!("/proc/{pid}/exe")).expect("postmaster executable")
}

/// The rows of a CSV answer after its header, asserting the header.
fn csv_rows(s: &Server, query: &str, header: &str) -> Vec<String> {
    let r = sync(s, query, &[("FORMAT", "csv")]);
    assert_eq!(r.status, 200, "{query}: {}", r.text());
    let text = r.text();
    let mut lines = text.lines().map(str::to_string);
    assert_eq!(lines.next().as_deref(), Some(header), "{query}: {text}");
    lines.collect()
}

/// A cone search through ADQL, checked against the same cone computed in plain SQL
/// (haversine on ra/dec, no pgSphere) on the same rows.
fn cone_search(s: &Server) {
    let adql = "SELECT COUNT(*) AS n FROM bench.objects \
                WHERE 1=CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 120.0, 30.0, 10.0))";
    let n = csv_rows(s, adql, "n");
    let plain = psql(
        s,
        "SELECT count(*) FROM bench.objects WHERE 2 * asin(sqrt(sin(radians(dec - 30) / 2) ^ 2 \
         + cos(radians(dec)) * cos(radians(30.0)) * sin(radians(ra - 120) / 2) ^ 2)) < radians(10.0)",
    );
    assert_eq!(n, std::slice::from_ref(&plain), "cone search");
    assert!(
        plain.parse::<u64>().expect("a count") > 10,
        "the cone holds rows: {plain}"
    );
}

/// A polygon CONTAINS: a small square around one object finds exactly that object.
fn polygon_contains(s: &Server) {
    let row = psql(
        s,
        "SELECT id, ra, dec FROM bench.objects WHERE abs(dec) < 60 ORDER BY id LIMIT 1",
    );
    let parts: Vec<&str> = row.split('|').collect();
    let (id, ra, dec): (&str, f64, f64) = (
        parts[0],
        parts[1].parse().expect("ra"),
        parts[2].parse().expect("dec"),
    );
    let d = 0.01;
    let adql = format!(
        "SELECT id FROM bench.objects WHERE 1=CONTAINS(POINT('ICRS', ra, dec), \
         POLYGON('ICRS', {}, {}, {}, {}, {}, {}, {}, {}))",
        ra - d,
        dec - d,
        ra + d,
        dec - d,
        ra + d,
        dec + d,
        ra - d,
        dec + d
    );
    assert_eq!(
        csv_rows(s, &adql, "id"),
        [id.to_string()],
        "polygon around object {id}"
    );
    let far = "SELECT id FROM bench.objects WHERE 1=CONTAINS(POINT('ICRS', ra, dec), \
               POLYGON('ICRS', 200.0, -10.0, 200.001, -10.0, 200.0005, -9.999))";
    assert!(
        csv_rows(s, far, "id").is_empty(),
        "a tiny triangle elsewhere holds nothing"
    );
}

/// An uploaded table cross-matched within one arcsecond: every uploaded row finds its object.
fn upload_cross_match(s: &Server) {
    let positions = csv_rows(
        s,
        "SELECT TOP 50 id, ra, dec FROM bench.objects ORDER BY id",
        "id,ra,dec",
    );
    assert_eq!(positions.len(), 50);
    let file = s.dir.join("mine.csv");
    std::fs::write(&file, format!("id,ra,dec\n{}\n", positions.join("\n"))).expect("upload file");
    let r = curl(
        s,
        &[
            &format!("{}/sync", s.base),
            "--form-string",
            "REQUEST=doQuery",
            "--form-string",
            "LANG=ADQL",
            "--form-string",
            "FORMAT=csv",
            "--form-string",
            "UPLOAD=mine,param:mine",
            "--form-string",
            "QUERY=SELECT u.id AS uid, o.id FROM TAP_UPLOAD.mine AS u JOIN bench.objects AS o \
             ON 1=CONTAINS(POINT('ICRS', o.ra, o.dec), CIRCLE('ICRS', u.ra, u.dec, 1.0/3600)) ORDER BY u.id",
            "--form",
            &format!("mine=@{}", file.display()),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    let pairs: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(pairs.len(), 50, "{text}");
    for pair in pairs {
        let (uid, id) = pair.split_once(',').expect("two columns");
        assert_eq!(uid, id, "uploaded row {uid} matched object {id}");
    }
}

fn geometry_works(s: &Server) {
    cone_search(s);
    polygon_contains(s);
    upload_cross_match(s);
}

/// The corrected copy, forced: the cluster runs from `data/pg-install`, the two obsolete
/// operators are not in the database, and geometry works end to end.
#[test]
fn the_corrected_copy_serves_geometry() {
    let Some(s) = start_with(&[("TAPIR_DATABASE_PGSPHERE_FIX", "always")], None) else {
        return;
    };
    let log = s.log();
    assert_eq!(log.matches(COPY_IN_USE).count(), 1, "said once: {log}");
    let copy = std::fs::canonicalize(s.dir.join("data/pg-install")).expect("the copy exists");
    let exe = postmaster_exe(&s);
    assert!(
        exe.starts_with(&copy),
        "the server runs from the copy: {}",
        exe.display()
    );
    assert_eq!(exe.file_name().and_then(|n| n.to_str()), Some("postgres"));
    let obsolete = psql(
        &s,
        "SELECT count(*) FROM pg_operator WHERE oprname = '@' AND oprright = 'smoc'::regtype",
    );
    assert_eq!(
        obsolete, "0",
        "the corrected script leaves out @(bigint, smoc) and @(spoint, smoc)"
    );
    let kept = psql(
        &s,
        "SELECT count(*) FROM pg_operator WHERE oprname = '<@' AND oprright = 'smoc'::regtype",
    );
    assert_ne!(kept, "0", "the smoc containment operators are all there");
    geometry_works(&s);
}

/// The default (`auto`) on this machine: the copy is made exactly when the machine's
/// PostgreSQL refuses the machine's pgSphere with the clash, and said why; the next start of
/// the same cluster runs the machine's own binaries (the extension exists by then) and removes
/// the copy. An operator's database on such a PostgreSQL is never repaired: its start fails
/// with the administrator's instructions.
#[test]
fn auto_repairs_only_what_fails_and_only_once() {
    let Some(s) = start_with(&[], None) else {
        return;
    };
    let log = s.log();
    let repaired = log.contains(COPY_IN_USE);
    let copy = s.dir.join("data/pg-install");
    if repaired {
        assert!(
            log.contains(pginstall::pgsphere::CLASH_MESSAGE),
            "the copy is used only because of the clash: {log}"
        );
        assert!(postmaster_exe(&s).starts_with(std::fs::canonicalize(&copy).expect("copy")));
    } else {
        assert!(!copy.exists(), "no copy where the plain path works");
    }
    eprintln!(
        "this machine's PostgreSQL {} the machine's pgSphere",
        if repaired { "refuses" } else { "accepts" }
    );
    geometry_works(&s);

    let s = restart(s, &[]);
    let log = s.log();
    assert!(!log.contains(COPY_IN_USE), "{log}");
    assert!(!copy.exists(), "the copy of the first start is gone");
    let machine = pginstall::Install::of(&pginstall::find_bindir("").expect("a PostgreSQL server"))
        .expect("the machine's PostgreSQL");
    assert_eq!(postmaster_exe(&s), machine.bin.join("postgres"));
    cone_search(&s);

    // An operator's database on the machine's own binaries: pgSphere is created if it can be;
    // on a PostgreSQL that refuses it, Tapir refuses to start and says what to do.
    psql(&s, "CREATE DATABASE operators");
    let url = embedded_url(&s).replace("dbname=tapir", "dbname=operators");
    if repaired {
        let (status, stderr) = serve_until_exit(&s, &url);
        assert!(
            !status.success(),
            "Tapir must not start without pgSphere: {stderr}"
        );
        for needle in [
            pginstall::pgsphere::CLASH_MESSAGE,
            "pgSphere 1.4 or newer",
            "CREATE OPERATOR @ (LEFTARG = bigint, RIGHTARG = smoc, ...)",
            "CREATE OPERATOR @ (LEFTARG = spoint, RIGHTARG = smoc, ...)",
            "CREATE EXTENSION pg_sphere; in database operators",
            "Troubleshooting",
        ] {
            assert!(stderr.contains(needle), "the error names {needle:?}: {stderr}");
        }
        // The operator's database is left as it was: no half-made extension, no schema.
        let out = Command::new("psql")
            .arg("-XAtq")
            .arg(&url)
            .arg("-c")
            .arg(
                "SELECT (SELECT count(*) FROM pg_extension WHERE extname = 'pg_sphere') || '/' || \
                  (SELECT count(*) FROM pg_namespace WHERE nspname = 'tapir')",
            )
            .output()
            .expect("psql runs");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "0/0",
            "nothing changed"
        );
    } else {
        let operator = start_with(&[], Some(&url)).expect("starts on the operator's database");
        let n = psql(
            &s,
            "SELECT count(*) FROM pg_extension WHERE extname = 'pg_sphere'",
        );
        assert_eq!(n, "1");
        drop(operator);
    }
}

/// A machine whose pgSphere works (a corrected installation stands in for a fixed Debian
/// package): the plain path is taken and no copy is made.
#[test]
fn the_plain_path_when_pgsphere_works() {
    if common::tools_missing().is_some() {
        let _ = start_with(&[], None); // skips (or fails in CI) with the reason
        return;
    }
    let fixed = std::env::temp_dir().join(format!("tapir-pgsphere-fixed-{}", std::process::id()));
    let machine = pginstall::Install::of(&pginstall::find_bindir("").expect("a PostgreSQL server"))
        .expect("the machine's PostgreSQL");
    let install = machine
        .corrected_copy(&fixed)
        .expect("a fixed installation")
        .install;
    // initdb from the machine (it bootstraps with the machine's share, which is the same).
    std::os::unix::fs::symlink(machine.bin.join("initdb"), install.bin.join("initdb")).expect("initdb");
    let bindir = install.bin.to_string_lossy().into_owned();
    let s = start_with(&[("TAPIR_DATABASE_PG_BINDIR", &bindir)], None).expect("starts");
    let log = s.log();
    assert!(!log.contains(COPY_IN_USE), "{log}");
    assert!(!s.dir.join("data/pg-install").exists(), "no private copy is made");
    assert_eq!(postmaster_exe(&s), install.bin.join("postgres"));
    assert!(log.contains("created the pg_sphere extension"), "{log}");
    cone_search(&s);
    drop(s);
    let _ = std::fs::remove_dir_all(&fixed);
}

/// `tapir serve --database-url URL` that is expected to exit: its status and stderr.
fn serve_until_exit(s: &Server, url: &str) -> (std::process::ExitStatus, String) {
    let log = s.dir.join("operator.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(s.dir.join("data2"))
        .arg("--database-url")
        .arg(url)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("tapir runs");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("tapir kept running on a database without pgSphere");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (
        status,
        std::fs::read_to_string(Path::new(&log)).unwrap_or_default(),
    )
}
