"""SIGTERM while a synchronous invoke is in flight: the invoke completes (within
`server.shutdown_grace_secs`), new connections are refused from the signal on, the
environments are killed, the daemon's cgroups are removed and it exits 0."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import threading
import time
from pathlib import Path

from conftest import ROLE, Daemon, make_zip

SLOW = "import time\n\ndef lambda_handler(event, context):\n    time.sleep(4)\n    return {'done': True}\n"


def cgroup_dirs(name: str) -> list[Path]:
    found = []
    for root, dirs, _ in os.walk("/sys/fs/cgroup"):
        if name in dirs:
            found.append(Path(root) / name)
        if root.count("/") > 6:
            dirs[:] = []
    return found


def test_sigterm_finishes_the_in_flight_invoke_then_cleans_up(tmp_path):
    d = Daemon(tmp_path, env={"LAMBDABOX_SERVER__SHUTDOWN_GRACE_SECS": "15"}).start()
    try:
        lam = d.client(read_timeout=60)
        lam.create_function(FunctionName="slow", Runtime="python3.11", Role=ROLE,
                            Handler="lambda_function.lambda_handler", Timeout=30,
                            Code={"ZipFile": make_zip({"lambda_function.py": SLOW})})
        # a warm environment, so the in-flight invoke is all runtime
        lam.invoke(FunctionName="slow", Payload=b"{}")
        digest = hashlib.sha256(str(d.data_dir.resolve()).encode()).hexdigest()[:8]
        parent = f"lambdabox-{digest}"
        assert cgroup_dirs(parent), "the daemon's cgroup parent should exist while it runs"
        result: dict = {}

        def call():
            t0 = time.monotonic()
            r = lam.invoke(FunctionName="slow", Payload=b"{}")
            result.update(status=r["StatusCode"], body=r["Payload"].read(),
                          error=r.get("FunctionError"), took=time.monotonic() - t0,
                          done_at=time.monotonic())

        def started() -> int:
            out = d.lambdabox("logs", "slow", "--since-minutes", "60").stdout
            return out.count("START RequestId")

        t = threading.Thread(target=call)
        t.start()
        # the second invoke is in flight once its START line is logged
        deadline = time.monotonic() + 30
        while started() < 2:
            assert time.monotonic() < deadline and t.is_alive(), "the second invoke never started"
            time.sleep(0.1)
        d.proc.send_signal(signal.SIGTERM)
        # no new connections once the signal arrived (and while the invoke is still running)
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as s:
                s.settimeout(2)
                refused = s.connect_ex(("127.0.0.1", d.port)) != 0
            if refused or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        refused_at = time.monotonic()
        assert refused, "a new connection was accepted 10 s after SIGTERM"
        t.join(timeout=30)
        assert result.get("status") == 200 and result.get("error") is None, result
        assert b'"done": true' in result["body"], result
        assert refused_at < result["done_at"], "the listener closed only after the in-flight invoke"
        rc = d.proc.wait(timeout=30)
        assert rc == 0, d.log()
        assert not cgroup_dirs(parent), cgroup_dirs(parent)
        assert "stopping execution environments" in d.log()
    finally:
        d.kill()
