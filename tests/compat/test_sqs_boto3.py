"""SQS through boto3 (AWS JSON 1.0, `X-Amz-Target: AmazonSQS.*`): queues, messages with
attributes and the MD5 digests SDKs verify, batches, visibility, long polling woken by a send,
delays, FIFO ordering and deduplication, dead-letter redrive and move tasks, errors, and
durability across `kill -9`."""

from __future__ import annotations

import json
import threading
import time

import botocore.exceptions
import pytest

from conftest import unique
from sqs_support import md5_attributes, md5_body, queue_counts, receive_all, sqs_client


@pytest.fixture(scope="module")
def sqs(daemon):
    c = sqs_client(daemon)
    assert c.meta.service_model.protocol == "json"
    return c


def code(e: botocore.exceptions.ClientError) -> str:
    return e.response["Error"]["Code"]


def arn_of(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def test_queue_lifecycle(sqs, daemon):
    name = unique("q")
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"},
                           tags={"team": "a"})["QueueUrl"]
    assert url == f"{daemon.endpoint}/000000000000/{name}"
    # same attributes: the same queue; different ones: QueueNameExists
    assert sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})["QueueUrl"] == url
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "46"})
    assert code(e.value) == "QueueAlreadyExists"
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    assert url in sqs.list_queues(QueueNamePrefix=name)["QueueUrls"]
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert a["VisibilityTimeout"] == "45"
    assert a["QueueArn"] == f"arn:aws:sqs:us-east-1:000000000000:{name}"
    assert a["MessageRetentionPeriod"] == "345600" and a["MaximumMessageSize"] == "1048576"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "3", "ReceiveMessageWaitTimeSeconds": "2"})
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds", "ReceiveMessageWaitTimeSeconds"])["Attributes"]
    assert a == {"DelaySeconds": "3", "ReceiveMessageWaitTimeSeconds": "2"}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "43201"})
    assert code(e.value) == "InvalidAttributeValue"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Colour": "blue"})
    assert code(e.value) == "InvalidAttributeName"
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"] == {"VisibilityTimeout": "45"}
    sqs.tag_queue(QueueUrl=url, Tags={"env": "dev"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a", "env": "dev"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "dev"}
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as e:
        sqs.get_queue_url(QueueName=name)
    assert code(e.value) == "AWS.SimpleQueueService.NonExistentQueue"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sqs.create_queue(QueueName="bad name!")
    assert code(e.value) == "InvalidParameterValue"


def test_send_receive_with_attributes_and_md5(sqs):
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    body = "héllo wörld ✓"
    attrs = {
        "kind": {"DataType": "String", "StringValue": "demo"},
        "meta.a": {"DataType": "String", "StringValue": "one"},
        "meta.b": {"DataType": "String", "StringValue": "two"},
        "n": {"DataType": "Number.int", "StringValue": "42"},
        "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
    }
    system = {"AWSTraceHeader": {"DataType": "String",
                                 "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"}}
    r = sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attrs,
                         MessageSystemAttributes=system)
    assert r["MD5OfMessageBody"] == md5_body(body)
    assert r["MD5OfMessageAttributes"] == md5_attributes(attrs)
    assert r["MD5OfMessageSystemAttributes"] == md5_attributes(system)
    m = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"],
                            MessageSystemAttributeNames=["All"], WaitTimeSeconds=5)["Messages"]
    assert len(m) == 1
    m = m[0]
    assert m["MessageId"] == r["MessageId"] and m["Body"] == body
    assert m["MD5OfBody"] == md5_body(body)
    assert m["MessageAttributes"] == attrs
    assert m["MD5OfMessageAttributes"] == md5_attributes(m["MessageAttributes"])
    at = m["Attributes"]
    assert at["ApproximateReceiveCount"] == "1"
    assert at["AWSTraceHeader"] == system["AWSTraceHeader"]["StringValue"]
    assert int(at["ApproximateFirstReceiveTimestamp"]) >= int(at["SentTimestamp"]) > 1.7e12
    # a subset of message attributes by name and by prefix
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    m2 = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["meta.*", "n"], WaitTimeSeconds=5)["Messages"][0]
    sub = {k: attrs[k] for k in ("meta.a", "meta.b", "n")}
    assert m2["MessageAttributes"] == sub
    assert m2["MD5OfMessageAttributes"] == md5_attributes(sub)
    assert "Attributes" not in m2
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m2["ReceiptHandle"])
    assert queue_counts(sqs, url) == (0, 0, 0)
    # an old receipt handle of a deleted message is accepted (idempotent), a forged one is not
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m2["ReceiptHandle"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
    assert code(e.value) == "ReceiptHandleIsInvalid"


def test_bad_messages_are_refused_and_change_nothing(sqs):
    url = sqs.create_queue(QueueName=unique("q"), Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 1025)
    assert code(e.value) == "InvalidParameterValue"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="bad \x01 char")
    assert code(e.value) == "InvalidMessageContents"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=901)
    assert code(e.value) == "InvalidParameterValue"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x",
                         MessageAttributes={"a": {"DataType": "Number", "StringValue": "not a number"}})
    assert code(e.value) in ("InvalidParameterValue", "InvalidAttributeValue")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
    assert code(e.value) == "InvalidParameterValue"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=21)
    assert code(e.value) == "InvalidParameterValue"
    assert queue_counts(sqs, url) == (0, 0, 0)


def test_batches(sqs):
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    entries = [{"Id": f"e{i}", "MessageBody": f"body {i}"} for i in range(9)]
    entries.append({"Id": "bad", "MessageBody": "x", "DelaySeconds": 1000})
    r = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert sorted(s["Id"] for s in r["Successful"]) == sorted(f"e{i}" for i in range(9))
    for s in r["Successful"]:
        assert s["MD5OfMessageBody"] == md5_body(f"body {s['Id'][1:]}")
    assert [(f["Id"], f["SenderFault"]) for f in r["Failed"]] == [("bad", True)]
    for bad, want in (
        ([{"Id": f"x{i}", "MessageBody": "x"} for i in range(11)], "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"),
        ([{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}], "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"),
        ([{"Id": "a b", "MessageBody": "x"}], "AWS.SimpleQueueService.InvalidBatchEntryId"),
        ([{"Id": "a", "MessageBody": "x" * 600_000}, {"Id": "b", "MessageBody": "x" * 600_000}], "AWS.SimpleQueueService.BatchRequestTooLong"),
    ):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sqs.send_message_batch(QueueUrl=url, Entries=bad)
        assert code(e.value) == want, bad[0]["Id"]
    assert queue_counts(sqs, url)[0] == 9
    got = receive_all(sqs, url, 9)
    assert sorted(m["Body"] for m in got) == sorted(f"body {i}" for i in range(9))
    assert queue_counts(sqs, url) == (0, 9, 0)
    r = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "v0", "ReceiptHandle": got[0]["ReceiptHandle"], "VisibilityTimeout": 0},
        {"Id": "bad", "ReceiptHandle": "junk", "VisibilityTimeout": 0},
    ])
    assert [s["Id"] for s in r["Successful"]] == ["v0"]
    assert [f["Id"] for f in r["Failed"]] == ["bad"] and r["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    assert queue_counts(sqs, url)[:2] == (1, 8)
    r = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got[1:])
    ])
    assert len(r["Successful"]) == 8 and r.get("Failed", []) == []
    assert queue_counts(sqs, url) == (1, 0, 0)
    sqs.purge_queue(QueueUrl=url)
    assert queue_counts(sqs, url) == (0, 0, 0)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sqs.purge_queue(QueueUrl=url)
    assert code(e.value) == "AWS.SimpleQueueService.PurgeQueueInProgress"


def test_visibility_timeout_and_receive_count(sqs):
    url = sqs.create_queue(QueueName=unique("q"), Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="again")
    first = sqs.receive_message(QueueUrl=url, AttributeNames=["All"], WaitTimeSeconds=5)["Messages"][0]
    assert sqs.receive_message(QueueUrl=url).get("Messages") is None
    second = sqs.receive_message(QueueUrl=url, AttributeNames=["All"], WaitTimeSeconds=5)["Messages"][0]
    assert second["MessageId"] == first["MessageId"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    # extend the visibility: not back within 2 s
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"], VisibilityTimeout=30)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2).get("Messages") is None
    assert queue_counts(sqs, url)[:2] == (0, 1)


def test_long_poll_is_woken_by_a_send(sqs):
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    out = {}
    # measured from before the thread starts: a thread that starts late must not shorten it
    t0 = time.monotonic()

    def poll():
        out["r"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
        out["t"] = time.monotonic() - t0

    th = threading.Thread(target=poll)
    th.start()
    time.sleep(1.0)
    sqs.send_message(QueueUrl=url, MessageBody="wake")
    th.join(25)
    assert out["r"]["Messages"][0]["Body"] == "wake"
    assert 0.9 < out["t"] < 15, out["t"]
    # an empty long poll waits its time
    t = time.monotonic()
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2).get("Messages") is None
    assert time.monotonic() - t >= 1.9


def test_many_long_polls_at_once(sqs):
    """Forty 5-second long polls at once all answer (they hold no thread or connection)."""
    from concurrent.futures import ThreadPoolExecutor

    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    clients = [sqs_client_like(sqs) for _ in range(40)]
    t = time.monotonic()
    with ThreadPoolExecutor(40) as pool:
        res = list(pool.map(lambda c: c.receive_message(QueueUrl=url, WaitTimeSeconds=5), clients))
    took = time.monotonic() - t
    assert all(r.get("Messages") is None for r in res)
    assert took < 30, took


def sqs_client_like(sqs):
    import boto3
    from botocore.config import Config

    creds = sqs._request_signer._credentials
    return boto3.client("sqs", endpoint_url=sqs.meta.endpoint_url, region_name="us-east-1",
                        aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key,
                        config=Config(retries={"total_max_attempts": 1}, read_timeout=60,
                                      max_pool_connections=2))


def test_delays(sqs):
    url = sqs.create_queue(QueueName=unique("q"), Attributes={"DelaySeconds": "2"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="queue delay")
    sqs.send_message(QueueUrl=url, MessageBody="no delay", DelaySeconds=0)
    assert queue_counts(sqs, url) == (1, 0, 1)
    first = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in first] == ["no delay"]
    later = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
    assert [m["Body"] for m in later] == ["queue delay"]


def test_fifo_order_dedup_and_attempt_id(sqs):
    name = unique("f") + ".fifo"
    with pytest.raises(botocore.exceptions.ClientError):
        sqs.create_queue(QueueName=unique("nofifo"), Attributes={"FifoQueue": "true"})
    url = sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"})["QueueUrl"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="no group")
    assert code(e.value) == "MissingParameter"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="no dedup id", MessageGroupId="g")
    assert code(e.value) == "InvalidParameterValue"
    seqs = []
    for i in range(6):
        r = sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId=f"g{i % 2}",
                             MessageDeduplicationId=f"d{i}")
        seqs.append(int(r["SequenceNumber"]))
    assert seqs == sorted(seqs) and len(set(seqs)) == 6
    # explicit dedup: same id within 5 minutes is accepted and dropped, same answer
    again = sqs.send_message(QueueUrl=url, MessageBody="other", MessageGroupId="g0", MessageDeduplicationId="d0")
    assert int(again["SequenceNumber"]) == seqs[0]
    assert queue_counts(sqs, url)[0] == 6
    # one receive takes each group's messages in order; an in-flight group gives nothing more
    r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"],
                            ReceiveRequestAttemptId="attempt-1")["Messages"]
    by_group: dict = {}
    for m in r:
        by_group.setdefault(m["Attributes"]["MessageGroupId"], []).append(m["Body"])
    assert by_group == {"g0": ["m0", "m2", "m4"], "g1": ["m1", "m3", "m5"]}
    assert r[0]["Attributes"]["MessageDeduplicationId"] == "d0"
    assert "SequenceNumber" in r[0]["Attributes"]
    # the same attempt id returns the same messages with the same receipt handles
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, ReceiveRequestAttemptId="attempt-1")["Messages"]
    assert [m["ReceiptHandle"] for m in again] == [m["ReceiptHandle"] for m in r]
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages") is None
    # FIFO batch limit and no per-message delay
    with pytest.raises(botocore.exceptions.ClientError):
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="z", DelaySeconds=5)
    for m in r:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert queue_counts(sqs, url) == (0, 0, 0)


def test_fifo_content_dedup_and_group_blocking(sqs):
    url = sqs.create_queue(QueueName=unique("f") + ".fifo",
                           Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true",
                                       "VisibilityTimeout": "2"})["QueueUrl"]
    for b in ("a", "b", "a", "c"):
        sqs.send_message(QueueUrl=url, MessageBody=b, MessageGroupId="g")
    assert queue_counts(sqs, url)[0] == 3
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    assert [m["Body"] for m in first] == ["a"]
    # the group is blocked while "a" is in flight; after its timeout "a" comes first again
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages") is None
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=5)["Messages"]
    assert [m["Body"] for m in again] == ["a", "b", "c"]


def test_dead_letter_queue_and_move_task(sqs):
    dlq = sqs.create_queue(QueueName=unique("dlq"))["QueueUrl"]
    dlq_arn = arn_of(sqs, dlq)
    src = sqs.create_queue(QueueName=unique("src"), Attributes={
        "VisibilityTimeout": "1",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
    })["QueueUrl"]
    src_arn = arn_of(sqs, src)
    with pytest.raises(botocore.exceptions.ClientError):
        sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:missing", "maxReceiveCount": 2})})
    sqs.send_message(QueueUrl=src, MessageBody="poison")
    for _ in range(2):
        assert len(sqs.receive_message(QueueUrl=src, WaitTimeSeconds=5)["Messages"]) == 1
    time.sleep(1.2)
    # the third receive moves it to the DLQ instead of delivering it
    assert sqs.receive_message(QueueUrl=src, WaitTimeSeconds=1).get("Messages") is None
    dead = receive_all(sqs, dlq, 1, AttributeNames=["All"])
    assert [m["Body"] for m in dead] == ["poison"]
    sqs.change_message_visibility(QueueUrl=dlq, ReceiptHandle=dead[0]["ReceiptHandle"], VisibilityTimeout=0)
    assert dead[0]["Attributes"]["DeadLetterQueueSourceArn"] == src_arn
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src]
    # RedriveAllowPolicy denyAll refuses new sources
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps({"redrivePermission": "denyAll"})})
    other = sqs.create_queue(QueueName=unique("src"))["QueueUrl"]
    with pytest.raises(botocore.exceptions.ClientError):
        sqs.set_queue_attributes(QueueUrl=other, Attributes={"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})})
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps({"redrivePermission": "allowAll"})})
    # redrive back to the source
    time.sleep(0.2)
    task = sqs.start_message_move_task(SourceArn=dlq_arn)
    assert task["TaskHandle"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        res = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
        if res and res[0]["Status"] == "COMPLETED":
            break
        time.sleep(0.3)
    assert res[0]["Status"] == "COMPLETED" and res[0]["ApproximateNumberOfMessagesMoved"] == 1
    back = receive_all(sqs, src, 1, AttributeNames=["All"])
    assert [m["Body"] for m in back] == ["poison"]
    assert queue_counts(sqs, dlq) == (0, 0, 0)
    with pytest.raises(botocore.exceptions.ClientError):
        sqs.start_message_move_task(SourceArn=src_arn)  # not a DLQ


def test_retention_expires_messages(sqs):
    url = sqs.create_queue(QueueName=unique("q"), Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    with pytest.raises(botocore.exceptions.ClientError):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"MessageRetentionPeriod": "59"})
    sqs.send_message(QueueUrl=url, MessageBody="old")
    assert queue_counts(sqs, url)[0] == 1


def test_messages_survive_kill_9(fresh_daemon):
    sqs = sqs_client(fresh_daemon)
    url = sqs.create_queue(QueueName="durable", Attributes={"VisibilityTimeout": "600"})["QueueUrl"]
    delayed = sqs.create_queue(QueueName="delayed")["QueueUrl"]
    for i in range(20):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    sqs.send_message(QueueUrl=delayed, MessageBody="later", DelaySeconds=900)
    inflight = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=5)["Messages"]
    assert len(inflight) == 5
    fresh_daemon.crash_restart()
    sqs = sqs_client(fresh_daemon)
    url = sqs.get_queue_url(QueueName="durable")["QueueUrl"]
    delayed = sqs.get_queue_url(QueueName="delayed")["QueueUrl"]
    assert queue_counts(sqs, url) == (15, 5, 0)
    assert queue_counts(sqs, delayed) == (0, 0, 1)
    rest = receive_all(sqs, url, 15, AttributeNames=["All"])
    assert len(rest) == 15
    assert {m["Body"] for m in rest} | {m["Body"] for m in inflight} == {f"m{i}" for i in range(20)}
    assert all(m["Attributes"]["ApproximateReceiveCount"] == "1" for m in rest)
    # the receive count of the in-flight ones survived: bring one back and see 2
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=inflight[0]["ReceiptHandle"], VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=url, AttributeNames=["All"], WaitTimeSeconds=5)["Messages"]
    assert again[0]["MessageId"] == inflight[0]["MessageId"]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"
