"""Queues (issue 16) on a fresh daemon.

- SendMessage with 1 and 8 producers: wrk replaying one signed AWS JSON 1.0 `SendMessage` to a
  standard queue; every 200 is a message committed to SQLite (concurrent sends share a
  commit). Beside two floors of the same run: the sync `GetFunction` rate at the same
  concurrency (the front door's signed-request floor) and the disk's durable-commit rate
  (fdatasync, one writer, the data directory's file system).
- End to end: N messages already in a standard queue, then an event source mapping (BatchSize
  10) into a Python batch function that returns `{"batchItemFailures": []}`; messages/s from the
  mapping's creation until the queue is empty (every message received, invoked, deleted).
  Beside the same function's warm synchronous invoke rate with wrk at c=1 and c=8 (one invoke
  carries up to 10 messages, so the ratio can exceed 1).
"""
import json, time

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from async_queue import fdatasync_floor
from lib import Daemon, invoke_path, wrk, zipped

BATCH = "def handler(event, context):\n    return {'batchItemFailures': []}\n"


def sqs_headers(d, target, body):
    req = AWSRequest(method="POST", url=f"http://{d.host}/", data=body,
                     headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"AmazonSQS.{target}"})
    SigV4Auth(d.creds, "sqs", "us-east-1").add_auth(req)
    return dict(req.headers.items())


def sqs(d, pool, target, req):
    body = json.dumps(req).encode()
    r = pool.urlopen("POST", "/", body=body, headers=sqs_headers(d, target, body))
    assert r.status == 200, (target, r.status, r.data[:500])
    return json.loads(r.data or b"{}")


def depth(d, pool, url):
    a = sqs(d, pool, "GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["All"]})["Attributes"]
    return int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"]) + \
        int(a["ApproximateNumberOfMessagesDelayed"])


def run(binary, env, quick):
    secs = 3 if quick else 5
    n_e2e = 2000 if quick else 6000
    d = Daemon(binary, env)
    try:
        host, port = d.host.split(":")
        pool = urllib3.HTTPConnectionPool(host, int(port), maxsize=2, timeout=60)
        d.create("batch", "python3.11", "app.handler", zipped({"app.py": (BATCH, 0o644)}), memory=128)
        url = sqs(d, pool, "CreateQueue", {"QueueName": "bench-send"})["QueueUrl"]
        out = {"fdatasync_per_s": fdatasync_floor(d.data, 100 if quick else 300), "send": {}}
        base = f"http://{d.host}"
        get_path = "/2015-03-31/functions/batch"
        body = json.dumps({"QueueUrl": url, "MessageBody": "x" * 200}).encode()
        send_h = sqs_headers(d, "SendMessage", body)
        for conns in (1, 8):
            g = wrk(base + get_path, d.signed("GET", get_path), b"", conns, secs)
            s = wrk(base + "/", send_h, body, conns, secs)
            out["send"][conns] = {"get_function": g, "send": s,
                                  "ratio": round(s["rps"] / g["rps"], 2) if g["rps"] else None}
        out["sent_stored"] = depth(d, pool, url)
        # warm sync invoke rate of the batch function (its event is a one-record SQS event)
        ev = json.dumps({"Records": [{"messageId": "m", "body": "x"}]}).encode()
        ip = invoke_path("batch")
        st, data = d.call("POST", ip, ev)
        assert st == 200 and json.loads(data) == {"batchItemFailures": []}, (st, data)
        out["sync_invoke"] = {c: wrk(base + ip, d.signed("POST", ip, ev), ev, c, secs) for c in (1, 8)}
        # end to end
        q = sqs(d, pool, "CreateQueue", {"QueueName": "bench-e2e", "Attributes": {"VisibilityTimeout": "30"}})["QueueUrl"]
        for i in range(0, n_e2e, 10):
            sqs(d, pool, "SendMessageBatch", {"QueueUrl": q, "Entries": [
                {"Id": str(j), "MessageBody": f"m-{i + j}"} for j in range(10)]})
        assert depth(d, pool, q) == n_e2e
        arn = "arn:aws:sqs:us-east-1:000000000000:bench-e2e"
        t0 = time.perf_counter()
        m = json.dumps({"FunctionName": "batch", "EventSourceArn": arn, "BatchSize": 10}).encode()
        st, data = d.call("POST", "/2015-03-31/event-source-mappings/", m)
        assert st == 202, data
        deadline = time.time() + 300
        left = n_e2e
        while left and time.time() < deadline:
            time.sleep(0.1)
            left = depth(d, pool, q)
        el = time.perf_counter() - t0
        out["e2e"] = {"messages": n_e2e, "left": left, "secs": round(el, 2),
                      "msgs_per_s": round((n_e2e - left) / el), "batch_size": 10}
        out["e2e"]["ratio_sync_c1"] = round(out["e2e"]["msgs_per_s"] / out["sync_invoke"][1]["rps"], 2)
        out["e2e"]["ratio_sync_c8"] = round(out["e2e"]["msgs_per_s"] / out["sync_invoke"][8]["rps"], 2)
    finally:
        d.stop()
    return out
