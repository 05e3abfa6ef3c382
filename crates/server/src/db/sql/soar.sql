-- Solar Orbiter archive (SOAR) views, in the default schema. The example queries select
-- low-latency files of MAG and EPD, or RPW and SWA, starting after 2020-08-29 00:00:28: here
-- every instrument has daily files from 2020-08-20 to 2020-09-09, each starting at 00:00:28.
INSERT INTO public.v_ll_data_item (
    data_item_oid, data_item_id, instrument, descriptor, "level", begin_time, end_time, filename,
    filepath, filesize, version)
SELECT 2000000 + row_number() OVER (ORDER BY f.begin_time, f.instrument, f.descriptor),
       f.item,
       f.instrument,
       f.descriptor,
       'LL02',
       f.begin_time,
       f.end_time,
       f.item || '_V02.cdf',
       'LL02/' || f.instrument || '/' || to_char(f.begin_time, 'YYYY/MM/DD'),
       200000 + ('x' || substr(md5(f.item), 1, 6))::bit(24)::integer,
       '02'
FROM (
    SELECT p.instrument,
           p.descriptor,
           day + interval '28 seconds' AS begin_time,
           day + interval '1 day 27 seconds' AS end_time,
           'solo_LL02_' || p.descriptor || '_' || to_char(day + interval '28 seconds', 'YYYYMMDD"T"HH24MISS')
               || '-' || to_char(day + interval '1 day 27 seconds', 'YYYYMMDD"T"HH24MISS') AS item
    FROM generate_series(timestamp '2020-08-20', timestamp '2020-09-09', interval '1 day') AS day
    CROSS JOIN (VALUES
        ('EPD', 'epd-ept-asun-rates'),
        ('EPD', 'epd-het-asun-rates'),
        ('EPD', 'epd-step-rates'),
        ('MAG', 'mag-srf'),
        ('RPW', 'rpw-tnr-surv'),
        ('RPW', 'rpw-lfr-surv-asm'),
        ('SWA', 'swa-pas-mom'),
        ('SWA', 'swa-eas-pad-psd')
    ) AS p(instrument, descriptor)
) AS f;

-- Monthly auxiliary files (orbit, attitude, calibration) from March to December 2020.
INSERT INTO public.v_auxiliary_file (
    instrument, descriptor, begin_time, end_time, filename, filepath, filesize, version)
SELECT p.instrument,
       p.descriptor,
       month,
       month + interval '1 month' - interval '1 second',
       'solo_ANC_' || p.descriptor || '_' || to_char(month, 'YYYYMMDD') || '-'
           || to_char(month + interval '1 month' - interval '1 day', 'YYYYMMDD') || '_V01.' || p.ext,
       'ANC/' || p.instrument || '/' || to_char(month, 'YYYY'),
       50000 + ('x' || substr(md5(p.descriptor || month::text), 1, 5))::bit(20)::integer,
       '01'
FROM generate_series(timestamp '2020-03-01', timestamp '2020-12-01', interval '1 month') AS month
CROSS JOIN (VALUES
    ('SOC', 'soc-flightdyn-orbit', 'bsp'),
    ('SOC', 'soc-attitude', 'bc'),
    ('EPD', 'epd-hk-calibration', 'cdf'),
    ('MAG', 'mag-calibration', 'cdf')
) AS p(instrument, descriptor, ext);

CREATE INDEX v_ll_data_item_begin ON public.v_ll_data_item (begin_time);
CREATE INDEX v_ll_data_item_instrument ON public.v_ll_data_item (instrument);
