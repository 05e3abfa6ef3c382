//! End to end: `tapir serve` on the embedded default (a private PostgreSQL + pgSphere with the
//! demo catalogue), spoken to over real HTTP with curl. One server for the whole file, because
//! starting the cluster dominates the run time; each check says which standard item it covers.
//!
//! Needs PostgreSQL, pgSphere and curl; without them the test is skipped with a note, unless
//! `CI` is set, in which case it fails.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{curl, get, start, sync, td_rows, votlint};

#[test]
fn tap_service_end_to_end() {
    let Some(s) = start() else { return };

    // EP-01, VOSI: capabilities, availability, tables, examples; a Server header; CORS.
    let caps = get(&s, "/capabilities");
    assert_eq!(caps.status, 200);
    assert!(caps.text().contains("TableAccess"), "{}", caps.text());
    assert!(
        caps.text().contains(&format!("{}</accessURL>", s.base)),
        "{}",
        caps.text()
    );
    assert!(
        caps.header("server").is_some_and(|v| v.starts_with("Tapir/")),
        "{}",
        caps.headers
    );
    let avail = get(&s, "/availability");
    assert!(
        avail.text().contains("<vosi:available>true</vosi:available>"),
        "{}",
        avail.text()
    );
    let tables = get(&s, "/tables");
    assert!(
        tables.text().contains("<name>gaiadr1.gaia_source</name>"),
        "{}",
        tables.text()
    );
    assert!(tables.text().contains("esatapplus:flags"));
    let min = get(&s, "/tables?detail=min");
    assert!(!min.text().contains("<column"), "detail=min lists no columns");
    let one = get(&s, "/tables/gaiadr1.gaia_source");
    assert_eq!(one.status, 200);
    assert!(one.text().contains("<name>source_id</name>"), "{}", one.text());
    assert_eq!(get(&s, "/tables/no.such").status, 404);
    assert_eq!(get(&s, "/examples").status, 200);
    assert!(get(&s, "").text().contains("<html"), "landing page");
    let cors = curl(
        &s,
        &[
            "-H",
            "Origin: http://example.org",
            &format!("{}/capabilities", s.base),
        ],
    );
    assert_eq!(
        cors.header("access-control-allow-origin").as_deref(),
        Some("*"),
        "{}",
        cors.headers
    );

    // Paths with doubled and trailing slashes (pyvo, TapPlus).
    assert_eq!(curl(&s, &[&format!("{}//capabilities", s.base)]).status, 200);
    assert_eq!(curl(&s, &[&format!("{}/capabilities/", s.base)]).status, 200);

    // QGE/QPO: a query by GET and by POST, TABLEDATA, with metadata from TAP_SCHEMA.
    let q = "SELECT TOP 3 source_id, ra, dec FROM gaiadr1.gaia_source ORDER BY source_id";
    let by_get = curl(
        &s,
        &[
            "-G",
            &format!("{}/sync", s.base),
            "--data-urlencode",
            "LANG=ADQL",
            "--data-urlencode",
            &format!("QUERY={q}"),
            "--data-urlencode",
            "FORMAT=votable/td",
        ],
    );
    assert_eq!(by_get.status, 200, "{}", by_get.text());
    let by_post = sync(&s, q, &[("RESPONSEFORMAT", "votable/td"), ("REQUEST", "doQuery")]);
    assert_eq!(by_post.status, 200);
    let text = by_post.text();
    assert_eq!(td_rows(&text).len(), 3, "{text}");
    assert_eq!(td_rows(&by_get.text()), td_rows(&text));
    assert!(
        text.contains("<INFO name=\"QUERY_STATUS\" value=\"OK\""),
        "{text}"
    );
    assert!(
        text.contains("name=\"ra\"") && text.contains("unit=\"deg\""),
        "{text}"
    );
    if let Some(lint) = votlint(&s, &by_post.body) {
        assert!(!lint.contains("ERROR"), "votlint: {lint}");
    }

    // Every format, with its content type.
    for (fmt, ctype) in [
        ("votable", "application/x-votable+xml"),
        ("votable/b2", "application/x-votable+xml"),
        ("votable/binary", "application/x-votable+xml"),
        ("text/xml", "text/xml"),
        ("csv", "text/csv"),
        ("tsv", "text/tab-separated-values"),
        ("text", "text/plain"),
        ("json", "application/json"),
        ("ecsv", "text/x-ecsv"),
        ("html", "text/html"),
        ("fits", "application/fits"),
    ] {
        let r = sync(&s, q, &[("FORMAT", fmt)]);
        assert_eq!(r.status, 200, "{fmt}: {}", r.text());
        let ct = r.header("content-type").unwrap_or_default();
        assert!(ct.starts_with(ctype), "{fmt}: content type {ct}");
        assert!(!r.body.is_empty(), "{fmt}");
        if fmt.starts_with("votable") {
            if let Some(lint) = votlint(&s, &r.body) {
                assert!(!lint.contains("ERROR"), "{fmt} votlint: {lint}");
            }
        }
        if fmt == "fits" {
            assert!(r.body.starts_with(b"SIMPLE  ="), "FITS header");
            assert_eq!(r.body.len() % 2880, 0, "FITS blocks");
        }
    }
    let csv = sync(&s, q, &[("FORMAT", "csv")]).text();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "source_id,ra,dec", "{csv}");
    assert_eq!(lines.len(), 4, "{csv}");
    let json = sync(&s, q, &[("FORMAT", "json")]).text();
    assert!(
        json.starts_with("{\"metadata\":[") && json.contains("\"data\":["),
        "{json}"
    );
    assert_eq!(sync(&s, q, &[("FORMAT", "nonsense")]).status, 400);

    // MAXREC (MX items): overflow only when rows were cut; 0 gives metadata only.
    let all = "SELECT source_id FROM gaiadr1.gaia_source";
    let cut = sync(&s, all, &[("MAXREC", "2"), ("FORMAT", "votable/td")]).text();
    assert_eq!(td_rows(&cut).len(), 2);
    assert!(cut.contains("value=\"OVERFLOW\""), "{cut}");
    let top = sync(
        &s,
        "SELECT TOP 2 source_id FROM gaiadr1.gaia_source",
        &[("MAXREC", "5"), ("FORMAT", "votable/td")],
    )
    .text();
    assert_eq!(td_rows(&top).len(), 2);
    assert!(
        !top.contains("OVERFLOW"),
        "TOP below MAXREC is not an overflow: {top}"
    );
    let zero = sync(&s, all, &[("MAXREC", "0"), ("FORMAT", "votable/td")]).text();
    assert_eq!(td_rows(&zero).len(), 0);
    assert!(
        zero.contains("<FIELD") && zero.contains("name=\"source_id\""),
        "{zero}"
    );

    // Errors: 400 with the DALI error document, exactly as TapPlus parses it.
    for (query, lang, needle) in [
        ("SELECT nosuch FROM gaiadr1.gaia_source", "ADQL", "nosuch"),
        ("DUFF QUERY", "ADQL", "syntax"),
        ("SELECT TOP 1 ra FROM gaiadr1.gaia_source", "OOBLECK", "OOBLECK"),
        (
            "SELECT TOP 1 ra / 0 FROM gaiadr1.gaia_source",
            "ADQL",
            "division by zero",
        ),
    ] {
        let r = curl(
            &s,
            &[
                &format!("{}/sync", s.base),
                "--data-urlencode",
                &format!("LANG={lang}"),
                "--data-urlencode",
                &format!("QUERY={query}"),
            ],
        );
        assert_eq!(r.status, 400, "{query}: {}", r.text());
        let t = r.text();
        assert!(t.contains("<INFO name=\"QUERY_STATUS\" value=\"ERROR\">"), "{t}");
        assert!(t.contains(needle), "{query}: {t}");
    }
    assert_eq!(
        curl(&s, &[&format!("{}/sync", s.base), "-d", "LANG=ADQL"]).status,
        400,
        "QUERY missing"
    );

    // Parameters: names in any case, unknown ones ignored, TapPlus's FORMAT twice, PHASE=RUN.
    let tolerant = curl(
        &s,
        &[
            &format!("{}/sync", s.base),
            "-d",
            "request=doQuery&lang=ADQL&FORMAT=csv&format=csv&tapclient=x&PHASE=RUN&query=SELECT+TOP+1+source_id+FROM+gaiadr1.gaia_source",
        ],
    );
    assert_eq!(tolerant.status, 200, "{}", tolerant.text());
    assert!(tolerant.text().starts_with("source_id"), "{}", tolerant.text());

    // Multipart with TapPlus's unquoted `===...===` boundary.
    let body = "--===1795===\r\nContent-Disposition: form-data; name=\"LANG\"\r\n\r\nADQL\r\n\
                --===1795===\r\nContent-Disposition: form-data; name=\"FORMAT\"\r\n\r\ncsv\r\n\
                --===1795===\r\nContent-Disposition: form-data; name=\"QUERY\"\r\n\r\nSELECT TOP 2 source_id FROM gaiadr1.gaia_source\r\n\
                --===1795===--\r\n";
    let mp = curl(
        &s,
        &[
            &format!("{}/sync", s.base),
            "-H",
            "Content-Type: multipart/form-data; boundary====1795===",
            "--data-binary",
            body,
        ],
    );
    assert_eq!(mp.status, 200, "{}", mp.text());
    assert_eq!(mp.text().lines().count(), 3, "{}", mp.text());

    // Geometry comes out as DALI arrays with xtypes; TAP_SCHEMA is queryable (AQ-18).
    let geo = sync(
        &s,
        "SELECT TOP 1 POINT('ICRS', ra, dec) AS p, CIRCLE('ICRS', ra, dec, 1) AS c FROM gaiadr1.gaia_source",
        &[("FORMAT", "votable/td")],
    )
    .text();
    assert!(
        geo.contains("xtype=\"point\"") && geo.contains("xtype=\"circle\""),
        "{geo}"
    );
    let cells = &td_rows(&geo)[0];
    assert_eq!(cells[0].split_whitespace().count(), 2, "{geo}");
    assert_eq!(cells[1].split_whitespace().count(), 3, "{geo}");
    let ts = sync(
        &s,
        "SELECT COUNT(*) AS n FROM TAP_SCHEMA.tables",
        &[("FORMAT", "csv")],
    )
    .text();
    let n: u64 = ts.lines().nth(1).and_then(|l| l.trim().parse().ok()).unwrap_or(0);
    assert!(n >= 5, "{ts}");

    // gzip when asked.
    let gz = curl(
        &s,
        &["-H", "Accept-Encoding: gzip", &format!("{}/tables", s.base)],
    );
    assert_eq!(
        gz.header("content-encoding").as_deref(),
        Some("gzip"),
        "{}",
        gz.headers
    );

    // An error after rows were sent (division by zero at id 60): the VOTable ends with an ERROR
    // INFO after the table, in one document; CSV, which cannot say so, is cut off as an error.
    let late = "SELECT TOP 100 id, 1 / (id - 60) AS x FROM bench.objects ORDER BY id";
    let td = sync(&s, late, &[("FORMAT", "votable/td")]);
    assert_eq!(td.status, 200, "{}", td.text());
    let t = td.text();
    assert_eq!(td_rows(&t).len(), 59, "{t}");
    assert!(t.contains("</TABLE>") && t.contains("value=\"ERROR\""), "{t}");
    assert!(
        t.trim_end().ends_with("</VOTABLE>") && t.matches("<VOTABLE").count() == 1,
        "{t}"
    );
    let csv_cut = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            &format!("{}/sync", s.base),
            "-d",
            "FORMAT=csv",
            "--data-urlencode",
        ])
        .arg(format!("QUERY={late}"))
        .status()
        .expect("curl");
    assert!(
        !csv_cut.success(),
        "a CSV result that broke must not look complete"
    );

    // A streamed result compressed (zstd when curl has it, else gzip): the layer polls the body
    // after its end.
    let gzq = curl(
        &s,
        &[
            "--compressed",
            &format!("{}/sync", s.base),
            "--data-urlencode",
            "QUERY=SELECT TOP 500 source_id FROM gaiadr1.gaia_source",
            "-d",
            "FORMAT=csv",
        ],
    );
    assert_eq!(gzq.status, 200);
    assert!(
        matches!(gzq.header("content-encoding").as_deref(), Some("gzip" | "zstd")),
        "{}",
        gzq.headers
    );
    assert_eq!(gzq.text().lines().count(), 501, "header and 500 rows");

    // A client that goes away mid-result: its backend query is cancelled, not left running.
    let big = "SELECT a.id, b.id AS id2 FROM bench.objects AS a, bench.objects AS b";
    let _ = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "--limit-rate", "20k", "--max-time", "2"])
        .arg(format!("{}/sync", s.base))
        .args(["-d", "MAXREC=10000000", "-d", "FORMAT=csv", "--data-urlencode"])
        .arg(format!("QUERY={big}"))
        .status();
    let socket = s.dir.join("data").join("run");
    let active = || {
        let out = Command::new("psql")
            .arg("-XAtq")
            .arg(format!("host={} port=5432 user=postgres dbname=tapir", socket.display()))
            .arg("-c")
            .arg("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%tapir_result%' AND pid <> pg_backend_pid()")
            .output()
            .expect("psql runs");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert!(
        socket.join(".s.PGSQL.5432").exists(),
        "embedded socket in {}",
        socket.display()
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while active() != "0" && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(active(), "0", "the abandoned query still runs");

    // /metrics counts what happened.
    let m = curl(&s, &[&format!("{}/metrics", s.base.trim_end_matches("/tap"))]).text();
    assert!(m.contains("tapir_queries_total{outcome=\"ok\"}"), "{m}");
}
