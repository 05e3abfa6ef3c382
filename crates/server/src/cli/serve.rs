//! `tapir serve`, `tapir check-config` and `tapir load`: the commands that need a runtime.

use std::process::ExitCode;

use anyhow::Context;

use crate::db::{self, Database};
use crate::ServeArgs;

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // ADQL checking recurses once per nesting level (up to 100): give it room beyond
        // the 2 MiB default, including in debug builds.
        .thread_stack_size(16 << 20)
        .build()
        .context("cannot start the async runtime")
}

pub(crate) fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TAPIR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

pub fn serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let config = args.config()?;
    runtime()?.block_on(crate::http::serve(config))?;
    Ok(ExitCode::SUCCESS)
}

pub fn check_config(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let config = args.config()?;
    // Secrets never reach the output (a password in the database URL).
    let text = toml::to_string(&config.redacted()).context("cannot print the configuration")?;
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

pub fn load(args: &ServeArgs, bench_rows: Option<u64>) -> anyhow::Result<ExitCode> {
    init_logging();
    let config = args.config()?;
    runtime()?.block_on(async move {
        let database = Database::open(&config).await?;
        let result = async {
            let pool = database.pool(1)?;
            let client = pool.get().await.map_err(|e| db::DbError::Setup(e.to_string()))?;
            match bench_rows {
                Some(rows) => db::load_bench(&client, rows).await,
                None => db::load_demo(&client).await,
            }
        }
        .await;
        database.shutdown().await;
        result?;
        anyhow::Ok(ExitCode::SUCCESS)
    })
}
