//! Runs the built `tapir` binary the way a user would, from the workspace root.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Run `tapir` with these arguments (and this standard input) in the workspace root.
fn tapir(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args(args)
        .current_dir(workspace_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start tapir");
    let mut input = child.stdin.take().expect("stdin is piped");
    input
        .write_all(stdin.unwrap_or("").as_bytes())
        .expect("cannot write to tapir's stdin");
    drop(input);
    child.wait_with_output().expect("tapir did not finish")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn describe(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

const CATALOG: &str = "config/demo-catalog.toml";

#[test]
fn parse_accepts_a_valid_query() {
    let out = tapir(
        &[
            "adql",
            "parse",
            "SELECT TOP 5 ra, dec FROM bench.objects ORDER BY ra",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(text(&out.stdout).trim(), "ok");
}

#[test]
fn parse_reads_standard_input() {
    let out = tapir(&["adql", "parse"], Some("SELECT a\nFROM t\nWHERE b > 1\n"));
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(text(&out.stdout).trim(), "ok");
}

#[test]
fn parse_rejects_limit() {
    let out = tapir(&["adql", "parse", "SELECT TOP 5 * FROM t LIMIT 5"], None);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(text(&out.stderr).contains("LIMIT"), "{}", describe(&out));
    assert!(out.stdout.is_empty(), "{}", describe(&out));
}

#[test]
fn translate_prints_sql_and_columns() {
    let out = tapir(
        &[
            "adql",
            "translate",
            "--catalog",
            CATALOG,
            "SELECT TOP 3 source_id, ra FROM gaiadr1.gaia_source",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let stdout = text(&out.stdout);
    let (sql, columns) = stdout.split_once("\n\n").expect("a blank line after the SQL");
    assert!(sql.contains("LIMIT 3"), "{stdout}");
    let lines: Vec<&str> = columns.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].starts_with("source_id\tlong"), "{stdout}");
    assert!(lines[1].starts_with("ra\tdouble"), "{stdout}");
    assert_eq!(lines[1].split('\t').count(), 6, "{stdout}");
    assert!(lines[1].contains("\tdeg\t"), "{stdout}");
}

#[test]
fn translate_json() {
    let out = tapir(
        &[
            "adql",
            "translate",
            "--catalog",
            CATALOG,
            "--json",
            "SELECT TOP 3 source_id, ra FROM gaiadr1.gaia_source",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert!(v["sql"].as_str().is_some_and(|s| s.contains("LIMIT 3")), "{v}");
    assert_eq!(v["columns"][0]["name"], "source_id", "{v}");
    assert_eq!(v["columns"][0]["datatype"], "long", "{v}");
    assert_eq!(v["columns"][1]["unit"], "deg", "{v}");
}

/// The query of the README's quick start.
#[test]
fn translate_readme_cone_search() {
    let out = tapir(
        &[
            "adql",
            "translate",
            "--catalog",
            CATALOG,
            "SELECT TOP 5 ra, dec FROM gaiadr1.gaia_source \
             WHERE 1=CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 266.4, -29.0, 0.1))",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(text(&out.stdout).contains("LIMIT 5"), "{}", describe(&out));
}

#[test]
fn translate_reports_unknown_columns() {
    let out = tapir(
        &[
            "adql",
            "translate",
            "--catalog",
            CATALOG,
            "SELECT rra FROM gaiadr1.gaia_source",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(text(&out.stderr).contains("rra"), "{}", describe(&out));
}

#[test]
fn translate_with_a_missing_catalogue_fails_cleanly() {
    let out = tapir(
        &[
            "adql",
            "translate",
            "--catalog",
            "no/such/catalog.toml",
            "SELECT 1",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        text(&out.stderr).contains("no/such/catalog.toml"),
        "{}",
        describe(&out)
    );
}
