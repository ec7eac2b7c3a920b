#!/usr/bin/env python3
"""Observability costs (issue 18):

- `tracing`: warm invoke p50 (wrk c=1 through the Invoke API) of the same echo function with
  `TracingConfig: Active` and with PassThrough, interleaved rounds on one daemon so both see
  the same machine; the loopback `GET /health` floor beside them. Goal: Active − PassThrough
  p50 < 10 µs.
- `ingest`: log ingest rate: one invocation of a Python function that prints N lines; lines/s
  from the invoke's start until every line is committed in logs.db (read-only polling). The
  bench daemon raises `logs.max_bytes_per_invocation` (LAMBDABOX_LOGS__MAX_BYTES_PER_INVOCATION)
  so the per-invocation cap does not cut the output: the figure is the writer's rate. Lines the
  writer's channel dropped are reported beside it (`lambdabox_log_queue_dropped_lines_total`).
- `flood`: control-plane latency under a log flood, each case on its own daemon (quota per
  group 64 MiB, the default `logs.capture_bytes_per_second`): GetFunction p50/p99 while quiet,
  then while one function writes 1 KiB lines in 64 MiB invocations, then quiet again, all in
  the same run; the ratio is flood p99 / quiet-before p99. Two cases: `discard` (the default
  per-invocation cap of 256 KiB: nearly all of --flood-mib MiB is dropped and counted) and
  `kept` (cap 64 MiB: all of --kept-mib MiB goes to the log writer, read at the capture rate).
  Goal: flood p99 ≤ 1.5× quiet. Also reported: how long the flood took (the flooder is what the
  capture rate slows) and the drop counts.

Usage: .venv/bin/python tests/bench/observability.py [--bin target/release/lambdabox] [--rounds 5] [--secs 3] [--lines 200000] [--flood-mib 1024] [--kept-mib 256] [--only tracing,ingest,flood]
"""
import argparse, base64, json, os, sqlite3, statistics, sys, threading, time, urllib.request

import urllib3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from invoke import prewarm  # noqa: E402
from lib import EVENT, ROOT, Daemon, invoke_path, pct, runtimes, wrk, zipped  # noqa: E402

# The ingest daemon keeps every line of one invocation (200,000 short lines ≈ 7 MB) and reads
# output at no limit, so the figure is the writer's.
INGEST_CAP = 256 << 20
KEPT_CAP = 64 << 20
DEFAULT_CAP = 256 << 10
FLOOD_QUOTA = 64 << 20

FLOOD_1K = """
import sys
CHUNK = ("x" * 1022 + "y\\n") * 1024
def handler(event, context):
    w = sys.stdout.write
    for _ in range(event["mib"]):
        w(CHUNK)
    return {"mib": event["mib"]}
"""


def scrape(d):
    with urllib.request.urlopen(f"http://{d.host}/metrics", timeout=30) as r:
        return r.read().decode()


def counter(text, family, group):
    for line in text.splitlines():
        if line.startswith(family + "{") and f'log_group="{group}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0

FLOOD = """
import sys
def handler(event, context):
    n = event["lines"]
    w = sys.stdout.write
    for i in range(n):
        w("line %d of the ingest benchmark\\n" % i)
    sys.stdout.flush()
    return {"printed": n}
"""


def tracing(d, rounds, secs):
    name, (rt, handler, code) = ("rust", runtimes()["rust"]) if "rust" in runtimes() else ("python", runtimes()["python"])
    d.create("plain", rt, handler, code)
    d.create("traced", rt, handler, code)
    body = json.dumps({"TracingConfig": {"Mode": "Active"}}).encode()
    s, out = d.call("PUT", "/2015-03-31/functions/traced/configuration", body)
    assert s == 200, out
    time.sleep(0.5)
    runs = {"plain": [], "traced": [], "floor": []}
    for fn in ("plain", "traced"):
        path = invoke_path(fn)
        prewarm(d, path, d.signed("POST", path, EVENT), 1)
    for r in range(rounds):
        for fn in ("plain", "traced"):
            path = invoke_path(fn)
            res = wrk(f"http://{d.host}{path}", d.signed("POST", path, EVENT), EVENT, 1, secs)
            runs[fn].append(res["p50_us"])
        runs["floor"].append(wrk(f"http://{d.host}/health", conns=1, secs=1)["p50_us"])
        print(r, {k: v[-1] for k, v in runs.items()}, f"load {os.getloadavg()[0]:.2f}", file=sys.stderr, flush=True)
    med = {k: statistics.median(v) for k, v in runs.items()}
    return {"runtime": name, "p50_us": med, "active_minus_passthrough_us": med["traced"] - med["plain"],
            "rounds": rounds, "secs": secs}


def ingest(d, lines):
    code = zipped({"app.py": (FLOOD, 0o644)})
    d.create("flood", "python3.11", "app.handler", code, memory=256)
    db = sqlite3.connect(f"file:{os.path.join(d.data, 'logs.db')}?mode=ro", uri=True)

    def stored():
        return db.execute("SELECT COUNT(*) FROM log_events e JOIN log_streams s ON s.id = e.stream_id "
                          "WHERE s.log_group = '/aws/lambda/flood' AND e.message LIKE 'line %'").fetchone()[0]

    t0 = time.monotonic()
    s, body = d.call("POST", "/2015-03-31/functions/flood/invocations", json.dumps({"lines": lines}).encode())
    assert s == 200, body
    t_ret = time.monotonic() - t0
    deadline = time.monotonic() + 120
    n, t_last = 0, time.monotonic()
    while time.monotonic() < deadline:
        m = stored()
        if m > n:
            n, t_last = m, time.monotonic()
        # Done when every line is stored, or (some were dropped) nothing new for 3 s.
        if n >= lines or time.monotonic() - t_last > 3:
            break
        time.sleep(0.05)
    t_all = t_last - t0
    text = scrape(d)
    return {"lines": lines, "stored": n, "invoke_returned_s": round(t_ret, 3), "all_stored_s": round(t_all, 3),
            "lines_per_s": round(n / t_all), "cap_bytes": INGEST_CAP,
            "queue_dropped": counter(text, "lambdabox_log_queue_dropped_lines_total", "/aws/lambda/flood"),
            "truncated": counter(text, "lambdabox_log_truncated_lines_total", "/aws/lambda/flood")}


def flood(binary, mib, cap, quiet_n=300):
    d = Daemon(binary, {"PATH": "/usr/local/bin:/usr/bin:/bin",
                        "LAMBDABOX_LOGS__MAX_BYTES_PER_INVOCATION": str(cap),
                        "LAMBDABOX_LOGS__MAX_BYTES_PER_GROUP": str(FLOOD_QUOTA)})
    try:
        code = zipped({"app.py": (FLOOD_1K, 0o644)})
        d.create("flood", "python3.11", "app.handler", code, memory=256)
        s, out = d.call("PUT", "/2015-03-31/functions/flood/configuration", json.dumps({"Timeout": 900}).encode())
        assert s == 200, out
        time.sleep(0.5)
        path = "/2015-03-31/functions/flood"

        def get_function():
            t = time.perf_counter()
            s, body = d.call("GET", path)
            assert s == 200, body
            return (time.perf_counter() - t) * 1e3

        for _ in range(20):
            get_function()
        quiet = [get_function() for _ in range(quiet_n)]
        h, p = d.host.split(":")
        pool = urllib3.HTTPConnectionPool(h, int(p), maxsize=1, timeout=1800)
        done = threading.Event()
        invokes = []

        def run_flood():
            left = mib
            while left > 0:
                n = min(64, left)
                body = json.dumps({"mib": n}).encode()
                inv = "/2015-03-31/functions/flood/invocations"
                t = time.monotonic()
                r = pool.urlopen("POST", inv, body=body, headers=d.signed("POST", inv, body))
                invokes.append((r.status, round(time.monotonic() - t, 2)))
                left -= n
            done.set()

        t0 = time.monotonic()
        threading.Thread(target=run_flood, daemon=True).start()
        during = []
        while not done.is_set():
            during.append(get_function())
            time.sleep(0.01)
        secs = time.monotonic() - t0
        after = [get_function() for _ in range(quiet_n)]
        text = scrape(d)
        g = "/aws/lambda/flood"
        q99, f99 = pct(quiet, 99), pct(during, 99) if during else float("nan")

        def summary(xs):
            return {"p50": round(pct(xs, 50), 3), "p99": round(pct(xs, 99), 3), "n": len(xs)} if xs else None

        return {"mib": mib, "cap_bytes": cap, "flood_s": round(secs, 2),
                "flood_mib_per_s": round(mib / secs, 1) if secs else None, "invokes": invokes,
                "quiet_ms": summary(quiet), "flood_ms": summary(during), "quiet_after_ms": summary(after),
                "p99_ratio": round(f99 / q99, 2) if q99 else None, "goal_ratio": 1.5,
                "queue_dropped": counter(text, "lambdabox_log_queue_dropped_lines_total", g),
                "truncated": counter(text, "lambdabox_log_truncated_lines_total", g),
                "quota_pruned": counter(text, "lambdabox_log_quota_pruned_events_total", g),
                "load_end": os.getloadavg()[0]}
    finally:
        d.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/lambdabox"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--secs", type=int, default=3)
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--flood-mib", type=int, default=1024)
    ap.add_argument("--kept-mib", type=int, default=256)
    ap.add_argument("--only", default="tracing,ingest,flood")
    a = ap.parse_args()
    only = set(a.only.split(","))
    out = {"load_start": os.getloadavg()[0]}
    if only & {"tracing", "ingest"}:
        d = Daemon(a.bin, {"PATH": "/usr/local/bin:/usr/bin:/bin",
                           "LAMBDABOX_LOGS__MAX_BYTES_PER_INVOCATION": str(INGEST_CAP),
                           "LAMBDABOX_LOGS__CAPTURE_BYTES_PER_SECOND": "0"})
        try:
            if "tracing" in only:
                out["tracing"] = tracing(d, a.rounds, a.secs)
            if "ingest" in only:
                out["ingest"] = ingest(d, a.lines)
        finally:
            d.stop()
    if "flood" in only:
        out["flood"] = {"discard": flood(a.bin, a.flood_mib, DEFAULT_CAP),
                        "kept": flood(a.bin, a.kept_mib, KEPT_CAP)}
        out["flood_p99_ratios"] = {k: v["p99_ratio"] for k, v in out["flood"].items()}
    out["load_end"] = os.getloadavg()[0]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
