//! Configuration: built-in defaults, then a TOML file (`config/default.toml` or
//! `--config FILE`), then `TAPIR_*` environment variables, then command-line flags.
//!
//! Every key has a default so that `tapir serve` with no file at all runs the
//! embedded demo. `tapir check-config` prints the effective result.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub limits: LimitsConfig,
    pub jobs: JobsConfig,
    pub uploads: UploadsConfig,
    pub service: ServiceConfig,
    pub identity: IdentityConfig,
    pub access: AccessConfig,
    /// Per-user limits for members of a group, by group name (`[group_limits.NAME]`).
    pub group_limits: std::collections::BTreeMap<String, GroupLimits>,
    pub compression: CompressionConfig,
}

/// What members of one group may do, overriding the per-user defaults (`jobs.queued_per_user`,
/// `jobs.running_per_user`, `limits.sync_per_client`, `jobs.result_storage_per_user_bytes`).
/// A user in several groups gets the most generous value of each; 0 means no limit, as in
/// the defaults. Unset keys keep the default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupLimits {
    pub queued_per_user: Option<u64>,
    pub running_per_user: Option<u32>,
    pub sync_per_client: Option<u32>,
    pub result_storage_bytes: Option<u64>,
}

impl GroupLimits {
    /// `group:key=value,key=value;group2:key=value`, the environment's form.
    fn parse_env(
        name: &str,
        v: &str,
    ) -> Result<std::collections::BTreeMap<String, GroupLimits>, ConfigError> {
        let bad = |reason: String| ConfigError::Env {
            name: name.into(),
            value: v.into(),
            reason,
        };
        let mut out = std::collections::BTreeMap::new();
        for entry in v.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let (group, settings) = entry
                .split_once(':')
                .ok_or_else(|| bad(format!("{entry:?} is not GROUP:KEY=VALUE[,KEY=VALUE...]")))?;
            let mut limits = GroupLimits::default();
            for setting in settings.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                let (key, value) = setting
                    .split_once('=')
                    .ok_or_else(|| bad(format!("{setting:?} is not KEY=VALUE")))?;
                let n: u64 = value
                    .trim()
                    .parse()
                    .map_err(|_| bad(format!("{value:?} is not a whole number")))?;
                let small = || u32::try_from(n).map_err(|_| bad(format!("{n} is too large for {key}")));
                match key.trim() {
                    "queued_per_user" => limits.queued_per_user = Some(n),
                    "running_per_user" => limits.running_per_user = Some(small()?),
                    "sync_per_client" => limits.sync_per_client = Some(small()?),
                    "result_storage_bytes" => limits.result_storage_bytes = Some(n),
                    other => return Err(bad(format!("no group limit is called {other:?}"))),
                }
            }
            out.insert(group.trim().to_string(), limits);
        }
        Ok(out)
    }
}

/// Restricted data (issue 14, the SOAR seed's "access to restricted data"): schemas or tables
/// that only members of given groups may read. For everyone else they do not exist: not in
/// `/tables`, not in TAP_SCHEMA's rows, "not found" in ADQL, and unreadable in the database.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccessConfig {
    /// The TAP name of a schema (`soar_private`) or of a table (`gaia.secret`) -> the groups
    /// whose members may read it.
    pub restricted: std::collections::BTreeMap<String, Vec<String>>,
}

impl AccessConfig {
    /// `schema=group1,group2;schema.table=group3`, the environment's form.
    fn parse_env(
        name: &str,
        v: &str,
    ) -> Result<std::collections::BTreeMap<String, Vec<String>>, ConfigError> {
        let mut out = std::collections::BTreeMap::new();
        for entry in v.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let Some((object, groups)) = entry.split_once('=') else {
                return Err(ConfigError::Env {
                    name: name.into(),
                    value: v.into(),
                    reason: format!("{entry:?} is not NAME=GROUP[,GROUP...]"),
                });
            };
            let groups = groups
                .split(',')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(str::to_string)
                .collect();
            out.insert(object.trim().to_string(), groups);
        }
        Ok(out)
    }
}

/// HTTP response compression (`Content-Encoding`, issue 13): what the service offers and how
/// hard it works. The defaults favour speed: a download must not become slower because the
/// client (every Python `requests` user) asks for gzip, and BINARY2 VOTables barely compress
/// better at higher levels (docs/tap.md, "Compression", has the figures).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompressionConfig {
    /// Deflate level of `gzip` answers, 1 (fastest) to 9; 0: gzip is not offered.
    pub gzip_level: u32,
    /// zstd level of `zstd` answers (preferred over gzip when both are accepted), 1 to 19;
    /// 0: zstd is not offered.
    pub zstd_level: i32,
    /// Answers smaller than this many bytes are sent uncompressed: below a few packets
    /// compression saves no time and costs a little.
    pub min_bytes: u64,
    /// Write a compressed copy of each finished async result in every coding offered, so that
    /// compressed downloads are sent as stored rather than compressed again each time (which
    /// is slower than reading the file): costs disk (`coding::write_copies`).
    pub store_copies: bool,
}

impl Default for CompressionConfig {
    fn default() -> Self {
        CompressionConfig {
            gzip_level: 1,
            zstd_level: 1,
            min_bytes: 4096,
            store_copies: true,
        }
    }
}

/// Accounts and sessions (issue 14). Users, groups and tokens live in the database and are
/// managed with `tapir user`, `tapir group` and `tapir token`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentityConfig {
    /// Seconds a login session lives without being used.
    pub session_idle_secs: u64,
    /// Seconds a login session lives at most, however much it is used.
    pub session_max_secs: u64,
    /// Seconds a verified `Authorization: Basic` credential is remembered (as a digest, in
    /// memory) so that Argon2 is not paid per request; 0: verify every time.
    pub basic_cache_secs: u64,
    /// Accept passwords, tokens and session cookies over plain HTTP from loopback addresses
    /// (a test setup without TLS). Never over plain HTTP from anywhere else.
    pub plain_http_on_loopback: bool,
    /// A header by which an authenticating front proxy (single sign-on) names the user, e.g.
    /// `X-Remote-User`; believed only from `server.trusted_proxies`. Empty: off.
    pub proxy_user_header: String,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            session_idle_secs: 12 * 3600,
            session_max_secs: 7 * 86_400,
            basic_cache_secs: 60,
            plain_http_on_loopback: false,
            proxy_user_header: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub bind: String,
    /// The URL clients reach the service at, used in every absolute URL the service emits
    /// (capabilities, Location headers). Empty: derived from `bind` and `base_path`.
    pub public_url: String,
    /// Where the TAP endpoints live (`/tap/sync`, ...).
    pub base_path: String,
    /// Tapir's own files: the embedded PostgreSQL cluster, result files.
    pub data_dir: PathBuf,
    /// Connections served at once; more are closed as they come.
    pub max_connections: usize,
    /// Seconds a connection has to send a request's headers once it may (the first request,
    /// or the next on a kept-alive connection): closes slowloris and idle connections.
    pub header_timeout_secs: u64,
    /// Origins whose web pages may call the service from a browser (CORS); `["*"]`: any.
    pub cors_origins: Vec<String>,
    /// Whether `/metrics` (Prometheus) is served; off for a service that does not want its
    /// counters public.
    pub metrics: bool,
    /// Reverse proxies (addresses or CIDR blocks) whose `X-Forwarded-For` is believed when
    /// telling clients apart (per-client limits), and whose `X-Forwarded-Proto: https` makes a
    /// request count as HTTPS (credentials); from any other peer these headers are ignored.
    pub trusted_proxies: Vec<String>,
    /// A second listener speaking HTTPS (e.g. `0.0.0.0:8443`); empty: none. TapPlus's
    /// `login()` always connects over HTTPS.
    pub tls_bind: String,
    /// PEM certificate chain for `tls_bind` (re-read on SIGHUP).
    pub tls_cert: PathBuf,
    /// PEM private key for `tls_bind` (re-read on SIGHUP). Never printed by `check-config`.
    pub tls_key: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// PostgreSQL URL (`postgres://user@host/db` or `host=... dbname=...`). Empty: run the
    /// embedded cluster in `data_dir/pg` with the demo catalogue.
    pub url: String,
    /// Connections for synchronous queries.
    pub sync_pool: usize,
    /// Connections of the job store for UWS requests and upkeep (plus one per job worker).
    /// Jobs' queries run on connections of their own, one per worker (`jobs.workers`), so
    /// async jobs can never starve /sync.
    pub async_pool: usize,
    /// PostgreSQL's `bin` directory for the embedded cluster; empty: `pg_config --bindir`,
    /// then `/usr/lib/postgresql/*/bin`.
    pub pg_bindir: String,
    /// The system user that runs the embedded cluster when Tapir runs as root (initdb refuses root).
    pub embedded_user: String,
    /// What the embedded cluster does when its PostgreSQL refuses the machine's pgSphere
    /// script (Debian 12: PostgreSQL 15.20 or later with pgSphere 1.2.0).
    pub pgsphere_fix: PgSphereFix,
}

/// `database.pgsphere_fix`: whether the embedded cluster may run from a private copy of the
/// machine's PostgreSQL installation whose pgSphere script is corrected (in
/// `data_dir/pg-install`; see `tapir_pginstall`). Operators' own databases are never changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PgSphereFix {
    /// Only when `CREATE EXTENSION pg_sphere` fails with the commutator clash.
    #[default]
    Auto,
    /// Always, even where the machine's script works (to test the copy on any machine).
    Always,
    /// Never: the clash stops the start with instructions.
    Never,
}

impl std::str::FromStr for PgSphereFix {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(PgSphereFix::Auto),
            "always" => Ok(PgSphereFix::Always),
            "never" => Ok(PgSphereFix::Never),
            _ => Err("not auto, always or never".into()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Rows returned when the client gives no MAXREC.
    pub maxrec_default: u64,
    /// Rows returned at most, whatever MAXREC says.
    pub maxrec_hard: u64,
    /// Seconds a synchronous query may run (statement_timeout).
    pub sync_timeout_secs: u64,
    /// Seconds a synchronous query waits for a free connection before it is answered 503
    /// with Retry-After (the whole service is busy).
    pub sync_queue_wait_secs: u64,
    /// Synchronous queries one client (address) may have running at once; one more is answered
    /// 429 with Retry-After. 0: no limit. Behind a reverse proxy, list the proxy in
    /// `server.trusted_proxies`, or every user counts as the proxy's one address.
    pub sync_per_client: u32,
    /// The largest planner cost (PostgreSQL's `EXPLAIN` estimate, in its abstract units) a
    /// synchronous query may have; a costlier one is refused before it runs and told to go
    /// async, with the estimate. 0: no check.
    pub sync_max_cost: f64,
    /// `work_mem` of one user query, in kB (per sort or hash node).
    pub query_work_mem_kb: u64,
    /// `join_collapse_limit`/`from_collapse_limit` of user queries: bounds planning of many-join
    /// queries (the written join order is kept past this many relations).
    pub planner_collapse_limit: u32,
    /// Bytes the uploads of one synchronous query may have (also bounds the request body).
    pub upload_max_bytes: u64,
    /// Rows the uploads of one synchronous query may have, all tables together.
    pub upload_max_rows: u64,
    /// Bytes the uploads of one async job may have.
    pub async_upload_max_bytes: u64,
    /// Rows the uploads of one async job may have.
    pub async_upload_max_rows: u64,
    /// Bytes of a request body's file parts kept in memory; the part that would pass it, and
    /// every later one, is written to a spool file under the data directory as it arrives.
    pub body_memory_bytes: u64,
    /// Bytes of request bodies (with /sync or /async uploads) being received or held at once,
    /// all requests together: one more is answered 503 with Retry-After. Bounds the spool
    /// directory and the memory of bodies in flight.
    pub bodies_in_flight_bytes: u64,
    /// Bytes of uploaded tables parsed in memory at once, all queries and jobs together (a
    /// table counts twice: its bytes and the COPY text made of them). More wait their turn; a
    /// table larger than this is parsed alone.
    pub upload_parse_memory_bytes: u64,
}

/// Tables uploaded by URL (`UPLOAD=name,https://...`), which the server fetches itself.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct UploadsConfig {
    /// Whether http(s) URLs are fetched at all.
    pub fetch_urls: bool,
    /// How long one fetch may take, redirects included.
    pub fetch_timeout_secs: u64,
    /// Refuse URLs whose host resolves to a loopback, private, link-local or otherwise
    /// internal address, so that users cannot make the server read the operator's network.
    pub deny_private: bool,
    /// When not empty, only these hosts (exact names or addresses) are fetched from; a host
    /// listed here is allowed even when it is internal.
    pub allow_hosts: Vec<String>,
    /// Hosts never fetched from.
    pub deny_hosts: Vec<String>,
}

impl Default for UploadsConfig {
    fn default() -> Self {
        UploadsConfig {
            fetch_urls: true,
            fetch_timeout_secs: 60,
            deny_private: true,
            allow_hosts: Vec::new(),
            deny_hosts: Vec::new(),
        }
    }
}

/// Asynchronous (UWS) jobs. The defaults follow ESO's archive: results kept for a day unless
/// the user asks for longer, six months at most.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Jobs this process runs at once (each with its own database connection).
    pub workers: usize,
    /// executionDuration granted when the client asks for none, in seconds.
    pub duration_default_secs: u64,
    /// The longest executionDuration granted; longer requests (and 0) get this.
    pub duration_max_secs: u64,
    /// How long a job and its result are kept when the client does not say.
    pub retention_default_secs: u64,
    /// The latest destruction a client may ask for, counted from the job's creation.
    pub retention_max_secs: u64,
    /// How long the jobs of authenticated users are kept (their default and their maximum);
    /// 0: until the user deletes them (ESA: results "remain in the server for ever").
    pub user_retention_secs: u64,
    /// The longest a blocking `WAIT` holds a request (below common proxy timeouts).
    pub wait_max_secs: u64,
    /// How often the reaper looks for jobs past their destruction time.
    pub reap_interval_secs: u64,
    /// A process whose heartbeat is older than this is taken for dead and its executing jobs
    /// are ended. Heartbeats go out every third of it.
    pub lease_secs: u64,
    /// Whether the jobs of a dead process are queued again instead of ending in ERROR.
    pub requeue_on_crash: bool,
    /// Where result files live; empty: `data_dir/results`. Processes that share a job store
    /// must share this directory too.
    pub results_dir: PathBuf,
    /// Jobs one job list (`GET /async`, ESA's `/jobs/async`) shows at most, newest first:
    /// the answer stays bounded however many jobs the store holds.
    pub list_max: u64,
    /// Jobs waiting in QUEUED at most: a request that would queue one more is answered 429
    /// with Retry-After instead of growing the queue without bound.
    pub queue_max: u64,
    /// Jobs one authenticated user may have waiting in QUEUED (429 past it); 0: no limit.
    pub queued_per_user: u64,
    /// Jobs one authenticated user may have EXECUTING at once; more wait in QUEUED (never
    /// refused). 0: no limit. Workers always take the oldest job of the owner with the
    /// fewest jobs running (fair share).
    pub running_per_user: u32,
    /// Bytes of job results one authenticated user may keep (their jobs are kept until they
    /// delete them): past it, new jobs are refused (403) until the user deletes some. 0: no
    /// limit. Checked when a job is queued, so one last result may go over it.
    pub result_storage_per_user_bytes: u64,
    /// Whether `GET /async?...&QUERY=...` creates a job, as the Solar Orbiter archive
    /// documents (a GET that changes state; a crawler following such a link starts a query).
    pub create_by_get: bool,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            workers: 4,
            duration_default_secs: 3600,
            duration_max_secs: 14_400,
            retention_default_secs: 86_400,
            retention_max_secs: 180 * 86_400,
            user_retention_secs: 0,
            wait_max_secs: 60,
            reap_interval_secs: 60,
            lease_secs: 30,
            requeue_on_crash: false,
            results_dir: PathBuf::new(),
            queue_max: 1000,
            queued_per_user: 200,
            running_per_user: 2,
            result_storage_per_user_bytes: 10 << 30,
            list_max: 1000,
            create_by_get: true,
        }
    }
}

impl JobsConfig {
    /// The directory result files go to.
    pub fn results_dir(&self, data_dir: &Path) -> PathBuf {
        if self.results_dir.as_os_str().is_empty() {
            data_dir.join("results")
        } else {
            self.results_dir.clone()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceConfig {
    pub title: String,
    pub description: String,
    pub publisher: String,
    pub contact_name: String,
    pub contact_email: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: "127.0.0.1:8080".into(),
            public_url: String::new(),
            base_path: "/tap".into(),
            data_dir: PathBuf::from("data"),
            max_connections: 1024,
            header_timeout_secs: 30,
            cors_origins: vec!["*".into()],
            metrics: true,
            trusted_proxies: Vec::new(),
            tls_bind: String::new(),
            tls_cert: PathBuf::new(),
            tls_key: PathBuf::new(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: String::new(),
            sync_pool: 16,
            async_pool: 4,
            pg_bindir: String::new(),
            embedded_user: "postgres".into(),
            pgsphere_fix: PgSphereFix::Auto,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            maxrec_default: 100_000,
            maxrec_hard: 10_000_000,
            sync_timeout_secs: 600,
            sync_queue_wait_secs: 10,
            sync_per_client: 4,
            sync_max_cost: 1.0e8,
            query_work_mem_kb: 65_536,
            planner_collapse_limit: 8,
            upload_max_bytes: 100 * 1024 * 1024,
            upload_max_rows: 1_000_000,
            async_upload_max_bytes: 500 * 1024 * 1024,
            async_upload_max_rows: 5_000_000,
            body_memory_bytes: 1024 * 1024,
            bodies_in_flight_bytes: 1024 * 1024 * 1024,
            upload_parse_memory_bytes: 256 * 1024 * 1024,
        }
    }
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            title: "Tapir TAP service".into(),
            description: "An IVOA TAP 1.1 service for astronomical catalogues, served by Tapir.".into(),
            publisher: "Tapir".into(),
            contact_name: String::new(),
            contact_email: String::new(),
        }
    }
}

/// What can go wrong reading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Parse { path: PathBuf, source: toml::de::Error },
    #[error("environment variable {name}={value:?}: {reason}")]
    Env {
        name: String,
        value: String,
        reason: String,
    },
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// Defaults, then the file (if given, or `config/default.toml` if it exists), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let default_file = Path::new("config/default.toml");
        let path = match file {
            Some(p) => Some(p.to_path_buf()),
            None if default_file.is_file() => Some(default_file.to_path_buf()),
            None => None,
        };
        let mut config = match &path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.clone(),
                    source,
                })?;
                toml::from_str(&text).map_err(|source| ConfigError::Parse {
                    path: p.clone(),
                    source,
                })?
            }
            None => Config::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        config.validate()?;
        Ok(config)
    }

    /// `TAPIR_<SECTION>_<KEY>` overrides `[section] key`, e.g. `TAPIR_DATABASE_URL`,
    /// `TAPIR_LIMITS_MAXREC_DEFAULT`, `TAPIR_SERVER_BIND`.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn num<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, ConfigError> {
            v.trim().parse().map_err(|_| ConfigError::Env {
                name: name.into(),
                value: v.into(),
                reason: "not a whole number".into(),
            })
        }
        let s = &mut self.server;
        let d = &mut self.database;
        let l = &mut self.limits;
        let m = &mut self.service;
        let j = &mut self.jobs;
        let u = &mut self.uploads;
        fn flag(name: &str, v: &str) -> Result<bool, ConfigError> {
            match v.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(ConfigError::Env {
                    name: name.into(),
                    value: v.into(),
                    reason: "not true or false".into(),
                }),
            }
        }
        fn list(v: &str) -> Vec<String> {
            v.split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(str::to_string)
                .collect()
        }
        for (name, v) in ENV_KEYS.iter().filter_map(|n| get(n).map(|v| (*n, v))) {
            match name {
                "TAPIR_SERVER_BIND" => s.bind = v,
                "TAPIR_SERVER_PUBLIC_URL" => s.public_url = v,
                "TAPIR_SERVER_BASE_PATH" => s.base_path = v,
                "TAPIR_SERVER_DATA_DIR" => s.data_dir = PathBuf::from(v),
                "TAPIR_SERVER_MAX_CONNECTIONS" => s.max_connections = num(name, &v)?,
                "TAPIR_SERVER_HEADER_TIMEOUT_SECS" => s.header_timeout_secs = num(name, &v)?,
                "TAPIR_SERVER_CORS_ORIGINS" => s.cors_origins = list(&v),
                "TAPIR_SERVER_METRICS" => s.metrics = flag(name, &v)?,
                "TAPIR_SERVER_TRUSTED_PROXIES" => s.trusted_proxies = list(&v),
                "TAPIR_SERVER_TLS_BIND" => s.tls_bind = v,
                "TAPIR_SERVER_TLS_CERT" => s.tls_cert = PathBuf::from(v),
                "TAPIR_SERVER_TLS_KEY" => s.tls_key = PathBuf::from(v),
                "TAPIR_IDENTITY_SESSION_IDLE_SECS" => self.identity.session_idle_secs = num(name, &v)?,
                "TAPIR_IDENTITY_SESSION_MAX_SECS" => self.identity.session_max_secs = num(name, &v)?,
                "TAPIR_IDENTITY_BASIC_CACHE_SECS" => self.identity.basic_cache_secs = num(name, &v)?,
                "TAPIR_IDENTITY_PROXY_USER_HEADER" => self.identity.proxy_user_header = v,
                "TAPIR_ACCESS_RESTRICTED" => self.access.restricted = AccessConfig::parse_env(name, &v)?,
                "TAPIR_IDENTITY_PLAIN_HTTP_ON_LOOPBACK" => {
                    self.identity.plain_http_on_loopback = flag(name, &v)?
                }
                "TAPIR_DATABASE_URL" => d.url = v,
                "TAPIR_DATABASE_SYNC_POOL" => d.sync_pool = num(name, &v)?,
                "TAPIR_DATABASE_ASYNC_POOL" => d.async_pool = num(name, &v)?,
                "TAPIR_DATABASE_PG_BINDIR" => d.pg_bindir = v,
                "TAPIR_DATABASE_EMBEDDED_USER" => d.embedded_user = v,
                "TAPIR_DATABASE_PGSPHERE_FIX" => {
                    d.pgsphere_fix = v.parse().map_err(|reason| ConfigError::Env {
                        name: name.into(),
                        value: v.clone(),
                        reason,
                    })?
                }
                "TAPIR_LIMITS_MAXREC_DEFAULT" => l.maxrec_default = num(name, &v)?,
                "TAPIR_LIMITS_MAXREC_HARD" => l.maxrec_hard = num(name, &v)?,
                "TAPIR_LIMITS_SYNC_TIMEOUT_SECS" => l.sync_timeout_secs = num(name, &v)?,
                "TAPIR_LIMITS_SYNC_QUEUE_WAIT_SECS" => l.sync_queue_wait_secs = num(name, &v)?,
                "TAPIR_LIMITS_SYNC_PER_CLIENT" => l.sync_per_client = num(name, &v)?,
                "TAPIR_LIMITS_SYNC_MAX_COST" => l.sync_max_cost = num(name, &v)?,
                "TAPIR_LIMITS_QUERY_WORK_MEM_KB" => l.query_work_mem_kb = num(name, &v)?,
                "TAPIR_LIMITS_PLANNER_COLLAPSE_LIMIT" => l.planner_collapse_limit = num(name, &v)?,
                "TAPIR_LIMITS_UPLOAD_MAX_BYTES" => l.upload_max_bytes = num(name, &v)?,
                "TAPIR_JOBS_WORKERS" => j.workers = num(name, &v)?,
                "TAPIR_JOBS_DURATION_DEFAULT_SECS" => j.duration_default_secs = num(name, &v)?,
                "TAPIR_JOBS_DURATION_MAX_SECS" => j.duration_max_secs = num(name, &v)?,
                "TAPIR_JOBS_RETENTION_DEFAULT_SECS" => j.retention_default_secs = num(name, &v)?,
                "TAPIR_JOBS_RETENTION_MAX_SECS" => j.retention_max_secs = num(name, &v)?,
                "TAPIR_JOBS_USER_RETENTION_SECS" => j.user_retention_secs = num(name, &v)?,
                "TAPIR_JOBS_WAIT_MAX_SECS" => j.wait_max_secs = num(name, &v)?,
                "TAPIR_JOBS_REAP_INTERVAL_SECS" => j.reap_interval_secs = num(name, &v)?,
                "TAPIR_JOBS_LEASE_SECS" => j.lease_secs = num(name, &v)?,
                "TAPIR_JOBS_REQUEUE_ON_CRASH" => j.requeue_on_crash = flag(name, &v)?,
                "TAPIR_LIMITS_UPLOAD_MAX_ROWS" => l.upload_max_rows = num(name, &v)?,
                "TAPIR_LIMITS_ASYNC_UPLOAD_MAX_BYTES" => l.async_upload_max_bytes = num(name, &v)?,
                "TAPIR_LIMITS_ASYNC_UPLOAD_MAX_ROWS" => l.async_upload_max_rows = num(name, &v)?,
                "TAPIR_LIMITS_BODY_MEMORY_BYTES" => l.body_memory_bytes = num(name, &v)?,
                "TAPIR_LIMITS_BODIES_IN_FLIGHT_BYTES" => l.bodies_in_flight_bytes = num(name, &v)?,
                "TAPIR_LIMITS_UPLOAD_PARSE_MEMORY_BYTES" => l.upload_parse_memory_bytes = num(name, &v)?,
                "TAPIR_UPLOADS_FETCH_URLS" => u.fetch_urls = flag(name, &v)?,
                "TAPIR_UPLOADS_FETCH_TIMEOUT_SECS" => u.fetch_timeout_secs = num(name, &v)?,
                "TAPIR_UPLOADS_DENY_PRIVATE" => u.deny_private = flag(name, &v)?,
                "TAPIR_UPLOADS_ALLOW_HOSTS" => u.allow_hosts = list(&v),
                "TAPIR_UPLOADS_DENY_HOSTS" => u.deny_hosts = list(&v),
                "TAPIR_JOBS_RESULTS_DIR" => j.results_dir = PathBuf::from(v),
                "TAPIR_JOBS_CREATE_BY_GET" => j.create_by_get = flag(name, &v)?,
                "TAPIR_JOBS_QUEUE_MAX" => j.queue_max = num(name, &v)?,
                "TAPIR_JOBS_QUEUED_PER_USER" => j.queued_per_user = num(name, &v)?,
                "TAPIR_JOBS_RUNNING_PER_USER" => j.running_per_user = num(name, &v)?,
                "TAPIR_JOBS_RESULT_STORAGE_PER_USER_BYTES" => {
                    j.result_storage_per_user_bytes = num(name, &v)?
                }
                "TAPIR_GROUP_LIMITS" => self.group_limits = GroupLimits::parse_env(name, &v)?,
                "TAPIR_JOBS_LIST_MAX" => j.list_max = num(name, &v)?,
                "TAPIR_COMPRESSION_GZIP_LEVEL" => self.compression.gzip_level = num(name, &v)?,
                "TAPIR_COMPRESSION_ZSTD_LEVEL" => self.compression.zstd_level = num(name, &v)?,
                "TAPIR_COMPRESSION_MIN_BYTES" => self.compression.min_bytes = num(name, &v)?,
                "TAPIR_COMPRESSION_STORE_COPIES" => self.compression.store_copies = flag(name, &v)?,
                "TAPIR_SERVICE_TITLE" => m.title = v,
                "TAPIR_SERVICE_DESCRIPTION" => m.description = v,
                "TAPIR_SERVICE_PUBLISHER" => m.publisher = v,
                "TAPIR_SERVICE_CONTACT_NAME" => m.contact_name = v,
                "TAPIR_SERVICE_CONTACT_EMAIL" => m.contact_email = v,
                _ => {}
            }
        }
        Ok(())
    }

    /// Normalise and check values that would otherwise fail later and obscurely.
    pub fn validate(&mut self) -> Result<(), ConfigError> {
        let bp = self.server.base_path.trim().trim_end_matches('/');
        self.server.base_path = if bp.is_empty() || bp.starts_with('/') {
            bp.to_string()
        } else {
            format!("/{bp}")
        };
        self.server.public_url = self.server.public_url.trim().trim_end_matches('/').to_string();
        if self.limits.maxrec_default > self.limits.maxrec_hard {
            return Err(ConfigError::Invalid(format!(
                "limits.maxrec_default ({}) is above limits.maxrec_hard ({})",
                self.limits.maxrec_default, self.limits.maxrec_hard
            )));
        }
        if let Err(e) = crate::netblock::parse_list(&self.server.trusted_proxies) {
            return Err(ConfigError::Invalid(format!("server.trusted_proxies: {e}")));
        }
        let s = &self.server;
        if !s.tls_bind.trim().is_empty()
            && (s.tls_cert.as_os_str().is_empty() || s.tls_key.as_os_str().is_empty())
        {
            return Err(ConfigError::Invalid(
                "server.tls_bind needs server.tls_cert and server.tls_key (PEM files)".into(),
            ));
        }
        for (object, groups) in &self.access.restricted {
            let parts: Vec<&str> = object.split('.').collect();
            if parts.len() > 2 || parts.iter().any(|p| p.trim().is_empty()) {
                return Err(ConfigError::Invalid(format!(
                    "access.restricted: {object:?} is not a schema or schema.table name"
                )));
            }
            if groups.is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "access.restricted: {object:?} names no group (nobody could read it; remove it from TAP_SCHEMA instead)"
                )));
            }
            for g in groups {
                crate::identity::check_name("access.restricted: group", g).map_err(ConfigError::Invalid)?;
            }
        }
        for g in self.group_limits.keys() {
            crate::identity::check_name("group_limits: group", g).map_err(ConfigError::Invalid)?;
        }
        let i = &self.identity;
        if !i.proxy_user_header.is_empty()
            && axum::http::HeaderName::from_bytes(i.proxy_user_header.as_bytes()).is_err()
        {
            return Err(ConfigError::Invalid(format!(
                "identity.proxy_user_header {:?} is not a header name",
                i.proxy_user_header
            )));
        }
        if !i.proxy_user_header.is_empty() && self.server.trusted_proxies.is_empty() {
            return Err(ConfigError::Invalid(
                "identity.proxy_user_header needs server.trusted_proxies: the header is believed only from them".into(),
            ));
        }
        if i.session_idle_secs == 0 || i.session_max_secs == 0 {
            return Err(ConfigError::Invalid(
                "identity.session_idle_secs and identity.session_max_secs must be at least 1".into(),
            ));
        }
        if !(self.limits.sync_max_cost.is_finite() && self.limits.sync_max_cost >= 0.0) {
            return Err(ConfigError::Invalid(
                "limits.sync_max_cost must be a number, 0 or more (0: no check)".into(),
            ));
        }
        let j = &self.jobs;
        if j.workers == 0 || j.lease_secs < 3 || j.reap_interval_secs == 0 {
            return Err(ConfigError::Invalid(
                "jobs.workers and jobs.reap_interval_secs must be at least 1, jobs.lease_secs at least 3"
                    .into(),
            ));
        }
        if j.duration_default_secs == 0
            || j.duration_default_secs > j.duration_max_secs
            || j.retention_default_secs > j.retention_max_secs
        {
            return Err(ConfigError::Invalid(format!(
                "jobs: the defaults must be positive and within the maxima (executionDuration {} of {}, \
                 retention {} of {})",
                j.duration_default_secs, j.duration_max_secs, j.retention_default_secs, j.retention_max_secs
            )));
        }
        if self.limits.upload_parse_memory_bytes == 0 {
            return Err(ConfigError::Invalid(
                "limits.upload_parse_memory_bytes must be at least 1 (no upload could be read)".into(),
            ));
        }
        let c = &self.compression;
        if c.gzip_level > 9 || !(0..=19).contains(&c.zstd_level) {
            return Err(ConfigError::Invalid(format!(
                "compression.gzip_level must be 0 to 9 and compression.zstd_level 0 to 19 (0: not offered), \
                 not {} and {}",
                c.gzip_level, c.zstd_level
            )));
        }
        if self.database.sync_pool == 0 || self.database.async_pool == 0 {
            return Err(ConfigError::Invalid(
                "database pool sizes must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// The absolute URL of the TAP base (`http://host:port/tap`), for capabilities and Locations.
    /// The configuration as `tapir check-config` prints it: a password in `database.url`
    /// (URL form `postgres://user:secret@host/db` or `password=secret`) is replaced by `***`.
    pub fn redacted(&self) -> Config {
        let mut c = self.clone();
        c.database.url = redact_url(&c.database.url);
        c
    }

    /// The URL the service writes into its documents and redirects: `server.public_url`, else
    /// the HTTPS listener when there is one (a service that can speak HTTPS sends its clients
    /// there, with their credentials), else the plain one.
    pub fn base_url(&self) -> String {
        if !self.server.public_url.is_empty() {
            self.server.public_url.clone()
        } else if !self.server.tls_bind.trim().is_empty() {
            format!("https://{}{}", self.server.tls_bind.trim(), self.server.base_path)
        } else {
            format!("http://{}{}", self.server.bind, self.server.base_path)
        }
    }
}

/// `url` with any password replaced by `***`.
fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        // The userinfo ends at the last '@' before the path.
        let authority_end = rest.find('/').unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        if let Some((userinfo, host)) = authority.rsplit_once('@') {
            if let Some((user, _secret)) = userinfo.split_once(':') {
                return format!("{scheme}://{user}:***@{host}{path}");
            }
        }
        // A password can also come as a query parameter.
        return redact_pairs(url, '&');
    }
    redact_pairs(url, ' ')
}

/// `password=...` items (separated by `sep`) with the value replaced.
fn redact_pairs(s: &str, sep: char) -> String {
    s.split(sep)
        .map(|item| {
            let key = item.trim_start_matches('?').split('=').next().unwrap_or("");
            if key.trim().eq_ignore_ascii_case("password") {
                let prefix = &item[..item.find('=').map_or(item.len(), |i| i + 1)];
                format!("{prefix}***")
            } else {
                item.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(&sep.to_string())
}

/// Every environment variable Tapir reads.
pub const ENV_KEYS: &[&str] = &[
    "TAPIR_SERVER_BIND",
    "TAPIR_SERVER_PUBLIC_URL",
    "TAPIR_SERVER_BASE_PATH",
    "TAPIR_SERVER_DATA_DIR",
    "TAPIR_SERVER_MAX_CONNECTIONS",
    "TAPIR_SERVER_HEADER_TIMEOUT_SECS",
    "TAPIR_SERVER_CORS_ORIGINS",
    "TAPIR_SERVER_METRICS",
    "TAPIR_SERVER_TRUSTED_PROXIES",
    "TAPIR_SERVER_TLS_BIND",
    "TAPIR_SERVER_TLS_CERT",
    "TAPIR_SERVER_TLS_KEY",
    "TAPIR_DATABASE_URL",
    "TAPIR_DATABASE_SYNC_POOL",
    "TAPIR_DATABASE_ASYNC_POOL",
    "TAPIR_DATABASE_PG_BINDIR",
    "TAPIR_DATABASE_EMBEDDED_USER",
    "TAPIR_DATABASE_PGSPHERE_FIX",
    "TAPIR_LIMITS_MAXREC_DEFAULT",
    "TAPIR_LIMITS_MAXREC_HARD",
    "TAPIR_LIMITS_SYNC_TIMEOUT_SECS",
    "TAPIR_LIMITS_SYNC_QUEUE_WAIT_SECS",
    "TAPIR_LIMITS_SYNC_PER_CLIENT",
    "TAPIR_LIMITS_SYNC_MAX_COST",
    "TAPIR_LIMITS_QUERY_WORK_MEM_KB",
    "TAPIR_LIMITS_PLANNER_COLLAPSE_LIMIT",
    "TAPIR_LIMITS_UPLOAD_MAX_BYTES",
    "TAPIR_LIMITS_UPLOAD_MAX_ROWS",
    "TAPIR_LIMITS_ASYNC_UPLOAD_MAX_BYTES",
    "TAPIR_LIMITS_ASYNC_UPLOAD_MAX_ROWS",
    "TAPIR_LIMITS_BODY_MEMORY_BYTES",
    "TAPIR_LIMITS_BODIES_IN_FLIGHT_BYTES",
    "TAPIR_LIMITS_UPLOAD_PARSE_MEMORY_BYTES",
    "TAPIR_UPLOADS_FETCH_URLS",
    "TAPIR_UPLOADS_FETCH_TIMEOUT_SECS",
    "TAPIR_UPLOADS_DENY_PRIVATE",
    "TAPIR_UPLOADS_ALLOW_HOSTS",
    "TAPIR_UPLOADS_DENY_HOSTS",
    "TAPIR_JOBS_WORKERS",
    "TAPIR_JOBS_DURATION_DEFAULT_SECS",
    "TAPIR_JOBS_DURATION_MAX_SECS",
    "TAPIR_JOBS_RETENTION_DEFAULT_SECS",
    "TAPIR_JOBS_RETENTION_MAX_SECS",
    "TAPIR_JOBS_USER_RETENTION_SECS",
    "TAPIR_JOBS_WAIT_MAX_SECS",
    "TAPIR_JOBS_REAP_INTERVAL_SECS",
    "TAPIR_JOBS_LEASE_SECS",
    "TAPIR_JOBS_REQUEUE_ON_CRASH",
    "TAPIR_JOBS_RESULTS_DIR",
    "TAPIR_JOBS_CREATE_BY_GET",
    "TAPIR_JOBS_QUEUE_MAX",
    "TAPIR_JOBS_QUEUED_PER_USER",
    "TAPIR_JOBS_RUNNING_PER_USER",
    "TAPIR_JOBS_RESULT_STORAGE_PER_USER_BYTES",
    "TAPIR_GROUP_LIMITS",
    "TAPIR_JOBS_LIST_MAX",
    "TAPIR_COMPRESSION_GZIP_LEVEL",
    "TAPIR_COMPRESSION_ZSTD_LEVEL",
    "TAPIR_COMPRESSION_MIN_BYTES",
    "TAPIR_COMPRESSION_STORE_COPIES",
    "TAPIR_SERVICE_TITLE",
    "TAPIR_SERVICE_DESCRIPTION",
    "TAPIR_SERVICE_PUBLISHER",
    "TAPIR_SERVICE_CONTACT_NAME",
    "TAPIR_SERVICE_CONTACT_EMAIL",
    "TAPIR_IDENTITY_SESSION_IDLE_SECS",
    "TAPIR_IDENTITY_SESSION_MAX_SECS",
    "TAPIR_IDENTITY_BASIC_CACHE_SECS",
    "TAPIR_IDENTITY_PLAIN_HTTP_ON_LOOPBACK",
    "TAPIR_IDENTITY_PROXY_USER_HEADER",
    "TAPIR_ACCESS_RESTRICTED",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://tapir:s3cret@db:5432/cat"),
            "postgres://tapir:***@db:5432/cat"
        );
        assert_eq!(
            redact_url("postgresql://tapir@db/cat"),
            "postgresql://tapir@db/cat"
        );
        assert_eq!(redact_url("postgres://u:p@ss@db/cat"), "postgres://u:***@db/cat");
        assert_eq!(
            redact_url("postgres://db/cat?user=u&password=s3cret&sslmode=require"),
            "postgres://db/cat?user=u&password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("host=db user=tapir password=s3cret dbname=cat"),
            "host=db user=tapir password=*** dbname=cat"
        );
        assert_eq!(redact_url(""), "");
    }

    #[test]
    fn file_then_environment() {
        let mut c: Config =
            toml::from_str("[limits]\nmaxrec_default = 5\n[server]\nbase_path = 'tap/'\n").expect("parses");
        c.apply_env(|n| match n {
            "TAPIR_DATABASE_URL" => Some("postgres://x@h/db".into()),
            "TAPIR_LIMITS_MAXREC_HARD" => Some("50".into()),
            _ => None,
        })
        .expect("env applies");
        c.validate().expect("valid");
        assert_eq!(c.limits.maxrec_default, 5);
        assert_eq!(c.limits.maxrec_hard, 50);
        assert_eq!(c.database.url, "postgres://x@h/db");
        assert_eq!(c.server.base_path, "/tap");
        assert_eq!(c.base_url(), "http://127.0.0.1:8080/tap");
    }

    #[test]
    fn restricted_tables_from_file_and_environment() {
        let mut c: Config = toml::from_str(
            "[access]\nrestricted = { hsa = ['herschel'], 'gaiadr1.gaia_source' = ['gaia', 'staff'] }\n",
        )
        .expect("parses");
        c.validate().expect("valid");
        assert_eq!(c.access.restricted["gaiadr1.gaia_source"], ["gaia", "staff"]);
        c.apply_env(|n| (n == "TAPIR_ACCESS_RESTRICTED").then(|| " s=a, b ; s.t=c;".into()))
            .expect("env applies");
        c.validate().expect("valid");
        let got: Vec<(&str, Vec<String>)> = c
            .access
            .restricted
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        assert_eq!(
            got,
            [
                ("s", vec!["a".to_string(), "b".into()]),
                ("s.t", vec!["c".into()])
            ]
        );
        for bad in ["s", "s=", "a.b.c=g", "s=not a group"] {
            let mut c = Config::default();
            let applied = c.apply_env(|n| (n == "TAPIR_ACCESS_RESTRICTED").then(|| bad.into()));
            assert!(applied.is_err() || c.validate().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn body_and_upload_memory_limits() {
        let d = LimitsConfig::default();
        assert_eq!(
            (
                d.body_memory_bytes,
                d.bodies_in_flight_bytes,
                d.upload_parse_memory_bytes
            ),
            (1 << 20, 1 << 30, 256 << 20)
        );
        let mut c: Config = toml::from_str("[limits]\nbody_memory_bytes = 1000\n").expect("parses");
        c.apply_env(|n| match n {
            "TAPIR_LIMITS_BODIES_IN_FLIGHT_BYTES" => Some("2000".into()),
            "TAPIR_LIMITS_UPLOAD_PARSE_MEMORY_BYTES" => Some("3000".into()),
            _ => None,
        })
        .expect("env applies");
        c.validate().expect("valid");
        let l = &c.limits;
        assert_eq!(
            (
                l.body_memory_bytes,
                l.bodies_in_flight_bytes,
                l.upload_parse_memory_bytes
            ),
            (1000, 2000, 3000)
        );
        c.limits.upload_parse_memory_bytes = 0;
        let e = c.validate().expect_err("no table could be parsed");
        assert!(e.to_string().contains("upload_parse_memory_bytes"), "{e}");
    }

    #[test]
    fn compression_settings() {
        let d = CompressionConfig::default();
        assert_eq!(
            (d.gzip_level, d.zstd_level, d.min_bytes, d.store_copies),
            (1, 1, 4096, true)
        );
        let mut c: Config = toml::from_str("[compression]\ngzip_level = 6\n").expect("parses");
        c.apply_env(|n| match n {
            "TAPIR_COMPRESSION_ZSTD_LEVEL" => Some("0".into()),
            "TAPIR_COMPRESSION_MIN_BYTES" => Some("100".into()),
            "TAPIR_COMPRESSION_STORE_COPIES" => Some("false".into()),
            _ => None,
        })
        .expect("env applies");
        c.validate().expect("valid");
        assert_eq!(
            (
                c.compression.gzip_level,
                c.compression.zstd_level,
                c.compression.min_bytes
            ),
            (6, 0, 100)
        );
        assert!(!c.compression.store_copies);
        c.compression.gzip_level = 10;
        let e = c.validate().expect_err("no such deflate level");
        assert!(e.to_string().contains("gzip_level"), "{e}");
    }

    #[test]
    fn bad_values_are_named() {
        let mut c = Config::default();
        let e = c
            .apply_env(|n| (n == "TAPIR_LIMITS_MAXREC_HARD").then(|| "lots".to_string()))
            .expect_err("rejected");
        assert!(e.to_string().contains("TAPIR_LIMITS_MAXREC_HARD"), "{e}");
        let e = toml::from_str::<Config>("[limits]\nmaxrec = 5\n").expect_err("unknown key");
        assert!(e.to_string().contains("maxrec"), "{e}");
    }
}
