"""Job calls of the clients against a running Tapir (issue 10): TapPlus's send_parameter,
abort, search_async_jobs with every filter of its Filter class and load_async_job(name=...);
pyvo reading a running job's progress from jobInfo; pyvo meeting 429 + Retry-After when the
sync connections are all busy.

Usage: python check_jobs.py http://127.0.0.1:PORT/tap http://127.0.0.1:PORT2/tap
The second service runs with one sync connection and a one-second queue wait
(TAPIR_DATABASE_SYNC_POOL=1, TAPIR_LIMITS_SYNC_QUEUE_WAIT_SECS=1).
Prints one line per check and 'N passed, N failed' last; exits non-zero on failure.
"""
import os
import sys
import tempfile
import threading
import time
import uuid

from harness import check, finish

BASE = sys.argv[1].rstrip("/")
TIGHT = sys.argv[2].rstrip("/")
# TapPlus reads stray result files from the working directory (CLIENTS.md §5.5).
os.chdir(tempfile.mkdtemp(prefix="tapir-jobs-"))

# Streams rows for many seconds: a job that is still running when it is looked at.
SLOW = "SELECT a.id, b.id AS other FROM bench.objects AS a, bench.objects AS b"
QUICK = "SELECT TOP 20 id, ra, dec FROM bench.objects ORDER BY id"


import pyvo  # noqa: E402
import requests  # noqa: E402
from astroquery.utils.tap.core import TapPlus  # noqa: E402
from astroquery.utils.tap.model.filter import Filter  # noqa: E402

tap = TapPlus(url=BASE, verbose=False)


def job_doc(jobid):
    return requests.get(f"{BASE}/async/{jobid}").text


def wait_finished(job, seconds=30):
    deadline = time.time() + seconds
    while not job.is_finished():
        assert time.time() < deadline, job.get_phase(update=True)
        time.sleep(0.2)
        job.get_phase(update=True)


@check("TapPlus send_parameter on a PENDING job, then start")
def _():
    job = tap.launch_job_async(QUICK, autorun=False)
    assert job.get_phase(update=True) == "PENDING"
    response = job.send_parameter(name="maxrec", value="7")
    assert response.status == 200, response.status
    assert '<uws:parameter id="maxrec">7</uws:parameter>' in job_doc(job.jobid)
    job.start()
    wait_finished(job)
    assert job.get_phase() == "COMPLETED", job.get_phase()
    assert len(job.get_results()) == 7


@check("TapPlus abort of a PENDING job")
def _():
    job = tap.launch_job_async(QUICK, autorun=False)
    job.abort()
    assert job.get_phase(update=True) == "ABORTED", job.get_phase()


def unique(what):
    return f"{what}-{uuid.uuid4().hex[:10]}"


@check("TapPlus search_async_jobs with every filter, load_async_job(name=)")
def _():
    name = unique("jobs-check")
    marker = unique("needle").replace("-", "_")
    done = tap.launch_job_async(f"SELECT TOP 3 id AS {marker} FROM bench.objects", name=name)
    assert done.get_phase() == "COMPLETED", done.get_phase()
    waiting = tap.launch_job_async(QUICK, name=name + "-pending", autorun=False)

    def search(**filters):
        f = Filter()
        for k, v in filters.items():
            f.add_filter(k, v)
        return [j.jobid for j in tap.search_async_jobs(jobfilter=f)]

    assert search(jobid=done.jobid) == [done.jobid]
    assert search(jobname=name) == [done.jobid]
    assert search(jobname=name + "*") == [waiting.jobid, done.jobid]
    assert done.jobid in search(phaseid="COMPLETED")
    assert done.jobid not in search(phaseid="PENDING")
    assert search(query=marker.upper()) == [done.jobid]
    assert search(query="no such text at all") == []
    assert done.jobid in search(start_time_init="2000-01-01T00:00:00Z", start_time_limit="2999-01-01")
    assert done.jobid not in search(start_time_init="2999-01-01")
    assert done.jobid in search(end_time_init=str(int((time.time() - 600) * 1000)))
    assert done.jobid not in search(end_time_limit="2000-01-01")
    assert waiting.jobid not in search(start_time_init="2000-01-01"), "never started"
    f = Filter()
    f.add_filter("jobname", name + "*")
    f.order = "CREATION_TIME:ASC"
    f.limit = 1
    f.offset = 1
    f.metadataOnly = False
    paged = tap.search_async_jobs(jobfilter=f)
    assert [j.jobid for j in paged] == [waiting.jobid], [j.jobid for j in paged]
    loaded = tap.load_async_job(name=name)
    assert loaded.jobid == done.jobid, loaded.jobid
    assert len(loaded.get_results()) == 3


@check("pyvo reads a running job's progress from jobInfo")
def _():
    svc = pyvo.dal.TAPService(BASE)
    job = svc.submit_job(SLOW, maxrec=50_000_000)
    job.run()
    deadline = time.time() + 30
    while job.phase != "EXECUTING":
        # Not job.wait(): its WAIT blocks until the phase changes, even once it is EXECUTING.
        assert time.time() < deadline, job.phase
        time.sleep(0.1)
        job._update()
    seen = []
    try:
        for _ in range(3):
            time.sleep(1.1)
            job._update()
            info = job._job.jobinfo
            assert job.phase == "EXECUTING", job.phase
            seen.append((info["rows"].value, info["bytes"].value))
    finally:
        job.abort()
    assert seen[0][0] > 0, seen
    assert all(b[0] > a[0] and b[1] > a[1] for a, b in zip(seen, seen[1:])), seen
    deadline = time.time() + 30
    while job.phase != "ABORTED":
        assert time.time() < deadline, job.phase
        time.sleep(0.1)
        job._update()
    job.delete()


@check("pyvo gets DALRateLimitError with Retry-After when it runs more sync queries than a client may")
def _():
    svc = pyvo.dal.TAPService(TIGHT)
    busy_done = threading.Event()

    def busy():
        try:
            svc.run_sync("SELECT COUNT(*) AS n FROM bench.objects AS a, bench.objects AS b WHERE a.ra > b.ra")
        finally:
            busy_done.set()

    threading.Thread(target=busy, daemon=True).start()
    time.sleep(0.5)
    try:
        svc.run_sync(QUICK)
    except pyvo.dal.DALRateLimitError as e:
        assert e.retry_after_seconds == 5, e.retry_after_seconds
        assert "429" in str(e), str(e)
    else:
        raise AssertionError("no 429 while the client's one allowed sync query ran")
    assert busy_done.wait(60), "the busy query did not finish"
    assert len(svc.run_sync(QUICK)) == 20, "served again once the connection is free"


finish()
