"""Helpers of the SQS suites: boto3 SQS clients against a daemon, and the MD5 digests SDKs
compute to verify SendMessage/ReceiveMessage answers (the Java/Go/.NET SDKs' algorithm,
written here independently of lambdabox)."""

from __future__ import annotations

import hashlib
import struct
import time

import boto3
from botocore.config import Config


def sqs_client(daemon, **config):
    """A boto3 `sqs` client (AWS JSON 1.0 with current botocore), no retries."""
    key_id, secret = daemon.admin_keys()
    config.setdefault("retries", {"total_max_attempts": 1})
    config.setdefault("read_timeout", 60)
    return boto3.client(
        "sqs",
        endpoint_url=daemon.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(**config),
    )


def md5_body(body: str) -> str:
    return hashlib.md5(body.encode()).hexdigest()


def _lp(b: bytes) -> bytes:
    return struct.pack(">I", len(b)) + b


def md5_attributes(attrs: dict) -> str:
    """MD5OfMessageAttributes / MD5OfMessageSystemAttributes: for each attribute in name
    order, the length-prefixed name, the length-prefixed data type, a transport byte (1 string,
    2 binary) and the length-prefixed value."""
    h = hashlib.md5()
    for name in sorted(attrs):
        a = attrs[name]
        dt = a["DataType"]
        h.update(_lp(name.encode()))
        h.update(_lp(dt.encode()))
        if dt.startswith("Binary"):
            v = a["BinaryValue"]
            h.update(b"\x02" + _lp(v if isinstance(v, bytes) else v.encode()))
        else:
            h.update(b"\x01" + _lp(a["StringValue"].encode()))
    return h.hexdigest()


def receive_all(sqs, url: str, want: int, timeout: float = 30.0, **kw) -> list:
    """Receives until `want` messages arrived or `timeout` passed."""
    got: list = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, **kw)
        got.extend(r.get("Messages", []))
    return got


def queue_counts(sqs, url: str) -> tuple[int, int, int]:
    """(visible, not visible, delayed)."""
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return (
        int(a["ApproximateNumberOfMessages"]),
        int(a["ApproximateNumberOfMessagesNotVisible"]),
        int(a["ApproximateNumberOfMessagesDelayed"]),
    )
