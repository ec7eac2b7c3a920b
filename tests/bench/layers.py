#!/usr/bin/env python3
"""Layer benchmark for BENCHMARKS.md (issue 5): cold start through the Invoke API of a
function with 5 layers against the same function with none, in the same run. The layers are
extracted (and merged) once, by a warm-up function; every measured cold start then finds them
in the cache, which is the figure the goal is about ("layers add < 1 ms once extracted").

Usage: .venv/bin/python tests/bench/layers.py [--bin target/release/lambdabox] [--cold 30]
"""
import argparse, json, os, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from invoke import ROOT, PY, Daemon, pct, zipped  # noqa: E402


def layer(d, name, i):
    files = {f"python/mod{i}.py": (f"X = {i}\n" * 200, 0o644), "conflict.txt": (f"{i}", 0o644)}
    files.update({f"lib/data{i}_{k}.txt": ("x" * 4096, 0o644) for k in range(50)})
    body = json.dumps({"Content": {"ZipFile": zipped(files)}}).encode()
    s, data = d.call("POST", f"/2018-10-31/layers/{name}/versions", body)
    assert s == 201, data
    return json.loads(data)["LayerVersionArn"]


def cold(d, name, rt, handler, code, layers):
    body = {"FunctionName": name, "Runtime": rt, "Handler": handler, "MemorySize": 512,
            "Role": "arn:aws:iam::123456789012:role/x", "Code": {"ZipFile": code}, "Layers": layers}
    s, data = d.call("POST", "/2015-03-31/functions", json.dumps(body).encode())
    assert s == 201, data
    t = time.perf_counter()
    s, out = d.call("POST", f"/2015-03-31/functions/{name}/invocations", b'{"k":1}')
    ms = (time.perf_counter() - t) * 1e3
    assert s == 200, out
    return ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/lambdabox"))
    ap.add_argument("--cold", type=int, default=30)
    a = ap.parse_args()
    d = Daemon(a.bin)
    res = {}
    try:
        arns = [layer(d, f"bench-layer-{i}", i) for i in range(5)]
        runtimes = {"python": ("python3.11", "app.handler", zipped({"app.py": (PY, 0o644)}))}
        rust = os.path.join(ROOT, "tests/fixtures/rust-echo/target/release/bootstrap")
        if os.path.exists(rust):
            runtimes["rust"] = ("provided.al2023", "bootstrap",
                                zipped({"bootstrap": (open(rust, "rb").read(), 0o755)}))
        for key, (rt, handler, code) in runtimes.items():
            # Warm-up: extracts the code and the layers and builds the merged /opt once.
            cold(d, f"{key}-warmup-0", rt, handler, code, [])
            cold(d, f"{key}-warmup-5", rt, handler, code, arns)
            none, five = [], []
            # Interleaved so that drift on a shared machine hits both series alike.
            for i in range(a.cold):
                none.append(cold(d, f"{key}-l0-{i}", rt, handler, code, []))
                five.append(cold(d, f"{key}-l5-{i}", rt, handler, code, arns))
            res[key] = {
                "cold_no_layers_ms": {"p50": round(pct(none, 50), 2), "p99": round(pct(none, 99), 2)},
                "cold_5_layers_ms": {"p50": round(pct(five, 50), 2), "p99": round(pct(five, 99), 2)},
                "added_p50_ms": round(pct(five, 50) - pct(none, 50), 2),
            }
            print(key, json.dumps(res[key]), file=sys.stderr)
        print(json.dumps(res, indent=1))
    finally:
        d.stop()


if __name__ == "__main__":
    main()
