"""`lambdabox backup` and `lambdabox restore` against the real binary: an online backup taken
while a loop keeps creating functions and sending SQS messages, restored into a fresh data
directory that a new daemon then serves with every function, version, alias, layer, schedule
and queued message acknowledged before the backup began; the refusals (a running daemon's
directory, a directory with data, a schema newer than the binary); the automatic backup
before a schema upgrade."""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import threading
import time
import zipfile

from conftest import BIN, ROLE, ROOT, Daemon, handler_zip, make_zip, unique
from events_support import events_client
from sqs_support import sqs_client


def run(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=timeout)


def create_fn(lam, name: str, **kw):
    return lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE,
                               Handler="lambda_function.lambda_handler",
                               Code={"ZipFile": handler_zip(name)}, **kw)


def test_backup_under_live_writes_restores_into_a_fresh_daemon(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = Daemon(tmp_path / "a").start()
    try:
        lam, sqs, sch = a.client(), sqs_client(a), events_client(a, "scheduler")
        layer = lam.publish_layer_version(LayerName="libs", Content={
            "ZipFile": make_zip({"python/helper.py": "X = 1\n"})})
        create_fn(lam, "base", Layers=[layer["LayerVersionArn"]])
        v1 = lam.publish_version(FunctionName="base")["Version"]
        lam.create_alias(FunctionName="base", Name="live", FunctionVersion=v1)
        fn_arn = lam.get_function(FunctionName="base")["Configuration"]["FunctionArn"]
        sch.create_schedule(Name="nightly", ScheduleExpression="cron(0 3 * * ? *)",
                            FlexibleTimeWindow={"Mode": "OFF"},
                            Target={"Arn": fn_arn, "RoleArn": ROLE})
        url = sqs.create_queue(QueueName="work")["QueueUrl"]
        for i in range(5):
            sqs.send_message(QueueUrl=url, MessageBody=f"base-{i}")

        # the live writer: every acknowledged write is recorded with the time it was acked
        acked: list[tuple[float, str, str]] = []
        stop = threading.Event()
        failures: list[str] = []

        def writer():
            lw, sw = a.client(), sqs_client(a)
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    create_fn(lw, f"loop-{n}")
                    acked.append((time.monotonic(), "fn", f"loop-{n}"))
                    sw.send_message(QueueUrl=url, MessageBody=f"loop-{n}")
                    acked.append((time.monotonic(), "msg", f"loop-{n}"))
                except Exception as e:  # noqa: BLE001 - recorded, asserted below
                    failures.append(repr(e))

        t = threading.Thread(target=writer, daemon=True)
        t.start()
        # the backup starts once the writer has a few acknowledged writes (not after a fixed pause)
        deadline = time.monotonic() + 30
        while len(acked) < 4 and not failures and time.monotonic() < deadline:
            time.sleep(0.05)
        archive = tmp_path / "backups" / "live.zip"
        started = time.monotonic()
        out = run("backup", "--to", str(archive), "--data-dir", str(a.data_dir))
        time.sleep(0.5)
        stop.set()
        t.join(timeout=30)
        assert out.returncode == 0, out.stderr
        assert not failures, failures
        before = [(k, v) for (at, k, v) in acked if at < started]
        assert len(before) >= 2, acked
        with zipfile.ZipFile(archive) as z:
            names = set(z.namelist())
        assert {"lambdabox-backup.json", "lambdabox.db", "sqs.db", "admin-credentials"} <= names

        # a running daemon's directory is refused, even with --force, and left unchanged
        out = run("restore", "--from", str(archive), "--data-dir", str(a.data_dir), "--force")
        assert out.returncode != 0
        assert "stop it first" in out.stderr, out.stderr
        assert lam.get_function(FunctionName="loop-1")
    finally:
        a.kill()

    b = Daemon(tmp_path / "b")
    out = run("restore", "--from", str(archive), "--data-dir", str(b.data_dir))
    assert out.returncode == 0, out.stderr
    b.start()
    try:
        lam, sqs, sch = b.client(), sqs_client(b), events_client(b, "scheduler")
        got = lam.get_function(FunctionName="base")["Configuration"]
        assert got["Layers"][0]["Arn"] == layer["LayerVersionArn"]
        versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName="base")["Versions"]]
        assert versions == ["$LATEST", v1]
        assert lam.get_alias(FunctionName="base", Name="live")["FunctionVersion"] == v1
        assert lam.get_layer_version(LayerName="libs", VersionNumber=1)["Version"] == 1
        assert sch.get_schedule(Name="nightly")["ScheduleExpression"] == "cron(0 3 * * ? *)"
        # the restored code runs
        res = lam.invoke(FunctionName="base:live", Payload=b"{}")
        assert res["StatusCode"] == 200 and b"base" in res["Payload"].read()
        names = set()
        for page in lam.get_paginator("list_functions").paginate():
            names |= {f["FunctionName"] for f in page["Functions"]}
        url = sqs.get_queue_url(QueueName="work")["QueueUrl"]
        bodies: set[str] = set()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            msgs = got.get("Messages", [])
            if not msgs:
                break
            for m in msgs:
                bodies.add(m["Body"])
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        assert {f"base-{i}" for i in range(5)} <= bodies
        for kind, value in before:
            if kind == "fn":
                assert value in names, (value, sorted(names))
            else:
                assert value in bodies, (value, sorted(bodies))
        assert b.stop(signal.SIGTERM) == 0
    finally:
        b.kill()

    # restoring over data needs --force
    out = run("restore", "--from", str(archive), "--data-dir", str(b.data_dir))
    assert out.returncode != 0 and "--force" in out.stderr, out.stderr
    out = run("restore", "--from", str(archive), "--data-dir", str(b.data_dir), "--force")
    assert out.returncode == 0, out.stderr


def test_a_newer_schema_refuses_to_start_with_what_to_do(tmp_path):
    d = Daemon(tmp_path).start()
    assert d.stop(signal.SIGTERM) == 0
    db = d.data_dir / "lambdabox.db"
    with sqlite3.connect(db) as c:
        c.execute("PRAGMA user_version = 999")
    p = subprocess.run([str(BIN), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(d.data_dir)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert "schema 999" in p.stderr and "newer" in p.stderr, p.stderr
    assert "lambdabox restore" in p.stderr, p.stderr
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == 999


def test_an_upgrade_takes_a_backup_before_migrating(tmp_path):
    # a database one schema behind: a current one with the last migration's tables undone
    migrations = sorted((ROOT / "migrations").glob("0*.sql"))
    latest = int(migrations[-1].name[:4])
    d = Daemon(tmp_path).start()
    assert d.stop(signal.SIGTERM) == 0
    data = d.data_dir
    last = migrations[-1].read_text()
    # its tables are dropped; a migration without tables only rewrites rows, idempotently
    tables = re.findall(r"CREATE TABLE (\w+)", last)
    columns = re.findall(r"ALTER TABLE (\w+) ADD COLUMN (\w+)", last)
    with sqlite3.connect(data / "lambdabox.db") as c:
        for t in reversed(tables):
            c.execute(f"DROP TABLE {t}")
        for t, col in reversed(columns):
            c.execute(f"ALTER TABLE {t} DROP COLUMN {col}")
        c.execute(f"PRAGMA user_version = {latest - 1}")
    d = Daemon(tmp_path).start()
    try:
        backups = list((data / "backups").glob(f"pre-upgrade-v{latest - 1}-to-v{latest}-*.zip"))
        assert len(backups) == 1, list((data / "backups").iterdir())
        with zipfile.ZipFile(backups[0]) as z:
            z.extract("lambdabox.db", tmp_path / "x")
        with sqlite3.connect(tmp_path / "x" / "lambdabox.db") as c:
            assert c.execute("PRAGMA user_version").fetchone()[0] == latest - 1
        with sqlite3.connect(data / "lambdabox.db") as c:
            assert c.execute("PRAGMA user_version").fetchone()[0] == latest
    finally:
        d.kill()


def test_a_second_daemon_on_the_same_data_dir_is_refused(tmp_path):
    d = Daemon(tmp_path).start()
    try:
        p = subprocess.run([str(BIN), "serve", "--listen", "127.0.0.1:0", "--data-dir",
                            str(d.data_dir)], capture_output=True, text=True, timeout=30)
        assert p.returncode != 0
        assert f"pid {d.proc.pid}" in p.stderr, p.stderr
    finally:
        d.kill()
