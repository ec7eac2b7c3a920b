"""Event source mappings (SQS → function) through the AWS CLI v2 and boto3: the seed's
commands verbatim, the mapping API's shapes, states and validation, the SQS event as Lambda
builds it, batch sizes and windows, ReportBatchItemFailures, whole-batch failures reaching the
dead-letter queue by redrive, filters, a throttled function, disable/enable, FIFO order.

The batch function reports each batch to a collector on loopback (esm_support)."""

from __future__ import annotations

import json
import re
import time

import botocore.exceptions
import pytest

from conftest import unique
from esm_support import Collector, collector_daemon, create_batch_function, wait_state
from sqs_support import md5_body, queue_counts, receive_all, sqs_client

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def collector():
    c = Collector()
    yield c
    c.close()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, collector):
    d = collector_daemon(tmp_path_factory.mktemp("esm"), collector)
    yield d
    d.kill()


@pytest.fixture(scope="module")
def lam(daemon):
    return daemon.client()


@pytest.fixture(scope="module")
def sqs(daemon):
    return sqs_client(daemon)


def make_queue(sqs, name=None, dlq_after: int | None = None, **attrs):
    name = name or unique("q")
    attrs.setdefault("VisibilityTimeout", "10")
    dlq = None
    if dlq_after:
        dlq = sqs.create_queue(QueueName=name + "-dlq" + (".fifo" if name.endswith(".fifo") else ""),
                               Attributes={"FifoQueue": "true"} if name.endswith(".fifo") else {})["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attrs["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": dlq_after})
    url = sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attrs.items()})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn, dlq


def bodies(batches) -> list[str]:
    return [r["body"] for b in batches for r in b["records"]]


def test_seed_commands_verbatim(daemon, lam, collector, tmp_path):
    create_batch_function(lam, collector, name="my-processor")
    rc, out, err = daemon.aws("create-queue", "--queue-name", "my-queue", service="sqs")
    assert rc == 0, err
    url = out["QueueUrl"]
    rc, m, err = daemon.aws("create-event-source-mapping", "--function-name", "my-processor",
                            "--event-source-arn", "arn:aws:sqs:us-east-1:000000000000:my-queue",
                            "--batch-size", "10", "--maximum-batching-window-in-seconds", "5")
    assert rc == 0, err
    assert UUID_RE.match(m["UUID"]), m
    assert m["State"] == "Creating" and m["StateTransitionReason"] == "USER_INITIATED"
    assert m["BatchSize"] == 10 and m["MaximumBatchingWindowInSeconds"] == 5
    assert m["EventSourceArn"] == "arn:aws:sqs:us-east-1:000000000000:my-queue"
    assert m["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:my-processor"
    assert m["LastProcessingResult"] == "No records processed"
    rc, out, err = daemon.aws("list-event-source-mappings")
    assert rc == 0, err
    assert m["UUID"] in [x["UUID"] for x in out["EventSourceMappings"]]
    wait_state(lam, m["UUID"], "Enabled")
    t = time.monotonic()
    rc, out, err = daemon.aws("send-message", "--queue-url", url, "--message-body", "seed hello", service="sqs")
    assert rc == 0, err
    got = collector.wait(lambda s: "seed hello" in bodies(s), 60, "the seed message")
    # the batching window (5 s) gathers before invoking, but not much longer
    assert time.monotonic() - t < 30
    assert bodies(got).count("seed hello") == 1
    deadline = time.monotonic() + 20
    while queue_counts(sqs_client(daemon), url) != (0, 0, 0) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert queue_counts(sqs_client(daemon), url) == (0, 0, 0)
    rc, out, err = daemon.aws("list-event-source-mappings", "--function-name", "my-processor")
    assert [x["LastProcessingResult"] for x in out["EventSourceMappings"]] == ["OK"]
    rc, out, err = daemon.aws("get-event-source-mapping", "--uuid", m["UUID"])
    assert rc == 0 and out["State"] == "Enabled", err


def test_event_shape(lam, sqs, collector):
    fn = create_batch_function(lam, collector)
    url, arn, _ = make_queue(sqs)
    m = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, BatchSize=1)
    assert isinstance(m["LastModified"].timestamp(), float)
    assert m["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert m["EventSourceMappingArn"] == f"arn:aws:lambda:us-east-1:000000000000:event-source-mapping:{m['UUID']}"
    sent = sqs.send_message(QueueUrl=url, MessageBody="shape-1", MessageAttributes={
        "kind": {"DataType": "String", "StringValue": "demo"},
        "raw": {"DataType": "Binary", "BinaryValue": b"\x01\x02"},
    })
    got = collector.wait(lambda s: "shape-1" in bodies(s), 60, "shape-1")
    ev = next(b["event"] for b in got if b["event"] and b["event"]["Records"][0]["body"] == "shape-1")
    assert list(ev) == ["Records"] and len(ev["Records"]) == 1
    r = ev["Records"][0]
    assert set(r) == {"messageId", "receiptHandle", "body", "attributes", "messageAttributes",
                      "md5OfBody", "md5OfMessageAttributes", "eventSource", "eventSourceARN", "awsRegion"}
    assert r["messageId"] == sent["MessageId"] and r["receiptHandle"]
    assert r["md5OfBody"] == md5_body("shape-1")
    assert r["md5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert r["eventSource"] == "aws:sqs" and r["eventSourceARN"] == arn and r["awsRegion"] == "us-east-1"
    assert set(r["attributes"]) >= {"ApproximateReceiveCount", "SentTimestamp", "SenderId",
                                    "ApproximateFirstReceiveTimestamp"}
    assert r["attributes"]["ApproximateReceiveCount"] == "1"
    assert r["messageAttributes"] == {
        "kind": {"stringValue": "demo", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
        "raw": {"binaryValue": "AQI=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"},
    }
    lam.delete_event_source_mapping(UUID=m["UUID"])


def test_validation(lam, sqs, collector):
    fn = create_batch_function(lam, collector, timeout=30)
    short_url, short_arn, _ = make_queue(sqs, VisibilityTimeout=10)
    _, fifo_arn, _ = make_queue(sqs, name=unique("f") + ".fifo", FifoQueue="true", VisibilityTimeout=60)
    _, ok_arn, _ = make_queue(sqs, VisibilityTimeout=60)
    cases = [
        (dict(FunctionName=fn, EventSourceArn=short_arn), "InvalidParameterValueException", "visibility timeout"),
        (dict(FunctionName=fn, EventSourceArn=ok_arn, BatchSize=20), "InvalidParameterValueException", "batch window"),
        (dict(FunctionName=fn, EventSourceArn=ok_arn, BatchSize=10001, MaximumBatchingWindowInSeconds=1), None, None),
        (dict(FunctionName=fn, EventSourceArn=fifo_arn, BatchSize=11, MaximumBatchingWindowInSeconds=1), "InvalidParameterValueException", "FIFO"),
        (dict(FunctionName=fn, EventSourceArn="arn:aws:sqs:us-east-1:000000000000:missing"), "InvalidParameterValueException", "does not exist"),
        (dict(FunctionName="no-such-function", EventSourceArn=ok_arn), "ResourceNotFoundException", None),
        (dict(FunctionName=fn, EventSourceArn=ok_arn, ScalingConfig={"MaximumConcurrency": 1}), None, None),
        (dict(FunctionName=fn, EventSourceArn=ok_arn, FilterCriteria={"Filters": [{"Pattern": "not json"}]}), "InvalidParameterValueException", None),
        (dict(FunctionName=fn, EventSourceArn="arn:aws:kinesis:us-east-1:000000000000:stream/s"), "InvalidParameterValueException", None),
    ]
    for kwargs, want, text in cases:
        with pytest.raises((botocore.exceptions.ClientError, botocore.exceptions.ParamValidationError)) as e:
            lam.create_event_source_mapping(**kwargs)
        if want and isinstance(e.value, botocore.exceptions.ClientError):
            assert e.value.response["Error"]["Code"] == want, (kwargs, e.value.response)
            if text:
                assert text.lower() in e.value.response["Error"]["Message"].lower(), e.value.response
    # nothing was created
    assert lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"] == []
    m = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=ok_arn)
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=ok_arn)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_event_source_mapping(UUID="00000000-0000-0000-0000-000000000000")
    wait_state(lam, m["UUID"], "Enabled")
    # the function's timeout may not grow past the queue's visibility timeout via update either
    with pytest.raises(botocore.exceptions.ClientError):
        lam.update_event_source_mapping(UUID=m["UUID"], BatchSize=50)
    lam.delete_event_source_mapping(UUID=m["UUID"])


def test_partial_batch_failures_retry_alone_and_poison_reaches_dlq(lam, sqs, collector):
    fn = create_batch_function(lam, collector)
    url, arn, dlq = make_queue(sqs, dlq_after=3, VisibilityTimeout=5)
    entries = [f"pb-ok-{i}" for i in range(25)] + ["poison-pb-1", "poison-pb-2"] + [f"flaky-pb-{i}" for i in range(3)]
    for i in range(0, len(entries), 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"e{j}", "MessageBody": b} for j, b in enumerate(entries[i:i + 10])])
    m = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, BatchSize=10,
                                        FunctionResponseTypes=["ReportBatchItemFailures"])
    assert m["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    dead = receive_all(sqs, dlq, 2, timeout=90)
    assert sorted(x["Body"] for x in dead) == ["poison-pb-1", "poison-pb-2"]
    snap = collector.wait(lambda s: all(f"flaky-pb-{i}" in [r["body"] for b in s for r in b["records"] if r["count"] >= 2] for i in range(3)), 60, "flaky retries")
    mine = [b for b in snap if any("pb-" in r["body"] for r in b["records"])]
    assert all(len(b["records"]) <= 10 for b in mine)
    seen = bodies(mine)
    # every good message processed exactly once; failures retried alone; poison 3 times
    for i in range(25):
        assert seen.count(f"pb-ok-{i}") == 1, seen
    for i in range(3):
        assert seen.count(f"flaky-pb-{i}") == 2, seen
    assert seen.count("poison-pb-1") == 3 and seen.count("poison-pb-2") == 3, seen
    assert queue_counts(sqs, url) == (0, 0, 0)
    lam.delete_event_source_mapping(UUID=m["UUID"])


def test_function_error_fails_the_whole_batch(lam, sqs, collector):
    fn = create_batch_function(lam, collector, env={"BOOM_UNTIL": "2"})
    url, arn, _ = make_queue(sqs, VisibilityTimeout=5)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "boom-wb"}, {"Id": "b", "MessageBody": "wb-ok"}])
    m = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, BatchSize=10,
                                        MaximumBatchingWindowInSeconds=1)
    snap = collector.wait(lambda s: any(r["body"] == "boom-wb" and r["count"] == 2 for b in s for r in b["records"]), 60, "redelivery")
    # the companion of the failing message came back too (nothing deleted for an error)
    assert bodies(collector.of("wb-ok")).count("wb-ok") == 2 or bodies(collector.of("boom-wb")).count("wb-ok") == 2
    deadline = time.monotonic() + 20
    while queue_counts(sqs, url) != (0, 0, 0) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert queue_counts(sqs, url) == (0, 0, 0)
    r = lam.get_event_source_mapping(UUID=m["UUID"])
    assert r["LastProcessingResult"] in ("OK", "PROBLEM: Function call failed")
    lam.delete_event_source_mapping(UUID=m["UUID"])


def test_filters_delete_what_they_do_not_match(lam, sqs, collector):
    fn = create_batch_function(lam, collector)
    url, arn, _ = make_queue(sqs)
    pattern = json.dumps({"body": {"kind": ["keep"]}})
    m = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn,
                                        FilterCriteria={"Filters": [{"Pattern": pattern}]})
    assert m["FilterCriteria"] == {"Filters": [{"Pattern": pattern}]}
    wait_state(lam, m["UUID"], "Enabled")
    for b in (json.dumps({"kind": "keep", "n": "flt-1"}), json.dumps({"kind": "drop", "n": "flt-2"}),
              "flt-3 not json", json.dumps({"kind": "keep", "n": "flt-4"})):
        sqs.send_message(QueueUrl=url, MessageBody=b)
    collector.wait(lambda s: sum('"flt-' in x for x in bodies(s)) >= 2, 60, "filtered messages")
    deadline = time.monotonic() + 20
    while queue_counts(sqs, url) != (0, 0, 0) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert queue_counts(sqs, url) == (0, 0, 0)
    time.sleep(1)
    got = sorted(json.loads(x)["n"] for x in bodies(collector.snapshot()) if '"flt-' in x)
    assert got == ["flt-1", "flt-4"]
    assert not any("flt-3" in x for x in bodies(collector.snapshot()))
    lam.delete_event_source_mapping(UUID=m["UUID"])


def test_disable_enable_update_delete(daemon, lam, sqs, collector):
    fn = create_batch_function(lam, collector)
    url, arn, _ = make_queue(sqs)
    m = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, Enabled=False)
    wait_state(lam, m["UUID"], "Disabled")
    sqs.send_message(QueueUrl=url, MessageBody="dis-1")
    time.sleep(3)
    assert "dis-1" not in bodies(collector.snapshot())
    assert queue_counts(sqs, url) == (1, 0, 0)
    rc, out, err = daemon.aws("update-event-source-mapping", "--uuid", m["UUID"], "--enabled",
                              "--batch-size", "5", "--scaling-config", "MaximumConcurrency=2")
    assert rc == 0, err
    assert out["State"] == "Enabling" and out["BatchSize"] == 5 and out["ScalingConfig"] == {"MaximumConcurrency": 2}
    collector.wait(lambda s: "dis-1" in bodies(s), 60, "dis-1 after enabling")
    wait_state(lam, m["UUID"], "Enabled")
    lam.update_event_source_mapping(UUID=m["UUID"], Enabled=False)
    wait_state(lam, m["UUID"], "Disabled")
    d = lam.delete_event_source_mapping(UUID=m["UUID"])
    assert d["State"] == "Deleting" and d["ResponseMetadata"]["HTTPStatusCode"] == 202
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_event_source_mapping(UUID=m["UUID"])
    assert m["UUID"] not in [x["UUID"] for x in lam.list_event_source_mappings()["EventSourceMappings"]]


def test_throttled_function_keeps_its_messages(lam, sqs, collector):
    fn = create_batch_function(lam, collector)
    lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=0)
    url, arn, _ = make_queue(sqs)
    m = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn)
    wait_state(lam, m["UUID"], "Enabled")
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"t{i}", "MessageBody": f"thr-{i}"} for i in range(5)])
    time.sleep(4)
    # nothing invoked, nothing received: the messages wait in the queue
    assert not any(x.startswith("thr-") for x in bodies(collector.snapshot()))
    assert queue_counts(sqs, url) == (5, 0, 0)
    lam.delete_function_concurrency(FunctionName=fn)
    collector.wait(lambda s: sum(x.startswith("thr-") for x in bodies(s)) == 5, 60, "throttled messages")
    lam.delete_event_source_mapping(UUID=m["UUID"])


def test_fifo_order_per_group_and_a_failing_group_blocks(lam, sqs, collector):
    fn = create_batch_function(lam, collector, env={"BOOM_UNTIL": "2"})
    url, arn, _ = make_queue(sqs, name=unique("f") + ".fifo", FifoQueue="true",
                             ContentBasedDeduplication="true", VisibilityTimeout=5)
    for g in range(3):
        for start in range(0, 30, 10):
            sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": f"e{i}", "MessageBody": (f"boom-fifo-g{g}-{i:02d}" if (g, i) == (1, 12) else f"fifo-g{g}-{i:02d}"),
                 "MessageGroupId": f"g{g}"} for i in range(start, start + 10)])
    m = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, BatchSize=10)
    snap = collector.wait(lambda s: len({r["body"] for b in s for r in b["records"] if "fifo-g" in r["body"] and not b["boom"]}) == 90,
                          120, "all FIFO messages")
    ok = [b for b in snap if any("fifo-g" in r["body"] for r in b["records"]) and not b["boom"]]
    assert all(len(b["records"]) <= 10 for b in ok)
    for g in range(3):
        order = [int(r["body"].rsplit("-", 1)[1]) for b in ok for r in b["records"] if f"-g{g}-" in r["body"]]
        # in order; each message succeeded once (g1's failing batch came back whole, in order)
        assert order == list(range(30)), (g, order)
    failed = [b for b in snap if b["boom"] and any("fifo-g" in r["body"] for r in b["records"])]
    assert len(failed) == 1 and any(r["body"] == "boom-fifo-g1-12" for r in failed[0]["records"])
    lam.delete_event_source_mapping(UUID=m["UUID"])
