"""The dashboard's Queues page and the Triggers tab's event source mappings, against the real
daemon: queues made with boto3 (SQS JSON protocol), then listed, fed, peeked (not received),
purged and redriven from the dashboard; mappings created, disabled, enabled and deleted from a
function's Triggers tab; queue names and message bodies escaped."""

from __future__ import annotations

import json
import re

import pytest

from conftest import ROLE, handler_zip, unique
from dashboard_client import Dashboard, first_admin_password

PY = "python3.12"


@pytest.fixture(scope="module")
def admin(daemon):
    d = Dashboard(daemon.endpoint)
    d.login_ok("admin", first_admin_password(daemon.data_dir))
    return d




def sqs_client(daemon):
    import boto3
    key, secret = daemon.admin_keys()
    return boto3.client("sqs", endpoint_url=daemon.endpoint, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret)


def counts(daemon, url):
    a = sqs_client(daemon).get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])


def test_queues_list_send_peek_purge_and_xss(daemon, admin):
    c = sqs_client(daemon)
    name = unique("uiq")
    url = c.create_queue(QueueName=name)["QueueUrl"]
    r = admin.get("/ui/queues")
    assert r.status == 200 and f'href="/ui/queues/{name}"' in r.text
    r = admin.post(f"/ui/queues/{name}/send", {"body": "<script>alert(1)</script>"})
    assert r.status == 303 and r.location == f"/ui/queues/{name}?done=sent", r.text[:400]
    assert counts(daemon, url) == (1, 0)
    page = admin.get(f"/ui/queues/{name}?peek=10")
    assert page.status == 200
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(1)&lt;" in page.text
    assert re.findall(r'data-label="Receives" class="num">(\d+)', page.text) == ["0"]
    # a peek is not a receive: still visible, receive count 0
    admin.get(f"/ui/queues/{name}?peek=10")
    assert counts(daemon, url) == (1, 0)
    got = c.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert got[0]["Body"] == "<script>alert(1)</script>"
    assert got[0]["Attributes"]["ApproximateReceiveCount"] == "1"
    # in flight now, shown as such
    page = admin.get(f"/ui/queues/{name}?peek=10")
    assert "in flight" in page.text
    # an empty body is refused beside its field, nothing sent
    r = admin.post(f"/ui/queues/{name}/send", {"body": ""})
    assert r.status == 422 and 'id="err-body"' in r.text
    # purge needs the name typed again
    r = admin.post(f"/ui/queues/{name}/purge", {"confirm_name": "wrong"})
    assert r.status == 422 and 'id="err-purge"' in r.text
    assert counts(daemon, url) == (0, 1)
    r = admin.post(f"/ui/queues/{name}/purge", {"confirm_name": name})
    assert r.status == 303 and r.location == f"/ui/queues/{name}?done=purged"
    assert counts(daemon, url) == (0, 0)
    # a second purge within 60 s is refused as SQS refuses it
    r = admin.post(f"/ui/queues/{name}/purge", {"confirm_name": name})
    assert r.status == 422 and "60 seconds" in r.text
    # without the CSRF token nothing happens
    r = admin.request("POST", f"/ui/queues/{name}/send", data={"body": "x"})
    assert r.status == 403
    assert counts(daemon, url) == (0, 0)
    assert admin.get("/ui/queues/no-such-queue").status == 404


def test_fifo_send_needs_a_group_and_keeps_order(daemon, admin):
    c = sqs_client(daemon)
    name = unique("uif") + ".fifo"
    url = c.create_queue(QueueName=name, Attributes={"FifoQueue": "true"})["QueueUrl"]
    r = admin.post(f"/ui/queues/{name}/send", {"body": "one"})
    assert r.status == 422 and 'id="err-group_id"' in r.text
    for body in ("one", "two"):
        r = admin.post(f"/ui/queues/{name}/send", {"body": body, "group_id": "g1"})
        assert r.status == 303, r.text[:400]
    got = c.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in got] == ["one", "two"]
    assert got[0]["Attributes"]["MessageGroupId"] == "g1"


def test_redrive_from_the_dead_letter_queue(daemon, admin):
    c = sqs_client(daemon)
    dlq = unique("uidlq")
    dlq_url = c.create_queue(QueueName=dlq)["QueueUrl"]
    dlq_arn = c.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    src = unique("uisrc")
    src_url = c.create_queue(QueueName=src, Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"}),
        "VisibilityTimeout": "1"})["QueueUrl"]
    c.send_message(QueueUrl=src_url, MessageBody="poison")
    c.receive_message(QueueUrl=src_url)
    import time
    deadline = time.time() + 20
    while time.time() < deadline:
        c.receive_message(QueueUrl=src_url, WaitTimeSeconds=1)
        if counts(daemon, dlq_url)[0] == 1:
            break
    assert counts(daemon, dlq_url) == (1, 0)
    page = admin.get("/ui/queues")
    assert f'<a href="/ui/queues/{dlq}">{dlq}</a>' in page.text
    page = admin.get(f"/ui/queues/{dlq}")
    assert 'id="start-redrive"' in page.text and f'href="/ui/queues/{src}"' in page.text
    r = admin.post(f"/ui/queues/{dlq}/redrive", {})
    assert r.status == 303 and r.location.endswith("done=redrive")
    deadline = time.time() + 20
    while time.time() < deadline and counts(daemon, src_url)[0] != 1:
        time.sleep(0.2)
    assert counts(daemon, src_url)[0] == 1 and counts(daemon, dlq_url) == (0, 0)
    assert 'id="redrive-tasks"' in admin.get(f"/ui/queues/{dlq}").text
    # a queue that is no dead-letter queue cannot be redriven: refused, shown
    r = admin.post(f"/ui/queues/{src}/redrive", {})
    assert r.status == 422 and "Dead Letter Queue" in r.text


def test_triggers_tab_event_source_mappings(daemon, admin):
    fn = unique("uiesm")
    daemon.client().create_function(
        FunctionName=fn, Runtime=PY, Role=ROLE, Handler="lambda_function.lambda_handler",
        Code={"ZipFile": handler_zip(fn)})
    c = sqs_client(daemon)
    qname = unique("uiesmq") + "-x"
    c.create_queue(QueueName=qname)
    tab = admin.get(f"/ui/functions/{fn}/triggers")
    assert tab.status == 200 and 'id="esm-empty"' in tab.text and f'<option value="{qname}"' in tab.text
    bad = admin.post(f"/ui/functions/{fn}/triggers",
                     {"action": "create", "queue": qname, "batch_size": "50", "window": "0"})
    assert bad.status == 422 and "batch window" in bad.text.lower()
    r = admin.post(f"/ui/functions/{fn}/triggers",
                   {"action": "create", "queue": qname, "batch_size": "5", "window": "2",
                    "report_failures": "on"})
    assert r.status == 303 and r.location.endswith("done=created"), r.text[:500]
    lam = daemon.client()
    maps = lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"]
    assert len(maps) == 1 and maps[0]["BatchSize"] == 5
    assert maps[0]["MaximumBatchingWindowInSeconds"] == 2
    assert maps[0]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    uuid = maps[0]["UUID"]
    tab = admin.get(f"/ui/functions/{fn}/triggers")
    assert f'data-uuid="{uuid}"' in tab.text and f'href="/ui/queues/{qname}"' in tab.text
    import time
    deadline = time.time() + 20
    while lam.get_event_source_mapping(UUID=uuid)["State"] != "Enabled" and time.time() < deadline:
        time.sleep(0.2)
    r = admin.post(f"/ui/functions/{fn}/triggers", {"action": "disable", "uuid": uuid})
    assert r.status == 303, r.text[:500]
    assert lam.get_event_source_mapping(UUID=uuid)["State"] in ("Disabling", "Disabled")
    deadline = time.time() + 20
    while lam.get_event_source_mapping(UUID=uuid)["State"] != "Disabled" and time.time() < deadline:
        time.sleep(0.2)
    assert ">Enable</button>" in admin.get(f"/ui/functions/{fn}/triggers").text
    # another function's page cannot touch this mapping
    other = unique("uiother")
    lam.create_function(FunctionName=other, Runtime=PY, Role=ROLE,
                        Handler="lambda_function.lambda_handler", Code={"ZipFile": handler_zip(other)})
    assert admin.post(f"/ui/functions/{other}/triggers", {"action": "delete", "uuid": uuid}).status == 404
    r = admin.post(f"/ui/functions/{fn}/triggers", {"action": "delete", "uuid": uuid})
    assert r.status == 303 and r.location.endswith("done=deleted"), r.text[:500]
    assert lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"] == []
