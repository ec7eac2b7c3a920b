"""Footprint: the daemon's idle RSS, and what each warm environment adds.

N functions of one runtime are invoked once each, leaving N warm environments. Daemon-side:
the growth of the daemon's own RSS divided by N. Total: that plus the Pss of every process the
environments consist of (sandbox helper, init, runtime), divided by N; Pss shares the
interpreter's pages fairly among the processes that map them, as the host's memory does.
"""
import time

from lib import Daemon, descendants, pss_kb, rss_kb, runtimes

GIB = 1024 * 1024  # in kB


def per_env(binary, env, key, n):
    d = Daemon(binary, env)
    try:
        rt, handler, code = runtimes()[key]
        for i in range(n):
            d.create(f"{key}-{i}", rt, handler, code)
        d.invoke(f"{key}-0")  # the first invoke allocates the engine's shared state
        time.sleep(0.5)
        base_daemon = rss_kb(d.pid)
        base_children = sum(pss_kb(p) for p in descendants(d.pid))
        for i in range(1, n):
            d.invoke(f"{key}-{i}")
        time.sleep(1.0)
        daemon = rss_kb(d.pid)
        procs = descendants(d.pid)
        children = sum(pss_kb(p) for p in procs)
        k = n - 1
        daemon_side = (daemon - base_daemon) / k
        total = daemon_side + (children - base_children) / k
        return {"envs": k, "processes": len(procs), "daemon_side_mb": round(daemon_side / 1024, 2),
                "total_mb": round(total / 1024, 2), "envs_in_8_gib": int(8 * GIB / total) if total > 0 else None}
    finally:
        d.stop()


def run(binary, env, quick):
    d = Daemon(binary, env)
    try:
        time.sleep(1.0)
        idle = {"idle_rss_mb": round(rss_kb(d.pid) / 1024, 1), "idle_hwm_mb": round(rss_kb(d.pid, "VmHWM") / 1024, 1)}
    finally:
        d.stop()
    n = 11 if quick else 41
    idle["python"] = per_env(binary, env, "python", n)
    idle["node"] = per_env(binary, env, "node", n)
    return idle
