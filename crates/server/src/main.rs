//! `tapir`: the Tapir TAP server and its tools.
//!
//! Exit status: 0 on success, 1 when a query is rejected (the error is on standard
//! error), 2 for usage errors and for problems with files or I/O.

mod catalog_file;
mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit status for everything that is not the query's fault.
const FAILURE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "tapir",
    version,
    about = "Tapir: an IVOA TAP 1.1 server over PostgreSQL + pgSphere"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Work with ADQL queries without a server.
    #[command(subcommand)]
    Adql(AdqlCommand),
}

#[derive(Debug, Subcommand)]
enum AdqlCommand {
    /// Check the syntax of a query; prints `ok`, or the error and exits with status 1.
    Parse {
        /// The ADQL query; read from standard input when absent or `-`.
        query: Option<String>,
    },
    /// Translate a query to PostgreSQL + pgSphere against the tables of a catalogue file.
    ///
    /// Prints the SQL, a blank line, then one line per result column:
    /// name, datatype, arraysize, xtype, unit, ucd, separated by tabs (`-` where empty).
    Translate {
        /// Catalogue file describing the tables (JSON if it ends in .json, TOML otherwise).
        #[arg(long, value_name = "FILE")]
        catalog: PathBuf,
        /// Print one JSON object {"sql", "top", "columns"} instead.
        #[arg(long)]
        json: bool,
        /// The ADQL query; read from standard input when absent or `-`.
        query: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Adql(AdqlCommand::Parse { query }) => cli::adql::parse(query),
        Command::Adql(AdqlCommand::Translate { catalog, json, query }) => {
            cli::adql::translate(&catalog, json, query)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tapir: {e:#}");
            ExitCode::from(FAILURE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn translate_takes_catalog_and_json() {
        let cli = Cli::try_parse_from([
            "tapir",
            "adql",
            "translate",
            "--catalog",
            "c.toml",
            "--json",
            "SELECT 1",
        ])
        .unwrap();
        match cli.command {
            Command::Adql(AdqlCommand::Translate { catalog, json, query }) => {
                assert_eq!(catalog, PathBuf::from("c.toml"));
                assert!(json);
                assert_eq!(query.as_deref(), Some("SELECT 1"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(Cli::try_parse_from(["tapir", "adql", "translate", "SELECT 1"]).is_err());
    }
}
