-- How far an EXECUTING job has got, for its `uws:jobInfo` (rows and bytes of result written so
-- far). The worker running the job writes them at most twice a second, only when they changed,
-- so a job costs no database write per row; any Tapir process serving the job document reads
-- them. The phase trigger fires on phase changes only, so these updates wake no WAIT.
ALTER TABLE tapir.jobs
    ADD COLUMN progress_rows bigint,
    ADD COLUMN progress_bytes bigint;
