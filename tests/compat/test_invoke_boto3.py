"""Invoke through boto3 against the real daemon (issue 4, "Show").

Context members, reserved environment variables, errors with stack traces, timeout, out of
memory, crash, init errors, warm reuse, code updates retiring environments, ten parallel
invokes from ten environments, and the payload limits. One daemon for the module; every test
uses its own functions.
"""

from __future__ import annotations

import base64
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from invoke_support import (
    CLIENT_CONTEXT,
    MAX_SYNC_PAYLOAD,
    NODE_LINE_RE,
    NODE_PROBE,
    PY_LOGGING_RE,
    PY_PROBE,
    REGION,
    b64json,
    check_frame,
    create_function,
    function_arn,
    invoke,
    log_stream_re,
    today_ok,
    unique,
    wait_updated,
    build_zip,
    start_isolated_daemon,
    stop_daemon,
    cgroup_dirs,
    remove_empty_cgroups,
)

RUNTIMES_PY = ["python3.9", "python3.10", "python3.11", "python3.12", "python3.13"]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = start_isolated_daemon(tmp_path_factory.mktemp("lambdabox-invoke-boto3"))
    yield d
    stop_daemon(d)


@pytest.fixture(scope="module")
def lam(daemon):
    return daemon.client(read_timeout=120, max_pool_connections=32)


@pytest.fixture(scope="module")
def py_probe(lam):
    return create_function(
        lam, {"app.py": PY_PROBE}, runtime="python3.12", MemorySize=256, Timeout=7,
        Environment={"Variables": {"MY_VAR": "my value", "OTHER": "x=y;z"}},
    )


@pytest.fixture(scope="module")
def node_probe(lam):
    return create_function(
        lam, {"index.js": NODE_PROBE}, runtime="nodejs20.x", handler="index.handler",
        MemorySize=192, Timeout=5, Environment={"Variables": {"MY_VAR": "node value"}},
    )


# ---------------------------------------------------------------------------------------------
# context and environment


def test_python_context_members(lam, py_probe):
    res = invoke(lam, py_probe, {"hello": "world"}, ClientContext=b64json(CLIENT_CONTEXT))
    assert res.status == 200 and res.function_error is None, res.raw
    assert res.executed_version == "$LATEST"
    rid = check_frame(res)
    p = res.payload
    assert p["event"] == {"hello": "world"}
    assert p["aws_request_id"] == rid
    assert p["function_name"] == py_probe
    assert p["function_version"] == "$LATEST"
    assert p["invoked_function_arn"] == function_arn(py_probe)
    assert str(p["memory_limit_in_mb"]) == "256"
    assert 0 < p["remaining_ms"] <= 7000
    assert p["remaining_ms"] > 5000, "remaining time should be close to the 7 s timeout"
    assert p["log_group_name"] == f"/aws/lambda/{py_probe}"
    m = log_stream_re().match(p["log_stream_name"])
    assert m and today_ok(m.group(1)), p["log_stream_name"]
    assert p["client_context"] == CLIENT_CONTEXT
    assert p["identity"] in (None, {"cognito_identity_id": None, "cognito_identity_pool_id": None})
    assert p["cwd"] == "/var/task"
    assert p["sys_path"][0] == "/var/task"
    assert "/opt/python" in p["sys_path"]
    # print and logging reach the log, the latter in AWS's text format
    assert f"probe print {rid}" in res.lines
    logged = [m for m in map(PY_LOGGING_RE.match, res.lines) if m]
    assert [(m.group(1), m.group(3), m.group(4)) for m in logged] == [
        ("INFO", rid, f"probe logging {py_probe}")
    ], res.log


def test_python_reserved_environment(lam, py_probe):
    res = invoke(lam, py_probe, {})
    assert res.function_error is None, res.raw
    env = res.payload["environ"]
    stream = res.payload["log_stream_name"]
    expected = {
        "AWS_LAMBDA_FUNCTION_NAME": py_probe,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "_HANDLER": "app.handler",
        "LAMBDA_TASK_ROOT": "/var/task",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "TZ": ":UTC",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{py_probe}",
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "MY_VAR": "my value",
        "OTHER": "x=y;z",
    }
    got = {k: env.get(k) for k in expected}
    assert got == expected
    assert re.fullmatch(r"[0-9.]+:\d+|localhost:\d+|[a-z.]+:\d+", env.get("AWS_LAMBDA_RUNTIME_API", "")), env
    assert re.match(r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24}", env.get("_X_AMZN_TRACE_ID", "")), env


def test_node_context_and_environment(lam, node_probe):
    res = invoke(lam, node_probe, {"n": 1}, ClientContext=b64json(CLIENT_CONTEXT))
    assert res.status == 200 and res.function_error is None, res.raw
    rid = check_frame(res)
    p = res.payload
    assert p["event"] == {"n": 1}
    assert p["awsRequestId"] == rid
    assert p["functionName"] == node_probe
    assert p["functionVersion"] == "$LATEST"
    assert p["invokedFunctionArn"] == function_arn(node_probe)
    assert str(p["memoryLimitInMB"]) == "192"
    assert 3000 < p["remaining"] <= 5000
    assert p["logGroupName"] == f"/aws/lambda/{node_probe}"
    m = log_stream_re().match(p["logStreamName"])
    assert m and today_ok(m.group(1)), p["logStreamName"]
    assert p["clientContext"] == CLIENT_CONTEXT
    assert p["callbackWaitsForEmptyEventLoop"] is True
    assert p["cwd"] == "/var/task"
    env = p["environ"]
    expected = {
        "AWS_LAMBDA_FUNCTION_NAME": node_probe,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "192",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": REGION,
        "_HANDLER": "index.handler",
        "LAMBDA_TASK_ROOT": "/var/task",
        "TZ": ":UTC",
        "AWS_EXECUTION_ENV": "AWS_Lambda_nodejs20.x",
        "AWS_LAMBDA_LOG_STREAM_NAME": p["logStreamName"],
        "MY_VAR": "node value",
    }
    assert {k: env.get(k) for k in expected} == expected
    assert env.get("AWS_LAMBDA_RUNTIME_API")
    # console.log / console.warn lines in the Node format
    node_lines = [m for m in map(NODE_LINE_RE.match, res.lines) if m]
    assert [(m.group(2), m.group(3), m.group(4)) for m in node_lines] == [
        (rid, "INFO", f"probe log {rid}"),
        (rid, "WARN", "probe warn"),
    ], res.log


@pytest.mark.parametrize("runtime", RUNTIMES_PY + ["nodejs20.x"])
def test_every_runtime_runs(lam, runtime):
    if runtime.startswith("python"):
        files = {"app.py": PY_PROBE}
        handler = "app.handler"
    else:
        files = {"index.js": NODE_PROBE}
        handler = "index.handler"
    name = create_function(lam, files, runtime=runtime, handler=handler)
    res = invoke(lam, name, {"rt": runtime})
    assert res.status == 200 and res.function_error is None, res.raw
    check_frame(res)
    assert res.payload["event"] == {"rt": runtime}
    if runtime.startswith("python"):
        assert res.payload["python"] == runtime[len("python"):]
        assert res.payload["environ"]["AWS_EXECUTION_ENV"] == f"AWS_Lambda_{runtime}"
    else:
        assert res.payload["node"].startswith("20.")


def test_python_package_module_handler(lam):
    name = create_function(
        lam,
        {
            "pkg/__init__.py": "",
            "pkg/sub/__init__.py": "",
            "pkg/sub/mod.py": "def handle(event, context):\n    return {'where': __name__}\n",
        },
        handler="pkg.sub.mod.handle",
    )
    res = invoke(lam, name, {})
    assert res.function_error is None, res.raw
    assert res.payload == {"where": "pkg.sub.mod"}


def test_node_esm_and_callback_handlers(lam):
    name = create_function(
        lam,
        {
            "index.mjs": "export const handler = async (event) => ({ esm: true, event });\n",
            "cb.js": "exports.handler = (event, context, callback) => {\n"
                     "  setTimeout(() => callback(null, { cb: true, event }), 10);\n};\n",
        },
        runtime="nodejs20.x", handler="index.handler",
    )
    res = invoke(lam, name, {"a": 1})
    assert res.function_error is None, res.raw
    assert res.payload == {"esm": True, "event": {"a": 1}}
    lam.update_function_configuration(FunctionName=name, Handler="cb.handler")
    wait_updated(lam, name)
    res = invoke(lam, name, {"b": 2})
    assert res.function_error is None, res.raw
    assert res.payload == {"cb": True, "event": {"b": 2}}


# ---------------------------------------------------------------------------------------------
# errors

PY_ERRORS = '''
class OrderError(Exception):
    pass

def unhandled(event, context):
    raise ValueError("boom " + event.get("why", ""))

def custom(event, context):
    raise OrderError("order 17 is invalid")

def handled(event, context):
    try:
        raise KeyError("missing")
    except KeyError as e:
        print("handled:", repr(e))
        return {"statusCode": 500, "body": "handled " + str(e)}
'''


def test_python_unhandled_error(lam):
    name = create_function(lam, {"app.py": PY_ERRORS}, handler="app.unhandled")
    res = invoke(lam, name, {"why": "because"})
    assert res.status == 200
    assert res.function_error == "Unhandled"
    rid = check_frame(res)
    p = res.payload
    assert p["errorType"] == "ValueError"
    assert p["errorMessage"] == "boom because"
    assert p["requestId"] == rid
    assert isinstance(p["stackTrace"], list) and p["stackTrace"], p
    assert any('File "/var/task/app.py", line 6, in unhandled' in f for f in p["stackTrace"]), p
    assert any('raise ValueError("boom " + event.get("why", ""))' in f for f in p["stackTrace"]), p
    assert not any("bootstrap" in f for f in p["stackTrace"]), p
    # the error is logged as one `[ERROR] Type: message` line with \r-joined traceback
    err_lines = [ln for ln in res.lines if ln.startswith("[ERROR]")]
    assert len(err_lines) == 1, res.log
    assert "ValueError: boom because" in err_lines[0]
    assert "Traceback (most recent call last):" in err_lines[0]
    assert res.report().rest in ("", "Status: error\tError Type: ValueError\t") or \
        res.report().rest.startswith("Status: error"), res.log


def test_python_custom_exception_type(lam):
    name = create_function(lam, {"app.py": PY_ERRORS}, handler="app.custom")
    res = invoke(lam, name, {})
    assert res.function_error == "Unhandled"
    assert res.payload["errorType"] == "OrderError"
    assert res.payload["errorMessage"] == "order 17 is invalid"
    assert any("in custom" in f for f in res.payload["stackTrace"])


def test_python_handled_error_is_a_normal_result(lam):
    name = create_function(lam, {"app.py": PY_ERRORS}, handler="app.handled")
    res = invoke(lam, name, {})
    assert res.status == 200 and res.function_error is None, res.raw
    assert res.payload == {"statusCode": 500, "body": "handled 'missing'"}
    assert "handled: KeyError('missing')" in res.lines


NODE_ERRORS = r'''
class OrderError extends Error {
  constructor(msg) { super(msg); this.name = "OrderError"; }
}
exports.thrown = async (event) => { throw new Error("boom " + (event.why || "")); };
exports.custom = async () => { throw new OrderError("order 17 is invalid"); };
exports.callbackErr = (event, context, callback) => { callback(new TypeError("bad type")); };
exports.handled = async () => {
  try { JSON.parse("{"); } catch (e) { console.error("handled:", e.name); return { statusCode: 500 }; }
};
'''


def test_node_unhandled_errors(lam):
    name = create_function(lam, {"index.js": NODE_ERRORS}, runtime="nodejs20.x",
                           handler="index.thrown")
    res = invoke(lam, name, {"why": "now"})
    assert res.status == 200 and res.function_error == "Unhandled"
    check_frame(res)
    p = res.payload
    assert p["errorType"] == "Error"
    assert p["errorMessage"] == "boom now"
    assert isinstance(p["trace"], list) and p["trace"][0] == "Error: boom now", p
    assert any("/var/task/index.js:5" in t for t in p["trace"]), p
    assert "stackTrace" not in p

    lam.update_function_configuration(FunctionName=name, Handler="index.custom")
    wait_updated(lam, name)
    res = invoke(lam, name, {})
    assert res.function_error == "Unhandled"
    assert res.payload["errorType"] == "OrderError"
    assert res.payload["errorMessage"] == "order 17 is invalid"
    assert res.payload["trace"][0].startswith("OrderError: order 17 is invalid")

    lam.update_function_configuration(FunctionName=name, Handler="index.callbackErr")
    wait_updated(lam, name)
    res = invoke(lam, name, {})
    assert res.function_error == "Unhandled"
    assert res.payload["errorType"] == "TypeError"
    assert res.payload["errorMessage"] == "bad type"

    lam.update_function_configuration(FunctionName=name, Handler="index.handled")
    wait_updated(lam, name)
    res = invoke(lam, name, {})
    assert res.function_error is None, res.raw
    assert res.payload == {"statusCode": 500}
    assert any(ln.endswith("\tERROR\thandled: SyntaxError") for ln in res.lines), res.log


# ---------------------------------------------------------------------------------------------
# timeout, out of memory, crash

PY_FAILS = r'''
import os, time, uuid
ENV_ID = uuid.uuid4().hex

def handler(event, context):
    what = event.get("do")
    if what == "sleep":
        print("going to sleep")
        time.sleep(event["seconds"])
    elif what == "oom":
        hog = []
        for _ in range(4096):
            hog.append(bytearray(16 * 1024 * 1024))
    elif what == "exit":
        print("exiting with", event["code"])
        os._exit(event["code"])
    return {"env_id": ENV_ID, "ok": True}
'''


def test_timeout_kills_environment_and_next_is_cold(lam):
    name = create_function(lam, {"app.py": PY_FAILS}, Timeout=1)
    first = invoke(lam, name, {})
    assert first.function_error is None, first.raw
    assert first.report().init_ms is not None
    t0 = time.monotonic()
    res = invoke(lam, name, {"do": "sleep", "seconds": 30})
    elapsed = time.monotonic() - t0
    assert elapsed < 5, f"timeout took {elapsed:.1f}s for a 1 s function timeout"
    assert res.status == 200 and res.function_error == "Unhandled"
    rid = res.start_id()
    assert res.payload == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {rid} Error: Task timed out after 1.00 seconds",
    }
    assert "going to sleep" in res.lines
    assert any(re.fullmatch(rf"\S+ {rid} Task timed out after 1\.00 seconds", ln)
               for ln in res.lines), res.log
    rep = res.report()
    assert rep.rest.startswith("Status: timeout"), res.log
    # the next invoke is a cold start in a fresh environment, and works
    nxt = invoke(lam, name, {})
    assert nxt.function_error is None, nxt.raw
    assert nxt.payload["env_id"] != first.payload["env_id"]
    assert nxt.report().init_ms is not None, nxt.log


def test_out_of_memory(lam):
    name = create_function(lam, {"app.py": PY_FAILS}, MemorySize=128, Timeout=30)
    res = invoke(lam, name, {"do": "oom"})
    assert res.status == 200 and res.function_error == "Unhandled", res.raw
    rid = res.start_id()
    p = res.payload
    assert p["errorType"] == "Runtime.OutOfMemory", p
    assert p["errorMessage"].startswith(f"RequestId: {rid} Error: Runtime exited with error: "), p
    rep = res.report()
    assert rep.memory_mb == 128
    assert rep.max_memory_mb >= 120, res.log
    assert "Runtime.OutOfMemory" in rep.rest, res.log
    nxt = invoke(lam, name, {})
    assert nxt.function_error is None and nxt.payload["ok"] is True, nxt.raw
    assert nxt.report().init_ms is not None


def test_crash_exit_status(lam):
    name = create_function(lam, {"app.py": PY_FAILS})
    first = invoke(lam, name, {})
    res = invoke(lam, name, {"do": "exit", "code": 3})
    assert res.status == 200 and res.function_error == "Unhandled"
    rid = res.start_id()
    assert res.payload == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 3",
    }
    assert "exiting with 3" in res.lines
    assert "Runtime.ExitError" in res.report().rest, res.log
    nxt = invoke(lam, name, {})
    assert nxt.function_error is None, nxt.raw
    assert nxt.payload["env_id"] != first.payload["env_id"]
    assert nxt.report().init_ms is not None


# ---------------------------------------------------------------------------------------------
# init errors


@pytest.mark.parametrize(
    "files,handler,error_type,message",
    [
        ({"app.py": "import not_a_module_anywhere\ndef handler(e, c):\n    return 1\n"},
         "app.handler", "Runtime.ImportModuleError",
         "Unable to import module 'app': No module named 'not_a_module_anywhere'"),
        ({"app.py": "def handler(e, c):\n    return 1\n"},
         "missing.handler", "Runtime.ImportModuleError",
         "Unable to import module 'missing': No module named 'missing'"),
        ({"app.py": "def other(e, c):\n    return 1\n"},
         "app.handler", "Runtime.HandlerNotFound", "Handler 'handler' missing on module 'app'"),
        ({"app.py": "def handler(e, c)\n    return 1\n"},
         "app.handler", "Runtime.UserCodeSyntaxError", None),
        ({"app.py": "def handler(e, c):\n    return 1\n"},
         "nodot", "Runtime.MalformedHandlerName", None),
        ({"app.py": "raise RuntimeError('init failed hard')\n"},
         "app.handler", "RuntimeError", "init failed hard"),
    ],
    ids=["import-dependency", "import-module", "handler-not-found", "syntax-error",
         "malformed-handler", "raise-at-import"],
)
def test_python_init_errors(lam, files, handler, error_type, message):
    name = create_function(lam, files, handler=handler)
    for attempt in range(2):  # reported on the first invoke, and again on the next one
        res = invoke(lam, name, {})
        assert res.status == 200, res.raw
        assert res.function_error == "Unhandled", (attempt, res.raw)
        p = res.payload
        assert p["errorType"] == error_type, (attempt, p)
        if message is not None:
            assert p["errorMessage"] == message, (attempt, p)
        assert "stackTrace" in p
        if error_type == "Runtime.UserCodeSyntaxError":
            assert "app.py" in p["errorMessage"] and "line 1" in p["errorMessage"], p
        assert any(error_type in ln for ln in res.lines), res.log


@pytest.mark.parametrize(
    "files,handler,error_type",
    [
        ({"index.js": "exports.handler = async () => 1;\n"}, "nope.handler",
         "Runtime.ImportModuleError"),
        ({"index.js": "exports.other = async () => 1;\n"}, "index.handler",
         "Runtime.HandlerNotFound"),
        ({"index.js": "exports.handler = async () => {\n"}, "index.handler",
         "Runtime.UserCodeSyntaxError"),
        ({"index.js": "require('no-such-package');\nexports.handler = async () => 1;\n"},
         "index.handler", "Runtime.ImportModuleError"),
    ],
    ids=["missing-file", "handler-not-found", "syntax-error", "missing-require"],
)
def test_node_init_errors(lam, files, handler, error_type):
    name = create_function(lam, files, runtime="nodejs20.x", handler=handler)
    res = invoke(lam, name, {})
    assert res.status == 200 and res.function_error == "Unhandled", res.raw
    assert res.payload["errorType"] == error_type, res.payload
    assert isinstance(res.payload.get("trace"), list), res.payload


# ---------------------------------------------------------------------------------------------
# warm reuse, retirement


@pytest.mark.parametrize("kind", ["python", "node"])
def test_warm_reuse(lam, kind):
    if kind == "python":
        name = create_function(lam, {"app.py": PY_PROBE})
    else:
        name = create_function(lam, {"index.js": NODE_PROBE}, runtime="nodejs20.x",
                               handler="index.handler")
    results = [invoke(lam, name, {"i": i}) for i in range(4)]
    for r in results:
        assert r.function_error is None, r.raw
        check_frame(r)
    assert [r.payload["count"] for r in results] == [1, 2, 3, 4]
    assert len({r.payload["env_id"] for r in results}) == 1
    inits = [r.report().init_ms for r in results]
    assert inits[0] is not None and inits[0] > 0
    assert inits[1:] == [None, None, None], [r.lines[-1] for r in results]
    # one environment = one log stream
    streams = {r.payload.get("log_stream_name") or r.payload.get("logStreamName") for r in results}
    assert len(streams) == 1


def test_warm_after_an_invocation_longer_than_five_seconds(lam):
    """An environment busy for more than 5 s (the engine's reaper period) must still go back to
    its pool: the second invoke is warm (same environment, count 2, no Init Duration)."""
    name = create_function(lam, {"app.py": PY_PROBE}, Timeout=15)
    a = invoke(lam, name, {"sleep": 5.5})
    assert a.function_error is None, a.raw
    b = invoke(lam, name, {})
    assert b.function_error is None, b.raw
    assert (b.payload["env_id"], b.payload["count"]) == (a.payload["env_id"], 2), (
        "a healthy environment was discarded after a 5.5 s invocation; the next invoke "
        "cold-started")
    assert b.report().init_ms is None, b.log


def test_code_update_retires_old_environment(lam):
    code = "import uuid\nENV = uuid.uuid4().hex\ndef handler(e, c):\n    return {'v': %r, 'env': ENV}\n"
    name = create_function(lam, {"app.py": code % "v1"})
    a = invoke(lam, name, {})
    b = invoke(lam, name, {})
    assert a.payload["v"] == b.payload["v"] == "v1"
    assert a.payload["env"] == b.payload["env"]
    lam.update_function_code(FunctionName=name, ZipFile=build_zip({"app.py": code % "v2"}))
    wait_updated(lam, name)
    c = invoke(lam, name, {})
    assert c.function_error is None, c.raw
    assert c.payload["v"] == "v2", "old code answered after UpdateFunctionCode"
    assert c.payload["env"] != a.payload["env"]
    assert c.report().init_ms is not None
    # a configuration change (environment variables) also retires the environment
    code3 = ("import os, uuid\nENV = uuid.uuid4().hex\n"
             "def handler(e, c):\n    return {'var': os.environ.get('STAGE'), 'env': ENV}\n")
    lam.update_function_code(FunctionName=name, ZipFile=build_zip({"app.py": code3}))
    wait_updated(lam, name)
    d = invoke(lam, name, {})
    assert d.payload["var"] is None
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"STAGE": "prod"}})
    wait_updated(lam, name)
    e = invoke(lam, name, {})
    assert e.payload["var"] == "prod", "old environment answered after a configuration change"
    assert e.payload["env"] != d.payload["env"]


def test_ten_parallel_invokes_use_ten_environments(daemon):
    client = daemon.client(max_pool_connections=20, read_timeout=120)
    name = create_function(client, {"app.py": PY_PROBE}, Timeout=30)

    def one(i):
        return invoke(client, name, {"i": i, "sleep": 1.5})

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(one, range(10)))
    for i, r in enumerate(results):
        assert r.status == 200 and r.function_error is None, r.raw
        assert r.payload["event"] == {"i": i, "sleep": 1.5}
        rid = check_frame(r)
        assert r.payload["aws_request_id"] == rid
    assert len({r.payload["env_id"] for r in results}) == 10
    assert len({r.payload["log_stream_name"] for r in results}) == 10
    assert all(r.payload["count"] == 1 for r in results)


# ---------------------------------------------------------------------------------------------
# payloads and invocation types

ECHO = "def handler(event, context):\n    return event\n"
SIZE = ("def handler(event, context):\n"
        "    return {'len': len(event['d'])} if 'd' in event else 'x' * event['n']\n")


def sized_payload(total: int) -> bytes:
    """A JSON object `{"d": "xxx…"}` of exactly `total` bytes."""
    overhead = len(b'{"d": ""}')
    body = json.dumps({"d": "x" * (total - overhead)}).encode()
    assert len(body) == total
    return body


@pytest.fixture(scope="module")
def size_fn(lam):
    return create_function(lam, {"app.py": SIZE}, MemorySize=512, Timeout=30)


def test_payload_just_under_6mb(lam, size_fn):
    body = sized_payload(MAX_SYNC_PAYLOAD - 1000)
    res = invoke(lam, size_fn, raw=body)
    assert res.function_error is None, res.raw[:500]
    assert res.payload == {"len": MAX_SYNC_PAYLOAD - 1000 - 9}


def test_payload_at_exactly_6mb(lam, size_fn):
    res = invoke(lam, size_fn, raw=sized_payload(MAX_SYNC_PAYLOAD))
    assert res.function_error is None, res.raw[:500]
    assert res.payload == {"len": MAX_SYNC_PAYLOAD - 9}


def test_payload_just_over_6mb(lam, size_fn):
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=size_fn, Payload=sized_payload(MAX_SYNC_PAYLOAD + 1))
    assert e.value.response["Error"]["Code"] == "RequestTooLargeException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_response_near_6mb_and_over(lam, size_fn):
    n = MAX_SYNC_PAYLOAD - 1000
    res = invoke(lam, size_fn, {"n": n})
    assert res.function_error is None, res.raw[:300]
    assert len(res.raw) == n + 2 and res.payload == "x" * n
    res = invoke(lam, size_fn, {"n": 6_400_000})
    assert res.function_error == "Unhandled", res.raw[:300]
    assert res.payload["errorType"] == "Function.ResponseSizeTooLarge", res.payload
    # the environment survives an oversized response
    res = invoke(lam, size_fn, {"n": 3})
    assert res.function_error is None and res.payload == "xxx"


def test_echo_large_payload_round_trip(lam):
    name = create_function(lam, {"app.py": ECHO}, MemorySize=512)
    body = sized_payload(5 * 1024 * 1024)
    res = invoke(lam, name, raw=body, tail=False)
    assert res.function_error is None
    assert json.loads(res.raw) == json.loads(body)


@pytest.fixture(scope="module")
def echo_fn(lam):
    return create_function(lam, {"app.py": ECHO})


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2", b"\xff\xfe", b'{"a": 1} trailing'])
def test_invalid_json_payload(lam, echo_fn, raw):
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=echo_fn, Payload=raw)
    assert e.value.response["Error"]["Code"] == "InvalidRequestContentException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_non_object_json_payloads(lam, echo_fn):
    name = echo_fn
    for value in ([1, "two", None], "a string", 42, None, True):
        res = invoke(lam, name, value)
        assert res.function_error is None, res.raw
        assert res.payload == value


def test_empty_payload_is_an_empty_object(lam, echo_fn):
    name = echo_fn
    res = invoke(lam, name, raw=b"")
    assert res.function_error is None, res.raw
    assert res.payload == {}


def test_dry_run(lam, py_probe):
    r = lam.invoke(FunctionName=py_probe, InvocationType="DryRun", Payload=b"{}")
    assert r["StatusCode"] == 204
    assert r["Payload"].read() == b""
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=unique("nope"), InvocationType="DryRun", Payload=b"{}")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_event_invocation_is_accepted_with_202(lam, py_probe):
    # queued and answered 202 with an empty body (issue 13; its behaviour: test_async.py)
    r = lam.invoke(FunctionName=py_probe, InvocationType="Event", Payload=b"{}")
    assert r["StatusCode"] == 202
    assert r["Payload"].read() == b""
    assert "FunctionError" not in r
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=unique("nope"), InvocationType="Event", Payload=b"{}")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_invoke_unknown_function(lam):
    name = unique("missing")
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Payload=b"{}")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_invoke_by_arn_and_qualifier(lam, py_probe):
    res = invoke(lam, function_arn(py_probe), {"by": "arn"})
    assert res.function_error is None, res.raw
    assert res.payload["invoked_function_arn"] == function_arn(py_probe)
    res = invoke(lam, py_probe, {"by": "qualifier"}, Qualifier="$LATEST")
    assert res.function_error is None, res.raw
    assert res.executed_version == "$LATEST"


def test_tail_is_last_4kb(lam):
    code = ("def handler(event, context):\n"
            "    for i in range(400):\n"
            "        print('line %04d ' % i + 'y' * 40)\n"
            "    return 'done'\n")
    name = create_function(lam, {"app.py": code})
    res = invoke(lam, name, {})
    assert res.function_error is None
    raw_tail = base64.b64decode(
        lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")["LogResult"])
    assert len(raw_tail) <= 4096
    assert len(raw_tail) > 3500
    text = raw_tail.decode(errors="replace")
    assert text.rstrip("\t\n").split("\n")[-1].startswith("REPORT RequestId: ")
    assert "line 0399 " in text and "line 0000 " not in text
    assert "START RequestId" not in text


def test_no_log_result_without_tail(lam, py_probe):
    r = lam.invoke(FunctionName=py_probe, Payload=b"{}")
    assert "LogResult" not in r
    assert r["ExecutedVersion"] == "$LATEST"


# ---------------------------------------------------------------------------------------------
# two daemons on one host


def test_second_daemon_does_not_kill_first_daemons_environments(tmp_path_factory):
    """Two daemons on one host with the same `sandbox.cgroup_parent` (as every daemon with the
    default configuration has: `lambdabox`): starting the second must not touch the first one's
    warm environments. Today every daemon sweeps (kills) all groups under its cgroup parent at
    startup. A parent of the test's own stands in for the default, so that the test does not
    disturb other daemons running on this host."""
    shared = f"lambdabox-compat-shared-{unique('p')}"
    first = start_isolated_daemon(tmp_path_factory.mktemp("lambdabox-first"), cgroup_parent=shared)
    second = None
    try:
        c = first.client()
        name = create_function(c, {"app.py": PY_PROBE})
        a = invoke(c, name, {})
        assert a.function_error is None, a.raw
        second = start_isolated_daemon(tmp_path_factory.mktemp("lambdabox-second"),
                                       cgroup_parent=shared)
        b = invoke(c, name, {})
        assert b.function_error is None, (
            f"starting a second daemon broke the first daemon's warm environment: {b.raw!r}")
        assert b.payload["env_id"] == a.payload["env_id"] and b.payload["count"] == 2, (
            "the warm environment did not survive the start of a second daemon")
    finally:
        if second is not None:
            stop_daemon(second)
        stop_daemon(first)
        remove_empty_cgroups(cgroup_dirs(shared))


# ---------------------------------------------------------------------------------------------
# more lifecycle: node crash and timeout, delete and re-create


def test_node_crash_and_timeout(lam):
    code = ("exports.handler = async (event) => {\n"
            "  if (event.exit !== undefined) { console.log('bye'); process.exit(event.exit); }\n"
            "  if (event.hang) { await new Promise(() => setTimeout(() => {}, 60000)); }\n"
            "  return { ok: true };\n};\n")
    name = create_function(lam, {"index.js": code}, runtime="nodejs20.x",
                           handler="index.handler", Timeout=1)
    res = invoke(lam, name, {"exit": 2})
    assert res.function_error == "Unhandled", res.raw
    rid = res.start_id()
    assert res.executed_version == "$LATEST"
    assert res.payload == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 2",
    }
    res = invoke(lam, name, {"hang": True})
    rid = res.start_id()
    assert res.payload == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {rid} Error: Task timed out after 1.00 seconds",
    }
    res = invoke(lam, name, {})
    assert res.function_error is None and res.payload == {"ok": True}, res.raw
    assert res.report().init_ms is not None


def test_delete_and_recreate_runs_new_code(lam):
    code = "def handler(e, c):\n    return %r\n"
    name = create_function(lam, {"app.py": code % "first"})
    assert invoke(lam, name, {}).payload == "first"
    lam.delete_function(FunctionName=name)
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Payload=b"{}")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    create_function(lam, {"app.py": code % "second"}, name=name)
    res = invoke(lam, name, {})
    assert res.payload == "second", "a deleted function's warm environment answered"
    assert res.report().init_ms is not None



def test_graceful_shutdown_removes_environment_cgroups(tmp_path_factory):
    """SIGTERM stops every environment; none of their cgroups may be left behind."""
    parent = f"lambdabox-compat-shutdown-{unique('p')}"
    d = start_isolated_daemon(tmp_path_factory.mktemp("lambdabox-shutdown"), cgroup_parent=parent)
    try:
        c = d.client(max_pool_connections=10)
        name = create_function(c, {"app.py": PY_PROBE}, Timeout=20)
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda i: invoke(c, name, {"sleep": 1}), range(8)))
        assert len({r.payload["env_id"] for r in results}) == 8
        dirs = cgroup_dirs(parent)
        if not dirs:
            pytest.skip("the daemon runs without a cgroup backend on this host")
        # the freezer hierarchy also holds the daemon's own frozen sentinel group (not an environment)
        before = {str(x): sorted(g.name for g in x.iterdir() if g.is_dir() and g.name != "frozen-sentinel")
                  for x in dirs}
        # the 8 environments, plus any spare environments prepared for the next cold start
        assert all(len(v) >= 8 for v in before.values()), before
    finally:
        assert d.stop() == 0
    time.sleep(0.2)
    left = {str(x): sorted(g.name for g in x.iterdir() if g.is_dir() and g.name != "frozen-sentinel")
            for x in dirs if x.exists()}
    remove_empty_cgroups(dirs)
    assert not any(left.values()), (
        f"{max(len(v) for v in left.values())} of 8 environment cgroups left after SIGTERM "
        f"under {sorted(left)}")


def test_idle_environment_that_died_is_not_handed_out(tmp_path_factory):
    """An idle warm environment whose runtime died while idle (killed from outside, e.g. by
    the kernel's OOM killer or an operator) must not be given the next invocation: the daemon
    should notice the exit and cold-start, so the caller gets a normal answer."""
    import os
    import signal

    parent = f"lambdabox-compat-died-{unique('p')}"
    d = start_isolated_daemon(tmp_path_factory.mktemp("lambdabox-died"), cgroup_parent=parent)
    try:
        c = d.client()
        name = create_function(c, {"app.py": PY_PROBE})
        a = invoke(c, name, {})
        assert a.function_error is None, a.raw
        dirs = cgroup_dirs(parent)
        if not dirs:
            pytest.skip("the daemon runs without a cgroup backend on this host")
        pids = set()
        for x in dirs:
            for g in x.iterdir():
                if g.is_dir() and (g / "cgroup.procs").exists():
                    pids |= {int(p) for p in (g / "cgroup.procs").read_text().split()}
        assert pids, "no environment processes found"
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.5)
        b = invoke(c, name, {})
        assert b.function_error is None, (
            f"the dead idle environment was used for the next invoke: {b.raw!r}")
        assert b.payload["env_id"] != a.payload["env_id"]
        assert b.report().init_ms is not None
    finally:
        stop_daemon(d)
        remove_empty_cgroups(cgroup_dirs(parent))


# ---------------------------------------------------------------------------------------------
# log capture edge cases, unicode


def test_stderr_reaches_the_log(lam):
    code = ("import sys\n"
            "def handler(event, context):\n"
            "    print('to stdout')\n"
            "    print('to stderr', file=sys.stderr)\n"
            "    return 1\n")
    name = create_function(lam, {"app.py": code})
    res = invoke(lam, name, {})
    assert res.function_error is None, res.raw
    check_frame(res)
    assert sorted(res.lines[1:-2]) == ["to stderr", "to stdout"], res.log


@pytest.mark.parametrize("runtime", ["python3.12", "nodejs20.x"])
def test_output_without_trailing_newline_reaches_the_log(lam, runtime):
    """`sys.stdout.write('x')` / `process.stdout.write('x')` with no newline: AWS logs it with
    the invocation that wrote it."""
    if runtime.startswith("python"):
        files = {"app.py": "import sys\ndef handler(event, context):\n"
                           "    sys.stdout.write('partial-%d' % event['i'])\n"
                           "    sys.stdout.flush()\n    return 1\n"}
        handler = "app.handler"
    else:
        files = {"index.js": "exports.handler = async (e) => "
                             "{ process.stdout.write('partial-' + e.i); return 1; };\n"}
        handler = "index.handler"
    name = create_function(lam, files, runtime=runtime, handler=handler)
    for i in range(2):
        res = invoke(lam, name, {"i": i})
        assert res.function_error is None, res.raw
        check_frame(res)
        assert res.lines[1:-2] == [f"partial-{i}"], (
            f"output without a trailing newline is missing from invocation {i}'s log:\n{res.log}")


def test_huge_log_output_is_bounded_and_invoke_still_works(lam):
    code = ("def handler(event, context):\n"
            "    for i in range(20000):\n"
            "        print('%06d ' % i + 'z' * 100)\n"
            "    return 'survived'\n")
    name = create_function(lam, {"app.py": code}, Timeout=30)
    res = invoke(lam, name, {})
    assert res.function_error is None, res.raw
    assert res.payload == "survived"
    assert res.lines[-1].startswith("REPORT RequestId: "), res.log[-500:]
    nxt = invoke(lam, name, {})
    assert nxt.function_error is None and nxt.payload == "survived", nxt.raw


@pytest.mark.parametrize("runtime", ["python3.12", "python3.9", "nodejs20.x"])
def test_unicode_round_trip(lam, runtime):
    if runtime.startswith("python"):
        files, handler = {"app.py": "def handler(event, context):\n    print(event['s'])\n    return event\n"}, "app.handler"
    else:
        files, handler = {"index.js": "exports.handler = async (e) => { console.log(e.s); return e; };\n"}, "index.handler"
    name = create_function(lam, files, runtime=runtime, handler=handler)
    event = {"s": "grüße ✓ 日本 🚀", "k": ["é", {"ß": "\u0000x"}]}
    res = invoke(lam, name, event)
    assert res.function_error is None, res.raw
    assert res.payload == event
    assert any(line.endswith("grüße ✓ 日本 🚀") for line in res.lines), res.log


def test_idle_environments_are_reaped_after_the_configured_time(tmp_path_factory):
    """`engine.idle_timeout_secs = 1`: an environment idle for longer than that (plus the
    reaper's period) is gone, and the next invoke is a cold start that works."""
    # the engine's debug line tells when the reaper (a 5 s tick) has taken the environment
    d = start_isolated_daemon(tmp_path_factory.mktemp("lambdabox-reap"),
                              extra_args=("--log-level", "info,lambdabox::engine=debug"),
                              extra_toml="[engine]\nidle_timeout_secs = 1\n")
    try:
        c = d.client()
        name = create_function(c, {"app.py": PY_PROBE})
        a = invoke(c, name, {})
        assert a.function_error is None, a.raw
        deadline = time.monotonic() + 60
        while "reaped idle environments" not in d.log():
            assert time.monotonic() < deadline, "the idle environment was not reaped within 60 s"
            time.sleep(0.2)
        e = invoke(c, name, {})
        assert e.function_error is None, e.raw
        assert e.payload["env_id"] != a.payload["env_id"], "idle environment was not reaped"
        assert e.payload["count"] == 1
        assert e.report().init_ms is not None
    finally:
        stop_daemon(d)
