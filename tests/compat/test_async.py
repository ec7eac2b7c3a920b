"""Asynchronous invocation (issue 13), driven by Debian's AWS CLI v2 and boto3 against the real
daemon: `--invocation-type Event` answers 202 once the event is durable and the function runs
with the same request id; function errors are retried exactly MaximumRetryAttempts times after
the configured delays; OnSuccess/OnFailure records have AWS's shape; events wait for capacity
(a function reserved at 0 gives up at once); events expire by maximum age; destinations and dead-letter queues lambdabox
does not serve are refused at configuration time; a 17-hop loop is stopped; the event invoke
config and recursion config APIs; `lambdabox queue`; the dashboard's async settings and figures.

Retry delays are shortened with the server setting `async_invoke.retry_delay_ms` (1 s here
instead of AWS's 1 min), so "after 1 s, then 2 s" stands for AWS's "after 1 min, then 2 min".
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, ROLE, Daemon, function_arn, make_zip, unique
from dashboard_client import Dashboard, first_admin_password

PY = "python3.11"

WORKER = r'''
import json, os, time
def handler(event, context):
    print("ATTEMPT", context.aws_request_id, repr(time.time()), json.dumps(event))
    if isinstance(event, dict) and event.get("sleep"):
        time.sleep(event["sleep"])
    if isinstance(event, dict) and event.get("fail"):
        raise ValueError("boom " + str(event.get("n")))
    return {"echo": event}
'''

SINK = r'''
import json
def handler(event, context):
    print("SINK " + json.dumps(event))
    return {}
'''

# A function whose OnSuccess destination is itself: it counts its hops in the records it
# receives and fails (ending the chain) at LIMIT.
LOOP = r'''
import json, os
def handler(event, context):
    n = 1
    if isinstance(event, dict) and "requestContext" in event:
        n = event["responsePayload"]["n"] + 1
    print("LOOP", n)
    if n >= int(os.environ["LIMIT"]):
        raise RuntimeError("limit reached at %d" % n)
    return {"n": n}
'''

FAST_ENV = {
    "LAMBDABOX_ASYNC_INVOKE__RETRY_DELAY_MS": "1000",
    "LAMBDABOX_ASYNC_INVOKE__BACKOFF_MIN_MS": "200",
    "LAMBDABOX_ASYNC_INVOKE__BACKOFF_MAX_MS": "1000",
}


@pytest.fixture(scope="module")
def fast(tmp_path_factory):
    d = Daemon(tmp_path_factory.mktemp("async"), env=FAST_ENV).start()
    yield d
    d.kill()


def create(d: Daemon, code: str, name: str | None = None, env: dict | None = None, **kw) -> str:
    name = name or unique("as")
    d.client().create_function(
        FunctionName=name, Runtime=PY, Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": code})}, Timeout=30,
        Environment={"Variables": env or {}}, **kw)
    return name


def log_lines(d: Daemon, name: str) -> list[str]:
    p = d.lambdabox("logs", name, "--since-minutes", "600")
    assert p.returncode == 0, p.stderr
    return [line.split(" ", 1)[1] for line in p.stdout.splitlines() if " " in line]


def wait_lines(d: Daemon, name: str, prefix: str, n: int, timeout: float = 60.0) -> list[str]:
    """Waits until the function logged at least `n` lines starting with `prefix`."""
    deadline = time.monotonic() + timeout
    while True:
        got = [line for line in log_lines(d, name) if line.startswith(prefix)]
        if len(got) >= n:
            return got
        assert time.monotonic() < deadline, f"{name}: {len(got)} of {n} '{prefix}' lines:\n" + "\n".join(log_lines(d, name))
        time.sleep(0.2)


def records(d: Daemon, sink: str, n: int, timeout: float = 60.0) -> list[dict]:
    return [json.loads(line[len("SINK "):]) for line in wait_lines(d, sink, "SINK ", n, timeout)]


def attempts(d: Daemon, name: str, n: int, timeout: float = 60.0) -> list[tuple[str, float, dict]]:
    out = []
    for line in wait_lines(d, name, "ATTEMPT ", n, timeout):
        _, rid, ts, event = line.split(" ", 3)
        out.append((rid, float(ts), json.loads(event)))
    return out


def event(client, name: str, payload: dict, **kw) -> str:
    r = client.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(payload).encode(), **kw)
    assert r["StatusCode"] == 202, r
    assert r["Payload"].read() == b""
    return r["ResponseMetadata"]["RequestId"]


def queue_json(d: Daemon) -> dict:
    p = d.lambdabox("queue", "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def counters(d: Daemon, name: str) -> dict:
    return queue_json(d)["counters"].get(name, {})


def error_of(call) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as e:
        call()
    err = e.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


# ---------------------------------------------------------------------------------------------
# the event path


def test_cli_event_invoke_answers_202_and_the_function_runs_with_that_request_id(fast, tmp_path):
    name = create(fast, WORKER)
    out = tmp_path / "out"
    rc, res, err = fast.aws("invoke", "--function-name", name, "--invocation-type", "Event",
                            "--cli-binary-format", "raw-in-base64-out", "--payload", '{"via": "cli"}', str(out))
    assert rc == 0, err
    assert res == {"StatusCode": 202}
    assert out.read_bytes() == b""
    (rid, _, ev), = attempts(fast, name, 1)
    assert ev == {"via": "cli"}
    # boto3: the 202's request id is the id the function runs with (START line, context)
    rid2 = event(fast.client(), name, {"via": "boto3"})
    got = attempts(fast, name, 2)
    assert rid2 in [a[0] for a in got]
    assert f"START RequestId: {rid2} Version: $LATEST" in log_lines(fast, name)
    assert counters(fast, name)["received"] == 2
    # the ATTEMPT line can be stored before the invoke ends and is counted
    deadline = time.monotonic() + 30
    while counters(fast, name).get("succeeded") != 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert counters(fast, name)["succeeded"] == 2


def test_the_seed_command_works_verbatim_retry_once_then_on_failure_record(fast):
    name = create(fast, WORKER)
    sink = create(fast, SINK)
    rc, res, err = fast.aws(
        "put-function-event-invoke-config", "--function-name", name, "--maximum-retry-attempts", "1",
        "--destination-config",
        json.dumps({"OnSuccess": {"Destination": function_arn(sink)}, "OnFailure": {"Destination": function_arn(sink)}}))
    assert rc == 0, err
    assert res["FunctionArn"] == function_arn(name) + ":$LATEST"
    assert res["MaximumRetryAttempts"] == 1
    assert res["DestinationConfig"] == {"OnSuccess": {"Destination": function_arn(sink)},
                                        "OnFailure": {"Destination": function_arn(sink)}}
    c = fast.client()
    ok_id = event(c, name, {"n": 1})
    fail_id = event(c, name, {"n": 2, "fail": True})
    recs = {r["requestContext"]["requestId"]: r for r in records(fast, sink, 2, timeout=90)}
    ok, failed = recs[ok_id], recs[fail_id]
    # the Success record
    assert ok["version"] == "1.0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ok["timestamp"])
    assert ok["requestContext"] == {"requestId": ok_id, "functionArn": function_arn(name) + ":$LATEST",
                                    "condition": "Success", "approximateInvokeCount": 1}
    assert ok["requestPayload"] == {"n": 1}
    assert ok["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert ok["responsePayload"] == {"echo": {"n": 1}}
    # the failure: exactly 1 retry, at least 1 s after the first attempt, then the record
    runs = [a for a in attempts(fast, name, 3) if a[0] == fail_id]
    assert len(runs) == 2, runs
    assert runs[1][1] - runs[0][1] >= 0.95
    assert failed["requestContext"]["condition"] == "RetriesExhausted"
    assert failed["requestContext"]["approximateInvokeCount"] == 2
    assert failed["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert failed["responsePayload"]["errorType"] == "ValueError"
    assert failed["responsePayload"]["errorMessage"] == "boom 2"
    assert failed["requestPayload"] == {"n": 2, "fail": True}
    time.sleep(1.5)
    assert len([a for a in attempts(fast, name, 3) if a[0] == fail_id]) == 2, "no third attempt"
    cnt = counters(fast, name)
    assert cnt["retried"] == 1 and cnt["failed:RetriesExhausted"] == 1
    assert cnt["delivered:OnSuccess"] == 1 and cnt["delivered:OnFailure"] == 1


def test_default_is_two_retries_after_one_then_two_delays(fast):
    name = create(fast, WORKER)
    rid = event(fast.client(), name, {"fail": True, "n": 0})
    runs = [a for a in attempts(fast, name, 3, timeout=90) if a[0] == rid]
    assert len(runs) == 3
    gaps = [runs[1][1] - runs[0][1], runs[2][1] - runs[1][1]]
    assert gaps[0] >= 0.95 and gaps[1] >= 1.95, gaps
    time.sleep(2.5)
    assert len(attempts(fast, name, 3)) == 3, "exactly MaximumRetryAttempts (2) retries"
    cnt = counters(fast, name)
    assert cnt["retried"] == 2 and cnt["dropped:RetriesExhausted"] == 1


def test_zero_retries_and_an_alias_config(fast):
    c = fast.client()
    name = create(fast, WORKER)
    sink = create(fast, SINK)
    v = c.publish_version(FunctionName=name)["Version"]
    c.create_alias(FunctionName=name, Name="live", FunctionVersion=v)
    # $LATEST keeps the defaults; the alias has its own config
    c.put_function_event_invoke_config(FunctionName=name, Qualifier="live", MaximumRetryAttempts=0,
                                       DestinationConfig={"OnFailure": {"Destination": function_arn(sink)}})
    rid = event(c, name, {"fail": True, "n": 5}, Qualifier="live")
    (rec,) = records(fast, sink, 1)
    assert rec["requestContext"]["requestId"] == rid
    assert rec["requestContext"]["functionArn"] == function_arn(name) + ":live"
    assert rec["requestContext"]["approximateInvokeCount"] == 1
    assert rec["responseContext"]["executedVersion"] == v
    assert len([a for a in attempts(fast, name, 1) if a[0] == rid]) == 1


# ---------------------------------------------------------------------------------------------
# the configuration API


def test_event_invoke_config_crud_with_boto3(fast):
    c = fast.client()
    name = create(fast, WORKER)
    sink = create(fast, SINK)
    code, msg, status = error_of(lambda: c.get_function_event_invoke_config(FunctionName=name))
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert msg == f"The function {function_arn(name)}:$LATEST doesn't have an EventInvokeConfig"
    put = c.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=3600, MaximumRetryAttempts=0)
    assert put["MaximumEventAgeInSeconds"] == 3600 and put["MaximumRetryAttempts"] == 0
    assert put["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}
    assert abs(put["LastModified"].timestamp() - time.time()) < 60
    # Update merges: the age stays, a destination is added
    up = c.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=2,
                                               DestinationConfig={"OnSuccess": {"Destination": function_arn(sink)}})
    assert (up["MaximumEventAgeInSeconds"], up["MaximumRetryAttempts"]) == (3600, 2)
    assert up["DestinationConfig"]["OnSuccess"] == {"Destination": function_arn(sink)}
    # Put replaces: what it leaves out is unset
    put = c.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    assert "MaximumEventAgeInSeconds" not in put and put["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}
    got = c.get_function_event_invoke_config(FunctionName=function_arn(name))
    assert got["MaximumRetryAttempts"] == 1
    # per qualifier, listed in pages
    for i in range(3):
        c.update_function_configuration(FunctionName=name, Environment={"Variables": {"VERSION_NO": str(i)}})
        v = c.publish_version(FunctionName=name)["Version"]
        c.put_function_event_invoke_config(FunctionName=name, Qualifier=v, MaximumRetryAttempts=0)
    page = c.list_function_event_invoke_configs(FunctionName=name, MaxItems=2)
    assert len(page["FunctionEventInvokeConfigs"]) == 2 and page["NextMarker"]
    rest = c.list_function_event_invoke_configs(FunctionName=name, Marker=page["NextMarker"])
    arns = [x["FunctionArn"] for x in page["FunctionEventInvokeConfigs"] + rest["FunctionEventInvokeConfigs"]]
    assert sorted(arns) == sorted([function_arn(name) + q for q in (":$LATEST", ":1", ":2", ":3")])
    assert "NextMarker" not in rest
    paginated = [x for p in c.get_paginator("list_function_event_invoke_configs").paginate(
        FunctionName=name, PaginationConfig={"PageSize": 1}) for x in p["FunctionEventInvokeConfigs"]]
    assert len(paginated) == 4
    # deleting a version deletes its config
    c.delete_function(FunctionName=name, Qualifier="3")
    assert len(c.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]) == 3
    c.delete_function_event_invoke_config(FunctionName=name, Qualifier="1")
    code, _, _ = error_of(lambda: c.delete_function_event_invoke_config(FunctionName=name, Qualifier="1"))
    assert code == "ResourceNotFoundException"
    # validation on the server (the client's own checks off): AWS's ranges and messages
    raw = fast.client(parameter_validation=False)
    for kw, field in ((dict(MaximumRetryAttempts=3), "maximumRetryAttempts"),
                      (dict(MaximumEventAgeInSeconds=59), "maximumEventAgeInSeconds"),
                      (dict(MaximumEventAgeInSeconds=21601), "maximumEventAgeInSeconds")):
        code, msg, status = error_of(lambda: raw.put_function_event_invoke_config(FunctionName=name, **kw))
        assert (code, status) == ("ValidationException", 400) and field in msg, msg
    assert c.get_function_event_invoke_config(FunctionName=name)["MaximumRetryAttempts"] == 1
    # unknown function and qualifier
    code, _, status = error_of(lambda: c.put_function_event_invoke_config(FunctionName=unique("none"), MaximumRetryAttempts=1))
    assert (code, status) == ("ResourceNotFoundException", 404)
    code, _, _ = error_of(lambda: c.put_function_event_invoke_config(FunctionName=name, Qualifier="nope", MaximumRetryAttempts=1))
    assert code == "ResourceNotFoundException"
    code, _, _ = error_of(lambda: raw.list_function_event_invoke_configs(FunctionName=name, MaxItems=51))
    assert code == "ValidationException"


def test_event_invoke_config_with_the_cli(fast):
    name = create(fast, WORKER)
    rc, res, err = fast.aws("put-function-event-invoke-config", "--function-name", name,
                            "--maximum-event-age-in-seconds", "120")
    assert rc == 0, err
    assert res["MaximumEventAgeInSeconds"] == 120
    rc, res, err = fast.aws("update-function-event-invoke-config", "--function-name", name,
                            "--maximum-retry-attempts", "0")
    assert rc == 0, err
    assert (res["MaximumEventAgeInSeconds"], res["MaximumRetryAttempts"]) == (120, 0)
    rc, res, err = fast.aws("list-function-event-invoke-configs", "--function-name", name)
    assert rc == 0 and len(res["FunctionEventInvokeConfigs"]) == 1, err
    rc, _, err = fast.aws("delete-function-event-invoke-config", "--function-name", name)
    assert rc == 0, err
    rc, _, err = fast.aws("get-function-event-invoke-config", "--function-name", name)
    assert rc != 0 and "ResourceNotFoundException" in err
    rc, _, err = fast.aws("put-function-event-invoke-config", "--function-name", name, "--maximum-retry-attempts", "5")
    assert rc != 0 and "ValidationException" in err


def test_destinations_and_dead_letter_queues_lambdabox_cannot_deliver_to_are_refused(fast, tmp_path):
    c = fast.client()
    name = create(fast, WORKER)
    refused = {
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:q": "the SQS queue does not exist",
        f"arn:aws:sns:{REGION}:{ACCOUNT}:t": "does not serve SNS topics yet",
        f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default": "does not serve EventBridge event buses yet",
        f"arn:aws:lambda:{REGION}:111111111111:function:x": "region and account",
        function_arn(unique("missing")): "does not exist",
        "arn:aws:dynamodb:us-east-1:000000000000:table/t": "not 'dynamodb' resources",
        "nonsense": "is invalid",
    }
    for arn, why in refused.items():
        code, msg, status = error_of(lambda: c.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnFailure": {"Destination": arn}}))
        assert (code, status) == ("InvalidParameterValueException", 400), (arn, code)
        assert why in msg, (arn, msg)
    code, msg, _ = error_of(lambda: c.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": "arn:aws:s3:::bucket"}}))
    assert code == "InvalidParameterValueException" and "on-failure" in msg
    # nothing was stored
    code, _, _ = error_of(lambda: c.get_function_event_invoke_config(FunctionName=name))
    assert code == "ResourceNotFoundException"
    # the CLI's message for the same
    rc, _, err = fast.aws("put-function-event-invoke-config", "--function-name", name, "--destination-config",
                          json.dumps({"OnSuccess": {"Destination": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"}}))
    assert rc != 0 and "InvalidParameterValueException" in err and "SQS queue does not exist" in err
    # DeadLetterConfig: SQS/SNS only; a missing queue and SNS (not served) are refused on create and update
    dlq = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"
    code, msg, _ = error_of(lambda: c.update_function_configuration(FunctionName=name, DeadLetterConfig={"TargetArn": dlq}))
    assert code == "InvalidParameterValueException" and "SQS queue does not exist" in msg
    assert "DeadLetterConfig" not in c.get_function_configuration(FunctionName=name)
    code, msg, _ = error_of(lambda: c.update_function_configuration(
        FunctionName=name, DeadLetterConfig={"TargetArn": function_arn(name)}))
    assert code == "InvalidParameterValueException" and "SQS queue or an SNS topic" in msg
    (tmp_path / "f.zip").write_bytes(make_zip({"app.py": WORKER}))
    other = unique("dlq")
    rc, _, err = fast.aws("create-function", "--function-name", other, "--runtime", PY, "--handler", "app.handler",
                          "--role", ROLE, "--zip-file", f"fileb://{tmp_path / 'f.zip'}",
                          "--dead-letter-config", f"TargetArn=arn:aws:sns:{REGION}:{ACCOUNT}:topic")
    assert rc != 0 and "InvalidParameterValueException" in err and "SNS topics" in err
    rc, _, err = fast.aws("get-function", "--function-name", other)
    assert rc != 0 and "ResourceNotFoundException" in err
    # an empty TargetArn (removing the DLQ) is fine
    c.update_function_configuration(FunctionName=name, DeadLetterConfig={"TargetArn": ""})


def test_payload_limits_unknown_functions_and_bad_json(fast):
    c = fast.client()
    name = create(fast, WORKER)
    big = json.dumps("x" * (1_048_576 - 1)).encode()
    assert len(big) > 1_048_576
    code, msg, status = error_of(lambda: c.invoke(FunctionName=name, InvocationType="Event", Payload=big))
    assert (code, status) == ("RequestTooLargeException", 413), msg
    assert "1048576" in msg
    fits = json.dumps("x" * (1_048_576 - 10)).encode()
    assert c.invoke(FunctionName=name, InvocationType="Event", Payload=fits)["StatusCode"] == 202
    for fn, q in ((unique("none"), None), (name, "nope"), (name, "9")):
        kw = {"Qualifier": q} if q else {}
        code, _, status = error_of(lambda: c.invoke(FunctionName=fn, InvocationType="Event", Payload=b"{}", **kw))
        assert (code, status) == ("ResourceNotFoundException", 404)
    code, _, status = error_of(lambda: c.invoke(FunctionName=name, InvocationType="Event", Payload=b"{nope"))
    assert (code, status) == ("InvalidRequestContentException", 400)
    # only the one that fit was queued (it prints more than a log keeps: count START lines)
    wait_lines(fast, name, "START RequestId", 1)
    assert counters(fast, name)["received"] == 1


def test_deprecated_invoke_async(fast):
    name = create(fast, WORKER)
    r = fast.client().invoke_async(FunctionName=name, InvokeArgs=b'{"old": "api"}')
    assert r["Status"] == 202
    (_, _, ev), = attempts(fast, name, 1)
    assert ev == {"old": "api"}


# ---------------------------------------------------------------------------------------------
# recursive loop detection


def test_a_17_hop_loop_is_stopped_unless_allowed(fast):
    c = fast.client()
    loop = create(fast, LOOP, env={"LIMIT": "100"})
    sink = create(fast, SINK)
    assert c.get_function_recursion_config(FunctionName=loop)["RecursiveLoop"] == "Terminate"
    c.put_function_event_invoke_config(FunctionName=loop, MaximumRetryAttempts=0, DestinationConfig={
        "OnSuccess": {"Destination": function_arn(loop)}, "OnFailure": {"Destination": function_arn(sink)}})
    event(c, loop, {})
    (rec,) = records(fast, sink, 1, timeout=120)
    hops = wait_lines(fast, loop, "LOOP ", 16)
    assert hops == [f"LOOP {n}" for n in range(1, 17)], hops
    assert rec["requestContext"]["condition"] == "RecursiveInvocationDetected"
    assert rec["requestContext"]["approximateInvokeCount"] == 0
    assert "responseContext" not in rec
    assert rec["requestPayload"]["responsePayload"] == {"n": 16}
    cnt = counters(fast, loop)
    assert cnt["RecursiveInvocationsDropped"] == 1 and cnt["delivered:OnFailure"] == 1
    assert "recursive loop detected" in fast.log()
    time.sleep(1)
    assert len([x for x in log_lines(fast, loop) if x.startswith("LOOP ")]) == 16
    # Allow: the chain goes on past 16 hops until the function itself ends it at 20
    allowed = create(fast, LOOP, env={"LIMIT": "20"})
    assert c.put_function_recursion_config(FunctionName=allowed, RecursiveLoop="Allow")["RecursiveLoop"] == "Allow"
    assert c.get_function_recursion_config(FunctionName=allowed)["RecursiveLoop"] == "Allow"
    c.put_function_event_invoke_config(FunctionName=allowed, MaximumRetryAttempts=0, DestinationConfig={
        "OnSuccess": {"Destination": function_arn(allowed)}, "OnFailure": {"Destination": function_arn(sink)}})
    event(c, allowed, {})
    recs = records(fast, sink, 2, timeout=120)
    last = [r for r in recs if r["requestContext"]["functionArn"].startswith(function_arn(allowed))]
    assert last and last[0]["requestContext"]["condition"] == "RetriesExhausted"
    assert last[0]["responsePayload"]["errorMessage"] == "limit reached at 20"
    assert len(wait_lines(fast, allowed, "LOOP ", 20)) == 20
    # bad values and unknown functions
    raw = fast.client(parameter_validation=False)
    code, _, _ = error_of(lambda: raw.put_function_recursion_config(FunctionName=allowed, RecursiveLoop="allow"))
    assert code == "ValidationException"
    code, _, _ = error_of(lambda: c.get_function_recursion_config(FunctionName=unique("none")))
    assert code == "ResourceNotFoundException"


def lineage(name: str, count: int) -> str:
    return f"Root=1-5f000000-000000000000000000000000;Parent=1;Sampled=0;Lineage={hashlib.sha256(name.encode()).hexdigest()[:8]}:{count}"


def test_sdk_trace_headers_carry_the_chain_into_sync_and_async_invokes(fast):
    c = fast.client()
    name = create(fast, WORKER)
    sink = create(fast, SINK)
    c.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnFailure": {"Destination": function_arn(sink)}})
    header = {"value": lineage(name, 16)}

    def add(request, **_):
        request.headers["X-Amzn-Trace-Id"] = header["value"]

    c.meta.events.register("before-send.lambda.Invoke", add)
    # what botocore sends from inside a function whose chain already ran `name` 16 times
    code, msg, status = error_of(lambda: c.invoke(FunctionName=name, Payload=b"{}"))
    assert (code, status) == ("RecursiveInvocationException", 400), msg
    rid = event(c, name, {"n": 1})
    (rec,) = records(fast, sink, 1)
    assert rec["requestContext"]["requestId"] == rid
    assert rec["requestContext"]["condition"] == "RecursiveInvocationDetected"
    # 15 earlier hops: the function runs, and sees the chain in its trace id
    header["value"] = lineage(name, 15)
    assert c.invoke(FunctionName=name, Payload=b'{"k": 1}')["StatusCode"] == 200
    c.put_function_recursion_config(FunctionName=name, RecursiveLoop="Allow")
    header["value"] = lineage(name, 40)
    assert c.invoke(FunctionName=name, Payload=b"{}")["StatusCode"] == 200


# ---------------------------------------------------------------------------------------------
# throttles


def test_events_wait_for_capacity_and_a_function_reserved_at_zero_gives_up_at_once(tmp_path_factory):
    d = Daemon(tmp_path_factory.mktemp("async-capacity"),
               env={**FAST_ENV, "LAMBDABOX_ENGINE__CONCURRENT_EXECUTIONS": "1"}).start()
    try:
        c = d.client()
        busy = create(d, WORKER)
        name = create(d, WORKER)
        sink = create(d, SINK)
        c.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0, DestinationConfig={
            "OnSuccess": {"Destination": function_arn(sink)}, "OnFailure": {"Destination": function_arn(sink)}})
        # the account's only unit is busy: a sync invoke is throttled, the event waits for it
        done = {}
        t = threading.Thread(target=lambda: done.update(r=c.invoke(FunctionName=busy, Payload=b'{"sleep": 4}')))
        t.start()
        wait_lines(d, busy, "ATTEMPT ", 1)
        code, _, status = error_of(lambda: c.invoke(FunctionName=name, Payload=b"{}"))
        assert (code, status) == ("TooManyRequestsException", 429)
        rid = event(c, name, {"n": 1})
        time.sleep(1)
        assert not [a for a in log_lines(d, name) if a.startswith("ATTEMPT ")], "ran while the unit was busy"
        t.join()
        (rec,) = records(d, sink, 1)
        assert rec["requestContext"]["requestId"] == rid
        assert rec["requestContext"]["condition"] == "Success"
        assert rec["requestContext"]["approximateInvokeCount"] == 1
        cnt = counters(d, name)
        assert "retried" not in cnt and "backoff" not in cnt, cnt
        # reserved concurrency 0: the event goes to OnFailure without running or retrying
        c.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
        rid = event(c, name, {"n": 2})
        recs = records(d, sink, 2)
        (off,) = [r for r in recs if r["requestContext"]["requestId"] == rid]
        assert off["requestContext"]["condition"] == "RetriesExhausted"
        assert off["requestContext"]["approximateInvokeCount"] == 0
        assert "responseContext" not in off
        assert len([a for a in attempts(d, name, 1) if a[0] == rid]) == 0
    finally:
        d.kill()


# ---------------------------------------------------------------------------------------------
# restarts


def test_queued_events_survive_sigterm_and_sigkill(tmp_path_factory):
    d = Daemon(tmp_path_factory.mktemp("async-restart"), env=FAST_ENV).start()
    try:
        c = d.client()
        name = create(d, WORKER)
        sink = create(d, SINK)
        c.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=2,
                                           DestinationConfig={"OnFailure": {"Destination": function_arn(sink)}})
        # a failing event waiting for its retry is in the database, not only in memory
        rid = event(c, name, {"fail": True, "n": 1})
        wait_lines(d, name, "ATTEMPT ", 1)
        d.restart()
        d.crash_restart()
        (rec,) = records(d, sink, 1, timeout=90)
        assert rec["requestContext"]["requestId"] == rid
        assert rec["requestContext"]["approximateInvokeCount"] == 3
        runs = [a for a in attempts(d, name, 3) if a[0] == rid]
        assert len(runs) == 3
        assert "resuming queued asynchronous events" in d.log()
    finally:
        d.kill()


# ---------------------------------------------------------------------------------------------
# visibility: CLI and dashboard


def test_queue_command_and_dashboard_show_pending_events_and_settings(tmp_path_factory):
    # a retry delay longer than the test: the failed event stays pending
    d = Daemon(tmp_path_factory.mktemp("async-visible"),
               env={**FAST_ENV, "LAMBDABOX_ASYNC_INVOKE__RETRY_DELAY_MS": "600000"}).start()
    try:
        c = d.client()
        name = create(d, WORKER)
        sink = create(d, SINK)
        event(c, name, {"fail": True, "n": 1})
        event(c, name, {"fail": True, "n": 2})
        wait_lines(d, name, "ATTEMPT ", 2)
        time.sleep(1.2)
        q = queue_json(d)
        (lane,) = [l for l in q["lanes"] if l["function"] == name]
        assert lane["pending"] == 2 and lane["qualifier"] == "$LATEST"
        assert lane["oldest_age_ms"] >= 1000 and lane["next_due_in_ms"] > 500_000
        p = d.lambdabox("queue")
        assert p.returncode == 0 and re.search(rf"{name}\s+\$LATEST\s+2\s+", p.stdout), p.stdout
        assert re.search(rf"{name}\s+retried\s+2", p.stdout), p.stdout
        # the dashboard: figures on the Monitoring tab, settings on the Configuration tab
        ui = Dashboard(d.endpoint)
        ui.login_ok("admin", first_admin_password(d.data_dir))
        mon = ui.get(f"/ui/functions/{name}/monitoring")
        assert mon.status == 200
        assert re.search(r'id="queue-pending">2<', mon.text), mon.text[-3000:]
        assert "retried" in mon.text and "received" in mon.text
        cfg = ui.get(f"/ui/functions/{name}/configuration")
        assert 'id="async-form"' in cfg.text and 'id="async-max-age"' in cfg.text
        r = ui.post(f"/ui/functions/{name}/async", {"retries": "1", "max_age": "600",
                                                    "on_success": "", "on_failure": function_arn(sink)})
        assert r.status == 303, r.text[:2000]
        got = c.get_function_event_invoke_config(FunctionName=name)
        assert (got["MaximumRetryAttempts"], got["MaximumEventAgeInSeconds"]) == (1, 600)
        assert got["DestinationConfig"]["OnFailure"] == {"Destination": function_arn(sink)}
        page = ui.get(f"/ui/functions/{name}/configuration").text
        assert 'value="600"' in page and function_arn(sink) in page
        # refused input is explained beside the field and changes nothing
        r = ui.post(f"/ui/functions/{name}/async", {"retries": "1", "max_age": "30", "on_success": "", "on_failure": ""})
        assert r.status == 422 and 'id="err-async_max_age"' in r.text
        r = ui.post(f"/ui/functions/{name}/async", {"retries": "2", "max_age": "600",
                                                    "on_success": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q", "on_failure": ""})
        assert r.status == 422 and 'id="err-async_on_success"' in r.text and "SQS queue does not exist" in r.text
        assert c.get_function_event_invoke_config(FunctionName=name)["MaximumRetryAttempts"] == 1
        # without a CSRF token: refused
        r = ui.post(f"/ui/functions/{name}/async", {"retries": "0", "max_age": "600"}, csrf=False)
        assert r.status == 403
        anon = Dashboard(d.endpoint)
        assert anon.request("POST", f"/ui/functions/{name}/async", body=b"csrf=x").status == 303
    finally:
        d.kill()


# ---------------------------------------------------------------------------------------------
# maximum event age (about a minute: MaximumEventAgeInSeconds is at least 60)


def test_an_event_older_than_its_maximum_age_gives_up_with_event_age_exceeded(tmp_path_factory):
    # retries come 90 s later than the 60 s the event may live: it expires before its retry
    d = Daemon(tmp_path_factory.mktemp("async-age"),
               env={**FAST_ENV, "LAMBDABOX_ASYNC_INVOKE__RETRY_DELAY_MS": "90000"}).start()
    try:
        c = d.client()
        name = create(d, WORKER)
        sink = create(d, SINK)
        c.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=60,
                                           DestinationConfig={"OnFailure": {"Destination": function_arn(sink)}})
        t0 = time.time()
        rid = event(c, name, {"fail": True, "n": 9})
        (rec,) = records(d, sink, 1, timeout=120)
        assert time.time() - t0 >= 59
        assert rec["requestContext"]["requestId"] == rid
        assert rec["requestContext"]["condition"] == "EventAgeExceeded"
        assert rec["requestContext"]["approximateInvokeCount"] == 1
        assert rec["responseContext"]["functionError"] == "Unhandled"
        assert len(attempts(d, name, 1)) == 1
        assert counters(d, name)["failed:EventAgeExceeded"] == 1
    finally:
        d.kill()
