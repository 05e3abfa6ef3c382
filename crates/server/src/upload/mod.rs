//! Table uploads (TAP §2.5.9, UP-01..UP-06): `TAP_UPLOAD.<name>` for one query or job, and
//! ESA's `JOB_UPLOAD.JOB<id>` (the result of an earlier job as a table).
//!
//! An upload is read in full (inline part, fetched URL, or a result file of ours), parsed by
//! the `votable` crate into column metadata plus `COPY` text, and — on the very connection the
//! query will run on, just before its read-only transaction — created as a temporary table,
//! filled with `COPY ... FROM STDIN`, ANALYZEd (so a cross-match plans against real row counts
//! and uses the catalogue's spatial index) and made readable to the query role. `DISCARD TEMP`
//! after the query removes it whatever happened; if the connection or the process dies,
//! PostgreSQL drops temporary tables with the session. Nothing is ever left behind.

mod budget;
mod fetch;
mod gunzip;
mod names;
mod spec;

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::OwnedSemaphorePermit;
use tokio_postgres::Client;
use votable::{SqlType, UploadTable};

use crate::db::quote_ident;
use crate::identity::Caller;
use crate::tap::part::SpoolFile;
use crate::tap::Service;
use crate::tap::{ErrorKind, TapError};
use crate::tap::{Params, PartData};
pub use budget::{Budgets, Charge};
use spec::Source;

/// Why an upload was refused, with the kind of error it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadError {
    pub kind: ErrorKind,
    pub message: String,
}

impl UploadError {
    fn of(kind: ErrorKind, message: impl Into<String>) -> Self {
        UploadError {
            kind,
            message: message.into(),
        }
    }

    pub fn bad(message: impl Into<String>) -> Self {
        Self::of(ErrorKind::BadRequest, message)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::of(ErrorKind::TooLarge, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::of(ErrorKind::Forbidden, message)
    }

    /// The job store (earlier results, stored files) cannot be reached: not the user's doing.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::of(ErrorKind::Unavailable, message)
    }
}

impl From<UploadError> for TapError {
    fn from(e: UploadError) -> Self {
        TapError::new(e.kind, e.message)
    }
}

/// What the uploads of one query may add up to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_rows: u64,
}

impl Limits {
    pub fn sync(state: &Service) -> Limits {
        let l = &state.config.limits;
        Limits {
            max_bytes: l.upload_max_bytes,
            max_rows: l.upload_max_rows,
        }
    }

    pub fn async_job(state: &Service) -> Limits {
        let l = &state.config.limits;
        Limits {
            max_bytes: l.async_upload_max_bytes,
            max_rows: l.async_upload_max_rows,
        }
    }
}

/// Columns an uploaded table may have.
const MAX_COLUMNS: usize = 1000;
/// `COPY` data is sent in pieces of this size.
const COPY_CHUNK: usize = 1 << 20;

/// One uploaded table, read and checked, ready to be loaded.
pub struct Ready {
    /// `TAP_UPLOAD` or `JOB_UPLOAD`.
    pub schema: &'static str,
    /// The ADQL table name (`t`, or `JOB<id>`).
    pub name: String,
    /// The temporary table it is loaded into (unquoted).
    pub temp: String,
    /// ADQL column names, in order.
    pub columns: Vec<String>,
    /// FIELD names that had to change to become ADQL identifiers: (given, used).
    pub renamed: Vec<(String, String)>,
    pub table: UploadTable,
    /// The `COPY` text: in memory when small, else in a spool file (removed with the `Ready`),
    /// so a parsed upload waiting for its connection holds no memory.
    copy: PartData,
}

impl Ready {
    /// A parsed table under its names; run off the async threads (with the parse), as
    /// renaming a thousand columns and spooling the COPY text are work.
    fn new(
        schema: &'static str,
        name: String,
        temp: String,
        mut table: UploadTable,
        spool: Option<PathBuf>,
    ) -> std::io::Result<Ready> {
        let given: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        let columns = names::sanitize(&given);
        let renamed = given
            .iter()
            .zip(&columns)
            .filter(|(g, c)| **g != c.as_str())
            .map(|(g, c)| (g.to_string(), c.clone()))
            .collect();
        let text = std::mem::take(&mut table.copy);
        let copy = match spool {
            Some(path) => {
                std::fs::write(&path, &text)?;
                PartData::Spooled(Arc::new(SpoolFile::new(path, text.len() as u64)))
            }
            None => PartData::Memory(Bytes::from(text)),
        };
        Ok(Ready {
            schema,
            name,
            temp,
            columns,
            renamed,
            table,
            copy,
        })
    }

    /// The result INFOs that report renamed columns (the issue asks for the mapping).
    pub fn notes(ready: &[Ready]) -> Vec<(String, String)> {
        ready
            .iter()
            .flat_map(|r| {
                r.renamed.iter().map(move |(g, c)| {
                    (
                        "upload_column".to_string(),
                        format!("{}.{}: the column '{g}' is called {c}", r.schema, r.name),
                    )
                })
            })
            .collect()
    }
}

/// The PostgreSQL type a column is created with: the storage type the reader chose, arrays
/// included (`smallint[]`, `integer[]`, `bigint[]`, `real[]`, `double precision[]`,
/// `boolean[]`), so `SELECT *` gives back the uploaded datatype and values.
fn pg_type(t: SqlType) -> &'static str {
    t.as_sql()
}

/// Whether the column is stored as a PostgreSQL array (geometries are not).
fn is_array(t: SqlType) -> bool {
    matches!(
        t,
        SqlType::SmallIntArray
            | SqlType::IntegerArray
            | SqlType::BigIntArray
            | SqlType::RealArray
            | SqlType::DoubleArray
            | SqlType::BooleanArray
    )
}

fn adql_type(t: SqlType) -> adql::AdqlType {
    use adql::AdqlType as A;
    match t {
        SqlType::Boolean => A::Boolean,
        SqlType::SmallInt => A::SmallInt,
        SqlType::Integer => A::Integer,
        SqlType::BigInt => A::BigInt,
        SqlType::Real => A::Real,
        SqlType::Double => A::Double,
        SqlType::Text => A::VarChar(None),
        SqlType::Timestamp => A::Timestamp,
        SqlType::SPoint => A::Point,
        SqlType::SCircle => A::Circle,
        SqlType::SPoly => A::Polygon,
        SqlType::SmallIntArray
        | SqlType::IntegerArray
        | SqlType::BigIntArray
        | SqlType::RealArray
        | SqlType::DoubleArray
        | SqlType::BooleanArray => A::Unknown,
    }
}

/// Read every upload `params` names (UPLOAD, with `param:` parts among `params`' file parts),
/// and every `JOB_UPLOAD.JOB<id>` the query mentions. A previous job's result (by JOB_UPLOAD
/// or by its own result URL) is read only when it is `caller`'s job.
pub async fn prepare(
    state: &Service,
    caller: &Caller,
    params: &Params,
    adql: &str,
    limits: Limits,
) -> Result<Vec<Ready>, UploadError> {
    let specs = spec::parse(params.all("UPLOAD"))?;
    let mut ready = Vec::new();
    let mut bytes_left = limits.max_bytes;
    let mut rows_left = limits.max_rows;
    for spec in &specs {
        let (data, permit) = match &spec.source {
            Source::Inline(part) => {
                let part = inline_part(params, part).ok_or_else(|| {
                    UploadError::bad(format!(
                        "UPLOAD {} names param:{part}, but the request has no part called '{part}'",
                        spec.name
                    ))
                })?;
                // The turn to parse is taken before a spooled part is read back into memory.
                let permit = state.budgets.parsing(part.size()).await;
                let data = part.bytes().await.map_err(|e| {
                    UploadError::unavailable(format!(
                        "the uploaded file of {} cannot be read back: {e}",
                        spec.name
                    ))
                })?;
                (data, permit)
            }
            Source::Url(url) => {
                let data = match own_result(state, url) {
                    Some(id) => result_of(state, caller, &id).await?,
                    None => fetch::fetch(url, &state.config.uploads, bytes_left).await?,
                };
                let permit = state.budgets.parsing(data.len() as u64).await;
                (data, permit)
            }
        };
        let (data, permit) = decompressed(state, &spec.name, data, permit, bytes_left).await?;
        spend(&mut bytes_left, &data, limits)?;
        let temp = format!("tapir_upload_{}", spec.name.to_ascii_lowercase());
        let r = parse(state, "TAP_UPLOAD", &spec.name, temp, data, rows_left, limits).await?;
        drop(permit);
        rows_left = rows_left.saturating_sub(r.table.rows);
        ready.push(r);
    }
    // `job_upload_refs` names each job once.
    for id in job_upload_refs(adql) {
        let name = format!("JOB{id}");
        let data = result_of(state, caller, &id).await?;
        let permit = state.budgets.parsing(data.len() as u64).await;
        let (data, permit) =
            decompressed(state, &format!("JOB_UPLOAD.{name}"), data, permit, bytes_left).await?;
        spend(&mut bytes_left, &data, limits)?;
        let temp = format!("tapir_job_{id}");
        let r = parse(state, "JOB_UPLOAD", &name, temp, data, rows_left, limits).await?;
        drop(permit);
        rows_left = rows_left.saturating_sub(r.table.rows);
        ready.push(r);
    }
    Ok(ready)
}

/// The content `param:NAME` names: a file part, or (for clients that send the table as an
/// ordinary field) a parameter of that name.
fn inline_part(params: &Params, name: &str) -> Option<PartData> {
    params.file_part(name).map(|f| f.data.clone()).or_else(|| {
        params
            .get(name)
            .map(|v| PartData::Memory(Bytes::copy_from_slice(v.as_bytes())))
    })
}

/// Every part name the UPLOAD parameters among `params` refer to (`param:NAME`), even when
/// an UPLOAD is malformed otherwise.
pub fn inline_refs(params: &Params) -> Vec<String> {
    spec::inline_parts(params.all("UPLOAD"))
}

/// Gunzip `data` if it is compressed; a table that grew takes its larger turn to parse.
async fn decompressed(
    state: &Service,
    name: &str,
    data: Bytes,
    permit: Option<OwnedSemaphorePermit>,
    bytes_left: u64,
) -> Result<(Bytes, Option<OwnedSemaphorePermit>), UploadError> {
    let before = data.len();
    let data = gunzip::if_compressed(name, data, bytes_left).await?;
    if data.len() <= before {
        return Ok((data, permit));
    }
    drop(permit);
    let permit = state.budgets.parsing(data.len() as u64).await;
    Ok((data, permit))
}

/// Check and translate `adql` against the served catalogue plus the uploads.
pub fn translate(
    adql: &str,
    served: &adql::MemoryCatalog,
    ready: &[Ready],
    udfs: &adql::UdfRegistry,
) -> Result<adql::Translation, adql::AdqlError> {
    if ready.is_empty() {
        adql::translate(adql, served, udfs)
    } else {
        adql::translate(adql, &catalog(served, ready), udfs)
    }
}

/// Count one table's bytes against what is left of the query's byte limit.
fn spend(bytes_left: &mut u64, data: &Bytes, limits: Limits) -> Result<(), UploadError> {
    let n = data.len() as u64;
    if n > *bytes_left {
        return Err(UploadError::too_large(format!(
            "the uploads have more than {} bytes, the limit of this service",
            limits.max_bytes
        )));
    }
    *bytes_left -= n;
    Ok(())
}

/// Parse off the async threads: a large upload is CPU work, and so are renaming its columns
/// and writing its COPY text to a spool file (when larger than `limits.body_memory_bytes`).
/// `max_rows` is what is left of `limits.max_rows` after the tables read before this one.
async fn parse(
    state: &Service,
    schema: &'static str,
    name: &str,
    temp: String,
    data: Bytes,
    max_rows: u64,
    limits_total: Limits,
) -> Result<Ready, UploadError> {
    let read_limits = votable::ReadLimits {
        max_rows,
        max_columns: MAX_COLUMNS,
    };
    let spool_past = state.config.limits.body_memory_bytes;
    let spool = state.spool_path();
    let table_name = name.to_string();
    let parsed = tokio::task::spawn_blocking(move || {
        let table = votable::read_upload(&data, &read_limits)?;
        drop(data);
        let spool = (table.copy.len() as u64 > spool_past).then_some(spool);
        Ok::<_, votable::ReadError>(Ready::new(schema, table_name, temp, table, spool))
    })
    .await
    .map_err(|_| UploadError::bad(format!("the upload {name} could not be read")))?;
    let e = match parsed {
        Ok(Ok(ready)) => return Ok(ready),
        Ok(Err(e)) => {
            return Err(UploadError::unavailable(format!(
                "the upload {name} cannot be written to the spool directory: {e}"
            )))
        }
        Err(e) => e,
    };
    // The reader knows only the rows left for this table; say what the limit really is.
    if e.too_large && e.message.contains("rows") {
        return Err(UploadError::too_large(format!(
            "upload {name}: the uploads of one query may have {} rows together, and this one \
             has more than the {max_rows} left",
            limits_total.max_rows
        )));
    }
    let message = format!("upload {name}: {e}");
    Err(if e.too_large {
        UploadError::too_large(message)
    } else {
        UploadError::bad(message)
    })
}

/// The job id when `url` is the result of one of our own jobs: read from the result store
/// instead of over HTTP.
fn own_result(state: &Service, url: &str) -> Option<String> {
    let rest = url.strip_prefix(&format!("{}/async/", state.base_url))?;
    let id = rest.strip_suffix("/results/result")?;
    uws::looks_like_job_id(id).then(|| id.to_string())
}

/// Job ids named as `JOB_UPLOAD.JOB<id>` in the query (any case).
fn job_upload_refs(adql: &str) -> Vec<String> {
    let lower = adql.to_ascii_lowercase();
    let mut ids = Vec::new();
    let mut rest = lower.as_str();
    while let Some(at) = rest.find("job_upload.") {
        rest = &rest[at + "job_upload.".len()..];
        let r = rest.strip_prefix('"').unwrap_or(rest);
        if let Some(after) = r.strip_prefix("job") {
            let id: String = after.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            if uws::looks_like_job_id(&id) && !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

/// The result file of a COMPLETED job of `caller`'s, if it is a table we can read (VOTable or
/// CSV). Another's job is answered like a job that does not exist.
async fn result_of(state: &Service, caller: &Caller, id: &str) -> Result<Bytes, UploadError> {
    let client = state
        .job_store
        .connection()
        .await
        .map_err(|e| UploadError::unavailable(e.to_string()))?;
    let job = crate::job_store::get(&client, id)
        .await
        .map_err(|e| UploadError::unavailable(format!("the job store cannot be read: {e}")))?
        .filter(|job| job.owner_id.as_deref() == caller.owner())
        .ok_or_else(|| UploadError::bad(format!("there is no job '{id}' to read as a table")))?;
    drop(client);
    let result = match (job.phase, &job.result) {
        (uws::Phase::Completed, Some(r)) => r.clone(),
        (p, _) => {
            return Err(UploadError::bad(format!(
                "job {id} is {p}: only the result of a COMPLETED job can be read as a table"
            )))
        }
    };
    let mime = result.mime.to_ascii_lowercase();
    if !(mime.contains("votable") || mime.starts_with("text/xml") || mime.starts_with("text/csv")) {
        return Err(UploadError::bad(format!(
            "the result of job {id} is {}; only VOTable and CSV results can be read as tables",
            result.mime
        )));
    }
    let path = state.job_store.results_dir().join(&result.file);
    tokio::fs::read(&path)
        .await
        .map(Bytes::from)
        .map_err(|e| UploadError::bad(format!("the result of job {id} cannot be read: {e}")))
}

/// The catalogue a query with uploads is checked against: the served one plus the uploads.
fn catalog(served: &adql::MemoryCatalog, ready: &[Ready]) -> adql::MemoryCatalog {
    let mut tables = served.tables.clone();
    for r in ready {
        let columns = r
            .table
            .columns
            .iter()
            .zip(&r.columns)
            .map(|(c, name)| {
                let mut col = adql::Column::new(name.clone(), adql_type(c.sql_type));
                col.unit = c.unit.clone();
                col.ucd = c.ucd.clone();
                col.utype = c.utype.clone();
                col.description = c.description.clone();
                col.unicode = c.datatype == votable::Datatype::UnicodeChar;
                if is_array(c.sql_type) {
                    // The uploaded arraysize (`3`, `*`, `2x3`), for the result FIELD.
                    col.arraysize = c.arraysize.clone();
                }
                col
            })
            .collect();
        let mut table = adql::Table::new(Some(r.schema), &r.name, columns);
        table.physical = Some(format!("pg_temp.{}", quote_ident(&r.temp)));
        tables.push(table);
    }
    adql::MemoryCatalog::new(tables)
}

/// Create, fill and ANALYZE the temporary tables on `client` (outside any transaction), and
/// let `role` read them. On failure whatever was created is dropped again.
pub async fn load(client: &Client, ready: &[Ready], role: Option<&str>) -> Result<(), String> {
    let loaded = load_all(client, ready, role).await;
    if loaded.is_err() {
        unload(client).await;
    }
    loaded
}

async fn load_all(client: &Client, ready: &[Ready], role: Option<&str>) -> Result<(), String> {
    for r in ready {
        let cols: Vec<String> = r
            .table
            .columns
            .iter()
            .zip(&r.columns)
            .map(|(c, name)| format!("{} {}", quote_ident(name), pg_type(c.sql_type)))
            .collect();
        let table = quote_ident(&r.temp);
        let mut ddl = format!("CREATE TEMP TABLE {table} ({})", cols.join(", "));
        if let Some(role) = role {
            ddl.push_str(&format!("; GRANT SELECT ON {table} TO {}", quote_ident(role)));
        }
        client.batch_execute(&ddl).await.map_err(|e| {
            format!(
                "cannot create the upload {}.{}: {}",
                r.schema,
                r.name,
                crate::db::describe(&e)
            )
        })?;
        let sink = client
            .copy_in::<_, Bytes>(&format!("COPY {table} FROM STDIN"))
            .await
            .map_err(|e| format!("cannot load the upload {}: {}", r.name, crate::db::describe(&e)))?;
        futures_util::pin_mut!(sink);
        r.copy
            .copy_into(sink.as_mut(), COPY_CHUNK)
            .await
            .map_err(|e| format!("cannot load the upload {}: {e}", r.name))?;
        sink.as_mut()
            .finish()
            .await
            .map_err(|e| format!("cannot load the upload {}: {}", r.name, crate::db::describe(&e)))?;
        client
            .batch_execute(&format!("ANALYZE {table}"))
            .await
            .map_err(|e| {
                format!(
                    "cannot analyse the upload {}: {}",
                    r.name,
                    crate::db::describe(&e)
                )
            })?;
    }
    Ok(())
}

/// Drop every temporary table of the session (the uploads of the query that just ran).
pub async fn unload(client: &Client) {
    if let Err(e) = client.batch_execute("DISCARD TEMP").await {
        tracing::warn!("cannot drop the uploaded tables: {}", crate::db::describe(&e));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_upload_references() {
        let id = "abcdefghijklmnopqrstuvwxya";
        assert!(uws::looks_like_job_id(id));
        let q = format!(
            "SELECT * FROM job_upload.JOB{} AS a JOIN JOB_UPLOAD.\"job{}\" AS b",
            id.to_uppercase(),
            id
        );
        assert_eq!(job_upload_refs(&q), vec![id.to_string()]);
        assert!(job_upload_refs("SELECT * FROM job_upload.job123").is_empty());
    }
}
