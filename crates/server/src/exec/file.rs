//! Running a query into a file: FITS spooled for /sync (its header holds the row count, so it
//! is patched at the end) and every async job result.
//!
//! The file is complete, patched and flushed to disk when [`run_to_file`] returns a
//! finished outcome; on any other outcome the caller removes it.

use std::path::Path;

use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio_postgres::Client;
use votable::ResultWriter;

use super::{Outcome, QueryError, QueryRun, Sink};

/// Chunks to a file. A write error ends the run as if the consumer had gone away.
struct FileSink {
    file: tokio::fs::File,
    /// A write failed: the file is unusable, whatever the query did.
    failed: bool,
}

impl Sink for FileSink {
    async fn send(&mut self, chunk: Vec<u8>) -> bool {
        if self.file.write_all(&chunk).await.is_err() {
            self.failed = true;
            return false;
        }
        true
    }

    /// A format that cannot record a late error in the file (CSV, TSV, ECSV): the run's
    /// outcome is `Failed` with the query's own message, which the caller reports; the file is
    /// not a result and is removed by the caller.
    async fn abort(&mut self, _message: &str) {}
}

/// What a run into a file came to.
pub enum FileOutcome {
    /// The query did not start: nothing useful is in the file.
    Rejected(QueryError),
    /// The run ended (complete, overflowed, failed mid-way, or cancelled); `file` is open at
    /// its start, ready to be read back.
    Ran { outcome: Outcome, file: tokio::fs::File },
}

fn service_error(message: String) -> QueryError {
    QueryError {
        user_error: false,
        message,
    }
}

/// Create `path` (it must not exist), run the query into it and patch the header when the
/// format asks for it. `durable` also syncs a finished file to disk (job results, which must
/// survive a crash once the job says COMPLETED; not spool files read back at once).
pub async fn run_to_file(
    client: &Client,
    run: &QueryRun<'_>,
    writer: &mut dyn ResultWriter,
    path: &Path,
    durable: bool,
) -> FileOutcome {
    let file = match tokio::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)
        .await
    {
        Ok(f) => f,
        Err(e) => {
            return FileOutcome::Rejected(service_error(format!(
                "cannot create the result file {}: {e}",
                path.display()
            )))
        }
    };
    let (ready_tx, ready_rx) = oneshot::channel();
    let mut sink = FileSink { file, failed: false };
    let outcome = super::run(client, run, writer, &mut sink, ready_tx).await;
    let started = ready_rx
        .await
        .unwrap_or_else(|_| Err(service_error("the query ended without a result".into())));
    if let Err(e) = started {
        return FileOutcome::Rejected(e);
    }
    if sink.failed {
        return FileOutcome::Rejected(service_error(format!(
            "cannot write the result file {}",
            path.display()
        )));
    }
    let mut file = sink.file;
    let finished = matches!(outcome, Outcome::Complete { .. } | Outcome::Overflow { .. });
    let patch = if finished { writer.patch() } else { None };
    let io = async {
        if let Some(patch) = patch {
            file.seek(std::io::SeekFrom::Start(patch.offset)).await?;
            file.write_all(&patch.bytes).await?;
        }
        file.flush().await?;
        if finished && durable {
            file.sync_data().await?;
        }
        file.seek(std::io::SeekFrom::Start(0)).await?;
        std::io::Result::Ok(())
    };
    if let Err(e) = io.await {
        return FileOutcome::Rejected(service_error(format!(
            "cannot finish the result file {}: {e}",
            path.display()
        )));
    }
    FileOutcome::Ran { outcome, file }
}
