"""SQS queues as destinations of asynchronous invocations and as function dead-letter queues
(issues 13 and 16), end to end through boto3 (SQS over AWS JSON 1.0) and Debian's AWS CLI v2
(SQS over the query protocol): a DeadLetterConfig queue receives the original event unchanged
with AWS's RequestID / ErrorCode / ErrorMessage attributes (botocore's MD5 checks on); OnSuccess
and OnFailure queues receive the invocation record (reference §7); FIFO queues, which AWS does
not deliver to, are refused when configured.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, ROLE, Daemon, function_arn, make_zip, unique
from sqs_support import md5_attributes, md5_body, queue_counts, receive_all, sqs_client

PY = "python3.11"

WORKER = r'''
import json
def handler(event, context):
    print("ATTEMPT", context.aws_request_id, json.dumps(event))
    if isinstance(event, dict) and event.get("fail"):
        raise ValueError("boom " + str(event.get("n")))
    return {"echo": event}
'''

SLEEPER = r'''
import time
def handler(event, context):
    time.sleep(5)
    return "late"
'''

TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    env = {"LAMBDABOX_ASYNC_INVOKE__RETRY_DELAY_MS": "1000",
           "LAMBDABOX_ASYNC_INVOKE__BACKOFF_MIN_MS": "200",
           "LAMBDABOX_ASYNC_INVOKE__BACKOFF_MAX_MS": "1000"}
    dm = Daemon(tmp_path_factory.mktemp("sqsdest"), env=env).start()
    yield dm
    dm.kill()


@pytest.fixture(scope="module")
def lam(d):
    return d.client()


@pytest.fixture(scope="module")
def sqs(d):
    return sqs_client(d)


def create(lam, code: str, name: str | None = None, **kw) -> str:
    name = name or unique("sd")
    lam.create_function(FunctionName=name, Runtime=PY, Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": make_zip({"app.py": code})}, Timeout=30, **kw)
    return name


def queue(sqs, name: str | None = None, **attrs) -> tuple[str, str]:
    name = name or unique("dq")
    url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert arn == f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
    return url, arn


def event(lam, name: str, raw: bytes) -> str:
    r = lam.invoke(FunctionName=name, InvocationType="Event", Payload=raw)
    assert r["StatusCode"] == 202, r
    return r["ResponseMetadata"]["RequestId"]


def counters(d: Daemon, name: str) -> dict:
    p = d.lambdabox("queue", "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["counters"].get(name, {})


def one_message(sqs, url: str, timeout: float = 60.0) -> dict:
    got = receive_all(sqs, url, 1, timeout=timeout, MessageAttributeNames=["All"], AttributeNames=["All"])
    assert len(got) == 1, got
    return got[0]


def test_dead_letter_queue_gets_the_original_event_with_aws_attributes(d, lam, sqs):
    url, arn = queue(sqs)
    fn = create(lam, WORKER, DeadLetterConfig={"TargetArn": arn})
    assert lam.get_function_configuration(FunctionName=fn)["DeadLetterConfig"] == {"TargetArn": arn}
    lam.put_function_event_invoke_config(FunctionName=fn, MaximumRetryAttempts=0)
    # the body is the event byte for byte (odd spacing and key order kept)
    raw = b'{"n": 42,   "fail": true, "orderId": "o-1"}'
    rid = event(lam, fn, raw)
    m = one_message(sqs, url)
    assert m["Body"] == raw.decode()
    assert m["MD5OfBody"] == md5_body(raw.decode())
    attrs = m["MessageAttributes"]
    assert attrs == {
        "RequestID": {"DataType": "String", "StringValue": rid},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": "boom 42"},
    }
    assert m["MD5OfMessageAttributes"] == md5_attributes(attrs)
    assert m["Attributes"]["ApproximateReceiveCount"] == "1"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    # MaximumRetryAttempts=0: one attempt, one dead letter, nothing else
    time.sleep(2.5)
    assert queue_counts(sqs, url) == (0, 0, 0)
    c = counters(d, fn)
    assert c.get("delivered:DeadLetter") == 1 and c.get("failed:RetriesExhausted") == 1, c
    assert "retried" not in c and "DestinationDeliveryFailures" not in c, c
    lines = d.lambdabox("logs", fn, "--since-minutes", "600").stdout
    assert lines.count("ATTEMPT " + rid) == 1, lines


def test_a_timeout_dead_letter_carries_the_timeout_message(d, lam, sqs):
    url, arn = queue(sqs)
    fn = unique("sd")
    lam.create_function(FunctionName=fn, Runtime=PY, Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": make_zip({"app.py": SLEEPER})}, Timeout=1,
                        DeadLetterConfig={"TargetArn": arn})
    lam.put_function_event_invoke_config(FunctionName=fn, MaximumRetryAttempts=0)
    rid = event(lam, fn, b'"just a string"')
    m = one_message(sqs, url)
    assert m["Body"] == '"just a string"'
    a = m["MessageAttributes"]
    assert a["RequestID"]["StringValue"] == rid
    assert a["ErrorCode"] == {"DataType": "Number", "StringValue": "200"}
    assert "Task timed out after 1.00 seconds" in a["ErrorMessage"]["StringValue"], a


def test_on_success_and_on_failure_records_in_queues(d, lam, sqs):
    ok_url, ok_arn = queue(sqs)
    fail_url, fail_arn = queue(sqs)
    fn = create(lam, WORKER)
    put = lam.put_function_event_invoke_config(
        FunctionName=fn, MaximumRetryAttempts=1,
        DestinationConfig={"OnSuccess": {"Destination": ok_arn}, "OnFailure": {"Destination": fail_arn}})
    assert put["DestinationConfig"] == {"OnSuccess": {"Destination": ok_arn}, "OnFailure": {"Destination": fail_arn}}
    ok_id = event(lam, fn, json.dumps({"n": 1}).encode())
    fail_id = event(lam, fn, json.dumps({"n": 2, "fail": True}).encode())

    m = one_message(sqs, ok_url)
    assert m["MD5OfBody"] == md5_body(m["Body"])
    assert "MessageAttributes" not in m
    ok = json.loads(m["Body"])
    assert set(ok) == {"version", "timestamp", "requestContext", "requestPayload", "responseContext", "responsePayload"}
    assert ok["version"] == "1.0" and TS.fullmatch(ok["timestamp"])
    assert ok["requestContext"] == {"requestId": ok_id, "functionArn": function_arn(fn) + ":$LATEST",
                                    "condition": "Success", "approximateInvokeCount": 1}
    assert ok["requestPayload"] == {"n": 1}
    assert ok["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert ok["responsePayload"] == {"echo": {"n": 1}}

    m = one_message(sqs, fail_url, timeout=90)
    failed = json.loads(m["Body"])
    assert failed["version"] == "1.0" and TS.fullmatch(failed["timestamp"])
    assert failed["requestContext"] == {"requestId": fail_id, "functionArn": function_arn(fn) + ":$LATEST",
                                        "condition": "RetriesExhausted", "approximateInvokeCount": 2}
    assert failed["requestPayload"] == {"n": 2, "fail": True}
    assert failed["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert failed["responsePayload"]["errorType"] == "ValueError"
    assert failed["responsePayload"]["errorMessage"] == "boom 2"
    assert isinstance(failed["responsePayload"]["stackTrace"], list)
    # one record each: the success queue did not get the failure and vice versa
    time.sleep(1.5)
    assert receive_all(sqs, ok_url, 1, timeout=1) == [] and receive_all(sqs, fail_url, 1, timeout=1) == []
    c = counters(d, fn)
    assert c.get("delivered:OnSuccess") == 1 and c.get("delivered:OnFailure") == 1, c


def test_cli_dead_letter_config_and_on_failure_queue_over_the_query_protocol(d, tmp_path):
    rc, out, err = d.aws("create-queue", "--queue-name", unique("cli-dlq"), service="sqs")
    assert rc == 0, err
    dlq_url = out["QueueUrl"]
    rc, out, err = d.aws("get-queue-attributes", "--queue-url", dlq_url, "--attribute-names", "QueueArn", service="sqs")
    assert rc == 0, err
    dlq_arn = out["Attributes"]["QueueArn"]
    rc, out, err = d.aws("create-queue", "--queue-name", unique("cli-fail"), service="sqs")
    assert rc == 0, err
    fail_url = out["QueueUrl"]
    fail_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{fail_url.rsplit('/', 1)[1]}"

    (tmp_path / "f.zip").write_bytes(make_zip({"app.py": WORKER}))
    fn = unique("cli")
    rc, out, err = d.aws("create-function", "--function-name", fn, "--runtime", PY, "--handler", "app.handler",
                         "--role", ROLE, "--zip-file", f"fileb://{tmp_path / 'f.zip'}",
                         "--dead-letter-config", f"TargetArn={dlq_arn}")
    assert rc == 0, err
    assert out["DeadLetterConfig"] == {"TargetArn": dlq_arn}
    rc, out, err = d.aws("put-function-event-invoke-config", "--function-name", fn, "--maximum-retry-attempts", "0",
                         "--destination-config", json.dumps({"OnFailure": {"Destination": fail_arn}}))
    assert rc == 0, err
    assert out["DestinationConfig"]["OnFailure"] == {"Destination": fail_arn}
    rc, out, err = d.aws("invoke", "--function-name", fn, "--invocation-type", "Event",
                         "--cli-binary-format", "raw-in-base64-out",
                         "--payload", '{"fail": true, "n": "cli"}', str(tmp_path / "out"))
    assert rc == 0 and out == {"StatusCode": 202}, err

    def cli_receive(url: str) -> dict:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rc, out, err = d.aws("receive-message", "--queue-url", url, "--wait-time-seconds", "2",
                                 "--message-attribute-names", "All", "--attribute-names", "All", service="sqs")
            assert rc == 0, err
            if isinstance(out, dict) and out.get("Messages"):
                (msg,) = out["Messages"]
                return msg
        raise AssertionError(f"no message in {url}")

    # both the OnFailure record and the dead letter: AWS sends to both when both are set
    dead = cli_receive(dlq_url)
    assert json.loads(dead["Body"]) == {"fail": True, "n": "cli"}
    assert dead["MD5OfBody"] == md5_body(dead["Body"])
    a = dead["MessageAttributes"]
    assert a["ErrorCode"] == {"StringValue": "200", "DataType": "Number"}
    assert a["ErrorMessage"] == {"StringValue": "boom cli", "DataType": "String"}
    assert a["RequestID"]["DataType"] == "String"
    assert dead["MD5OfMessageAttributes"] == md5_attributes(a)
    rec = json.loads(cli_receive(fail_url)["Body"])
    assert rec["requestContext"]["requestId"] == a["RequestID"]["StringValue"]
    assert rec["requestContext"]["condition"] == "RetriesExhausted"
    assert rec["requestContext"]["approximateInvokeCount"] == 1
    assert rec["responsePayload"]["errorMessage"] == "boom cli"


def test_missing_and_fifo_queues_are_refused_and_nothing_is_stored(d, lam, sqs):
    fn = create(lam, WORKER)
    _, fifo_arn = queue(sqs, name=unique("fq") + ".fifo", FifoQueue="true")
    missing = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{unique('nope')}"
    for arn, why in ((missing, "does not exist"), (fifo_arn, "FIFO")):
        with pytest.raises(ClientError) as e:
            lam.put_function_event_invoke_config(FunctionName=fn, DestinationConfig={"OnFailure": {"Destination": arn}})
        err = e.value.response
        assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == ("InvalidParameterValueException", 400)
        assert why in err["Error"]["Message"], err
        with pytest.raises(ClientError) as e:
            lam.update_function_configuration(FunctionName=fn, DeadLetterConfig={"TargetArn": arn})
        assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
        assert why in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        lam.get_function_event_invoke_config(FunctionName=fn)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert "DeadLetterConfig" not in lam.get_function_configuration(FunctionName=fn)
