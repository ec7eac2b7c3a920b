#!/usr/bin/env python3
"""Control-plane benchmarks for BENCHMARKS.md (issue 2): CreateFunction with a 40 MB zip,
ListFunctions pages of 50 out of 10,000 functions, and the daemon's idle RSS.

Every figure is printed beside a floor measured in the same run with the same HTTP client:
an unauthenticated GET /health round trip on loopback (urllib3, keep-alive).

Usage: .venv/bin/python tests/bench/control_plane.py [--functions 10000] [--bin target/release/lambdabox]
"""
import argparse, base64, io, json, os, random, shutil, signal, statistics, subprocess, sys, tempfile, time, zipfile

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def start(binary, data):
    proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--log-level", "warn"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline().strip()
    assert line.startswith("listening on "), line
    return proc, line.removeprefix("listening on http://")


def creds(data):
    kv = dict(l.split(" = ", 1) for l in open(os.path.join(data, "admin-credentials")).read().splitlines() if " = " in l)
    return Credentials(kv["aws_access_key_id"], kv["aws_secret_access_key"])


class Client:
    def __init__(self, host, c):
        self.host, self.c = host, c
        self.pool = urllib3.HTTPConnectionPool(host.split(":")[0], int(host.split(":")[1]), maxsize=1)

    def call(self, method, path, body=b""):
        req = AWSRequest(method=method, url=f"http://{self.host}{path}", data=body)
        SigV4Auth(self.c, "lambda", "us-east-1").add_auth(req)
        r = self.pool.urlopen(method, path, body=body or None, headers=dict(req.headers.items()))
        return r.status, r.data

    def health(self):
        return self.pool.urlopen("GET", "/health").status


def zip_of(size):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("app.py", "def handler(e, c):\n    return e\n")
        z.writestr("blob.bin", random.randbytes(size))
    return buf.getvalue()


def timed(fn, n):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def rss_kb(pid):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--functions", type=int, default=10000)
    ap.add_argument("--bin", default="target/release/lambdabox")
    a = ap.parse_args()
    data = tempfile.mkdtemp(prefix="lbx-bench-")
    proc, host = start(a.bin, data)
    try:
        time.sleep(1.0)
        idle = rss_kb(proc.pid)
        cl = Client(host, creds(data))
        floor = timed(cl.health, 500)
        small = base64.b64encode(zip_of(10)).decode()
        def create(name, z):
            body = json.dumps({"FunctionName": name, "Runtime": "python3.11", "Handler": "app.handler",
                               "Role": "arn:aws:iam::123456789012:role/x", "Code": {"ZipFile": z}}).encode()
            s, d = cl.call("POST", "/2015-03-31/functions", body)
            assert s == 201, (s, d[:200])
        big = base64.b64encode(zip_of(40 * 1024 * 1024)).decode()
        big_times = []
        for i in range(5):
            t = time.perf_counter(); create(f"big-{i}", big); big_times.append((time.perf_counter() - t) * 1000)
        t0 = time.time()
        for i in range(a.functions):
            create(f"fn-{i:05d}", small)
        fill = time.time() - t0
        markers = [None]
        def page():
            path = "/2015-03-31/functions/?MaxItems=50"
            if markers[-1]:
                path += "&Marker=" + markers[-1]
            s, d = cl.call("GET", path)
            assert s == 200
            nxt = json.loads(d).get("NextMarker")
            markers.append(nxt if nxt and len(markers) < 150 else None)
        list_times = timed(page, 300)
        idle_after = rss_kb(proc.pid)
        res = {
            "floor_health_ms": {"p50": pct(floor, 50), "p99": pct(floor, 99)},
            "create_40mb_ms": {"p50": pct(big_times, 50), "max": max(big_times)},
            "list_50_of_n_ms": {"p50": pct(list_times, 50), "p99": pct(list_times, 99)},
            "functions": a.functions, "fill_seconds": round(fill, 1),
            "idle_rss_mb_fresh": round(idle / 1024, 1), "rss_mb_after": round(idle_after / 1024, 1),
        }
        print(json.dumps(res, indent=2))
    finally:
        proc.send_signal(signal.SIGTERM); proc.wait(10)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
