"""Helpers of the event source mapping suites: a collector on loopback that the batch function
reports each batch to (independent of the daemon, so it sees every invocation even across a
`kill -9`), the batch function itself, and a daemon whose `collector` subnet reaches it."""

from __future__ import annotations

import json
import socket
import threading
import time

from conftest import ROLE, Daemon, unique
from invoke_support import build_zip, wait_updated

# Body prefixes steer the function: `poison` always fails (reported), `flaky` fails on its first
# delivery, `boom` raises (the whole batch fails), `slow` sleeps a little.
BATCH_FUNCTION = r'''
import json, os, socket, time

def report(summary):
    s = socket.create_connection(("127.0.0.1", int(os.environ["COLLECTOR_PORT"])), timeout=10)
    try:
        s.sendall(json.dumps(summary).encode() + b"\n")
        s.recv(2)
    finally:
        s.close()

def handler(event, context):
    records = event["Records"]
    failed, boom = [], False
    for r in records:
        body = r["body"]
        count = int(r["attributes"]["ApproximateReceiveCount"])
        if body.startswith("poison") or (body.startswith("flaky") and count == 1):
            failed.append(r["messageId"])
        if body.startswith("boom") and count < int(os.environ.get("BOOM_UNTIL", "99")):
            boom = True
        if body.startswith("slow"):
            time.sleep(0.2)
    report({
        "request": context.aws_request_id,
        "records": [{"id": r["messageId"], "body": r["body"],
                     "count": int(r["attributes"]["ApproximateReceiveCount"]),
                     "group": r["attributes"].get("MessageGroupId"),
                     "seq": r["attributes"].get("SequenceNumber")} for r in records],
        "failed": failed, "boom": boom,
        "event": event if any(r["body"].startswith("shape") for r in records) else None,
    })
    if boom:
        raise RuntimeError("boom")
    return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}
'''


class Collector:
    """A TCP server on 127.0.0.1 that stores one JSON line per connection."""

    def __init__(self):
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(256)
        self.port = self.srv.getsockname()[1]
        self.lock = threading.Lock()
        self.batches: list[dict] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(c,), daemon=True).start()

    def _one(self, c):
        buf = b""
        try:
            c.settimeout(10)
            while not buf.endswith(b"\n"):
                chunk = c.recv(65536)
                if not chunk:
                    return
                buf += chunk
            batch = json.loads(buf)
            batch["_at"] = time.monotonic()  # when the collector got it (tests order by it)
            with self.lock:
                self.batches.append(batch)
            c.sendall(b"ok")
        except (OSError, ValueError):
            pass
        finally:
            c.close()

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.batches)

    def of(self, prefix: str) -> list[dict]:
        """Batches with a record whose body starts with `prefix`."""
        return [b for b in self.snapshot() if any(r["body"].startswith(prefix) for r in b["records"])]

    def wait(self, pred, timeout: float = 60.0, what: str = "") -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            snap = self.snapshot()
            if pred(snap):
                return snap
            time.sleep(0.2)
        raise AssertionError(f"collector: timed out waiting for {what}; {len(self.snapshot())} batches")

    def close(self):
        self.srv.close()


def collector_daemon(workdir, collector: Collector, extra_toml: str = "") -> Daemon:
    cfg = workdir / "config.toml"
    cfg.write_text(
        '[sandbox.subnets]\n"collector" = "host"\n'
        f'[sandbox.security_groups]\n"sg-collector" = [{collector.port}]\n{extra_toml}'
    )
    return Daemon(workdir, extra_args=("--config", str(cfg))).start()


def create_batch_function(client, collector: Collector, name: str | None = None, timeout: int = 5,
                          env: dict | None = None, **kw) -> str:
    name = name or unique("batch")
    client.create_function(
        FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
        Code={"ZipFile": build_zip({"app.py": BATCH_FUNCTION})}, Timeout=timeout,
        VpcConfig={"SubnetIds": ["collector"], "SecurityGroupIds": ["sg-collector"]},
        Environment={"Variables": {"COLLECTOR_PORT": str(collector.port), **(env or {})}},
        **kw,
    )
    wait_updated(client, name)
    return name


def wait_state(client, uuid: str, state: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        m = client.get_event_source_mapping(UUID=uuid)
        if m["State"] == state or time.monotonic() > deadline:
            assert m["State"] == state, m
            return m
        time.sleep(0.2)
