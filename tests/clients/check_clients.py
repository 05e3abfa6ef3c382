"""The clients astronomers use, against a running Tapir: pyvo and astroquery's TapPlus.

Usage: python check_clients.py http://127.0.0.1:PORT/tap
Prints one line per check and 'N passed, N failed' last; exits non-zero on failure.
"""
import os
import sys
import tempfile

from harness import check, finish

BASE = sys.argv[1].rstrip("/")


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


# ----- uploads (UP-01..UP-06) ------------------------------------------------------------------
from astropy.table import Table  # noqa: E402

upload_table = Table(
    {
        "id": [1, 2, 3],
        "ra": [10.0, 20.5, 30.25],
        "dec": [-5.0, 0.0, 45.5],
        "name": ["one", "two", "three"],
    }
)
upload_dir = tempfile.mkdtemp()
upload_path = os.path.join(upload_dir, "upload.vot")
upload_table.write(upload_path, format="votable")
UPLOAD_QUERY = "SELECT id, ra, dec, name FROM TAP_UPLOAD.t ORDER BY id"


def assert_uploaded(t):
    """The rows of upload_table, as a result table."""
    assert [int(x) for x in t["id"]] == [1, 2, 3], list(t["id"])
    assert [float(x) for x in t["ra"]] == [10.0, 20.5, 30.25], list(t["ra"])
    assert [float(x) for x in t["dec"]] == [-5.0, 0.0, 45.5], list(t["dec"])
    names = [x.decode() if isinstance(x, bytes) else str(x) for x in t["name"]]
    assert names == ["one", "two", "three"], names


@check("pyvo run_sync with an astropy Table upload")
def _():
    assert_uploaded(svc.run_sync(UPLOAD_QUERY, uploads={"t": upload_table}).to_table())


@check("pyvo run_sync with a VOTable file upload, joined with a catalogue table")
def _():
    r = svc.run_sync(
        "SELECT u.id, o.id AS oid, o.ra FROM TAP_UPLOAD.t AS u JOIN bench.objects AS o ON o.id = u.id ORDER BY u.id",
        uploads={"t": upload_path},
    )
    t = r.to_table()
    assert [int(x) for x in t["oid"]] == [1, 2, 3], list(t["oid"])
    direct = svc.run_sync("SELECT id, ra FROM bench.objects WHERE id <= 3 ORDER BY id").to_table()
    assert list(t["ra"]) == list(direct["ra"]), (list(t["ra"]), list(direct["ra"]))


@check("pyvo run_async with uploads")
def _():
    assert_uploaded(svc.run_async(UPLOAD_QUERY, uploads={"t": upload_table}).to_table())


@check("pyvo upload of an earlier job's result by its URL")
def _():
    earlier = svc.submit_job("SELECT TOP 4 id, ra FROM bench.objects ORDER BY id").run()
    earlier.wait(timeout=60)
    earlier.raise_if_error()
    r = svc.run_sync("SELECT COUNT(*) AS n, SUM(id) AS total FROM TAP_UPLOAD.prev", uploads={"prev": earlier})
    t = r.to_table()
    assert int(t["n"][0]) == 4 and int(t["total"][0]) == 10, t
    earlier.delete()


@check("pyvo upload errors are DALQueryErrors with the message")
def _():
    try:
        svc.run_sync("SELECT * FROM TAP_UPLOAD.t", uploads={"t": "ftp://example.org/t.vot"})
    except pyvo.dal.DALQueryError as e:
        assert "ftp://example.org/t.vot" in str(e), str(e)
    else:
        raise AssertionError("no error")



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


from astroquery.utils.tap.model.filter import Filter  # noqa: E402


def unique_name(what):
    import uuid

    return f"check-{what}-{uuid.uuid4().hex[:12]}"


@check("TapPlus search_async_jobs with a name filter, order, limit, offset")
def _():
    name = unique_name("search")
    first = tap.launch_job_async("SELECT TOP 1 id FROM bench.objects ORDER BY id", name=name)
    second = tap.launch_job_async("SELECT TOP 2 id FROM bench.objects ORDER BY id", name=name)
    jobfilter = Filter()
    jobfilter.add_filter("jobname", name)
    jobs = tap.search_async_jobs(jobfilter=jobfilter)
    assert [j.jobid for j in jobs] == [second.jobid, first.jobid], [j.jobid for j in jobs]
    assert [j.name for j in jobs] == [name, name], [j.name for j in jobs]
    assert [j.get_phase() for j in jobs] == ["COMPLETED", "COMPLETED"], [j.get_phase() for j in jobs]
    assert all(j.creationTime for j in jobs), [j.creationTime for j in jobs]
    jobfilter.order = "CREATION_TIME:ASC"
    jobfilter.limit = 1
    assert [j.jobid for j in tap.search_async_jobs(jobfilter=jobfilter)] == [first.jobid]
    jobfilter.offset = 1
    assert [j.jobid for j in tap.search_async_jobs(jobfilter=jobfilter)] == [second.jobid]
    jobfilter = Filter()
    jobfilter.add_filter("jobname", name)
    jobfilter.add_filter("phaseid", "ERROR")
    assert tap.search_async_jobs(jobfilter=jobfilter) == []
    # Without a filter: every job, with its parameters.
    everything = {j.jobid: j for j in tap.search_async_jobs()}
    assert first.jobid in everything and second.jobid in everything, len(everything)
    assert everything[second.jobid].parameters.get("query", "").startswith("SELECT TOP 2"), everything[
        second.jobid
    ].parameters


@check("TapPlus load_async_job(name=...)")
def _():
    name = unique_name("load")
    tap.launch_job_async("SELECT TOP 1 id FROM bench.objects ORDER BY id", name=name)
    newest = tap.launch_job_async("SELECT TOP 3 id FROM bench.objects ORDER BY id", name=name)
    job = tap.load_async_job(name=name)
    assert job is not None and job.jobid == newest.jobid, (job and job.jobid, newest.jobid)
    assert len(job.get_results()) == 3
    assert tap.load_async_job(name=unique_name("nothing")) is None


@check("TapPlus remove_jobs")
def _():
    import requests

    name = unique_name("remove")
    ids = [
        tap.launch_job_async("SELECT TOP 1 id FROM bench.objects", name=name).jobid
        for _ in range(3)
    ]
    tap.remove_jobs(ids[:2] + ["nosuchjob"])
    jobfilter = Filter()
    jobfilter.add_filter("jobname", name)
    left = [j.jobid for j in tap.search_async_jobs(jobfilter=jobfilter)]
    assert left == [ids[2]], (left, ids)
    listed = [j.jobid for j in tap.list_async_jobs()]
    assert ids[0] not in listed and ids[1] not in listed and ids[2] in listed
    for gone in ids[:2]:
        assert requests.get(f"{BASE}/async/{gone}").status_code == 404, gone
    tap.remove_jobs(ids[2])
    assert tap.search_async_jobs(jobfilter=jobfilter) == []


@check("TapPlus launch_job with upload_resource (a VOTable file)")
def _():
    job = tap.launch_job(UPLOAD_QUERY, upload_resource=upload_path, upload_table_name="t")
    assert_uploaded(job.get_results())


@check("TapPlus launch_job with an astropy Table upload")
def _():
    job = tap.launch_job(UPLOAD_QUERY, upload_resource=upload_table, upload_table_name="t")
    assert_uploaded(job.get_results())


@check("TapPlus launch_job_async with upload_resource")
def _():
    job = tap.launch_job_async(UPLOAD_QUERY, upload_resource=upload_path, upload_table_name="t")
    assert job.get_phase() == "COMPLETED", job.get_phase()
    assert_uploaded(job.get_results())



# ----- votable_gzip and ECSV: what ESA's clients ask for -------------------------------------
import gzip  # noqa: E402
import socket  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import numpy as np  # noqa: E402

# Importing astroquery.gaia builds its default `Gaia` object, which asks gea.esac.esa.int for
# status messages; the checks stay on this machine, so connections elsewhere are refused (the
# client prints "Status messages could not be retrieved" and goes on).
_create_connection = socket.create_connection


def _loopback_only(address, *args, **kwargs):
    if address[0] not in ("127.0.0.1", "localhost", "::1"):
        raise OSError(f"the client checks do not leave this machine (asked for {address[0]})")
    return _create_connection(address, *args, **kwargs)


socket.create_connection = _loopback_only

from astroquery.gaia import GaiaClass  # noqa: E402
from astroquery.utils.tap.conn.tapconn import TapConn  # noqa: E402


def local_gaia():
    """astroquery's Gaia class with both of its TAP+ connections on this server."""
    parts = urlsplit(BASE)
    conn = TapConn(ishttps=False, host=parts.hostname, server_context=parts.path, tap_context="", port=parts.port)
    gaia = GaiaClass(tap_plus_conn_handler=conn, datalink_handler=TapPlus(url=BASE), show_server_messages=False)
    gaia.MAIN_GAIA_TABLE = "gaiadr1.gaia_source"
    return gaia


gaia = local_gaia()
GAIA_QUERY = "SELECT TOP 5 source_id, ra, dec FROM gaiadr1.gaia_source ORDER BY source_id"
plain_rows = svc.run_sync(GAIA_QUERY).to_table()


def assert_gaia_rows(t):
    assert list(t["source_id"]) == list(plain_rows["source_id"]), (list(t["source_id"]), list(plain_rows["source_id"]))
    assert list(t["ra"]) == list(plain_rows["ra"]), list(t["ra"])
    assert str(t["ra"].unit) == "deg", t["ra"].unit


def raw_get(url):
    """The body as sent (urllib does not decode Content-Encoding) and the headers."""
    with urllib.request.urlopen(url) as response:
        return response.read(), response.headers


@check("astroquery.gaia launch_job (votable_gzip by default)")
def _():
    job = gaia.launch_job(GAIA_QUERY)
    assert job.parameters["format"] == "votable_gzip", job.parameters
    assert_gaia_rows(job.get_results())


@check("astroquery.gaia launch_job_async (votable_gzip by default), result stored compressed")
def _():
    job = gaia.launch_job_async(GAIA_QUERY)
    assert_gaia_rows(job.get_results())
    body, headers = raw_get(f"{BASE}/async/{job.jobid}/results/result")
    assert headers["Content-Encoding"] == "gzip", dict(headers)
    assert headers["Content-Type"].startswith("application/x-votable+xml"), dict(headers)
    assert b"<VOTABLE" in gzip.decompress(body)


@check("astroquery.gaia cone_search and cone_search_async")
def _():
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    centre = SkyCoord(ra=266.4, dec=-29.0, unit=(u.deg, u.deg), frame="icrs")
    radius = u.Quantity(0.5, u.deg)
    direct = svc.run_sync(
        "SELECT source_id FROM gaiadr1.gaia_source "
        "WHERE 1=CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 266.4, -29.0, 0.5))"
    ).to_table()
    assert len(direct) > 0
    for search in (gaia.cone_search, gaia.cone_search_async):
        t = search(centre, radius=radius, table_name="gaiadr1.gaia_source").get_results()
        # The ROW_LIMIT nearest sources of the cone, nearest first.
        assert set(t["source_id"]) <= set(direct["source_id"]), search.__name__
        assert len(t) == min(len(direct), gaia.ROW_LIMIT), (search.__name__, len(t), len(direct))
        assert list(t["dist"]) == sorted(t["dist"]), "ordered by distance"


@check("astroquery.gaia query_object")
def _():
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    centre = SkyCoord(ra=266.4, dec=-29.0, unit=(u.deg, u.deg), frame="icrs")
    t = gaia.query_object(centre, radius=u.Quantity(0.5, u.deg))
    assert 0 < len(t) <= gaia.ROW_LIMIT, len(t)
    assert "source_id" in t.colnames and "dist" in t.colnames, t.colnames


@check("pyvo with RESPONSEFORMAT=votable_gzip, sync and async")
def _():
    assert_gaia_rows(svc.run_sync(GAIA_QUERY, RESPONSEFORMAT="votable_gzip").to_table())
    assert_gaia_rows(svc.run_async(GAIA_QUERY, RESPONSEFORMAT="votable_gzip").to_table())


import json  # noqa: E402


def server_json(query):
    """The server's own JSON of a query, read without astropy: it keeps null apart from the
    empty string (astropy's VOTable reader gives both as an unmasked '')."""
    body = urllib.parse.urlencode({"QUERY": query, "LANG": "ADQL", "FORMAT": "json"}).encode()
    with urllib.request.urlopen(f"{BASE}/sync", body) as response:
        doc = json.load(response)
    return [m["name"] for m in doc["metadata"]], doc["data"]


def assert_same_table(got, query):
    """Every value and null of an ECSV result against the JSON of the same query, and the
    units and descriptions against its VOTable."""
    names, rows = server_json(query)
    votable = svc.run_sync(query).to_table()
    assert got.colnames == names, (got.colnames, names)
    assert len(got) == len(rows), (len(got), len(rows))
    for j, name in enumerate(names):
        col = got[name]
        mask = np.ma.getmaskarray(col)
        for i, row in enumerate(rows):
            want, value = row[j], np.ma.getdata(col[i])
            if want is None and mask[i].all():
                continue
            if want is None:
                # JSON has no NaN or infinities and sends null for them.
                assert col.dtype.kind == "f" and not np.isfinite(value).all(), (name, i, value)
                continue
            assert not mask[i].any(), (name, i, "masked", want)
            if isinstance(want, list):
                kind = value.dtype if value.dtype != object else None
                expected = np.array([np.nan if x is None else x for x in want], dtype=kind)
                same = np.array_equal(np.ravel(value), expected, equal_nan=expected.dtype.kind == "f")
            elif isinstance(want, float):
                same = value == np.asarray(want).astype(col.dtype)
            else:
                same = value == want
            assert same, (name, i, value, want)
        assert (col.unit, col.description) == (votable[name].unit, votable[name].description), name


ECSV_QUERIES = [
    "SELECT TOP 20 * FROM ivoa.ObsCore ORDER BY obs_publisher_did",
    "SELECT TOP 20 source_id, ra, dec, parallax, phot_g_mean_mag, POINT('ICRS', ra, dec) AS pos "
    "FROM gaiadr1.gaia_source ORDER BY source_id",
    "SELECT TOP 20 * FROM v_ll_data_item ORDER BY begin_time",
]


@check("TapPlus launch_job(output_format='ecsv') reads back every value and null")
def _():
    for query in ECSV_QUERIES:
        assert_same_table(tap.launch_job(query, output_format="ecsv").get_results(), query)


@check("TapPlus launch_job_async(output_format='ecsv')")
def _():
    query = ECSV_QUERIES[0]
    assert_same_table(tap.launch_job_async(query, output_format="ecsv").get_results(), query)


finish()
