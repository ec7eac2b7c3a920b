#!/usr/bin/env python3
"""Observability costs (issue 18):

- `tracing`: warm invoke p50 (wrk c=1 through the Invoke API) of the same echo function with
  `TracingConfig: Active` and with PassThrough, interleaved rounds on one daemon so both see
  the same machine; the loopback `GET /health` floor beside them. Goal: Active − PassThrough
  p50 < 10 µs.
- `ingest`: log ingest rate: one invocation of a Python function that prints N lines; lines/s
  from the invoke's start until every line is committed in logs.db (read-only polling).

Usage: .venv/bin/python tests/bench/observability.py [--bin target/release/lambdabox] [--rounds 5] [--secs 3] [--lines 200000]
"""
import argparse, base64, json, os, sqlite3, statistics, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from invoke import prewarm  # noqa: E402
from lib import EVENT, ROOT, Daemon, invoke_path, runtimes, wrk, zipped  # noqa: E402

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
    n = 0
    while time.monotonic() < deadline:
        n = stored()
        if n >= lines:
            break
        time.sleep(0.05)
    t_all = time.monotonic() - t0
    return {"lines": lines, "stored": n, "invoke_returned_s": round(t_ret, 3), "all_stored_s": round(t_all, 3),
            "lines_per_s": round(n / t_all)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/lambdabox"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--secs", type=int, default=3)
    ap.add_argument("--lines", type=int, default=200_000)
    a = ap.parse_args()
    out = {"load_start": os.getloadavg()[0]}
    d = Daemon(a.bin, {"PATH": "/usr/local/bin:/usr/bin:/bin"})
    try:
        out["tracing"] = tracing(d, a.rounds, a.secs)
        out["ingest"] = ingest(d, a.lines)
    finally:
        d.stop()
    out["load_end"] = os.getloadavg()[0]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
