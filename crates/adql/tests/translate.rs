//! Translation of each construct to PostgreSQL + pgSphere, asserted on the exact SQL
//! (AQ-04..AQ-16), and the errors users see (AQ-18). Execution of the same SQL on a
//! real database is in `execute.rs`.

use adql::{translate, AdqlType, Column, ErrorKind, MemoryCatalog, Table, UdfRegistry};

fn catalog() -> MemoryCatalog {
    use AdqlType::*;
    MemoryCatalog::new(vec![
        Table::new(
            Some("bench"),
            "objects",
            vec![
                Column::new("id", BigInt),
                Column::new("ra", Double)
                    .with_unit("deg")
                    .with_ucd("pos.eq.ra;meta.main"),
                Column::new("dec", Double).with_unit("deg"),
                Column::new("pos", Point),
                Column::new("mag", Real).with_unit("mag"),
                Column::new("user", VarChar(None)),
                Column::new("Size", Integer),
            ],
        ),
        Table::new(
            Some("gaiadr1"),
            "gaia_source",
            vec![Column::new("source_id", BigInt), Column::new("ra", Double)],
        ),
        Table::new(
            None,
            "v_ll_data_item",
            vec![Column::new("instrument", VarChar(None))],
        ),
        Table::new(Some("other"), "objects", vec![Column::new("id", BigInt)]),
    ])
}

fn sql(q: &str) -> String {
    match translate(q, &catalog(), &UdfRegistry::standard()) {
        Ok(t) => t.sql,
        Err(e) => panic!("{q}: {e}"),
    }
}

fn error(q: &str) -> adql::AdqlError {
    match translate(q, &catalog(), &UdfRegistry::standard()) {
        Ok(t) => panic!("accepted {q}: {}", t.sql),
        Err(e) => e,
    }
}

#[test]
fn top_offset_and_order_become_limit_after_offset() {
    assert_eq!(
        sql("SELECT TOP 10 id FROM bench.objects ORDER BY mag DESC OFFSET 5"),
        r#"SELECT "t1"."id" AS "id" FROM "bench"."objects" AS "t1" ORDER BY "t1"."mag" DESC LIMIT 10 OFFSET 5"#
    );
    assert_eq!(
        sql("select distinct top 3 ra from bench.objects order by 1"),
        r#"SELECT DISTINCT "t1"."ra" AS "ra" FROM "bench"."objects" AS "t1" ORDER BY 1 ASC LIMIT 3"#
    );
}

#[test]
fn identifiers_resolve_by_adql_rules_and_are_quoted() {
    // Regular identifiers are case-insensitive; `user` must not become CURRENT_USER.
    assert_eq!(
        sql(r#"SELECT USER, "Size", RA FROM BENCH.OBJECTS"#),
        r#"SELECT "t1"."user" AS "user", "t1"."Size" AS "Size", "t1"."ra" AS "ra" FROM "bench"."objects" AS "t1""#
    );
    // Delimited identifiers are exact.
    assert_eq!(
        error(r#"SELECT "size" FROM bench.objects"#).kind,
        ErrorKind::UnknownName
    );
    // An unqualified table name is found when it is unique across schemas.
    assert_eq!(
        sql("SELECT instrument FROM v_ll_data_item"),
        r#"SELECT "t1"."instrument" AS "instrument" FROM "v_ll_data_item" AS "t1""#
    );
}

#[test]
fn unknown_names_are_explained_with_suggestions() {
    let e = error("SELECT rra FROM bench.objects");
    assert_eq!(e.kind, ErrorKind::UnknownName);
    assert_eq!(e.message, "column 'rra' not found in objects");
    assert_eq!(e.hint.as_deref(), Some("did you mean 'ra'?"));
    let p = e.position.expect("position");
    assert_eq!((p.line, p.column), (1, 8));

    let e = error("SELECT id FROM bench.objets");
    assert_eq!(e.message, "table 'bench.objets' not found");
    assert_eq!(e.hint.as_deref(), Some("did you mean 'bench.objects'?"));

    let e = error("SELECT id FROM objects");
    assert!(e.message.contains("ambiguous"), "{e}");
    assert!(
        e.message.contains("bench.objects") && e.message.contains("other.objects"),
        "{e}"
    );

    let e = error("SELECT id FROM bench.objects AS a, other.objects AS b");
    assert!(e.message.contains("ambiguous"), "{e}");

    let e = error("SELECT TAN2(ra) FROM bench.objects");
    assert_eq!(e.kind, ErrorKind::UnknownName);
    assert_eq!(e.hint.as_deref(), Some("did you mean 'ATAN2' or 'TAN'?"));
}

#[test]
fn type_errors_are_clear() {
    let e = error("SELECT 'abc' * 3 FROM bench.objects");
    assert_eq!(e.kind, ErrorKind::Type);
    assert!(e.message.contains("needs numbers"), "{e}");
    let e = error("SELECT COALESCE(ra, user) FROM bench.objects");
    assert!(e.message.contains("COALESCE mixes"), "{e}");
    let e = error("SELECT id FROM bench.objects WHERE 1 = CONTAINS(ra, CIRCLE(1, 2, 3))");
    assert!(e.message.contains("CONTAINS needs a geometry"), "{e}");
    let e = error("SELECT id FROM bench.objects WHERE ra");
    assert!(e.message.contains("WHERE needs a condition"), "{e}");
    // An error about the left operand of a chain points at where that operand starts.
    let e = error("SELECT id FROM bench.objects WHERE ra * 2 AND id = 1");
    assert!(e.message.contains("need conditions"), "{e}");
    let p = e.position.expect("position");
    assert_eq!((p.line, p.column), (1, 36), "{e}");
    let e = error("SELECT IN_UNIT(id, 'deg') FROM bench.objects");
    assert!(e.message.contains("known unit"), "{e}");
    let e = error("SELECT IN_UNIT(ra, 'km') FROM bench.objects");
    assert!(e.message.contains("cannot convert"), "{e}");
}

#[test]
fn contains_in_every_form_is_an_index_predicate() {
    let cone = r#"spoint(radians("t1"."ra"), radians("t1"."dec")) <@ scircle(spoint(radians(10), radians(20)), radians(0.5))"#;
    for q in [
        "SELECT id FROM bench.objects WHERE 1=CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 10, 20, 0.5))",
        "SELECT id FROM bench.objects WHERE CONTAINS(POINT(ra, dec), CIRCLE(10, 20, 0.5)) = 1",
        "SELECT id FROM bench.objects WHERE (CONTAINS(POINT(ra, dec), CIRCLE(POINT(10, 20), 0.5))) = 1",
        "SELECT id FROM bench.objects WHERE 1 = INTERSECTS(CIRCLE('', 10, 20, 0.5), POINT('', ra, dec))",
    ] {
        assert_eq!(
            sql(q),
            format!(r#"SELECT "t1"."id" AS "id" FROM "bench"."objects" AS "t1" WHERE {cone}"#),
            "{q}"
        );
    }
    assert!(
        sql("SELECT id FROM bench.objects WHERE 0=CONTAINS(POINT(ra, dec), CIRCLE(10, 20, 0.5))")
            .ends_with(&format!("WHERE NOT ({cone})"))
    );
    assert!(
        sql("SELECT id FROM bench.objects WHERE CONTAINS(POINT(ra, dec), CIRCLE(10, 20, 0.5)) <> 1")
            .ends_with(&format!("WHERE NOT ({cone})"))
    );
    // DISTANCE < r: the column side on the left of <@, whichever side it was written on.
    assert!(
        sql("SELECT id FROM bench.objects WHERE DISTANCE(POINT(10, 20), POINT(ra, dec)) <= 0.5")
            .ends_with(&format!("WHERE {cone}"))
    );
    assert!(sql("SELECT id FROM bench.objects WHERE 0.5 > DISTANCE(ra, dec, 10, 20)").ends_with(&format!(
        r#"WHERE {cone} AND degrees(spoint(radians("t1"."ra"), radians("t1"."dec")) <-> spoint(radians(10), radians(20))) < 0.5"#
    )));
    // As a value it is 1 or 0.
    assert_eq!(
        sql("SELECT CONTAINS(pos, CIRCLE(10, 20, 1)) AS c FROM bench.objects"),
        r#"SELECT CAST(("t1"."pos" <@ scircle(spoint(radians(10), radians(20)), radians(1))) AS integer) AS "c" FROM "bench"."objects" AS "t1""#
    );
}

#[test]
fn geometry_functions() {
    let s = sql("SELECT DISTANCE(pos, POINT(1, 2)), AREA(CIRCLE(1, 2, 3)), COORD1(pos), COORD2(pos), CENTROID(CIRCLE(1, 2, 3)) FROM bench.objects");
    assert!(
        s.contains(r#"degrees("t1"."pos" <-> spoint(radians(1), radians(2))) AS "distance""#),
        "{s}"
    );
    assert!(
        s.contains(
            r#"(area(scircle(spoint(radians(1), radians(2)), radians(3))) * 3282.806350011744) AS "area""#
        ),
        "{s}"
    );
    assert!(s.contains(r#"degrees(long("t1"."pos")) AS "coord1""#), "{s}");
    assert!(s.contains(r#"degrees(lat("t1"."pos")) AS "coord2""#), "{s}");
    // Constant polygons and boxes become pgSphere literals (in degrees).
    let s = sql(
        "SELECT id FROM bench.objects WHERE 1=CONTAINS(pos, POLYGON('ICRS', 10, -10.5, 20, 20.5, 30, 30.5))",
    );
    assert!(
        s.ends_with(r#"WHERE "t1"."pos" <@ CAST('{(10d,-10.5d),(20d,20.5d),(30d,30.5d)}' AS spoly)"#),
        "{s}"
    );
    let s = sql("SELECT id FROM bench.objects WHERE 1=CONTAINS(pos, BOX(45, 0, 1.2, 5))");
    assert!(
        s.ends_with(r#"CAST('{(44.4d,-2.5d),(44.4d,2.5d),(45.6d,2.5d),(45.6d,-2.5d)}' AS spoly)"#),
        "{s}"
    );
    let s = sql("SELECT id FROM bench.objects WHERE 1=CONTAINS(pos, REGION('Circle ICRS 1 2 3'))");
    assert!(
        s.ends_with(r#"<@ scircle(spoint(radians(1), radians(2)), radians(3))"#),
        "{s}"
    );
    // Latitudes out of range are refused, longitudes wrap.
    assert!(
        error("SELECT id FROM bench.objects WHERE 1=CONTAINS(pos, CIRCLE(-10, 95, 1))")
            .message
            .contains("latitude")
    );
    sql("SELECT id FROM bench.objects WHERE 1=CONTAINS(pos, CIRCLE(-10, 5, 1))");
}

#[test]
fn geometry_output_is_dali_arrays_with_xtypes() {
    let t = translate(
        "SELECT pos, CIRCLE(ra, dec, 1) AS c, POLYGON(1,2, 3,4, 5,6) AS p FROM bench.objects",
        &catalog(),
        &UdfRegistry::standard(),
    )
    .expect("translates");
    assert!(t.sql.starts_with(r#"SELECT CASE WHEN ("t1"."pos") IS NULL THEN NULL ELSE ARRAY[degrees(long("t1"."pos")), degrees(lat("t1"."pos"))] END AS "pos""#), "{}", t.sql);
    let x: Vec<(&str, Option<&str>, Option<&str>)> = t
        .columns
        .iter()
        .map(|c| (c.datatype, c.arraysize.as_deref(), c.xtype))
        .collect();
    assert_eq!(
        x,
        vec![
            ("double", Some("2"), Some("point")),
            ("double", Some("3"), Some("circle")),
            ("double", Some("*"), Some("polygon"))
        ]
    );
    // Inside a subquery, geometry stays a pgSphere value.
    let s = sql("SELECT q.p FROM (SELECT pos AS p FROM bench.objects) AS q");
    assert!(
        s.contains(r#"(SELECT "t1"."pos" AS "p" FROM "bench"."objects" AS "t1") AS "t2""#),
        "{s}"
    );
}

#[test]
fn maths_are_mapped_to_postgresql() {
    let s = sql("SELECT LOG(ra), LOG10(ra), RAND(), ROUND(ra, 2), TRUNCATE(ra, 1), MOD(ra, 3), MOD(id, 3), PI(), POWER(mag, 2) FROM bench.objects");
    for part in [
        r#"ln("t1"."ra") AS "log""#,
        r#"log("t1"."ra") AS "log10""#,
        r#"random() AS "rand""#,
        r#"CAST(round(CAST("t1"."ra" AS numeric), 2) AS double precision) AS "round""#,
        r#"CAST(trunc(CAST("t1"."ra" AS numeric), 1) AS double precision) AS "truncate""#,
        r#"CAST(mod(CAST("t1"."ra" AS numeric), CAST(3 AS numeric)) AS double precision) AS "mod""#,
        r#"mod("t1"."id", 3) AS "mod_2""#,
        r#"pi() AS "pi""#,
        r#"power(CAST("t1"."mag" AS double precision), CAST(2 AS double precision)) AS "power""#,
    ] {
        assert!(s.contains(part), "{part} not in {s}");
    }
}

#[test]
fn aggregates_have_declared_types() {
    let t = translate(
        "SELECT COUNT(*), AVG(mag), SUM(id), MAX(mag), COUNT(DISTINCT ra) FROM bench.objects GROUP BY dec HAVING COUNT(*) > 1",
        &catalog(),
        &UdfRegistry::standard(),
    )
    .expect("translates");
    assert!(
        t.sql
            .contains(r#"CAST(avg("t1"."mag") AS double precision) AS "avg""#),
        "{}",
        t.sql
    );
    assert!(
        t.sql.contains(r#"CAST(sum("t1"."id") AS bigint) AS "sum""#),
        "{}",
        t.sql
    );
    assert!(
        t.sql.contains(r#"count(DISTINCT "t1"."ra") AS "count_2""#),
        "{}",
        t.sql
    );
    let types: Vec<&str> = t.columns.iter().map(|c| c.datatype).collect();
    assert_eq!(types, vec!["long", "double", "long", "float", "long"]);
    assert_eq!(t.columns[3].unit.as_deref(), Some("mag"));
}

#[test]
fn output_names_are_unique_and_metadata_is_copied() {
    let t = translate(
        "SELECT ra, RA, dec AS ra FROM bench.objects",
        &catalog(),
        &UdfRegistry::standard(),
    )
    .expect("ok");
    let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["ra", "ra_2", "ra_3"]);
    assert_eq!(t.columns[0].ucd.as_deref(), Some("pos.eq.ra;meta.main"));
    assert_eq!(t.columns[0].unit.as_deref(), Some("deg"));
}

#[test]
fn joins_sets_subqueries_and_ctes() {
    assert_eq!(
        sql("SELECT o.id, g.source_id FROM bench.objects AS o JOIN gaiadr1.gaia_source AS g ON o.id = g.source_id"),
        r#"SELECT "t1"."id" AS "id", "t2"."source_id" AS "source_id" FROM "bench"."objects" AS "t1" JOIN "gaiadr1"."gaia_source" AS "t2" ON "t1"."id" = "t2"."source_id""#
    );
    assert_eq!(
        sql("SELECT id FROM bench.objects JOIN other.objects USING (id)"),
        r#"SELECT "id" AS "id" FROM "bench"."objects" AS "t1" JOIN "other"."objects" AS "t2" USING ("id")"#
    );
    assert_eq!(
        sql("SELECT TOP 3 id FROM bench.objects UNION ALL SELECT id FROM other.objects ORDER BY 1"),
        r#"(SELECT "t1"."id" AS "id" FROM "bench"."objects" AS "t1" LIMIT 3) UNION ALL SELECT "t2"."id" AS "id" FROM "other"."objects" AS "t2" ORDER BY 1 ASC"#
    );
    assert_eq!(
        sql("WITH b AS (SELECT id, mag FROM bench.objects WHERE mag < 10) SELECT b.id FROM b"),
        r#"WITH "c2" AS (SELECT "t1"."id" AS "id", "t1"."mag" AS "mag" FROM "bench"."objects" AS "t1" WHERE "t1"."mag" < 10) SELECT "t3"."id" AS "id" FROM "c2" AS "t3""#
    );
    let s = sql("SELECT id FROM bench.objects AS o WHERE EXISTS (SELECT 1 AS one FROM other.objects AS x WHERE x.id = o.id)");
    assert!(
        s.contains(
            r#"WHERE EXISTS (SELECT 1 AS "one" FROM "other"."objects" AS "t2" WHERE "t2"."id" = "t1"."id")"#
        ),
        "{s}"
    );
    // A JOIN without a condition is a cross join (2.1 grammar; docs/adql.md).
    assert!(sql("SELECT o.id FROM bench.objects AS o JOIN other.objects AS p").contains("CROSS JOIN"));
}

#[test]
fn udfs_become_predicates_when_compared_with_one() {
    let s = sql("SELECT id FROM bench.objects WHERE 1 = ivo_hasword(user, 'galaxy')");
    assert!(
        s.ends_with(
            r#"WHERE to_tsvector('english', ("t1"."user")) @@ plainto_tsquery('english', ('galaxy'))"#
        ),
        "{s}"
    );
    let s = sql("SELECT ivo_healpix_index(6, ra, dec) AS h FROM bench.objects");
    assert!(
        s.contains("healpix_nest((6), spoint(radians((\"t1\".\"ra\")), radians((\"t1\".\"dec\"))))"),
        "{s}"
    );
}

#[test]
fn in_unit_converts_with_the_column_unit() {
    let t = translate(
        "SELECT IN_UNIT(ra, 'rad') AS r FROM bench.objects",
        &catalog(),
        &UdfRegistry::standard(),
    )
    .expect("ok");
    assert!(
        t.sql.contains(r#"("t1"."ra" * 1.7453292519943295e-2) AS "r""#),
        "{}",
        t.sql
    );
    assert_eq!(t.columns[0].unit.as_deref(), Some("rad"));
}

#[test]
fn in_unit_follows_units_through_arithmetic() {
    // mas/yr-style: sqrt(ra² + dec²) keeps degrees; deg → arcsec is 3600.
    let t = translate(
        "SELECT IN_UNIT(sqrt(power(ra, 2) + power(dec, 2)), 'arcsec') AS r, IN_UNIT(2 * ra, 'rad') AS s FROM bench.objects",
        &catalog(),
        &UdfRegistry::standard(),
    )
    .expect("ok");
    assert!(t.sql.contains("* 3.6e3) AS \"r\""), "{}", t.sql);
    assert_eq!(t.columns[0].unit.as_deref(), Some("arcsec"));
    // A sum of different units has none.
    let e = error("SELECT IN_UNIT(ra + mag, 'deg') FROM bench.objects");
    assert!(e.message.contains("known unit"), "{e}");
}

#[test]
fn uploaded_tables_are_read_from_where_they_really_are() {
    let mut tables = catalog().tables;
    let mut upload = Table::new(
        Some("TAP_UPLOAD"),
        "mine",
        vec![
            Column::new("ra", AdqlType::Double),
            Column::new("dec", AdqlType::Double),
        ],
    );
    upload.physical = Some(r#"pg_temp."tapir_upload_mine""#.into());
    tables.push(upload);
    let t = translate(
        "SELECT TOP 1 m.ra, o.id FROM tap_upload.mine AS m JOIN bench.objects AS o ON o.ra = m.ra",
        &MemoryCatalog::new(tables),
        &UdfRegistry::standard(),
    )
    .expect("translates");
    assert!(
        t.sql.contains(r#"FROM pg_temp."tapir_upload_mine" AS "t1""#),
        "{}",
        t.sql
    );
    assert!(!t.sql.contains("TAP_UPLOAD"), "{}", t.sql);
}

#[test]
fn boolean_columns_are_values() {
    let mut tables = catalog().tables;
    tables.push(Table::new(
        Some("bench"),
        "flags",
        vec![
            Column::new("id", AdqlType::BigInt),
            Column::new("ok", AdqlType::Boolean),
        ],
    ));
    let cat = MemoryCatalog::new(tables);
    let t = translate("SELECT id, ok FROM bench.flags", &cat, &UdfRegistry::standard()).expect("translates");
    assert_eq!(t.columns[1].datatype, "boolean");
    assert!(t.sql.contains(r#""t1"."ok" AS "ok""#), "{}", t.sql);
    // A predicate is still no value.
    let e =
        translate("SELECT id = 1 FROM bench.flags", &cat, &UdfRegistry::standard()).expect_err("rejected");
    assert_eq!(e.kind, ErrorKind::Type, "{e}");
    // A boolean column is filtered by comparing it with 1 or 0 (true, false).
    let t = translate(
        "SELECT id FROM bench.flags WHERE ok = 1 OR 0 <> ok",
        &cat,
        &UdfRegistry::standard(),
    )
    .expect("translates");
    assert!(
        t.sql.contains(r#""t1"."ok" = true OR false <> "t1"."ok""#),
        "{}",
        t.sql
    );
    for refused in [
        "SELECT id FROM bench.flags WHERE ok = 2",
        "SELECT id FROM bench.flags WHERE ok > 0",
        "SELECT id FROM bench.flags WHERE ok = 'true'",
    ] {
        let e = translate(refused, &cat, &UdfRegistry::standard()).expect_err(refused);
        assert_eq!(e.kind, ErrorKind::Type, "{refused}: {e}");
    }
}

/// The catalogue plus a table with a column of every kind `||` must decide about.
fn kinds_catalog() -> MemoryCatalog {
    let mut tables = catalog().tables;
    // Arraysizes as TAP_SCHEMA gives them: an array of doubles, and the VOTable forms of a
    // time, bytes and a polygon (which do not make those arrays).
    let sized = |name: &str, ty: AdqlType, size: &str| {
        let mut c = Column::new(name, ty);
        c.arraysize = Some(size.into());
        c
    };
    tables.push(Table::new(
        Some("bench"),
        "kinds",
        vec![
            Column::new("id", AdqlType::Integer),
            Column::new("small", AdqlType::SmallInt),
            Column::new("ok", AdqlType::Boolean),
            sized("seen", AdqlType::Timestamp, "*"),
            sized("raw", AdqlType::Blob, "*"),
            sized("shape", AdqlType::Polygon, "*"),
            Column::new("footprint", AdqlType::Region),
            sized("samples", AdqlType::Double, "*"),
            sized("scalar", AdqlType::Double, "1"),
        ],
    ));
    MemoryCatalog::new(tables)
}

fn kinds(q: &str) -> adql::Translation {
    match translate(q, &kinds_catalog(), &UdfRegistry::standard()) {
        Ok(t) => t,
        Err(e) => panic!("{q}: {e}"),
    }
}

fn kinds_error(q: &str) -> adql::AdqlError {
    match translate(q, &kinds_catalog(), &UdfRegistry::standard()) {
        Ok(t) => panic!("accepted {q}: {}", t.sql),
        Err(e) => e,
    }
}

/// docs/adql.md, "Concatenation": a number joined with `||` becomes PostgreSQL's text for
/// it (as on DaCHS), and the result is a string of any length.
#[test]
fn concatenation_converts_numbers_to_text() {
    let t = translate(
        r#"SELECT user || '/' || id, user || '/' || "Size" AS s FROM bench.objects"#,
        &catalog(),
        &UdfRegistry::standard(),
    )
    .expect("translates");
    assert_eq!(
        t.sql,
        r#"SELECT "t1"."user" || '/' || CAST("t1"."id" AS text) AS "expr", "t1"."user" || '/' || CAST("t1"."Size" AS text) AS "s" FROM "bench"."objects" AS "t1""#
    );
    for c in &t.columns {
        assert_eq!(c.ty, AdqlType::VarChar(None), "{}", c.name);
        assert_eq!(
            (c.datatype, c.arraysize.as_deref(), c.xtype, c.unit.as_deref()),
            ("char", Some("*"), None, None),
            "{}",
            c.name
        );
    }
    // Numbers on both sides, literals as written (PostgreSQL reads them as numeric), signs.
    assert_eq!(
        sql("SELECT 1 || 2, -1 || 'x', 0.1 || '', '' || 1e20 FROM bench.objects"),
        r#"SELECT CAST(1 AS text) || CAST(2 AS text) AS "expr", CAST(-1 AS text) || 'x' AS "expr_2", CAST(0.1 AS text) || '' AS "expr_3", '' || CAST(1e20 AS text) AS "expr_4" FROM "bench"."objects" AS "t1""#
    );
    // Arithmetic binds tighter than || (PostgreSQL's precedence): the whole sum is converted.
    assert_eq!(
        sql("SELECT mag + 1 || ' mag', ra * 2 || '', 'r=' || -ra FROM bench.objects"),
        r#"SELECT CAST("t1"."mag" + 1 AS text) || ' mag' AS "expr", CAST("t1"."ra" * 2 AS text) || '' AS "expr_2", 'r=' || CAST(-"t1"."ra" AS text) AS "expr_3" FROM "bench"."objects" AS "t1""#
    );
    // Parenthesised chains stay strings; functions, aggregates and NULL.
    assert_eq!(
        sql(
            r#"SELECT '[' || (id || '/' || "Size") || ']', UPPER(user || id), COUNT(*) || ' rows', NULL || id FROM bench.objects"#
        ),
        r#"SELECT '[' || (CAST("t1"."id" AS text) || '/' || CAST("t1"."Size" AS text)) || ']' AS "expr", upper("t1"."user" || CAST("t1"."id" AS text)) AS "upper", CAST(count(*) AS text) || ' rows' AS "expr_2", NULL || CAST("t1"."id" AS text) AS "expr_3" FROM "bench"."objects" AS "t1""#
    );
    // In WHERE and ORDER BY.
    assert_eq!(
        sql("SELECT id FROM bench.objects WHERE user || id = 'a1' OR id || '' LIKE '1%' ORDER BY user || '/' || mag"),
        r#"SELECT "t1"."id" AS "id" FROM "bench"."objects" AS "t1" WHERE "t1"."user" || CAST("t1"."id" AS text) = 'a1' OR CAST("t1"."id" AS text) || '' LIKE '1%' ORDER BY "t1"."user" || '/' || CAST("t1"."mag" AS text) ASC"#
    );
    // A boolean column prints as true or false.
    assert_eq!(
        kinds("SELECT 'ok=' || ok, small || '', scalar || '' FROM bench.kinds").sql,
        r#"SELECT 'ok=' || CAST("t1"."ok" AS text) AS "expr", CAST("t1"."small" AS text) || '' AS "expr_2", CAST("t1"."scalar" AS text) || '' AS "expr_3" FROM "bench"."kinds" AS "t1""#
    );
}

/// docs/adql.md, "Concatenation": what has no sensible text form stays a type error that
/// names the operand and says why.
#[test]
fn concatenation_refuses_what_has_no_text_form() {
    for (q, message, column) in [
        (
            "SELECT pos || 'x' FROM bench.objects",
            "the left operand of || is a POINT, which has no text form",
            8,
        ),
        (
            "SELECT 'x' || CIRCLE(ra, dec, 1) FROM bench.objects",
            "the right operand of || is a CIRCLE, which has no text form",
            15,
        ),
        (
            "SELECT id || '' || shape FROM bench.kinds",
            "the right operand of || is a POLYGON, which has no text form",
            20,
        ),
        (
            "SELECT footprint || '' FROM bench.kinds",
            "the left operand of || is a REGION, which has no text form",
            8,
        ),
        (
            "SELECT 'x' || raw FROM bench.kinds",
            "the right operand of || is a BLOB, which has no text form",
            15,
        ),
        (
            "SELECT 'seen ' || seen FROM bench.kinds",
            "the right operand of || is a TIMESTAMP, which is not converted to text implicitly: \
             PostgreSQL's text for a time depends on the server's DateStyle and is not the ISO 8601 \
             form of the results",
            19,
        ),
        (
            "SELECT samples || '' FROM bench.kinds",
            "the left operand of || is an array of DOUBLE PRECISION, which has no text form",
            8,
        ),
        (
            "SELECT 'x' || (id = 1) FROM bench.kinds",
            "the right operand of || is a condition, not a value",
            16,
        ),
    ] {
        let e = kinds_error(q);
        assert_eq!(e.kind, ErrorKind::Type, "{q}: {e}");
        assert_eq!(e.message, message, "{q}");
        let p = e.position.expect("position");
        assert_eq!((p.line, p.column), (1, column), "{q}: {e}");
    }
    // The hints say what to write instead.
    assert_eq!(
        kinds_error("SELECT 'seen ' || seen FROM bench.kinds")
            .hint
            .as_deref(),
        Some("write CAST(... AS VARCHAR) to join PostgreSQL's text for it")
    );
    assert_eq!(
        kinds_error("SELECT pos || '' FROM bench.objects").hint.as_deref(),
        Some("select the geometry as a column of its own; for a point, join COORD1(...) and COORD2(...)")
    );
    // The explicit conversion of a time is accepted.
    assert_eq!(
        kinds("SELECT 'seen ' || CAST(seen AS VARCHAR) FROM bench.kinds").sql,
        r#"SELECT 'seen ' || CAST("t1"."seen" AS varchar) AS "expr" FROM "bench"."kinds" AS "t1""#
    );
}

/// Issue 12: bounds and strictness that protect a public service.
#[test]
fn relations_comments_and_catalogue_prefixes() {
    let cat = catalog();
    let udfs = UdfRegistry::standard();
    let join = |n: usize| {
        let mut q = String::from("SELECT t0.id FROM bench.objects AS t0");
        for i in 1..n {
            q.push_str(&format!(" JOIN bench.objects AS t{i} ON t{i}.id = t0.id"));
        }
        q
    };
    assert!(translate(&join(16), &cat, &udfs).is_ok(), "16 relations are fine");
    let e = translate(&join(17), &cat, &udfs).expect_err("17 relations");
    assert_eq!(e.kind, ErrorKind::Unsupported, "{e}");
    assert!(e.message.contains("more than 16 tables and subqueries"), "{e}");
    assert!(e.position.is_some(), "{e:?}");
    let e = translate("SELECT id /* the key */ FROM bench.objects", &cat, &udfs).expect_err("block comment");
    assert!(e.message.contains("no /* */ comments"), "{e}");
    assert_eq!(e.position.map(|p| p.column), Some(11), "{e:?}");
    assert!(translate("SELECT id -- the key\nFROM bench.objects", &cat, &udfs).is_ok());
    let e = translate("SELECT id FROM pg_catalog.bench.objects", &cat, &udfs).expect_err("catalogue");
    assert!(e.message.contains("names a catalogue ('pg_catalog')"), "{e}");
}
