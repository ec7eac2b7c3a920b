"""Suite section `layers` (issue 5): cold start through the Invoke API of a function with 5
layers against the same function with none, in the same run, interleaved so drift on a shared
machine hits both series alike. The layers are extracted (and merged) once by a warm-up
function; every measured cold start then finds them in the cache, which is the figure the goal
is about ("layers add < 1 ms once extracted").
"""
import json, statistics, time

from lib import EVENT, invoke_path, runtimes, stats, zipped


def publish(d, name, i):
    files = {f"python/mod{i}.py": (f"X = {i}\n" * 200, 0o644), "conflict.txt": (f"{i}", 0o644)}
    files.update({f"lib/data{i}_{k}.txt": ("x" * 4096, 0o644) for k in range(50)})
    s, data = d.call("POST", f"/2018-10-31/layers/{name}/versions",
                     json.dumps({"Content": {"ZipFile": zipped(files)}}).encode())
    assert s == 201, data
    return json.loads(data)["LayerVersionArn"]


def cold(d, name, rt, handler, code, layers):
    body = {"FunctionName": name, "Runtime": rt, "Handler": handler, "MemorySize": 512,
            "Role": "arn:aws:iam::123456789012:role/x", "Code": {"ZipFile": code}, "Layers": layers}
    s, data = d.call("POST", "/2015-03-31/functions", json.dumps(body).encode())
    assert s == 201, data
    t = time.perf_counter()
    s, out = d.call("POST", invoke_path(name), EVENT)
    ms = (time.perf_counter() - t) * 1e3
    assert s == 200, out
    return ms


def run(d, quick):
    arns = [publish(d, f"bench-layer-{i}", i) for i in range(5)]
    n = 8 if quick else 150
    res = {}
    for key, (rt, handler, code) in runtimes().items():
        if key == "node":
            continue  # node's 70+ ms start buries a sub-millisecond difference in noise
        cold(d, f"layers-{key}-warmup-0", rt, handler, code, [])
        cold(d, f"layers-{key}-warmup-5", rt, handler, code, arns)
        none, five = [], []
        for i in range(n):
            none.append(cold(d, f"layers-{key}-l0-{i}", rt, handler, code, []))
            five.append(cold(d, f"layers-{key}-l5-{i}", rt, handler, code, arns))
        res[key] = {"runtime": rt, "no_layers_ms": stats(none, nd=2), "five_layers_ms": stats(five, nd=2),
                    # each 5-layer cold start minus the no-layer one just before it
                    "paired_median_diff_ms": round(statistics.median(b - a for a, b in zip(none, five)), 2)}
    return res
