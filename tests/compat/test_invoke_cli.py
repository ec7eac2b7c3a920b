"""Invoke through the real AWS CLI v2 (`/usr/bin/aws lambda invoke ... --cli-binary-format
raw-in-base64-out`, as the AWS docs write it) and the `lambdabox invoke` / `lambdabox logs`
commands (issue 4, "Show").
"""

from __future__ import annotations

import base64
import json
import re

import pytest

from invoke_support import (
    CLIENT_CONTEXT,
    MAX_SYNC_PAYLOAD,
    NODE_LINE_RE,
    PY_PROBE,
    REPORT_RE,
    START_RE,
    b64json,
    create_function,
    function_arn,
    log_stream_re,
    parse_report,
    split_lines,
    start_isolated_daemon,
    stop_daemon,
    unique,
)

OK_BODY = {"statusCode": 200, "body": json.dumps({"message": "OK"})}

# A Python handler in the shape of the AWS docs' examples (lambda_function.lambda_handler,
# print to the log, API-Gateway-style response).
PY_EXAMPLE = '''import json

def lambda_handler(event, context):
    print("Received event: " + json.dumps(event))
    print("Processing request", context.aws_request_id)
    return {
        "statusCode": 200,
        "body": json.dumps({"message": "OK"})
    }
'''

NODE_EXAMPLE = '''export const handler = async (event, context) => {
  console.log("Received event:", JSON.stringify(event));
  console.log("Processing request", context.awsRequestId);
  return {
    statusCode: 200,
    body: JSON.stringify({ message: "OK" }),
  };
};
'''

# Verbatim: docs.aws.amazon.com/lambda/latest/dg/python-logging.html ("Printing to the log").
PY_DOCS_LOGGING = """import os
def lambda_handler(event, context):
    print('## ENVIRONMENT VARIABLES')
    print(os.environ['AWS_LAMBDA_LOG_GROUP_NAME'])
    print(os.environ['AWS_LAMBDA_LOG_STREAM_NAME'])
    print('## EVENT')
    print(event)
"""

# Verbatim: docs.aws.amazon.com/lambda/latest/dg/nodejs-logging.html (index.js – Logging).
NODE_DOCS_LOGGING = """exports.handler = async function(event, context) {
  console.log("ENVIRONMENT VARIABLES\\n" + JSON.stringify(process.env, null, 2))
  console.info("EVENT\\n" + JSON.stringify(event, null, 2))
  console.warn("Event not processed.")
  return context.logStreamName
}
"""


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = start_isolated_daemon(tmp_path_factory.mktemp("lambdabox-invoke-cli"))
    yield d
    stop_daemon(d)


@pytest.fixture(scope="module")
def lam(daemon):
    return daemon.client(read_timeout=120)


def cli_invoke(daemon, tmp_path, name, payload: str | None = '{"key": "value"}', *extra,
               outfile="out.json"):
    """`aws lambda invoke --function-name NAME --cli-binary-format raw-in-base64-out
    --payload PAYLOAD [extra] out.json`: (rc, stdout JSON, stderr, out.json bytes, log)."""
    out = tmp_path / outfile
    if out.exists():
        out.unlink()
    args = ["invoke", "--function-name", name, "--cli-binary-format", "raw-in-base64-out"]
    if payload is not None:
        args += ["--payload", payload]
    rc, stdout, stderr = daemon.aws(*args, *extra, str(out), cwd=tmp_path)
    body = out.read_bytes() if out.exists() else None
    log = ""
    if isinstance(stdout, dict) and stdout.get("LogResult"):
        log = base64.b64decode(stdout["LogResult"]).decode()
    return rc, stdout, stderr, body, log


def frame(log: str) -> tuple[str, list[str]]:
    """Checks START … END, REPORT framing; returns the request id and the lines in between."""
    lines = split_lines(log)
    m = START_RE.match(lines[0])
    assert m, log
    rid = m.group(1)
    assert m.group(2) == "$LATEST"
    assert lines[-2] == f"END RequestId: {rid}", log
    rep = REPORT_RE.match(lines[-1])
    assert rep and rep.group(1) == rid, log
    assert lines[-1].endswith("\t"), repr(lines[-1])
    return rid, lines[1:-2]


def test_python_example_via_cli(daemon, lam, tmp_path):
    name = create_function(lam, {"lambda_function.py": PY_EXAMPLE},
                           handler="lambda_function.lambda_handler")
    rc, out, err, body, log = cli_invoke(daemon, tmp_path, name, '{"key": "value"}',
                                         "--log-type", "Tail")
    assert rc == 0, err
    assert out["StatusCode"] == 200
    assert out["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in out
    assert body == b'{"statusCode": 200, "body": "{\\"message\\": \\"OK\\"}"}'
    assert json.loads(body) == OK_BODY
    rid, inner = frame(log)
    assert inner == ['Received event: {"key": "value"}', f"Processing request {rid}"], log
    first = parse_report(log)
    assert first.init_ms is not None and first.init_ms > 0
    assert first.memory_mb == 128
    assert 0 < first.max_memory_mb <= 128
    assert first.billed_ms >= 1 and first.duration_ms > 0
    assert first.rest == "", repr(log)
    # warm: same answer, no Init Duration
    rc, out, err, body2, log2 = cli_invoke(daemon, tmp_path, name, '{"key": "value"}',
                                           "--log-type", "Tail")
    assert rc == 0, err
    assert body2 == body
    rid2, _ = frame(log2)
    assert rid2 != rid
    assert parse_report(log2).init_ms is None, log2
    assert "Init Duration" not in log2


def test_node_example_via_cli(daemon, lam, tmp_path):
    name = create_function(lam, {"index.mjs": NODE_EXAMPLE}, runtime="nodejs20.x",
                           handler="index.handler")
    rc, out, err, body, log = cli_invoke(daemon, tmp_path, name, '{"key": "value"}',
                                         "--log-type", "Tail")
    assert rc == 0, err
    assert out["StatusCode"] == 200 and out["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in out
    result = json.loads(body)
    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {"message": "OK"}
    rid, inner = frame(log)
    parsed = [NODE_LINE_RE.match(line) for line in inner]
    assert all(parsed), log
    assert [(m.group(2), m.group(3), m.group(4)) for m in parsed] == [
        (rid, "INFO", 'Received event: {"key":"value"}'),
        (rid, "INFO", f"Processing request {rid}"),
    ], log
    assert parse_report(log).init_ms is not None
    rc, out, err, body2, log2 = cli_invoke(daemon, tmp_path, name, '{"key": "value"}',
                                           "--log-type", "Tail")
    assert rc == 0 and json.loads(body2) == result
    assert parse_report(log2).init_ms is None, log2


def test_python_docs_logging_example_verbatim(daemon, lam, tmp_path):
    name = create_function(lam, {"lambda_function.py": PY_DOCS_LOGGING},
                           handler="lambda_function.lambda_handler")
    rc, out, err, body, log = cli_invoke(daemon, tmp_path, name, '{"key": "value"}',
                                         "--log-type", "Tail")
    assert rc == 0, err
    assert out["StatusCode"] == 200 and "FunctionError" not in out
    assert body == b"null"
    _, inner = frame(log)
    assert inner[0] == "## ENVIRONMENT VARIABLES"
    assert inner[1] == f"/aws/lambda/{name}"
    m = log_stream_re().match(inner[2])
    assert m, inner
    assert inner[3:] == ["## EVENT", "{'key': 'value'}"], log


def test_node_docs_logging_example_verbatim(daemon, lam, tmp_path):
    name = create_function(lam, {"index.js": NODE_DOCS_LOGGING}, runtime="nodejs20.x",
                           handler="index.handler")
    rc, out, err, body, log = cli_invoke(daemon, tmp_path, name, '{"key": "value"}',
                                         "--log-type", "Tail")
    assert rc == 0, err
    assert out["StatusCode"] == 200 and "FunctionError" not in out
    stream = json.loads(body)
    assert log_stream_re().match(stream), stream
    rid, inner = frame(log)
    # multi-line messages stay one log line (newlines become \r, as the AWS Node runtime does)
    events = [NODE_LINE_RE.match(line) for line in inner]
    assert all(events), log
    assert [e.group(3) for e in events] == ["INFO", "INFO", "WARN"], log
    env_text = events[0].group(4).replace("\r", "\n")
    assert env_text.startswith("ENVIRONMENT VARIABLES\n{")
    env = json.loads(env_text[len("ENVIRONMENT VARIABLES\n"):])
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == stream
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_nodejs20.x"
    assert events[1].group(4).replace("\r", "\n") == 'EVENT\n{\n  "key": "value"\n}'
    assert events[2].group(4) == "Event not processed."
    assert "Init Duration" in split_lines(log)[-1]


def test_client_context_via_cli(daemon, lam, tmp_path):
    name = create_function(lam, {"app.py": PY_PROBE})
    rc, out, err, body, log = cli_invoke(
        daemon, tmp_path, name, '{"cc": true}', "--client-context", b64json(CLIENT_CONTEXT),
        "--log-type", "Tail")
    assert rc == 0, err
    p = json.loads(body)
    assert p["client_context"] == CLIENT_CONTEXT
    assert p["aws_request_id"] == frame(log)[0]
    assert p["invoked_function_arn"] == function_arn(name)


def test_function_error_via_cli(daemon, lam, tmp_path):
    code = "def lambda_handler(event, context):\n    raise RuntimeError('cli boom')\n"
    name = create_function(lam, {"lambda_function.py": code},
                           handler="lambda_function.lambda_handler")
    rc, out, err, body, log = cli_invoke(daemon, tmp_path, name, "{}", "--log-type", "Tail")
    assert rc == 0, err  # the CLI succeeds; the error is in the payload and FunctionError
    assert out["StatusCode"] == 200
    assert out["FunctionError"] == "Unhandled"
    e = json.loads(body)
    assert e["errorType"] == "RuntimeError" and e["errorMessage"] == "cli boom"
    assert e["requestId"] == frame(log)[0]
    assert any("lambda_function.py" in f for f in e["stackTrace"])
    assert any(line.startswith("[ERROR] RuntimeError: cli boom") for line in split_lines(log))


def test_timeout_via_cli(daemon, lam, tmp_path):
    code = "import time\ndef lambda_handler(event, context):\n    time.sleep(10)\n"
    name = create_function(lam, {"lambda_function.py": code},
                           handler="lambda_function.lambda_handler", Timeout=1)
    rc, out, err, body, log = cli_invoke(daemon, tmp_path, name, "{}", "--log-type", "Tail")
    assert rc == 0, err
    assert out["FunctionError"] == "Unhandled"
    rid = START_RE.match(split_lines(log)[0]).group(1)
    assert json.loads(body) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {rid} Error: Task timed out after 1.00 seconds",
    }
    assert parse_report(log).rest.startswith("Status: timeout"), log


def test_dry_run_via_cli(daemon, lam, tmp_path):
    name = create_function(lam, {"app.py": PY_PROBE})
    rc, out, err, body, _ = cli_invoke(daemon, tmp_path, name, "{}",
                                       "--invocation-type", "DryRun")
    assert rc == 0, err
    assert out["StatusCode"] == 204
    assert body == b""


def test_event_invocation_type_is_accepted_via_cli(daemon, lam, tmp_path):
    # queued and answered 202 (issue 13; its behaviour: test_async.py)
    name = create_function(lam, {"app.py": PY_PROBE})
    rc, out, err, body, _ = cli_invoke(daemon, tmp_path, name, "{}",
                                       "--invocation-type", "Event")
    assert rc == 0, err
    assert out["StatusCode"] == 202
    assert "FunctionError" not in out
    assert body == b""


def test_invalid_json_via_cli(daemon, lam, tmp_path):
    name = create_function(lam, {"app.py": PY_PROBE})
    rc, out, err, body, _ = cli_invoke(daemon, tmp_path, name, '{"key": ')
    assert rc != 0
    assert "An error occurred (InvalidRequestContentException) when calling the Invoke operation" \
        in err, err


def test_payload_limits_via_cli(daemon, lam, tmp_path):
    code = "def lambda_handler(event, context):\n    return len(event['d'])\n"
    name = create_function(lam, {"lambda_function.py": code},
                           handler="lambda_function.lambda_handler", MemorySize=512)
    under = tmp_path / "under.json"
    under.write_text(json.dumps({"d": "u" * (MAX_SYNC_PAYLOAD - 1000 - 9)}))
    assert under.stat().st_size == MAX_SYNC_PAYLOAD - 1000
    rc, out, err, body, _ = cli_invoke(daemon, tmp_path, name, f"fileb://{under}")
    assert rc == 0, err
    assert out["StatusCode"] == 200 and "FunctionError" not in out
    assert json.loads(body) == MAX_SYNC_PAYLOAD - 1000 - 9
    over = tmp_path / "over.json"
    over.write_text(json.dumps({"d": "o" * (MAX_SYNC_PAYLOAD + 1 - 9)}))
    assert over.stat().st_size == MAX_SYNC_PAYLOAD + 1
    rc, out, err, body, _ = cli_invoke(daemon, tmp_path, name, f"fileb://{over}")
    assert rc != 0
    assert "An error occurred (RequestTooLargeException) when calling the Invoke operation" \
        in err, err


def test_unknown_function_via_cli(daemon, tmp_path):
    rc, out, err, body, _ = cli_invoke(daemon, tmp_path, unique("ghost"), "{}")
    assert rc != 0
    assert "An error occurred (ResourceNotFoundException) when calling the Invoke operation" \
        in err, err


# ---------------------------------------------------------------------------------------------
# lambdabox invoke / lambdabox logs


def test_lambdabox_invoke_and_logs_commands(daemon, lam):
    code = ("def lambda_handler(event, context):\n"
            "    print('lambdabox cli saw', event['n'])\n"
            "    return {'n': event['n'], 'id': context.aws_request_id}\n")
    name = create_function(lam, {"lambda_function.py": code},
                           handler="lambda_function.lambda_handler")
    endpoint = f"127.0.0.1:{daemon.port}"
    p = daemon.lambdabox("invoke", name, "--payload", '{"n": 1}', "--log-type", "Tail",
                         "--endpoint", endpoint)
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout)
    assert result["n"] == 1
    assert p.stdout.count("\n") == 1
    # the tail goes to stderr: START, the print, END, REPORT with Init Duration
    rid, inner = frame(p.stderr)
    assert rid == result["id"]
    assert inner == ["lambdabox cli saw 1"]
    assert parse_report(p.stderr).init_ms is not None

    p2 = daemon.lambdabox("invoke", name, "--payload", '{"n": 2}', "--endpoint", endpoint)
    assert p2.returncode == 0, p2.stderr
    assert json.loads(p2.stdout)["n"] == 2
    assert "START RequestId" not in p2.stderr  # no tail unless asked
    rid2 = json.loads(p2.stdout)["id"]

    bad = daemon.lambdabox("invoke", name, "--payload", "{nope", "--endpoint", endpoint)
    assert bad.returncode != 0
    assert "InvalidRequestContentException" in bad.stderr
    missing = daemon.lambdabox("invoke", unique("ghost"), "--endpoint", endpoint)
    assert missing.returncode != 0
    assert "ResourceNotFoundException" in missing.stderr

    logs = daemon.lambdabox("logs", name)
    assert logs.returncode == 0, logs.stderr
    lines = split_lines(logs.stdout)
    stream_prefix = re.compile(r"^(\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}) (.*)$")
    parsed = [stream_prefix.match(line) for line in lines]
    assert all(parsed), logs.stdout
    assert len({m.group(1) for m in parsed}) == 1, "two warm invokes should share one stream"
    msgs = [m.group(2) for m in parsed]
    assert msgs[0] == f"START RequestId: {rid} Version: $LATEST"
    assert msgs[1] == "lambdabox cli saw 1"
    assert msgs[2] == f"END RequestId: {rid}"
    assert msgs[3].startswith(f"REPORT RequestId: {rid}\t") and "Init Duration" in msgs[3]
    assert msgs[4] == f"START RequestId: {rid2} Version: $LATEST"
    assert msgs[5] == "lambdabox cli saw 2"
    assert msgs[6] == f"END RequestId: {rid2}"
    assert msgs[7].startswith(f"REPORT RequestId: {rid2}\t") and "Init Duration" not in msgs[7]
    assert len(msgs) == 8, logs.stdout


def test_lambdabox_invoke_function_error(daemon, lam):
    code = "def lambda_handler(event, context):\n    raise KeyError('k')\n"
    name = create_function(lam, {"lambda_function.py": code},
                           handler="lambda_function.lambda_handler")
    p = daemon.lambdabox("invoke", name, "--endpoint", f"127.0.0.1:{daemon.port}")
    assert p.returncode != 0, "a function error should make `lambdabox invoke` fail"
    e = json.loads(p.stdout)
    assert e["errorType"] == "KeyError" and e["errorMessage"] == "'k'"
