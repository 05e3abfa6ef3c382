"""pyvo's run_sync end to end against a running Tapir, for bench/run (issue 13).

  python bench/pyvo_sync.py BASE_URL ADQL ROWS

Times, median of 3 each:
  - the download alone through requests (what pyvo's session does, body decoded, not parsed),
    with requests' default headers and with Accept-Encoding: identity;
  - TAPService.run_sync (download and astropy's VOTable parse), the same two ways.
Prints the Accept-Encoding that requests sends by default first: that is what every pyvo and
astroquery user sends. It measures; it never fails on a figure.
"""
import statistics
import sys
import time

import pyvo
import requests

base, adql, rows = sys.argv[1].rstrip("/"), sys.argv[2], int(sys.argv[3])
params = {"REQUEST": "doQuery", "LANG": "ADQL", "MAXREC": str(rows), "QUERY": adql}


def session(accept):
    s = requests.Session()
    if accept is not None:
        s.headers["Accept-Encoding"] = accept
    return s


def median_of_3(f):
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


default = requests.utils.default_headers()["Accept-Encoding"]
print(f"  requests {requests.__version__} sends Accept-Encoding: {default}")
for label, accept in [("default headers", None), ("Accept-Encoding: identity", "identity")]:
    s = session(accept)
    seen = {}

    def download():
        r = s.post(f"{base}/sync", data=params)
        r.raise_for_status()
        seen["encoding"] = r.headers.get("Content-Encoding", "none")
        seen["bytes"] = len(r.content)

    t_download = median_of_3(download)
    service = pyvo.dal.TAPService(base, session=s)

    def run_sync():
        result = service.run_sync(adql, maxrec=rows)
        seen["rows"] = len(result)

    t_pyvo = median_of_3(run_sync)
    print(
        f"  {label:<26} Content-Encoding {seen['encoding']:<5} download {t_download:6.3f} s"
        f" ({seen['bytes'] / 1e6:.1f} MB decoded)   run_sync {t_pyvo:6.3f} s ({seen['rows']} rows)"
    )
