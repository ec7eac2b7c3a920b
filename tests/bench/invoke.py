"""Invoke benchmarks through the Invoke API (SigV4-signed, payload `{"k":1}` echoed back,
functions of 512 MB): cold start per runtime (each on a new function, so every sample pays the
sandbox, the interpreter and the runtime client's init), warm latency with the urllib3
keep-alive client (sequential), and wrk at concurrency 1, 8 and 32 (one warm-up second first,
which also starts the environments that concurrency needs).
"""
import os, threading, time
from concurrent.futures import ThreadPoolExecutor

import urllib3

from lib import EVENT, invoke_path, stats, timed, wrk


def invocations(d):
    """The daemon's count of finished invocations (its Prometheus `/metrics`)."""
    s, body = d.call("GET", "/metrics")
    assert s == 200, body[:200]
    return sum(float(l.rsplit(" ", 1)[1]) for l in body.decode().splitlines()
               if l.startswith("lambdabox_invocations_total"))


def settle(d, limit=10.0):
    """Waits until no invocation finishes for 200 ms: wrk leaves up to `conns` requests in
    flight when it stops, and a burst sent before they end finds every environment busy (and,
    with the memory budget full, is throttled instead of measuring warm starts)."""
    end = time.monotonic() + limit
    last = invocations(d)
    while time.monotonic() < end:
        time.sleep(0.2)
        now = invocations(d)
        if now == last:
            return
        last = now


def prewarm(d, path, headers, conns):
    """Starts `conns` environments so wrk measures warm invokes only: `conns` invokes released
    together by a barrier find no idle environment and each cold-starts one."""
    settle(d)
    host, port = d.host.split(":")
    barrier = threading.Barrier(conns)

    def one(_):
        pool = urllib3.HTTPConnectionPool(host, int(port), maxsize=1, timeout=60)
        pool.urlopen("GET", "/health")  # connect before the barrier
        barrier.wait()
        for _ in range(3):
            assert pool.urlopen("POST", path, body=EVENT, headers=headers).status == 200

    with ThreadPoolExecutor(conns) as ex:
        list(ex.map(one, range(conns)))


def cold_starts(d, key, rt, handler, code, n):
    out = []
    for i in range(n):
        name = f"{key}-cold-{i}"
        d.create(name, rt, handler, code)
        time.sleep(0.05)  # like a real cold start: the host was not just busy launching
        t = time.perf_counter()
        d.invoke(name)
        out.append((time.perf_counter() - t) * 1e3)
    return out


def cpu_ticks(pid):
    """(daemon user+system ticks, machine busy ticks, machine total ticks)."""
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    cpu = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return int(f[11]) + int(f[12]), sum(cpu) - cpu[3] - cpu[4], sum(cpu)


def measured(d, url, headers, conns, secs):
    """wrk, plus the daemon's CPU time per request and how busy the whole machine was."""
    prewarm(d, url.split(d.host, 1)[1], headers, conns)
    wrk(url, headers, EVENT, conns, 1, warmup=0)  # the untimed warm-up second
    hz = os.sysconf("SC_CLK_TCK")
    a = cpu_ticks(d.pid)
    w = wrk(url, headers, EVENT, conns, secs, warmup=0)
    b = cpu_ticks(d.pid)
    reqs = w["rps"] * secs
    w["daemon_cpu_us_per_req"] = round((b[0] - a[0]) / hz * 1e6 / reqs) if reqs else None
    w["machine_busy_pct"] = round(100 * (b[1] - a[1]) / max(1, b[2] - a[2]))
    return w


def run(d, quick):
    from lib import runtimes

    res = {}
    for key, (rt, handler, code) in runtimes().items():
        cold = cold_starts(d, key, rt, handler, code, 5 if quick else 20)
        name = f"{key}-warm"
        d.create(name, rt, handler, code)
        path = invoke_path(name)
        headers = d.signed("POST", path, EVENT)
        warm = timed(lambda: d.invoke(name, EVENT, headers), 300 if quick else 3000, warmup=100)
        url = f"http://{d.host}{path}"
        res[key] = {
            "runtime": rt,
            "cold_ms": stats(cold, nd=2),
            "warm_us": stats(warm, 1e3, 0),
            "wrk": {c: measured(d, url, headers, c, 2 if quick else 5) for c in (1, 8, 32)},
        }
    return res
