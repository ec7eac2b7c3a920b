#!/usr/bin/env python3
"""Warm path with and without freezing idle environments (issue 12), interleaved so both see
the same machine load: each round starts the daemon once with `sandbox.freeze_idle = true` and
once with `false`, warms the Rust echo, and measures wrk c=1 (p50/p99) through the Invoke API,
beside the `/health` floor of the same daemon. Prints the median of the rounds per setting and
the difference.

Usage: .venv/bin/python tests/bench/freeze.py [--bin target/release/lambdabox] [--rounds 5] [--secs 4]
Also the suite's `freeze` section (`tests/bench/run --only freeze`).
"""
import argparse, json, os, statistics, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from invoke import prewarm  # noqa: E402
from lib import EVENT, ROOT, Daemon, invoke_path, runtimes, wrk  # noqa: E402


def once(binary, env, freeze, secs):
    d = Daemon(binary, dict(env, LAMBDABOX_SANDBOX__FREEZE_IDLE="true" if freeze else "false"))
    try:
        rt, handler, code = runtimes()["rust"]
        d.create("echo", rt, handler, code)
        path = invoke_path("echo")
        headers = d.signed("POST", path, EVENT)
        prewarm(d, path, headers, 1)
        health = wrk(f"http://{d.host}/health", conns=1, secs=secs)
        c1 = wrk(f"http://{d.host}{path}", headers, EVENT, 1, secs)
        return {"floor_p50_us": health["p50_us"], "c1_p50_us": c1["p50_us"], "c1_p99_us": c1["p99_us"],
                "c1_rps": c1["rps"], "errors": c1["errors"]}
    finally:
        d.stop()


def run(binary, env, quick=False, rounds=None, secs=None):
    rounds = rounds or (2 if quick else 5)
    secs = secs or (2 if quick else 4)
    runs = {"frozen": [], "unfrozen": []}
    for r in range(rounds):
        for name, freeze in (("frozen", True), ("unfrozen", False)):
            runs[name].append(once(binary, env, freeze, secs))
            print(r, name, runs[name][-1], f"load {os.getloadavg()[0]:.2f}", file=sys.stderr, flush=True)
    out = {n: {k: statistics.median(x[k] for x in v) for k in v[0]} for n, v in runs.items()}
    out["delta_c1_p50_us"] = round(out["frozen"]["c1_p50_us"] - out["unfrozen"]["c1_p50_us"], 1)
    out["rounds"], out["secs"] = rounds, secs
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/lambdabox"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--secs", type=int, default=4)
    a = ap.parse_args()
    print(json.dumps(run(a.bin, {"PATH": "/usr/local/bin:/usr/bin:/bin"}, rounds=a.rounds, secs=a.secs), indent=1))


if __name__ == "__main__":
    main()
