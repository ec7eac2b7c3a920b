"""Suite section `provisioned` (issue 14): the first invocation of a function version with
provisioned concurrency (its environment initialised ahead of demand) against the first
invocation of the same code without (a cold start), in the same run, interleaved. Each pair
uses fresh functions so that nothing is warm but the provisioned environment; both are
deleted after the pair (provisioned environments hold their memory until then).
"""
import json, statistics, time

from lib import EVENT, invoke_path, runtimes, stats


def publish_provisioned(d, name, rt, handler, code):
    d.create(name, rt, handler, code, memory=256)
    s, data = d.call("POST", f"/2015-03-31/functions/{name}/versions", b"{}")
    assert s == 201, data
    version = json.loads(data)["Version"]
    path = f"/2019-09-30/functions/{name}/provisioned-concurrency?Qualifier={version}"
    s, data = d.call("PUT", path, json.dumps({"ProvisionedConcurrentExecutions": 1}).encode())
    assert s == 202, data
    deadline = time.time() + 60
    while True:
        s, data = d.call("GET", path)
        st = json.loads(data)
        if st["Status"] == "READY":
            return version
        assert st["Status"] != "FAILED" and time.time() < deadline, st
        time.sleep(0.05)


def first_invoke_ms(d, name):
    t = time.perf_counter()
    s, out = d.call("POST", invoke_path(name), EVENT)
    ms = (time.perf_counter() - t) * 1e3
    assert s == 200, out
    return ms


def run(d, quick):
    n = 5 if quick else 40
    res = {}
    for key, (rt, handler, code) in runtimes().items():
        cold, warm = [], []
        for i in range(n):
            cold_name = f"pc-{key}-cold-{i}"
            d.create(cold_name, rt, handler, code, memory=256)
            cold.append(first_invoke_ms(d, cold_name))
            prov = f"pc-{key}-prov-{i}"
            version = publish_provisioned(d, prov, rt, handler, code)
            warm.append(first_invoke_ms(d, f"{prov}:{version}"))
            # Provisioned environments hold memory until deleted: free it for the next pair.
            for name in (cold_name, prov):
                s, out = d.call("DELETE", f"/2015-03-31/functions/{name}")
                assert s == 204, out
        res[key] = {"runtime": rt, "cold_first_invoke_ms": stats(cold, nd=2),
                    "provisioned_first_invoke_ms": stats(warm, nd=2),
                    "paired_median_ratio": round(statistics.median(c / p for c, p in zip(cold, warm)), 1)}
    return res
