//! Unit tests of the database module: the pure parts always, and one test against a real
//! embedded cluster (skipped with a note when PostgreSQL or pgSphere is missing, unless CI is
//! set), which also exercises operator mode on a foreign, TAP 1.0-style TAP_SCHEMA.

use std::path::{Path, PathBuf};

use super::catalogue::{TableDef, DELIMITED};
use super::embedded::{self, conninfo_quote, parse_major, shell_quote, socket_dir_for, Owner, PidFile};
use super::read::{normalize_type, parse_flag, parse_index, split_table_name, unquote_ident};
use super::*;

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

#[test]
fn table_names_split_quote_aware() {
    assert_eq!(split_table_name("ivoa.ObsCore"), (s("ivoa"), "ObsCore".into()));
    assert_eq!(
        split_table_name("v_ll_data_item"),
        (None, "v_ll_data_item".into())
    );
    assert_eq!(
        split_table_name("\"J/A+A/605/L8/quasar_a\""),
        (None, "J/A+A/605/L8/quasar_a".into())
    );
    assert_eq!(
        split_table_name("\"my.schema\".\"a\"\"b\""),
        (s("my.schema"), "a\"b".into())
    );
    assert_eq!(split_table_name("cat.sch.tab"), (s("sch"), "tab".into()));
    assert_eq!(
        split_table_name("tap_schema . tables"),
        (s("tap_schema"), "tables".into())
    );
    // Malformed names are taken whole rather than guessed at.
    assert_eq!(split_table_name("\"open"), (None, "\"open".into()));
    assert_eq!(split_table_name("a..b"), (None, "a..b".into()));
    assert_eq!(split_table_name("\"x\"y"), (None, "\"x\"y".into()));
}

#[test]
fn delimited_column_names_lose_their_quotes() {
    assert_eq!(unquote_ident("\"size\""), "size");
    assert_eq!(unquote_ident("\"a\"\"b\""), "a\"b");
    assert_eq!(unquote_ident("ra"), "ra");
}

#[test]
fn tap_10_types_become_tap_11() {
    let n = |dt: &str, size: Option<i32>| normalize_type(dt, None, None, size);
    assert_eq!(n("adql:VARCHAR", Some(64)), ("char".into(), s("64*"), None));
    assert_eq!(n("adql:VARCHAR", None), ("char".into(), s("*"), None));
    assert_eq!(n("adql:CHAR", Some(1)), ("char".into(), s("1"), None));
    assert_eq!(n("adql:DOUBLE", None), ("double".into(), None, None));
    assert_eq!(n("adql:BIGINT", None), ("long".into(), None, None));
    assert_eq!(n("adql:TIMESTAMP", None), ("char".into(), s("*"), s("timestamp")));
    assert_eq!(n("adql:POINT", None), ("double".into(), s("2"), s("point")));
    assert_eq!(n("adql:REGION", None), ("char".into(), s("*"), s("adql:region")));
    assert_eq!(n("adql:CLOB", None), ("char".into(), s("*"), s("adql:clob")));
    // TAP 1.1 values pass through untouched.
    assert_eq!(
        normalize_type("double", s("*"), s("polygon"), None),
        ("double".into(), s("*"), s("polygon"))
    );
    assert_eq!(n("unicodeChar", None), ("unicodeChar".into(), None, None));
}

#[test]
fn flags_and_indexes_of_any_type() {
    assert!(parse_flag(s("1")));
    assert!(parse_flag(s("true")));
    assert!(parse_flag(s("t")));
    assert!(parse_flag(s("1.0")));
    assert!(!parse_flag(s("0")));
    assert!(!parse_flag(s("false")));
    assert!(!parse_flag(None));
    assert_eq!(parse_index(s(" 7 ")), Some(7));
    assert_eq!(parse_index(s("3.0")), Some(3));
    assert_eq!(parse_index(s("99999999999")), Some(i32::MAX));
    assert_eq!(parse_index(s("x")), None);
    assert_eq!(parse_index(None), None);
}

#[test]
fn assemble_orders_and_attaches() {
    let row = |cells: &[Option<&str>]| cells.iter().map(|c| c.map(str::to_string)).collect::<Vec<_>>();
    let ts = read::assemble(
        vec![
            row(&[Some("b"), None, None, Some("2")]),
            row(&[Some("a"), None, Some(""), None]),
        ],
        vec![
            row(&[Some("public"), Some("t2"), None, None, None, None]),
            row(&[
                Some("b"),
                Some("b.t1"),
                Some("VIEW"),
                None,
                Some("one"),
                Some("1"),
            ]),
        ],
        vec![
            row(&[
                Some("b.t1"),
                Some("y"),
                Some("int"),
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                Some("1"),
                Some("0"),
                Some("0"),
                Some("2"),
            ]),
            row(&[
                Some("b.t1"),
                Some("x"),
                Some("adql:VARCHAR"),
                None,
                None,
                Some("8"),
                None,
                None,
                Some(""),
                None,
                None,
                None,
                None,
                Some("1"),
            ]),
            row(&[
                Some("nowhere"),
                Some("z"),
                Some("int"),
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
            ]),
        ],
        vec![row(&[Some("k"), Some("b.t1"), Some("t2"), None, None])],
        vec![row(&[Some("k"), Some("x"), Some("\"size\"")])],
    );
    let mut ts = ts;
    read::sort(&mut ts);
    assert_eq!(
        ts.schemas.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["b", "a"]
    );
    assert_eq!(ts.schemas[1].description, None, "empty strings read as NULL");
    assert_eq!(ts.tables[0].qualified_name(), "b.t1");
    assert_eq!(ts.tables[0].table_type, "view");
    assert_eq!(ts.tables[1].schema, None);
    let cols: Vec<&str> = ts.tables[0].columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(cols, ["x", "y"]);
    assert_eq!(ts.tables[0].columns[0].arraysize.as_deref(), Some("8*"));
    assert_eq!(ts.tables[0].columns[0].unit, None);
    assert!(ts.tables[0].columns[1].indexed);
    assert_eq!(ts.keys[0].columns, vec![("x".to_string(), "size".to_string())]);
}

#[test]
fn versions_and_pid_files() {
    assert_eq!(
        parse_major("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"),
        s("15")
    );
    assert_eq!(parse_major("postgres (PostgreSQL) 9.6.24"), s("9.6"));
    assert_eq!(parse_major("postgres (PostgreSQL) 17devel"), s("17"));
    assert_eq!(parse_major("nonsense"), None);
    let pid = PidFile::parse("4242\n/data/pg\n1700000000\n5432\n/data/run\n\n  1234  5\nready   \n");
    assert_eq!(
        pid,
        Some(PidFile {
            pid: 4242,
            port: Some(5432),
            socket_dir: Some(PathBuf::from("/data/run")),
        })
    );
    assert_eq!(PidFile::parse("garbage"), None);
    assert_eq!(
        Owner::parse("77 tapir\n"),
        Some(Owner {
            pid: 77,
            comm: "tapir".into()
        })
    );
    assert_eq!(Owner::parse(""), None);
}

#[test]
fn socket_paths_stay_short() {
    let short = socket_dir_for(Path::new("/srv/tapir"), 5432);
    assert_eq!(short, PathBuf::from("/srv/tapir/run"));
    let deep = PathBuf::from(format!("/srv/{}", "d".repeat(120)));
    let fallback = socket_dir_for(&deep, 5432);
    assert!(fallback.starts_with("/tmp"), "{}", fallback.display());
    assert!(fallback.join(".s.PGSQL.5432").as_os_str().len() < 100);
    assert_eq!(
        fallback,
        socket_dir_for(&deep, 5432),
        "the same directory every time"
    );
    assert_ne!(fallback, socket_dir_for(&deep.join("x"), 5432));
}

#[test]
fn quoting() {
    assert_eq!(conninfo_quote("/a b/it's"), "'/a b/it\\'s'");
    assert_eq!(shell_quote("it's"), "'it'\\''s'");
    assert_eq!(super::quote_ident("a\"b"), "\"a\"\"b\"");
}

#[test]
fn newest_bindir_wins() {
    let root = std::env::temp_dir().join(format!("tapir-bindir-test-{}", std::process::id()));
    for v in ["9.6", "13", "15", "16"] {
        let bin = root.join(v).join("bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        // 16 is incomplete: no server.
        let programs: &[&str] = if v == "16" {
            &["psql"]
        } else {
            &["initdb", "pg_ctl", "postgres"]
        };
        for p in programs {
            std::fs::write(bin.join(p), "").expect("touch");
        }
    }
    let found = pginstall::newest_debian_bindir(&root);
    let _ = std::fs::remove_dir_all(&root);
    assert_eq!(found, Some(root.join("15").join("bin")));
}

/// Every demo column name that is not marked DELIMITED must be a plain ADQL identifier, and
/// every one that is must need the quotes: checked with the real ADQL parser.
#[test]
fn demo_column_names_match_adql_rules() {
    for (table, _) in demo::TABLES.iter() {
        for c in table.columns {
            let plain = adql::parse(&format!("SELECT {} FROM t", c.name)).is_ok();
            let delimited = c.flags & DELIMITED != 0;
            assert_eq!(
                plain,
                !delimited,
                "{}.{}: parses unquoted = {plain}, marked DELIMITED = {delimited}",
                table.key(),
                c.name
            );
            if delimited {
                assert_eq!(c.tap_name(), format!("\"{}\"", c.name));
            }
        }
    }
}

#[test]
fn demo_tap_names() {
    let name = |t: &TableDef| t.tap_name();
    let by_key = |k: &str| {
        demo::TABLES
            .iter()
            .map(|(t, _)| *t)
            .find(|t| t.key() == k)
            .unwrap_or_else(|| panic!("no demo table {k}"))
    };
    assert_eq!(name(by_key("ivoa.ObsCore")), "ivoa.ObsCore");
    assert_eq!(name(by_key("public.v_ll_data_item")), "v_ll_data_item");
    assert_eq!(
        name(by_key("public.J/A+A/605/L8/quasar_a")),
        "\"J/A+A/605/L8/quasar_a\""
    );
    assert_eq!(by_key("ivoa.ObsCore").sql_name(), "\"ivoa\".\"ObsCore\"");
    let obscore = by_key("ivoa.ObsCore");
    let region = obscore
        .columns
        .iter()
        .find(|c| c.name == "s_region")
        .expect("s_region");
    assert_eq!(region.votable(), ("char", s("*"), Some("adql:REGION")));
    let release = obscore
        .columns
        .iter()
        .find(|c| c.name == "obs_release_date")
        .expect("date");
    assert_eq!(release.votable(), ("char", s("*"), Some("timestamp")));
    let create = by_key("bench.objects").create_sql("x", true);
    assert!(create.contains("PRIMARY KEY (\"id\")"), "{create}");
    assert!(create.contains("\"ra\" double precision NOT NULL"), "{create}");
}

// ------------------------------------------------------------------------------------------
// Against a real cluster.
// ------------------------------------------------------------------------------------------

/// Whether PostgreSQL with pgSphere is here; otherwise skip (or fail in CI).
fn have_postgres() -> bool {
    match embedded::find_bindir("") {
        Ok(bin) => {
            let share_ok = std::process::Command::new(bin.join("pg_config"))
                .arg("--sharedir")
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .is_some_and(|d| Path::new(&d).join("extension/pg_sphere.control").is_file());
            if share_ok || std::env::var_os("CI").is_some() {
                return true;
            }
            eprintln!("skipping: pgSphere is not installed (apt-get install postgresql-15-pgsphere)");
            false
        }
        Err(e) => {
            assert!(std::env::var_os("CI").is_none(), "{e}");
            eprintln!("skipping: {e}");
            false
        }
    }
}

fn temp_data_dir(tag: &str) -> PathBuf {
    let dir = PathBuf::from(format!("/tmp/tapir-db-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Removes the directory when the test ends, however it ends (after the cluster stopped:
/// declare it before the Database).
struct RemoveDir(PathBuf);

impl Drop for RemoveDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A TAP 1.0 TAP_SCHEMA the way other services made them: upper-case schema, no *_index,
/// arraysize or xtype, `adql:` types, a table name in a different case from the stored one,
/// a quoted column name, and no description of TAP_SCHEMA itself.
const FOREIGN_TAP_SCHEMA: &str = r#"
CREATE SCHEMA cat;
CREATE TABLE cat.stars (id integer PRIMARY KEY, ra double precision, "Dec" double precision, name varchar(20));
INSERT INTO cat.stars VALUES (1, 10.5, -3.25, 'one'), (2, 11.0, 4.0, 'two');
CREATE SCHEMA "TAP_SCHEMA";
CREATE TABLE "TAP_SCHEMA".schemas (schema_name varchar(64), utype varchar(512), description varchar(512));
CREATE TABLE "TAP_SCHEMA".tables (schema_name varchar(64), table_name varchar(128), table_type varchar(8),
    utype varchar(512), description varchar(512));
CREATE TABLE "TAP_SCHEMA".columns (table_name varchar(128), column_name varchar(64), description varchar(512),
    unit varchar(64), ucd varchar(64), utype varchar(512), datatype varchar(64), size integer,
    principal integer, indexed integer, std integer);
CREATE TABLE "TAP_SCHEMA".keys (key_id varchar(64), from_table varchar(128), target_table varchar(128),
    description varchar(512), utype varchar(512));
CREATE TABLE "TAP_SCHEMA".key_columns (key_id varchar(64), from_column varchar(64), target_column varchar(64));
INSERT INTO "TAP_SCHEMA".schemas VALUES ('cat', NULL, 'A catalogue');
INSERT INTO "TAP_SCHEMA".tables VALUES ('cat', 'cat.Stars', 'table', NULL, 'Stars');
INSERT INTO "TAP_SCHEMA".columns VALUES
    ('cat.Stars', 'id', 'Identifier', NULL, 'meta.id', NULL, 'adql:INTEGER', NULL, 1, 1, 0),
    ('cat.Stars', 'RA', 'Right ascension', 'deg', 'pos.eq.ra', NULL, 'adql:DOUBLE', NULL, 1, 0, 0),
    ('cat.Stars', '"Dec"', 'Declination', 'deg', 'pos.eq.dec', NULL, 'adql:DOUBLE', NULL, 1, 0, 0),
    ('cat.Stars', 'name', 'Name', NULL, 'meta.id', NULL, 'adql:VARCHAR', 20, 0, 0, 0);
"#;

#[test]
fn embedded_cluster_demo_and_operator_mode() {
    if !have_postgres() {
        return;
    }
    // Tapir's log in the test output (shown for failures, or with --nocapture).
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(tracing_subscriber::EnvFilter::new("tapir=info"))
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = temp_data_dir("unit");
    let _cleanup = RemoveDir(dir.clone());
    runtime.block_on(async {
        let mut config = Config::default();
        config.server.data_dir = dir.clone();
        let db = Database::open(&config).await.expect("embedded cluster starts");
        assert!(db.url.contains("dbname=tapir"), "{}", db.url);
        let client = db.admin_client().await.expect("connects");

        // The demo, as the rest of Tapir will see it.
        let ts = read_tap_schema(&client).await.expect("reads TAP_SCHEMA");
        let names: Vec<String> = ts.tables.iter().map(|t| t.qualified_name()).collect();
        for wanted in [
            "ivoa.ObsCore",
            "gaiadr1.gaia_source",
            "v_ll_data_item",
            "v_auxiliary_file",
            "J/A+A/605/L8/quasar_a",
            "amanda.nucand",
            "ppmxl.main",
            "hsa.v_active_observation",
            "bench.objects",
            "tap_schema.schemas",
            "tap_schema.tables",
            "tap_schema.columns",
            "tap_schema.keys",
            "tap_schema.key_columns",
        ] {
            assert!(
                names.iter().any(|n| n == wanted),
                "{wanted} missing from {names:?}"
            );
        }
        assert_eq!(
            names.first().map(String::as_str),
            Some("ivoa.ObsCore"),
            "ordered by table_index"
        );
        assert_eq!(ts.schemas.last().map(|s| s.name.as_str()), Some("tap_schema"));
        let obscore = ts.table("ivoa.obscore").expect("case-insensitive lookup");
        let region = obscore
            .columns
            .iter()
            .find(|c| c.name == "s_region")
            .expect("s_region");
        assert_eq!(
            (
                region.datatype.as_str(),
                region.arraysize.as_deref(),
                region.xtype.as_deref()
            ),
            ("char", Some("*"), Some("adql:REGION"))
        );
        assert!(region.std && region.indexed);
        let ll = ts.table("v_ll_data_item").expect("SOAR table");
        assert_eq!(ll.schema, None);
        assert!(
            ll.columns.iter().any(|c| c.name == "level"),
            "delimited name unquoted"
        );
        let begin = ll
            .columns
            .iter()
            .find(|c| c.name == "begin_time")
            .expect("begin_time");
        assert_eq!(begin.xtype.as_deref(), Some("timestamp"));
        let columns = ts.table("tap_schema.columns").expect("self-description");
        assert!(columns.columns.iter().any(|c| c.name == "size"));
        assert_eq!(
            columns.columns.first().map(|c| c.name.as_str()),
            Some("table_name")
        );
        assert_eq!(ts.keys.len(), 5);
        assert!(ts.to_adql_catalog().tables.len() >= 14);

        // Opening again finds everything in place (no reload, no second migration).
        let again = Database::open(&config)
            .await
            .expect("second open adopts the running cluster");
        again.shutdown().await;
        let migrations: i64 = client
            .query_one("SELECT count(*) FROM tapir.migrations", &[])
            .await
            .expect("query")
            .get(0);
        assert_eq!(migrations, super::migrate::MIGRATIONS.len() as i64);

        // The query role reads the catalogue and nothing else.
        client
            .batch_execute(&format!("BEGIN; SET LOCAL ROLE {QUERY_ROLE}"))
            .await
            .expect("set role");
        let n: i64 = client
            .query_one("SELECT count(*) FROM gaiadr1.gaia_source", &[])
            .await
            .expect("role reads the demo")
            .get(0);
        assert_eq!(n, 5000);
        assert!(client
            .query_one("SELECT count(*) FROM tapir.state", &[])
            .await
            .is_err());
        client.batch_execute("ROLLBACK").await.expect("rollback");
        // Nor the accounts, sessions and tokens (issue 14), each tried in its own transaction.
        for table in [
            "tapir.users",
            "tapir.sessions",
            "tapir.tokens",
            "tapir.user_groups",
        ] {
            client
                .batch_execute(&format!("BEGIN; SET LOCAL ROLE {QUERY_ROLE}"))
                .await
                .expect("set role");
            let denied = client
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .await
                .expect_err("the query role cannot read identity tables");
            assert_eq!(
                denied.code(),
                Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
                "{table}"
            );
            client.batch_execute("ROLLBACK").await.expect("rollback");
        }

        // load_bench at a small size replaces the demo's copy and is published.
        load_bench(&client, 2000).await.expect("bench loads");
        let n: i64 = client
            .query_one("SELECT count(*) FROM bench.objects", &[])
            .await
            .expect("count")
            .get(0);
        assert_eq!(n, 2000);
        let name: String = client
            .query_one("SELECT name FROM bench.objects WHERE id = 42", &[])
            .await
            .expect("row 42")
            .get(0);
        assert_eq!(name, "BENCH-0000042");
        // The demo reload keeps the bigger bench table from `tapir load bench`.
        load_demo(&client).await.expect("demo reloads");
        let n: i64 = client
            .query_one("SELECT count(*) FROM bench.objects", &[])
            .await
            .expect("count")
            .get(0);
        assert_eq!(n, 2000);

        // Operator mode: a foreign TAP_SCHEMA in another database of the same cluster.
        client
            .batch_execute("CREATE DATABASE foreign_tap")
            .await
            .expect("create db");
        let foreign_url = db.url.replace("dbname=tapir", "dbname=foreign_tap");
        let mut operator_config = config.clone();
        operator_config.database.url = foreign_url.clone();
        {
            let (setup, connection) = tokio_postgres::connect(&foreign_url, tokio_postgres::NoTls)
                .await
                .expect("connect foreign_tap");
            tokio::spawn(connection);
            setup
                .batch_execute(FOREIGN_TAP_SCHEMA)
                .await
                .expect("foreign TAP_SCHEMA");
        }
        let operator = Database::open(&operator_config)
            .await
            .expect("operator mode opens");
        let oc = operator.admin_client().await.expect("connects");
        let state: String = oc
            .query_one("SELECT value FROM tapir.state WHERE key = 'tap_schema'", &[])
            .await
            .expect("state")
            .get(0);
        assert_eq!(state, "existing:TAP_SCHEMA");
        assert!(oc
            .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = 'tap_schema'", &[])
            .await
            .expect("query")
            .is_none());
        let rows: i64 = oc
            .query_one("SELECT count(*) FROM \"TAP_SCHEMA\".columns", &[])
            .await
            .expect("count")
            .get(0);
        assert_eq!(rows, 4, "the operator's TAP_SCHEMA is not filled");
        let ts = read_tap_schema(&oc).await.expect("reads a TAP 1.0 TAP_SCHEMA");
        let stars = ts.table("cat.stars").expect("cat.Stars");
        assert_eq!(stars.name, "stars", "mapped to the stored name");
        let cols: Vec<(&str, &str, Option<&str>)> = stars
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.datatype.as_str(), c.arraysize.as_deref()))
            .collect();
        assert_eq!(
            cols,
            [
                ("id", "int", None),
                ("ra", "double", None),
                ("Dec", "double", None),
                ("name", "char", Some("20*"))
            ]
        );
        assert!(ts.table("TAP_SCHEMA.tables").is_some(), "self-description added");
        assert!(
            load_demo(&oc).await.is_err(),
            "tapir load leaves a foreign TAP_SCHEMA alone"
        );
        oc.batch_execute(&format!("BEGIN; SET LOCAL ROLE {QUERY_ROLE}"))
            .await
            .expect("set role");
        let n: i64 = oc
            .query_one("SELECT count(*) FROM cat.stars", &[])
            .await
            .expect("granted on the published schema")
            .get(0);
        assert_eq!(n, 2);
        oc.batch_execute("ROLLBACK").await.expect("rollback");
        drop(oc);
        operator.shutdown().await;

        // An operator's user with no privileges beyond its own database: the query role
        // cannot be set up, which costs a warning, not the start. pgSphere is another matter:
        // Tapir refuses to start until a superuser has created it, and says so.
        client
            .batch_execute("CREATE ROLE tapir_op LOGIN")
            .await
            .expect("create the role");
        client
            .batch_execute("CREATE DATABASE modest OWNER tapir_op")
            .await
            .expect("create its database");
        let modest_admin = db.url.replace("dbname=tapir", "dbname=modest");
        {
            let (setup, connection) = tokio_postgres::connect(&modest_admin, tokio_postgres::NoTls)
                .await
                .expect("connect modest");
            tokio::spawn(connection);
            setup
                .batch_execute(FOREIGN_TAP_SCHEMA)
                .await
                .expect("foreign TAP_SCHEMA");
            setup
                .batch_execute(
                    "GRANT USAGE ON SCHEMA \"TAP_SCHEMA\", cat TO tapir_op;
                     GRANT SELECT ON ALL TABLES IN SCHEMA \"TAP_SCHEMA\", cat TO tapir_op",
                )
                .await
                .expect("grants");
        }
        let mut modest_config = config.clone();
        modest_config.database.url = modest_admin.replace("user=postgres", "user=tapir_op");
        let refused = Database::open(&modest_config)
            .await
            .err()
            .expect("no start without pgSphere")
            .to_string();
        for needle in [
            "Tapir's database user tapir_op may not create the pg_sphere extension",
            "CREATE EXTENSION pg_sphere; in database modest",
            "does not start without it",
        ] {
            assert!(refused.contains(needle), "{needle:?} in: {refused}");
        }
        {
            let (setup, connection) = tokio_postgres::connect(&modest_admin, tokio_postgres::NoTls)
                .await
                .expect("connect modest");
            tokio::spawn(connection);
            setup
                .batch_execute("CREATE EXTENSION pg_sphere")
                .await
                .expect("the superuser creates pgSphere");
        }
        let modest = Database::open(&modest_config)
            .await
            .expect("opens without superuser rights");
        let mc = modest.admin_client().await.expect("connects");
        let ts = read_tap_schema(&mc).await.expect("reads TAP_SCHEMA");
        assert!(ts.table("cat.stars").is_some());
        let member: bool = mc
            .query_one("SELECT pg_has_role(current_user, $1, 'MEMBER')", &[&QUERY_ROLE])
            .await
            .expect("query")
            .get(0);
        assert!(!member, "tapir_op could not join the query role");
        drop(mc);
        modest.shutdown().await;
        drop(client);
        db.shutdown().await;
    });
    assert!(
        !dir.join("pg").join("postmaster.pid").exists(),
        "the cluster is stopped"
    );
}
