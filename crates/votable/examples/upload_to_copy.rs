//! Prints an uploaded table (VOTable or CSV) as a psql script: `CREATE TEMPORARY TABLE`, then
//! `COPY ... FROM STDIN` with the reader's COPY text. Feeding it to psql checks the reader's
//! output against a real PostgreSQL (with pgSphere for geometry columns):
//!
//! ```sh
//! cargo run -p tapir-votable --example upload_to_copy -- table.vot | psql -v ON_ERROR_STOP=1
//! ```

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: upload_to_copy FILE");
        return ExitCode::FAILURE;
    };
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let limits = votable::ReadLimits {
        max_rows: u64::MAX,
        max_columns: 10_000,
    };
    let table = match votable::read_upload(&bytes, &limits) {
        Ok(table) => table,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let columns: Vec<String> = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("c{} {}", i + 1, c.sql_type.as_sql()))
        .collect();
    let mut out = std::io::stdout().lock();
    let written = writeln!(out, "-- {path}: {} rows, {}", table.rows, table.serialization)
        .and_then(|_| writeln!(out, "CREATE TEMPORARY TABLE upload ({});", columns.join(", ")))
        .and_then(|_| writeln!(out, "COPY upload FROM STDIN;"))
        .and_then(|_| out.write_all(&table.copy))
        .and_then(|_| writeln!(out, "\\.\nSELECT * FROM upload;"));
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
