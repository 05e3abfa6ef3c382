//! `tapir`: the Tapir TAP server and its tools.
//!
//! Exit status: 0 on success, 1 when a query is rejected (the error is on standard
//! error), 2 for usage errors and for problems with files or I/O.

mod catalog_file;
mod cli;
mod coding;
mod config;
mod db;
mod exec;
mod http;
mod identity;
mod job_store;
mod jobs;
mod netblock;
mod tap;
mod tap_schema;
mod upload;
mod vosi;

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
    /// Run the TAP service. Without a database URL it starts a private PostgreSQL from the
    /// machine's binaries in the data directory, with the demo catalogue.
    Serve(ServeArgs),
    /// Print the effective configuration (defaults, file, environment, flags) as TOML.
    CheckConfig(ServeArgs),
    /// Load a catalogue into the database (the configured one, or the embedded cluster).
    #[command(subcommand)]
    Load(LoadCommand),
    /// Work with ADQL queries without a server.
    #[command(subcommand)]
    Adql(AdqlCommand),
    /// Manage user accounts (passwords are read from the terminal or standard input).
    User {
        #[command(flatten)]
        args: ServeArgs,
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage groups (restricted tables are readable by groups).
    Group {
        #[command(flatten)]
        args: ServeArgs,
        #[command(subcommand)]
        command: GroupCommand,
    },
    /// Manage bearer tokens (for scripts: `Authorization: Bearer <token>`).
    Token {
        #[command(flatten)]
        args: ServeArgs,
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user; the password is asked for (or read from standard input).
    Add {
        name: String,
        #[arg(long)]
        email: Option<String>,
        /// A user who authenticates with tokens only.
        #[arg(long)]
        no_password: bool,
        /// Groups to put the user in (repeatable).
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
    },
    /// Change a user's password (their sessions end).
    Passwd { name: String },
    /// Disable a user: no login, no token, sessions end; jobs are kept.
    Disable { name: String },
    /// Enable a disabled user again.
    Enable { name: String },
    /// Remove a user with their sessions and tokens.
    Remove { name: String },
    /// List the users.
    List,
}

#[derive(Debug, Subcommand)]
enum GroupCommand {
    /// Put users into a group (created by its first member).
    Add { group: String, users: Vec<String> },
    /// Take users out of a group.
    Remove { group: String, users: Vec<String> },
    /// List the groups and their members.
    List,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token for a user; it is printed once.
    Create {
        user: String,
        /// Days until the token expires (default: never; revoke it instead).
        #[arg(long, value_name = "DAYS")]
        expires: Option<u64>,
    },
    /// Revoke a token by its id (as `token list` shows it).
    Revoke { id: String },
    /// List tokens (of one user when given).
    List { user: Option<String> },
}

impl UserCommand {
    fn action(self) -> cli::identity::Action {
        use cli::identity::Action;
        match self {
            UserCommand::Add {
                name,
                email,
                no_password,
                groups,
            } => Action::UserAdd {
                name,
                email,
                no_password,
                groups,
            },
            UserCommand::Passwd { name } => Action::UserPasswd { name },
            UserCommand::Disable { name } => Action::UserDisable { name, disabled: true },
            UserCommand::Enable { name } => Action::UserDisable {
                name,
                disabled: false,
            },
            UserCommand::Remove { name } => Action::UserRemove { name },
            UserCommand::List => Action::UserList,
        }
    }
}

impl GroupCommand {
    fn action(self) -> cli::identity::Action {
        use cli::identity::Action;
        match self {
            GroupCommand::Add { group, users } => Action::GroupAdd { group, users },
            GroupCommand::Remove { group, users } => Action::GroupRemove { group, users },
            GroupCommand::List => Action::GroupList,
        }
    }
}

impl TokenCommand {
    fn action(self) -> cli::identity::Action {
        use cli::identity::Action;
        match self {
            TokenCommand::Create { user, expires } => Action::TokenCreate {
                user,
                expires_days: expires,
            },
            TokenCommand::Revoke { id } => Action::TokenRevoke { id },
            TokenCommand::List { user } => Action::TokenList { user },
        }
    }
}

/// Where the configuration comes from, and the flags that override it.
#[derive(Debug, Clone, clap::Args)]
struct ServeArgs {
    /// Configuration file (default: config/default.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long, global = true, value_name = "ADDR")]
    bind: Option<String>,
    /// Tapir's data directory (embedded PostgreSQL, result files).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The URL clients use to reach the TAP base, e.g. https://archive.example.org/tap.
    #[arg(long, global = true, value_name = "URL")]
    public_url: Option<String>,
    /// PostgreSQL URL of an existing database (instead of the embedded cluster).
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum LoadCommand {
    /// The demo catalogue: ObsCore, Gaia, Solar Orbiter and a small bench.objects, with TAP_SCHEMA.
    Demo(ServeArgs),
    /// The benchmark table bench.objects (BENCH-DATA.md) with its GiST index.
    Bench {
        #[command(flatten)]
        args: ServeArgs,
        /// Number of rows.
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
    },
}

impl ServeArgs {
    /// The configuration these arguments select, flags applied last.
    fn config(&self) -> anyhow::Result<config::Config> {
        let mut c = config::Config::load(self.config.as_deref())?;
        if let Some(b) = &self.bind {
            c.server.bind = b.clone();
        }
        if let Some(d) = &self.data_dir {
            c.server.data_dir = d.clone();
        }
        if let Some(u) = &self.public_url {
            c.server.public_url = u.clone();
        }
        if let Some(u) = &self.database_url {
            c.database.url = u.clone();
        }
        c.validate()?;
        Ok(c)
    }
}

#[derive(Debug, Subcommand)]
enum AdqlCommand {
    /// Check a query against the ADQL 2.1 grammar (no catalogue); prints `ok`, or the error and
    /// exits with status 1.
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
        Command::Serve(args) => cli::serve::serve(&args),
        Command::CheckConfig(args) => cli::serve::check_config(&args),
        Command::Load(LoadCommand::Demo(args)) => cli::serve::load(&args, None),
        Command::Load(LoadCommand::Bench { args, rows }) => cli::serve::load(&args, Some(rows)),
        Command::Adql(AdqlCommand::Parse { query }) => cli::adql::parse(query),
        Command::Adql(AdqlCommand::Translate { catalog, json, query }) => {
            cli::adql::translate(&catalog, json, query)
        }
        Command::User { args, command } => cli::identity::run(&args, command.action()),
        Command::Group { args, command } => cli::identity::run(&args, command.action()),
        Command::Token { args, command } => cli::identity::run(&args, command.action()),
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
