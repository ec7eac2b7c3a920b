"""The object store (issue 20) on a fresh daemon.

- PutObject and GetObject of 1 KB objects: sequential (urllib3 keep-alive, each request signed
  by botocore's S3 signer with the body's SHA-256), and wrk replaying one signed 1 KB PUT / GET
  at c=1 and c=8. Every PUT 200 is an object whose file is fsynced and renamed and whose row is
  committed. Beside the floor of the same run: writing the same bytes to a local file in the
  data directory the way the store does (write, fsync, rename, fsync of the directory) and
  reading them back.
- 64 MB objects: PUT (UNSIGNED-PAYLOAD, streamed to disk) and GET in MB/s, beside the same
  floor for 64 MB (write + fsync + rename; read back from the page cache).
- Upload-to-function-start latency: a bucket notification into a Python function that returns
  `time.time()` at its start; the OnSuccess record arrives in an SQS queue. Latency = function
  start - the PUT's send time (same host clock), warm function, sequential uploads.
Run alone: `.venv/bin/python tests/bench/s3.py target/release/lambdabox [--quick]`.
"""
import hashlib, json, os, statistics, sys, time

import urllib3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest

from lib import Daemon, stats, timed, wrk, zipped

STAMP = "import time\ndef handler(event, context):\n    return {'start': time.time()}\n"


def s3_headers(d, method, path, body=b"", unsigned=False):
    req = AWSRequest(method=method, url=f"http://{d.host}{path}", data=body)
    if unsigned:
        req.headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
        req.context["payload_signing_enabled"] = False
    S3SigV4Auth(d.creds, "s3", "us-east-1").add_auth(req)
    return dict(req.headers.items())


def s3(d, pool, method, path, body=b"", unsigned=False, preload=True):
    r = pool.urlopen(method, path, body=body or None, headers=s3_headers(d, method, path, body, unsigned),
                     preload_content=preload)
    assert r.status in (200, 204), (method, path, r.status, r.data[:300] if preload else b"")
    return r


def floor_write(directory, data):
    tmp, final = os.path.join(directory, "floor.tmp"), os.path.join(directory, "floor.bin")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, final)
    fd = os.open(directory, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)


def floor_read(directory):
    with open(os.path.join(directory, "floor.bin"), "rb") as f:
        while f.read(1 << 20):
            pass


def sqs_call(d, pool, target, req):
    from botocore.auth import SigV4Auth
    body = json.dumps(req).encode()
    r = AWSRequest(method="POST", url=f"http://{d.host}/", data=body,
                   headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"AmazonSQS.{target}"})
    SigV4Auth(d.creds, "sqs", "us-east-1").add_auth(r)
    resp = pool.urlopen("POST", "/", body=body, headers=dict(r.headers.items()))
    assert resp.status == 200, resp.data[:300]
    return json.loads(resp.data or b"{}")


def notify_latency(d, pool, n):
    d.create("stamp", "python3.11", "app.handler", zipped({"app.py": (STAMP, 0o644)}), memory=128)
    q = sqs_call(d, pool, "CreateQueue", {"QueueName": "stamps"})["QueueUrl"]
    cfg = json.dumps({"DestinationConfig": {"OnSuccess": {"Destination": "arn:aws:sqs:us-east-1:000000000000:stamps"}},
                      "MaximumRetryAttempts": 0}).encode()
    st, data = d.call("PUT", "/2019-09-25/functions/stamp/event-invoke-config", cfg)
    assert st == 200, data
    s3(d, pool, "PUT", "/notify")
    xml = ("<NotificationConfiguration><CloudFunctionConfiguration><Id>n</Id>"
           "<CloudFunction>arn:aws:lambda:us-east-1:000000000000:function:stamp</CloudFunction>"
           "<Event>s3:ObjectCreated:*</Event></CloudFunctionConfiguration></NotificationConfiguration>").encode()
    s3(d, pool, "PUT", "/notify?notification", xml)
    lat = []
    for i in range(n + 1):
        t0 = time.time()
        s3(d, pool, "PUT", f"/notify/k{i}", b"x")
        while True:
            m = sqs_call(d, pool, "ReceiveMessage", {"QueueUrl": q, "WaitTimeSeconds": 5}).get("Messages", [])
            if m:
                break
        sqs_call(d, pool, "DeleteMessage", {"QueueUrl": q, "ReceiptHandle": m[0]["ReceiptHandle"]})
        start = json.loads(m[0]["Body"])["responsePayload"]["start"]
        if i:   # the first one includes the cold start
            lat.append((start - t0) * 1e3)
    return {"p50_ms": round(statistics.median(lat), 2), "max_ms": round(max(lat), 2), "n": len(lat)}


def run(binary, env, quick):
    secs = 3 if quick else 5
    d = Daemon(binary, env)
    try:
        host, port = d.host.split(":")
        pool = urllib3.HTTPConnectionPool(host, int(port), maxsize=2, timeout=300)
        s3(d, pool, "PUT", "/bench")
        small = os.urandom(1024)
        n = 200 if quick else 1000
        counter = iter(range(10 ** 9))
        out = {"small": {}, "large": {}}
        put = timed(lambda: s3(d, pool, "PUT", f"/bench/s{next(counter)}", small), n, warmup=20)
        get = timed(lambda: s3(d, pool, "GET", "/bench/s0"), n, warmup=20)
        fw = timed(lambda: floor_write(d.data, small), n, warmup=20)
        fr = timed(lambda: floor_read(d.data), n, warmup=20)
        out["small"]["sequential"] = {"put_ms": stats(put, nd=3), "get_ms": stats(get, nd=3),
                                      "floor_write_ms": stats(fw, nd=3), "floor_read_ms": stats(fr, nd=3)}
        base = f"http://{d.host}"
        get_h = s3_headers(d, "GET", "/bench/s0")
        # wrk's body is text: a 1 KB printable body
        text = (b"0123456789abcdef" * 64)
        put_h = s3_headers(d, "PUT", "/bench/wrk", text)
        out["small"]["wrk"] = {c: {"put": wrk(base + "/bench/wrk", put_h, text, c, secs, method="PUT"),
                                   "get": wrk(base + "/bench/s0", get_h, b"", c, secs)} for c in (1, 8)}
        big = os.urandom(64 << 20)
        runs = 2 if quick else 5
        puts, gets, fws, frs = [], [], [], []
        for i in range(runs):
            t = time.perf_counter()
            s3(d, pool, "PUT", f"/bench/big{i}", big, unsigned=True)
            puts.append(time.perf_counter() - t)
            t = time.perf_counter()
            r = s3(d, pool, "GET", f"/bench/big{i}", preload=False)
            h = hashlib.md5()
            for chunk in r.stream(1 << 20):
                h.update(chunk)
            r.release_conn()
            gets.append(time.perf_counter() - t)
            assert h.hexdigest() == hashlib.md5(big).hexdigest()
            t = time.perf_counter()
            floor_write(d.data, big)
            fws.append(time.perf_counter() - t)
            t = time.perf_counter()
            floor_read(d.data)
            frs.append(time.perf_counter() - t)
        mbps = lambda xs: round(64 / statistics.median(xs), 1)
        out["large"] = {"put_mb_s": mbps(puts), "get_mb_s": mbps(gets), "floor_write_mb_s": mbps(fws),
                        "floor_read_mb_s": mbps(frs), "runs": runs}
        out["notify"] = notify_latency(d, pool, 10 if quick else 40)
        return out
    finally:
        d.stop()


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1], {}, "--quick" in sys.argv), indent=1))
