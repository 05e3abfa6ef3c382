//! The public ADQL conformance corpus (`$TAPIR_ADQL_CORPUS`, CI: `../shared/corpus`),
//! judged in strict ADQL 2.1 mode per the corpus README §2, with our decisions on
//! the disputed records and on `||` with a number (docs/adql.md).
//!
//! Queries are fully checked and translated against a catalogue of the tables the
//! corpus README §5 lists: typed where units or types matter (stars, the DaCHS
//! fixture), open placeholders elsewhere. Unknown tables are therefore errors.

use std::path::PathBuf;

use adql::{translate, AdqlType, Column, MemoryCatalog, Table, Udf, UdfRegistry};

struct Record {
    meta: Vec<String>,
    query: String,
}

impl Record {
    fn has(&self, key: &str, needle: &str) -> bool {
        self.meta.iter().any(|m| m.starts_with(key) && m.contains(needle))
    }
    fn src(&self) -> &str {
        self.meta
            .iter()
            .find(|m| m.starts_with("--@ src:"))
            .map_or("?", String::as_str)
    }
}

fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TAPIR_ADQL_CORPUS")
        .map(PathBuf::from)
        .or_else(|| {
            let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
            d.is_dir().then_some(d)
        });
    match dir {
        Some(d) if d.is_dir() => Some(d),
        _ if std::env::var_os("CI").is_some() => {
            panic!("TAPIR_ADQL_CORPUS does not name the corpus directory")
        }
        _ => {
            eprintln!("corpus not found: skipping (set TAPIR_ADQL_CORPUS)");
            None
        }
    }
}

fn records(file: &str) -> Option<Vec<Record>> {
    let text = std::fs::read_to_string(corpus_dir()?.join(file)).expect("corpus file is readable");
    let mut out = Vec::new();
    for chunk in text.split("\n----\n").skip(1) {
        let mut meta = Vec::new();
        let mut lines = Vec::new();
        for l in chunk.lines() {
            if l.starts_with("--@ ") {
                meta.push(l.to_string());
            } else {
                lines.push(l);
            }
        }
        let mut query = lines.join("\n");
        query.push('\n');
        out.push(Record { meta, query });
    }
    Some(out)
}

fn open(schema: Option<&str>, name: &str) -> Table {
    let mut t = Table::new(schema, name, vec![]);
    t.open = true;
    t
}

fn col(name: &str, ty: AdqlType, unit: &str) -> Column {
    let c = Column::new(name, ty);
    if unit.is_empty() {
        c
    } else {
        c.with_unit(unit)
    }
}

/// The tables of corpus README §5.
fn catalog() -> MemoryCatalog {
    use AdqlType::*;
    let mut tables = vec![
        Table::new(
            None,
            "stars",
            vec![
                col("id", BigInt, ""),
                col("name", VarChar(None), ""),
                col("type", VarChar(None), ""),
                col("ra", Double, "deg"),
                col("dec", Double, "deg"),
                col("ra_error", Double, "deg"),
                col("mag", Real, "mag"),
                col("radius", Double, ""),
                col("long", Double, ""),
                col("des", VarChar(None), ""),
                col("star_name", VarChar(None), ""),
                col("favorite_name", VarChar(None), ""),
                col("pm_ra", Double, "deg/yr"),
                col("pm_dec", Double, "deg/yr"),
                col("_weird_name", VarChar(None), ""),
                col("distance", Double, "pc"),
            ],
        ),
        Table::new(
            None,
            "spatial",
            vec![
                col("dist", Real, "m"),
                col("width", Real, "m"),
                col("height", Real, "km"),
                col("ra1", Real, "deg"),
                col("ra2", Real, "rad"),
            ],
        ),
        Table::new(
            None,
            "spatial2",
            vec![
                col("ra1", Real, "deg"),
                col("dec", Real, "deg"),
                col("dist", Real, "m"),
            ],
        ),
        Table::new(
            None,
            "misc",
            vec![
                col("mass", Real, "kg"),
                col("mag", Real, "mag"),
                col("speed", Real, "km/s"),
            ],
        ),
        Table::new(
            None,
            "quoted",
            vec![
                col("left-right", Real, ""),
                col("inch\"ing", Real, ""),
                col("plAin", Real, ""),
                col("alllower", Real, ""),
            ],
        ),
        Table::new(
            None,
            "crazy",
            vec![
                col("ct", Integer, ""),
                col("wot", BigInt, ""),
                col("wotb", Blob, ""),
                col("mass", Real, "kg"),
                col("name", VarChar(None), ""),
                col("version", VarChar(None), ""),
                col("flag", Char(Some(1)), ""),
            ],
        ),
        Table::new(None, "geo", vec![col("pt", Point, "")]),
    ];
    for (schema, name) in [
        (None, "t1"),
        (None, "t2"),
        (None, "t3"),
        (None, "t4"),
        (None, "t5"),
        (None, "atable"),
        (None, "table1"),
        (None, "table2"),
        (None, "table3"),
        (None, "alpha_source"),
        (Some("ivoa"), "ObsCore"),
        (Some("dbo"), "raw"),
        (Some("asm"), "MASS_paranal"),
        (Some("asm"), "lhatpros_paranal_profiles"),
        (Some("phase3v2"), "provenance"),
        (Some("phase3v2"), "files"),
        (Some("TAP_SCHEMA"), "schemas"),
        (Some("TAP_SCHEMA"), "tables"),
        (Some("TAP_SCHEMA"), "columns"),
        (Some("TAP_SCHEMA"), "AllDataTypes"),
        (Some("tap_test"), "AllDataTypes"),
        (Some("ppmx"), "data"),
        (Some("usnob"), "data"),
        (Some("amanda"), "nucand"),
        (Some("TAP_UPLOAD"), "abc"),
        (Some("TAP_UPLOAD"), "adql"),
        (Some("TAP_UPLOAD"), "user_table"),
        (Some("TAP_UPLOAD"), "my_stars"),
        (None, "atlasSource"),
        (None, "atlasMergeLog"),
        (None, "Multiframe"),
        (None, "source"),
        (None, "foo"),
        (None, "bar"),
        (None, "bar2"),
        (None, "titi"),
        (None, "cat"),
        (None, "cat2"),
        (None, "aTable"),
        (None, "myTable"),
        (Some("browndwarfs"), "cat"),
        (None, "B/avo.rad/catalog"),
        (Some("db"), "tab"),
        (Some("test"), "tab"),
        (Some("dynastvo"), "epn_core"),
        (Some("exoplanet"), "epn_core"),
        (Some("apis"), "epn_core"),
        (Some("hipparcos"), "main"),
        (None, "t"),
        // DaCHS placeholders used only for parsing (README §5b).
        (None, "x"),
        (None, "y"),
        (None, "z"),
        (None, "n"),
        (None, "q"),
        (None, "u"),
        (None, "a"),
        (None, "b"),
        (None, "c"),
        (None, "d"),
        (None, "most"),
        (None, "else3"),
        (None, "something"),
        (None, "anything"),
        (Some("urks"), "a"),
        (Some("monk"), "d"),
        (Some("s1"), "t2"),
        (Some("s2"), "t3"),
        (None, "abc-g"),
        (None, "select"),
        (None, "nons-ak"),
        (None, "foo2"),
        (Some("Murks Schema"), "Murks Tabelle"),
        (Some("z"), "x"),
        (Some("x"), "y"),
    ] {
        tables.push(open(schema, name));
    }
    MemoryCatalog::new(tables)
}

/// Standard UDFs plus the ones the corpus sources declare.
fn udfs() -> UdfRegistry {
    let mut r = UdfRegistry::standard();
    for (name, args, ret) in [
        (
            "ESO_INTERSECTION",
            vec![AdqlType::Region, AdqlType::Region],
            AdqlType::Double,
        ),
        (
            "ESO_DATEADD_SEC",
            vec![AdqlType::Integer, AdqlType::Timestamp],
            AdqlType::Timestamp,
        ),
    ] {
        r.add(Udf {
            name: name.into(),
            template: format!(
                "{}({})",
                name.to_ascii_lowercase(),
                (1..=args.len())
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            args,
            returns: ret,
            predicate: None,
            aggregate: false,
            description: String::new(),
        });
    }
    r
}

/// Records whose verdict is one of our documented decisions (docs/adql.md), not the label.
fn our_verdict(r: &Record, labelled_valid: bool) -> bool {
    // JOIN without a condition: accepted as a cross join (2.1 BNF), for INNER JOIN too.
    if r.has("--@ tags:", "JOIN without") || r.has("--@ note:", "without ON/USING") {
        return true;
    }
    // CASE is a documented extension.
    if r.query.to_ascii_uppercase().contains("CASE WHEN") {
        return true;
    }
    // A number joined with `||` is converted to text, as DaCHS (PostgreSQL) does; VOLLT's
    // type check refuses it, and the invalid file records that refusal.
    if concatenates_a_number(r) {
        return true;
    }
    // Adjacent string literals and `%`: rejected, as the 2.1 BNF says.
    if r.has("--@ note:", "adjacent string literals") || r.has("--@ note:", "% is not an arithmetic operator")
    {
        return false;
    }
    labelled_valid
}

/// An invalid-file record that is invalid only because `||` has a numeric operand: our
/// decision (docs/adql.md, "Concatenation") accepts it, though the corpus does not mark it disputed.
fn concatenates_a_number(r: &Record) -> bool {
    r.has("--@ note:", "numeric used in string concatenation")
}

/// Valid-file records that parse but that the full check rejects on purpose: the
/// source queries are syntax tests whose names or types do not add up, or they use
/// what docs/adql.md lists as unsupported. Each entry: a fragment of the `src` line
/// and why.
const SEMANTIC_REJECTIONS: &[(&str, &str)] = &[
    (
        "b520c0a4-450b-11e6-b727-b5b3c3190c3d",
        "name: a catalogue prefix (z.x.y) is refused, not ignored (docs/adql.md)",
    ),
    (
        "b9b45d2e-450b-11e6-b727-b5b3c3190c3d",
        "name: a catalogue prefix (z.x.y) is refused, not ignored (docs/adql.md)",
    ),
    (
        "6ec4c4d8-450c-11e6-8564-332de33a5c03",
        "type: 5+9 compared with a string",
    ),
    ("8b9aa804-59b3-11ec-beef-28d2445a8967", "type: '30' * 1323"),
    (
        "8f06ec9a-450b-11e6-b727-b5b3c3190c3d",
        "name: qualifier x is not in FROM",
    ),
    (
        "95b213bc-450b-11e6-b727-b5b3c3190c3d",
        "name: qualifier x is not in FROM",
    ),
    (
        "f0904614-4cf9-11e6-bf5d-ebbe7e1e6fb5",
        "name: x and foo are in neither spatial nor misc",
    ),
    (
        "1095dfb4-4cfa-11e6-bf5d-ebbe7e1e6fb5",
        "name: misc is aliased as foo",
    ),
    (
        "45429eac-4cfd-11e6-9064-032db3af9290",
        "name: spatial is aliased as a",
    ),
    (
        "50cf9e14-4cfd-11e6-9064-032db3af9290",
        "name: dist is in spatial and spatial2",
    ),
    (
        "e91ce10e-4cfd-11e6-9064-032db3af9290",
        "name: dist is in spatial and spatial2",
    ),
    (
        "d65405ea-4cfb-11e6-9064-032db3af9290",
        "name: the fixture's column is \"inch\"\"ing\", lower case",
    ),
    (
        "e03ce418-4d01-11e6-8c9d-819288b39233",
        "name: usnob.data and a are not in FROM (corpus README §3.9)",
    ),
    (
        "5c93a1ae-4cfe-11e6-b43c-5d3a7f1259a0",
        "type: EXCEPT of 5 and 3 columns",
    ),
    (
        "065d4842-4d00-11e6-866d-736653f6053b",
        "decision: adjacent string literals are not concatenated",
    ),
    (
        "1655f288-4d02-11e6-8c9d-819288b39233",
        "unsupported: STC-S Union/Intersection in REGION",
    ),
    (
        "27fd6dd6-4d02-11e6-8c9d-819288b39233",
        "unsupported: STC-S Not in REGION",
    ),
];

fn pinned(r: &Record) -> Option<&'static str> {
    SEMANTIC_REJECTIONS
        .iter()
        .find(|(id, _)| r.src().contains(id))
        .map(|(_, why)| *why)
        .or_else(|| {
            r.query
                .to_ascii_lowercase()
                .contains("region('not(position")
                .then_some("unsupported: STC-S Not in REGION")
        })
}

#[test]
fn valid_queries_are_accepted() {
    let Some(recs) = records("adql-valid.txt") else {
        return;
    };
    let (cat, udfs) = (catalog(), udfs());
    let mut failures = Vec::new();
    let (mut counted, mut parsed, mut translated, mut pinned_count) = (0, 0, 0, 0);
    for r in &recs {
        if r.has("--@ tags:", "undeclared-udf") || r.has("--@ tags:", "wart") {
            continue;
        }
        let expect = if r.has("--@ tags:", "disputed") {
            our_verdict(r, true)
        } else {
            true
        };
        counted += 1;
        let syntax_ok = adql::parse(&r.query).is_ok();
        parsed += usize::from(syntax_ok);
        let got = translate(&r.query, &cat, &udfs);
        translated += usize::from(got.is_ok());
        let expect_translation = expect && pinned(r).is_none();
        pinned_count += usize::from(pinned(r).is_some());
        let syntax_expected = expect && !pinned(r).is_some_and(|w| w.starts_with("decision"));
        if syntax_ok != syntax_expected || got.is_ok() != expect_translation {
            failures.push(format!("{}\n{}=> {:?}\n", r.src(), r.query, got.map(|t| t.sql)));
        }
    }
    println!(
        "valid corpus: {counted} judged, {parsed} parse, {translated} fully checked and translated, {pinned_count} rejected on purpose"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn invalid_queries_are_rejected() {
    let Some(recs) = records("adql-invalid.txt") else {
        return;
    };
    let (cat, udfs) = (catalog(), udfs());
    let mut failures = Vec::new();
    let mut rejected = 0;
    for r in &recs {
        let expect_valid = if r.has("--@ class:", "disputed")
            || concatenates_a_number(r)
            || r.query.to_ascii_uppercase().contains("CASE WHEN")
        {
            our_verdict(r, false)
        } else {
            false
        };
        let got = translate(&r.query, &cat, &udfs);
        if let Err(e) = &got {
            rejected += 1;
            // Every rejection says where.
            assert!(e.position.is_some(), "no position for {}: {e}", r.query);
        }
        if got.is_ok() != expect_valid {
            failures.push(format!("{}\n{}=> {:?}\n", r.src(), r.query, got.map(|t| t.sql)));
        }
    }
    println!(
        "invalid corpus: {} records, {rejected} rejected, {} judged as expected",
        recs.len(),
        recs.len() - failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Strict-invalid records (corpus README §2: class syntax, lexical, type or syntax/type) that
/// `adql::parse`, the step behind `tapir adql parse`, rejects: everything the ADQL 2.1 grammar
/// rules out, without a catalogue. Before the grammar rules (issue 11) it rejected 68 of the 93;
/// the ones it lets through are type errors in the grammar's terms (`LOWER(123)`), which the
/// full check rejects, and our documented decisions (CASE, a number joined with `||`).
const PARSE_REJECTS_AT_LEAST: usize = 89;

#[test]
fn the_parse_step_answers_for_the_grammar() {
    let Some(recs) = records("adql-invalid.txt") else {
        return;
    };
    let mut strict = 0;
    let mut rejected = 0;
    let mut missed = Vec::new();
    for r in &recs {
        let class = r
            .meta
            .iter()
            .find_map(|m| m.strip_prefix("--@ class:"))
            .map_or("", str::trim);
        if !matches!(class, "syntax" | "lexical" | "type" | "syntax/type") {
            continue;
        }
        strict += 1;
        match adql::parse(&r.query) {
            Err(e) => {
                rejected += 1;
                assert!(e.position.is_some(), "no position for {}: {e}", r.query);
            }
            // A syntax error that is not one of our decisions must be found without a catalogue.
            Ok(_) if class != "type" && !our_verdict(r, false) => {
                missed.push(format!("{}\n{}", r.src(), r.query));
            }
            Ok(_) => {}
        }
    }
    println!("strict-invalid corpus: {strict} records, {rejected} rejected by parse");
    assert!(
        missed.is_empty(),
        "parse accepts {} syntax errors:\n{}",
        missed.len(),
        missed.join("\n")
    );
    assert!(
        rejected >= PARSE_REJECTS_AT_LEAST,
        "parse rejects {rejected} strict-invalid records, fewer than {PARSE_REJECTS_AT_LEAST}"
    );
}
