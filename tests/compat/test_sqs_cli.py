"""SQS through Debian's AWS CLI v2.9 (`/usr/bin/aws sqs`), which speaks the query protocol
(form bodies `Action=SendMessage&...`, XML answers): the seed's commands verbatim, queue URLs
used as returned, attributes and their MD5 digests, batches, FIFO, errors in XML."""

from __future__ import annotations

import base64
import json

import pytest

from conftest import unique
from sqs_support import md5_attributes, md5_body


def sqs(daemon, *args, ok=True):
    rc, out, err = daemon.aws(*args, service="sqs")
    if ok:
        assert rc == 0, err
    return rc, out, err


def test_cli_speaks_the_query_protocol(daemon):
    p = __import__("subprocess").run(
        ["/usr/bin/aws", "--debug", "--endpoint-url", daemon.endpoint, "sqs", "list-queues"],
        capture_output=True, text=True, env=daemon.cli_env(), timeout=60)
    assert p.returncode == 0, p.stderr
    assert "'Action': 'ListQueues'" in p.stderr and "application/x-www-form-urlencoded" in p.stderr
    assert "'content-type': 'text/xml'" in p.stderr


def test_seed_commands(daemon):
    _, out, _ = sqs(daemon, "create-queue", "--queue-name", "my-queue")
    url = out["QueueUrl"]
    assert url == f"{daemon.endpoint}/000000000000/my-queue"
    _, out, _ = sqs(daemon, "send-message", "--queue-url", url, "--message-body", "hello")
    assert out["MD5OfMessageBody"] == md5_body("hello")
    _, out, _ = sqs(daemon, "receive-message", "--queue-url", url, "--attribute-names", "All",
                    "--wait-time-seconds", "5")
    m = out["Messages"][0]
    assert m["Body"] == "hello" and m["MD5OfBody"] == md5_body("hello")
    assert m["Attributes"]["ApproximateReceiveCount"] == "1"
    sqs(daemon, "delete-message", "--queue-url", url, "--receipt-handle", m["ReceiptHandle"])
    _, out, _ = sqs(daemon, "get-queue-attributes", "--queue-url", url, "--attribute-names", "All")
    assert out["Attributes"]["ApproximateNumberOfMessages"] == "0"
    assert out["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert out["Attributes"]["QueueArn"] == "arn:aws:sqs:us-east-1:000000000000:my-queue"
    _, out, _ = sqs(daemon, "list-queues")
    assert url in out["QueueUrls"]
    _, out, _ = sqs(daemon, "get-queue-url", "--queue-name", "my-queue")
    assert out["QueueUrl"] == url


def test_attributes_and_md5(daemon):
    _, out, _ = sqs(daemon, "create-queue", "--queue-name", unique("q"),
                    "--attributes", json.dumps({"VisibilityTimeout": "40", "DelaySeconds": "0"}))
    url = out["QueueUrl"]
    attrs = {
        "kind": {"DataType": "String", "StringValue": "demo"},
        "count": {"DataType": "Number", "StringValue": "7"},
        "blob": {"DataType": "Binary", "BinaryValue": base64.b64encode(b"\x01\x02binary").decode()},
    }
    body = "ünïcode & <xml> \"quotes\""
    _, out, _ = sqs(daemon, "send-message", "--queue-url", url, "--message-body", body,
                    "--message-attributes", json.dumps(attrs),
                    "--message-system-attributes",
                    json.dumps({"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}}))
    raw = {k: (dict(v, BinaryValue=base64.b64decode(v["BinaryValue"])) if "BinaryValue" in v else v)
           for k, v in attrs.items()}
    assert out["MD5OfMessageBody"] == md5_body(body)
    assert out["MD5OfMessageAttributes"] == md5_attributes(raw)
    assert out["MD5OfMessageSystemAttributes"] == md5_attributes(
        {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}})
    _, out, _ = sqs(daemon, "receive-message", "--queue-url", url, "--message-attribute-names", "All",
                    "--attribute-names", "All", "--wait-time-seconds", "5")
    m = out["Messages"][0]
    assert m["Body"] == body
    assert m["MessageAttributes"] == attrs
    assert m["MD5OfMessageAttributes"] == md5_attributes(raw)
    assert m["Attributes"]["AWSTraceHeader"] == "Root=1-abc"
    sqs(daemon, "change-message-visibility", "--queue-url", url, "--receipt-handle", m["ReceiptHandle"],
        "--visibility-timeout", "0")
    sqs(daemon, "set-queue-attributes", "--queue-url", url, "--attributes", "MessageRetentionPeriod=3600")
    _, out, _ = sqs(daemon, "get-queue-attributes", "--queue-url", url, "--attribute-names",
                    "MessageRetentionPeriod", "VisibilityTimeout", "ApproximateNumberOfMessages")
    assert out["Attributes"] == {"MessageRetentionPeriod": "3600", "VisibilityTimeout": "40",
                                 "ApproximateNumberOfMessages": "1"}
    sqs(daemon, "tag-queue", "--queue-url", url, "--tags", "team=x")
    _, out, _ = sqs(daemon, "list-queue-tags", "--queue-url", url)
    assert out["Tags"] == {"team": "x"}
    sqs(daemon, "purge-queue", "--queue-url", url)
    sqs(daemon, "delete-queue", "--queue-url", url)


def test_batches_and_fifo(daemon):
    _, out, _ = sqs(daemon, "create-queue", "--queue-name", unique("f") + ".fifo",
                    "--attributes", "FifoQueue=true,ContentBasedDeduplication=true")
    url = out["QueueUrl"]
    entries = [{"Id": f"e{i}", "MessageBody": f"m{i}", "MessageGroupId": "g"} for i in range(5)]
    entries.append({"Id": "dup", "MessageBody": "m0", "MessageGroupId": "g"})
    _, out, _ = sqs(daemon, "send-message-batch", "--queue-url", url, "--entries", json.dumps(entries))
    assert len(out["Successful"]) == 6
    assert all(s["MD5OfMessageBody"] == md5_body(next(e["MessageBody"] for e in entries if e["Id"] == s["Id"]))
               for s in out["Successful"])
    _, out, _ = sqs(daemon, "receive-message", "--queue-url", url, "--max-number-of-messages", "10",
                    "--attribute-names", "All")
    msgs = out["Messages"]
    assert [m["Body"] for m in msgs] == ["m0", "m1", "m2", "m3", "m4"]
    seqs = [int(m["Attributes"]["SequenceNumber"]) for m in msgs]
    assert seqs == sorted(seqs)
    _, out, _ = sqs(daemon, "delete-message-batch", "--queue-url", url, "--entries",
                    json.dumps([{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)]))
    assert len(out["Successful"]) == 5


@pytest.mark.parametrize("args,code", [
    (("get-queue-url", "--queue-name", "does-not-exist"), "AWS.SimpleQueueService.NonExistentQueue"),
    (("create-queue", "--queue-name", "bad name"), "InvalidParameterValue"),
    (("create-queue", "--queue-name", "x", "--attributes", "VisibilityTimeout=99999"), "InvalidAttributeValue"),
    (("receive-message", "--queue-url", "{url}", "--max-number-of-messages", "50"), "InvalidParameterValue"),
    (("delete-message", "--queue-url", "{url}", "--receipt-handle", "junk"), "ReceiptHandleIsInvalid"),
    (("send-message", "--queue-url", "{url}", "--message-body", "x", "--delay-seconds", "901"), "InvalidParameterValue"),
])
def test_errors(daemon, args, code):
    _, out, _ = sqs(daemon, "create-queue", "--queue-name", "errors-q")
    args = tuple(a.replace("{url}", out["QueueUrl"]) for a in args)
    rc, _, err = sqs(daemon, *args, ok=False)
    assert rc == 254, err
    assert f"An error occurred ({code})" in err, err
    _, out, _ = sqs(daemon, "get-queue-attributes", "--queue-url", out["QueueUrl"], "--attribute-names", "All")
    assert out["Attributes"]["ApproximateNumberOfMessages"] == "0"
