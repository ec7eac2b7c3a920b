"""EventBridge targets' DeadLetterConfig (issue 15): an event a rule cannot deliver goes, unchanged,
to the target's SQS dead-letter queue with EventBridge's attributes (RULE_ARN, TARGET_ARN,
ERROR_CODE, ERROR_MESSAGE, RETRY_ATTEMPTS); a queue that does not exist, a FIFO queue or a
non-SQS ARN is refused by PutTargets. The same for EventBridge Scheduler targets, with
SCHEDULE_ARN and EXECUTION_ID. Real binary, boto3 (events: JSON 1.1, scheduler: rest-json,
sqs: JSON 1.0)."""

from __future__ import annotations

import json
import time

import botocore.exceptions
import pytest

from conftest import ACCOUNT, REGION, function_arn, unique
from events_support import events_client
from sqs_support import receive_all, sqs_client


def queue(sqs, name: str, **attrs) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def test_undeliverable_event_reaches_the_dead_letter_queue(daemon):
    eb, sqs = events_client(daemon), sqs_client(daemon)
    url, qarn = queue(sqs, unique("eb-dlq"))
    rule, source = unique("dlq-rule"), unique("home.test")
    rule_arn = eb.put_rule(Name=rule, EventPattern=json.dumps({"source": [source]}))["RuleArn"]
    missing = function_arn(unique("no-such-fn"))
    out = eb.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": missing, "DeadLetterConfig": {"Arn": qarn}}])
    assert out["FailedEntryCount"] == 0
    [tg] = eb.list_targets_by_rule(Rule=rule)["Targets"]
    assert tg["DeadLetterConfig"] == {"Arn": qarn}

    r = eb.put_events(Entries=[{"Source": source, "DetailType": "door", "Detail": json.dumps({"open": True})}])
    assert r["FailedEntryCount"] == 0
    [m] = receive_all(sqs, url, 1, timeout=20, MessageAttributeNames=["All"])
    event = json.loads(m["Body"])
    assert event["id"] == r["Entries"][0]["EventId"]
    assert (event["source"], event["detail-type"], event["detail"]) == (source, "door", {"open": True})
    a = {k: v["StringValue"] for k, v in m["MessageAttributes"].items()}
    assert a["RULE_ARN"] == rule_arn and a["TARGET_ARN"] == missing
    assert a["ERROR_CODE"] == "RESOURCE_NOT_FOUND" and a["RETRY_ATTEMPTS"] == "0"
    assert "no-such-fn" in a["ERROR_MESSAGE"]

    eb.remove_targets(Rule=rule, Ids=["t"])
    eb.delete_rule(Name=rule)


@pytest.mark.parametrize("dlq", ["missing", "fifo", "lambda"])
def test_put_targets_refuses_a_dead_letter_queue_it_cannot_use(daemon, dlq):
    eb, sqs = events_client(daemon), sqs_client(daemon)
    if dlq == "missing":
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{unique('nope')}"
    elif dlq == "fifo":
        _, arn = queue(sqs, unique("eb-dlq") + ".fifo", FifoQueue="true")
    else:
        arn = function_arn(unique("fn"))
    rule = unique("dlq-bad")
    eb.put_rule(Name=rule, EventPattern=json.dumps({"source": ["x"]}))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        eb.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": function_arn("f"), "DeadLetterConfig": {"Arn": arn}}])
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "DeadLetterConfig" in e.value.response["Error"]["Message"]
    assert eb.list_targets_by_rule(Rule=rule)["Targets"] == []
    eb.delete_rule(Name=rule)


def test_schedule_that_cannot_deliver_sends_its_payload_to_the_dead_letter_queue(daemon):
    sch, sqs = events_client(daemon, "scheduler"), sqs_client(daemon)
    url, qarn = queue(sqs, unique("sch-dlq"))
    name, missing = unique("sch-dlq"), function_arn(unique("no-such-fn"))
    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 2))
    target = {"Arn": missing, "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
              "Input": '{"id": "<aws.scheduler.execution-id>"}', "DeadLetterConfig": {"Arn": qarn},
              "RetryPolicy": {"MaximumRetryAttempts": 0}}
    sarn = sch.create_schedule(Name=name, ScheduleExpression=f"at({at})", FlexibleTimeWindow={"Mode": "OFF"},
                               Target=target)["ScheduleArn"]
    assert sch.get_schedule(Name=name)["Target"]["DeadLetterConfig"] == {"Arn": qarn}
    [m] = receive_all(sqs, url, 1, timeout=20, MessageAttributeNames=["All"])
    a = {k: v["StringValue"] for k, v in m["MessageAttributes"].items()}
    assert a["SCHEDULE_ARN"] == sarn and a["TARGET_ARN"] == missing
    assert a["ERROR_CODE"] == "RESOURCE_NOT_FOUND" and a["RETRY_ATTEMPTS"] == "0"
    assert "no-such-fn" in a["ERROR_MESSAGE"]
    assert json.loads(m["Body"]) == {"id": a["EXECUTION_ID"]}


@pytest.mark.parametrize("dlq", ["missing", "fifo"])
def test_create_schedule_refuses_a_dead_letter_queue_it_cannot_use(daemon, dlq):
    sch, sqs = events_client(daemon, "scheduler"), sqs_client(daemon)
    if dlq == "missing":
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{unique('nope')}"
    else:
        _, arn = queue(sqs, unique("sch-dlq") + ".fifo", FifoQueue="true")
    name = unique("sch-bad")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sch.create_schedule(Name=name, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
                            Target={"Arn": function_arn("f"), "RoleArn": "arn:aws:iam::123456789012:role/s",
                                    "DeadLetterConfig": {"Arn": arn}})
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "DeadLetterConfig" in e.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sch.get_schedule(Name=name)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
