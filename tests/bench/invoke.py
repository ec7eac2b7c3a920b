#!/usr/bin/env python3
"""Invoke benchmarks for BENCHMARKS.md (issue 4): cold start per runtime beside a bare
interpreter start, warm invoke latency (sequential) and throughput (wrk, concurrency 1 and 8)
through the Invoke API, beside a loopback floor measured in the same run with the same client
(GET /health on the same daemon).

Requests are signed once and replayed: SigV4 signatures stay valid for 15 minutes, and the
client's signing cost is not the platform's. wrk (Debian) sends each request in one write.

Usage: .venv/bin/python tests/bench/invoke.py [--bin target/release/lambdabox] [--n 2000]
"""
import argparse, base64, io, json, os, shutil, signal, subprocess, sys, tempfile, time, zipfile

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = "def handler(event, context):\n    return event\n"
NODE = "exports.handler = async (event) => event;\n"


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def zipped(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, (data, mode) in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            z.writestr(info, data)
    return base64.b64encode(buf.getvalue()).decode()


class Daemon:
    def __init__(self, binary):
        self.data = tempfile.mkdtemp(prefix="lbx-bench-")
        self.proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data, "--log-level", "warn"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        self.host = line.removeprefix("listening on http://")
        kv = dict(l.split(" = ", 1) for l in open(os.path.join(self.data, "admin-credentials")).read().splitlines() if " = " in l)
        self.creds = Credentials(kv["aws_access_key_id"], kv["aws_secret_access_key"])
        h, p = self.host.split(":")
        self.pool = urllib3.HTTPConnectionPool(h, int(p), maxsize=1)

    def signed(self, method, path, body=b""):
        req = AWSRequest(method=method, url=f"http://{self.host}{path}", data=body)
        SigV4Auth(self.creds, "lambda", "us-east-1").add_auth(req)
        return dict(req.headers.items())

    def call(self, method, path, body=b"", headers=None):
        headers = headers or self.signed(method, path, body)
        r = self.pool.urlopen(method, path, body=body or None, headers=headers)
        return r.status, r.data

    def create(self, name, runtime, handler, code, memory=512):
        body = json.dumps({"FunctionName": name, "Runtime": runtime, "Handler": handler, "MemorySize": memory,
                           "Role": "arn:aws:iam::123456789012:role/x", "Code": {"ZipFile": code}}).encode()
        s, d = self.call("POST", "/2015-03-31/functions", body)
        assert s == 201, d

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(15)
        shutil.rmtree(self.data, ignore_errors=True)


def timed(fn, n):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1e3)
    return out


def wrk(host, path, headers, body, conns, secs=5):
    lua = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    hdrs = "".join(f'wrk.headers["{k}"] = {json.dumps(v)}\n' for k, v in headers.items() if k.lower() != "host")
    lua.write(f'wrk.method = "{ "POST" if body else "GET" }"\nwrk.body = {json.dumps(body.decode())}\n{hdrs}')
    lua.close()
    out = subprocess.run(["wrk", "-t", str(min(conns, 2)), "-c", str(conns), "-d", f"{secs}s", "--latency", "-s", lua.name,
                          f"http://{host}{path}"], capture_output=True, text=True).stdout
    os.unlink(lua.name)
    rps = float(next(l.split()[1] for l in out.splitlines() if l.startswith("Requests/sec")))
    p50 = next(l.split()[1] for l in out.splitlines() if l.strip().startswith("50%"))
    non2xx = [l for l in out.splitlines() if "Non-2xx" in l]
    return {"rps": round(rps), "p50": p50, "errors": non2xx}


def bare(cmd, n=20):
    return timed(lambda: subprocess.run(cmd, check=True), n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/lambdabox"))
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--cold", type=int, default=15)
    a = ap.parse_args()
    d = Daemon(a.bin)
    res = {}
    try:
        runtimes = {"python": ("python3.11", "app.handler", zipped({"app.py": (PY, 0o644)})),
                    "node": ("nodejs20.x", "index.handler", zipped({"index.js": (NODE, 0o644)}))}
        rust = os.path.join(ROOT, "tests/fixtures/rust-echo/target/release/bootstrap")
        if os.path.exists(rust):
            runtimes["rust"] = ("provided.al2023", "bootstrap", zipped({"bootstrap": (open(rust, "rb").read(), 0o755)}))
        floor = timed(lambda: d.pool.urlopen("GET", "/health"), a.n)
        res["floor_health_us"] = {"p50": round(pct(floor, 50) * 1e3), "p99": round(pct(floor, 99) * 1e3)}
        res["floor_health_wrk"] = {c: wrk(d.host, "/health", {}, b"", c) for c in (1, 8)}
        res["bare_python3_c_pass_ms"] = round(pct(bare(["/usr/bin/python3.11", "-c", "pass"]), 50), 2)
        res["bare_node_e_0_ms"] = round(pct(bare(["/usr/bin/node", "-e", "0"]), 50), 2)
        for key, (rt, handler, code) in runtimes.items():
            path = f"/2015-03-31/functions/{key}-warm/invocations"
            colds = []
            for i in range(a.cold):
                name = f"{key}-cold-{i}"
                d.create(name, rt, handler, code)
                p = f"/2015-03-31/functions/{name}/invocations"
                t = time.perf_counter()
                s, body = d.call("POST", p, b'{"k":1}')
                colds.append((time.perf_counter() - t) * 1e3)
                assert s == 200 and body == b'{"k":1}' or json.loads(body) == {"k": 1}, (s, body)
            d.create(f"{key}-warm", rt, handler, code)
            payload = b'{"k":1}'
            headers = d.signed("POST", path, payload)
            d.call("POST", path, payload, headers)
            warm = timed(lambda: d.call("POST", path, payload, headers), a.n)
            res[key] = {
                "cold_ms": {"p50": round(pct(colds, 50), 1), "p99": round(pct(colds, 99), 1)},
                "warm_us": {"p50": round(pct(warm, 50) * 1e3), "p99": round(pct(warm, 99) * 1e3)},
                "wrk": {c: wrk(d.host, path, headers, payload, c) for c in (1, 8)},
            }
            print(key, json.dumps(res[key]), file=sys.stderr)
        print(json.dumps(res, indent=1))
    finally:
        d.stop()


if __name__ == "__main__":
    main()
