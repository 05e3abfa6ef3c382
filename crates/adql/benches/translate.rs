//! Throughput of the ADQL front end over the valid conformance corpus
//! (`$TAPIR_ADQL_CORPUS`, default `../shared/corpus` next to the workspace).
//!
//! `cargo bench -p tapir-adql --bench translate`; criterion reports queries/s as
//! elements/s. Without the corpus a few built-in queries are measured instead.

use std::hint::black_box;
use std::path::PathBuf;

use adql::{AdqlType, Column, MemoryCatalog, Table, Udf, UdfRegistry};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

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
geo: pt point";

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

/// The standard UDFs plus the two the corpus sources declare.
fn udfs() -> UdfRegistry {
    let mut registry = UdfRegistry::standard();
    for (name, args, returns) in [
        (
            "ESO_INTERSECTION",
            [AdqlType::Region, AdqlType::Region],
            AdqlType::Double,
        ),
        (
            "ESO_DATEADD_SEC",
            [AdqlType::Integer, AdqlType::Timestamp],
            AdqlType::Timestamp,
        ),
    ] {
        registry.add(Udf {
            template: format!("{}($1, $2)", name.to_ascii_lowercase()),
            name: name.into(),
            args: args.to_vec(),
            returns,
            predicate: None,
            aggregate: false,
            description: String::new(),
        });
    }
    registry
}

/// Stand-ins when the corpus is missing.
const BUILT_IN: &[&str] = &[
    "SELECT TOP 10 id, ra, dec FROM stars WHERE mag < 12 ORDER BY mag",
    "SELECT name, DISTANCE(POINT('ICRS', ra, dec), POINT('ICRS', 10.68, 41.27)) AS d FROM stars \
     WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 10.68, 41.27, 0.5))",
    "SELECT type, COUNT(*) AS n, AVG(mag) FROM stars GROUP BY type HAVING COUNT(*) > 3",
    "SELECT s.name, c.flag FROM stars AS s JOIN crazy AS c ON s.name = c.name WHERE s.ra BETWEEN 10 AND 20",
    "SELECT * FROM stars WHERE id IN (SELECT wot FROM crazy WHERE LOWER(name) LIKE 'a%')",
];

fn bench(c: &mut Criterion) {
    let (cat, udfs) = (catalog(), udfs());
    // Separate groups, so that criterion never compares the built-ins with the corpus.
    let (group_name, queries): (&str, Vec<String>) = match corpus("adql-valid.txt") {
        Some(all) => {
            let total = all.len();
            let ok: Vec<String> = all
                .into_iter()
                .filter(|q| adql::translate(q, &cat, &udfs).is_ok())
                .collect();
            println!(
                "corpus: {} of {total} valid records translate; benchmarking those",
                ok.len()
            );
            ("adql", ok)
        }
        None => {
            println!("note: corpus not found (set TAPIR_ADQL_CORPUS); benchmarking built-in queries");
            ("adql-built-in", BUILT_IN.iter().map(|q| q.to_string()).collect())
        }
    };
    assert!(
        queries.iter().all(|q| adql::translate(q, &cat, &udfs).is_ok()),
        "every query translates"
    );

    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(queries.len() as u64));
    group.bench_function("parse", |b| {
        b.iter(|| {
            for q in &queries {
                let _ = black_box(adql::parse(black_box(q)));
            }
        })
    });
    group.bench_function("translate", |b| {
        b.iter(|| {
            for q in &queries {
                let _ = black_box(adql::translate(black_box(q), &cat, &udfs));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
