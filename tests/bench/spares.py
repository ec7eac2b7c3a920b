#!/usr/bin/env python3
"""Cold start with spare environments (`engine.spare_environments`) on vs off, in the same run
and interleaved so both see the same machine load: for each network mode (`none`, and
`internet` when run as root) one daemon with spares off and one with spares on; the same
functions (Rust echo and Python echo) created in each, then cold starts of new functions
alternating between the daemons. Before each timed cold start the spare daemons are given the
time to refill (their /metrics shows a ready spare and none being prepared, up to 5 s), and the
host idles 50 ms, so the cgroup attach's RCU grace period is paid the way a quiet host pays it.
Also reports how many cold starts found a spare ready.

Usage: sudo .venv/bin/python tests/bench/spares.py [BIN] [--n 30] [--spares 2]
"""
import argparse, json, os, statistics, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import Daemon, runtimes  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def daemon(binary, mode, spares):
    cfg = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    cfg.write(f'[sandbox]\ncgroup_parent = "lambdabox-bench-spare-{mode}-{spares}"\n'
              f'default_network = "{mode}"\n[engine]\nspare_environments = {spares}\n')
    cfg.close()
    return Daemon(binary, extra_args=("--config", cfg.name))


def metrics(d):
    status, body = d.call("GET", "/metrics", headers={})
    ready = preparing = 0
    for line in body.decode().splitlines():
        if line.startswith("lambdabox_spare_environments{"):
            ready += int(line.rsplit(" ", 1)[1])
        elif line.startswith("lambdabox_spare_environments_preparing "):
            preparing = int(line.rsplit(" ", 1)[1])
    return ready, preparing


def settle(d, limit=5.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        ready, preparing = metrics(d)
        if ready > 0 and preparing == 0:
            return True
        time.sleep(0.01)
    return False


def pct(xs, p):
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(len(xs) * p))], 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default=os.path.join(ROOT, "target/release/lambdabox"))
    ap.add_argument("--n", type=int, default=30, help="cold starts per daemon and runtime")
    ap.add_argument("--spares", type=int, default=2, help="engine.spare_environments when on")
    a = ap.parse_args()
    modes = ["none"] + (["internet"] if os.geteuid() == 0 else [])
    rts = {k: v for k, v in runtimes().items() if k in ("rust", "python")}
    daemons = {(m, s): daemon(a.binary, m, s) for m in modes for s in (0, a.spares)}
    cold = {k: {rt: [] for rt in rts} for k in daemons}
    hits = {k: 0 for k in daemons}
    try:
        # One cold start per spare daemon first, so that the pools know there is demand.
        for (mode, s), d in daemons.items():
            for key, (rt, handler, code) in rts.items():
                d.create(f"warmup-{key}", rt, handler, code)
                d.invoke(f"warmup-{key}")
        for i in range(a.n):
            for key, (rt, handler, code) in rts.items():
                for k, d in daemons.items():
                    name = f"spare-{key}-{i}"
                    d.create(name, rt, handler, code)
                    if k[1] > 0 and settle(d):
                        hits[k] += 1
                    time.sleep(0.05)
                    t = time.perf_counter()
                    d.invoke(name)
                    cold[k][key].append((time.perf_counter() - t) * 1e3)
            print(i, f"load {os.getloadavg()[0]:.2f}", file=sys.stderr, flush=True)
    finally:
        for d in daemons.values():
            d.stop()
    out = {}
    for mode in modes:
        for key in rts:
            off, on = cold[(mode, 0)][key], cold[(mode, a.spares)][key]
            out[f"{mode}/{key}"] = {
                "off_cold_p50_ms": pct(off, 0.5), "off_cold_p90_ms": pct(off, 0.9),
                "on_cold_p50_ms": pct(on, 0.5), "on_cold_p90_ms": pct(on, 0.9),
                "on_minus_off_p50_ms": round(statistics.median(on) - statistics.median(off), 2),
            }
        out[f"{mode}/spare_ready_before"] = f"{hits[(mode, a.spares)]} of {a.n * len(rts)}"
    out["load_avg_1m"] = os.getloadavg()[0]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
