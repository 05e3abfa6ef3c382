//! The inline uploads of async jobs in `tapir.job_uploads` (migration 0005): stored with the
//! job, read back by whichever process runs it, deleted with it.
//!
//! A job's parts are held to `limits.async_upload_max_bytes` all together, across the creation
//! POST and every later POST to `/parameters` (a part given again replaces the old one): once
//! 5.4 MB could be stored against a 1 MB limit by posting parts one by one. Parts are written
//! with a binary `COPY` fed piece by piece from memory or from the spool file, so storing a
//! 100 MB part does not take 100 MB (or twice that, as a bound parameter) of the server's memory.

use std::collections::HashSet;
use std::path::PathBuf;

use bytes::{BufMut, Bytes, BytesMut};
use deadpool_postgres::Transaction;
use futures_util::{SinkExt, StreamExt};
use tokio_postgres::Client;

use crate::db::DbError;
use crate::tap::part::Spooling;
use crate::tap::{FilePart, PartData, TapError};

/// Pieces of a part sent to PostgreSQL at a time.
const PIECE: usize = 1 << 20;

/// Store (or replace) file parts of a job inside `tx`, unless the job's parts would then have
/// more than `max_total` bytes together: then 413 and nothing is stored. The job's row is locked
/// first, so two POSTs to one job are counted one after the other.
pub async fn save(
    tx: &Transaction<'_>,
    job: &str,
    parts: &[FilePart],
    max_total: u64,
) -> Result<(), TapError> {
    if parts.is_empty() {
        return Ok(());
    }
    tx.query_opt("SELECT 1 FROM tapir.jobs WHERE job_id = $1 FOR UPDATE", &[&job])
        .await
        .map_err(DbError::query("cannot lock the job"))?;
    // A name given twice in one request: the last part wins, as it would one POST later.
    let mut seen = HashSet::new();
    let mut latest: Vec<&FilePart> = parts
        .iter()
        .rev()
        .filter(|p| seen.insert(p.name.as_str()))
        .collect();
    latest.reverse();
    let names: Vec<&str> = latest.iter().map(|p| p.name.as_str()).collect();
    let rows = tx
        .query(
            "SELECT part, octet_length(data)::bigint FROM tapir.job_uploads WHERE job_id = $1",
            &[&job],
        )
        .await
        .map_err(DbError::query(
            "cannot read the sizes of the job's uploaded files",
        ))?;
    let kept: u64 = rows
        .iter()
        .filter(|r| !names.contains(&r.get::<_, &str>(0)))
        .map(|r| u64::try_from(r.get::<_, i64>(1)).unwrap_or(0))
        .sum();
    let new: u64 = latest.iter().map(|p| p.data.size()).sum();
    if kept + new > max_total {
        return Err(TapError::too_large(format!(
            "the uploaded files of job {job} would have {} bytes together ({kept} stored before, {new} \
             in this request); a job may have at most {max_total}",
            kept + new
        )));
    }
    tx.execute(
        "DELETE FROM tapir.job_uploads WHERE job_id = $1 AND part = ANY($2)",
        &[&job, &names],
    )
    .await
    .map_err(DbError::query("cannot replace the job's uploaded file"))?;
    copy_parts(tx, job, &latest).await
}

/// `COPY ... FROM STDIN (FORMAT binary)`: a header, then per part three fields (job id, part
/// name, the bytes, each after its length), then the trailer.
async fn copy_parts(tx: &Transaction<'_>, job: &str, parts: &[&FilePart]) -> Result<(), TapError> {
    let failed = |e: String| TapError::internal(format!("cannot store the job's uploaded file: {e}"));
    let sink = tx
        .copy_in::<_, Bytes>("COPY tapir.job_uploads (job_id, part, data) FROM STDIN (FORMAT binary)")
        .await
        .map_err(DbError::query("cannot store the job's uploaded file"))?;
    futures_util::pin_mut!(sink);
    let mut head = BytesMut::with_capacity(256);
    head.put_slice(b"PGCOPY\n\xff\r\n\0");
    head.put_i32(0); // flags
    head.put_i32(0); // header extension
    for p in parts {
        let len = i32::try_from(p.data.size()).map_err(|_| {
            TapError::too_large(format!(
                "the uploaded file '{}' is too large to be stored",
                p.name
            ))
        })?;
        head.put_i16(3);
        put_field(&mut head, job.as_bytes())?;
        put_field(&mut head, p.name.as_bytes())?;
        head.put_i32(len);
        sink.send(head.split().freeze())
            .await
            .map_err(|e| failed(crate::db::describe(&e)))?;
        p.data.copy_into(sink.as_mut(), PIECE).await.map_err(failed)?;
    }
    head.put_i16(-1);
    sink.send(head.split().freeze())
        .await
        .map_err(|e| failed(crate::db::describe(&e)))?;
    sink.as_mut()
        .finish()
        .await
        .map_err(|e| failed(crate::db::describe(&e)))?;
    Ok(())
}

/// One field of a binary COPY tuple: its length, then its bytes.
fn put_field(out: &mut BytesMut, value: &[u8]) -> Result<(), TapError> {
    let len =
        i32::try_from(value.len()).map_err(|_| TapError::bad_request("a part name or job id is too long"))?;
    out.put_i32(len);
    out.put_slice(value);
    Ok(())
}

/// Every stored upload of a job, as file parts, each written to a spool file (`spool` gives a
/// fresh path) as it comes out of the database: a job's 100 MB table is not held in memory
/// (twice, as a row and as its copy) before its turn to be parsed.
pub async fn all(client: &Client, job: &str, spool: impl Fn() -> PathBuf) -> Result<Vec<FilePart>, DbError> {
    if !uws::looks_like_job_id(job) {
        return Ok(Vec::new());
    }
    // COPY takes no parameters; a job id has only letters and digits (checked above).
    let stream = client
        .copy_out(&format!(
            "COPY (SELECT part, data FROM tapir.job_uploads WHERE job_id = '{job}' ORDER BY part) \
             TO STDOUT (FORMAT binary)"
        ))
        .await
        .map_err(DbError::query("cannot read the job's uploaded files"))?;
    futures_util::pin_mut!(stream);
    let unreadable = |e: String| DbError::Setup(format!("cannot read the job's uploaded files: {e}"));
    let mut reader = StoredParts::default();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(DbError::query("cannot read the job's uploaded files"))?;
        reader.feed(&chunk, &spool).await.map_err(unreadable)?;
    }
    reader.finish().map_err(unreadable)
}

/// What the binary COPY of `(part, data)` rows has next.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Next {
    /// Signature, flags and header extension length.
    #[default]
    Header,
    /// A row's field count, or -1 at the end.
    Count,
    NameLength,
    Name(usize),
    DataLength,
    /// The data, written to the spool file as it comes.
    Data,
    End,
}

/// The binary COPY header: signature (11 bytes), flags (4), header extension length (4).
const COPY_HEADER: usize = 19;

/// Reads the binary COPY of `(part, data)` rows as it arrives: each part's bytes go straight to
/// its spool file, never into memory whole.
#[derive(Default)]
struct StoredParts {
    next: Next,
    /// Bytes of the item being gathered (header, count, length, name).
    pending: Vec<u8>,
    name: String,
    /// The part being written, and its bytes still to come.
    writing: Option<(Spooling, u64)>,
    parts: Vec<FilePart>,
}

impl StoredParts {
    async fn feed(&mut self, mut chunk: &[u8], spool: &impl Fn() -> PathBuf) -> Result<(), String> {
        while !chunk.is_empty() {
            if self.next == Next::Data {
                let Some((file, left)) = self.writing.as_mut() else {
                    return Err("data without a file".into());
                };
                let n = usize::try_from(*left).unwrap_or(usize::MAX).min(chunk.len());
                file.write(&chunk[..n]).await.map_err(|e| e.to_string())?;
                *left -= n as u64;
                chunk = &chunk[n..];
                if *left == 0 {
                    self.part_done().await?;
                }
                continue;
            }
            let need = match self.next {
                Next::Header => COPY_HEADER,
                Next::Count => 2,
                Next::NameLength | Next::DataLength => 4,
                Next::Name(n) => n,
                Next::Data | Next::End => return Err("more data after the end".into()),
            };
            let take = need.saturating_sub(self.pending.len()).min(chunk.len());
            self.pending.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            if self.pending.len() == need {
                let item = std::mem::take(&mut self.pending);
                self.step(&item, spool).await?;
            }
        }
        Ok(())
    }

    /// One complete item read: on to the next.
    async fn step(&mut self, item: &[u8], spool: &impl Fn() -> PathBuf) -> Result<(), String> {
        let int = |bytes: &[u8]| -> i64 { bytes.iter().fold(0i64, |acc, b| (acc << 8) | i64::from(*b)) };
        self.next = match self.next {
            Next::Header if item.starts_with(b"PGCOPY\n\xff\r\n\0") && int(&item[15..19]) == 0 => Next::Count,
            Next::Header => return Err("not a binary COPY stream".into()),
            Next::Count if item == [0xff, 0xff] => Next::End,
            Next::Count if int(item) == 2 => Next::NameLength,
            Next::Count => return Err(format!("rows of {} fields", int(item))),
            Next::NameLength => match usize::try_from(int(item)) {
                Ok(0) => Next::DataLength,
                Ok(n) if n <= 1 << 20 => Next::Name(n),
                _ => return Err("a part name of a strange length".into()),
            },
            Next::Name(_) => {
                self.name = String::from_utf8_lossy(item).into_owned();
                Next::DataLength
            }
            Next::DataLength => {
                let len = u64::try_from(int(item)).map_err(|_| "a part without data".to_string())?;
                let file = Spooling::create(spool(), &[]).await.map_err(|e| e.to_string())?;
                self.writing = Some((file, len));
                if len == 0 {
                    self.part_done().await?;
                    return Ok(());
                }
                Next::Data
            }
            Next::Data | Next::End => return Err("more data after the end".into()),
        };
        Ok(())
    }

    /// The part's file is complete: keep it, and read the next row.
    async fn part_done(&mut self) -> Result<(), String> {
        let (file, _) = self.writing.take().ok_or("no part being written")?;
        let file = file.finish().await.map_err(|e| e.to_string())?;
        self.parts.push(FilePart {
            name: std::mem::take(&mut self.name),
            data: PartData::Spooled(file),
        });
        self.next = Next::Count;
        Ok(())
    }

    fn finish(self) -> Result<Vec<FilePart>, String> {
        if self.next != Next::End {
            return Err("the stored files ended early".into());
        }
        Ok(self.parts)
    }
}

/// The bytes of one stored upload as they come out of the database.
pub type PartStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// One stored upload, for `/async/{id}/parameters/{part}` (UP-06), streamed from a binary
/// `COPY ... TO STDOUT` rather than read as one row: a 500 MB part asked for ten times at once
/// would otherwise be ten copies of it in memory (twice over, as a row and as its value). The
/// connection goes with the stream, so it is back in the pool only once the copy is over.
pub async fn one(
    client: deadpool_postgres::Object,
    job: &str,
    part: &str,
) -> Result<Option<PartStream>, DbError> {
    let failed = || DbError::query("cannot read the job's uploaded file");
    let copy = client
        .copy_out(&format!(
            "COPY (SELECT data FROM tapir.job_uploads WHERE job_id = {} AND part = {}) TO STDOUT \
             (FORMAT binary)",
            literal(job),
            literal(part)
        ))
        .await
        .map_err(failed())?;
    let mut copy = Box::pin(copy);
    // The header (19 bytes), the field count (2; -1 when there is no such part) and the
    // length of the data (4).
    let mut head = BytesMut::new();
    while head.len() < COPY_HEADER + 6 {
        match copy.next().await {
            Some(chunk) => head.extend_from_slice(&chunk.map_err(failed())?),
            None => break,
        }
    }
    if head.len() < COPY_HEADER + 6 || head[COPY_HEADER..COPY_HEADER + 2] == [0xff, 0xff] {
        return Ok(None);
    }
    let mut len = [0u8; 4];
    len.copy_from_slice(&head[COPY_HEADER + 2..COPY_HEADER + 6]);
    let left = u64::from(u32::from_be_bytes(len));
    let first = head.split_off(COPY_HEADER + 6).freeze();
    let state = (client, copy, left, Some(first));
    let stream = futures_util::stream::unfold(state, |(client, mut copy, left, first)| async move {
        let chunk = match first {
            Some(c) => c,
            None if left == 0 => {
                // The trailer and the end of the COPY, so the connection is idle again.
                while let Some(Ok(_)) = copy.next().await {}
                return None;
            }
            None => match copy.next().await {
                Some(Ok(c)) => c,
                Some(Err(e)) => {
                    let e = std::io::Error::other(crate::db::describe(&e));
                    return Some((Err(e), (client, copy, 0, None)));
                }
                None => return None,
            },
        };
        let take = usize::try_from(left).unwrap_or(usize::MAX).min(chunk.len());
        let data = chunk.slice(..take);
        Some((Ok(data), (client, copy, left - take as u64, None)))
    });
    Ok(Some(Box::pin(stream)))
}

/// A string literal for a statement that takes no parameters (COPY): an escape string, whose
/// meaning does not depend on `standard_conforming_strings`.
fn literal(value: &str) -> String {
    format!("E'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(out: &mut Vec<u8>, value: &[u8]) {
        out.extend_from_slice(&(value.len() as i32).to_be_bytes());
        out.extend_from_slice(value);
    }

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(literal("t"), "E't'");
        assert_eq!(literal("a'b\\c"), "E'a''b\\\\c'");
        assert_eq!(literal("x'); DROP TABLE t; --"), "E'x''); DROP TABLE t; --'");
    }

    #[tokio::test]
    async fn stored_parts_are_read_piece_by_piece_into_spool_files() {
        let dir = std::env::temp_dir().join(format!("tapir-stored-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let mut stream = b"PGCOPY\n\xff\r\n\0".to_vec();
        stream.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
        let big: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        for (name, data) in [
            (&b"a"[..], &big[..]),
            (&b"empty"[..], &b""[..]),
            (&b"t"[..], &b"x,y\n1,2\n"[..]),
        ] {
            stream.extend_from_slice(&2i16.to_be_bytes());
            field(&mut stream, name);
            field(&mut stream, data);
        }
        stream.extend_from_slice(&(-1i16).to_be_bytes());
        let n = std::sync::atomic::AtomicU64::new(0);
        let spool = || {
            dir.join(format!(
                "s{}",
                n.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ))
        };
        let mut reader = StoredParts::default();
        // Pieces that cut every header, length and name somewhere.
        for piece in stream.chunks(3) {
            reader.feed(piece, &spool).await.expect("read");
        }
        let parts = reader.finish().expect("complete");
        let names: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "empty", "t"]);
        assert_eq!(&parts[0].data.bytes().await.expect("a")[..], &big[..]);
        assert_eq!(parts[1].data.size(), 0);
        assert_eq!(&parts[2].data.bytes().await.expect("t")[..], b"x,y\n1,2\n");
        assert!(parts.iter().all(|p| matches!(p.data, PartData::Spooled(_))));
        drop(parts);
        assert_eq!(
            std::fs::read_dir(&dir).expect("dir").count(),
            0,
            "spool files removed"
        );

        // A stream cut short is an error, and leaves no file behind.
        let mut reader = StoredParts::default();
        reader
            .feed(&stream[..stream.len() - 20], &spool)
            .await
            .expect("read");
        assert!(reader.finish().is_err());
        assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
