"""Async (UWS) round trips against a running Tapir, for bench/async.

  python3 bench/async_clients.py BASE_URL JOBS CLIENTS

Each round trip is what a client does for a one-row query: POST /async with PHASE=RUN (303),
GET the job with WAIT until it is COMPLETED, GET results/result. Every client keeps one HTTP/1.1
connection. Prints the median and 90th percentile of a round trip and the throughput.
It measures; it never fails on a figure.
"""
import http.client
import statistics
import sys
import threading
import time
import urllib.parse

base = urllib.parse.urlsplit(sys.argv[1].rstrip("/"))
jobs = int(sys.argv[2])
clients = int(sys.argv[3])
body = urllib.parse.urlencode(
    {"LANG": "ADQL", "FORMAT": "csv", "PHASE": "RUN",
     "QUERY": "SELECT * FROM bench.objects WHERE id = 4242"}
)
lock = threading.Lock()
times = []
errors = []
remaining = [jobs]


def take():
    with lock:
        if remaining[0] == 0:
            return False
        remaining[0] -= 1
        return True


def client():
    conn = http.client.HTTPConnection(base.hostname, base.port, timeout=120)
    while take():
        t0 = time.perf_counter()
        try:
            conn.request("POST", base.path + "/async", body,
                         {"Content-Type": "application/x-www-form-urlencoded"})
            r = conn.getresponse()
            r.read()
            job = urllib.parse.urlsplit(r.getheader("Location")).path
            while True:
                conn.request("GET", job + "?WAIT=30")
                r = conn.getresponse()
                doc = r.read().decode()
                if "<uws:phase>COMPLETED</uws:phase>" in doc:
                    break
                if "<uws:phase>ERROR" in doc or "<uws:phase>ABORTED" in doc:
                    raise RuntimeError(doc)
            conn.request("GET", job + "/results/result")
            r = conn.getresponse()
            rows = r.read().decode().splitlines()
            if r.status != 200 or len(rows) != 2:
                raise RuntimeError(f"result {r.status}: {rows!r}")
        except Exception as e:  # noqa: BLE001 - count and go on
            with lock:
                errors.append(repr(e))
            conn.close()
            conn = http.client.HTTPConnection(base.hostname, base.port, timeout=120)
            continue
        with lock:
            times.append(time.perf_counter() - t0)


t0 = time.perf_counter()
threads = [threading.Thread(target=client) for _ in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
wall = time.perf_counter() - t0
times.sort()
if times:
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    print(f"  {len(times)} jobs, {clients} client(s): median {statistics.median(times) * 1000:.1f} ms, "
          f"p90 {p90 * 1000:.1f} ms, {len(times) / wall:.0f} jobs/s")
if errors:
    print(f"  {len(errors)} failed, e.g. {errors[0][:200]}")
