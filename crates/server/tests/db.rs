//! The database side through the `tapir` binary: `tapir load demo` and `tapir load bench`
//! on an embedded cluster, then checks with psql against the cluster they left behind.
//!
//! * TAP_SCHEMA lists the demo tables with the right TAP 1.1 metadata;
//! * `bench.objects` matches BENCH-DATA.md (its published cone counts on 1,000,000 rows);
//! * every example query of the seed documents (ESO, ESA Gaia, Solar Orbiter, GAVO), translated
//!   by `tapir adql translate` against a catalogue file made from TAP_SCHEMA, returns rows when
//!   run as the query role;
//! * a stale `postmaster.pid` left by a killed run does not stop the next start.
//!
//! Needs PostgreSQL with pgSphere (Debian: postgresql-15 postgresql-15-pgsphere). Without
//! them the test is skipped with a note, unless the environment variable CI is set.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

const TAPIR: &str = env!("CARGO_BIN_EXE_tapir");
/// The port Tapir gives its embedded cluster (on a private Unix socket).
const PORT: &str = "5432";

/// The example queries of the seed documents, verbatim (URL-decoded where they came in a
/// URL), and the tables they need. TAP_UPLOAD.nupos is the upload GAVO's example makes of
/// the nucand query's result; the test creates it the same way.
const SEED_QUERIES: &[(&str, &str)] = &[
    // 000: ESO, "Manage your Asynchronous Queries"
    ("eso", "select top 2 * from ivoa.ObsCore"),
    // 001: Solar Orbiter archive, "TAP details"
    (
        "soar-mag-epd",
        "SELECT * FROM v_ll_data_item WHERE ((instrument='MAG') OR (instrument='EPD')) AND \
         begin_time>'2020-08-29 00:00:28'",
    ),
    (
        "soar-rpw-swa",
        "SELECT * FROM v_ll_data_item WHERE ((instrument='RPW') OR (instrument='SWA')) AND \
         begin_time>'2020-08-29 00:00:28'",
    ),
    ("soar-aux", "SELECT TOP 5 * FROM v_auxiliary_file"),
    // 002: ESA Gaia archive, "Programmatic access"
    (
        "gaia-top5",
        "SELECT TOP 5 source_id,ra,dec FROM gaiadr1.gaia_source",
    ),
    ("gaia-async", "select top 5 * from gaiadr1.gaia_source"),
    (
        "gaia-cone",
        "SELECT DISTANCE(POINT('ICRS',ra,dec), POINT('ICRS',266.41683,-29.00781)) AS dist, * FROM \
         gaiadr1.gaia_source WHERE 1=CONTAINS(POINT('ICRS',ra,dec),CIRCLE('ICRS',266.41683,-29.00781, \
         0.08333333)) ORDER BY dist ASC",
    ),
    (
        "gaia-hsa",
        "SELECT TOP 5 observation_id,ra,dec FROM hsa.v_active_observation",
    ),
    (
        "gaia-vizier",
        "select top 5 recno,lambda,flux from \"J/A+A/605/L8/quasar_a\"",
    ),
    // 003 and 004: GAVO, "TAP query"
    ("gavo-tables", "SELECT * FROM TAP_SCHEMA.tables"),
    ("gavo-top3", "SELECT TOP 3 * FROM TAP_SCHEMA.tables"),
    (
        "gavo-nucand",
        "SELECT nualpha, nudelta FROM amanda.nucand WHERE nch>100",
    ),
    (
        "gavo-crossmatch",
        "SELECT DISTINCT TOP 10000 raj2000, dej2000, pmRA, pmDE FROM ppmxl.main JOIN TAP_UPLOAD.nupos \
         ON (1= CONTAINS(POINT('ICRS',raj2000,dej2000), CIRCLE('ICRS', nualpha , nudelta, 0.25)))",
    ),
];

/// The PostgreSQL server binaries, or None (skip) when they or pgSphere are missing.
fn postgres_bindir() -> Option<PathBuf> {
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let mut candidates: Vec<PathBuf> = from_pg_config.into_iter().collect();
    let mut debian: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| {
                    let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                    Some((v, e.path().join("bin")))
                })
                .collect()
        })
        .unwrap_or_default();
    debian.sort();
    candidates.extend(debian.into_iter().rev().map(|(_, p)| p));
    let bin = candidates
        .into_iter()
        .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file());
    let why = match &bin {
        None => "no PostgreSQL server binaries".to_string(),
        Some(b) => {
            let share = Command::new(b.join("pg_config"))
                .arg("--sharedir")
                .output()
                .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
                .unwrap_or_default();
            if share.join("extension/pg_sphere.control").is_file() {
                return bin;
            }
            "no pgSphere extension".to_string()
        }
    };
    let msg =
        format!("{why}; install them (Debian/Ubuntu: apt-get install postgresql-15 postgresql-15-pgsphere)");
    assert!(std::env::var_os("CI").is_none(), "{msg}");
    eprintln!("skipping the database tests: {msg}");
    None
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A data directory for `tapir --data-dir`, and the cluster Tapir makes in it. Dropping it
/// stops any server still running there and removes the directory, whatever the outcome.
struct DataDir {
    dir: PathBuf,
    bin: PathBuf,
}

impl DataDir {
    fn new(bin: PathBuf, tag: &str) -> DataDir {
        // Short, so that the socket lives inside it (the layout the test relies on).
        let dir = PathBuf::from(format!("/tmp/tapir-it-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        DataDir { dir, bin }
    }

    fn pgdata(&self) -> PathBuf {
        self.dir.join("pg")
    }

    fn socket_dir(&self) -> PathBuf {
        self.dir.join("run")
    }

    /// pg_ctl as the cluster's owner.
    fn pg_ctl(&self, args: &[&str]) -> Output {
        let program = self.bin.join("pg_ctl");
        let mut cmd = if running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        cmd.arg("-D").arg(self.pgdata()).args(args).current_dir("/");
        cmd.stdin(Stdio::null()).output().expect("pg_ctl runs")
    }

    /// Start the cluster the way Tapir does, for psql.
    fn start(&self) {
        let options = format!(
            "-k {} -p {PORT} -c listen_addresses=''",
            self.socket_dir().display()
        );
        let log = self.pgdata().join("server.log");
        let out = self.pg_ctl(&["-l", &log.to_string_lossy(), "-w", "-s", "-o", &options, "start"]);
        assert!(
            out.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&out.stderr),
            fs::read_to_string(&log).unwrap_or_default()
        );
    }

    fn running(&self) -> bool {
        self.pgdata().join("postmaster.pid").exists()
    }

    /// Run SQL through psql as the cluster's superuser; unaligned, tuples only, tab-separated.
    fn psql(&self, sql: &str) -> Result<String, String> {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1"])
            .arg("-h")
            .arg(self.socket_dir())
            .args(["-p", PORT, "-U", "postgres", "-d", "tapir", "-c", sql])
            .env_remove("PGSERVICE")
            .env_remove("PGOPTIONS")
            .env("PGTZ", "UTC")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run psql: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout)
                .trim_end_matches('\n')
                .to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    fn query(&self, sql: &str) -> String {
        self.psql(sql).unwrap_or_else(|e| panic!("{sql}\n{e}"))
    }

    /// Run `tapir <args> --data-dir <dir>` and insist that it succeeds.
    fn tapir(&self, args: &[&str]) {
        let out = Command::new(TAPIR)
            .args(args)
            .arg("--data-dir")
            .arg(&self.dir)
            // No configuration file or environment of the developer's may interfere.
            .arg("--config")
            .arg("/dev/null")
            .env_remove("TAPIR_DATABASE_URL")
            .env_remove("TAPIR_SERVER_DATA_DIR")
            .env("TAPIR_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .expect("tapir runs");
        assert!(
            out.status.success(),
            "tapir {args:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        if self.running() {
            let _ = self.pg_ctl(&["-m", "immediate", "-w", "-s", "stop"]);
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A catalogue file for `tapir adql translate`, made from TAP_SCHEMA (the same names the
/// server's reader produces: schema split off, delimiting quotes removed).
fn catalogue_from_tap_schema(db: &DataDir) -> Value {
    let rows = db.query(
        "SELECT t.table_name, c.column_name, c.datatype, coalesce(c.arraysize, ''), coalesce(c.xtype, ''),
                coalesce(c.unit, '')
         FROM tap_schema.tables t JOIN tap_schema.columns c USING (table_name)
         ORDER BY t.table_index, t.table_name, c.column_index",
    );
    let mut tables: Vec<(String, Value)> = Vec::new();
    for line in rows.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 6, "{line}");
        let unquote = |s: &str| s.trim_matches('"').replace("\"\"", "\"");
        let mut column = json!({"name": unquote(f[1]), "datatype": f[2]});
        for (key, value) in [("arraysize", f[3]), ("xtype", f[4]), ("unit", f[5])] {
            if !value.is_empty() {
                column[key] = json!(value);
            }
        }
        if tables.last().map(|(n, _)| n.as_str()) != Some(f[0]) {
            let table = if f[0].starts_with('"') {
                json!({"name": unquote(f[0]), "columns": []})
            } else if let Some((schema, name)) = f[0].split_once('.') {
                json!({"schema": schema, "name": name, "columns": []})
            } else {
                json!({"name": f[0], "columns": []})
            };
            tables.push((f[0].to_string(), table));
        }
        if let Some((_, table)) = tables.last_mut() {
            if let Some(columns) = table["columns"].as_array_mut() {
                columns.push(column);
            }
        }
    }
    let mut all: Vec<Value> = tables.into_iter().map(|(_, t)| t).collect();
    all.push(json!({
        "schema": "TAP_UPLOAD",
        "name": "nupos",
        "columns": [
            {"name": "nualpha", "datatype": "double", "unit": "deg"},
            {"name": "nudelta", "datatype": "double", "unit": "deg"}
        ]
    }));
    json!({ "tables": all })
}

/// The PostgreSQL that `tapir adql translate` makes of a query.
fn translate(catalogue: &Path, adql: &str) -> String {
    let out = Command::new(TAPIR)
        .args(["adql", "translate", "--json", "--catalog"])
        .arg(catalogue)
        .arg(adql)
        .output()
        .expect("tapir adql translate runs");
    assert!(
        out.status.success(),
        "translate {adql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("translate prints JSON");
    v["sql"].as_str().expect("sql").to_string()
}

#[test]
fn demo_and_bench_through_the_binary() {
    let Some(bin) = postgres_bindir() else {
        return;
    };
    let db = DataDir::new(bin, "demo");

    // First run: creates the cluster, loads the demo, stops the cluster.
    db.tapir(&["load", "demo"]);
    assert!(!db.running(), "tapir load stops the cluster it started");

    // A run killed without stopping PostgreSQL cleanly leaves postmaster.pid behind, naming a
    // pid that may since belong to another process (here: this test). The next start copes.
    fs::write(
        db.pgdata().join("postmaster.pid"),
        format!(
            "{}\n{}\n1700000000\n{PORT}\n{}\n\n  0  0\nready   \n",
            std::process::id(),
            db.pgdata().display(),
            db.socket_dir().display()
        ),
    )
    .expect("write a stale postmaster.pid");
    db.tapir(&["load", "bench", "--rows", "1000000"]);
    assert!(!db.running());

    // A server started outside Tapir is used and left running.
    db.start();
    // Reloading the demo keeps the bench table `tapir load bench` made.
    db.tapir(&["load", "demo"]);
    assert!(db.running(), "tapir leaves a server it did not start running");

    // A server whose Tapir died (pg.owner names a finished process) is adopted and stopped.
    let mut gone = Command::new("true").spawn().expect("spawn true");
    gone.wait().expect("true ends");
    fs::write(db.dir.join("pg.owner"), format!("{} tapir\n", gone.id())).expect("write pg.owner");
    db.tapir(&["load", "demo"]);
    assert!(!db.running(), "tapir stops a server it adopted from a dead Tapir");

    db.start();

    // TAP_SCHEMA: the demo tables, TAP_SCHEMA itself, the TAP 1.1 metadata.
    let tables = db.query("SELECT table_name FROM tap_schema.tables ORDER BY table_index, table_name");
    let tables: Vec<&str> = tables.lines().collect();
    assert_eq!(
        tables,
        [
            "ivoa.ObsCore",
            "gaiadr1.gaia_source",
            "v_ll_data_item",
            "v_auxiliary_file",
            "\"J/A+A/605/L8/quasar_a\"",
            "amanda.nucand",
            "ppmxl.main",
            "hsa.v_active_observation",
            "bench.objects",
            "tap_schema.schemas",
            "tap_schema.tables",
            "tap_schema.columns",
            "tap_schema.keys",
            "tap_schema.key_columns",
        ]
    );
    let described = |table: &str, column: &str| {
        db.query(&format!(
            "SELECT concat_ws('|', datatype, arraysize, xtype, unit, ucd, utype, indexed, principal, std, \"size\")
             FROM tap_schema.columns WHERE table_name = '{table}' AND column_name = '{column}'"
        ))
    };
    assert_eq!(
        described("ivoa.ObsCore", "s_region"),
        "char|*|adql:REGION|pos.outline;obs.field|obscore:Char.SpatialAxis.Coverage.Support.Area|1|1|1"
    );
    assert_eq!(
        described("ivoa.ObsCore", "obs_publisher_did"),
        "char|*|meta.ref.ivoid|obscore:Curation.PublisherDID|1|1|1"
    );
    assert_eq!(
        described("v_ll_data_item", "begin_time"),
        "char|*|timestamp|time.start|1|1|0"
    );
    assert_eq!(
        described("v_ll_data_item", "\"level\""),
        "char|*|meta.code;obs.calib|0|0|0"
    );
    assert_eq!(
        described("gaiadr1.gaia_source", "source_id"),
        "long|meta.id;meta.main|1|1|0"
    );
    assert_eq!(
        described("bench.objects", "mag_g"),
        "float|mag|phot.mag;em.opt.B|0|1|0"
    );
    assert_eq!(
        described("tap_schema.columns", "\"size\""),
        "int|meta.number|0|0|1"
    );
    assert_eq!(
        described("tap_schema.tables", "table_name"),
        "char|*|meta.id;meta.main|1|1|1"
    );
    assert_eq!(db.query("SELECT count(*) FROM tap_schema.keys"), "5");
    let loaded =
        db.query("SELECT table_name || '=' || row_count || ':' || loader FROM tapir.catalogue ORDER BY 1");
    assert_eq!(
        loaded.lines().collect::<Vec<_>>(),
        [
            "amanda.nucand=200:demo",
            "bench.objects=1000000:bench",
            "gaiadr1.gaia_source=5000:demo",
            "hsa.v_active_observation=30:demo",
            "ivoa.ObsCore=39:demo",
            "ppmxl.main=2552:demo",
            "public.J/A+A/605/L8/quasar_a=400:demo",
            "public.v_auxiliary_file=40:demo",
            "public.v_ll_data_item=168:demo",
        ]
    );

    // bench.objects per BENCH-DATA.md: the published checks, and the first row.
    let cone = |r: f64| {
        db.query(&format!(
            "SELECT count(*) FROM bench.objects
             WHERE spoint(radians(ra), radians(dec)) <@ scircle(spoint(radians(180), radians(0)), radians({r}))"
        ))
    };
    assert_eq!(cone(0.5), "17");
    assert_eq!(cone(5.0), "1919");
    assert_eq!(
        db.query(
            "SELECT concat_ws('|', id, round(ra::numeric, 9), round(dec::numeric, 9), mag_g, flag, name)
                  FROM bench.objects WHERE id = 1"
        ),
        "1|123.384979516|41.839328915|18.937405|14|BENCH-0000001"
    );
    let plan = db.query(
        "EXPLAIN SELECT * FROM bench.objects
         WHERE spoint(radians(ra), radians(dec)) <@ scircle(spoint(radians(180), radians(0)), radians(0.5))",
    );
    assert!(
        plan.contains("objects_pos"),
        "the cone uses the GiST index:\n{plan}"
    );

    // The seed queries, as the query role, in read-only transactions.
    let catalogue = db.dir.join("catalogue.json");
    fs::write(&catalogue, catalogue_from_tap_schema(&db).to_string()).expect("write the catalogue file");
    let sql_of = |name: &str| {
        let adql = SEED_QUERIES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, q)| *q)
            .unwrap_or_else(|| panic!("no seed query {name}"));
        translate(&catalogue, adql)
    };
    let mut failures = Vec::new();
    for (name, adql) in SEED_QUERIES {
        let sql = translate(&catalogue, adql);
        // GAVO's crossmatch joins an upload of the nucand query's result.
        let upload = if *name == "gavo-crossmatch" {
            format!(
                "CREATE SCHEMA \"TAP_UPLOAD\"; CREATE TABLE \"TAP_UPLOAD\".nupos AS {};
                 GRANT USAGE ON SCHEMA \"TAP_UPLOAD\" TO tapir_query;
                 GRANT SELECT ON \"TAP_UPLOAD\".nupos TO tapir_query;",
                sql_of("gavo-nucand")
            )
        } else {
            String::new()
        };
        let run = db.psql(&format!(
            "BEGIN; {upload} SET LOCAL ROLE tapir_query; SET LOCAL transaction_read_only = on;
             SELECT count(*) FROM ({sql}) AS q; ROLLBACK"
        ));
        match run {
            Ok(count) if count.trim().parse::<u64>().is_ok_and(|n| n > 0) => {
                eprintln!("seed query {name}: {} rows", count.trim());
            }
            Ok(count) => failures.push(format!("{name}: {count:?} rows\n  {adql}\n  {sql}")),
            Err(e) => failures.push(format!("{name}: {e}\n  {adql}\n  {sql}")),
        }
    }
    assert!(
        failures.is_empty(),
        "seed queries without rows:\n{}",
        failures.join("\n")
    );

    // The Gaia cone on Sgr A* finds the demo's dense field, nearest first.
    let cone = db.query(&format!("SELECT count(*) FROM ({}) AS q", sql_of("gaia-cone")));
    let n: u32 = cone.parse().expect("count");
    assert!((50..200).contains(&n), "{n} sources in the 5' cone");
}
