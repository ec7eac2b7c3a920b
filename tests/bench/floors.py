"""Floors and sandbox start: what the machine itself costs, measured in the same run.

- process floors from Python: spawn+exec+wait of a static binary, `python3.11 -c pass`,
  `node -e 0` (Debian's interpreters, the ones the daemon runs here);
- the loopback HTTP floor: `GET /health` on the daemon (no auth, no body) with urllib3
  keep-alive (the client of the sequential figures) and with wrk at 1, 8 and 32 connections
  (the client of the throughput figures; it shows wrk is far from saturated);
- sandbox launch -> exec with every protection on, from the Rust ignored test
  `sandbox_bench_launch_to_exec`, beside its own bare spawn+exec+wait;
- bubblewrap as the isolation peer, spawned from Python, beside a Python-spawned bare start.
"""
import os, re, subprocess

from lib import ROOT, stats, timed, wrk

BWRAP = ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib",
         "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin", "--tmpfs", "/tmp", "--proc", "/proc",
         "--dev", "/dev"]


def process_floors(true_static, quick):
    n = 50 if quick else 200
    return {
        "spawn_static_ms": stats(timed(lambda: subprocess.run([true_static], check=True), n, warmup=10), nd=3),
        "spawn_bin_true_ms": stats(timed(lambda: subprocess.run(["/bin/true"], check=True), n, warmup=10), nd=3),
        "python3_c_pass_ms": stats(timed(lambda: subprocess.run(["/usr/bin/python3.11", "-c", "pass"], check=True),
                                         10 if quick else 40, warmup=3), nd=2),
        "node_e_0_ms": stats(timed(lambda: subprocess.run(["/usr/bin/node", "-e", "0"], check=True),
                                   10 if quick else 30, warmup=3), nd=2),
    }


def http_floor(d, quick):
    seq = timed(d.health, 500 if quick else 3000, warmup=200)
    url = f"http://{d.host}/health"
    secs = 2 if quick else 5
    return {"urllib3_us": stats(seq, 1e3, 0), "wrk": {c: wrk(url, conns=c, secs=secs) for c in (1, 8, 32)}}


def sandbox_start(true_static, quick):
    """Runs the Rust sandbox bench (release) and bubblewrap; returns ms figures."""
    runs = 60 if quick else 200
    env = dict(os.environ, LAMBDABOX_BENCH_BIN=true_static, LAMBDABOX_BENCH_RUNS=str(runs))
    out = subprocess.run(["cargo", "test", "--release", "--locked", "--test", "it", "sandbox_bench", "--", "--ignored",
                          "--nocapture", "--test-threads", "1"], cwd=ROOT, env=env, capture_output=True, text=True)
    res = {}
    for line in out.stdout.splitlines():
        m = re.search(r"((?:sandbox|bare)[^.]+?)\s+n=(\d+)\s+p50=\s*([\d.]+) ms\s+p99=\s*([\d.]+) ms", line)
        if m:
            res[m.group(1).strip()] = {"p50": float(m.group(3)), "p99": float(m.group(4)), "n": int(m.group(2))}
    if not res:
        res["error"] = (out.stdout + out.stderr)[-2000:]
    try:
        bw = BWRAP + ["--bind", os.path.dirname(true_static), "/t", "/t/" + os.path.basename(true_static)]
        subprocess.run(bw, check=True)
        res["bwrap_ms"] = stats(timed(lambda: subprocess.run(bw, check=True), runs, warmup=10), nd=2)
        res["python_spawn_ms"] = stats(timed(lambda: subprocess.run([true_static], check=True), runs, warmup=10), nd=3)
        res["bwrap_args"] = " ".join(BWRAP[1:])
    except (OSError, subprocess.CalledProcessError) as e:
        res["bwrap_error"] = str(e)
    return res
