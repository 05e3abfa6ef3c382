//! The inline uploads of async jobs in `tapir.job_uploads` (migration 0005): stored with the
//! job, read back by whichever process runs it, deleted with it.

use bytes::Bytes;
use tokio_postgres::Client;

use crate::db::DbError;
use crate::tap::FilePart;

/// Store (or replace) file parts of a job.
pub async fn save(client: &Client, job: &str, parts: &[FilePart]) -> Result<(), DbError> {
    for p in parts {
        client
            .execute(
                "INSERT INTO tapir.job_uploads (job_id, part, data) VALUES ($1, $2, $3) \
                 ON CONFLICT (job_id, part) DO UPDATE SET data = EXCLUDED.data",
                &[&job, &p.name, &&p.data[..]],
            )
            .await
            .map_err(DbError::query("cannot store the job's uploaded file"))?;
    }
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
        .map(|r| FilePart {
            name: r.get(0),
            data: Bytes::from(r.get::<_, Vec<u8>>(1)),
        })
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
