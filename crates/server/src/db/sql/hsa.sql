-- hsa.v_active_observation: 30 Herschel observations, for the Gaia archive's example of a
-- query forwarded to the Herschel Science Archive (which, replayed here, runs locally).
INSERT INTO hsa.v_active_observation (
    observation_id, od, target_name, instrument, observing_mode, ra, dec, start_time, end_time, duration,
    proposal_id)
SELECT 1342180000 + 731 * i,
       150 + 40 * i,
       t.target,
       t.instrument,
       t.mode,
       t.ra,
       t.dec,
       timestamp '2009-05-14' + (150 + 40 * i) * interval '1 day' + i * interval '37 minutes',
       timestamp '2009-05-14' + (150 + 40 * i) * interval '1 day' + i * interval '37 minutes'
           + (600 + 97 * i) * interval '1 second',
       600 + 97 * i,
       t.proposal
FROM (VALUES
    (1, 'M51', 'PACS', 'PacsPhoto', 202.46958, 47.19528, 'KPGT_rkennicu_1'),
    (2, 'M51', 'SPIRE', 'SpirePhotoLargeScan', 202.46958, 47.19528, 'KPGT_rkennicu_1'),
    (3, 'Orion Bar', 'HIFI', 'HifiPointModeDBS', 83.83625, -5.41944, 'KPGT_evandish_1'),
    (4, 'Orion KL', 'HIFI', 'HifiSScanModeDBS', 83.80917, -5.37250, 'KPGT_evandish_1'),
    (5, 'Orion KL', 'PACS', 'PacsRangeSpec', 83.80917, -5.37250, 'KPGT_evandish_1'),
    (6, 'Sgr B2(M)', 'HIFI', 'HifiSScanModeDBS', 266.83500, -28.38500, 'KPGT_evandish_1'),
    (7, 'Galactic Centre', 'PACS', 'PacsSpirePhotoParallel', 266.41683, -29.00781, 'KPOT_smolinar_1'),
    (8, 'Galactic Centre', 'SPIRE', 'PacsSpirePhotoParallel', 266.41683, -29.00781, 'KPOT_smolinar_1'),
    (9, 'Arp 220', 'SPIRE', 'SpireFts', 233.73843, 23.50320, 'KPGT_cwilso01_1'),
    (10, 'Mrk 231', 'PACS', 'PacsRangeSpec', 194.05931, 56.87368, 'KPGT_esturm_1'),
    (11, 'NGC 1068', 'PACS', 'PacsLineSpec', 40.66963, -0.01328, 'KPGT_esturm_1'),
    (12, 'NGC 1068', 'SPIRE', 'SpireFts', 40.66963, -0.01328, 'KPGT_cwilso01_1'),
    (13, 'IRC+10216', 'HIFI', 'HifiSScanModeDBS', 146.98917, 13.27889, 'KPGT_jcernich_1'),
    (14, 'IRC+10216', 'PACS', 'PacsPhoto', 146.98917, 13.27889, 'KPGT_jcernich_1'),
    (15, 'Eta Carinae', 'PACS', 'PacsRangeSpec', 161.26496, -59.68448, 'OT1_tgull_1'),
    (16, 'Crab Nebula', 'PACS', 'PacsPhoto', 83.63308, 22.01450, 'OT1_hgomez_1'),
    (17, 'Cas A', 'SPIRE', 'SpirePhotoLargeScan', 350.85000, 58.81500, 'OT1_hgomez_1'),
    (18, 'TW Hya', 'PACS', 'PacsLineSpec', 165.46625, -34.70472, 'KPOT_bdent_1'),
    (19, 'TW Hya', 'HIFI', 'HifiPointModeDBS', 165.46625, -34.70472, 'OT1_ebergin_1'),
    (20, 'HD 100546', 'PACS', 'PacsRangeSpec', 173.35558, -70.19477, 'KPOT_bdent_1'),
    (21, 'Vega', 'PACS', 'PacsPhoto', 279.23473, 38.78369, 'KPGT_bmatthew_1'),
    (22, 'Fomalhaut', 'PACS', 'PacsPhoto', 344.41269, -29.62224, 'KPGT_bmatthew_1'),
    (23, 'M82', 'SPIRE', 'SpireFts', 148.96846, 69.67970, 'KPGT_cwilso01_1'),
    (24, 'M82', 'PACS', 'PacsRangeSpec', 148.96846, 69.67970, 'KPGT_esturm_1'),
    (25, 'Rho Oph', 'SPIRE', 'PacsSpirePhotoParallel', 246.79000, -24.50000, 'KPGT_pandre_1'),
    (26, 'Taurus L1495', 'PACS', 'PacsSpirePhotoParallel', 64.50000, 28.00000, 'KPGT_pandre_1'),
    (27, 'Aquila rift', 'SPIRE', 'PacsSpirePhotoParallel', 277.50000, -2.50000, 'KPGT_pandre_1'),
    (28, 'LMC N159', 'PACS', 'PacsLineSpec', 85.05000, -69.76000, 'OT1_mmeixner_1'),
    (29, 'GOODS-N', 'PACS', 'PacsPhoto', 189.22863, 62.23811, 'KPGT_delbaz_1'),
    (30, 'GOODS-S', 'PACS', 'PacsPhoto', 53.12265, -27.80587, 'KPGT_delbaz_1')
) AS t(i, target, instrument, mode, ra, dec, proposal);

CREATE INDEX v_active_observation_pos ON hsa.v_active_observation USING gist (spoint(radians(ra), radians(dec)));
