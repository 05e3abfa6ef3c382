//! The inline uploads of async jobs in `tapir.job_uploads` (migration 0005): stored with the
//! job, read back by whichever process runs it, deleted with it.
//!
//! A job's parts are held to `limits.async_upload_max_bytes` all together, across the creation
//! POST and every later POST to `/parameters` (a part given again replaces the old one): once
//! 5.4 MB could be stored against a 1 MB limit by posting parts one by one. Parts are written
//! with a binary `COPY` fed piece by piece from memory or from the spool file, so storing a
//! 100 MB part does not take 100 MB (or twice that, as a bound parameter) of the server's memory.

use std::collections::HashSet;

use bytes::{BufMut, Bytes, BytesMut};
use deadpool_postgres::Transaction;
use futures_util::SinkExt;
use tokio_postgres::Client;

use crate::db::DbError;
use crate::tap::{FilePart, TapError};

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

/// Every stored upload of a job, as file parts.
pub async fn all(client: &Client, job: &str) -> Result<Vec<FilePart>, DbError> {
    let rows = client
        .query(
            "SELECT part, data FROM tapir.job_uploads WHERE job_id = $1",
            &[&job],
        )
        .await
        .map_err(DbError::query("cannot read the job's uploaded files"))?;
    Ok(rows
        .iter()
        .map(|r| FilePart::in_memory(r.get::<_, String>(0), r.get::<_, Vec<u8>>(1)))
        .collect())
}

/// One stored upload, for `/async/{id}/parameters/{part}` (UP-06).
pub async fn one(client: &Client, job: &str, part: &str) -> Result<Option<Bytes>, DbError> {
    let row = client
        .query_opt(
            "SELECT data FROM tapir.job_uploads WHERE job_id = $1 AND part = $2",
            &[&job, &part],
        )
        .await
        .map_err(DbError::query("cannot read the job's uploaded file"))?;
    Ok(row.map(|r| Bytes::from(r.get::<_, Vec<u8>>(0))))
}
