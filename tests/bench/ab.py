#!/usr/bin/env python3
"""A/B of two daemon binaries on the warm path, interleaved so both see the same machine load:
each round starts each binary in turn, warms the Rust echo, and measures wrk c=1 (p50) and
c=8 (req/s) through the Invoke API. Prints the median of the rounds per binary.

Usage: .venv/bin/python tests/bench/ab.py BIN_A BIN_B [--rounds 5] [--secs 4]
(build the baseline first, e.g. from a stash, and copy it aside).
"""
import argparse, json, os, statistics, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from invoke import prewarm  # noqa: E402
from lib import EVENT, Daemon, invoke_path, runtimes, wrk  # noqa: E402


def once(binary, secs):
    d = Daemon(binary, {"PATH": "/usr/local/bin:/usr/bin:/bin"})
    try:
        rt, handler, code = runtimes()["rust"]
        d.create("echo", rt, handler, code)
        path = invoke_path("echo")
        headers = d.signed("POST", path, EVENT)
        url = f"http://{d.host}{path}"
        prewarm(d, path, headers, 8)
        health = wrk(f"http://{d.host}/health", conns=1, secs=secs)
        c1 = wrk(url, headers, EVENT, 1, secs)
        c8 = wrk(url, headers, EVENT, 8, secs)
        return {"floor_p50_us": health["p50_us"], "c1_p50_us": c1["p50_us"], "c8_rps": c8["rps"]}
    finally:
        d.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--secs", type=int, default=4)
    a = ap.parse_args()
    runs = {a.a: [], a.b: []}
    for r in range(a.rounds):
        for binary in (a.a, a.b):
            runs[binary].append(once(binary, a.secs))
            print(r, binary, runs[binary][-1], f"load {os.getloadavg()[0]:.2f}", file=sys.stderr, flush=True)
    out = {b: {k: statistics.median(x[k] for x in v) for k in v[0]} for b, v in runs.items()}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
