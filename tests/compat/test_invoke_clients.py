"""Official Runtime API clients, unmodified, against the daemon's Runtime API (issue 4, "Show"):

- a Rust function built with the `lambda_runtime` crate from crates.io
  (tests/fixtures/rust-echo, built by tests/run) as a `provided.al2023` bootstrap;
- a Python function run by AWS's `awslambdaric` (the copy installed in the test venv, shipped
  inside the zip because the sandbox only mounts /var/task, /opt, /var/runtime and system
  directories) through a `bootstrap` shell script.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from invoke_support import (
    CLIENT_CONTEXT,
    b64json,
    check_frame,
    create_function,
    function_arn,
    invoke,
    log_stream_re,
    start_isolated_daemon,
    stop_daemon,
)

ROOT = Path(__file__).resolve().parents[2]
RUST_ECHO_DIR = ROOT / "tests" / "fixtures" / "rust-echo"
RUST_ECHO = RUST_ECHO_DIR / "target" / "release" / "bootstrap"
DEBIAN_PYTHON = "/usr/bin/python3.11"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = start_isolated_daemon(tmp_path_factory.mktemp("lambdabox-invoke-clients"))
    yield d
    stop_daemon(d)


@pytest.fixture(scope="module")
def lam(daemon):
    return daemon.client(read_timeout=120, max_pool_connections=16)


# ---------------------------------------------------------------------------------------------
# Rust: lambda_runtime


@pytest.fixture(scope="module")
def rust_echo(lam):
    assert RUST_ECHO.exists(), (
        f"{RUST_ECHO} is missing: build it with "
        f"`cargo build --release --manifest-path {RUST_ECHO_DIR / 'Cargo.toml'}` (tests/run does)")
    return create_function(
        lam, {"bootstrap": RUST_ECHO.read_bytes()}, executables=("bootstrap",),
        runtime="provided.al2023", handler="bootstrap", MemorySize=128, Timeout=5,
    )


def test_rust_lambda_runtime_echo(lam, rust_echo):
    event = {"hello": "rust", "n": [1, 2.5, None, True], "nested": {"ü": "✓"}}
    res = invoke(lam, rust_echo, event)
    assert res.status == 200 and res.function_error is None, res.raw
    assert res.executed_version == "$LATEST"
    check_frame(res)
    assert res.payload == event
    assert res.report().init_ms is not None
    warm = invoke(lam, rust_echo, {"again": 1})
    assert warm.payload == {"again": 1}
    assert warm.report().init_ms is None, warm.log


def test_rust_lambda_runtime_context(lam, rust_echo):
    """What the crate parsed from the /next headers and the reserved environment variables."""
    # the crate's ClientContext wants string maps `custom` and `environment`
    cc = {"client": CLIENT_CONTEXT["client"], "custom": {"tenant": "t-1"},
          "environment": {"platform": "Linux"}}
    before = int(time.time() * 1000)
    res = invoke(lam, rust_echo, {"__context__": True}, ClientContext=b64json(cc))
    after = int(time.time() * 1000)
    assert res.function_error is None, res.raw
    rid = check_frame(res)
    p = res.payload
    assert p["request_id"] == rid
    assert p["invoked_function_arn"] == function_arn(rust_echo)
    # the 5 s timeout counted from when the event was handed out (after a cold start, if any)
    assert before + 5000 <= p["deadline_ms"] <= after + 5000, (before, after, p)
    assert 0 < p["deadline_ms"] - p["now_ms"] <= 5000
    assert p["client_context"] == {"custom": cc["custom"], "environment": cc["environment"]}
    assert p["function_name"] == rust_echo
    assert p["memory"] == 128
    assert p["version"] == "$LATEST"
    assert p["log_group"] == f"/aws/lambda/{rust_echo}"
    assert log_stream_re().match(p["log_stream"]), p


def test_rust_lambda_runtime_error(lam, rust_echo):
    res = invoke(lam, rust_echo, {"__error__": "rust says no"})
    assert res.status == 200 and res.function_error == "Unhandled", res.raw
    assert res.payload["errorMessage"] == "rust says no"
    assert res.payload["errorType"], res.payload
    # the environment stays warm after a function error
    ok = invoke(lam, rust_echo, {"x": 1})
    assert ok.payload == {"x": 1} and ok.report().init_ms is None


def test_rust_lambda_runtime_parallel(lam, rust_echo):
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: invoke(lam, rust_echo, {"i": i}), range(40)))
    assert [r.payload for r in results] == [{"i": i} for i in range(40)]
    assert all(r.function_error is None for r in results)


# ---------------------------------------------------------------------------------------------
# Python: awslambdaric


def _dist_files(name: str) -> dict[str, bytes]:
    """The installed files of a distribution (and none of its metadata or byte code)."""
    dist = importlib.metadata.distribution(name)
    out = {}
    for f in dist.files or []:
        s = str(f)
        if "__pycache__" in s or ".dist-info/" in s or s.startswith("..") or s.startswith("/"):
            continue
        path = Path(dist.locate_file(f))
        if path.is_file():
            out[s] = path.read_bytes()
    return out


def awslambdaric_files() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for dist in ("awslambdaric", "simplejson", "snapshot-restore-py"):
        try:
            files.update(_dist_files(dist))
        except importlib.metadata.PackageNotFoundError:
            assert dist != "awslambdaric", "awslambdaric is not installed in the test venv"
    assert "awslambdaric/__main__.py" in files
    assert any(n.startswith("runtime_client.") and n.endswith(".so") for n in files), sorted(files)
    return files


RIC_APP = r'''
import json, os, uuid

ENV_ID = uuid.uuid4().hex
COUNT = 0

def handler(event, context):
    global COUNT
    COUNT += 1
    if event.get("fail"):
        raise ValueError("ric failure")
    print("ric handler", context.aws_request_id)
    return {
        "event": event,
        "env_id": ENV_ID,
        "count": COUNT,
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "version": context.function_version,
        "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "remaining": context.get_remaining_time_in_millis(),
        "log_stream": context.log_stream_name,
        "custom": context.client_context.custom if context.client_context else None,
        "ric": __import__("awslambdaric").__file__,
    }
'''

RIC_BOOTSTRAP = f"""#!/bin/sh
export PYTHONPATH=/var/task
exec {DEBIAN_PYTHON} -m awslambdaric app.handler
"""


def test_awslambdaric_through_bootstrap_script(lam):
    assert os.path.exists(DEBIAN_PYTHON), f"{DEBIAN_PYTHON} is needed by the bootstrap script"
    # the extension module in the zip must load in the interpreter the bootstrap runs
    check = subprocess.run(
        [DEBIAN_PYTHON, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True, text=True, check=True)
    assert check.stdout.strip() == "3.11"
    files = {**awslambdaric_files(), "app.py": RIC_APP, "bootstrap": RIC_BOOTSTRAP}
    name = create_function(lam, files, executables=("bootstrap",), runtime="provided.al2023",
                           handler="app.handler", Timeout=6, MemorySize=256)
    res = invoke(lam, name, {"k": "v"}, ClientContext=b64json(CLIENT_CONTEXT))
    assert res.status == 200 and res.function_error is None, (res.raw, res.log)
    rid = check_frame(res)
    p = res.payload
    assert p["event"] == {"k": "v"}
    assert p["request_id"] == rid
    assert p["function_name"] == name
    assert p["version"] == "$LATEST"
    assert p["arn"] == function_arn(name)
    assert str(p["memory"]) == "256"
    assert 0 < p["remaining"] <= 6000
    assert log_stream_re().match(p["log_stream"]), p
    assert p["custom"] == CLIENT_CONTEXT["custom"]
    assert p["ric"] == "/var/task/awslambdaric/__init__.py"
    assert f"ric handler {rid}" in res.lines, res.log
    assert res.report().init_ms is not None

    warm = invoke(lam, name, {"k": 2})
    assert warm.function_error is None, warm.raw
    assert (warm.payload["env_id"], warm.payload["count"]) == (p["env_id"], 2)
    assert warm.report().init_ms is None

    err = invoke(lam, name, {"fail": True})
    assert err.function_error == "Unhandled", err.raw
    e = err.payload
    assert e["errorType"] == "ValueError" and e["errorMessage"] == "ric failure", e
    assert e["requestId"] == err.start_id()
    assert any("/var/task/app.py" in line for line in e["stackTrace"]), e


def test_awslambdaric_init_error(lam):
    files = {**awslambdaric_files(), "app.py": "import nowhere_to_be_found\n",
             "bootstrap": RIC_BOOTSTRAP}
    name = create_function(lam, files, executables=("bootstrap",), runtime="provided.al2023",
                           handler="app.handler")
    res = invoke(lam, name, {})
    assert res.status == 200 and res.function_error == "Unhandled", res.raw
    assert res.payload["errorType"] == "Runtime.ImportModuleError", res.payload
    assert "nowhere_to_be_found" in res.payload["errorMessage"]
