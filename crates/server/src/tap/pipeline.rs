//! The query pipeline both front doors use: `/sync` and the job worker (and, without uploads,
//! the job's quote).
//!
//! [`prepare`] checks the TAP request, reads its uploads within the caller's limits and
//! translates the ADQL against the served catalogue plus those uploads; a rule that concerns
//! every query (who may read which table, a quota) belongs here, once. The [`Prepared`] query
//! then loads its uploads on the connection it will run on and describes the guarded run
//! (`exec::run` / `exec::file::run_to_file`: READ ONLY, statement timeout, the query role,
//! streaming into a writer), and removes the uploads afterwards.

use std::time::Duration;

use tokio_postgres::Client;

use super::{query_request, Params, QueryRequest, Service, TapError};
use crate::exec::{Progress, QueryRun};
use crate::identity::Caller;
use crate::upload;

/// A checked, translated query with its uploads read (not yet loaded).
pub struct Prepared {
    pub request: QueryRequest,
    pub uploads: Vec<upload::Ready>,
    pub translation: adql::Translation,
    /// INFOs for the result (how upload columns were renamed).
    pub notes: Vec<(String, String)>,
    /// The database role the query runs as: what `caller` may read and no more.
    pub role: Option<String>,
}

/// Check the request, read its uploads within `limits`, translate against what `caller` is
/// served (restricted tables it may not read do not exist for it).
pub async fn prepare(
    service: &Service,
    caller: &Caller,
    params: &Params,
    limits: upload::Limits,
) -> Result<Prepared, TapError> {
    let request = query_request(service, params)?;
    let uploads = upload::prepare(service, caller, params, &request.query, limits).await?;
    let served = service.served_for(caller);
    let translation = upload::translate(&request.query, &served.adql, &uploads, &service.udfs)?;
    let notes = upload::Ready::notes(&uploads);
    let role = service.role_for(caller).await?;
    Ok(Prepared {
        request,
        uploads,
        translation,
        notes,
        role,
    })
}

/// Check and translate without reading uploads (a job's quote: a query that needs its
/// uploads does not translate here and simply goes without a quote).
pub fn translate_only(
    service: &Service,
    caller: &Caller,
    params: &Params,
) -> Result<(QueryRequest, adql::Translation), TapError> {
    let request = query_request(service, params)?;
    let translation = adql::translate(&request.query, &service.served_for(caller).adql, &service.udfs)?;
    Ok((request, translation))
}

impl Prepared {
    /// Create, fill and grant the upload tables on `client`, the connection the query runs on.
    pub async fn load_uploads(&self, service: &Service, client: &Client) -> Result<(), String> {
        if self.uploads.is_empty() {
            return Ok(());
        }
        upload::load(client, &self.uploads, service.query_role.as_deref()).await
    }

    /// Drop the upload tables again (whatever happened to the query).
    pub async fn unload_uploads(&self, client: &Client) {
        if !self.uploads.is_empty() {
            upload::unload(client).await;
        }
    }

    /// The run of this query under the service's guard rails: its query role, `timeout`, the
    /// request's MAXREC; `progress` is kept up to date for a job's jobInfo.
    pub fn run<'a>(
        &'a self,
        service: &'a Service,
        timeout: Duration,
        progress: Option<&'a Progress>,
    ) -> QueryRun<'a> {
        QueryRun {
            sql: &self.translation.sql,
            columns: &self.translation.columns,
            maxrec: self.request.maxrec,
            timeout,
            role: self.role.as_deref(),
            adql: &self.request.query,
            notes: &self.notes,
            progress,
            bounds: crate::exec::QueryBounds::of(&service.config.limits),
            max_cost: None,
        }
    }
}
