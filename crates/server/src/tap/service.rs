//! The service every query and job runs in: configuration, the catalogue as served (swapped
//! whole when TAP_SCHEMA is re-read), UDFs, the query role, the sync pool, metrics, and the job
//! system. Built once by `http::serve`, shared as `Arc<Service>`.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::access::Rules;
use super::TapError;
use crate::config::Config;
use crate::identity::Caller;
use crate::tap_schema::TapSchema;

/// The catalogue as served: what /tables shows and what ADQL may use. Swapped whole on reload.
pub struct Served {
    pub tap_schema: TapSchema,
    pub adql: adql::MemoryCatalog,
    /// What members of restricted groups are served, by their sorted restricted groups;
    /// made when first asked, dropped with this catalogue.
    views: Mutex<HashMap<Vec<String>, Arc<Served>>>,
}

impl Served {
    pub fn new(tap_schema: TapSchema) -> Served {
        let adql = tap_schema.to_adql_catalog();
        Served {
            tap_schema,
            adql,
            views: Mutex::new(HashMap::new()),
        }
    }

    /// This catalogue as callers in `groups` see it.
    fn view(&self, rules: &Rules, groups: Vec<String>) -> Arc<Served> {
        let mut views = match self.views.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        Arc::clone(
            views
                .entry(groups)
                .or_insert_with_key(|groups| Arc::new(Served::new(rules.view(&self.tap_schema, groups)))),
        )
    }
}

/// The TAP service: everything a query, a job or a request handler needs.
pub struct Service {
    pub config: Config,
    pub base_url: String,
    pub sync_pool: deadpool_postgres::Pool,
    pub(crate) served: RwLock<Arc<Served>>,
    pub udfs: adql::UdfRegistry,
    /// The role user queries run as, when the database has it.
    pub query_role: Option<String>,
    /// Restricted schemas and tables (`[access] restricted`).
    pub access: Rules,
    /// Roles for callers in several restricted groups made so far (`db::access`).
    pub(crate) combined_roles: Mutex<HashSet<String>>,
    pub metrics: super::metrics::Metrics,
    /// The job store, for JOB_UPLOAD's reading of earlier results. The async side (workers,
    /// event hub) is `jobs::Jobs`, which builds on this service, never the other way round.
    pub job_store: crate::job_store::JobStore,
    pub(crate) spool_dir: PathBuf,
    pub(crate) spool_seq: AtomicU64,
    /// What all requests together may hold of uploads (bodies in flight, tables parsed).
    pub(crate) budgets: crate::upload::Budgets,
}

impl Service {
    /// The whole current catalogue, restricted tables included (cheap: one Arc clone). Only
    /// for Tapir's own use: what a caller is served is [`Service::served_for`].
    pub(crate) fn full_catalogue(&self) -> Arc<Served> {
        match self.served.read() {
            Ok(g) => Arc::clone(&g),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// The catalogue as `caller` is served it: without the restricted tables none of its
    /// groups may read (the in-memory wall of `tap::access`).
    pub fn served_for(&self, caller: &Caller) -> Arc<Served> {
        let full = self.full_catalogue();
        if self.access.is_empty() {
            return full;
        }
        full.view(&self.access, self.access.groups_of(caller))
    }

    /// The database role `caller`'s queries run as: the query role, or for a member of
    /// restricted groups the role that may also read what those groups may (`db::access`).
    pub async fn role_for(&self, caller: &Caller) -> Result<Option<String>, TapError> {
        let Some(base) = &self.query_role else {
            return Ok(None);
        };
        let groups = self.access.groups_of(caller);
        if groups.is_empty() {
            return Ok(Some(base.clone()));
        }
        let role = crate::db::access::role_for(&groups);
        let known =
            |roles: &Mutex<HashSet<String>>| roles.lock().unwrap_or_else(|p| p.into_inner()).contains(&role);
        if groups.len() > 1 && !known(&self.combined_roles) {
            let client = self.sync_pool.get().await?;
            crate::db::access::ensure_combined_role(&client, &groups).await?;
            self.combined_roles
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(role.clone());
        }
        Ok(Some(role))
    }

    /// Serve another catalogue from now on (TAP_SCHEMA re-read on SIGHUP).
    pub(crate) fn replace_served(&self, s: Served) {
        let s = Arc::new(s);
        match self.served.write() {
            Ok(mut g) => *g = s,
            Err(poisoned) => *poisoned.into_inner() = s,
        }
    }

    /// A fresh path for a spool file.
    pub fn spool_path(&self) -> PathBuf {
        let n = self.spool_seq.fetch_add(1, Ordering::Relaxed);
        self.spool_dir.join(format!("spool-{}-{n}", std::process::id()))
    }
}
