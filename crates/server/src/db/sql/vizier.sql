-- A VizieR-style table whose name is a delimited identifier, for the Gaia archive's example
-- of a query forwarded to VizieR: 400 samples of a synthetic quasar spectrum (power-law
-- continuum with broad Lyman-alpha, C IV and Mg II lines at z = 2.5).
INSERT INTO public."J/A+A/605/L8/quasar_a" (recno, lambda, flux)
SELECT i,
       3500 + 15 * (i - 1),
       0.8 * power((3500 + 15 * (i - 1)) / 5000.0, -0.5)
           + 2.5 * exp(-power(((3500 + 15 * (i - 1)) - 1215.67 * 3.5) / 60, 2))
           + 1.2 * exp(-power(((3500 + 15 * (i - 1)) - 1549.06 * 3.5) / 80, 2))
           + 0.6 * exp(-power(((3500 + 15 * (i - 1)) - 2798.75 * 3.5) / 90, 2))
FROM generate_series(1, 400) AS i;
