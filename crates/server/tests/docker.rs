//! docker-compose.yml without a Docker engine (none runs on the build machines): the compose
//! file must be valid, and the database image's own logic — `docker/pgsphere-fix.sh` at build
//! time, then `docker/postgres-entrypoint.sh` at first start — must give a healthy database with
//! pgSphere on the PostgreSQL a current Debian 12 has (issue 9). The image's layout is stood in
//! for by a private copy of the machine's installation holding the machine's own, uncorrected
//! pgSphere scripts, which the image's script then corrects in place.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

fn has(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `docker compose config` (or the older `docker-compose config`) accepts the compose file,
/// and what it resolves is the set-up the README describes.
#[test]
fn the_compose_file_is_valid() {
    let compose_v2 = Command::new("docker")
        .args(["compose", "version"])
        .output()
        .is_ok_and(|o| o.status.success());
    let mut command = if compose_v2 {
        let mut c = Command::new("docker");
        c.arg("compose");
        c
    } else if has("docker-compose") {
        Command::new("docker-compose")
    } else {
        assert!(
            !in_ci(),
            "CI needs docker-compose (apt-get install docker-compose)"
        );
        eprintln!("skipping: neither `docker compose` nor docker-compose is installed");
        return;
    };
    let out = command
        .current_dir(repo())
        .args(["-f", "docker-compose.yml", "config"])
        .env("TAPIR_DB_PASSWORD", "not-a-real-secret")
        .output()
        .expect("compose runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "compose config: {}{}",
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "postgres.Dockerfile",
        "tapir.Dockerfile",
        "service_healthy",
        "pg_isready",
        "8080",
        "dbname=tapir",
    ] {
        assert!(
            text.contains(needle),
            "{needle:?} in the resolved compose file:\n{text}"
        );
    }
    // Without the password the file refuses to resolve, rather than run without one.
    let out = Command::new(command.get_program())
        .args(command.get_args())
        .current_dir(repo())
        .env_remove("TAPIR_DB_PASSWORD")
        .output()
        .expect("compose runs");
    assert!(
        !out.status.success(),
        "a compose file without TAPIR_DB_PASSWORD must not resolve"
    );
}

/// The database image's build step and entrypoint, run against the machine's PostgreSQL.
#[test]
fn the_database_image_creates_pgsphere() {
    let Some(bin) = pginstall::find_bindir("") else {
        assert!(!in_ci(), "CI needs PostgreSQL with pgSphere");
        eprintln!("skipping: no PostgreSQL server here");
        return;
    };
    let machine = pginstall::Install::of(&bin).expect("the machine's PostgreSQL");
    let base = std::env::temp_dir().join(format!("tapir-docker-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    fs::create_dir_all(&base).expect("temp dir");
    let _clean = RemoveDir(base.clone());

    // The image's installation: the machine's files, pgSphere scripts as packaged.
    let image = machine
        .corrected_copy(&base.join("usr"))
        .expect("an installation to stand in for the image's")
        .install;
    let extension = image.extension_dir();
    let mut originals = Vec::new();
    for entry in fs::read_dir(machine.extension_dir()).expect("extension dir") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if pginstall::pgsphere::is_script(&name) {
            let target = extension.join(&name);
            fs::remove_file(&target).expect("replace");
            fs::copy(entry.path(), &target).expect("the packaged script");
            originals.push((name, fs::read_to_string(entry.path()).expect("script")));
        }
    }
    assert!(!originals.is_empty(), "pgSphere's scripts are installed");

    // Build time: the image's script corrects exactly what Tapir's own correction does.
    let out = Command::new("sh")
        .arg(repo().join("docker/pgsphere-fix.sh"))
        .arg(&extension)
        .output()
        .expect("pgsphere-fix.sh runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    for (name, original) in &originals {
        let fixed = fs::read_to_string(extension.join(name)).expect("script");
        let expected = pginstall::pgsphere::correct_script(original);
        assert_eq!(
            said.contains(name.as_str()),
            expected.is_some(),
            "{name}: reported iff corrected: {said}"
        );
        assert!(
            fixed == expected.unwrap_or_else(|| original.clone()),
            "{name}: the image's correction differs from Tapir's"
        );
    }
    let again = Command::new("sh")
        .arg(repo().join("docker/pgsphere-fix.sh"))
        .arg(&extension)
        .output()
        .expect("runs again");
    assert!(
        again.status.success() && again.stdout.is_empty(),
        "a second run changes nothing"
    );

    // First start of the container: initdb, the tapir database, pgSphere, then the server.
    let data = base.join("data");
    let sockets = base.join("run");
    for dir in [&data, &sockets] {
        fs::create_dir_all(dir).expect("dir");
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).expect("mode");
    }
    if is_root() {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&data)
            .arg(&sockets)
            .status()
            .expect("chown");
        assert!(status.success());
    }
    let port = free_port();
    let password = "compose-test-password";
    let mut server = Entrypoint::start(&image.bin, &machine.bin, &data, &sockets, port, password);
    let psql = |pw: &str, sql: &str| {
        Command::new(machine.bin.join("psql"))
            .args([
                "-XAtq",
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "postgres",
                "-d",
                "tapir",
            ])
            .args(["-c", sql])
            .env("PGPASSWORD", pw)
            .env("PGCONNECT_TIMEOUT", "5")
            .output()
            .expect("psql runs")
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if psql(password, "SELECT 1").status.success() {
            break;
        }
        if let Some(status) = server.child.try_wait().expect("wait") {
            panic!("the entrypoint exited with {status}:\n{}", server.output());
        }
        assert!(
            Instant::now() < deadline,
            "no database after 90 s:\n{}",
            server.output()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let answer = |sql: &str| {
        let out = psql(password, sql);
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(
        answer("SELECT extname FROM pg_extension WHERE extname = 'pg_sphere'"),
        "pg_sphere"
    );
    assert_eq!(
        answer("SELECT spoint '(10.2d, 20.1d)' @ scircle '<(10d, 20d), 1d>', spoint '(50d, 20d)' @ scircle '<(10d, 20d), 1d>'"),
        "t|f",
        "a cone predicate"
    );
    assert_eq!(
        answer("SELECT count(*) FROM pg_operator WHERE oprname = '@' AND oprright = 'smoc'::regtype"),
        "0"
    );
    assert!(
        !psql("wrong-password", "SELECT 1").status.success(),
        "password authentication is on"
    );
    server.stop(&data);
}

/// The entrypoint running as the cluster's user (as in the image: `USER postgres`).
struct Entrypoint {
    child: Child,
    log: PathBuf,
    run_as: Option<&'static str>,
    pg_ctl: PathBuf,
}

impl Entrypoint {
    fn start(
        image_bin: &Path,
        machine_bin: &Path,
        data: &Path,
        sockets: &Path,
        port: u16,
        password: &str,
    ) -> Entrypoint {
        let log = data.with_file_name("entrypoint.log");
        let file = fs::File::create(&log).expect("log");
        // The image puts its PostgreSQL first on PATH; its copy has the server and pg_ctl, the
        // machine's bin the rest (initdb, createdb, psql).
        let path = format!("{}:{}:/usr/bin:/bin", image_bin.display(), machine_bin.display());
        let entrypoint = repo().join("docker/postgres-entrypoint.sh");
        let run_as = is_root().then_some("postgres");
        let mut command = match run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--", "env"]);
                c
            }
            None => Command::new("env"),
        };
        command
            .arg(format!("PATH={path}"))
            .arg(format!("PGDATA={}", data.display()))
            .arg(format!("PGPORT={port}"))
            .arg(format!("SOCKET_DIR={}", sockets.display()))
            .arg("LISTEN_ADDRESSES=127.0.0.1")
            .arg(format!("POSTGRES_PASSWORD={password}"))
            .arg("sh")
            .arg(entrypoint)
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log"))
            .stderr(file);
        Entrypoint {
            child: command.spawn().expect("the entrypoint starts"),
            log,
            run_as,
            pg_ctl: image_bin.join("pg_ctl"),
        }
    }

    fn output(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn stop(&mut self, data: &Path) {
        let mut command = match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&self.pg_ctl);
                c
            }
            None => Command::new(&self.pg_ctl),
        };
        let _ = command
            .arg("-D")
            .arg(data)
            .args(["-m", "fast", "-w", "stop"])
            .current_dir("/")
            .output();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct RemoveDir(PathBuf);

impl Drop for RemoveDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
