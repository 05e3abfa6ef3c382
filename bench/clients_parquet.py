"""End to end through the real clients (issue 13): the same rows fetched and decoded three ways,
in one run, so the ratio is measured on one machine at one time.

    python bench/clients_parquet.py BASE_URL ADQL ROWS

- pyvo `TAPService.run_sync(...).to_table()` with its default headers (BINARY2 VOTable, and
  whatever Accept-Encoding requests sends: gzip, deflate);
- requests + pyarrow: `FORMAT=parquet`, `pyarrow.parquet.read_table` on the body;
- requests + astropy: `FORMAT=parquet`, `Table.read(..., format="parquet.votable")` (units, UCDs
  and descriptions from the footer VOTable);
- requests + pyarrow again with `Accept-Encoding: identity`: without the server's gzip on top of
  a body that Parquet has compressed already.

Prints the median of 3 runs of each (wall time from request to table in memory) and the ratios.
"""

import io
import statistics
import sys
import tempfile
import time
import warnings

import pyarrow.parquet as pq
import pyvo
import requests
from astropy.table import Table

warnings.simplefilter("ignore")


def timed(fn, runs=3):
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main(base, adql, rows):
    service = pyvo.dal.TAPService(base)
    params = {"REQUEST": "doQuery", "LANG": "ADQL", "QUERY": adql, "MAXREC": rows}

    def pyvo_binary2():
        return service.run_sync(adql, maxrec=int(rows)).to_table()

    def fetch_parquet(headers=None):
        r = requests.post(base + "/sync", data=dict(params, FORMAT="parquet"), headers=headers)
        r.raise_for_status()
        return r.content

    def pyarrow_parquet():
        return pq.read_table(io.BytesIO(fetch_parquet()))

    # The body is Snappy-compressed already: gzip on top (requests asks for it by default)
    # only costs time. This is what a client gets when the server does not add it.
    identity = {"Accept-Encoding": "identity"}

    def pyarrow_parquet_identity():
        return pq.read_table(io.BytesIO(fetch_parquet(identity)))

    def astropy_parquet():
        body = fetch_parquet()
        # astropy's reader opens its input twice (footer, then data): give it a file.
        with tempfile.NamedTemporaryFile(suffix=".parquet") as f:
            f.write(body)
            f.flush()
            return Table.read(f.name, format="parquet.votable")

    t_pyvo, t1 = timed(pyvo_binary2)
    t_fetch, body = timed(fetch_parquet)
    t_arrow, t2 = timed(pyarrow_parquet)
    t_astropy, t3 = timed(astropy_parquet)
    t_identity, _ = timed(pyarrow_parquet_identity)
    assert len(t1) == len(t2) == len(t3), (len(t1), len(t2), len(t3))
    print("  %d rows, %d columns; VOParquet body %.1f MB" % (len(t1), len(t1.columns), len(body) / 1e6))
    print("  pyvo run_sync (BINARY2, default headers)   %6.3f s" % t_pyvo)
    print("  requests, parquet body only                %6.3f s" % t_fetch)
    print("  requests + pyarrow.parquet.read_table      %6.3f s   %.1fx faster than pyvo" % (t_arrow, t_pyvo / t_arrow))
    print("  requests + astropy parquet.votable         %6.3f s   %.1fx faster than pyvo" % (t_astropy, t_pyvo / t_astropy))
    print("  the same, Accept-Encoding: identity:")
    print("  requests + pyarrow.parquet.read_table      %6.3f s   %.1fx faster than pyvo" % (t_identity, t_pyvo / t_identity))


if __name__ == "__main__":
    main(*sys.argv[1:4])
