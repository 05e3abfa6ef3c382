//! Validation with STILTS (the reference VOTable/FITS implementation) when it is installed:
//! `votlint` on the VOTable serialisations and error documents, and `tpipe` reading every
//! binary format back (`omode=stats`, and a CSV dump compared value by value).
//!
//! Without a `stilts` command the test prints a note and passes, unless `CI` is set.
//!
//! votlint 3.4.7 (Debian's STILTS) has defects that also reject STIL's own output, so the lint
//! table leaves out what triggers them; STIL's reader, which has none of them, checks the full
//! table through `tpipe`:
//! * it reads no elements of a variable-length `xtype="polygon"` array in BINARY/BINARY2 (the
//!   element loop runs to `nel = -1`), so the rest of the stream is misread;
//! * an empty TD of an xtyped (point, circle, polygon) array is "Bad double string ''";
//! * an empty (null) TD of a fixed-size array is "Wrong number of elements".

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fields, rows, text, write_all, COOSYS, INFOS, QUERY};
use votable::{Ending, Field, TableMeta, Value};

fn stilts() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("stilts"))
        .find(|p| p.is_file())
}

/// The stilts command and a fresh scratch folder named by `tag`, or `None` (with a note) to
/// skip a test; under CI stilts must be there.
fn stilts_or_skip(tag: &str) -> Option<(PathBuf, PathBuf)> {
    let Some(found) = stilts() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but the stilts command is missing"
        );
        println!("note: stilts not found on PATH; skipping STILTS validation");
        return None;
    };
    let dir = std::env::temp_dir().join(format!("tapir-votable-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    Some((found, dir))
}

fn run(stilts: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(stilts).args(args).output().expect("run stilts");
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// votlint messages without their `(l.N, c.M)` position, sorted.
fn votlint(stilts: &Path, file: &Path) -> Vec<String> {
    let (_, stdout, stderr) = run(stilts, &["votlint", &format!("votable={}", file.display())]);
    let mut messages: Vec<String> = stdout
        .lines()
        .chain(stderr.lines())
        .map(|line| match (line.find(" (l."), line.find("): ")) {
            (Some(a), Some(b)) if a < b => format!("{}: {}", &line[..a], &line[b + 3..]),
            _ => line.to_owned(),
        })
        .collect();
    messages.sort();
    messages
}

fn write_table(path: &Path, format: &str, fields: &[Field], rows: &[Vec<Value<'_>>], ending: Ending<'_>) {
    let mut writer = votable::writer_for(format).unwrap();
    let meta = TableMeta::new(fields)
        .with_query(QUERY)
        .with_infos(INFOS)
        .with_coosys(COOSYS);
    let mut out = Vec::new();
    writer.begin(&mut out, &meta).unwrap();
    for row in rows {
        writer.row(&mut out, row).unwrap();
    }
    writer.end(&mut out, ending).unwrap();
    if let Some(patch) = writer.patch() {
        let mut spool = std::io::Cursor::new(out);
        patch.apply(&mut spool).unwrap();
        out = spool.into_inner();
    }
    std::fs::write(path, out).unwrap();
}

const NAN2: [f64; 2] = [f64::NAN; 2];
const NAN3: [f64; 3] = [f64::NAN; 3];
const NAN4: [f64; 4] = [f64::NAN; 4];

/// The common table without `poly`; for TABLEDATA the null row's fixed arrays hold NaNs
/// (see the module docs for why).
fn lint_table(tabledata: bool) -> (Vec<Field>, Vec<Vec<Value<'static>>>) {
    let poly = fields().iter().position(|f| f.name == "poly").unwrap();
    let mut fields = fields();
    fields.remove(poly);
    let mut rows = rows();
    for row in &mut rows {
        row.remove(poly);
    }
    if tabledata {
        for (i, field) in fields.iter().enumerate() {
            rows[2][i] = match field.arraysize.as_deref() {
                Some("2") => Value::Doubles(&NAN2),
                Some("3") => Value::Doubles(&NAN3),
                Some("2x2") => Value::Doubles(&NAN4),
                _ => Value::Null,
            };
        }
    }
    (fields, rows)
}

const CSV_HEAD: &str = "flag,s,i,l,f,d,name,uname,code,ub,t,pos,circ,poly,blob,c,m
true,1,2,3,1.5,2.25,\"a<b&\"\"c\"\"\",UNAME,AB,7,2024-07-01T01:02:03.500,\"(10.5, -20.25)\",\"(1.0, 2.0, 0.5)\",\
\"(0.0, 0.0, 1.0, 0.0, 1.0, 1.0)\",\"(0, 255, 7)\",x,\"((1.0, 2.0), (3.0, 4.0))\"
false,-32767,2147483647,9223372036854775807,,-Infinity,\"line1\nline2,\ttab\",,ABCD,0,1970-01-01T00:00:00,\
\"(359.75, 89.5)\",\"(0.0, -90.0, 180.0)\",,,y,\"((NaN, 0.25), (-0.5, 1.0E30))\"
";

/// The null row as each format can carry it: BINARY and FITS have no null for fixed arrays (they
/// come back as NaNs) and BINARY none for a single character (NUL).
const NULLS_MASKED: &str = ",,,,,,,,,,,,,,,,\n";
const NULLS_BINARY: &str =
    ",,,,,,,,,,,\"(NaN, NaN)\",\"(NaN, NaN, NaN)\",,,\0,\"((NaN, NaN), (NaN, NaN))\"\n";
const NULLS_FITS: &str = ",,,,,,,,,,,\"(NaN, NaN)\",\"(NaN, NaN, NaN)\",,,,\"((NaN, NaN), (NaN, NaN))\"\n";

/// `column=good` pairs from `omode=stats`, i.e. how many non-null values STIL saw per column.
fn good_counts(stats: &str) -> String {
    stats
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells.len() == 8 && cells[1] != "column").then(|| format!("{}={}", cells[1], cells[6]))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn stilts_accepts_every_output() {
    let Some((stilts, dir)) = stilts_or_skip("stilts") else {
        return;
    };
    let path = |name: &str| dir.join(name);

    // votlint: the lint table in the three serialisations, the error document and an empty
    // (MAXREC=0) result.
    let single_char_info = "INFO: No arraysize for character, FIELD implies single character".to_owned();
    let null_char_warning = "WARNING: Empty character value is questionable".to_owned();
    let mut lint_jobs = Vec::new();
    for (format, file) in [
        ("votable/td", "lint-td.vot"),
        ("votable/b2", "lint-b2.vot"),
        ("votable/binary", "lint-b.vot"),
    ] {
        let (fields, rows) = lint_table(format == "votable/td");
        write_table(&path(file), format, &fields, &rows, Ending::Overflow);
        let mut expected = vec![single_char_info.clone()];
        if format == "votable/td" {
            expected.push(null_char_warning.clone());
        }
        lint_jobs.push((path(file), expected));
    }
    std::fs::write(
        path("error.vot"),
        votable::error_document("syntax error at line 1, column 8"),
    )
    .unwrap();
    lint_jobs.push((path("error.vot"), vec![]));
    write_table(&path("empty.vot"), "votable/b2", &fields(), &[], Ending::Overflow);
    lint_jobs.push((path("empty.vot"), vec![single_char_info.clone()]));
    // The full table in TABLEDATA: exactly the votlint defects listed above, nothing else.
    write_table(
        &path("full-td.vot"),
        "votable/td",
        &fields(),
        &rows(),
        Ending::Error("late & failed"),
    );
    let bad_double = "ERROR: Bad double string ''".to_owned();
    let mut full_td = vec![
        single_char_info.clone(),
        null_char_warning,
        bad_double.clone(),
        bad_double.clone(),
    ];
    full_td.extend([bad_double.clone(), bad_double]);
    full_td.push("ERROR: Wrong number of elements in array (0 found, 4 expected)".to_owned());
    full_td.sort();
    lint_jobs.push((path("full-td.vot"), full_td));

    // tpipe: the full table in every binary-capable format, read back by STIL.
    let mut read_jobs = Vec::new();
    for (format, file, nulls, uname, goods) in [
        (
            "votable/td",
            "full-td.vot",
            NULLS_MASKED,
            "é✓",
            "pos=2 circ=2 poly=1 blob=1 c=2 m=2",
        ),
        (
            "votable/b2",
            "full-b2.vot",
            NULLS_MASKED,
            "é✓",
            "pos=2 circ=2 poly=1 blob=1 c=2 m=2",
        ),
        (
            "votable/binary",
            "full-b.vot",
            NULLS_BINARY,
            "é✓",
            "pos=3 circ=3 poly=1 blob=1 c=3 m=3",
        ),
        (
            "fits",
            "full.fits",
            NULLS_FITS,
            "??",
            "pos=3 circ=3 poly=1 blob=1 c=2 m=3",
        ),
    ] {
        if format != "votable/td" {
            write_table(&path(file), format, &fields(), &rows(), Ending::Complete);
        }
        let csv = format!("{}{nulls}", CSV_HEAD.replace("UNAME", uname));
        let goods = format!("flag=2 s=2 i=2 l=2 f=1 d=2 name=2 uname=1 code=2 ub=2 t=2 {goods}");
        let ifmt = if format == "fits" { "fits" } else { "votable" };
        read_jobs.push((path(file), ifmt, csv, goods));
    }

    std::thread::scope(|scope| {
        let stilts = &stilts;
        for (file, expected) in &lint_jobs {
            scope.spawn(move || {
                let messages = votlint(stilts, file);
                println!("votlint {}: {:?}", file.display(), messages);
                assert_eq!(&messages, expected, "votlint {}", file.display());
            });
        }
        for (file, ifmt, csv, goods) in &read_jobs {
            scope.spawn(move || {
                let input = format!("in={}", file.display());
                let ifmt = format!("ifmt={ifmt}");
                let (ok, stats, err) = run(stilts, &["tpipe", &input, &ifmt, "omode=stats"]);
                assert!(ok && err.is_empty(), "tpipe stats {}: {err}", file.display());
                assert!(stats.starts_with("Total Rows: 3\n"), "{stats}");
                assert_eq!(good_counts(&stats), *goods, "{}", file.display());
                let (ok, dump, err) = run(stilts, &["tpipe", &input, &ifmt, "ofmt=csv"]);
                assert!(ok && err.is_empty(), "tpipe csv {}: {err}", file.display());
                assert_eq!(dump, *csv, "{}", file.display());
                println!("tpipe {}: 3 rows read back, values as written", file.display());
            });
        }
    });

    // The FITS metadata as STIL sees it.
    let (ok, meta, _) = run(
        &stilts,
        &[
            "tpipe",
            &format!("in={}", path("full.fits").display()),
            "omode=meta",
        ],
    );
    assert!(ok);
    for expected in [
        "Rows:    3",
        "QSTATUS:\n    OK",
        "poly(double[*])/deg",
        "m(float[2,2])",
        "l(Long) - row <id>",
    ] {
        assert!(meta.contains(expected), "{expected} not in {meta}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn overflow_info_position_is_valid_for_every_serialisation() {
    // Not STILTS-specific, but the same documents: the overflow INFO follows </TABLE> inside
    // the RESOURCE, and the error INFO likewise, each exactly once.
    for format in ["votable/td", "votable/b2", "votable/binary"] {
        let mut writer = votable::writer_for(format).unwrap();
        let doc = text(&write_all(writer.as_mut(), Ending::Overflow));
        let table_end = doc.find("</TABLE>").unwrap();
        let overflow = doc
            .find("<INFO name=\"QUERY_STATUS\" value=\"OVERFLOW\"/>")
            .unwrap();
        assert!(overflow > table_end && overflow < doc.find("</RESOURCE>").unwrap());
        assert_eq!(doc.matches("QUERY_STATUS").count(), 2);
        assert!(
            doc.find("<INFO name=\"QUERY_STATUS\" value=\"OK\"/>").unwrap() < doc.find("<TABLE>").unwrap()
        );
    }
}

#[test]
fn stilts_reads_integer_float_and_boolean_arrays() {
    let Some((stilts, dir)) = stilts_or_skip("arrays") else {
        return;
    };
    let fields = common::array_fields();
    let rows = common::array_rows();
    std::thread::scope(|scope| {
        for (format, file) in [
            ("votable/td", "arrays-td.vot"),
            ("votable/b2", "arrays-b2.vot"),
            ("votable/binary", "arrays-b.vot"),
            ("fits", "arrays.fits"),
        ] {
            let path = dir.join(file);
            write_table(&path, format, &fields, &rows, Ending::Complete);
            let stilts = &stilts;
            scope.spawn(move || {
                let ifmt = if format == "fits" { "fits" } else { "votable" };
                if ifmt == "votable" {
                    // TABLEDATA writes a null fixed array as an empty cell, as for doubles.
                    let expected: &[&str] = if format == "votable/td" {
                        &["ERROR: Wrong number of elements in array (0 found, 3 expected)"]
                    } else {
                        &[]
                    };
                    assert_eq!(votlint(stilts, &path), expected, "votlint {format}");
                }
                let input = format!("in={}", path.display());
                let ifmt = format!("ifmt={ifmt}");
                let (ok, meta, err) = run(stilts, &["tpipe", &input, &ifmt, "omode=meta"]);
                assert!(ok && err.is_empty(), "tpipe meta {format}: {err}");
                for column in [
                    "ss(short[*])",
                    "ii(int[3])",
                    "ll(long[*])",
                    "ff(float[*])",
                    "bb(boolean[*])",
                ] {
                    assert!(meta.contains(column), "{column} not in {meta}");
                }
                let (ok, dump, err) = run(stilts, &["tpipe", &input, &ifmt, "ofmt=csv"]);
                assert!(ok && err.is_empty(), "tpipe csv {format}: {err}");
                // Null rows: BINARY has no null for a fixed array (zeros), FITS reads TNULL
                // elements back as the type minimum.
                let nulls = match format {
                    "votable/binary" => ",\"(0, 0, 0)\",,,\n",
                    "fits" => ",\"(-2147483648, -2147483648, -2147483648)\",,,\n",
                    _ => ",,,,\n",
                };
                let expected = format!(
                    "ss,ii,ll,ff,bb\n\
                     \"(1, -2, 32767)\",\"(1, 2, -3)\",\"(9223372036854775807, 0)\",\"(1.5, NaN)\",\
                     \"(true, false, true)\"\n\
                     ,\"(-2147483648, 0, 7)\",,,\n{nulls}"
                );
                assert_eq!(dump, expected, "{format}");
            });
        }
    });
    std::fs::remove_dir_all(&dir).ok();
}
