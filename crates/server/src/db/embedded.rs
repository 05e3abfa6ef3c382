//! The embedded cluster: a private PostgreSQL that Tapir creates and starts from the machine's
//! binaries when no `database.url` is configured.
//!
//! Layout under `server.data_dir`:
//! * `pg/`: the cluster (`PGDATA`), with its log in `pg/server.log`;
//! * `pg.owner`: which Tapir process started the server and will stop it. A second Tapir on
//!   the same directory (`tapir load` while `tapir serve` runs) shares the server and leaves
//!   it running; one that finds the owner dead (killed) adopts the server and stops it later;
//! * `run/`: the Unix socket directory (mode 0700). The server listens on no TCP address at
//!   all, and authentication is `trust`, so the directory's permissions are the access control.
//!   A socket path must stay under ~100 bytes (sun_path), so for deep data directories the
//!   socket goes to `/tmp/tapir-<hash of the data dir>` instead.
//!
//! * `pg-install/`: only when the machine's PostgreSQL refuses the machine's pgSphere script
//!   (Debian 12: PostgreSQL 15.20 or later with pgSphere 1.2.0), a private copy of the
//!   installation with a corrected script that the server runs from (see `tapir_pginstall` and
//!   [`Cluster::ensure_pgsphere`]). Made anew from the machine's files when needed, removed
//!   when a later start runs the machine's own binaries.
//!
//! initdb refuses to run as root, so when Tapir runs as root it runs initdb and pg_ctl as
//! `database.embedded_user` (default `postgres`) through `runuser` (or `su`), and gives that
//! user the data directory.

use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pginstall::{program_output, Install};
use tokio_postgres::NoTls;

use super::{describe, pgsphere, DbError};
use crate::config::{Config, PgSphereFix};

/// The port number. Only a Unix socket in a private directory uses it, so the usual one
/// cannot clash with another server.
pub(crate) const PORT: u16 = 5432;
/// The database Tapir uses inside the cluster.
pub(crate) const DATABASE: &str = "tapir";
/// The cluster's superuser (initdb -U), whatever system user runs it.
pub(crate) const SUPERUSER: &str = "postgres";
/// The PostgreSQL major version the install hint names when nothing is found at all.
const DEFAULT_MAJOR: &str = "15";
/// Socket paths at or above this length fall back to /tmp (sun_path holds 108 bytes).
const MAX_SOCKET_PATH: usize = 100;

/// The system account that owns and runs the cluster when Tapir runs as root.
#[derive(Debug, Clone)]
struct Account {
    name: String,
    uid: u32,
    gid: u32,
}

/// A running embedded cluster. Dropping it stops the server if this process started it, so an
/// error during start-up leaves nothing behind.
#[derive(Debug)]
pub(crate) struct Cluster {
    /// The machine's PostgreSQL installation (initdb and the other programs run from it).
    install: Install,
    /// Where `pg_ctl` and `postgres` run from: the machine's `bin`, or that of the corrected
    /// copy in `copy_dir`.
    run_bin: PathBuf,
    /// `<data_dir>/pg-install`: the private copy of the installation, when one is needed.
    copy_dir: PathBuf,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    port: u16,
    account: Option<Account>,
    /// `<data_dir>/pg.owner`: the pid and name of the Tapir process responsible for stopping
    /// the server (written when it starts it, or adopts an orphan).
    owner_file: PathBuf,
    /// Ours to stop. A server another live Tapir started (a `tapir serve` while `tapir load`
    /// runs) is left alone; one left behind by a Tapir that died is adopted.
    owned: bool,
    stopped: bool,
}

impl Cluster {
    /// Create the cluster if needed, start it (or adopt one already running on the same data
    /// directory) and make sure the `tapir` database exists.
    pub(crate) async fn start(config: &Config) -> Result<Cluster, DbError> {
        let data_dir = std::path::absolute(&config.server.data_dir).map_err(|e| {
            DbError::Setup(format!(
                "data directory {}: {e}",
                config.server.data_dir.display()
            ))
        })?;
        if data_dir.to_str().is_none() {
            return Err(DbError::Setup(format!(
                "the data directory {} must be a UTF-8 path",
                data_dir.display()
            )));
        }
        let bin = find_bindir(&config.database.pg_bindir)?;
        let major = server_major(&bin)?;
        let install = Install::of(&bin).map_err(|e| {
            DbError::Setup(format!(
                "{e}; install PostgreSQL with pgSphere (Debian/Ubuntu: apt-get install \
                 postgresql-{major} postgresql-{major}-pgsphere)"
            ))
        })?;
        if !install.has_pgsphere() {
            return Err(DbError::Setup(format!(
                "the pgSphere extension is not installed for PostgreSQL {major} ({} is missing): \
                 apt-get install postgresql-{major}-pgsphere",
                install.extension_dir().join("pg_sphere.control").display()
            )));
        }
        let account = if running_as_root() {
            Some(Account::lookup(&config.database.embedded_user)?)
        } else {
            None
        };
        // As root, the cluster's user must be able to reach the data directory; one under
        // /root (mode 0700) cannot work, so the cluster goes to /var/lib/tapir, keyed by the
        // data directory so that each one keeps its own database between runs.
        let cluster_root = match &account {
            Some(a) if !reachable_by(&a.name, &data_dir) => {
                let root = PathBuf::from("/var/lib/tapir").join(format!(
                    "pg-{:016x}",
                    fnv1a(data_dir.as_os_str().as_encoded_bytes())
                ));
                tracing::info!(
                    "user '{}' cannot reach {}: keeping the embedded cluster in {}",
                    a.name,
                    data_dir.display(),
                    root.display()
                );
                fs::create_dir_all(&root)
                    .map_err(|e| DbError::Setup(format!("cannot create {}: {e}", root.display())))?;
                for dir in [Path::new("/var/lib/tapir"), root.as_path()] {
                    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).map_err(|e| {
                        DbError::Setup(format!("cannot set permissions of {}: {e}", dir.display()))
                    })?;
                }
                root
            }
            _ => data_dir.clone(),
        };
        let mut cluster = Cluster {
            run_bin: install.bin.clone(),
            install,
            copy_dir: cluster_root.join("pg-install"),
            pgdata: cluster_root.join("pg"),
            socket_dir: socket_dir_for(&cluster_root, PORT),
            port: PORT,
            account,
            owner_file: cluster_root.join("pg.owner"),
            owned: false,
            stopped: false,
        };
        cluster.prepare_dirs(&cluster_root)?;
        if !cluster.pgdata.join("PG_VERSION").is_file() {
            cluster.initdb().await?;
        }
        match cluster.running() {
            Some(pid) => cluster.adopt(&pid),
            None => {
                if config.database.pgsphere_fix == PgSphereFix::Always {
                    cluster.use_corrected_copy("database.pgsphere_fix = \"always\"")?;
                } else {
                    cluster.remove_copy();
                }
                cluster.launch().await?
            }
        }
        cluster.wait_ready(Duration::from_secs(60)).await?;
        cluster.ensure_database().await?;
        Ok(cluster)
    }

    /// Create pgSphere in the `tapir` database. When the machine's PostgreSQL refuses the
    /// machine's pgSphere script with the commutator clash (and `database.pgsphere_fix` is
    /// `auto`), restart the server from a private copy of the installation whose script
    /// leaves out the two obsolete operators, and create it from there. Only the first start
    /// of a cluster goes this way: once the extension exists, the machine's binaries serve it.
    pub(crate) async fn ensure_pgsphere(&mut self, fix: PgSphereFix) -> Result<(), DbError> {
        let client = self.connect(DATABASE).await.map_err(DbError::Setup)?;
        if pgsphere::present(&client).await? {
            return Ok(());
        }
        let refused = match pgsphere::create(&client).await {
            Ok(()) => {
                tracing::info!("created the pg_sphere extension");
                return Ok(());
            }
            Err(e) => e,
        };
        let repairable = pgsphere::is_commutator_clash(&refused)
            && fix == PgSphereFix::Auto
            && self.run_bin == self.install.bin;
        if !repairable {
            let mut error = pgsphere::explain(&client, &refused).await.to_string();
            if pgsphere::is_commutator_clash(&refused) && fix == PgSphereFix::Never {
                error.push_str(
                    ". database.pgsphere_fix = \"never\" keeps Tapir from running its embedded cluster \
                     from a corrected copy of the installation; \"auto\" would",
                );
            }
            return Err(DbError::Setup(error));
        }
        drop(client);
        if !self.owned {
            return Err(DbError::Setup(format!(
                "cannot create the pg_sphere extension ({}), and the embedded PostgreSQL was started by \
                 another process, so Tapir cannot restart it with a corrected pgSphere: stop that \
                 process and start Tapir again",
                describe(&refused)
            )));
        }
        self.stop_server().await?;
        self.use_corrected_copy(&describe(&refused))?;
        self.launch().await?;
        self.wait_ready(Duration::from_secs(60)).await?;
        let client = self.connect(DATABASE).await.map_err(DbError::Setup)?;
        match pgsphere::create(&client).await {
            Ok(()) => {
                tracing::info!("created the pg_sphere extension from the corrected script");
                Ok(())
            }
            Err(e) => Err(pgsphere::explain(&client, &e).await),
        }
    }

    /// Run the server from a fresh private copy of the installation with the pgSphere scripts
    /// corrected, saying once why.
    fn use_corrected_copy(&mut self, why: &str) -> Result<(), DbError> {
        let copy = self
            .install
            .corrected_copy(&self.copy_dir)
            .map_err(|e| DbError::Setup(format!("cannot make the corrected copy of PostgreSQL: {e}")))?;
        if copy.corrected.is_empty() && why.contains(pginstall::pgsphere::CLASH_MESSAGE) {
            self.remove_copy();
            return Err(DbError::Setup(format!(
                "cannot create the pg_sphere extension ({why}), and the machine's pgSphere scripts in {} \
                 do not hold the two obsolete operators Tapir knows how to leave out: install pgSphere \
                 1.4 or newer",
                self.install.extension_dir().display()
            )));
        }
        tracing::info!(
            "the embedded PostgreSQL runs from a private copy of the installation in {}, whose \
             pgSphere script{} ({}) leave{} out the obsolete operators @(bigint, smoc) and @(spoint, \
             smoc), because: {why}. The machine's own files are unchanged (README, Troubleshooting)",
            copy.install.bin.display(),
            if copy.corrected.len() == 1 { "" } else { "s" },
            copy.corrected.join(", "),
            if copy.corrected.len() == 1 { "s" } else { "" },
        );
        self.run_bin = copy.install.bin;
        Ok(())
    }

    /// Remove a copy left by an earlier start (the server now runs from the machine's files).
    fn remove_copy(&mut self) {
        self.run_bin = self.install.bin.clone();
        if self.copy_dir.exists() {
            if let Err(e) = fs::remove_dir_all(&self.copy_dir) {
                tracing::warn!("cannot remove {}: {e}", self.copy_dir.display());
            }
        }
    }

    /// The connection string for the `tapir` database.
    pub(crate) fn url(&self) -> String {
        self.url_for(DATABASE)
    }

    fn url_for(&self, dbname: &str) -> String {
        format!(
            "host={} port={} user={SUPERUSER} dbname={dbname}",
            conninfo_quote(&self.socket_dir.to_string_lossy()),
            self.port
        )
    }

    /// Stop the server (`pg_ctl -m fast stop`) if this process started it.
    pub(crate) async fn stop(mut self) {
        self.stopped = true;
        if !self.owned {
            tracing::info!(
                "leaving the embedded PostgreSQL in {} running for the Tapir that started it",
                self.pgdata.display()
            );
            return;
        }
        tracing::info!("stopping the embedded PostgreSQL");
        if let Err(e) = self.stop_server().await {
            tracing::warn!("{e}");
        }
    }

    /// `pg_ctl stop`; the server is no longer ours once it is down.
    async fn stop_server(&mut self) -> Result<(), DbError> {
        run(self.stop_command(), "pg_ctl stop").await?;
        let _ = fs::remove_file(&self.owner_file);
        self.owned = false;
        Ok(())
    }

    fn stop_command(&self) -> Command {
        self.pg_command(
            "pg_ctl",
            &[
                "-D".into(),
                self.pgdata.clone().into(),
                "-m".into(),
                "fast".into(),
                "-w".into(),
                "-t".into(),
                "60".into(),
                "-s".into(),
                "stop".into(),
            ],
        )
    }

    /// Create the data, socket and log locations with the right owner and permissions, and
    /// check that the cluster's user can reach them (a data_dir under /root cannot work).
    fn prepare_dirs(&self, data_dir: &Path) -> Result<(), DbError> {
        let io = |what: &str, path: &Path, e: std::io::Error| {
            DbError::Setup(format!("cannot {what} {}: {e}", path.display()))
        };
        fs::create_dir_all(data_dir).map_err(|e| io("create", data_dir, e))?;
        if !self.pgdata.exists() {
            fs::DirBuilder::new()
                .mode(0o700)
                .create(&self.pgdata)
                .map_err(|e| io("create", &self.pgdata, e))?;
        }
        if !self.pgdata.join("PG_VERSION").exists() {
            self.give(&self.pgdata)?;
        }
        let in_tmp = !self.socket_dir.starts_with(data_dir);
        if !self.socket_dir.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&self.socket_dir)
                .map_err(|e| io("create", &self.socket_dir, e))?;
        } else if in_tmp {
            // /tmp is shared: a directory someone else made could intercept our connections.
            let meta = fs::metadata(&self.socket_dir).map_err(|e| io("inspect", &self.socket_dir, e))?;
            let ours = self.account.as_ref().map_or_else(current_uid, |a| Some(a.uid));
            if Some(meta.uid()) != ours && meta.uid() != 0 {
                return Err(DbError::Setup(format!(
                    "socket directory {} belongs to another user (uid {}); remove it or use a shorter data_dir",
                    self.socket_dir.display(),
                    meta.uid()
                )));
            }
        }
        fs::set_permissions(&self.socket_dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| io("set permissions of", &self.socket_dir, e))?;
        self.give(&self.socket_dir)?;
        if let Some(account) = &self.account {
            for dir in [&self.pgdata, &self.socket_dir] {
                let mut check = as_user(&account.name, Path::new("test"), &["-w".into(), dir.into()]);
                check.current_dir("/").stdin(Stdio::null());
                let ok = check.output().map(|o| o.status.success()).unwrap_or(false);
                if !ok {
                    return Err(DbError::Setup(format!(
                        "the embedded PostgreSQL runs as system user '{}', which cannot write to {}: \
                         make its parent directories searchable (chmod o+x) or choose a data_dir it can \
                         reach, e.g. /var/lib/tapir",
                        account.name,
                        dir.display()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Hand a directory to the cluster's user (when running as root).
    fn give(&self, path: &Path) -> Result<(), DbError> {
        if let Some(account) = &self.account {
            std::os::unix::fs::chown(path, Some(account.uid), Some(account.gid)).map_err(|e| {
                DbError::Setup(format!(
                    "cannot give {} to user {}: {e}",
                    path.display(),
                    account.name
                ))
            })?;
        }
        Ok(())
    }

    async fn initdb(&self) -> Result<(), DbError> {
        tracing::info!(
            "creating the embedded PostgreSQL cluster in {}",
            self.pgdata.display()
        );
        let mut args: Vec<OsString> = vec![
            "-D".into(),
            self.pgdata.clone().into(),
            "-A".into(),
            "trust".into(),
            "-U".into(),
            SUPERUSER.into(),
            "-E".into(),
            "UTF8".into(),
        ];
        // C.UTF-8: byte-order collation like C, but Unicode-aware lower()/upper() for ILIKE.
        let mut first = args.clone();
        first.push("--locale=C.UTF-8".into());
        match run(self.pg_command("initdb", &first), "initdb").await {
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::warn!("{e}; retrying with the C locale");
                args.push("--no-locale".into());
                run(self.pg_command("initdb", &args), "initdb").await.map(|_| ())
            }
        }
    }

    /// The live postmaster of this data directory, if any. A postmaster.pid left by a killed
    /// run is removed (PostgreSQL itself would refuse to start if the pid had been reused).
    fn running(&self) -> Option<PidFile> {
        let pid_path = self.pgdata.join("postmaster.pid");
        let text = fs::read_to_string(&pid_path).ok()?;
        let pid = PidFile::parse(&text);
        match &pid {
            Some(p) if is_postmaster_of(p.pid, &self.pgdata) => return pid,
            _ => {}
        }
        tracing::info!("removing the stale {} of a previous run", pid_path.display());
        if let Err(e) = fs::remove_file(&pid_path) {
            tracing::warn!("cannot remove {}: {e}", pid_path.display());
        }
        let lock = self.socket_dir.join(format!(".s.PGSQL.{}.lock", self.port));
        if let Ok(text) = fs::read_to_string(&lock) {
            let alive = text
                .lines()
                .next()
                .and_then(|l| l.trim().parse::<u32>().ok())
                .is_some_and(|pid| is_postmaster_of(pid, &self.pgdata));
            if !alive {
                let _ = fs::remove_file(&lock);
                let _ = fs::remove_file(self.socket_dir.join(format!(".s.PGSQL.{}", self.port)));
            }
        }
        None
    }

    /// Use a server already running on this data directory, where it listens. If the Tapir
    /// that started it is gone (killed, crashed), it becomes ours to stop.
    fn adopt(&mut self, pid: &PidFile) {
        if let Some(port) = pid.port {
            self.port = port;
        }
        if let Some(dir) = &pid.socket_dir {
            self.socket_dir = dir.clone();
        }
        match Owner::read(&self.owner_file) {
            Some(owner) if owner.is_alive() => {
                tracing::info!(
                    "the embedded PostgreSQL in {} is already running for Tapir process {}; sharing it",
                    self.pgdata.display(),
                    owner.pid
                );
                self.owned = false;
            }
            Some(owner) => {
                tracing::info!(
                    "adopting the embedded PostgreSQL (pid {}) left running by Tapir process {}, which is gone",
                    pid.pid,
                    owner.pid
                );
                self.owned = true;
                self.claim();
            }
            None => {
                tracing::info!(
                    "the embedded PostgreSQL in {} was started outside Tapir (pid {}); using it and leaving it running",
                    self.pgdata.display(),
                    pid.pid
                );
                self.owned = false;
            }
        }
    }

    /// Record this process as the one that stops the server.
    fn claim(&self) {
        if let Err(e) = fs::write(&self.owner_file, Owner::current().to_string()) {
            tracing::warn!("cannot write {}: {e}", self.owner_file.display());
        }
    }

    async fn launch(&mut self) -> Result<(), DbError> {
        tracing::info!(
            "starting the embedded PostgreSQL (socket in {})",
            self.socket_dir.display()
        );
        let socket_dir = self.socket_dir.to_string_lossy().into_owned();
        // pg_ctl hands -o to a shell: quote the directory. wal_level=minimal lets a table
        // created and filled in one transaction (tapir load) skip the WAL.
        let options = format!(
            "-c listen_addresses='' -k {} -p {} -c unix_socket_permissions=0700 \
             -c wal_level=minimal -c max_wal_senders=0 -c max_wal_size=2GB -c TimeZone=UTC",
            shell_quote(&socket_dir),
            self.port
        );
        let log = self.pgdata.join("server.log");
        let args: Vec<OsString> = vec![
            "-D".into(),
            self.pgdata.clone().into(),
            "-l".into(),
            log.clone().into(),
            "-w".into(),
            "-t".into(),
            "120".into(),
            "-s".into(),
            "-o".into(),
            options.into(),
            "start".into(),
        ];
        match run(self.pg_command("pg_ctl", &args), "pg_ctl start").await {
            Ok(_) => {
                self.owned = true;
                self.claim();
                Ok(())
            }
            Err(e) => {
                // Another Tapir may have started it at the same moment.
                if let Some(pid) = self.running() {
                    self.adopt(&pid);
                    return Ok(());
                }
                Err(DbError::Setup(format!(
                    "{e}\nlast lines of {}:\n{}",
                    log.display(),
                    tail(&log, 20)
                )))
            }
        }
    }

    /// Wait until the server accepts connections (an adopted one may still be starting).
    async fn wait_ready(&self, limit: Duration) -> Result<(), DbError> {
        let start = Instant::now();
        loop {
            match self.connect("postgres").await {
                Ok(_) => return Ok(()),
                Err(e) if start.elapsed() >= limit => {
                    return Err(DbError::Setup(format!(
                        "the embedded PostgreSQL does not accept connections: {e}"
                    )))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    async fn connect(&self, dbname: &str) -> Result<tokio_postgres::Client, String> {
        let pg: tokio_postgres::Config = self.url_for(dbname).parse().map_err(|e| format!("{e}"))?;
        let (client, connection) = pg.connect(NoTls).await.map_err(|e| describe(&e))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(client)
    }

    async fn ensure_database(&self) -> Result<(), DbError> {
        let client = self.connect("postgres").await.map_err(DbError::Setup)?;
        let exists = client
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&DATABASE])
            .await
            .map_err(DbError::query("cannot list the databases"))?
            .is_some();
        if !exists {
            tracing::info!("creating database {DATABASE}");
            if let Err(e) = client.batch_execute(&format!("CREATE DATABASE {DATABASE}")).await {
                // Lost a race with another Tapir: fine.
                if e.code() != Some(&tokio_postgres::error::SqlState::DUPLICATE_DATABASE) {
                    return Err(DbError::query(format!("cannot create database {DATABASE}"))(e));
                }
            }
        }
        Ok(())
    }

    /// A PostgreSQL program run as the cluster's owner, from a directory that user can enter.
    fn pg_command(&self, program: &str, args: &[OsString]) -> Command {
        // pg_ctl starts the `postgres` beside its own real path: both run from `run_bin`.
        let bin = if program == "pg_ctl" {
            &self.run_bin
        } else {
            &self.install.bin
        };
        let path = bin.join(program);
        let mut cmd = match &self.account {
            Some(account) => as_user(&account.name, &path, args),
            None => {
                let mut c = Command::new(&path);
                c.args(args);
                c
            }
        };
        cmd.current_dir("/");
        cmd
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.owned && !self.stopped {
            tracing::info!("stopping the embedded PostgreSQL");
            let mut cmd = self.stop_command();
            match cmd.stdin(Stdio::null()).output() {
                Ok(out) if out.status.success() => {
                    let _ = fs::remove_file(&self.owner_file);
                }
                Ok(out) => tracing::warn!(
                    "pg_ctl stop failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
                Err(e) => tracing::warn!("cannot run pg_ctl stop: {e}"),
            }
        }
    }
}

/// What `postmaster.pid` says: pid (line 1), port (line 4), first socket directory (line 5).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PidFile {
    pub pid: u32,
    pub port: Option<u16>,
    pub socket_dir: Option<PathBuf>,
}

impl PidFile {
    pub(crate) fn parse(text: &str) -> Option<PidFile> {
        let lines: Vec<&str> = text.lines().collect();
        let pid = lines.first()?.trim().parse().ok()?;
        let port = lines.get(3).and_then(|l| l.trim().parse().ok());
        let socket_dir = lines
            .get(4)
            .map(|l| l.trim())
            .filter(|l| !l.is_empty())
            .map(PathBuf::from);
        Some(PidFile {
            pid,
            port,
            socket_dir,
        })
    }
}

/// Whether `pid` is the live postmaster of `pgdata` (pids get reused, by other programs and
/// by other clusters' postmasters). Without /proc we cannot tell and say yes, leaving the
/// decision to PostgreSQL.
fn is_postmaster_of(pid: u32, pgdata: &Path) -> bool {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return true;
    }
    let dir = proc.join(pid.to_string());
    let comm = fs::read_to_string(dir.join("comm")).unwrap_or_default();
    if !matches!(comm.trim(), "postgres" | "postmaster") {
        return false;
    }
    // pg_ctl starts it as `postgres -D <pgdata> ...`: NUL-separated arguments.
    let cmdline = fs::read(dir.join("cmdline")).unwrap_or_default();
    let wanted = pgdata.as_os_str().as_bytes();
    cmdline.split(|b| *b == 0).any(|arg| arg == wanted)
}

/// The Tapir process responsible for an embedded server: its pid and its name (comm), so that
/// a reused pid is not taken for it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Owner {
    pub pid: u32,
    pub comm: String,
}

impl Owner {
    fn current() -> Owner {
        Owner {
            pid: std::process::id(),
            comm: fs::read_to_string("/proc/self/comm")
                .map(|c| c.trim().to_string())
                .unwrap_or_default(),
        }
    }

    fn read(path: &Path) -> Option<Owner> {
        Owner::parse(&fs::read_to_string(path).ok()?)
    }

    pub(crate) fn parse(text: &str) -> Option<Owner> {
        let mut words = text.split_whitespace();
        let pid = words.next()?.parse().ok()?;
        Some(Owner {
            pid,
            comm: words.next().unwrap_or_default().to_string(),
        })
    }

    fn is_alive(&self) -> bool {
        if self.pid == std::process::id() {
            return true;
        }
        match fs::read_to_string(format!("/proc/{}/comm", self.pid)) {
            Ok(comm) => comm.trim() == self.comm,
            // No /proc at all: assume alive, i.e. never stop a server we cannot account for.
            Err(_) => !Path::new("/proc/self").exists(),
        }
    }
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{} {}", self.pid, self.comm)
    }
}

/// The directory with initdb, pg_ctl and postgres: `database.pg_bindir`, else
/// `pg_config --bindir`, else the newest `/usr/lib/postgresql/*/bin` ([`pginstall::find_bindir`]).
pub(crate) fn find_bindir(configured: &str) -> Result<PathBuf, DbError> {
    if let Some(dir) = pginstall::find_bindir(configured) {
        return Ok(dir);
    }
    let configured = configured.trim();
    if !configured.is_empty() {
        return Err(DbError::Setup(format!(
            "database.pg_bindir = {configured:?} does not contain initdb, pg_ctl and postgres"
        )));
    }
    Err(DbError::Setup(format!(
        "no PostgreSQL server found (looked at database.pg_bindir, `pg_config --bindir` and \
         /usr/lib/postgresql/*/bin). Install it with pgSphere (Debian/Ubuntu: apt-get install \
         postgresql-{DEFAULT_MAJOR} postgresql-{DEFAULT_MAJOR}-pgsphere), set database.pg_bindir, \
         or set database.url to use an existing server"
    )))
}

/// The server's major version ("15", or "9.6" before PostgreSQL 10), for install hints and
/// the Debian share directory.
fn server_major(bin: &Path) -> Result<String, DbError> {
    let postgres = bin.join("postgres");
    let out = Command::new(&postgres)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| DbError::Setup(format!("cannot run {}: {e}", postgres.display())))?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse_major(&text).ok_or_else(|| {
        DbError::Setup(format!(
            "cannot read the version of {}: {:?}",
            postgres.display(),
            text.trim()
        ))
    })
}

/// "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" → "15".
pub(crate) fn parse_major(version: &str) -> Option<String> {
    let number = version
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    let parts: Vec<&str> = number
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .collect();
    let first: u32 = parts.first()?.parse().ok()?;
    if first >= 10 {
        Some(first.to_string())
    } else {
        Some(format!("{first}.{}", parts.get(1)?))
    }
}

impl Account {
    fn lookup(name: &str) -> Result<Account, DbError> {
        let name = name.trim();
        if name.is_empty() || name == "root" {
            return Err(DbError::Setup(
                "database.embedded_user must name an unprivileged system user: PostgreSQL refuses to \
                 run as root"
                    .into(),
            ));
        }
        let id = |flag: &str| program_output("id", &[flag, name]).and_then(|s| s.parse::<u32>().ok());
        match (id("-u"), id("-g")) {
            (Some(uid), Some(gid)) => Ok(Account {
                name: name.to_string(),
                uid,
                gid,
            }),
            _ => Err(DbError::Setup(format!(
                "Tapir runs as root, so the embedded PostgreSQL needs an unprivileged system user, \
                 but user '{name}' does not exist: create it (useradd --system {name}; installing \
                 postgresql-{DEFAULT_MAJOR} does) or set database.embedded_user"
            ))),
        }
    }
}

/// Whether `user` can traverse every directory down to `dir` (and `dir` itself).
fn reachable_by(user: &str, dir: &Path) -> bool {
    // Test the nearest existing ancestor: the rest will be created by root with mode 0755.
    let mut probe = dir;
    while !probe.exists() {
        match probe.parent() {
            Some(p) => probe = p,
            None => return false,
        }
    }
    let mut check = as_user(user, Path::new("test"), &["-x".into(), probe.into()]);
    check.current_dir("/").stdin(Stdio::null());
    check.output().map(|o| o.status.success()).unwrap_or(false)
}

fn current_uid() -> Option<u32> {
    fs::metadata("/proc/self")
        .map(|m| m.uid())
        .ok()
        .or_else(|| program_output("id", &["-u"]).and_then(|s| s.parse().ok()))
}

fn running_as_root() -> bool {
    current_uid() == Some(0)
}

/// Run `program args` as `user`: `runuser -u user --` where available, else `su`.
fn as_user(user: &str, program: &Path, args: &[OsString]) -> Command {
    if let Some(runuser) = find_program("runuser") {
        let mut cmd = Command::new(runuser);
        cmd.arg("-u").arg(user).arg("--").arg(program).args(args);
        cmd
    } else {
        let mut line = shell_quote(&program.to_string_lossy());
        for arg in args {
            line.push(' ');
            line.push_str(&shell_quote(&arg.to_string_lossy()));
        }
        let mut cmd = Command::new("su");
        cmd.arg(user).arg("-s").arg("/bin/sh").arg("-c").arg(line);
        cmd
    }
}

/// A program in PATH or the sbin directories (root's tools are not always on PATH).
fn find_program(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from));
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// Run a command to completion; on failure, say what failed with its output.
async fn run(cmd: Command, what: &str) -> Result<String, DbError> {
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.stdin(Stdio::null());
    let out = cmd
        .output()
        .await
        .map_err(|e| DbError::Setup(format!("cannot run {what}: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(DbError::Setup(format!(
            "{what} failed ({}): {}",
            out.status,
            [stderr.trim(), stdout.trim()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join("\n")
        )))
    }
}

/// The last `n` lines of a file (for the server log in error messages).
fn tail(path: &Path, n: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// `<data_dir>/run`, or `/tmp/tapir-<hash>` when the socket path would be too long. The hash
/// is of the data directory, so every Tapir process on that directory finds the same socket.
pub(crate) fn socket_dir_for(data_dir: &Path, port: u16) -> PathBuf {
    let preferred = data_dir.join("run");
    let socket = preferred.join(format!(".s.PGSQL.{port}"));
    if socket.as_os_str().len() < MAX_SOCKET_PATH {
        preferred
    } else {
        PathBuf::from(format!(
            "/tmp/tapir-{:016x}",
            fnv1a(data_dir.as_os_str().as_bytes())
        ))
    }
}

/// FNV-1a, 64 bits: stable across Rust versions (unlike std's hasher), which the socket
/// directory name must be.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Quote a value for a libpq key=value connection string.
pub(crate) fn conninfo_quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Quote a word for /bin/sh.
pub(crate) fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}
