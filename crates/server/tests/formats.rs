//! End to end: the formats ESA's clients ask for, through the real server. `votable_gzip`
//! (astroquery.gaia's default): a gzip file of the BINARY2 VOTable with `Content-Encoding:
//! gzip`, never compressed twice, sync and async (stored compressed, served with byte ranges,
//! readable as `JOB_UPLOAD`); `ecsv` (TapPlus `output_format="ecsv"`), sync and async, with
//! its failure mode for errors after the first row.
//!
//! Needs PostgreSQL, pgSphere and curl; without them the test is skipped with a note, unless
//! `CI` is set, in which case it fails.

mod common;

use std::io::Read;
use std::process::Command;

use common::{curl, get, job_ended, post, start, sync, Reply, Server};

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut plain)
        .unwrap_or_else(|e| {
            panic!(
                "not a complete gzip stream ({e}): {:?}",
                &bytes[..bytes.len().min(20)]
            )
        });
    plain
}

fn assert_gzip_reply(r: &Reply, content_type: &str) {
    assert_eq!(r.status, 200, "{}{}", r.headers, r.text());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some(content_type),
        "{}",
        r.headers
    );
    assert_eq!(
        r.header("content-encoding").as_deref(),
        Some("gzip"),
        "{}",
        r.headers
    );
    assert_eq!(&r.body[..3], &[0x1f, 0x8b, 8], "a gzip file");
}

/// Creates a job with `PHASE=RUN`, waits for its end and returns its id and final phase.
fn run_job(s: &Server, format: &str, query: &str) -> (String, String) {
    let r = post(
        s,
        "/async",
        &[
            ("PHASE", "RUN"),
            ("FORMAT", format),
            ("LANG", "ADQL"),
            ("QUERY", query),
        ],
    );
    assert_eq!(r.status, 303, "{}{}", r.headers, r.text());
    let location = r.header("location").unwrap_or_default();
    let id = location.rsplit('/').next().unwrap_or_default().to_string();
    let doc = job_ended(s, &format!("/async/{id}"));
    let phase = doc
        .split("<uws:phase>")
        .nth(1)
        .and_then(|p| p.split('<').next())
        .unwrap_or_default()
        .to_string();
    (id, phase)
}

/// The lines of a body after the line `header` (CRLF or LF ends).
fn lines_after(text: &str, header: &str) -> Vec<String> {
    let lines: Vec<String> = text
        .lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect();
    let at = lines
        .iter()
        .position(|l| l == header)
        .unwrap_or_else(|| panic!("no line {header:?} in:\n{text}"));
    lines[at + 1..].to_vec()
}

/// The CSV rows of simple values (no quoting) as the ECSV rows with mask columns after the
/// text columns at `masked` (0-based): null is an empty field plus `True`.
fn with_masks(csv_rows: &[String], masked: &[usize]) -> Vec<String> {
    csv_rows
        .iter()
        .map(|row| {
            let fields: Vec<String> = row
                .split(',')
                .enumerate()
                .map(|(i, v)| match (masked.contains(&i), v.is_empty()) {
                    (false, _) => v.to_string(),
                    (true, true) => ",True".to_string(),
                    (true, false) => format!("{v},False"),
                })
                .collect();
            fields.join(",")
        })
        .collect()
}

#[test]
fn ecsv_and_votable_gzip() {
    let Some(s) = start() else { return };
    let q = "SELECT TOP 3 source_id, ra, dec FROM gaiadr1.gaia_source ORDER BY source_id";
    let plain = sync(&s, q, &[("FORMAT", "votable")]);
    assert_eq!(plain.status, 200);
    assert!(plain.text().contains("<BINARY2>"), "{}", plain.text());

    // ----- votable_gzip, sync: the plain document, gzip-compressed once.
    let gz = sync(&s, q, &[("FORMAT", "votable_gzip")]);
    assert_gzip_reply(&gz, "application/x-votable+xml");
    assert_eq!(gunzip(&gz.body), plain.body);
    // A client that accepts gzip gets the same single compression, not a second layer.
    let accepting = curl(
        &s,
        &[
            "-H",
            "Accept-Encoding: gzip",
            &format!("{}/sync", s.base),
            "--data-urlencode",
            &format!("QUERY={q}"),
            "-d",
            "FORMAT=votable_gzip",
        ],
    );
    assert_gzip_reply(&accepting, "application/x-votable+xml");
    assert_eq!(gunzip(&accepting.body), plain.body);
    // The media type named (FM-03): echoed, same body.
    let named = sync(&s, q, &[("RESPONSEFORMAT", "application/x-votable+gzip")]);
    assert_gzip_reply(&named, "application/x-votable+gzip");
    assert_eq!(gunzip(&named.body), plain.body);
    let caps: String = get(&s, "/capabilities").text().lines().map(str::trim).collect();
    assert!(
        caps.contains(
            "<outputFormat><mime>application/x-votable+gzip</mime><alias>votable_gzip</alias></outputFormat>"
        ),
        "{caps}"
    );
    assert!(
        caps.contains("<outputFormat><mime>text/x-ecsv</mime><alias>ecsv</alias></outputFormat>"),
        "{caps}"
    );

    // ----- ecsv, sync: header, then the same values as CSV.
    let ecsv = sync(&s, q, &[("FORMAT", "ecsv")]);
    assert_eq!(ecsv.status, 200, "{}", ecsv.text());
    assert_eq!(ecsv.header("content-type").as_deref(), Some("text/x-ecsv"));
    assert_eq!(ecsv.header("content-encoding"), None);
    let text = ecsv.text();
    assert!(text.starts_with("# %ECSV 1.0\n# ---\n# datatype:\n"), "{text}");
    assert!(
        text.contains("\n# - {name: \"source_id\", datatype: int64, description: \"Unique source identifier\", meta: {ucd: \"meta.id;meta.main\"}}\n"),
        "{text}"
    );
    assert!(
        text.contains("\n# - {name: \"ra\", unit: \"deg\", datatype: float64, "),
        "{text}"
    );
    assert!(text.contains("\n# delimiter: ','\n"), "{text}");
    assert!(
        text.contains("\n# meta:\n#   \"QUERY\": \"SELECT TOP 3 source_id, ra, dec FROM gaiadr1.gaia_source ORDER BY source_id\"\n"),
        "{text}"
    );
    assert!(text.contains("\n# schema: astropy-2.0\n"), "{text}");
    let csv = sync(&s, q, &[("FORMAT", "csv")]).text();
    let csv_rows = lines_after(&csv, "source_id,ra,dec");
    assert_eq!(csv_rows.len(), 3, "{csv}");
    assert_eq!(lines_after(&text, "source_id,ra,dec"), csv_rows);

    // Text, timestamps and nulls: each text column is followed by its mask column.
    let obs = "SELECT TOP 4 obs_id, dataproduct_subtype, obs_release_date, s_ra FROM ivoa.ObsCore ORDER BY obs_publisher_did";
    let obs_csv = lines_after(
        &sync(&s, obs, &[("FORMAT", "csv")]).text(),
        "obs_id,dataproduct_subtype,obs_release_date,s_ra",
    );
    assert!(
        obs_csv.iter().all(|r| r.contains(",,")),
        "dataproduct_subtype is null: {obs_csv:?}"
    );
    let obs_ecsv = sync(&s, obs, &[("FORMAT", "ecsv")]).text();
    let names = "obs_id,obs_id.mask,dataproduct_subtype,dataproduct_subtype.mask,obs_release_date,obs_release_date.mask,s_ra";
    assert_eq!(lines_after(&obs_ecsv, names), with_masks(&obs_csv, &[0, 1, 2]));
    assert!(
        obs_ecsv.contains("\n# - {name: \"obs_release_date\", datatype: string, description: \"Observation release date\", meta: {ucd: \"time.release\", utype: \"obscore:Curation.releaseDate\", xtype: \"timestamp\"}}\n"),
        "{obs_ecsv}"
    );
    // Geometry: a JSON list with its subtype (CSV has the same numbers, space-separated).
    let pq = "SELECT TOP 2 POINT('ICRS', ra, dec) AS p FROM gaiadr1.gaia_source ORDER BY source_id";
    let points = sync(&s, pq, &[("FORMAT", "ecsv")]).text();
    assert!(
        points.contains("datatype: string, subtype: 'float64[2]'"),
        "{points}"
    );
    let csv_points: Vec<String> = lines_after(&sync(&s, pq, &[("FORMAT", "csv")]).text(), "p")
        .iter()
        .map(|p| format!("\"[{}]\"", p.replace(' ', ",")))
        .collect();
    assert_eq!(lines_after(&points, "p"), csv_points);

    // ----- async votable_gzip: stored compressed, served as it is.
    let (id, phase) = run_job(&s, "votable_gzip", q);
    assert_eq!(phase, "COMPLETED");
    let doc = get(&s, &format!("/async/{id}")).text();
    assert!(doc.contains("mime-type=\"application/x-votable+xml\""), "{doc}");
    let stored = s.dir.join("data/results").join(format!("{id}.gz"));
    assert!(stored.is_file(), "{} is missing", stored.display());
    let result = get(&s, &format!("/async/{id}/results/result"));
    assert_gzip_reply(&result, "application/x-votable+xml");
    assert_eq!(
        result.header("content-length"),
        Some(result.body.len().to_string())
    );
    assert_eq!(gunzip(&result.body), plain.body);
    let accepting = curl(
        &s,
        &[
            "-H",
            "Accept-Encoding: gzip",
            &format!("{}/async/{id}/results/result", s.base),
        ],
    );
    assert_eq!(accepting.body, result.body, "not compressed a second time");
    let part = curl(
        &s,
        &[
            "-H",
            "Range: bytes=0-9",
            &format!("{}/async/{id}/results/result", s.base),
        ],
    );
    assert_eq!(part.status, 206, "{}", part.headers);
    assert_eq!(part.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(part.body, result.body[..10]);
    // The compressed result is read back as a table (ESA's JOB_UPLOAD, pyvo's job uploads).
    let count = sync(
        &s,
        &format!("SELECT COUNT(*) AS n, MIN(source_id) AS lowest FROM JOB_UPLOAD.JOB{id}"),
        &[("FORMAT", "csv")],
    );
    let first = csv_rows[0].split(',').next().unwrap_or_default();
    assert_eq!(
        count.text(),
        format!("n,lowest\r\n3,{first}\r\n"),
        "{}",
        count.text()
    );
    let deleted = curl(&s, &["-X", "DELETE", &format!("{}/async/{id}", s.base)]);
    assert_eq!(deleted.status, 303, "{}", deleted.text());
    assert!(!stored.exists(), "the compressed result is removed with its job");

    // ----- async ecsv: the same document as sync.
    let (id, phase) = run_job(&s, "ecsv", q);
    assert_eq!(phase, "COMPLETED");
    let result = get(&s, &format!("/async/{id}/results/result"));
    assert_eq!(result.status, 200);
    assert_eq!(result.header("content-type").as_deref(), Some("text/x-ecsv"));
    assert_eq!(result.header("content-encoding"), None);
    assert_eq!(result.text(), text);

    // ----- an error after the first row: ECSV cannot say so, so the transfer fails (sync) and
    // the job ends in ERROR with the database's message (async); votable_gzip records it.
    let third = csv_rows[2].split(',').next().unwrap_or_default();
    let late = format!(
        "SELECT TOP 100 source_id, 1 / (source_id - {third}) AS x FROM gaiadr1.gaia_source ORDER BY source_id"
    );
    let transfer = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", &format!("{}/sync", s.base)])
        .args(["--data-urlencode", &format!("QUERY={late}"), "-d", "FORMAT=ecsv"])
        .output()
        .expect("curl runs");
    assert!(
        !transfer.status.success(),
        "the ECSV transfer must fail: {}",
        String::from_utf8_lossy(&transfer.stderr)
    );
    let (id, phase) = run_job(&s, "ecsv", &late);
    assert_eq!(phase, "ERROR");
    let error = get(&s, &format!("/async/{id}/error")).text();
    assert!(error.contains("division by zero"), "{error}");
    let recorded = sync(&s, &late, &[("FORMAT", "votable_gzip")]);
    assert_gzip_reply(&recorded, "application/x-votable+xml");
    let doc = String::from_utf8(gunzip(&recorded.body)).expect("UTF-8");
    assert!(
        doc.contains("<INFO name=\"QUERY_STATUS\" value=\"ERROR\">the database rejected the query: division by zero</INFO>"),
        "{doc}"
    );
}
