"""Crash loop: 20 rounds of `kill -9` at a random moment while writers create functions,
publish versions, put aliases, send SQS messages and queue asynchronous invokes. After every
kill each database passes `PRAGMA integrity_check`, and after the restart every write the
daemon acknowledged before the kill is there (functions, versions, aliases, messages; the
acknowledged asynchronous events are either still queued or were run)."""

from __future__ import annotations

import random
import signal
import sqlite3
import threading
import time

from conftest import ROLE, Daemon, handler_zip
from sqs_support import sqs_client

ROUNDS = 20
DATABASES = ("lambdabox.db", "sqs.db", "async-queue.db", "logs.db")


def integrity(path) -> str:
    c = sqlite3.connect(path)
    try:
        return c.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        c.close()


def test_kill_9_during_mixed_writes_loses_no_acknowledged_write(tmp_path):
    rng = random.Random(21)
    d = Daemon(tmp_path).start()
    lam, sqs = d.client(), sqs_client(d)
    url = sqs.create_queue(QueueName="crash")["QueueUrl"]
    funcs: list[str] = []
    versions: list[tuple[str, str]] = []
    aliases: list[tuple[str, str, str]] = []
    messages: list[str] = []
    events = 0
    started = time.monotonic()
    try:
        for rnd in range(ROUNDS):
            stop = threading.Event()
            lock = threading.Lock()

            def writer(w: int):
                nonlocal events
                lw, sw = d.client(), sqs_client(d)
                n = 0
                while not stop.is_set():
                    n += 1
                    name = f"r{rnd}-w{w}-{n}"
                    try:
                        lw.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE,
                                           Handler="lambda_function.lambda_handler",
                                           Code={"ZipFile": handler_zip(name)})
                        with lock:
                            funcs.append(name)
                        v = lw.publish_version(FunctionName=name)["Version"]
                        with lock:
                            versions.append((name, v))
                        lw.create_alias(FunctionName=name, Name="live", FunctionVersion=v)
                        with lock:
                            aliases.append((name, "live", v))
                        sw.send_message(QueueUrl=url, MessageBody=name)
                        with lock:
                            messages.append(name)
                        lw.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
                        with lock:
                            events += 1
                    except Exception:  # noqa: BLE001 - the kill interrupts calls in flight
                        return

            threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(2)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.2, 1.2))
            d.stop(signal.SIGKILL)
            stop.set()
            for t in threads:
                t.join(timeout=30)
            for db in DATABASES:
                p = d.data_dir / db
                if p.exists():
                    assert integrity(p) == "ok", (rnd, db)
            d.start()
            lam, sqs = d.client(), sqs_client(d)
        # every acknowledged write is there
        have = set()
        for page in lam.get_paginator("list_functions").paginate():
            have |= {f["FunctionName"] for f in page["Functions"]}
        missing = [f for f in funcs if f not in have]
        assert not missing, missing
        for name, v in versions:
            got = [x["Version"] for x in lam.list_versions_by_function(FunctionName=name)["Versions"]]
            assert v in got, (name, v, got)
        for name, alias, v in aliases:
            assert lam.get_alias(FunctionName=name, Name=alias)["FunctionVersion"] == v
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        assert int(attrs["Attributes"]["ApproximateNumberOfMessages"]) >= len(messages)
        assert len(funcs) >= ROUNDS, funcs  # the rounds really wrote
        assert time.monotonic() - started < 240
    finally:
        d.kill()
