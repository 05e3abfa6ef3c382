//! The ECSV writer checked by the reader that matters, astropy's (astroquery reads `FORMAT=ecsv`
//! with it): every column type of the writers, nulls included, names and text that need
//! quoting, table and column metadata; and the `votable_gzip` body read as astroquery does.
//!
//! The files are written here and read back by `astropy_read_back.py`, which holds its own copy
//! of the expected values. The Python is the clients' virtualenv (`$TAPIR_CLIENT_VENV`, else
//! `.venv-clients` at the top of the repository, else `python3`); without astropy the test
//! prints a note and passes, unless `CI` is set.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{write_arrays, write_format};
use votable::{Datatype, Ending, Field, TableMeta, Value};

/// A Python that can import astropy, or `None` (after a note) outside CI.
fn python_with_astropy() -> Option<PathBuf> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = std::env::var_os("TAPIR_CLIENT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join(".venv-clients"));
    let candidates = [venv.join("bin/python"), PathBuf::from("python3")];
    for python in candidates {
        let ok = Command::new(&python)
            .args(["-c", "import astropy"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(python);
        }
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but no Python with astropy was found (set TAPIR_CLIENT_VENV)"
    );
    println!("note: no Python with astropy found; skipping the astropy read-back");
    None
}

/// Names and values that need care: quoting, a comment-like first field, a mask column name
/// that is taken, a multi-dimensional variable array, extreme timestamps and floats.
fn edge_fields() -> Vec<Field> {
    vec![
        Field::new("#first", Datatype::Char).with_arraysize("*"),
        Field::new("s", Datatype::UnicodeChar).with_arraysize("*"),
        Field::new("s.mask", Datatype::Boolean),
        Field::new("a,b", Datatype::Int),
        Field::new("q\"uote", Datatype::Double),
        Field::new("t", Datatype::Char)
            .with_arraysize("*")
            .with_xtype("timestamp"),
        Field::new("vm", Datatype::Double).with_arraysize("2x*"),
        Field::new("bytes", Datatype::UnsignedByte).with_arraysize("2"),
    ]
}

fn edge_rows() -> Vec<Vec<Value<'static>>> {
    vec![
        vec![
            Value::Text("#not a comment"),
            Value::Text(""),
            Value::Bool(true),
            Value::Int(1),
            Value::Double(0.1),
            Value::Timestamp(-210_866_803_200_000_000),
            Value::Doubles(&[1.0, 2.0, 3.0, 4.0]),
            Value::Bytes(&[1, 2]),
        ],
        vec![
            Value::Text(""),
            Value::Text("multi\nline \"quoted\", text"),
            Value::Bool(false),
            Value::Int(-1),
            Value::Double(-0.0),
            Value::Timestamp(i64::MAX),
            Value::Doubles(&[]),
            Value::Bytes(&[255, 0]),
        ],
        vec![Value::Null; 8],
        vec![
            Value::Text("x"),
            Value::Text("ü ✓ 😀"),
            Value::Null,
            Value::Int(i32::MIN),
            Value::Double(f64::MAX),
            Value::Timestamp(1_500),
            Value::Doubles(&[f64::NAN, f64::INFINITY]),
            Value::Null,
        ],
    ]
}

fn write_table(rows: &[Vec<Value<'_>>], meta: TableMeta<'_>) -> Vec<u8> {
    let mut writer = votable::writer_for("ecsv").unwrap();
    let mut out = Vec::new();
    writer.begin(&mut out, &meta).unwrap();
    for row in rows {
        writer.row(&mut out, row).unwrap();
    }
    writer.end(&mut out, Ending::Complete).unwrap();
    out
}

#[test]
fn astropy_reads_back_every_type_and_null() {
    let Some(python) = python_with_astropy() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("tapir-votable-astropy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    std::fs::write(dir.join("all.ecsv"), write_format("ecsv", Ending::Overflow)).unwrap();
    std::fs::write(dir.join("arrays.ecsv"), write_arrays("ecsv")).unwrap();
    let fields = edge_fields();
    let infos = [
        ("QUERY", "a second QUERY is left out"),
        ("note", "a: b # c"),
        ("__serialized_columns__", "astropy's own key is left out"),
    ];
    let meta = TableMeta::new(&fields)
        .with_query("SELECT \"a,b\"\nFROM t -- ü")
        .with_infos(&infos);
    std::fs::write(dir.join("edge.ecsv"), write_table(&edge_rows(), meta)).unwrap();
    let one = [Field::new("n", Datatype::Long)];
    let one_rows = [vec![Value::Long(1)], vec![Value::Null], vec![Value::Long(3)]];
    let one_ecsv = write_table(&one_rows, TableMeta::new(&one));
    assert!(String::from_utf8_lossy(&one_ecsv).ends_with("\nn\n1\n\"\"\n3\n"));
    std::fs::write(dir.join("one.ecsv"), one_ecsv).unwrap();
    std::fs::write(
        dir.join("all.vot.gz"),
        write_format("votable_gzip", Ending::Complete),
    )
    .unwrap();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/astropy_read_back.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(&dir)
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("ok"),
        "astropy read-back failed (files kept in {}):\n{stdout}\n{stderr}",
        dir.display()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
