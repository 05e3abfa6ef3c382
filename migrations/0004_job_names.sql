-- The job name of ESA TAP+ (the JOBNAME parameter, CLIENTS.md §5.2), as a column of its own,
-- so that the job search of `{base}/jobs/async` can filter (`jobname=`) and sort (`JOB_NAME`)
-- by it through an index instead of unpacking every job's parameter arrays.
--
-- A stored generated column rather than a trigger or a column the store writes: PostgreSQL
-- computes it on every INSERT and UPDATE from the arrays themselves, so it cannot disagree with
-- the parameters the job document shows (the first JOBNAME, names being stored upper-cased),
-- no statement has to remember it, and adding it fills it for the jobs that exist already.
-- An empty JOBNAME (ESA's own documents show `jobname` empty) is no name.
ALTER TABLE tapir.jobs
    ADD COLUMN job_name text
    GENERATED ALWAYS AS (NULLIF(param_values[array_position(param_names, 'JOBNAME')], '')) STORED;

-- text_pattern_ops serves both the exact match and the `LIKE 'prefix%'` of a wildcard name.
CREATE INDEX jobs_by_name ON tapir.jobs (job_name text_pattern_ops) WHERE job_name IS NOT NULL;
