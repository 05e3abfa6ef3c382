-- The two tables of GAVO's TAP client example: neutrino candidates from AMANDA-II, and
-- PPMXL stars, some within a quarter of a degree of every candidate with nch > 100, so that
-- the example's crossmatch (PPMXL JOIN an upload of those candidates) finds stars.
INSERT INTO amanda.nucand (id, mjd, nualpha, nudelta, nch, sigma)
SELECT i,
       51544 + 2000 * e,
       360 * a,
       degrees(asin(0.05 + 0.95 * b)),   -- AMANDA saw the northern sky
       15 + floor(190 * c ^ 3)::integer,
       1.5 + 2.5 * d
FROM (
    SELECT i,
           ('x' || substr(h, 1, 8))::bit(32)::bigint / 4294967296.0::float8 AS a,
           ('x' || substr(h, 9, 8))::bit(32)::bigint / 4294967296.0::float8 AS b,
           ('x' || substr(h, 17, 8))::bit(32)::bigint / 4294967296.0::float8 AS c,
           ('x' || substr(h, 25, 8))::bit(32)::bigint / 4294967296.0::float8 AS d,
           ('x' || substr(md5('amanda:' || i || ':2'), 1, 8))::bit(32)::bigint / 4294967296.0::float8 AS e
    FROM (SELECT i, md5('amanda:' || i || ':1') AS h FROM generate_series(1, 200) AS i) AS hashes
) AS u;

INSERT INTO ppmxl.main (ipix, raj2000, dej2000, e_raj2000, e_dej2000, pmra, pmde, jmag, hmag, kmag, b1mag, r1mag)
SELECT 100000000 + row_number() OVER (ORDER BY s.origin, s.k),
       s.ra - 360 * floor(s.ra / 360),
       s.dec,
       20 + 100 * s.c,
       20 + 100 * s.d,
       40 * (s.c - 0.5),
       40 * (s.d - 0.5),
       (9 + 7 * s.e)::real,
       (8.8 + 7 * s.e)::real,
       (8.7 + 7 * s.e)::real,
       (11 + 8 * s.e)::real,
       (10 + 7.5 * s.e)::real
FROM (
    -- 12 stars in a box of +-0.14 degrees (inside 0.2 degrees) around each bright candidate
    SELECT n.id AS origin,
           k,
           n.nualpha + 0.28 * (x.a - 0.5) / cosd(least(n.nudelta, 89.0)) AS ra,
           least(n.nudelta + 0.28 * (x.b - 0.5), 89.99) AS dec,
           x.c, x.d, x.e
    FROM amanda.nucand AS n
    CROSS JOIN generate_series(1, 12) AS k
    CROSS JOIN LATERAL (
        SELECT ('x' || substr(h, 1, 8))::bit(32)::bigint / 4294967296.0::float8 AS a,
               ('x' || substr(h, 9, 8))::bit(32)::bigint / 4294967296.0::float8 AS b,
               ('x' || substr(h, 17, 8))::bit(32)::bigint / 4294967296.0::float8 AS c,
               ('x' || substr(h, 25, 8))::bit(32)::bigint / 4294967296.0::float8 AS d,
               ('x' || substr(md5(h), 1, 8))::bit(32)::bigint / 4294967296.0::float8 AS e
        FROM (SELECT md5('ppmxl:' || n.id || ':' || k) AS h) AS hashes
    ) AS x
    WHERE n.nch > 100
    UNION ALL
    -- and 2,000 more all over the sky
    SELECT 1000 + k,
           0,
           360 * x.a,
           degrees(asin(2 * x.b - 1)),
           x.c, x.d, x.e
    FROM generate_series(1, 2000) AS k
    CROSS JOIN LATERAL (
        SELECT ('x' || substr(h, 1, 8))::bit(32)::bigint / 4294967296.0::float8 AS a,
               ('x' || substr(h, 9, 8))::bit(32)::bigint / 4294967296.0::float8 AS b,
               ('x' || substr(h, 17, 8))::bit(32)::bigint / 4294967296.0::float8 AS c,
               ('x' || substr(h, 25, 8))::bit(32)::bigint / 4294967296.0::float8 AS d,
               ('x' || substr(md5(h), 1, 8))::bit(32)::bigint / 4294967296.0::float8 AS e
        FROM (SELECT md5('ppmxl:sky:' || k) AS h) AS hashes
    ) AS x
) AS s;

CREATE INDEX nucand_pos ON amanda.nucand USING gist (spoint(radians(nualpha), radians(nudelta)));
CREATE INDEX main_pos ON ppmxl.main USING gist (spoint(radians(raj2000), radians(dej2000)));
