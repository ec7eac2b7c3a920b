"""Object store durability (issue 20): `kill -9` while uploads are in flight loses no
acknowledged object (every acknowledged key reads back with its bytes after the restart, and
no key reads back partial), and interrupted uploads (a client that goes away mid-body, a
daemon killed mid-body) leave no object, no temporary file and no unreferenced object file."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import threading
import time
import urllib.parse

from botocore.exceptions import ClientError

from conftest import Daemon, unique
from s3_support import Signer, s3_client


def object_files(d) -> list[str]:
    root = d.data_dir / "s3" / "objects"
    return [f for shard in root.iterdir() if shard.is_dir() for f in os.listdir(shard)]


def start_raw_put(d, bucket: str, key: str, total: int, send: int) -> socket.socket:
    """Sends a signed PUT declaring `total` bytes but only `send` of them; the socket stays open."""
    key_id, secret = d.admin_keys()
    s = Signer(key_id, secret)
    host = d.endpoint.split("://", 1)[1]
    path = f"/{bucket}/{urllib.parse.quote(key)}"
    headers = s.sign("PUT", path, {"host": host, "content-length": str(total)}, "UNSIGNED-PAYLOAD")
    h, port = host.rsplit(":", 1)
    sock = socket.create_connection((h, int(port)), timeout=10)
    head = f"PUT {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock.sendall(head.encode())
    sock.sendall(os.urandom(send))
    return sock


def wait_for(cond, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def test_kill_9_during_uploads_loses_no_acknowledged_object(tmp_path):
    d = Daemon(tmp_path).start()
    try:
        s3 = s3_client(d)
        b = unique("dur").lower()
        s3.create_bucket(Bucket=b)
        acked: dict[str, str] = {}
        attempted: dict[str, str] = {}
        stop = threading.Event()
        lock = threading.Lock()

        def writer(n: int):
            c = s3_client(d, connect_timeout=2, read_timeout=5)
            i = 0
            while not stop.is_set():
                key = f"w{n}/obj-{i}"
                data = hashlib.sha256(key.encode()).digest() * 4096   # 128 KiB, unique per key
                with lock:
                    attempted[key] = hashlib.md5(data).hexdigest()
                try:
                    c.put_object(Bucket=b, Key=key, Body=data)
                except Exception:
                    return
                with lock:
                    acked[key] = hashlib.md5(data).hexdigest()
                i += 1

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        assert wait_for(lambda: len(acked) >= 40, timeout=30), len(acked)
        d.stop(signal.SIGKILL)
        stop.set()
        for t in threads:
            t.join(timeout=10)
        d.start()
        s3 = s3_client(d)
        for key, md5 in acked.items():
            got = s3.get_object(Bucket=b, Key=key)["Body"].read()
            assert hashlib.md5(got).hexdigest() == md5, f"{key} lost or changed"
        listed = {o["Key"]: o for p in s3.get_paginator("list_objects_v2").paginate(Bucket=b)
                  for o in p.get("Contents", [])}
        assert set(acked) <= set(listed) <= set(attempted)
        for key, o in listed.items():
            assert o["ETag"] == f'"{attempted[key]}"', f"{key} is partial"
        assert os.listdir(d.data_dir / "s3" / "tmp") == []
        assert len(object_files(d)) == len(listed)
    finally:
        d.kill()


def test_interrupted_uploads_leave_nothing(tmp_path):
    d = Daemon(tmp_path).start()
    try:
        s3 = s3_client(d)
        b = unique("intr").lower()
        s3.create_bucket(Bucket=b)
        s3.put_object(Bucket=b, Key="kept", Body=b"old bytes")
        # the client goes away mid-body: an existing object keeps its old bytes
        sock = start_raw_put(d, b, "kept", 8 << 20, 1 << 20)
        sock.close()
        sock = start_raw_put(d, b, "new", 8 << 20, 1 << 20)
        sock.close()
        assert wait_for(lambda: os.listdir(d.data_dir / "s3" / "tmp") == []), \
            os.listdir(d.data_dir / "s3" / "tmp")
        assert s3.get_object(Bucket=b, Key="kept")["Body"].read() == b"old bytes"
        try:
            s3.head_object(Bucket=b, Key="new")
            raise AssertionError("a partial upload became an object")
        except ClientError as e:
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        # the daemon dies mid-body: after the restart there is no trace of it
        sock = start_raw_put(d, b, "crash", 64 << 20, 4 << 20)
        assert wait_for(lambda: os.listdir(d.data_dir / "s3" / "tmp") != [])
        d.stop(signal.SIGKILL)
        sock.close()
        d.start()
        s3 = s3_client(d)
        assert os.listdir(d.data_dir / "s3" / "tmp") == []
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=b).get("Contents", [])]
        assert keys == ["kept"], keys
        assert len(object_files(d)) == 1
    finally:
        d.kill()
