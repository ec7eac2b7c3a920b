"""The front door every AWS service shares: protocols, error shapes as botocore parses them,
STS GetCallerIdentity through Debian's CLI v2 and boto3, unknown services and operations,
body caps decided before the body, and the request id a function sees.

Error shapes are checked through real botocore clients: query (STS), AWS JSON 1.0 (a Step
Functions client: a service lambdabox does not serve) and AWS JSON 1.1 (an SSM client, same),
and rest-json (Lambda).
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import urllib.parse

import boto3
import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import ACCOUNT, AWS_CLI, REGION, ROLE, make_zip, unique
from test_auth import send


def client(d, service, key=None, **config):
    key_id, secret = key or d.admin_keys()
    config.setdefault("retries", {"total_max_attempts": 1})
    return boto3.client(service, endpoint_url=d.endpoint, region_name=REGION,
                        aws_access_key_id=key_id, aws_secret_access_key=secret,
                        config=Config(**config))


def wrong_secret(d):
    key_id, secret = d.admin_keys()
    return key_id, secret[:-1] + ("A" if secret[-1] != "A" else "B")


def error_of(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response


def signed(d, method, path, body=b"", service="lambda", headers=None, key=None):
    req = AWSRequest(method=method, url=d.endpoint + path, data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials(*(key or d.admin_keys())), service, REGION).add_auth(req)
    return req


def send_req(req):
    data = req.body
    if isinstance(data, str):
        data = data.encode()
    return send(req.method, req.url, data or b"", dict(req.headers.items()))


def parse_with_botocore(service, operation, status, headers, body: bytes):
    """Parses a raw response with botocore's own parser for `service`'s protocol."""
    session = botocore.session.get_session()
    model = session.get_service_model(service)
    parser = botocore.parsers.create_parser(model.metadata["protocol"])
    op = model.operation_model(operation)
    return parser.parse({"status_code": status, "headers": dict(headers), "body": body},
                        op.output_shape)


# ---------------------------------------------------------------------------------------------
# STS (query protocol)


def test_cli_sts_get_caller_identity(daemon):
    rc, out, err = daemon.aws("get-caller-identity", service="sts")
    assert rc == 0, err
    key_id = daemon.admin_keys()[0]
    assert out == {"UserId": key_id, "Account": ACCOUNT,
                   "Arn": f"arn:aws:iam::{ACCOUNT}:user/admin"}, out


def test_boto3_sts_get_caller_identity(daemon):
    r = client(daemon, "sts").get_caller_identity()
    assert r["Account"] == ACCOUNT
    assert r["UserId"] == daemon.admin_keys()[0]
    assert r["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/admin"
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert re.fullmatch(r"[0-9a-f-]{36}", r["ResponseMetadata"]["RequestId"])


def test_sts_names_the_key_that_signed(daemon):
    p = daemon.lambdabox("keys", "create", "--description", "sts test")
    assert p.returncode == 0, p.stderr
    kv = dict(line.split(" = ", 1) for line in p.stdout.splitlines() if " = " in line)
    key = (kv["aws_access_key_id"], kv["aws_secret_access_key"])
    assert client(daemon, "sts", key=key).get_caller_identity()["UserId"] == key[0]


def test_query_error_shapes_through_botocore(daemon):
    e = error_of(lambda: client(daemon, "sts", key=wrong_secret(daemon)).get_caller_identity())
    assert e["Error"]["Code"] == "SignatureDoesNotMatch", e
    assert e["Error"]["Type"] == "Sender"
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert e["ResponseMetadata"]["RequestId"]
    e = error_of(lambda: client(daemon, "sts", key=("LBXAUNKNOWNKEY000000", "x" * 40))
                 .get_caller_identity())
    assert e["Error"]["Code"] == "InvalidClientTokenId", e
    # An action STS does not have: InvalidAction in the query shape, parsed by botocore.
    req = signed(daemon, "POST", "/", b"Action=GetSessionTokenX&Version=2011-06-15", service="sts",
                 headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    status, headers, raw = send_req(req)
    assert status == 400, raw
    parsed = parse_with_botocore("sts", "GetCallerIdentity", status, headers, raw)
    assert parsed["Error"]["Code"] == "InvalidAction", parsed
    assert "GetSessionTokenX" in parsed["Error"]["Message"]
    assert parsed["ResponseMetadata"]["RequestId"] == headers["x-amzn-RequestId"]
    # No Action at all.
    req = signed(daemon, "POST", "/", b"Version=2011-06-15", service="sts",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    status, headers, raw = send_req(req)
    parsed = parse_with_botocore("sts", "GetCallerIdentity", status, headers, raw)
    assert (status, parsed["Error"]["Code"]) == (400, "MissingAction"), parsed


def test_cli_sts_errors_read_as_aws_errors(daemon, tmp_path):
    creds = tmp_path / "creds"
    key_id, _ = daemon.admin_keys()
    creds.write_text(f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {'x' * 40}\n")
    env = daemon.cli_env()
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(creds)
    p = subprocess.run([AWS_CLI, "--endpoint-url", daemon.endpoint, "sts", "get-caller-identity"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode != 0
    assert "An error occurred (SignatureDoesNotMatch) when calling the GetCallerIdentity operation" \
        in p.stderr, p.stderr


def test_sts_get_with_action_in_the_url(daemon):
    req = signed(daemon, "GET", "/?Action=GetCallerIdentity&Version=2011-06-15", service="sts")
    status, headers, raw = send_req(req)
    assert status == 200, raw
    parsed = parse_with_botocore("sts", "GetCallerIdentity", status, headers, raw)
    assert parsed["Account"] == ACCOUNT


# ---------------------------------------------------------------------------------------------
# AWS JSON 1.0 and 1.1 error shapes, through clients of services lambdabox does not serve


@pytest.mark.parametrize("service,call", [
    ("stepfunctions", lambda c: c.list_state_machines()),   # AWS JSON 1.0, signing name states
    ("ssm", lambda c: c.describe_parameters()),             # AWS JSON 1.1
])
def test_json_protocol_error_shapes_through_botocore(daemon, service, call):
    e = error_of(lambda: call(client(daemon, service)))
    assert e["Error"]["Code"] == "UnknownServiceException", e
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 400
    message = e["Error"]["Message"]
    assert "lambda" in message and "sts" in message, message
    assert e["ResponseMetadata"]["RequestId"]
    e = error_of(lambda: call(client(daemon, service, key=wrong_secret(daemon))))
    assert e["Error"]["Code"] == "InvalidSignatureException", e
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 403
    e = error_of(lambda: call(client(daemon, service, key=("LBXAUNKNOWNKEY000000", "x" * 40))))
    assert e["Error"]["Code"] == "UnrecognizedClientException", e


def test_unsigned_requests_are_refused_in_their_protocols_shape(daemon):
    status, headers, body = send("POST", daemon.endpoint + "/", b"{}", {
        "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
        "Content-Type": "application/x-amz-json-1.0"})
    assert status == 403
    assert headers["Content-Type"].startswith("application/x-amz-json-1.0")
    assert body["__type"] == "MissingAuthenticationTokenException", body
    status, headers, raw = send("POST", daemon.endpoint + "/", b"Action=GetCallerIdentity",
                                {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 403
    parsed = parse_with_botocore("sts", "GetCallerIdentity", status, headers, raw)
    assert parsed["Error"]["Code"] == "MissingAuthenticationToken", parsed


def test_cli_names_the_unknown_service(daemon):
    rc, _, err = daemon.aws("list-state-machines", service="stepfunctions")
    assert rc != 0
    assert "An error occurred (UnknownServiceException) when calling the ListStateMachines operation" \
        in err, err
    served = err.split("Services served", 1)[1]
    assert all(x in served for x in ("lambda", "sts", "sqs", "events", "scheduler")), err


# ---------------------------------------------------------------------------------------------
# rest-json (Lambda)


def test_unknown_lambda_operation_is_not_resource_not_found(daemon):
    for method, path in (("GET", "/2015-03-31/nothing-here"), ("PATCH", "/2015-03-31/functions"),
                         ("GET", "/")):
        status, headers, body = send_req(signed(daemon, method, path))
        assert status == 404, (method, path, body)
        assert headers["x-amzn-ErrorType"] == "UnknownOperationException", dict(headers)
        assert "lambdabox operations" in body["message"]


def test_every_answer_carries_a_request_id(daemon):
    c = client(daemon, "lambda")
    r = c.list_functions()
    assert re.fullmatch(r"[0-9a-f-]{36}", r["ResponseMetadata"]["RequestId"])
    e = error_of(lambda: c.get_function(FunctionName="nope-" + unique()))
    assert re.fullmatch(r"[0-9a-f-]{36}", e["ResponseMetadata"]["RequestId"])


# ---------------------------------------------------------------------------------------------
# body caps, decided from the headers before the body is read


@pytest.fixture(scope="module")
def echo_fn(daemon):
    name = unique("front")
    code = ("def lambda_handler(event, context):\n"
            "    print('handler ran')\n"
            "    return {'id': context.aws_request_id}\n")
    daemon.client().create_function(FunctionName=name, Runtime="python3.12", Role=ROLE,
                                    Handler="lambda_function.lambda_handler",
                                    Code={"ZipFile": make_zip({"lambda_function.py": code})})
    daemon.client().get_waiter("function_active_v2").wait(FunctionName=name)
    return name


def test_signed_7mb_sync_invoke_is_413_request_too_large(daemon, echo_fn):
    c = client(daemon, "lambda", read_timeout=60)
    payload = json.dumps({"d": "x" * (7 * 1024 * 1024)}).encode()
    e = error_of(lambda: c.invoke(FunctionName=echo_fn, Payload=payload))
    assert e["Error"]["Code"] == "RequestTooLargeException", e
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert "6291456 bytes" in e["Error"]["Message"]


def test_async_invoke_cap_is_1mb(daemon, echo_fn):
    c = client(daemon, "lambda", read_timeout=60)
    payload = json.dumps({"d": "x" * (1024 * 1024)}).encode()
    e = error_of(lambda: c.invoke(FunctionName=echo_fn, InvocationType="Event", Payload=payload))
    assert e["Error"]["Code"] == "RequestTooLargeException", e
    assert "1048576 bytes" in e["Error"]["Message"]


def test_other_operations_are_capped_at_1mb(daemon, echo_fn):
    c = client(daemon, "lambda")
    before = c.get_function_configuration(FunctionName=echo_fn)
    e = error_of(lambda: c.update_function_configuration(
        FunctionName=echo_fn, Description="d" * (1024 * 1024 + 10)))
    assert e["Error"]["Code"] == "RequestEntityTooLargeException", e
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert "UpdateFunctionConfiguration" in e["Error"]["Message"]
    after = c.get_function_configuration(FunctionName=echo_fn)
    assert after["RevisionId"] == before["RevisionId"]


# ---------------------------------------------------------------------------------------------
# one request id


def test_invoke_request_id_is_the_functions_and_the_report_lines(daemon, echo_fn):
    c = client(daemon, "lambda")
    for _ in range(2):  # a cold and a warm invocation
        r = c.invoke(FunctionName=echo_fn, LogType="Tail", Payload=b"{}")
        rid = r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
        assert r["ResponseMetadata"]["RequestId"] == rid
        assert json.loads(r["Payload"].read()) == {"id": rid}
        log = base64.b64decode(r["LogResult"]).decode()
        assert f"START RequestId: {rid} Version: $LATEST" in log, log
        assert f"END RequestId: {rid}" in log, log
        assert re.search(rf"^REPORT RequestId: {rid}\tDuration: ", log, re.M), log


def test_cli_invoke_request_id_matches_the_report_line(daemon, echo_fn, tmp_path):
    out_file = tmp_path / "out.json"
    p = subprocess.run(
        [AWS_CLI, "--endpoint-url", daemon.endpoint, "--debug", "lambda", "invoke",
         "--function-name", echo_fn, "--log-type", "Tail", str(out_file)],
        capture_output=True, text=True, env=daemon.cli_env(), timeout=60)
    assert p.returncode == 0, p.stderr[-2000:]
    out = json.loads(p.stdout)
    rid = json.loads(out_file.read_text())["id"]
    assert re.search(rf"x-amzn-RequestId': '{rid}'", p.stderr, re.I), "header not in --debug output"
    assert f"REPORT RequestId: {rid}" in base64.b64decode(out["LogResult"]).decode()


# ---------------------------------------------------------------------------------------------
# auth before the body; the budget of body bytes in flight

import socket
import threading
import time


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def raw_exchange(port: int, head: bytes, body_part: bytes, timeout: float = 20.0) -> bytes:
    """Sends `head` and the first part of a body whose declared length is far larger, then
    reads the answer without sending the rest: an answer proves the daemon did not wait
    for the body."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(head)
        s.sendall(body_part)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        header, _, rest = data.partition(b"\r\n\r\n")
        m = re.search(rb"content-length: *(\d+)", header, re.I)
        want = int(m.group(1)) if m else 0
        while len(rest) < want:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        return header + b"\r\n\r\n" + rest
    finally:
        s.close()


def test_50_unsigned_60mb_bodies_are_refused_from_their_headers(fresh_daemon):
    d = fresh_daemon
    pid = d.proc.pid
    for _ in range(3):  # warm the workers a little
        send("GET", d.endpoint + "/2015-03-31/functions")
    time.sleep(0.5)
    idle = rss_kb(pid)
    size = 60 * 1024 * 1024
    head = (f"PUT /2015-03-31/functions/f/code HTTP/1.1\r\nHost: 127.0.0.1:{d.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n").encode()
    answers: list[bytes] = []
    peak = [idle]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kb(pid))
            time.sleep(0.02)

    def one():
        answers.append(raw_exchange(d.port, head, b"{" + b" " * 65535))

    sampler = threading.Thread(target=sample)
    sampler.start()
    threads = [threading.Thread(target=one) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    stop.set()
    sampler.join()
    assert len(answers) == 50
    for a in answers:
        assert a.startswith(b"HTTP/1.1 403"), a[:300]
        assert b"MissingAuthenticationTokenException" in a, a[:500]
    grown_mb = (peak[0] - idle) / 1024
    assert grown_mb < 20, f"RSS grew {grown_mb:.1f} MB over idle ({idle} kB) for refused bodies"
    # The daemon still serves.
    assert d.client().list_functions()["Functions"] == []


def test_badly_signed_large_body_is_refused_before_it_is_read(daemon):
    """An unknown key, a foreign region or a stale clock are known from the headers."""
    size = 60 * 1024 * 1024
    for key, region in ((("LBXAUNKNOWNKEY000000", "x" * 40), REGION),
                        (None, "eu-west-1")):
        req = signed(daemon, "PUT", "/2015-03-31/functions/f/code", b"{}", key=key)
        if region != REGION:
            req = AWSRequest(method="PUT", url=daemon.endpoint + "/2015-03-31/functions/f/code",
                             data=b"{}")
            SigV4Auth(Credentials(*daemon.admin_keys()), "lambda", region).add_auth(req)
        lines = [f"PUT /2015-03-31/functions/f/code HTTP/1.1",
                 f"Host: 127.0.0.1:{daemon.port}", f"Content-Length: {size}"]
        lines += [f"{k}: {v}" for k, v in req.headers.items() if k.lower() != "content-length"]
        answer = raw_exchange(daemon.port, ("\r\n".join(lines) + "\r\n\r\n").encode(), b"{}")
        assert answer.startswith(b"HTTP/1.1 403"), answer[:300]


def test_spent_body_budget_answers_503_and_recovers(tmp_path_factory):
    from conftest import Daemon

    d = Daemon(tmp_path_factory.mktemp("budget"),
               env={"LAMBDABOX_SERVER__BODY_BUDGET_MB": "70"}).start()
    try:
        name = unique("budget")
        d.client().create_function(FunctionName=name, Runtime="python3.12", Role=ROLE,
                                   Handler="lambda_function.lambda_handler",
                                   Code={"ZipFile": make_zip({"lambda_function.py": "x = 1\n"})})
        # A signed 60 MB upload whose body arrives slowly holds 60 MB of the 70 MB budget.
        big = json.dumps({"ZipFile": "A" * (60 * 1000 * 1000)}).encode()
        req = signed(d, "PUT", f"/2015-03-31/functions/{name}/code", big)
        lines = [f"PUT /2015-03-31/functions/{name}/code HTTP/1.1", f"Host: 127.0.0.1:{d.port}"]
        lines += [f"{k}: {v}" for k, v in req.headers.items() if k.lower() != "host"]
        if not any(k.lower() == "content-length" for k in req.headers.keys()):
            lines.append(f"Content-Length: {len(big)}")
        slow = socket.create_connection(("127.0.0.1", d.port), timeout=30)
        slow.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + big[:1024])
        c = client(d, "lambda", read_timeout=60)

        def another(until_busy: bool) -> dict:
            """Another signed 15 MB body (not a zip: refused with a 400 when it fits), sent
            until the budget is (or is no longer) spent: the daemon reserves the slow upload's
            bytes, and gives them back, when it gets to it."""
            deadline = time.monotonic() + 30
            while True:
                e = error_of(lambda: c.publish_layer_version(
                    LayerName="l", Content={"ZipFile": b"x" * (15 * 1000 * 1000)}))
                busy = e["ResponseMetadata"]["HTTPStatusCode"] == 503
                if busy == until_busy or time.monotonic() > deadline:
                    return e
                time.sleep(0.1)

        # Another signed 15 MB body does not fit: 503 ServiceUnavailable, retryable.
        e = another(until_busy=True)
        assert e["ResponseMetadata"]["HTTPStatusCode"] == 503, e
        assert e["Error"]["Code"] == "ServiceUnavailable", e
        assert e["ResponseMetadata"]["HTTPHeaders"].get("retry-after") == "1"
        # Small bodies still fit.
        assert c.get_function(FunctionName=name)["Configuration"]["FunctionName"] == name
        slow.close()
        # With the slow upload gone its bytes are free again.
        e = another(until_busy=False)
        assert e["Error"]["Code"] != "ServiceUnavailable", e
    finally:
        d.kill()
