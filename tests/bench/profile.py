"""A profile of the warm path: `perf record` (Debian linux-perf) on the daemon while wrk drives
the Rust echo at concurrency 8; writes the top self-time symbols and the top lambdabox
functions by inclusive time to the artifacts folder, for BENCHMARKS.md.
"""
import os, re, shutil, subprocess, time

from lib import ARTIFACTS, EVENT, invoke_path, runtimes, wrk


def top(data, children, limit):
    args = ["perf", "report", "-i", data, "--stdio", "-g", "none", "--sort", "symbol", "--percent-limit", "0.3"]
    args.append("--children" if children else "--no-children")
    out = subprocess.run(args, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+(?:([\d.]+)%\s+)?\[[.k]\]\s+(.*?)\s*(?:-\s+-\s*)?$", line)
        if not m:
            continue
        sym = m.group(3)
        if children and not re.match(r"(lambdabox::|<lambdabox::|rusqlite|hyper::proto|actix_http::h1)", sym):
            continue
        if all(sym[:140] != r[1] for r in rows):  # inlined copies repeat a symbol: keep the largest
            rows.append((float(m.group(1)), sym[:140]))
    return rows[:limit]


def run(d, secs=5):
    if not shutil.which("perf"):
        return {"error": "perf not installed (Debian linux-perf)"}
    rt, handler, code = runtimes()["rust"]
    d.create("rust-profile", rt, handler, code)
    path = invoke_path("rust-profile")
    headers = d.signed("POST", path, EVENT)
    d.invoke("rust-profile", EVENT, headers)
    os.makedirs(ARTIFACTS, exist_ok=True)
    data = os.path.join(ARTIFACTS, "perf.data")
    rec = subprocess.Popen(["perf", "record", "-q", "-F", "999", "-g", "--call-graph", "dwarf,16384", "-p", str(d.pid),
                            "-o", data, "--", "sleep", str(secs)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True)
    time.sleep(0.5)
    load = wrk(f"http://{d.host}{path}", headers, EVENT, 8, secs - 1, warmup=0)
    _, err = rec.communicate()
    if rec.returncode != 0:
        return {"error": f"perf record failed: {err.strip()[-300:]}"}
    res = {"wrk_during": load, "self": top(data, False, 25), "inclusive": top(data, True, 40)}
    with open(os.path.join(ARTIFACTS, "profile.txt"), "w") as f:
        f.write("# self time (whole daemon)\n")
        f.writelines(f"{p:6.2f}%  {s}\n" for p, s in res["self"])
        f.write("\n# inclusive time, lambdabox and protocol functions\n")
        f.writelines(f"{p:6.2f}%  {s}\n" for p, s in res["inclusive"])
    return res
