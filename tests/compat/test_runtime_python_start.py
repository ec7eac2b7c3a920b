"""The python runtime client's lean start (issue 22): a handler that imports nothing finds none
of logging, json, re, socket or traceback imported by the client, and its event and result
still round-trip as JSON; `logging` imported for the first time inside a handler still gets
the Lambda handler (AWS text format with the request id, JSON format, ApplicationLogLevel, one
handler however many invokes); the client's bytecode is cached per host interpreter in the
runtime directory the sandbox mounts, fresh for the installed source."""

from __future__ import annotations

import json
import struct
import time

import pytest

from invoke_support import create_function, invoke

LEAN_APP = r'''
import sys
def handler(event, context):
    watched = ("logging", "json", "re", "socket", "traceback", "http.client", "decimal")
    return {"loaded": [m for m in watched if m in sys.modules],
            "version": "%d.%d" % sys.version_info[:2],
            "echo": event}
'''

LAZY_LOG_APP = r'''
def handler(event, context):
    import logging
    logging.getLogger("lazy").warning("late %s", event["tag"])
    logging.getLogger().info("info %s", event["tag"])
    return {"handlers": len(logging.getLogger().handlers)}
'''

EVENT = {"a": [1, "é \u2603", 2.5, None, True], "nested": {"k": "v"}}


@pytest.mark.parametrize("runtime", ["python3.12", "python3.11"])
def test_a_handler_that_imports_nothing_gets_nothing_extra(daemon, runtime):
    lam = daemon.client()
    name = create_function(lam, {"app.py": LEAN_APP}, runtime=runtime)
    for _ in range(2):  # the cold start and a warm invoke
        r = invoke(lam, name, EVENT)
        assert r.function_error is None, r.raw
        out = json.loads(r.raw)
        assert out["loaded"] == [], out
        assert out["version"] == runtime[len("python"):]
        assert out["echo"] == EVENT


def test_logging_imported_late_gets_the_lambda_handler(daemon):
    lam = daemon.client()
    name = create_function(lam, {"app.py": LAZY_LOG_APP})
    for tag in ("t1", "t2"):
        r = invoke(lam, name, {"tag": tag})
        assert r.function_error is None, r.raw
        assert json.loads(r.raw) == {"handlers": 1}
        rid = r.headers["x-amzn-requestid"]
        lines = [line for line in r.log.splitlines() if f"late {tag}" in line]
        assert len(lines) == 1, r.log
        level, stamp, request_id, message = lines[0].split("\t")
        assert (level, request_id, message) == ("[WARNING]", rid, f"late {tag}"), lines
        assert stamp.endswith("Z") and len(stamp) == 24, stamp
        assert f"info {tag}" not in r.log  # the root logger's default level is WARNING


def test_logging_imported_late_in_json_format_with_a_level(daemon):
    lam = daemon.client()
    name = create_function(lam, {"app.py": LAZY_LOG_APP},
                           LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "INFO"})
    r = invoke(lam, name, {"tag": "j1"})
    assert r.function_error is None, r.raw
    rid = r.headers["x-amzn-requestid"]
    recs = [json.loads(line) for line in r.log.splitlines() if line.startswith("{")]
    mine = [x for x in recs if x.get("message") in ("late j1", "info j1")]
    assert [(x["level"], x["logger"], x["requestId"]) for x in mine] == [
        ("WARN", "lazy", rid), ("INFO", "root", rid)], recs


def pyc_header(path):
    with open(path, "rb") as f:
        head = f.read(16)
    return struct.unpack("<4xIII", head)  # flags, source mtime, source size


def test_the_client_bytecode_is_cached_for_the_interpreter(daemon):
    lam = daemon.client()
    name = create_function(lam, {"app.py": LEAN_APP})
    version = json.loads(invoke(lam, name, {}).raw)["version"]
    source = daemon.data_dir / "runtime" / "python" / "_lambdabox_bootstrap.py"
    pyc = (daemon.data_dir / "runtime" / "python" / "__pycache__"
           / f"_lambdabox_bootstrap.cpython-{version.replace('.', '')}.pyc")
    # Written by a thread of the daemon after it started: wait for the file (generously).
    deadline = time.monotonic() + 120
    while not pyc.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pyc.exists(), sorted(p.name for p in pyc.parent.glob("*")) if pyc.parent.exists() else "no cache dir"
    st = source.stat()
    flags, mtime, size = pyc_header(pyc)
    assert (flags, mtime, size) == (0, int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF)
