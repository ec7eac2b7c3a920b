#!/usr/bin/env python3
"""The benchmark suite's driver (started by `tests/bench/run`, which installs and builds what
it needs first). Runs every section, each beside floors measured in the same run, and writes
`tests/artifacts/bench/report.json` and `report.md`.

Usage: .venv/bin/python tests/bench/suite.py [--quick] [--only floors,sandbox,invoke,layers,provisioned,peer,footprint,control,async,queues,schedules,profile,langs,freeze,urls,s3,inapi]
"""
import argparse, json, os, platform, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import async_queue, control_plane, floors, footprint, freeze, function_urls, invoke, langs, layers, peer, profile, provisioned, queues, report, schedules  # noqa: E402
import s3 as s3_bench  # noqa: E402
import in_function_api  # noqa: E402
from lib import ARTIFACTS, EVENT, ROOT, Daemon, invoke_path  # noqa: E402

SECTIONS = ["floors", "sandbox", "invoke", "layers", "provisioned", "peer", "footprint", "control", "async", "queues", "schedules", "profile", "langs", "freeze", "urls", "s3", "inapi"]


def machine():
    def sh(cmd):
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()

    return {
        "cpus": os.cpu_count(), "kernel": platform.release(),
        "cpu_model": sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip(),
        "mem_gib": round(int(sh("grep MemTotal /proc/meminfo | awk '{print $2}'") or 0) / 1024 / 1024, 1),
        "os": sh(". /etc/os-release && echo $PRETTY_NAME"),
        "python": sh("/usr/bin/python3.11 --version"), "node": sh("/usr/bin/node --version"),
        "wrk": sh("wrk -v 2>&1 | head -1 | cut -d' ' -f1-2"), "bwrap": sh("bwrap --version"),
        "commit": sh(f"git -C {ROOT} rev-parse --short HEAD") + (" (dirty)" if sh(f"git -C {ROOT} status --porcelain -- src") else ""),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def load():
    return [round(x, 2) for x in os.getloadavg()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/lambdabox"))
    ap.add_argument("--true-static", default=os.path.join(ARTIFACTS, "true-static"))
    ap.add_argument("--quick", action="store_true", help="fewer samples, for trying the suite out")
    ap.add_argument("--only", default=",".join(SECTIONS))
    a = ap.parse_args()
    a.true_static = os.path.abspath(a.true_static)  # the sandbox refuses relative mount sources
    only = a.only.split(",")
    # Debian's interpreters, whatever PATH says (pyenv shims would pick a slower python).
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin"}
    os.makedirs(ARTIFACTS, exist_ok=True)
    res = {"machine": machine(), "quick": a.quick, "load": {"start": load()}}

    def section(name, fn):
        if name not in only:
            return
        t = time.time()
        print(f"--> {name} (load {load()[0]})", file=sys.stderr, flush=True)
        res[name] = fn()
        res["load"][name] = load()
        print(f"    {name} done in {time.time() - t:.0f} s", file=sys.stderr, flush=True)
        with open(os.path.join(ARTIFACTS, "report.json"), "w") as f:
            json.dump(res, f, indent=1)

    # Process floors first, while this Python process is small (a fork from a big parent is slower).
    section("floors", lambda: floors.process_floors(a.true_static, a.quick))
    section("sandbox", lambda: floors.sandbox_start(a.true_static, a.quick))
    section("footprint", lambda: footprint.run(a.bin, env, a.quick))
    section("control", lambda: control_plane.run(a.bin, env, a.quick))
    section("async", lambda: async_queue.run(a.bin, env, a.quick))
    section("queues", lambda: queues.run(a.bin, env, a.quick))
    section("s3", lambda: s3_bench.run(a.bin, env, a.quick))
    section("schedules", lambda: schedules.run(a.bin, env, a.quick))
    section("langs", lambda: langs.run(a.bin, env, a.quick))
    section("freeze", lambda: freeze.run(a.bin, env, a.quick))
    section("inapi", lambda: in_function_api.run(a.bin, env, a.quick))
    d = Daemon(a.bin, env)
    try:
        section("floors", lambda: dict(res.get("floors", {}), http=floors.http_floor(d, a.quick)))
        section("invoke", lambda: invoke.run(d, a.quick))
        section("urls", lambda: function_urls.run(d, a.quick))
        section("layers", lambda: layers.run(d, a.quick))
        section("provisioned", lambda: provisioned.run(d, a.quick))
        section("profile", lambda: profile.run(d, 3 if a.quick else 6))
        path = invoke_path("_")
        section("peer", lambda: peer.run(d.signed("POST", path, EVENT), a.quick))
    finally:
        d.stop()
    res["load"]["end"] = load()
    with open(os.path.join(ARTIFACTS, "report.json"), "w") as f:
        json.dump(res, f, indent=1)
    md = report.markdown(res)
    with open(os.path.join(ARTIFACTS, "report.md"), "w") as f:
        f.write(md)
    print(md)
    print(f"\nwritten: {ARTIFACTS}/report.md and report.json", file=sys.stderr)


if __name__ == "__main__":
    main()
