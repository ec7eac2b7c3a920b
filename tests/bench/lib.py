"""Shared pieces of the benchmark suite: the daemon under test, a keep-alive signed client,
percentiles, timing loops, wrk with a Lua script for POST bodies, and process memory.

Requests are signed once and replayed: SigV4 signatures stay valid for 15 minutes, and the
client's signing cost is not the platform's. wrk sends each request in one write.
"""
import base64, io, json, os, re, shutil, signal, subprocess, tempfile, time, zipfile

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARTIFACTS = os.path.join(ROOT, "tests", "artifacts", "bench")
RUST_ECHO = os.path.join(ROOT, "tests/fixtures/rust-echo/target/release/bootstrap")
PY_ECHO = "def handler(event, context):\n    return event\n"
NODE_ECHO = "exports.handler = async (event) => event;\n"
EVENT = b'{"k":1}'


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def stats(xs, scale=1.0, nd=1):
    """p50/p99/n of samples, multiplied by `scale` (e.g. 1e3 for ms -> us)."""
    return {"p50": round(pct(xs, 50) * scale, nd), "p99": round(pct(xs, 99) * scale, nd), "n": len(xs)}


def timed(fn, n, warmup=0):
    """Milliseconds per call of fn, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1e3)
    return out


def zipped(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, (data, mode) in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            z.writestr(info, data)
    return base64.b64encode(buf.getvalue()).decode()


def runtimes():
    """The echo function per runtime: (Runtime, Handler, base64 zip)."""
    out = {}
    if os.path.exists(RUST_ECHO):
        out["rust"] = ("provided.al2023", "bootstrap", zipped({"bootstrap": (open(RUST_ECHO, "rb").read(), 0o755)}))
    out["python"] = ("python3.11", "app.handler", zipped({"app.py": (PY_ECHO, 0o644)}))
    out["node"] = ("nodejs20.x", "index.handler", zipped({"index.js": (NODE_ECHO, 0o644)}))
    return out


def rss_kb(pid, field="VmRSS"):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def pss_kb(pid):
    try:
        for line in open(f"/proc/{pid}/smaps_rollup"):
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid):
    """Every live descendant of pid (the sandbox helpers, inits and runtimes)."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = open(f"/proc/{d}/stat").read()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


class Daemon:
    """`lambdabox serve` on 127.0.0.1:0 with a temp data dir."""

    def __init__(self, binary, extra_env=None, extra_args=()):
        self.data = tempfile.mkdtemp(prefix="lbx-bench-")
        env = dict(os.environ, **(extra_env or {}))
        self.proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data, "--log-level", "warn",
                                      *extra_args],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on "), line
        self.host = line.removeprefix("listening on http://")
        kv = dict(l.split(" = ", 1) for l in open(os.path.join(self.data, "admin-credentials")).read().splitlines() if " = " in l)
        self.creds = Credentials(kv["aws_access_key_id"], kv["aws_secret_access_key"])
        h, p = self.host.split(":")
        self.pool = urllib3.HTTPConnectionPool(h, int(p), maxsize=1, timeout=120)

    @property
    def pid(self):
        return self.proc.pid

    def signed(self, method, path, body=b""):
        req = AWSRequest(method=method, url=f"http://{self.host}{path}", data=body)
        SigV4Auth(self.creds, "lambda", "us-east-1").add_auth(req)
        return dict(req.headers.items())

    def call(self, method, path, body=b"", headers=None):
        headers = headers or self.signed(method, path, body)
        r = self.pool.urlopen(method, path, body=body or None, headers=headers)
        return r.status, r.data

    def health(self):
        return self.pool.urlopen("GET", "/health").status

    def create(self, name, runtime, handler, code, memory=512):
        body = json.dumps({"FunctionName": name, "Runtime": runtime, "Handler": handler, "MemorySize": memory,
                           "Role": "arn:aws:iam::123456789012:role/x", "Code": {"ZipFile": code}}).encode()
        s, d = self.call("POST", "/2015-03-31/functions", body)
        assert s == 201, d

    def invoke(self, name, payload=EVENT, headers=None):
        s, body = self.call("POST", f"/2015-03-31/functions/{name}/invocations", payload, headers)
        assert s == 200 and json.loads(body) == json.loads(payload), (s, body)
        return body

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.data, ignore_errors=True)


def invoke_path(name):
    return f"/2015-03-31/functions/{name}/invocations"


def _us(text):
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    if not m:
        return None
    v = float(m.group(1))
    return round(v * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)], 1)


def wrk(url, headers=None, body=b"", conns=1, secs=5, warmup=1, method=None):
    """wrk with a Lua script setting method, body and headers; returns req/s and latency."""
    lua = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    hdrs = "".join(f'wrk.headers["{k}"] = {json.dumps(v)}\n' for k, v in (headers or {}).items() if k.lower() != "host")
    lua.write(f'wrk.method = "{method or ("POST" if body else "GET")}"\n')
    if body:
        lua.write(f"wrk.body = {json.dumps(body.decode())}\n")
    lua.write(hdrs)
    lua.close()
    threads = str(min(conns, 2))
    if warmup:
        subprocess.run(["wrk", "-t", threads, "-c", str(conns), "-d", f"{warmup}s", "-s", lua.name, url], capture_output=True)
    out = subprocess.run(["wrk", "-t", threads, "-c", str(conns), "-d", f"{secs}s", "--latency", "-s", lua.name, url],
                         capture_output=True, text=True).stdout
    os.unlink(lua.name)
    lines = out.splitlines()
    rps = float(next(l.split()[1] for l in lines if l.startswith("Requests/sec")))
    lat = {p: _us(next(l.split()[1] for l in lines if l.strip().startswith(p + "%"))) for p in ("50", "99")}
    non2xx = sum(int(l.split()[-1]) for l in lines if "Non-2xx" in l)
    # "Socket errors: connect 0, read 0, write 0, timeout 22": wrk gives up on a request after 2 s.
    sock = dict((k, int(v)) for l in lines if "Socket errors" in l for k, v in re.findall(r"(\w+) (\d+)", l))
    return {"rps": round(rps), "p50_us": lat["50"], "p99_us": lat["99"], "conns": conns, "secs": secs,
            "errors": non2xx + sum(sock.values()), "non2xx": non2xx, "timeouts": sock.get("timeout", 0)}
