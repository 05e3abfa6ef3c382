//! `bench.objects`, the deterministic benchmark catalogue of BENCH-DATA.md.
//!
//! Every value is a pure function of `id` (md5 of `bench:<id>:1` and `bench:<id>:2`), so any
//! machine rebuilds identical rows. The rows are generated inside PostgreSQL by one
//! `INSERT ... SELECT` over `generate_series`, into a fresh table under a temporary name; the
//! primary key and the GiST index come after the data (much faster than maintaining them row
//! by row), and the new table replaces the old one at the end of the same transaction, so a
//! server reading `bench.objects` meanwhile sees either the old table or the new one.

use std::time::Instant;

use tokio_postgres::Client;

use super::catalogue::{self, col, Col, SchemaDef, TableDef, INDEXED, KEY, NOT_NULL, PRINCIPAL};
use super::migrate::{finish, LOCK_LOAD};
use super::quote_ident;
use super::DbError;

pub(crate) static BENCH: SchemaDef = SchemaDef {
    name: "bench",
    description: "Synthetic benchmark catalogue: every value is a deterministic function of the row id",
    index: 8,
};

#[rustfmt::skip]
static COLUMNS: [Col; 10] = [
    col("id", "bigint", "", "meta.id;meta.main", "Running object number 1..N").flags(KEY | PRINCIPAL),
    col("ra", "double precision", "deg", "pos.eq.ra;meta.main", "ICRS right ascension")
        .flags(NOT_NULL | PRINCIPAL | INDEXED),
    col("dec", "double precision", "deg", "pos.eq.dec;meta.main", "ICRS declination")
        .flags(NOT_NULL | PRINCIPAL | INDEXED),
    col("mag_g", "real", "mag", "phot.mag;em.opt.B", "Synthetic g magnitude").flags(NOT_NULL | PRINCIPAL),
    col("mag_r", "real", "mag", "phot.mag;em.opt.R", "Synthetic r magnitude").flags(NOT_NULL),
    col("parallax", "double precision", "mas", "pos.parallax",
        "Synthetic parallax (NULL for about 5 % of the rows)"),
    col("pmra", "double precision", "mas/yr", "pos.pm;pos.eq.ra", "Proper motion in RA (times cos dec)")
        .flags(NOT_NULL),
    col("pmdec", "double precision", "mas/yr", "pos.pm;pos.eq.dec", "Proper motion in Dec").flags(NOT_NULL),
    col("flag", "smallint", "", "meta.code", "Flag value 0..15").flags(NOT_NULL),
    col("name", "text", "", "meta.id", "Designation, e.g. BENCH-0000042").flags(NOT_NULL),
];

pub(crate) static OBJECTS: TableDef = TableDef {
    schema: &BENCH,
    name: "objects",
    description: "Deterministic synthetic catalogue for benchmarks; every value is a function of id \
                  (BENCH-DATA.md)",
    utype: "",
    columns: &COLUMNS,
};

/// The rows 1..$1, exactly as BENCH-DATA.md defines them: u(h, k) is the k-th group of 8 hex
/// digits of h read as an unsigned 32-bit integer, divided by 2^32; all arithmetic is float8
/// until the final casts. (`name` keeps the document's `lpad(id, 7)`, which truncates ids
/// above 9,999,999.)
const INSERT: &str = "
INSERT INTO {table} (id, ra, dec, mag_g, mag_r, parallax, pmra, pmdec, flag, name)
SELECT id,
       360 * a,
       degrees(asin(2 * b - 1)),
       (12 + 9 * sqrt(c))::real,
       (12 + 9 * sqrt(c) - (0.1 + 1.4 * d))::real,
       CASE WHEN e < 0.05 THEN NULL ELSE 0.05 + 20 * e ^ 3 END,
       60 * (f - 0.5),
       60 * (g - 0.5),
       floor(16 * h)::smallint,
       'BENCH-' || lpad(id::text, 7, '0')
FROM (
    SELECT id,
           ('x' || substr(h1, 1, 8))::bit(32)::bigint / 4294967296.0::float8 AS a,
           ('x' || substr(h1, 9, 8))::bit(32)::bigint / 4294967296.0::float8 AS b,
           ('x' || substr(h1, 17, 8))::bit(32)::bigint / 4294967296.0::float8 AS c,
           ('x' || substr(h1, 25, 8))::bit(32)::bigint / 4294967296.0::float8 AS d,
           ('x' || substr(h2, 1, 8))::bit(32)::bigint / 4294967296.0::float8 AS e,
           ('x' || substr(h2, 9, 8))::bit(32)::bigint / 4294967296.0::float8 AS f,
           ('x' || substr(h2, 17, 8))::bit(32)::bigint / 4294967296.0::float8 AS g,
           ('x' || substr(h2, 25, 8))::bit(32)::bigint / 4294967296.0::float8 AS h
    FROM (
        SELECT id, md5('bench:' || id || ':1') AS h1, md5('bench:' || id || ':2') AS h2
        FROM generate_series(1::bigint, $1::bigint) AS id
    ) AS hashes
) AS u";

/// Build `bench.objects` with `rows` rows per BENCH-DATA.md, its GiST index, and ANALYZE.
pub(crate) async fn load(client: &Client, rows: u64) -> Result<(), DbError> {
    let rows = i64::try_from(rows).map_err(|_| DbError::Setup(format!("{rows} rows is too many")))?;
    client.batch_execute("BEGIN").await?;
    let result = async {
        client
            .execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_LOAD])
            .await
            .map_err(DbError::query("cannot take the load lock"))?;
        catalogue::ensure_managed_tap_schema(client).await?;
        build(client, rows, "bench").await?;
        // Listed where the demo lists it.
        catalogue::publish(client, &OBJECTS, super::demo::TABLES.len() as i32).await?;
        catalogue::grant_read(client, &OBJECTS).await?;
        Ok(())
    }
    .await;
    finish(client, result).await?;
    // Outside the transaction: ANALYZE inside it would see the table, but a committed one
    // gives the statistics to everyone at once.
    catalogue::analyze(client, &OBJECTS).await?;
    Ok(())
}

/// Create and fill the table under a temporary name, index it, and swap it in. Runs inside
/// the caller's transaction (which must hold [`LOCK_LOAD`]); `loader` is recorded in
/// tapir.catalogue (`bench` for `tapir load bench`, `demo` for the demo's small copy).
pub(crate) async fn build(client: &Client, rows: i64, loader: &str) -> Result<(), DbError> {
    catalogue::check_replaceable(client, &OBJECTS).await?;
    catalogue::ensure_schema(client, &BENCH).await?;
    let schema = quote_ident(BENCH.name);
    let loading = format!("{schema}.{}", quote_ident("objects_loading"));
    let started = Instant::now();
    tracing::info!("generating {rows} rows of bench.objects");
    client
        .batch_execute(&format!(
            "SET LOCAL maintenance_work_mem = '512MB';
             DROP TABLE IF EXISTS {loading};
             {}",
            OBJECTS.create_sql(&loading, false)
        ))
        .await
        .map_err(DbError::query("cannot create bench.objects"))?;
    client
        .execute(INSERT.replace("{table}", &loading).as_str(), &[&rows])
        .await
        .map_err(DbError::query("cannot generate the rows of bench.objects"))?;
    tracing::info!(
        "rows generated in {:.1} s; indexing",
        started.elapsed().as_secs_f64()
    );
    // The positional index is on the expression the ADQL translator emits for
    // POINT(ra, dec), so CONTAINS and DISTANCE queries use it.
    let key = OBJECTS
        .key_sql(&loading, "objects_loading_pkey")
        .ok_or_else(|| DbError::Setup("bench.objects has no primary key".into()))?;
    client
        .batch_execute(&format!(
            "{key};
             CREATE INDEX objects_loading_pos ON {loading} USING gist (spoint(radians(ra), radians(dec)));
             DROP TABLE IF EXISTS {target};
             ALTER TABLE {loading} RENAME TO objects;
             ALTER INDEX {schema}.objects_loading_pkey RENAME TO objects_pkey;
             ALTER INDEX {schema}.objects_loading_pos RENAME TO objects_pos;
             COMMENT ON TABLE {target} IS {comment}",
            target = OBJECTS.sql_name(),
            comment = catalogue::literal(OBJECTS.description),
        ))
        .await
        .map_err(DbError::query("cannot index bench.objects"))?;
    catalogue::record(client, &OBJECTS, loader, rows).await?;
    tracing::info!("bench.objects ready in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
