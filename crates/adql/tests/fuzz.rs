//! A deterministic mutation fuzzer for the ADQL front end, without dependencies.
//!
//! Every valid and invalid corpus query (`$TAPIR_ADQL_CORPUS`, built-in seeds
//! without it) is mutated at random and fed to `adql::parse` and
//! `adql::translate`. Nothing may panic, every error must say where it is, inside
//! the input, and translating the same text twice must give the same result.
//!
//! `TAPIR_FUZZ_SEED` (decimal or 0x-hex) and `TAPIR_FUZZ_ITERS` change the run;
//! `TAPIR_FUZZ_TRACE=1` prints every input first, to find one that aborts the
//! process (a stack overflow cannot be caught).
//! `TAPIR_FUZZ_ITERS=2000000 cargo test --release -p tapir-adql --test fuzz -- --nocapture`

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Once;
use std::time::Instant;

use adql::{AdqlError, AdqlType, Column, MemoryCatalog, Table, Udf, UdfRegistry};

/// Inputs this fuzzer once found wrong, with what was wrong; `fixed_findings` replays them.
const FOUND: &[(&str, &str)] = &[
    // sqlparser gives the Ident made of a '...' literal an empty span: the error had no position.
    ("SELECT x FROM 'y'", "no position"),
    ("SELECT x AS 'y' FROM t", "no position"),
    ("SELECT * FROM t 'a'(x)", "no position"),
    ("SELECT * FROM 'f'(x)", "no position"),
    ("SELECT x FROM @t", "no position"),
    ("TABLE t", "no position"),
];

/// Inputs that once overflowed the stack (aborting the process) or took a minute.
fn found_big() -> Vec<(String, &'static str)> {
    vec![
        (
            format!("SELECT 1{} FROM t", "+1".repeat(4900)),
            "stack overflow: error span over a left-deep operator chain",
        ),
        (
            format!("SELECT 1{} FROM t", "+1".repeat(6000)),
            "stack overflow: a chain past the operator limit",
        ),
        (
            format!("SELECT 1 FROM t{}", " UNION SELECT 1 FROM t".repeat(6000)),
            "stack overflow: recursion per UNION",
        ),
        (
            format!("SELECT a FROM t WHERE {}", vec!["a = 1"; 3000].join(" OR ")),
            "stack overflow: recursion per OR",
        ),
        (
            format!("SELECT a{} FROM t", ", a".repeat(4000)),
            "slow: quadratic output names",
        ),
    ]
}

/// The stack of the fuzzing thread: a tokio worker's in release builds; debug
/// builds have frames about twenty times larger (Checker::expr: ~40 KiB, so 2 MiB
/// hold only ~50 nested operators), so they get more.
const STACK: usize = if cfg!(debug_assertions) { 64 << 20 } else { 2 << 20 };

const DEFAULT_SEED: u64 = 0x7a91_2c3d_5eed_0adc;
/// About 5 s in a debug build on one core.
const DEFAULT_ITERS: u64 = 6_000;

/// The queries of one corpus file, metadata stripped, or `None` without a corpus.
fn corpus(file: &str) -> Option<Vec<String>> {
    let dir = match std::env::var_os("TAPIR_ADQL_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    };
    let text = std::fs::read_to_string(dir.join(file)).ok()?;
    let records = text.split("\n----\n").skip(1).map(|record| {
        let body: Vec<&str> = record.lines().filter(|l| !l.starts_with("--@ ")).collect();
        body.join("\n") + "\n"
    });
    Some(records.collect())
}

/// Typed tables of the corpus README §5: `table: column type [unit], ...`.
const TYPED: &str = "
stars: id bigint, name varchar, type varchar, ra double deg, dec double deg, ra_error double deg, \
  mag real mag, radius double, long double, des varchar, star_name varchar, favorite_name varchar, \
  pm_ra double deg/yr, pm_dec double deg/yr, _weird_name varchar, distance double pc
spatial: dist real m, width real m, height real km, ra1 real deg, ra2 real rad
spatial2: ra1 real deg, dec real deg, dist real m
misc: mass real kg, mag real mag, speed real km/s
quoted: left-right real, inch\"ing real, plAin real, alllower real
crazy: ct int, wot bigint, wotb blob, mass real kg, name varchar, version varchar, flag char1
geo: pt point, c circle, p polygon, r region, ts timestamp, ok bool";

/// Open placeholder tables of the corpus README §5, `[schema:]table`.
const OPEN: &str =
    "t1, t2, t3, t4, t5, atable, table1, table2, table3, alpha_source, ivoa:ObsCore, dbo:raw, \
  asm:MASS_paranal, asm:lhatpros_paranal_profiles, phase3v2:provenance, phase3v2:files, TAP_SCHEMA:schemas, \
  TAP_SCHEMA:tables, TAP_SCHEMA:columns, TAP_SCHEMA:AllDataTypes, tap_test:AllDataTypes, ppmx:data, \
  usnob:data, amanda:nucand, TAP_UPLOAD:abc, TAP_UPLOAD:adql, TAP_UPLOAD:user_table, TAP_UPLOAD:my_stars, \
  atlasSource, atlasMergeLog, Multiframe, source, foo, bar, bar2, titi, cat, cat2, aTable, myTable, \
  browndwarfs:cat, B/avo.rad/catalog, db:tab, test:tab, dynastvo:epn_core, exoplanet:epn_core, \
  apis:epn_core, hipparcos:main, t, x, y, z, n, q, u, a, b, c, d, most, else3, something, anything, \
  urks:a, monk:d, s1:t2, s2:t3, abc-g, select, nons-ak, foo2, Murks Schema:Murks Tabelle, z:x, x:y";

fn catalog() -> MemoryCatalog {
    let mut tables = Vec::new();
    for line in TYPED.lines().filter(|l| !l.is_empty()) {
        let (name, cols) = line.split_once(": ").expect("table: columns");
        let columns = cols.split(", ").map(|c| {
            let mut w = c.split_whitespace();
            let (name, ty) = (w.next().expect("name"), w.next().expect("type"));
            let ty = match ty {
                "int" => AdqlType::Integer,
                "bigint" => AdqlType::BigInt,
                "real" => AdqlType::Real,
                "double" => AdqlType::Double,
                "varchar" => AdqlType::VarChar(None),
                "char1" => AdqlType::Char(Some(1)),
                "blob" => AdqlType::Blob,
                "timestamp" => AdqlType::Timestamp,
                "bool" => AdqlType::Boolean,
                "circle" => AdqlType::Circle,
                "polygon" => AdqlType::Polygon,
                "region" => AdqlType::Region,
                _ => AdqlType::Point,
            };
            match w.next() {
                Some(unit) => Column::new(name, ty).with_unit(unit),
                None => Column::new(name, ty),
            }
        });
        tables.push(Table::new(None, name, columns.collect()));
    }
    for item in OPEN.split(", ") {
        let (schema, name) = item.split_once(':').map_or((None, item), |(s, n)| (Some(s), n));
        let mut table = Table::new(schema, name, vec![]);
        table.open = true;
        tables.push(table);
    }
    MemoryCatalog::new(tables)
}

fn udfs() -> UdfRegistry {
    let mut registry = UdfRegistry::standard();
    registry.add(Udf {
        name: "ESO_INTERSECTION".into(),
        args: vec![AdqlType::Region, AdqlType::Region],
        returns: AdqlType::Double,
        template: "eso_intersection($1, $2)".into(),
        predicate: None,
        aggregate: false,
        description: String::new(),
    });
    registry
}

const BUILT_IN: &[&str] = &[
    "SELECT TOP 10 id, ra, dec FROM stars WHERE mag < 12 ORDER BY mag DESC",
    "SELECT name, DISTANCE(POINT('ICRS', ra, dec), POINT('ICRS', 10.68, 41.27)) AS d FROM stars\n\
     WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 10.68, 41.27, 0.5))",
    "SELECT type, COUNT(*) AS n, AVG(mag) FROM stars GROUP BY type HAVING COUNT(*) > 3",
    "SELECT s.name, c.flag FROM stars AS s JOIN crazy AS c ON s.name = c.name WHERE s.ra BETWEEN 10 AND 20",
    "SELECT * FROM stars WHERE id IN (SELECT wot FROM crazy WHERE LOWER(name) LIKE 'a%') -- comment\n",
    "WITH q AS (SELECT ra FROM stars) SELECT IN_UNIT(ra, 'rad') FROM q UNION SELECT ra1 FROM spatial",
    "SELECT AREA(REGION('Circle ICRS 1 2 3')), COORD1(pt), CAST(ct AS DOUBLE) FROM geo, crazy",
];

/// ADQL and SQL words inserted at random, with or without spaces around.
const WORDS: &str =
    "SELECT FROM WHERE TOP DISTINCT AS JOIN NATURAL LEFT OUTER INNER CROSS ON USING GROUP BY \
    HAVING ORDER ASC DESC UNION INTERSECT EXCEPT ALL WITH AND OR NOT IN BETWEEN LIKE ILIKE IS NULL EXISTS \
    CASE WHEN THEN ELSE END CAST OFFSET LIMIT FETCH FIRST ROWS INTO VALUES OVER PARTITION RECURSIVE INTERVAL \
    ARRAY FILTER COLLATE ESCAPE TRUE FALSE CONTAINS( INTERSECTS( POINT( CIRCLE( BOX( POLYGON( REGION( \
    DISTANCE( AREA( CENTROID( COORD1( COORD2( COORDSYS( LOWER( UPPER( ROUND( TRUNCATE( MOD( POWER( SQRT( \
    LOG10( COUNT(*) COUNT( SUM( AVG( MIN( MAX( COALESCE( IN_UNIT( ESO_INTERSECTION( ivo_nosuch( BIT_AND( \
    TAP_UPLOAD. ivoa.ObsCore stars ra dec mag crazy.wotb geo.pt geo.c geo.ts geo.ok t1.* DOUBLE VARCHAR(3) TIMESTAMP";

/// Punctuation, numbers and odd characters inserted at random.
const PUNCT: &[&str] = &[
    "(", ")", "((", "))", ",", ".", "+", "-", "*", "/", "%", "||", "=", "<>", "!=", "<=", ">=", "<", ">",
    "&", "|", "^", "~", "'", "\"", "''", "\"\"", "--", "/*", "*/", ";", "::", ":", "$$", "$1", "?", "@", "#",
    "\\", "[", "]", "{", "}", "E'", "U&'", "N'", "B'", "X'", "\n", "\r\n", "\t", " ", "é", "É", "‘", "’",
    "“", "”", "λ", "€", "𝔸", "ß", "İ", "ﬁ", "ǅ", "ΣΑΣ", "1", "0", "-1", ".5", "5.", "1e400", "1E-400",
    "0x1F", "'deg'", "'m/s'", "NULL", "*",
];

/// Longer literals and invisible characters inserted at random.
const LITERALS: &[&str] = &[
    "9223372036854775808",
    "18446744073709551616",
    "'ICRS'",
    "'2020-01-01T00:00:00'",
    "'Polygon ICRS 1 2 3 4 5 6'",
    "'Position 1 2'",
    "'Union (Circle 1 2 3 Box 1 2 3 4)'",
    "'Circle ICRS 1 2 -3'",
    "\u{0}",
    "\u{feff}",
    "\u{200b}",
    "\u{202e}",
    "\u{10ffff}",
];

/// One random token: a word (maybe spaced), punctuation, or a literal.
fn token(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => {
            let words: Vec<&str> = WORDS.split_whitespace().collect();
            let pad = *rng.pick(&["", " "]);
            format!("{pad}{}{}", rng.pick(&words), rng.pick(&["", " "]))
        }
        1 => rng.pick(PUNCT).to_string(),
        _ => rng.pick(LITERALS).to_string(),
    }
}

/// xorshift64*: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform enough in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A random char boundary of `s` (`0..=len`).
fn boundary(rng: &mut Rng, s: &str) -> usize {
    let mut i = rng.below(s.len() + 1);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A random range `a..b` of `s` on char boundaries, mostly short.
fn range(rng: &mut Rng, s: &str) -> (usize, usize) {
    let a = boundary(rng, s);
    let max = if rng.below(4) == 0 {
        s.len() - a
    } else {
        12.min(s.len() - a)
    };
    let mut b = a + rng.below(max + 1);
    while !s.is_char_boundary(b) {
        b -= 1;
    }
    (a, b)
}

fn mutate(rng: &mut Rng, s: &mut String, seeds: &[String]) {
    match rng.below(12) {
        0 => {
            let (a, b) = range(rng, s);
            s.replace_range(a..b, "");
        }
        1 | 2 => {
            let at = boundary(rng, s);
            s.insert_str(at, &token(rng));
        }
        3 => {
            let (a, b) = range(rng, s);
            s.replace_range(a..b, &token(rng));
        }
        4 => {
            let (a, b) = range(rng, s);
            let copy = s[a..b].repeat(1 + rng.below(3));
            let at = boundary(rng, s);
            s.insert_str(at, &copy);
        }
        5 => {
            let (a, b) = range(rng, s);
            let (c, d) = range(rng, &s[b..]);
            let (c, d) = (b + c, b + d);
            *s = [&s[..a], &s[c..d], &s[b..c], &s[a..b], &s[d..]].concat();
        }
        6 => {
            let len = *rng.pick(&[1, 19, 20, 39, 40, 310, 400, 5000]);
            let digits: String = (0..len).map(|_| char::from(b'0' + rng.below(10) as u8)).collect();
            let suffix = *rng.pick(&["", ".", ".5", "e", "e-", "E99999999999", "e-400"]);
            let at = boundary(rng, s);
            s.insert_str(at, &(digits + suffix));
        }
        7 => {
            let depth = *rng.pick(&[1, 2, 3, 10, 50, 100, 199, 200, 201, 300, 1000, 10_000]);
            let (a, b) = range(rng, s);
            *s = [&s[..a], &"(".repeat(depth), &s[a..b], &")".repeat(depth), &s[b..]].concat();
        }
        8 => {
            let terms = *rng.pick(&[10, 50, 100, 199, 200, 201, 300, 600, 5000]);
            let op = *rng.pick(&[
                " + 1",
                " * ra",
                " AND 1=1",
                " OR ra < 1",
                " || 'x'",
                " - -1",
                ", 1",
            ]);
            let at = boundary(rng, s);
            s.insert_str(at, &op.repeat(terms));
        }
        9 => {
            let other = rng.pick(seeds);
            let (a, b) = (boundary(rng, s), boundary(rng, other));
            *s = [&s[..a], &other[b..]].concat();
        }
        10 => {
            let (a, b) = range(rng, s);
            let flipped: String = s[a..b]
                .chars()
                .map(|c| {
                    if c.is_ascii_lowercase() {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect();
            s.replace_range(a..b, &flipped);
        }
        _ => {
            let (a, b) = range(rng, s);
            let quote = *rng.pick(&["'", "\"", "/*", "--"]);
            s.insert_str(b, quote);
            s.insert_str(a, quote);
        }
    }
}

/// Why an error's position is wrong, if it is: it must exist and point into the
/// text (or just past the end of a line).
fn position_problem(input: &str, e: &AdqlError) -> Option<String> {
    let Some(p) = e.position else {
        return Some("no position".into());
    };
    let lines: Vec<&str> = input.split('\n').collect();
    let (line, column) = (p.line as usize, p.column as usize);
    let width = lines.get(line.wrapping_sub(1)).map_or(0, |l| l.chars().count());
    let ok = line >= 1 && column >= 1 && line <= lines.len() && column <= width + 1;
    (!ok).then(|| {
        format!(
            "position line {line} column {column} outside {} lines",
            lines.len()
        )
    })
}

/// Run one input; `Err` describes a non-panic failure.
fn check(input: &str, cat: &MemoryCatalog, udfs: &UdfRegistry) -> Result<bool, String> {
    if let Err(e) = adql::parse(input) {
        if let Some(why) = position_problem(input, &e) {
            return Err(format!("parse: {why}: {e}"));
        }
    }
    match (
        adql::translate(input, cat, udfs),
        adql::translate(input, cat, udfs),
    ) {
        (Ok(a), Ok(b)) if a == b => Ok(true),
        (Ok(a), Ok(b)) => Err(format!("two translations differ:\n{}\n{}", a.sql, b.sql)),
        (Err(a), Err(b)) if a == b => match position_problem(input, &a) {
            Some(why) => Err(format!("translate: {why}: {a}")),
            None => Ok(false),
        },
        (a, b) => Err(format!("two translations differ:\n{a:?}\n{b:?}")),
    }
}

thread_local! {
    /// `Some` while [`catching`] runs on this thread: the message of the last panic.
    static CAUGHT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Run `f`, turning a panic into its message and location, without printing it.
fn catching<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let caught = CAUGHT.with(|c| c.borrow_mut().as_mut().map(|m| *m = info.to_string()).is_some());
            if !caught {
                default(info);
            }
        }));
    });
    CAUGHT.with(|c| *c.borrow_mut() = Some(String::new()));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    let message = CAUGHT.with(|c| c.borrow_mut().take()).unwrap_or_default();
    result.map_err(|_| message)
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    let n = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    Some(n.unwrap_or_else(|_| panic!("{name} is not a number: {v}")))
}

fn show(input: &str) -> String {
    let mut s: String = input.chars().take(300).collect();
    if s.len() < input.len() {
        s += &format!("… ({} bytes)", input.len());
    }
    format!("{s:?}")
}

/// What one fuzzing run found.
#[derive(Default)]
struct Report {
    seeds: usize,
    tried: u64,
    accepted: u64,
    slowest: (f64, String),
    panics: Vec<String>,
    wrong: Vec<String>,
    secs: f64,
}

fn fuzz(seed: u64, iters: u64, trace: bool) -> Report {
    let seeds: Vec<String> = match (corpus("adql-valid.txt"), corpus("adql-invalid.txt")) {
        (Some(valid), Some(invalid)) => valid.into_iter().chain(invalid).collect(),
        _ => {
            eprintln!("corpus not found (set TAPIR_ADQL_CORPUS): fuzzing built-in seeds");
            BUILT_IN.iter().map(|q| q.to_string()).collect()
        }
    };
    let (cat, udfs) = (catalog(), udfs());
    let mut rng = Rng(seed.max(1));
    let mut r = Report {
        seeds: seeds.len(),
        ..Report::default()
    };
    let start = Instant::now();
    for i in 0..seeds.len() as u64 + iters {
        let input = match seeds.get(i as usize) {
            Some(s) => s.clone(),
            None => {
                let mut s = rng.pick(&seeds).clone();
                for _ in 0..1 + rng.below(4) {
                    mutate(&mut rng, &mut s, &seeds);
                }
                s
            }
        };
        if trace {
            eprintln!("fuzz input {i}: {input:?}");
        }
        r.tried += 1;
        let one = Instant::now();
        let result = catching(|| check(&input, &cat, &udfs));
        if one.elapsed().as_secs_f64() > r.slowest.0 {
            r.slowest = (one.elapsed().as_secs_f64(), show(&input));
        }
        match result {
            Ok(Ok(ok)) => r.accepted += u64::from(ok),
            Ok(Err(why)) => r.wrong.push(format!("{}\n    {why}", show(&input))),
            Err(msg) => r.panics.push(format!("{}\n    {msg}", show(&input))),
        }
    }
    r.secs = start.elapsed().as_secs_f64();
    r
}

#[test]
fn mutated_queries_never_panic() {
    let seed = env_u64("TAPIR_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let iters = env_u64("TAPIR_FUZZ_ITERS").unwrap_or(DEFAULT_ITERS);
    let trace = std::env::var_os("TAPIR_FUZZ_TRACE").is_some();
    let worker = std::thread::Builder::new().stack_size(STACK);
    let r = worker
        .spawn(move || fuzz(seed, iters, trace))
        .expect("thread")
        .join()
        .expect("no panic");
    println!(
        "fuzz: seed {seed:#x}, {} inputs ({} unmutated seeds) in {:.1} s ({:.0}/s), {} accepted, \
         {} panics, {} wrong errors\n\
         slowest input: {:.3} s {}",
        r.tried,
        r.seeds,
        r.secs,
        r.tried as f64 / r.secs,
        r.accepted,
        r.panics.len(),
        r.wrong.len(),
        r.slowest.0,
        r.slowest.1
    );
    assert!(
        r.panics.is_empty() && r.wrong.is_empty(),
        "{} panics, {} wrong errors; first ones:\n{}",
        r.panics.len(),
        r.wrong.len(),
        r.panics
            .iter()
            .chain(&r.wrong)
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// What the fuzzer found stays fixed: every error has a position, nothing overflows the stack
/// of a tokio worker (2 MiB in release), nothing takes seconds.
#[test]
fn fixed_findings() {
    let worker = std::thread::Builder::new().stack_size(STACK);
    let failures = worker
        .spawn(|| {
            let (cat, udfs) = (catalog(), udfs());
            let small = FOUND.iter().map(|(input, why)| (input.to_string(), *why));
            let mut failures = Vec::new();
            for (input, why) in small.chain(found_big()) {
                let start = Instant::now();
                if let Ok(Err(e)) | Err(e) = catching(|| check(&input, &cat, &udfs)) {
                    failures.push(format!("{} ({why})\n    {e}", show(&input)));
                }
                if start.elapsed().as_secs() >= 1 {
                    failures.push(format!(
                        "{} ({why})\n    took {:.1?}",
                        show(&input),
                        start.elapsed()
                    ));
                }
            }
            failures
        })
        .expect("thread")
        .join()
        .expect("no panic");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
