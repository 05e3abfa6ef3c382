//! The service every query and job runs in: configuration, the catalogue as served (swapped
//! whole when TAP_SCHEMA is re-read), UDFs, the query role, the sync pool, metrics, and the job
//! system. Built once by `http::serve`, shared as `Arc<Service>`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::config::Config;
use crate::tap_schema::TapSchema;

/// The catalogue as served: what /tables shows and what ADQL may use. Swapped whole on reload.
pub struct Served {
    pub tap_schema: TapSchema,
    pub adql: adql::MemoryCatalog,
}

impl Served {
    pub fn new(tap_schema: TapSchema) -> Served {
        let adql = tap_schema.to_adql_catalog();
        Served { tap_schema, adql }
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
    pub metrics: super::metrics::Metrics,
    /// The async side: job store, workers, event hub.
    pub jobs: crate::jobs::Jobs,
    pub(crate) spool_dir: PathBuf,
    pub(crate) spool_seq: AtomicU64,
    /// What all requests together may hold of uploads (bodies in flight, tables parsed).
    pub(crate) budgets: crate::upload::Budgets,
}

impl Service {
    /// The current catalogue (cheap: one Arc clone).
    pub fn served(&self) -> Arc<Served> {
        match self.served.read() {
            Ok(g) => Arc::clone(&g),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
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
