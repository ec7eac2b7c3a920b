#!/usr/bin/env python3
"""Cold start with internet-only networking vs `none`, in the same run and interleaved so both
see the same machine load: one daemon with `sandbox.default_network = "internet"`, one with
"none", the same functions (Rust echo and Python echo) created in each, then cold starts
alternating between the two daemons. Also times a warm invoke in each (the network costs
nothing per invoke; this checks that). Prints p50/p90 per mode and the difference of p50s.

Needs root (veths, nftables). The set-up cost of internet mode is the veth pair (created from
the helper by netlink), addresses and a route, the DNS sockets, and at teardown the veth's
deletion (off the request path).

Usage: sudo .venv/bin/python tests/bench/network.py [BIN] [--n 30]
"""
import argparse, json, os, statistics, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import Daemon, runtimes  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def daemon(binary, mode):
    cfg = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    cfg.write(f'[sandbox]\ncgroup_parent = "lambdabox-bench-net-{mode}"\ndefault_network = "{mode}"\n')
    cfg.close()
    return Daemon(binary, extra_args=("--config", cfg.name))


def pct(xs, p):
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(len(xs) * p))], 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default=os.path.join(ROOT, "target/release/lambdabox"))
    ap.add_argument("--n", type=int, default=30, help="cold starts per mode and runtime")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (internet-only networking creates veths and nftables rules)")
    rts = {k: v for k, v in runtimes().items() if k in ("rust", "python")}
    daemons = {"none": daemon(a.binary, "none"), "internet": daemon(a.binary, "internet")}
    cold = {m: {k: [] for k in rts} for m in daemons}
    warm = {m: {k: [] for k in rts} for m in daemons}
    try:
        for i in range(a.n):
            for key, (rt, handler, code) in rts.items():
                for mode, d in daemons.items():
                    name = f"net-{key}-{i}"
                    d.create(name, rt, handler, code)
                    time.sleep(0.05)  # a real cold start: the host was not just busy launching
                    t = time.perf_counter()
                    d.invoke(name)
                    cold[mode][key].append((time.perf_counter() - t) * 1e3)
                    t = time.perf_counter()
                    d.invoke(name)
                    warm[mode][key].append((time.perf_counter() - t) * 1e3)
            print(i, f"load {os.getloadavg()[0]:.2f}", file=sys.stderr, flush=True)
    finally:
        for d in daemons.values():
            d.stop()
    out = {}
    for key in rts:
        row = {}
        for mode in daemons:
            row[mode] = {"cold_p50_ms": pct(cold[mode][key], 0.5), "cold_p90_ms": pct(cold[mode][key], 0.9),
                         "warm_p50_ms": pct(warm[mode][key], 0.5)}
        row["internet_minus_none_cold_p50_ms"] = round(
            statistics.median(cold["internet"][key]) - statistics.median(cold["none"][key]), 2)
        out[key] = row
    out["load_avg_1m"] = os.getloadavg()[0]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
