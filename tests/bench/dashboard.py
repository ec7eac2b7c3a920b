#!/usr/bin/env python3
"""Dashboard page-render benchmark for BENCHMARKS.md (issue 6): every dashboard page with
1,000 functions in the store, a few thousand invocation records and their logs.

For each page: the server-side time (the `Server-Timing: app;dur=` header the dashboard's
guard adds: session lookup + handler + template rendering, measured inside the daemon) and
the client round trip, p50/p99 over --n requests on one keep-alive connection (urllib3).
Printed beside the floor measured in the same run with the same client: an unauthenticated
GET /health loopback round trip.

Usage: .venv/bin/python tests/bench/dashboard.py [--functions 1000] [--n 200] [--bin target/release/lambdabox]
"""
import argparse, base64, io, json, re, shutil, signal, subprocess, tempfile, time, urllib.parse, zipfile

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


def read_kv(path):
    return dict(l.split(" = ", 1) for l in open(path).read().splitlines() if " = " in l)


class Client:
    def __init__(self, host, creds):
        self.host, self.creds, self.cookie = host, creds, ""
        h, p = host.split(":")
        self.pool = urllib3.HTTPConnectionPool(h, int(p), maxsize=1)

    def api(self, method, path, body=b""):
        req = AWSRequest(method=method, url=f"http://{self.host}{path}", data=body)
        SigV4Auth(self.creds, "lambda", "us-east-1").add_auth(req)
        r = self.pool.urlopen(method, path, body=body or None, headers=dict(req.headers.items()))
        return r.status, r.data

    def get(self, path, headers=None):
        h = {"Cookie": self.cookie} if self.cookie else {}
        h.update(headers or {})
        return self.pool.urlopen("GET", path, headers=h, redirect=False)

    def login(self, password):
        r = self.get("/ui/login")
        token = re.search(rb'name="csrf" value="([0-9a-f]+)"', r.data).group(1).decode()
        login_cookie = r.headers["Set-Cookie"].split(";", 1)[0]
        body = urllib.parse.urlencode({"csrf": token, "next": "/ui/functions", "username": "admin", "password": password})
        r = self.pool.urlopen("POST", "/ui/login", body=body, redirect=False,
                              headers={"Cookie": login_cookie, "Content-Type": "application/x-www-form-urlencoded"})
        assert r.status == 303, (r.status, r.data[:300])
        self.cookie = [c for c in r.headers.getlist("Set-Cookie") if c.startswith("lbx_session=")][0].split(";", 1)[0]


def zip_of(marker):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("lambda_function.py", f"def lambda_handler(e, c):\n    print('bench {marker}')\n    return e\n")
    return base64.b64encode(buf.getvalue()).decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--functions", type=int, default=1000)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--invokes", type=int, default=2000)
    ap.add_argument("--bin", default="target/release/lambdabox")
    a = ap.parse_args()
    data = tempfile.mkdtemp(prefix="lbx-dash-bench-")
    proc, host = start(a.bin, data)
    try:
        kv = read_kv(f"{data}/admin-credentials")
        cl = Client(host, Credentials(kv["aws_access_key_id"], kv["aws_secret_access_key"]))
        t0 = time.time()
        for i in range(a.functions):
            body = json.dumps({"FunctionName": f"fn-{i:04d}", "Runtime": "python3.11", "Handler": "lambda_function.lambda_handler",
                               "Role": "arn:aws:iam::123456789012:role/x", "Code": {"ZipFile": zip_of(i % 20)},
                               "Environment": {"Variables": {"STAGE": "bench", "INDEX": str(i)}}}).encode()
            s, d = cl.api("POST", "/2015-03-31/functions", body)
            assert s == 201, (s, d[:200])
        fill = time.time() - t0
        # invocations (and their logs) spread over 20 functions, most on fn-0000
        t0 = time.time()
        for i in range(a.invokes):
            name = "fn-0000" if i % 2 == 0 else f"fn-{i % 20:04d}"
            s, d = cl.api("POST", f"/2015-03-31/functions/{name}/invocations", b'{"k": 1}')
            assert s == 200, (s, d[:200])
        invoke_s = time.time() - t0
        s, _ = cl.api("POST", "/2015-03-31/functions/fn-0000/versions", b"{}")
        assert s == 201
        time.sleep(0.5)
        cl.login(read_kv(f"{data}/dashboard-credentials")["password"])
        floor = []
        for _ in range(a.n * 2):
            t = time.perf_counter(); assert cl.pool.urlopen("GET", "/health").status == 200
            floor.append((time.perf_counter() - t) * 1000)
        pages = ["/ui/functions", "/ui/functions?q=fn-09", "/ui/functions?after=fn-0899", "/ui/functions/new"]
        pages += [f"/ui/functions/fn-0000/{t}" for t in ("code", "test", "configuration", "versions", "logs",
                                                         "monitoring?range=1h", "monitoring?range=24h",
                                                         "monitoring?range=7d", "triggers")]
        pages += ["/ui/layers", "/ui/settings"]
        rows = []
        for p in pages:
            server, client = [], []
            for _ in range(a.n):
                t = time.perf_counter()
                r = cl.get(p)
                client.append((time.perf_counter() - t) * 1000)
                assert r.status == 200, (p, r.status, r.data[:300])
                server.append(float(re.search(r"app;dur=([0-9.]+)", r.headers["Server-Timing"]).group(1)))
            rows.append({"page": p, "server_p50": pct(server, 50), "server_p99": pct(server, 99),
                         "client_p50": pct(client, 50), "client_p99": pct(client, 99), "bytes": len(r.data)})
        f50 = pct(floor, 50)
        print(f"functions: {a.functions} (created in {fill:.1f} s); invocations: {a.invokes} ({invoke_s:.1f} s)")
        print(f"floor GET /health round trip: p50 {f50:.3f} ms, p99 {pct(floor, 99):.3f} ms\n")
        print("| page | server p50 / p99 (ms) | client p50 / p99 (ms) | client p50 ÷ floor | HTML |")
        print("|---|---|---|---|---|")
        for r in rows:
            print(f"| `{r['page']}` | {r['server_p50']:.2f} / {r['server_p99']:.2f} | {r['client_p50']:.2f} / {r['client_p99']:.2f} "
                  f"| {r['client_p50'] / f50:.1f}× | {r['bytes'] / 1024:.0f} KB |")
        worst = max(rows, key=lambda r: r["server_p99"])
        print(f"\nslowest page by server p99: {worst['page']} {worst['server_p99']:.2f} ms (goal < 20 ms)")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
