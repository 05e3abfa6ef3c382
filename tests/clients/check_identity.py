"""Identity with the real clients (issue 14) against a Tapir with an HTTPS listener:
TapPlus login over HTTPS, its jobs, list (own jobs only), remove_jobs and logout; pyvo with
AuthSession and Basic credentials (picked from the capabilities' securityMethod) and with a
bearer token. The certificate is the test's own, trusted through SSL_CERT_FILE and
REQUESTS_CA_BUNDLE (verification stays on).

Usage: python check_identity.py https://127.0.0.1:PORT/tap-server/tap http://127.0.0.1:PORT2/tap-server/tap TOKEN
(users alice / alice-pw, and bob, whose bearer token is TOKEN; the Gaia archive's layout, so
that astroquery.gaia's GaiaClass logs in to /tap-server/login).
"""
import os
import sys
import tempfile

from harness import check, finish

HTTPS = sys.argv[1].rstrip("/")
PLAIN = sys.argv[2].rstrip("/")
TOKEN = sys.argv[3]
os.chdir(tempfile.mkdtemp(prefix="tapir-identity-"))
QUICK = "SELECT TOP 5 id, ra, dec FROM bench.objects ORDER BY id"

import pyvo  # noqa: E402
import requests  # noqa: E402
from astroquery.utils.tap.core import TapPlus  # noqa: E402

# An anonymous job, which no logged-in list may show.
anonymous = requests.post(f"{PLAIN}/async", data={"LANG": "ADQL", "QUERY": QUICK}, allow_redirects=False)
ANON_ID = anonymous.headers["Location"].rstrip("/").rsplit("/", 1)[1]


@check("TapPlus login over HTTPS, own jobs, remove_jobs, logout")
def _():
    tap = TapPlus(url=HTTPS, verbose=False)
    tap.login(user="alice", password="alice-pw")
    job = tap.launch_job_async(QUICK)
    table = job.get_results()
    assert len(table) == 5, len(table)
    kept = tap.launch_job_async(QUICK)
    ids = [j.jobid for j in tap.list_async_jobs()]
    assert job.jobid in ids and kept.jobid in ids, ids
    assert ANON_ID not in ids, "an anonymous job in alice's list"
    tap.remove_jobs([job.jobid])
    ids = [j.jobid for j in tap.list_async_jobs()]
    assert job.jobid not in ids and kept.jobid in ids, ids
    tap.logout()
    # TapPlus keeps sending the cookie; the session is gone, so it is anonymous now.
    ids = [j.jobid for j in tap.list_async_jobs()]
    assert kept.jobid not in ids, "alice's job listed after logout"
    assert ANON_ID in ids, ids


@check("TapPlus login with a wrong password raises")
def _():
    tap = TapPlus(url=HTTPS, verbose=False)
    try:
        tap.login(user="alice", password="wrong")
    except Exception as e:  # noqa: BLE001 - TapPlus raises a plain HTTPError
        assert "401" in str(e), str(e)
    else:
        raise AssertionError("logged in with a wrong password")


@check("astroquery.gaia GaiaClass login (TAP and data server) over HTTPS, jobs, logout")
def _():
    from astroquery.gaia import GaiaClass

    root = HTTPS.split("/tap-server/")[0] + "/"
    # The data server's login goes to the same service (Tapir has no separate data server).
    gaia = GaiaClass(gaia_tap_server=root, gaia_data_server=root, data_server_context="tap-server",
                     show_server_messages=False)
    gaia.login(user="alice", password="alice-pw")
    job = gaia.launch_job_async(QUICK)
    assert len(job.get_results()) == 5
    ids = [j.jobid for j in gaia.list_async_jobs()]
    assert job.jobid in ids and ANON_ID not in ids, ids
    gaia.logout()
    ids = [j.jobid for j in gaia.list_async_jobs()]
    assert job.jobid not in ids, "alice's job listed after logout"


@check("pyvo AuthSession with Basic credentials (from the capabilities' securityMethod)")
def _():
    session = pyvo.auth.AuthSession()
    session.credentials.set_password("alice", "alice-pw")
    svc = pyvo.dal.TAPService(HTTPS, session=session)
    job = svc.submit_job(QUICK)
    assert job.owner == "alice", job.owner
    job.run().wait(timeout=60)
    assert len(job.fetch_result().to_table()) == 5
    job.delete()


@check("pyvo with a bearer token")
def _():
    bearer = requests.Session()
    bearer.headers["Authorization"] = f"Bearer {TOKEN}"
    session = pyvo.auth.AuthSession()
    session.credentials.set("ivo://ivoa.net/sso#token", bearer)
    svc = pyvo.dal.TAPService(HTTPS, session=session)
    job = svc.submit_job(QUICK)
    assert job.owner == "bob", job.owner
    job.delete()


finish()
