//! The harness the end-to-end suites share (`mod common;` in e2e.rs and uws.rs): `tapir serve`
//! in a throwaway directory, spoken to with curl, plus psql on its embedded cluster.
//!
//! Without PostgreSQL or curl the suites are skipped with a note, unless `CI` is set, in which
//! case they fail.
//!
//! Each suite uses a part of it, hence no dead-code warnings here.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The name of the suite using this harness (`e2e`, `uws`), for notes and directory names.
const SUITE: &str = env!("CARGO_CRATE_NAME");

pub struct Server {
    pub child: Child,
    pub base: String,
    pub dir: PathBuf,
}

impl Server {
    /// SIGTERM, which lets tapir stop its PostgreSQL cleanly, then wait (30 s at most). One that
    /// has exited already (a test killed it) is not signalled: its pid may belong to another
    /// process by now.
    pub fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(self.child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// What tapir logged since it started.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Stop a server and start `tapir serve` again on the same directory (and so the same
/// embedded cluster) with `env`.
pub fn restart(mut server: Server, env: &[(&str, &str)]) -> Server {
    server.stop();
    let dir = std::mem::take(&mut server.dir);
    drop(server);
    spawn(dir, env, None)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub fn tools_missing() -> Option<String> {
    let has = |c: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {c}"))
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !has("curl") {
        return Some("curl is not installed".into());
    }
    let pg = Path::new("/usr/lib/postgresql").read_dir().is_ok() || has("pg_config");
    if !pg {
        return Some("PostgreSQL is not installed".into());
    }
    None
}

/// `tapir serve` on the embedded default with no extra settings.
pub fn start() -> Option<Server> {
    start_with(&[], None)
}

/// `tapir serve` in a new directory with extra environment variables, on its own embedded
/// cluster or, with `database_url`, on another server's (`--database-url`, see
/// [`embedded_url`]). None (after a note) when the tools are missing outside CI.
pub fn start_with(env: &[(&str, &str)], database_url: Option<&str>) -> Option<Server> {
    if let Some(why) = tools_missing() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{SUITE} needs its tools in CI: {why}"
        );
        eprintln!("skipping {SUITE}: {why}");
        return None;
    }
    let dir = std::env::temp_dir().join(format!("tapir-{SUITE}-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    Some(spawn(dir, env, database_url))
}

/// `tapir serve` on `dir/data`, logging to `dir/server.log`; returns once it serves.
fn spawn(dir: PathBuf, env: &[(&str, &str)], database_url: Option<&str>) -> Server {
    let port = free_port();
    let log = std::fs::File::create(dir.join("server.log")).expect("log file");
    let mut command = Command::new(env!("CARGO_BIN_EXE_tapir"));
    command
        .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.join("data"));
    if let Some(url) = database_url {
        command.arg("--database-url").arg(url);
    }
    let child = command
        .env("TAPIR_LOG", "info")
        .envs(env.iter().copied())
        // The log (stdout) and errors (stderr) in one file, in order.
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .spawn()
        .expect("tapir starts");
    let mut server = Server {
        child,
        base: format!("http://127.0.0.1:{port}/tap"),
        dir,
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if get(&server, "/availability").status == 200 {
            return server;
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("tapir exited with {status} before serving:\n{}", server.log());
        }
        assert!(Instant::now() < deadline, "tapir did not answer within 120 s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The libpq connection string of a server's embedded cluster (its Unix socket directory is
/// `<data-dir>/run`), for psql and for a second server's `--database-url`.
pub fn embedded_url(server: &Server) -> String {
    format!(
        "host={} port=5432 user=postgres dbname=tapir",
        server.dir.join("data").join("run").display()
    )
}

/// One SQL command through psql on the server's embedded cluster: its unaligned output, trimmed.
pub fn psql(server: &Server, sql: &str) -> String {
    let out = Command::new("psql")
        .arg("-XAtq")
        .arg(embedded_url(server))
        .arg("-c")
        .arg(sql)
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub struct Reply {
    pub status: u16,
    pub headers: String,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The job id of a 303 to `{base}/async/{id}` (a job created).
    pub fn job_id(&self) -> String {
        assert_eq!(self.status, 303, "job created: {}", self.text());
        let location = self.header("location").expect("a Location");
        location.rsplit('/').next().expect("an id").to_string()
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

pub fn curl(server: &Server, args: &[&str]) -> Reply {
    let hdr = server.dir.join(format!("h-{}", free_port()));
    let out = Command::new("curl")
        .args(["-sS", "-o", "-", "-D"])
        .arg(&hdr)
        .args(args)
        .output()
        .expect("curl runs");
    let headers = std::fs::read_to_string(&hdr).unwrap_or_default();
    let _ = std::fs::remove_file(&hdr);
    // The last status line (after any 100 Continue).
    let status = headers
        .lines()
        .rev()
        .find(|l| l.starts_with("HTTP/"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Reply {
        status,
        headers,
        body: out.stdout,
    }
}

/// GET `{base}{path}`.
pub fn get(server: &Server, path: &str) -> Reply {
    curl(server, &[&format!("{}{path}", server.base)])
}

/// The job document once the job has ended (any phase but QUEUED and EXECUTING), a minute at
/// most. `job` is its URL or its path under `base`. One `WAIT` is not enough: it returns at
/// the first change of phase (WT-01), and a job still QUEUED when it arrives comes back
/// EXECUTING.
pub fn job_ended(server: &Server, job: &str) -> String {
    let url = if job.starts_with("http") {
        job.to_string()
    } else {
        format!("{}{job}", server.base)
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let doc = curl(server, &[&format!("{url}?WAIT=10")]).text();
        let running = ["QUEUED", "EXECUTING"]
            .iter()
            .any(|p| doc.contains(&format!("<uws:phase>{p}</uws:phase>")));
        if !running {
            return doc;
        }
        assert!(Instant::now() < deadline, "the job has not ended: {doc}");
    }
}

/// POST `{base}{path}` with the parameters urlencoded in the body, in order. Redirects are not
/// followed.
pub fn post(server: &Server, path: &str, params: &[(&str, &str)]) -> Reply {
    let mut args: Vec<String> = vec![format!("{}{path}", server.base)];
    if params.is_empty() {
        args.extend(["-X".into(), "POST".into()]);
    }
    for (k, v) in params {
        args.push("--data-urlencode".into());
        args.push(format!("{k}={v}"));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    curl(server, &refs)
}

/// A sync query by POST (urlencoded), with extra parameters.
pub fn sync(server: &Server, query: &str, extra: &[(&str, &str)]) -> Reply {
    let mut params = vec![("QUERY", query), ("LANG", "ADQL")];
    params.extend_from_slice(extra);
    post(server, "/sync", &params)
}

/// The TABLEDATA rows of a VOTable, as cell texts.
pub fn td_rows(xml: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for tr in xml.split("<TR>").skip(1) {
        let tr = tr.split("</TR>").next().unwrap_or("");
        let mut cells = Vec::new();
        let mut rest = tr;
        while let Some(i) = rest.find("<TD") {
            rest = &rest[i + 3..];
            if let Some(r) = rest.strip_prefix("/>") {
                cells.push(String::new());
                rest = r;
            } else if let Some(r) = rest.strip_prefix('>') {
                let end = r.find("</TD>").unwrap_or(r.len());
                cells.push(r[..end].to_string());
                rest = &r[end..];
            }
        }
        rows.push(cells);
    }
    rows
}

/// `stilts votlint` on a VOTable: its output, or None when stilts is missing (outside CI).
pub fn votlint(server: &Server, body: &[u8]) -> Option<String> {
    let ok = Command::new("sh")
        .arg("-c")
        .arg("command -v stilts")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "stilts is needed in CI");
        return None;
    }
    let f = server.dir.join(format!("v-{}.vot", free_port()));
    std::fs::write(&f, body).expect("write");
    let out = Command::new("stilts")
        .arg("votlint")
        .arg(format!("votable={}", f.display()))
        .output()
        .expect("stilts");
    let _ = std::fs::remove_file(&f);
    Some(String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

/// `bench.objects` locked (ACCESS EXCLUSIVE) by a psql session until dropped: queries on it
/// wait without using CPU, so jobs pile up in a known state.
pub struct BenchLock {
    child: Child,
    stdin: Option<std::process::ChildStdin>,
}

impl BenchLock {
    /// Take the lock on `server`'s cluster; returns once it is held.
    pub fn take(server: &Server, name: &str) -> BenchLock {
        use std::io::Write;
        let mut child = Command::new("psql")
            .arg("-XAtq")
            .arg(format!("{} application_name={name}", embedded_url(server)))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("psql starts");
        let mut stdin = child.stdin.take().expect("psql's stdin");
        stdin
            .write_all(b"BEGIN;\nLOCK TABLE bench.objects IN ACCESS EXCLUSIVE MODE;\n")
            .expect("psql reads");
        stdin.flush().expect("psql reads");
        let held = format!(
            "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid) \
             WHERE application_name = '{name}' AND granted AND mode = 'AccessExclusiveLock' \
             AND relation = 'bench.objects'::regclass"
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while psql(server, &held) != "1" {
            assert!(Instant::now() < deadline, "psql did not get the lock");
            std::thread::sleep(Duration::from_millis(50));
        }
        BenchLock {
            child,
            stdin: Some(stdin),
        }
    }
}

impl Drop for BenchLock {
    /// End the session (its transaction and lock with it).
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// `tapir <args> --database-url <the server's cluster>`, with `stdin` piped in:
/// (success, stdout, stderr).
pub fn tapir(s: &Server, args: &[&str], stdin: &str) -> (bool, String, String) {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args(args)
        .arg("--database-url")
        .arg(embedded_url(s))
        .env("TAPIR_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("tapir runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin written");
    let out = child.wait_with_output().expect("tapir ends");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A user of the server's database (`tapir user add`), or the test fails.
pub fn add_user(s: &Server, name: &str, password: &str) {
    let (ok, out, err) = tapir(s, &["user", "add", name], &format!("{password}\n"));
    assert!(ok, "user add {name}: {out} {err}");
}
