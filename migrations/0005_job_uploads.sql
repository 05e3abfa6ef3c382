-- Inline uploads of async jobs (UP-03, UP-06): the file parts posted with a job (at creation
-- or later to /parameters), kept until the job runs and as long as the job exists, so that any
-- process sharing the store can run it. They go with their job (ON DELETE CASCADE).
CREATE TABLE tapir.job_uploads (
    job_id text NOT NULL REFERENCES tapir.jobs (job_id) ON DELETE CASCADE,
    part text NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (job_id, part)
);
