"""EventBridge targets' DeadLetterConfig (issue 15): an event a rule cannot deliver goes, unchanged,
to the target's SQS dead-letter queue with EventBridge's attributes (RULE_ARN, TARGET_ARN,
ERROR_CODE, ERROR_MESSAGE, RETRY_ATTEMPTS); a queue that does not exist, a FIFO queue or a
non-SQS ARN is refused by PutTargets. Real binary, boto3 (events: JSON 1.1, sqs: JSON 1.0)."""

from __future__ import annotations

import json

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
