-- UWS jobs (TAP §2.3, UWS 1.1): the durable job store shared by every Tapir process that
-- serves this database.
--
-- Phases are the UWS words. Which transitions are legal is decided in one place, the `uws`
-- crate; the statements that change a phase always name the phase they expect to find
-- (`WHERE phase = ...`), so a concurrent change by another process wins cleanly instead of
-- being overwritten.
CREATE TABLE tapir.jobs (
    job_id text PRIMARY KEY,
    run_id text,
    owner_id text,
    phase text NOT NULL,
    creation_time timestamptz NOT NULL DEFAULT clock_timestamp(),
    start_time timestamptz,
    end_time timestamptz,
    execution_duration bigint NOT NULL,     -- seconds granted (never 0: 0 asks for the maximum)
    destruction timestamptz NOT NULL,
    quote timestamptz,
    -- The parameters as posted, in order, names upper-cased (single-valued ones replaced).
    param_names text[] NOT NULL DEFAULT '{}',
    param_values text[] NOT NULL DEFAULT '{}',
    queued_at timestamptz,
    error_message text,
    -- The result file (relative to the results directory) and what it holds.
    result_file text,
    result_mime text,
    result_rows bigint,
    result_bytes bigint,
    result_overflow boolean,
    runs integer NOT NULL DEFAULT 0,        -- how often a worker claimed it (exactly once, we hope)
    process_id text                         -- the process executing it
);
CREATE INDEX jobs_by_creation ON tapir.jobs (creation_time DESC);
CREATE INDEX jobs_queue ON tapir.jobs (queued_at) WHERE phase = 'QUEUED';
CREATE INDEX jobs_by_destruction ON tapir.jobs (destruction);
CREATE INDEX jobs_executing ON tapir.jobs (process_id) WHERE phase = 'EXECUTING';

-- Live Tapir processes: a heartbeat each, so that the others can tell when one has died and
-- end its EXECUTING jobs.
CREATE TABLE tapir.processes (
    process_id text PRIMARY KEY,
    host text NOT NULL,
    pid integer NOT NULL,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    heartbeat timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Every phase change (and every deletion) is announced on the channel `tapir_jobs` as
-- '<job_id> <PHASE>' ('<job_id> DELETED'): blocking WAITs return at once, idle workers wake
-- for QUEUED jobs, and the process running an aborted job cancels its query, whichever
-- process made the change.
CREATE FUNCTION tapir.announce_job() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('tapir_jobs', OLD.job_id || ' DELETED');
        RETURN OLD;
    END IF;
    PERFORM pg_notify('tapir_jobs', NEW.job_id || ' ' || NEW.phase);
    RETURN NEW;
END
$$;
CREATE TRIGGER jobs_announce_insert AFTER INSERT OR DELETE ON tapir.jobs
    FOR EACH ROW EXECUTE FUNCTION tapir.announce_job();
CREATE TRIGGER jobs_announce_phase AFTER UPDATE OF phase ON tapir.jobs
    FOR EACH ROW WHEN (OLD.phase IS DISTINCT FROM NEW.phase) EXECUTE FUNCTION tapir.announce_job();
