"""The clients astronomers use, against a running Tapir: pyvo and astroquery's TapPlus.

Usage: python check_clients.py http://127.0.0.1:PORT/tap
Prints one line per check and 'N passed, N failed' last; exits non-zero on failure.
"""
import os
import sys
import tempfile
import traceback

BASE = sys.argv[1].rstrip("/")
results = []


def check(name):
    def wrap(fn):
        try:
            fn()
            results.append((name, None))
            print(f"ok   {name}")
        except Exception as e:  # noqa: BLE001 - report every failure and go on
            results.append((name, e))
            print(f"FAIL {name}: {e!r}")
            traceback.print_exc(limit=3)
        return fn

    return wrap


import pyvo  # noqa: E402

svc = pyvo.dal.TAPService(BASE)


@check("pyvo run_sync returns rows with metadata")
def _():
    r = svc.run_sync("SELECT TOP 5 source_id, ra, dec FROM gaiadr1.gaia_source ORDER BY source_id")
    assert len(r) == 5, len(r)
    t = r.to_table()
    assert list(t.colnames) == ["source_id", "ra", "dec"], t.colnames
    assert str(t["ra"].unit) == "deg", t["ra"].unit
    assert t["source_id"][0] < t["source_id"][1]


@check("pyvo run_sync cone search")
def _():
    r = svc.run_sync(
        "SELECT TOP 10 source_id FROM gaiadr1.gaia_source "
        "WHERE 1=CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 266.4, -29.0, 1))"
    )
    assert len(r) >= 1, len(r)


@check("pyvo maxrec overflow warns")
def _():
    import warnings

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = svc.run_sync("SELECT source_id FROM gaiadr1.gaia_source", maxrec=3)
    assert len(r) == 3, len(r)


@check("pyvo query error is a DALQueryError with the message")
def _():
    try:
        svc.run_sync("SELECT nosuchcolumn FROM gaiadr1.gaia_source")
    except pyvo.dal.DALQueryError as e:
        assert "nosuchcolumn" in str(e), str(e)
    else:
        raise AssertionError("no error")


@check("pyvo tables")
def _():
    names = [t.name for t in svc.tables]
    assert "gaiadr1.gaia_source" in names, names
    cols = [c.name for c in svc.tables["gaiadr1.gaia_source"].columns]
    assert "ra" in cols and "source_id" in cols, cols


@check("pyvo capabilities")
def _():
    caps = svc.capabilities
    assert any("TAP" in (c.standardid or "") for c in caps)
    assert svc.maxrec is not None and svc.hardlimit is not None
    assert svc.maxrec <= svc.hardlimit


@check("pyvo run_async returns rows")
def _():
    r = svc.run_async("SELECT TOP 3 id, ra FROM bench.objects ORDER BY id")
    assert len(r) == 3, len(r)
    assert [int(x) for x in r.to_table()["id"]] == [1, 2, 3]


@check("pyvo submit_job, wait, fetch_result, delete")
def _():
    job = svc.submit_job("SELECT TOP 2 id FROM bench.objects ORDER BY id", maxrec=10)
    assert job.phase == "PENDING", job.phase
    job.run()
    job.wait(phases=["COMPLETED", "ERROR", "ABORTED"], timeout=60)
    assert job.phase == "COMPLETED", job.phase
    assert len(job.fetch_result()) == 2
    url = job.url
    job.delete()
    import requests

    assert requests.get(url).status_code == 404


@check("pyvo async error is raised with the message")
def _():
    job = svc.submit_job("SELECT nosuchcolumn FROM bench.objects")
    job.run()
    job.wait(phases=["COMPLETED", "ERROR", "ABORTED"], timeout=60)
    assert job.phase == "ERROR", job.phase
    try:
        job.raise_if_error()
    except pyvo.dal.DALQueryError as e:
        assert "nosuchcolumn" in str(e), str(e)
    else:
        raise AssertionError("no error")
    job.delete()


@check("pyvo job list")
def _():
    job = svc.submit_job("SELECT TOP 1 id FROM bench.objects")
    ids = [j.jobid for j in svc.get_job_list(phases=["PENDING"], last=50)]
    assert job.job_id in ids, (job.job_id, ids)
    job.delete()


from astroquery.utils.tap.core import TapPlus  # noqa: E402

workdir = tempfile.mkdtemp()
os.chdir(workdir)  # TapPlus reads stray result files from the working directory
tap = TapPlus(url=BASE, verbose=False)


@check("TapPlus launch_job")
def _():
    job = tap.launch_job("SELECT TOP 4 source_id, ra FROM gaiadr1.gaia_source ORDER BY source_id")
    t = job.get_results()
    assert len(t) == 4, len(t)
    assert "source_id" in t.colnames, t.colnames


@check("TapPlus launch_job csv and json")
def _():
    for fmt in ("csv", "json"):
        job = tap.launch_job("SELECT TOP 3 source_id FROM gaiadr1.gaia_source", output_format=fmt)
        assert len(job.get_results()) == 3, fmt


@check("TapPlus load_tables")
def _():
    tables = tap.load_tables()
    names = [t.get_qualified_name() for t in tables]
    assert any(n.endswith("gaia_source") for n in names), names


@check("TapPlus load_tables(only_names=True)")
def _():
    tables = tap.load_tables(only_names=True)
    assert len(tables) >= 4, len(tables)


@check("TapPlus load_table")
def _():
    t = tap.load_table("gaiadr1.gaia_source")
    assert t is not None
    assert any(c.name == "ra" for c in t.columns), [c.name for c in t.columns]


@check("TapPlus error message")
def _():
    try:
        tap.launch_job("SELECT nosuch FROM gaiadr1.gaia_source")
    except Exception as e:  # noqa: BLE001
        assert "nosuch" in str(e), str(e)
    else:
        raise AssertionError("no error")


@check("TapPlus launch_job_async")
def _():
    job = tap.launch_job_async("SELECT TOP 5 id, ra FROM bench.objects ORDER BY id")
    t = job.get_results()
    assert len(t) == 5, len(t)
    assert list(t["id"]) == [1, 2, 3, 4, 5], list(t["id"])


@check("TapPlus list_async_jobs and load_async_job")
def _():
    job = tap.launch_job_async("SELECT TOP 2 id FROM bench.objects ORDER BY id")
    jobid = job.jobid
    listed = [j.jobid for j in tap.list_async_jobs()]
    assert jobid in listed, (jobid, listed[:5])
    again = tap.load_async_job(jobid=jobid)
    assert again.get_phase() == "COMPLETED", again.get_phase()
    assert len(again.get_results()) == 2


@check("TapPlus async error")
def _():
    try:
        job = tap.launch_job_async("SELECT nosuch FROM bench.objects")
        job.get_results()
    except Exception as e:  # noqa: BLE001
        assert "nosuch" in str(e), str(e)
    else:
        raise AssertionError("no error")


failed = sum(1 for _, e in results if e is not None)
print(f"{len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
