//! Identity (issue 14, first part): accounts managed with `tapir user|group|token`, TAP+ login
//! and logout with the session cookie, HTTP Basic and bearer tokens, the HTTPS listener, owners
//! recorded on jobs, and the security properties of each (same answer and time for unknown
//! users and wrong passwords, slowed repeated failures without lockout, no session fixation,
//! credentials refused over plain HTTP, no password in logs or `check-config`).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{add_user, curl, embedded_url, free_port, start_with, tapir, Reply, Server};

/// A self-signed certificate for 127.0.0.1 in `dir`: (cert, key).
fn certificate(dir: &Path) -> (String, String) {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(ok.success(), "openssl made a certificate");
    (cert.display().to_string(), key.display().to_string())
}

fn login(s: &Server, base: &str, user: &str, password: &str, extra: &[&str]) -> Reply {
    let mut args = vec![format!("{base}/login")];
    args.extend(extra.iter().map(|a| a.to_string()));
    args.extend([
        "--data-urlencode".into(),
        format!("username={user}"),
        "--data-urlencode".into(),
        format!("password={password}"),
    ]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    curl(s, &refs)
}

/// The session cookie's value from a login answer, checking the header's shape: the cookie is
/// the first item of `Set-Cookie` (TapPlus reads only that position).
fn session(r: &Reply) -> String {
    let set = r.header("set-cookie").unwrap_or_default();
    let first = set.split(';').next().unwrap_or_default();
    let value = first
        .strip_prefix("JSESSIONID=")
        .unwrap_or_else(|| panic!("JSESSIONID first in Set-Cookie: {set}"));
    assert_eq!(value.len(), 64, "256 random bits: {set}");
    for attr in ["HttpOnly", "Path=/", "SameSite=Lax"] {
        assert!(set.contains(attr), "{attr} in {set}");
    }
    value.to_string()
}

/// A job created with `auth` (curl arguments), and its owner as `/owner` answers.
fn job_owner(s: &Server, base: &str, auth: &[&str]) -> String {
    let mut args = vec![format!("{base}/async")];
    args.extend(auth.iter().map(|a| a.to_string()));
    args.extend([
        "--data-urlencode".into(),
        "QUERY=SELECT TOP 1 id FROM bench.objects".into(),
    ]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let created = curl(s, &refs);
    assert_eq!(created.status, 303, "{}", created.text());
    // Asked at the same address the job was created at (the Location names the service's
    // base URL, which is the HTTPS one when there is an HTTPS listener).
    let location = created.header("location").expect("Location");
    let id = location.rsplit('/').next().expect("a job id");
    let mut owner_args = vec![format!("{base}/async/{id}/owner")];
    owner_args.extend(auth.iter().map(|a| a.to_string()));
    let refs: Vec<&str> = owner_args.iter().map(String::as_str).collect();
    let owner = curl(s, &refs);
    assert_eq!(owner.status, 200, "{}", owner.text());
    owner.text()
}

/// The phase a job (started with PHASE=RUN) ends in, read with `phase` every 100 ms for at
/// most 10 s (or the phase it is still in then).
fn final_phase(phase: impl Fn() -> String) -> String {
    let mut now = phase();
    for _ in 0..100 {
        if !matches!(now.as_str(), "PENDING" | "QUEUED" | "EXECUTING") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        now = phase();
    }
    now
}

#[test]
fn accounts_sessions_basic_and_tokens() {
    let certs = std::env::temp_dir().join(format!("tapir-identity-certs-{}", std::process::id()));
    std::fs::create_dir_all(&certs).expect("cert dir");
    let (cert, key) = certificate(&certs);
    let tls_port = free_port();
    let tls_bind = format!("127.0.0.1:{tls_port}");
    let env = [
        ("TAPIR_IDENTITY_PLAIN_HTTP_ON_LOOPBACK", "true"),
        // The timing and throttle checks speak for other clients through X-Forwarded-For.
        ("TAPIR_SERVER_TRUSTED_PROXIES", "127.0.0.1"),
        ("TAPIR_SERVER_TLS_BIND", tls_bind.as_str()),
        ("TAPIR_SERVER_TLS_CERT", cert.as_str()),
        ("TAPIR_SERVER_TLS_KEY", key.as_str()),
    ];
    let Some(s) = start_with(&env, None) else {
        return;
    };
    let base = s.base.clone();
    let https = format!("https://127.0.0.1:{tls_port}/tap");
    for (u, p) in [
        ("alice", "alice-pw"),
        ("bob", "bob-pw"),
        ("carol", "carol-pw"),
        ("u1", "x"),
        ("u2", "x"),
        ("u3", "x"),
    ] {
        add_user(&s, u, p);
    }
    let (ok, _, err) = tapir(&s, &["user", "add", "alice"], "other\n");
    assert!(!ok && err.contains("exists already"), "{err}");
    let (ok, _, err) = tapir(&s, &["user", "disable", "carol"], "");
    assert!(ok, "{err}");
    let (ok, _, err) = tapir(&s, &["group", "add", "gaia", "alice", "bob"], "");
    assert!(ok, "{err}");
    let (ok, listed, _) = tapir(&s, &["user", "list"], "");
    assert!(ok);
    assert!(
        listed.lines().any(|l| l.starts_with("alice\t-\tenabled\tgaia\t")),
        "{listed}"
    );
    assert!(
        listed.lines().any(|l| l.starts_with("carol\t-\tdisabled\t")),
        "{listed}"
    );
    let (ok, token, err) = tapir(&s, &["token", "create", "bob"], "");
    assert!(ok, "{err}");
    let token = token.trim().to_string();
    assert_eq!(token.len(), 64, "{token}");
    let hashes = common::psql(&s, "SELECT string_agg(password_hash, ' ') FROM tapir.users");
    assert!(hashes.contains("$argon2id$v=19$m=19456,t=2,p=1$"), "{hashes}");
    assert!(!hashes.contains("alice-pw"));

    // Login at the base path and at its parent (the Gaia layout serves /tap-server/login).
    let r = login(&s, &base, "alice", "alice-pw", &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let cookie = session(&r);
    assert!(
        !r.header("set-cookie").unwrap_or_default().contains("Secure"),
        "plain loopback"
    );
    let parent = base.trim_end_matches("/tap");
    let r = login(&s, parent, "alice", "alice-pw", &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_ne!(session(&r), cookie, "a new session per login");
    let with_cookie = format!("JSESSIONID={cookie}");
    assert_eq!(job_owner(&s, &base, &["-b", &with_cookie]), "alice");
    assert_eq!(job_owner(&s, &base, &[]), "", "anonymous jobs have no owner");
    let job_doc = {
        let created = curl(
            &s,
            &[
                &format!("{base}/async"),
                "-b",
                &with_cookie,
                "--data-urlencode",
                "QUERY=SELECT TOP 1 id FROM bench.objects",
            ],
        );
        curl(
            &s,
            &[
                &format!(
                    "{base}/async/{}",
                    created
                        .header("location")
                        .expect("Location")
                        .rsplit('/')
                        .next()
                        .expect("id")
                ),
                "-b",
                &with_cookie,
            ],
        )
        .text()
    };
    assert!(job_doc.contains("<uws:ownerId>alice</uws:ownerId>"), "{job_doc}");

    // Wrong password and unknown user: the same status, words and time.
    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..3 {
        let xff_a = format!("X-Forwarded-For: 198.51.100.{}", 10 + i);
        let xff_b = format!("X-Forwarded-For: 198.51.100.{}", 20 + i);
        let t0 = Instant::now();
        let a = login(&s, &base, &format!("u{}", i + 1), "wrong", &["-H", &xff_a]);
        wrong.push(t0.elapsed());
        let t0 = Instant::now();
        let b = login(&s, &base, &format!("nobody{i}"), "wrong", &["-H", &xff_b]);
        unknown.push(t0.elapsed());
        assert_eq!((a.status, b.status), (401, 401));
        assert_eq!(a.text(), b.text());
        assert!(a.text().contains("wrong user name or password"), "{}", a.text());
        assert!(a.header("set-cookie").is_none());
    }
    wrong.sort();
    unknown.sort();
    let (w, u) = (wrong[1].as_secs_f64(), unknown[1].as_secs_f64());
    eprintln!(
        "login refusal, median: wrong password {:.1} ms, unknown user {:.1} ms",
        w * 1e3,
        u * 1e3
    );
    assert!(
        w / u < 2.0 && u / w < 2.0,
        "wrong {wrong:?} vs unknown {unknown:?}"
    );

    // Repeated failures are slowed, never locked out.
    let xff = ["-H", "X-Forwarded-For: 203.0.113.7"];
    for _ in 0..4 {
        assert_eq!(login(&s, &base, "bob", "guess", &xff).status, 401);
    }
    let t0 = Instant::now();
    assert_eq!(login(&s, &base, "bob", "guess", &xff).status, 401);
    let slowed = t0.elapsed();
    assert!(
        slowed >= Duration::from_millis(500),
        "the fifth failure waits: {slowed:?}"
    );
    let r = login(&s, &base, "bob", "bob-pw", &xff);
    assert_eq!(r.status, 200, "the right password still works: {}", r.text());
    eprintln!("fifth failed login answered after {slowed:?}; the right password still logs in");

    // A disabled user cannot log in; disabling ends the user's sessions.
    assert_eq!(login(&s, &base, "carol", "carol-pw", &[]).status, 401);

    // Session fixation: a cookie the client brings is never adopted.
    let planted = "ab".repeat(32);
    let planted_cookie = format!("JSESSIONID={planted}");
    let r = login(&s, &base, "alice", "alice-pw", &["-b", &planted_cookie]);
    assert_eq!(r.status, 200);
    assert_ne!(session(&r), planted);
    assert_eq!(
        job_owner(&s, &base, &["-b", &planted_cookie]),
        "",
        "the planted cookie is nobody"
    );

    // HTTP Basic and bearer tokens.
    assert_eq!(job_owner(&s, &base, &["-u", "alice:alice-pw"]), "alice");
    assert_eq!(
        job_owner(&s, &base, &["-u", "alice:alice-pw"]),
        "alice",
        "remembered"
    );
    let r = curl(&s, &[&format!("{base}/async"), "-u", "alice:nope"]);
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(
        r.header("www-authenticate").unwrap_or_default().contains("Basic"),
        "{}",
        r.headers
    );
    let bearer = format!("Authorization: Bearer {token}");
    assert_eq!(job_owner(&s, &base, &["-H", &bearer]), "bob");
    let r = curl(
        &s,
        &[
            &format!("{base}/async"),
            "-H",
            &format!("Authorization: Bearer {}", "0".repeat(64)),
        ],
    );
    assert_eq!(r.status, 401, "{}", r.text());
    let (ok, tokens, _) = tapir(&s, &["token", "list", "bob"], "");
    assert!(ok);
    let id = tokens
        .lines()
        .nth(1)
        .and_then(|l| l.split('\t').next())
        .expect("a token id")
        .to_string();
    let (ok, _, err) = tapir(&s, &["token", "revoke", &id], "");
    assert!(ok, "{err}");
    let r = curl(&s, &[&format!("{base}/async"), "-H", &bearer]);
    assert_eq!(r.status, 401, "a revoked token: {}", r.text());

    // Logout ends the session server-side: the cookie is nobody afterwards.
    let r = curl(&s, &[&format!("{base}/logout"), "-X", "POST", "-b", &with_cookie]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.header("set-cookie").unwrap_or_default().contains("Max-Age=0"));
    assert_eq!(job_owner(&s, &base, &["-b", &with_cookie]), "");

    // Disabling a user ends their sessions at once.
    let r = login(&s, &base, "alice", "alice-pw", &[]);
    let fresh = format!("JSESSIONID={}", session(&r));
    assert_eq!(job_owner(&s, &base, &["-b", &fresh]), "alice");
    let (ok, _, err) = tapir(&s, &["user", "disable", "alice"], "");
    assert!(ok, "{err}");
    assert_eq!(job_owner(&s, &base, &["-b", &fresh]), "");

    // HTTPS: the certificate verifies, and the cookie is Secure.
    let r = curl(&s, &["--cacert", &cert, &format!("{https}/availability")]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("<vosi:available>true</vosi:available>"));
    let r = login(&s, &https, "bob", "bob-pw", &["--cacert", &cert]);
    assert_eq!(r.status, 200, "{}", r.text());
    let secure = r.header("set-cookie").unwrap_or_default();
    assert!(secure.contains("; Secure"), "{secure}");
    let over_tls = format!("JSESSIONID={}", session(&r));
    assert_eq!(
        job_owner(&s, &https, &["--cacert", &cert, "-b", &over_tls]),
        "bob"
    );

    // No password in the log.
    let log = s.log();
    for secret in ["alice-pw", "bob-pw", "carol-pw", token.as_str()] {
        assert!(!log.contains(secret), "{secret} in the server log");
    }
    let _ = std::fs::remove_dir_all(&certs);
}

/// Without `identity.plain_http_on_loopback`, credentials over plain HTTP are refused (403,
/// told to use HTTPS) and nothing is checked; `check-config` never prints a database password.
#[test]
fn credentials_need_https() {
    let Some(s) = start_with(&[], None) else {
        return;
    };
    add_user(&s, "alice", "alice-pw");
    let r = login(&s, &s.base, "alice", "alice-pw", &[]);
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("HTTPS"), "{}", r.text());
    assert!(r.header("set-cookie").is_none());
    let r = curl(&s, &[&format!("{}/async", s.base), "-u", "alice:alice-pw"]);
    assert_eq!(r.status, 403, "{}", r.text());
    let r = curl(
        &s,
        &[
            &format!("{}/async", s.base),
            "-b",
            &format!("JSESSIONID={}", "ab".repeat(32)),
        ],
    );
    assert_eq!(r.status, 403, "{}", r.text());
    // Anonymous use is unchanged.
    let r = common::get(&s, "/async");
    assert_eq!(r.status, 200, "{}", r.text());

    let out = Command::new(env!("CARGO_BIN_EXE_tapir"))
        .args([
            "check-config",
            "--database-url",
            "postgres://tapir:s3cr3t-pw@db.example/cat",
        ])
        .output()
        .expect("tapir runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("postgres://tapir:***@db.example/cat"), "{text}");
    assert!(!text.contains("s3cr3t-pw"), "{text}");
}

/// Owners (issue 14): each caller sees and acts on their own jobs only; another's job answers
/// exactly like a missing one (404) and is left unchanged. Prints the matrix it checked.
#[test]
fn callers_see_and_change_only_their_own_jobs() {
    let Some(s) = start_with(&[("TAPIR_IDENTITY_PLAIN_HTTP_ON_LOOPBACK", "true")], None) else {
        return;
    };
    add_user(&s, "alice", "alice-pw");
    add_user(&s, "bob", "bob-pw");
    let base = s.base.clone();
    let alice = ["-u", "alice:alice-pw"];
    let bob = ["-u", "bob:bob-pw"];
    let nobody: [&str; 0] = [];
    let create = |auth: &[&str]| -> String {
        let mut args = vec![format!("{base}/async")];
        args.extend(auth.iter().map(|a| a.to_string()));
        args.extend([
            "--data-urlencode".into(),
            "QUERY=SELECT TOP 1 id FROM bench.objects".into(),
        ]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = curl(&s, &refs);
        assert_eq!(r.status, 303, "{}", r.text());
        let url = r.header("location").expect("Location");
        url.rsplit('/').next().expect("id").to_string()
    };
    let jobs = [
        ("alice", create(&alice)),
        ("bob", create(&bob)),
        ("anonymous", create(&nobody)),
    ];
    let callers: [(&str, &[&str]); 3] = [("alice", &alice), ("bob", &bob), ("anonymous", &nobody)];
    let call = |auth: &[&str], method: &str, path: &str, data: Option<&str>| -> u16 {
        let mut args = vec![format!("{base}{path}"), "-X".to_string(), method.to_string()];
        args.extend(auth.iter().map(|a| a.to_string()));
        if let Some(d) = data {
            args.extend(["--data".to_string(), d.to_string()]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        curl(&s, &refs).status
    };
    let mut table = String::from("caller     job owner  doc  phase  results  params  RUN  list  search\n");
    for (who, auth) in callers {
        let listed = {
            let mut args = vec![format!("{base}/async")];
            args.extend(auth.iter().map(|a| a.to_string()));
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            curl(&s, &refs).text()
        };
        let searched = {
            let mut args = vec![format!("{base}/jobs/async")];
            args.extend(auth.iter().map(|a| a.to_string()));
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            curl(&s, &refs).text()
        };
        for (owner, id) in &jobs {
            let mine = who == *owner;
            let want = if mine { 200 } else { 404 };
            let doc = call(auth, "GET", &format!("/async/{id}"), None);
            let phase = call(auth, "GET", &format!("/async/{id}/phase"), None);
            let results = call(auth, "GET", &format!("/async/{id}/results"), None);
            let params = call(auth, "GET", &format!("/async/{id}/parameters"), None);
            assert_eq!(
                (doc, phase, results, params),
                (want, want, want, want),
                "{who} on {owner}'s job"
            );
            let in_list = listed.contains(id.as_str());
            let in_search = searched.contains(id.as_str());
            assert_eq!((in_list, in_search), (mine, mine), "{who} lists {owner}'s job");
            let run = if mine {
                "-".to_string()
            } else {
                // Changes to another's job are refused like a missing job and change nothing.
                let run = call(auth, "POST", &format!("/async/{id}/phase"), Some("PHASE=RUN"));
                assert_eq!(run, 404, "{who} runs {owner}'s job");
                assert_eq!(call(auth, "DELETE", &format!("/async/{id}"), None), 404);
                run.to_string()
            };
            table.push_str(&format!(
                "{who:<10} {owner:<10} {doc:<4} {phase:<6} {results:<8} {params:<7} {run:<4} {in_list:<5} {in_search}\n"
            ));
        }
        // ESA's deletejobs only ever deletes the caller's own.
        let others: Vec<&str> = jobs
            .iter()
            .filter(|(o, _)| *o != who)
            .map(|(_, id)| id.as_str())
            .collect();
        let mut args = vec![format!("{base}/deletejobs")];
        args.extend(auth.iter().map(|a| a.to_string()));
        args.extend(["--data".to_string(), format!("JOB_IDS={}", others.join(","))]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = curl(&s, &refs);
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.text().starts_with("deleted 0 of 2 jobs"), "{who}: {}", r.text());
    }
    eprintln!("{table}");
    // Every job still exists and is still PENDING.
    let pending = common::psql(&s, "SELECT count(*) FROM tapir.jobs WHERE phase = 'PENDING'");
    assert_eq!(pending, "3");
    let owners = common::psql(
        &s,
        "SELECT string_agg(coalesce(owner_id, '-'), ',' ORDER BY owner_id) FROM tapir.jobs",
    );
    assert_eq!(owners, "alice,bob,-");
    // Users' jobs are kept until they delete them (jobs.user_retention_secs = 0), anonymous
    // ones for the default day.
    let kept = common::psql(
        &s,
        "SELECT string_agg(coalesce(owner_id, '-') || ':' || \
         (destruction > now() + interval '900 years')::text, ',' ORDER BY owner_id) FROM tapir.jobs",
    );
    assert_eq!(kept, "alice:true,bob:true,-:false");
}

/// An authenticating front proxy (single sign-on) names the user in `X-Remote-User`
/// (`identity.proxy_user_header`), believed from `server.trusted_proxies` only: the job is that
/// user's; a user unknown to Tapir acts without groups; a disabled one is refused.
#[test]
fn a_trusted_front_proxy_names_the_user() {
    let env = [
        ("TAPIR_SERVER_TRUSTED_PROXIES", "127.0.0.1"),
        ("TAPIR_IDENTITY_PROXY_USER_HEADER", "X-Remote-User"),
    ];
    let Some(s) = start_with(&env, None) else {
        return;
    };
    add_user(&s, "carol", "carol-pw");
    let (ok, _, err) = tapir(&s, &["user", "disable", "carol"], "");
    assert!(ok, "{err}");
    let base = s.base.clone();
    assert_eq!(
        job_owner(&s, &base, &["-H", "X-Remote-User: sso.user@example.org"]),
        "sso.user@example.org"
    );
    assert_eq!(job_owner(&s, &base, &[]), "");
    let r = curl(&s, &[&format!("{base}/async"), "-H", "X-Remote-User: carol"]);
    assert_eq!(r.status, 403, "{}", r.text());
    let r = curl(&s, &[&format!("{base}/async"), "-H", "X-Remote-User: not a name"]);
    assert_eq!(r.status, 401, "{}", r.text());
}

/// Fair share and per-user limits (issue 14): with two workers, alice fills her share of the
/// queue (`jobs.queued_per_user`, 429 past it) before bob queues one job; bob's job runs as
/// soon as a worker frees up (the owner with the fewest jobs running goes first), not after
/// alice's backlog. While the queue fills, a lock held by psql keeps the jobs waiting (no CPU).
#[test]
fn one_users_queue_does_not_hold_up_another() {
    let env = [
        ("TAPIR_IDENTITY_PLAIN_HTTP_ON_LOOPBACK", "true"),
        ("TAPIR_JOBS_WORKERS", "2"),
        ("TAPIR_JOBS_RUNNING_PER_USER", "2"),
        ("TAPIR_JOBS_QUEUED_PER_USER", "40"),
    ];
    let Some(s) = start_with(&env, None) else {
        return;
    };
    add_user(&s, "alice", "alice-pw");
    add_user(&s, "bob", "bob-pw");
    let base = s.base.clone();
    // About a tenth of a second each on the test catalogue.
    let work = "SELECT COUNT(*) AS n FROM bench.objects AS a, bench.objects AS b \
                WHERE a.id < 1000 AND b.id < 1000 AND a.ra > b.ra";
    let submit = |user: Option<&str>| -> Reply {
        let mut args = vec![
            format!("{base}/async"),
            "--data-urlencode".to_string(),
            format!("QUERY={work}"),
            "-d".to_string(),
            "PHASE=RUN".to_string(),
        ];
        if let Some(u) = user {
            args.extend(["-u".to_string(), u.to_string()]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        curl(&s, &refs)
    };
    let lock = common::BenchLock::take(&s, "fair-lock");
    let mut accepted = 0;
    let refused = loop {
        let r = submit(Some("alice:alice-pw"));
        match r.status {
            303 => accepted += 1,
            429 => break r,
            other => panic!("{other}: {}", r.text()),
        }
        assert!(accepted <= 45, "alice's queue share never ran out");
    };
    assert!(
        refused.text().contains("jobs waiting to run already"),
        "{}",
        refused.text()
    );
    assert_eq!(refused.header("retry-after").as_deref(), Some("30"));
    // Anonymous jobs are not counted against alice's share.
    assert_eq!(submit(None).status, 303);
    let bob = submit(Some("bob:bob-pw"));
    assert_eq!(bob.status, 303, "{}", bob.text());
    let id = bob
        .header("location")
        .expect("Location")
        .rsplit('/')
        .next()
        .expect("id")
        .to_string();
    let t0 = Instant::now();
    drop(lock);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let phase = common::psql(&s, &format!("SELECT phase FROM tapir.jobs WHERE job_id = '{id}'"));
        if phase == "COMPLETED" {
            break;
        }
        assert!(Instant::now() < deadline, "bob's job is {phase} after a minute");
        std::thread::sleep(Duration::from_millis(20));
    }
    let waited = t0.elapsed();
    let left: u32 = common::psql(
        &s,
        "SELECT count(*) FROM tapir.jobs WHERE owner_id = 'alice' AND phase IN ('QUEUED', 'EXECUTING')",
    )
    .parse()
    .expect("a count");
    eprintln!(
        "fair share: bob's one job, queued behind {accepted} of alice's, completed {waited:?} after \
         the queue started moving; {left} of alice's were still waiting or running"
    );
    // Decided by the claim order, not by how fast the machine is: the jobs of alice's that
    // started before bob's are the two the lock held EXECUTING; the rest wait behind his. (A
    // worker freed while the other still ran someone else's job used to give alice's oldest
    // the tie at none running each, and 3 to 5 of hers started first; now the owner with fewer
    // jobs waiting wins the tie.)
    let before: u32 = common::psql(
        &s,
        &format!(
            "SELECT count(*) FROM tapir.jobs WHERE owner_id = 'alice' AND start_time < \
             (SELECT start_time FROM tapir.jobs WHERE job_id = '{id}')"
        ),
    )
    .parse()
    .expect("a count");
    eprintln!("{before} of alice's jobs started before bob's");
    assert!(
        before <= 2,
        "bob's job waited behind alice's backlog: {before} of hers started first ({left} left of {accepted})"
    );
    common::psql(&s, "DELETE FROM tapir.jobs WHERE owner_id = 'alice'");
}

/// Restricted tables (issue 14, `[access] restricted`): `hsa` is readable by the group
/// `herschel` only and `gaiadr1.gaia_source` by `gaia` only. Both walls are checked: what each
/// caller is served (/tables, ADQL names, hints, sync and async queries) and what PostgreSQL
/// itself lets the query roles read (table privileges, TAP_SCHEMA rows). Without the rules
/// after a restart, the tables are everyone's again.
#[test]
fn restricted_tables_exist_only_for_their_groups() {
    let env = [
        ("TAPIR_IDENTITY_PLAIN_HTTP_ON_LOOPBACK", "true"),
        ("TAPIR_ACCESS_RESTRICTED", "hsa=herschel;gaiadr1.gaia_source=gaia"),
    ];
    let Some(s) = start_with(&env, None) else {
        return;
    };
    for (user, password) in [("alice", "alice-pw"), ("bob", "bob-pw"), ("carol", "carol-pw")] {
        add_user(&s, user, password);
    }
    for args in [
        &["group", "add", "gaia", "alice", "bob"][..],
        &["group", "add", "herschel", "bob"],
    ] {
        let (ok, out, err) = tapir(&s, args, "");
        assert!(ok, "{args:?}: {out} {err}");
    }
    let base = s.base.clone();
    let alice = ["-u", "alice:alice-pw"];
    let bob = ["-u", "bob:bob-pw"];
    let carol = ["-u", "carol:carol-pw"];
    let nobody: [&str; 0] = [];
    let ask = |auth: &[&str], path: &str, data: &[(&str, &str)]| -> Reply {
        let mut args = vec![format!("{base}{path}")];
        args.extend(auth.iter().map(|a| a.to_string()));
        for (k, v) in data {
            args.extend(["--data-urlencode".to_string(), format!("{k}={v}")]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        curl(&s, &refs)
    };
    let sync = |auth: &[&str], query: &str| {
        ask(
            auth,
            "/sync",
            &[("LANG", "ADQL"), ("FORMAT", "csv"), ("QUERY", query)],
        )
    };

    // What each caller is served: /tables and TAP_SCHEMA queried in ADQL.
    let callers: [(&str, &[&str], bool, bool); 4] = [
        ("anonymous", &nobody, false, false),
        ("carol", &carol, false, false),
        ("alice", &alice, true, false),
        ("bob", &bob, true, true),
    ];
    for (who, auth, gaia, hsa) in callers {
        let tables = ask(auth, "/tables", &[]);
        assert_eq!(tables.status, 200, "{who}: {}", tables.text());
        let tables = tables.text();
        assert!(
            tables.contains("<name>ppmxl.main</name>"),
            "{who} sees the open tables"
        );
        assert_eq!(
            tables.contains("<name>gaiadr1.gaia_source</name>"),
            gaia,
            "{who}: gaia_source in /tables"
        );
        assert_eq!(
            tables.contains("hsa.v_active_observation"),
            hsa,
            "{who}: hsa in /tables"
        );
        assert_eq!(
            tables.contains("<name>hsa</name>"),
            hsa,
            "{who}: the hsa schema in /tables"
        );
        let one = ask(auth, "/tables/gaiadr1.gaia_source", &[]);
        assert_eq!(
            one.status,
            if gaia { 200 } else { 404 },
            "{who}: /tables/gaiadr1.gaia_source"
        );

        let listed = sync(auth, "SELECT table_name FROM TAP_SCHEMA.tables");
        assert_eq!(listed.status, 200, "{who}: {}", listed.text());
        let listed = listed.text();
        assert!(listed.contains("ppmxl.main"), "{who}: {listed}");
        assert_eq!(
            listed.contains("gaiadr1.gaia_source"),
            gaia,
            "{who}: TAP_SCHEMA.tables {listed}"
        );
        assert_eq!(
            listed.contains("hsa.v_active_observation"),
            hsa,
            "{who}: TAP_SCHEMA.tables {listed}"
        );
        let columns = sync(
            auth,
            "SELECT COUNT(*) AS n FROM TAP_SCHEMA.columns WHERE table_name = 'gaiadr1.gaia_source'",
        );
        let n: i64 = columns
            .text()
            .lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or(-1);
        assert_eq!(
            n > 0,
            gaia,
            "{who}: gaia_source's columns in TAP_SCHEMA.columns ({n})"
        );
        let schemas = sync(auth, "SELECT schema_name FROM TAP_SCHEMA.schemas").text();
        assert_eq!(
            schemas.lines().any(|l| l.trim() == "hsa"),
            hsa,
            "{who}: TAP_SCHEMA.schemas {schemas}"
        );

        // Querying: rows for readers; for everyone else the table does not exist, and no
        // hint names it.
        let q = sync(auth, "SELECT TOP 2 source_id FROM gaiadr1.gaia_source");
        if gaia {
            assert_eq!(q.status, 200, "{who}: {}", q.text());
            assert_eq!(
                q.text().lines().count(),
                3,
                "{who}: header and two rows: {}",
                q.text()
            );
        } else {
            assert_eq!(q.status, 400, "{who}: {}", q.text());
            assert!(q.text().contains("not found"), "{who}: {}", q.text());
            let typo = sync(auth, "SELECT TOP 2 source_id FROM gaiadr1.gaia_sourc").text();
            assert!(
                !typo.contains("gaia_source"),
                "{who}: a hint names the restricted table: {typo}"
            );
        }
        let h = sync(auth, "SELECT TOP 1 * FROM hsa.v_active_observation");
        assert_eq!(h.status, if hsa { 200 } else { 400 }, "{who}: {}", h.text());
    }
    // Both groups in one query (bob runs as a role that is a member of both group roles).
    let both = sync(
        &bob,
        "SELECT TOP 1 g.source_id, h.* FROM gaiadr1.gaia_source AS g CROSS JOIN hsa.v_active_observation AS h",
    );
    assert_eq!(both.status, 200, "{}", both.text());
    assert_eq!(both.text().lines().count(), 2, "{}", both.text());

    // Async: a job runs as its owner's groups allow.
    let job = |auth: &[&str]| -> String {
        let created = ask(
            auth,
            "/async",
            &[
                ("LANG", "ADQL"),
                ("FORMAT", "csv"),
                ("PHASE", "RUN"),
                ("QUERY", "SELECT TOP 3 source_id FROM gaiadr1.gaia_source"),
            ],
        );
        let id = created.job_id();
        let phase = final_phase(|| ask(auth, &format!("/async/{id}/phase"), &[]).text());
        match phase.as_str() {
            "COMPLETED" => ask(auth, &format!("/async/{id}/results/result"), &[]).text(),
            "ERROR" => format!("ERROR {}", ask(auth, &format!("/async/{id}/error"), &[]).text()),
            other => panic!("job {id} still {other}"),
        }
    };
    let done = job(&alice);
    assert_eq!(done.lines().count(), 4, "alice's job: {done}");
    let refused = job(&carol);
    assert!(
        refused.starts_with("ERROR") && refused.contains("not found"),
        "carol's job: {refused}"
    );

    // The database wall: the query roles themselves cannot read what they are not given.
    let as_role = |role: &str, sql: &str| -> (bool, String) {
        let out = Command::new("psql")
            .arg("-XAtq")
            .arg(embedded_url(&s))
            .arg("-c")
            .arg(format!("SET ROLE {role}; {sql}"))
            .output()
            .expect("psql runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text.trim().to_string())
    };
    let query_role_refused = |when: &str| {
        for table in ["gaiadr1.gaia_source", "hsa.v_active_observation"] {
            let (ok, text) = as_role("tapir_query", &format!("SELECT count(*) FROM {table}"));
            assert!(
                !ok && text.contains("permission denied"),
                "{when}: tapir_query reads {table}: {text}"
            );
        }
    };
    query_role_refused("at start");
    let (ok, text) = as_role("tapir_group_gaia", "SELECT count(*) > 0 FROM gaiadr1.gaia_source");
    assert!(ok && text == "t", "the gaia role reads gaia_source: {text}");
    let (ok, text) = as_role(
        "tapir_group_gaia",
        "SELECT count(*) FROM hsa.v_active_observation",
    );
    assert!(
        !ok && text.contains("permission denied"),
        "the gaia role reads hsa: {text}"
    );
    let hidden = "SELECT count(*) FROM tap_schema.tables WHERE table_name IN ('gaiadr1.gaia_source', 'hsa.v_active_observation')";
    assert_eq!(as_role("tapir_query", hidden), (true, "0".to_string()));
    assert_eq!(as_role("tapir_group_gaia", hidden), (true, "1".to_string()));
    assert!(as_role("tapir_query", "SELECT count(*) FROM tap_schema.tables").0);
    // A command run without the server's configuration (it prepares the database and grants
    // the published schemas too) leaves the restrictions alone: they are recorded there.
    let (ok, _, err) = tapir(&s, &["user", "list"], "");
    assert!(ok, "{err}");
    query_role_refused("after `tapir user list`");

    // Rules removed: the tables are everyone's again.
    let s = common::restart(s, &[("TAPIR_IDENTITY_PLAIN_HTTP_ON_LOOPBACK", "true")]);
    let r = common::sync(
        &s,
        "SELECT TOP 2 source_id FROM gaiadr1.gaia_source",
        &[("FORMAT", "csv")],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text().lines().count(), 3, "{}", r.text());
    assert!(common::get(&s, "/tables")
        .text()
        .contains("hsa.v_active_observation"));
}

/// The authorization matrix (issue 14): every kind of caller against every job and table
/// operation, each cell asserted, the table printed. Jobs belong to alice, bob and nobody
/// (anonymous), all COMPLETED; bob is in the group `gaia`, which alone may read
/// `gaiadr1.gaia_source`. Another's job answers 404 like a job that does not exist (reading
/// it, changing it, or using its result as an upload by `JOB_UPLOAD` or by its URL, which
/// then reads "there is no job"), and nothing changes; a disabled user's password and a
/// revoked token are no credentials (401, as a wrong password), an expired session is
/// anonymous.
#[test]
fn authorization_matrix() {
    let env = [
        ("TAPIR_IDENTITY_PLAIN_HTTP_ON_LOOPBACK", "true"),
        ("TAPIR_IDENTITY_SESSION_MAX_SECS", "2"),
        ("TAPIR_ACCESS_RESTRICTED", "gaiadr1.gaia_source=gaia"),
        // Refused credentials slow further attempts from the same address: each request
        // comes from another (X-Forwarded-For through a trusted proxy) to keep the test quick.
        ("TAPIR_SERVER_TRUSTED_PROXIES", "127.0.0.1"),
    ];
    let Some(s) = start_with(&env, None) else {
        return;
    };
    for (user, password) in [("alice", "alice-pw"), ("bob", "bob-pw"), ("dave", "dave-pw")] {
        add_user(&s, user, password);
    }
    let (ok, _, err) = tapir(&s, &["group", "add", "gaia", "bob"], "");
    assert!(ok, "{err}");
    let (ok, token, err) = tapir(&s, &["token", "create", "alice"], "");
    assert!(ok, "{err}");
    let revoked = format!("Authorization: Bearer {}", token.trim());
    let (ok, tokens, _) = tapir(&s, &["token", "list", "alice"], "");
    assert!(ok);
    let token_id = tokens
        .lines()
        .nth(1)
        .and_then(|l| l.split('\t').next())
        .expect("a token id")
        .to_string();
    let (ok, _, err) = tapir(&s, &["token", "revoke", &token_id], "");
    assert!(ok, "{err}");
    let base = s.base.clone();
    let expired = {
        let cookie = session(&login(&s, &base, "alice", "alice-pw", &[]));
        std::thread::sleep(Duration::from_millis(2500));
        format!("JSESSIONID={cookie}")
    };
    let requests = std::cell::Cell::new(0u32);
    let ask = |auth: &[String], method: &str, path: &str, data: &[(&str, String)]| -> Reply {
        let n = requests.get() + 1;
        requests.set(n);
        let mut args = vec![
            format!("{base}{path}"),
            "-X".into(),
            method.into(),
            "-H".into(),
            format!("X-Forwarded-For: 10.{}.{}.1", n / 256, n % 256),
        ];
        args.extend(auth.iter().cloned());
        for (k, v) in data {
            args.extend(["--data-urlencode".to_string(), format!("{k}={v}")]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        curl(&s, &refs)
    };
    let strs = |a: &[&str]| a.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    let alice = strs(&["-u", "alice:alice-pw"]);
    let bob = strs(&["-u", "bob:bob-pw"]);
    // Jobs, run to completion by their owners.
    let mut jobs: Vec<(&str, String)> = Vec::new();
    for (owner, auth) in [("alice", &alice), ("bob", &bob), ("anonymous", &Vec::new())] {
        let created = ask(
            auth,
            "POST",
            "/async",
            &[
                ("LANG", "ADQL".into()),
                ("PHASE", "RUN".into()),
                ("QUERY", "SELECT TOP 2 id FROM bench.objects".into()),
            ],
        );
        let id = created.job_id();
        let phase = final_phase(|| ask(auth, "GET", &format!("/async/{id}/phase"), &[]).text());
        assert_eq!(phase, "COMPLETED", "{owner}'s job");
        jobs.push((owner, id));
    }
    // Who asks, whose jobs count as theirs, and what every answer must then be.
    enum Is {
        Owner(&'static str),
        Disabled,
        Revoked,
    }
    // Dave's token (made while he was enabled): a disabled user's password would be refused
    // the same way but slows further attempts on his name.
    let (ok, dave_token, err) = tapir(&s, &["token", "create", "dave"], "");
    assert!(ok, "{err}");
    let dave = strs(&["-H", &format!("Authorization: Bearer {}", dave_token.trim())]);
    let callers: Vec<(&str, Vec<String>, Is)> = vec![
        ("anonymous", Vec::new(), Is::Owner("anonymous")),
        ("alice", alice.clone(), Is::Owner("alice")),
        ("bob (gaia)", bob.clone(), Is::Owner("bob")),
        ("dave (disabled)", dave.clone(), Is::Disabled),
        ("expired session", strs(&["-b", &expired]), Is::Owner("anonymous")),
        ("revoked token", strs(&["-H", &revoked]), Is::Revoked),
    ];
    let (ok, _, err) = tapir(&s, &["user", "disable", "dave"], "");
    assert!(ok, "{err}");
    let status_of = |is: &Is, mine: bool, ok: u16, refused: u16| match is {
        // A disabled user's password answers like a wrong one (not revealing the account).
        Is::Disabled | Is::Revoked => 401,
        Is::Owner(_) if mine => ok,
        Is::Owner(_) => refused,
    };
    let mut table = format!(
        "{:<16} {:<10} {:>4} {:>4} {:>5} {:>7} {:>6} {:>6} {:>4} {:>4} {:>6} {:>6} {:>5} {:>6} {:>6} {:>6} {:>6}\n",
        "caller",
        "job of",
        "doc",
        "page",
        "phase",
        "results",
        "result",
        "params",
        "view",
        "plot",
        "JOB_UP",
        "URL_UP",
        "ABORT",
        "destr",
        "DELETE",
        "delj",
        "manage"
    );
    for (who, auth, is) in &callers {
        for (owner, id) in &jobs {
            let mine = matches!(is, Is::Owner(o) if o == owner);
            let job = format!("/async/{id}");
            // A browser asking for the job page (issue 15) gets what the XML's reader gets.
            let mut browser = auth.clone();
            browser.extend(strs(&[
                "-H",
                "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            ]));
            let reads = [
                ask(auth, "GET", &job, &[]),
                ask(&browser, "GET", &job, &[]),
                ask(auth, "GET", &format!("{job}/phase"), &[]),
                ask(auth, "GET", &format!("{job}/results"), &[]),
                ask(auth, "GET", &format!("{job}/results/result"), &[]),
                ask(auth, "GET", &format!("{job}/parameters"), &[]),
                // The web front's result view and sky plot (issue 15).
                ask(auth, "GET", &format!("{job}/results/view"), &[]),
                ask(auth, "GET", &format!("{job}/results/plot.svg"), &[]),
            ];
            let want = status_of(is, mine, 200, 404);
            let mut row = format!("{who:<16} {owner:<10}");
            for (r, width) in reads.iter().zip([4, 4, 5, 7, 6, 6, 4, 4]) {
                assert_eq!(r.status, want, "{who} reads {owner}'s job: {}", r.text());
                row.push_str(&format!(" {:>width$}", r.status));
            }
            if matches!(is, Is::Owner(_)) {
                assert!(reads[0].text().starts_with("<?xml"), "{who}: {}", reads[0].text());
                assert!(
                    reads[1].text().starts_with("<!DOCTYPE html>"),
                    "{who}: the job page or the page of its refusal: {}",
                    reads[1].text()
                );
            }
            if mine {
                assert!(reads[1].text().contains(&format!("<title>Job {id}")), "{who}");
                assert!(
                    reads[4].text().contains("<VOTABLE"),
                    "{who}: the result itself: {}",
                    reads[4].text()
                );
            }
            // A previous result as an upload, by JOB_UPLOAD and by its URL.
            let by_name = ask(
                auth,
                "POST",
                "/sync",
                &[
                    ("LANG", "ADQL".into()),
                    ("FORMAT", "csv".into()),
                    ("QUERY", format!("SELECT COUNT(*) AS n FROM JOB_UPLOAD.JOB{id}")),
                ],
            );
            let by_url = ask(
                auth,
                "POST",
                "/sync",
                &[
                    ("LANG", "ADQL".into()),
                    ("FORMAT", "csv".into()),
                    ("UPLOAD", format!("t,{base}/async/{id}/results/result")),
                    ("QUERY", "SELECT COUNT(*) AS n FROM TAP_UPLOAD.t".into()),
                ],
            );
            let want = status_of(is, mine, 200, 400);
            for r in [&by_name, &by_url] {
                assert_eq!(r.status, want, "{who} uploads {owner}'s result: {}", r.text());
                if want == 200 {
                    assert_eq!(r.text(), "n\r\n2\r\n", "{who}: the two rows of the result");
                } else if want == 400 {
                    assert!(
                        r.text().contains(&format!("there is no job '{id}'")),
                        "{who}: {}",
                        r.text()
                    );
                }
            }
            row.push_str(&format!(" {:>6} {:>6}", by_name.status, by_url.status));
            // Changes, on others' jobs only (one's own are tested elsewhere): refused and
            // nothing changes.
            if mine {
                row.push_str(&format!(
                    " {:>5} {:>6} {:>6} {:>6} {:>6}",
                    "-", "-", "-", "-", "-"
                ));
            } else {
                let changes = [
                    ask(
                        auth,
                        "POST",
                        &format!("{job}/phase"),
                        &[("PHASE", "ABORT".into())],
                    ),
                    ask(
                        auth,
                        "POST",
                        &format!("{job}/destruction"),
                        &[("DESTRUCTION", "2030-01-01T00:00:00Z".into())],
                    ),
                    ask(auth, "DELETE", &job, &[]),
                ];
                let want = status_of(is, false, 200, 404);
                for (r, width) in changes.iter().zip([5, 6, 6]) {
                    assert_eq!(r.status, want, "{who} changes {owner}'s job: {}", r.text());
                    row.push_str(&format!(" {:>width$}", r.status));
                }
                let deleted = ask(auth, "POST", "/deletejobs", &[("JOB_IDS", id.clone())]);
                match is {
                    Is::Owner(_) => {
                        assert_eq!(deleted.status, 200, "{who}: {}", deleted.text());
                        assert!(
                            deleted.text().starts_with("deleted 0 of 1"),
                            "{who}: {}",
                            deleted.text()
                        );
                    }
                    _ => assert_eq!(deleted.status, want, "{who}: {}", deleted.text()),
                }
                row.push_str(&format!(" {:>6}", deleted.status));
                // The web front's job-number forms (issue 15) follow the job's owner rule.
                let managed = ask(
                    auth,
                    "POST",
                    "/manage/go",
                    &[("action", "abort".into()), ("job", id.clone())],
                );
                assert_eq!(
                    managed.status,
                    want,
                    "{who} aborts {owner}'s job by its number: {}",
                    managed.text()
                );
                row.push_str(&format!(" {:>6}", managed.status));
            }
            table.push_str(&row);
            table.push('\n');
        }
        // The restricted table: only bob's group reads it.
        let reads_gaia = matches!(is, Is::Owner("bob"));
        let tables = ask(auth, "GET", "/tables", &[]);
        let q = ask(
            auth,
            "POST",
            "/sync",
            &[
                ("LANG", "ADQL".into()),
                ("FORMAT", "csv".into()),
                ("QUERY", "SELECT TOP 1 source_id FROM gaiadr1.gaia_source".into()),
            ],
        );
        // The sky plot runs its query as /sync does: the same tables for the same caller.
        let plot = ask(
            auth,
            "GET",
            "/plot.svg?LANG=ADQL&QUERY=SELECT%20TOP%201%20ra,%20dec%20FROM%20gaiadr1.gaia_source",
            &[],
        );
        match is {
            Is::Owner(_) => assert_eq!(
                plot.status,
                if reads_gaia { 200 } else { 400 },
                "{who}: {}",
                plot.text()
            ),
            Is::Disabled | Is::Revoked => assert_eq!(plot.status, 401, "{who}"),
        }
        match is {
            Is::Owner(_) => {
                assert_eq!(tables.status, 200);
                assert_eq!(
                    tables.text().contains("gaiadr1.gaia_source"),
                    reads_gaia,
                    "{who}: /tables"
                );
                assert_eq!(
                    q.status,
                    if reads_gaia { 200 } else { 400 },
                    "{who}: {}",
                    q.text()
                );
            }
            Is::Disabled | Is::Revoked => assert_eq!((tables.status, q.status), (401, 401), "{who}"),
        }
        table.push_str(&format!(
            "{who:<16} gaia_source: /tables {} (listed: {}), query {}, plot {}\n",
            tables.status,
            tables.text().contains("gaiadr1.gaia_source"),
            q.status,
            plot.status
        ));
    }
    eprintln!("{table}");
    // Nothing changed: every job is still there, COMPLETED, with its destruction untouched.
    let state = common::psql(
        &s,
        "SELECT string_agg(coalesce(owner_id, '-') || ':' || phase || ':' || \
         (destruction <> '2030-01-01T00:00:00Z')::text, ',' ORDER BY owner_id) FROM tapir.jobs",
    );
    assert_eq!(state, "alice:COMPLETED:true,bob:COMPLETED:true,-:COMPLETED:true");
}

/// Per-user limits set per group (issue 14, `[group_limits.NAME]`, the widest of a user's
/// groups): with the defaults `running_per_user` 1, `queued_per_user` 2 and a result storage
/// of 1 byte, `staff` may run 3 jobs, queue 4 and keep any amount of results; `students` may
/// queue only 1. While a lock holds every job (psql on bench.objects), what each user gets
/// EXECUTING and QUEUED is counted; then alice (no group), whose first result is over her
/// quota, is refused a second job (403) until she deletes the first.
#[test]
fn group_limits_and_result_storage() {
    let env = [
        ("TAPIR_IDENTITY_PLAIN_HTTP_ON_LOOPBACK", "true"),
        ("TAPIR_JOBS_WORKERS", "6"),
        ("TAPIR_JOBS_RUNNING_PER_USER", "1"),
        ("TAPIR_JOBS_QUEUED_PER_USER", "2"),
        ("TAPIR_JOBS_RESULT_STORAGE_PER_USER_BYTES", "1"),
        (
            "TAPIR_GROUP_LIMITS",
            "staff:running_per_user=3,queued_per_user=4,result_storage_bytes=0;students:queued_per_user=1",
        ),
    ];
    let Some(s) = start_with(&env, None) else {
        return;
    };
    for (user, password) in [("alice", "alice-pw"), ("dave", "dave-pw"), ("erin", "erin-pw")] {
        add_user(&s, user, password);
    }
    for args in [
        &["group", "add", "staff", "dave"][..],
        &["group", "add", "students", "erin"],
    ] {
        let (ok, _, err) = tapir(&s, args, "");
        assert!(ok, "{err}");
    }
    let base = s.base.clone();
    let submit = |user: &str, query: &str| -> Reply {
        curl(
            &s,
            &[
                &format!("{base}/async"),
                "-u",
                user,
                "--data-urlencode",
                &format!("QUERY={query}"),
                "-d",
                "PHASE=RUN",
            ],
        )
    };
    let count = |owner: &str, phase: &str| -> u32 {
        common::psql(
            &s,
            &format!("SELECT count(*) FROM tapir.jobs WHERE owner_id = '{owner}' AND phase = '{phase}'"),
        )
        .parse()
        .expect("a count")
    };
    let lock = common::BenchLock::take(&s, "group-limits-lock");
    let held = "SELECT TOP 1 id FROM bench.objects";
    for (user, auth, running, queued) in [("dave", "dave:dave-pw", 3, 4), ("erin", "erin:erin-pw", 1, 1)] {
        let mut accepted = 0;
        let refused = loop {
            let r = submit(auth, held);
            match r.status {
                303 => accepted += 1,
                429 => break r,
                other => panic!("{user}: {other} {}", r.text()),
            }
            assert!(accepted <= 20, "{user}'s queue share never ran out");
            // Let a worker pick the job up before the next is counted as queued.
            std::thread::sleep(Duration::from_millis(300));
        };
        assert!(
            refused.text().contains("jobs waiting to run already"),
            "{}",
            refused.text()
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while count(user, "EXECUTING") < running && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(
            (count(user, "EXECUTING"), count(user, "QUEUED")),
            (running, queued),
            "{user}: jobs running and waiting ({accepted} accepted)"
        );
        eprintln!("{user}: {running} running and {queued} queued, the next one refused (429)");
    }
    drop(lock);
    common::psql(&s, "DELETE FROM tapir.jobs");

    // Result storage: alice's first result already exceeds her 1 byte.
    let first = submit("alice:alice-pw", "SELECT TOP 5 id FROM bench.objects");
    assert_eq!(first.status, 303, "{}", first.text());
    let job = first.header("location").expect("Location");
    let deadline = Instant::now() + Duration::from_secs(30);
    while count("alice", "COMPLETED") < 1 {
        assert!(Instant::now() < deadline, "alice's first job did not complete");
        std::thread::sleep(Duration::from_millis(100));
    }
    let over = submit("alice:alice-pw", "SELECT TOP 5 id FROM bench.objects");
    assert_eq!(over.status, 403, "{}", over.text());
    assert!(over.text().contains("you may keep 1"), "{}", over.text());
    // Staff keep any amount.
    for _ in 0..2 {
        let r = submit("dave:dave-pw", "SELECT TOP 5 id FROM bench.objects");
        assert_eq!(r.status, 303, "{}", r.text());
        std::thread::sleep(Duration::from_millis(500));
    }
    let deleted = curl(&s, &[&job, "-X", "DELETE", "-u", "alice:alice-pw"]);
    assert_eq!(deleted.status, 303, "{}", deleted.text());
    let again = submit("alice:alice-pw", "SELECT TOP 5 id FROM bench.objects");
    assert_eq!(again.status, 303, "after deleting: {}", again.text());
}
