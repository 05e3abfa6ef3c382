-- gaiadr1.gaia_source: 5,000 synthetic sources with the columns of Gaia DR1, deterministic
-- (md5 of 'gaia:<i>:1' and 'gaia:<i>:2', as for bench.objects). Sources 1..1000 fill a
-- 0.5 x 0.5 degree field centred on Sgr A* (266.41683, -29.00781), so the archive's example
-- cone of 5 arcmin there finds about 90 of them; the others are spread over the whole sky.
-- As in DR1, only one source in five (the TGAS subset) has a parallax and proper motion.
-- source_id follows Gaia's scheme: HEALPix level-12 nested index * 2^35 + a running number.
INSERT INTO gaiadr1.gaia_source (
    solution_id, source_id, random_index, ref_epoch, ra, ra_error, dec, dec_error, parallax,
    parallax_error, pmra, pmra_error, pmdec, pmdec_error, ra_dec_corr, astrometric_n_obs_al,
    astrometric_excess_noise, phot_g_n_obs, phot_g_mean_flux, phot_g_mean_flux_error, phot_g_mean_mag,
    phot_variable_flag, l, b, ecl_lon, ecl_lat)
WITH u AS (
    SELECT i,
           ('x' || substr(h1, 1, 8))::bit(32)::bigint / 4294967296.0::float8 AS a,
           ('x' || substr(h1, 9, 8))::bit(32)::bigint / 4294967296.0::float8 AS b,
           ('x' || substr(h1, 17, 8))::bit(32)::bigint / 4294967296.0::float8 AS c,
           ('x' || substr(h1, 25, 8))::bit(32)::bigint / 4294967296.0::float8 AS d,
           ('x' || substr(h2, 1, 8))::bit(32)::bigint / 4294967296.0::float8 AS e,
           ('x' || substr(h2, 9, 8))::bit(32)::bigint / 4294967296.0::float8 AS f,
           ('x' || substr(h2, 17, 8))::bit(32)::bigint / 4294967296.0::float8 AS g,
           ('x' || substr(h2, 25, 8))::bit(32)::bigint / 4294967296.0::float8 AS h
    FROM (
        SELECT i, md5('gaia:' || i || ':1') AS h1, md5('gaia:' || i || ':2') AS h2
        FROM generate_series(1, 5000) AS i
    ) AS hashes
), declination AS (
    SELECT u.*,
           CASE WHEN i <= 1000 THEN -29.00781 + 0.5 * (b - 0.5) ELSE degrees(asin(2 * b - 1)) END AS dec
    FROM u
), p AS (
    SELECT declination.*,
           CASE WHEN i <= 1000 THEN 266.41683 + 0.5 * (a - 0.5) / cosd(dec) ELSE 360 * a END AS ra,
           12 + 9 * sqrt(c) AS mag,
           i % 5 = 0 AS tgas
    FROM declination
), galactic AS (
    -- ICRS to galactic: north galactic pole (192.85948, 27.12825), l of the celestial pole 122.93192
    SELECT p.*,
           asind(sind(dec) * sind(27.12825) + cosd(dec) * cosd(27.12825) * cosd(ra - 192.85948)) AS gb,
           122.93192 - atan2d(cosd(dec) * sind(ra - 192.85948),
                              sind(dec) * cosd(27.12825) - cosd(dec) * sind(27.12825) * cosd(ra - 192.85948))
               AS gl,
           -- ICRS to ecliptic, obliquity 23.4392911
           asind(sind(dec) * cosd(23.4392911) - cosd(dec) * sind(23.4392911) * sind(ra)) AS eb,
           atan2d(sind(ra) * cosd(dec) * cosd(23.4392911) + sind(dec) * sind(23.4392911), cosd(ra) * cosd(dec))
               AS el
    FROM p
)
SELECT 1635378410781933568,
       healpix_nest(12, spoint(radians(ra), radians(dec))) * 34359738368 + i,
       (i * 2039) % 5000,
       2015.0,
       ra,
       0.1 + 2 * d ^ 2,
       dec,
       0.1 + 2 * e ^ 2,
       CASE WHEN tgas THEN 0.2 + 10 * f ^ 3 END,
       CASE WHEN tgas THEN 0.2 + 0.3 * g END,
       CASE WHEN tgas THEN 80 * (g - 0.5) END,
       CASE WHEN tgas THEN 0.5 + 2 * h END,
       CASE WHEN tgas THEN 80 * (h - 0.5) END,
       CASE WHEN tgas THEN 0.5 + 2 * e END,
       ((2 * f - 1) * 0.6)::real,
       50 + floor(300 * h)::integer,
       0.5 * h ^ 2,
       30 + floor(200 * g)::integer,
       power(10, (25.525 - mag) / 2.5),
       power(10, (25.525 - mag) / 2.5) * 0.001 * (1 + 9 * d),
       mag,
       CASE WHEN d < 0.01 THEN 'VARIABLE' ELSE 'NOT_AVAILABLE' END,
       gl - 360 * floor(gl / 360),
       gb,
       el - 360 * floor(el / 360),
       eb
FROM galactic;

CREATE INDEX gaia_source_pos ON gaiadr1.gaia_source USING gist (spoint(radians(ra), radians(dec)));
CREATE INDEX gaia_source_mag ON gaiadr1.gaia_source (phot_g_mean_mag);
