//! End to end: VOParquet (issue 13) through the real server, read back by pyarrow and astropy.
//!
//! The same queries are fetched as a BINARY2 VOTable and as VOParquet, and
//! `voparquet_check.py` (the clients' virtualenv: pyarrow, astropy) compares them: footer keys,
//! the footer VOTable's FIELDs against the VOTable's, the Parquet type of each column, every
//! value and null. Also: the media types and aliases, `/capabilities`, MAXREC overflow and a
//! query failing after rows were sent (both recorded in the footer), async results with byte
//! ranges. Without PostgreSQL and curl the test is skipped with a note (fails in CI); without a
//! Python with pyarrow the read-backs are skipped with a note (fails in CI).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{curl, get, job_ended, post, start, sync, Reply, Server};

const PARQUET: &str = "application/vnd.apache.parquet";

/// A Python that can import pyarrow and astropy, or `None` (after a note) outside CI.
fn python() -> Option<PathBuf> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = std::env::var_os("TAPIR_CLIENT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join(".venv-clients"));
    for python in [venv.join("bin/python"), PathBuf::from("python3")] {
        let ok = Command::new(&python)
            .args(["-c", "import pyarrow, astropy"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(python);
        }
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but no Python with pyarrow and astropy was found (scripts/client-venv)"
    );
    eprintln!("note: no Python with pyarrow and astropy; skipping the read-backs");
    None
}

fn assert_parquet(r: &Reply) {
    assert_eq!(r.status, 200, "{}{}", r.headers, r.text());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some(PARQUET),
        "{}",
        r.headers
    );
    assert_eq!(r.header("content-encoding"), None, "{}", r.headers);
    assert!(r.body.len() > 12, "{} bytes", r.body.len());
    assert_eq!(&r.body[..4], b"PAR1");
    assert_eq!(&r.body[r.body.len() - 4..], b"PAR1", "a complete Parquet file");
}

/// Writes both results and runs the comparison; returns its report (it passed).
fn compare(s: &Server, python: &Path, name: &str, vot: &Reply, parquet: &Reply, status: &str) -> String {
    assert_eq!(vot.status, 200, "{}", vot.text());
    let vot_path = s.dir.join(format!("{name}.vot"));
    let pq_path = s.dir.join(format!("{name}.parquet"));
    std::fs::write(&vot_path, &vot.body).expect("write the VOTable");
    std::fs::write(&pq_path, &parquet.body).expect("write the Parquet file");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/voparquet_check.py");
    let out = Command::new(python)
        .arg(&script)
        .arg(&vot_path)
        .arg(&pq_path)
        .arg(status)
        .output()
        .expect("python runs");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("--- {name}\n{report}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "{name}: VOParquet and VOTable differ:\n{report}"
    );
    report
}

#[test]
fn voparquet() {
    let Some(s) = start() else { return };
    let python = python();

    // ----- the names: every alias and the media type, one Content-Type.
    let q = "SELECT TOP 3 source_id, ra FROM gaiadr1.gaia_source ORDER BY source_id";
    for name in ["parquet", "PARQUET", "vnd.apache.parquet", "voparquet", PARQUET] {
        let r = sync(&s, q, &[("RESPONSEFORMAT", name)]);
        assert_parquet(&r);
    }
    // Parquet is compressed already: a client that accepts gzip and zstd (requests, browsers)
    // gets the file as written, not compressed twice (issue 13).
    let r = curl(
        &s,
        &[
            "-H",
            "Accept-Encoding: gzip, deflate, zstd",
            &format!("{}/sync", s.base),
            "-d",
            "LANG=ADQL",
            "-d",
            "RESPONSEFORMAT=parquet",
            "--data-urlencode",
            "QUERY=SELECT TOP 5000 * FROM bench.objects",
        ],
    );
    assert_parquet(&r);
    assert!(
        r.body.len() > 100_000,
        "large enough to be compressed: {} bytes",
        r.body.len()
    );
    // CADC's and Rubin's spelling only; not a silent fallback for others.
    let r = sync(&s, q, &[("RESPONSEFORMAT", "application/x-parquet")]);
    assert_eq!(r.status, 400, "{}", r.text());

    // ----- advertised in the capabilities, from the same format table.
    let caps: String = get(&s, "/capabilities").text().split_whitespace().collect();
    assert!(
        caps.contains(&format!(
            "<outputFormat><mime>{PARQUET}</mime><alias>parquet</alias><alias>vnd.apache.parquet</alias><alias>voparquet</alias></outputFormat>"
        )),
        "{caps}"
    );

    // ----- every kind of column the catalogue has, with nulls: integers of three widths,
    // floats and doubles, text, a timestamp, points, circles and polygons (DALI arrays),
    // ObsCore's s_region (declared char).
    let types = "SELECT TOP 20 source_id, ra, dec, ra_dec_corr, astrometric_n_obs_al, \
                 CAST(astrometric_n_obs_al AS SMALLINT) AS n16, phot_variable_flag, \
                 POINT(ra, dec) AS pos, CIRCLE(ra, dec, 0.5) AS circ, \
                 POLYGON(ra, dec, ra + 1, dec, ra, dec + 1) AS poly \
                 FROM gaiadr1.gaia_source ORDER BY source_id";
    let obscore = "SELECT TOP 10 obs_id, obs_release_date, s_region, calib_level, access_estsize, \
                   t_min, em_min FROM ivoa.ObsCore ORDER BY obs_id";
    let bench = "SELECT TOP 1000 * FROM bench.objects ORDER BY id";
    // No rows: astropy's reader needs the width keys here (without them it fails on `max()`
    // of nothing).
    let empty = "SELECT * FROM bench.objects WHERE id < 0";
    // Text with nulls: no width key (astropy would read a null as the text `None`).
    let text_nulls = "SELECT TOP 20 source_id, \
                      CASE WHEN MOD(source_id, 2) = 0 THEN phot_variable_flag END AS maybe \
                      FROM gaiadr1.gaia_source ORDER BY source_id";
    for (name, query) in [
        ("types", types),
        ("obscore", obscore),
        ("bench", bench),
        ("empty", empty),
        ("text_nulls", text_nulls),
    ] {
        let pq = sync(&s, query, &[("FORMAT", "parquet")]);
        assert_parquet(&pq);
        let vot = sync(&s, query, &[("FORMAT", "votable")]);
        if let Some(python) = &python {
            let report = compare(&s, python, name, &vot, &pq, "OK");
            assert!(report.contains("footer keys: IVOA.VOTable-Parquet.content IVOA.VOTable-Parquet.version"));
            if name == "types" {
                for line in [
                    "column source_id: long -> int64",
                    "column ra_dec_corr: float -> float",
                    "column astrometric_n_obs_al: int -> int32",
                    "column n16: short -> int16",
                    "column phot_variable_flag: char[*] -> string",
                    "column pos: double[2] -> list<element: double not null>",
                    "column circ: double[3] -> list<element: double not null>",
                    "column poly: double[*] -> list<element: double not null>",
                ] {
                    assert!(report.contains(line), "{line}\n{report}");
                }
            }
            if name == "text_nulls" {
                assert!(report.contains("width key maybe: absent (has nulls)"), "{report}");
                assert!(!report.contains("nulls: 0\n"), "{report}");
            }
            if name == "empty" {
                assert!(report.contains("width key name: 1\n"), "{report}");
                assert!(report.contains("astropy parquet.votable: 0 rows"), "{report}");
            }
            if name == "obscore" {
                assert!(
                    report.contains("column obs_release_date: char[*] -> string"),
                    "{report}"
                );
                assert!(report.contains("column s_region: char[*] -> string"), "{report}");
            }
            if name == "bench" {
                // parallax is null for about 5% of the rows.
                assert!(!report.contains("nulls: 0\n"), "{report}");
                assert!(report.contains("astropy parquet.votable: 1000 rows"), "{report}");
                // astropy's width key (`BENCH-0000042`), so its reader needs no loop over the
                // values, and the fixed-width text it then makes.
                assert!(report.contains("width key name: 13\n"), "{report}");
                assert!(
                    report.contains("astropy column name: dtype <U13 unit - ucd meta.id description yes"),
                    "{report}"
                );
                assert!(
                    report.contains(
                        "astropy column ra: dtype float64 unit deg ucd pos.eq.ra;meta.main description yes"
                    ),
                    "{report}"
                );
            }
        }
    }

    // ----- a result of several row groups, the later ones encoded on the writer's own thread
    // (issue 13's writing speed): 40,000 rows of bench.objects' columns (the demo copy has
    // 10,000 rows, so each comes four times), nulls in parallax; every value as in the VOTable.
    let groups = "SELECT TOP 40000 o.*, k.id AS copy FROM bench.objects AS o, bench.objects AS k \
                  WHERE k.id <= 4 ORDER BY o.id, k.id";
    let pq = sync(&s, groups, &[("FORMAT", "parquet"), ("MAXREC", "40000")]);
    assert_parquet(&pq);
    if let Some(python) = &python {
        let vot = sync(&s, groups, &[("FORMAT", "votable"), ("MAXREC", "40000")]);
        let report = compare(&s, python, "groups", &vot, &pq, "OK");
        let line = report
            .lines()
            .find(|l| l.starts_with("rows: parquet 40000, votable 40000; row groups "))
            .unwrap_or_else(|| panic!("{report}"));
        let count: usize = line.rsplit(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0);
        assert!(count >= 2, "{line}");
        assert!(report.contains("astropy parquet.votable: 40000 rows"), "{report}");
    }

    // ----- MAXREC cut rows off: the footer says OVERFLOW after the table.
    let over = sync(&s, types, &[("FORMAT", "parquet"), ("MAXREC", "3")]);
    assert_parquet(&over);
    if let Some(python) = &python {
        let vot = sync(&s, types, &[("FORMAT", "votable"), ("MAXREC", "3")]);
        let report = compare(&s, python, "overflow", &vot, &over, "OVERFLOW");
        assert!(report.contains("rows: parquet 3, votable 3"), "{report}");
    }

    // ----- a query that fails after rows were sent: a readable file with the rows before
    // the failure, whose footer says ERROR with the database's message.
    let ids = sync(
        &s,
        "SELECT TOP 3 source_id FROM gaiadr1.gaia_source ORDER BY source_id",
        &[("FORMAT", "csv")],
    )
    .text();
    let third = ids.lines().nth(3).expect("three ids").trim();
    let late = format!(
        "SELECT TOP 100 source_id, 1 / (source_id - {third}) AS x FROM gaiadr1.gaia_source ORDER BY source_id"
    );
    let failed = sync(&s, &late, &[("FORMAT", "parquet")]);
    assert_parquet(&failed);
    if let Some(python) = &python {
        let vot = sync(&s, &late, &[("FORMAT", "votable")]);
        let report = compare(&s, python, "error", &vot, &failed, "ERROR");
        assert!(report.contains("rows: parquet 2, votable 2"), "{report}");
        assert!(
            report.contains("footer error message: the database rejected the query: division by zero"),
            "{report}"
        );
    }

    // ----- async: the stored result is the same Parquet file, served with byte ranges.
    let r = post(
        &s,
        "/async",
        &[
            ("PHASE", "RUN"),
            ("FORMAT", "parquet"),
            ("LANG", "ADQL"),
            ("QUERY", bench),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let job = r.header("location").expect("a job URL");
    let path = job.trim_start_matches(&s.base).to_owned();
    let phase = job_ended(&s, &path);
    assert!(phase.contains("COMPLETED"), "{phase}");
    let whole = get(&s, &format!("{path}/results/result"));
    assert_parquet(&whole);
    assert_eq!(whole.header("accept-ranges").as_deref(), Some("bytes"));
    let sync_body = sync(&s, bench, &[("FORMAT", "parquet")]).body;
    assert_eq!(
        whole.body.len(),
        sync_body.len(),
        "the async file has the sync file's size"
    );
    let url = format!("{}{path}/results/result", s.base);
    let len = whole.body.len();
    // The footer first, as Parquet readers fetch it: its length, then the metadata itself.
    let tail = curl(&s, &["-H", "Range: bytes=-8", &url]);
    assert_eq!(tail.status, 206);
    assert_eq!(
        tail.header("content-range"),
        Some(format!("bytes {}-{}/{len}", len - 8, len - 1))
    );
    assert_eq!(&tail.body[4..], b"PAR1");
    let footer_len = u32::from_le_bytes([tail.body[0], tail.body[1], tail.body[2], tail.body[3]]) as usize;
    let footer = curl(
        &s,
        &[
            "-H",
            &format!("Range: bytes={}-{}", len - 8 - footer_len, len - 9),
            &url,
        ],
    );
    assert_eq!(footer.status, 206);
    assert_eq!(footer.body.len(), footer_len);
    let footer_text = String::from_utf8_lossy(&footer.body);
    assert!(
        footer_text.contains("IVOA.VOTable-Parquet.content"),
        "the footer holds the VOTable"
    );
    // Pieces put together are the whole file.
    let head = curl(&s, &["-H", "Range: bytes=0-999", &url]);
    let rest = curl(&s, &["-H", "Range: bytes=1000-", &url]);
    assert_eq!((head.status, rest.status), (206, 206));
    assert_eq!([head.body, rest.body].concat(), whole.body);
    if let Some(python) = &python {
        let vot = sync(&s, bench, &[("FORMAT", "votable")]);
        compare(&s, python, "async", &vot, &whole, "OK");
    }
}
