"""The CloudWatch Logs API (`logs`, AWS JSON 1.1) over function logs, driven by boto3 and by
Debian's AWS CLI v2, including `aws logs tail --follow` seeing a new invocation live."""

from __future__ import annotations

import json
import re
import select
import subprocess
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCOUNT, AWS_CLI, REGION, unique
from invoke_support import create_function

APP = r'''
import json
def handler(event, context):
    tag = event.get("tag", "none")
    print(f"[ERROR] something broke {tag}")
    print(f"[INFO] all fine {tag}")
    print(json.dumps({"level": "ERROR", "latency": 600, "tag": tag}))
    print(json.dumps({"level": "INFO", "latency": 20, "tag": tag}))
    print(f"127.0.0.1 - frank GET 404 {len(tag)}")
    return tag
'''

STREAM_RE = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")


def logs_client(d):
    key_id, secret = d.admin_keys()
    return boto3.client(
        "logs", endpoint_url=d.endpoint, region_name=REGION, aws_access_key_id=key_id,
        aws_secret_access_key=secret, config=Config(retries={"total_max_attempts": 1}))


def code(exc) -> str:
    return exc.value.response["Error"]["Code"]


@pytest.fixture(scope="module")
def fn(daemon):
    name = create_function(daemon.client(), {"app.py": APP}, name=unique("logs"))
    daemon.client().invoke(FunctionName=name, Payload=json.dumps({"tag": "first"}))
    return name


def wait_events(logs, group, pattern="", want=1, timeout=30.0, **kw):
    deadline = time.monotonic() + timeout
    while True:
        try:
            ev = logs.filter_log_events(logGroupName=group, filterPattern=pattern, **kw)["events"]
        except ClientError:
            ev = []
        if len(ev) >= want or time.monotonic() > deadline:
            return ev
        time.sleep(0.2)


def test_function_group_stream_and_events(daemon, fn):
    logs = logs_client(daemon)
    group = f"/aws/lambda/{fn}"
    assert wait_events(logs, group, "first", want=5)
    [g] = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert g["logGroupName"] == group and g["storedBytes"] > 0
    assert g["arn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:*"
    streams = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime",
                                        descending=True)["logStreams"]
    assert len(streams) == 1 and STREAM_RE.match(streams[0]["logStreamName"]), streams
    s = streams[0]
    assert s["firstEventTimestamp"] <= s["lastEventTimestamp"]
    page = logs.get_log_events(logGroupName=group, logStreamName=s["logStreamName"],
                               startFromHead=True)
    messages = [e["message"] for e in page["events"]]
    assert messages[0].startswith("START RequestId:"), messages
    assert any("[ERROR] something broke first" in m for m in messages)
    assert any(m.startswith("REPORT RequestId:") for m in messages)
    # Paging one event at a time forward, then backward from the end.
    seen, token = [], None
    for _ in range(50):
        kw = {"nextToken": token} if token else {"startFromHead": True}
        p = logs.get_log_events(logGroupName=group, logStreamName=s["logStreamName"], limit=1, **kw)
        if p["nextForwardToken"] == token:
            break
        seen += [e["message"] for e in p["events"]]
        token = p["nextForwardToken"]
    assert seen == messages
    last = logs.get_log_events(logGroupName=group, logStreamName=s["logStreamName"], limit=2)
    assert [e["message"] for e in last["events"]] == messages[-2:]
    before = logs.get_log_events(logGroupName=group, logStreamName=s["logStreamName"], limit=2,
                                 nextToken=last["nextBackwardToken"])
    assert [e["message"] for e in before["events"]] == messages[-4:-2]


@pytest.mark.parametrize("pattern,expected", [
    ("ERROR", {"[ERROR] something broke first", '{"level": "ERROR", "latency": 600, "tag": "first"}'}),
    ('"something broke"', {"[ERROR] something broke first"}),
    ("ERROR -level", {"[ERROR] something broke first"}),
    ("?broke ?fine", {"[ERROR] something broke first", "[INFO] all fine first"}),
    ('{ $.level = "ERROR" }', {'{"level": "ERROR", "latency": 600, "tag": "first"}'}),
    ("{ $.latency < 100 }", {'{"level": "INFO", "latency": 20, "tag": "first"}'}),
    ("[ip, id, user, method = GET, status = 4*, bytes]", {"127.0.0.1 - frank GET 404 5"}),
])
def test_filter_pattern_table(daemon, fn, pattern, expected):
    logs = logs_client(daemon)
    ev = wait_events(logs, f"/aws/lambda/{fn}", pattern, want=len(expected))
    got = {e["message"].rstrip("\n") for e in ev if "first" in e["message"] or "frank" in e["message"]}
    assert got == expected


def test_filter_time_range_streams_and_paging(daemon, fn):
    logs = logs_client(daemon)
    group = f"/aws/lambda/{fn}"
    everything = wait_events(logs, group, "", want=5)
    assert everything == sorted(everything, key=lambda e: e["timestamp"])
    future = int(time.time() * 1000) + 3_600_000
    assert logs.filter_log_events(logGroupName=group, startTime=future)["events"] == []
    stream = everything[0]["logStreamName"]
    assert logs.filter_log_events(logGroupName=group, logStreamNames=["nope"])["events"] == []
    assert len(logs.filter_log_events(logGroupName=group, logStreamNames=[stream])["events"]) \
        == len(everything)
    first = logs.filter_log_events(logGroupName=group, limit=2)
    assert len(first["events"]) == 2 and "nextToken" in first
    rest = logs.filter_log_events(logGroupName=group, nextToken=first["nextToken"])
    assert [e["eventId"] for e in first["events"] + rest["events"]] == \
        [e["eventId"] for e in everything]
    with pytest.raises(ClientError) as e:
        logs.filter_log_events(logGroupName=group, filterPattern='{ $.level = }')
    assert code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        logs.filter_log_events(logGroupName=group, nextToken="garbage")
    assert code(e) == "InvalidParameterException"


def test_groups_retention_and_errors(daemon):
    logs = logs_client(daemon)
    names = [f"/lbx/test/{unique('g')}" for _ in range(3)]
    for n in names:
        logs.create_log_group(logGroupName=n)
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName=names[0])
    assert code(e) == "ResourceAlreadyExistsException"
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName="bad name!")
    assert code(e) == "InvalidParameterException"
    pages, token = [], None
    while True:
        kw = {"nextToken": token} if token else {}
        p = logs.describe_log_groups(logGroupNamePrefix="/lbx/test/", limit=1, **kw)
        pages.append([g["logGroupName"] for g in p["logGroups"]])
        token = p.get("nextToken")
        if not token:
            break
    assert pages == [[n] for n in sorted(names)]
    logs.put_retention_policy(logGroupName=names[0], retentionInDays=7)
    [g] = logs.describe_log_groups(logGroupNamePrefix=names[0])["logGroups"]
    assert g["retentionInDays"] == 7
    with pytest.raises(ClientError) as e:
        logs.put_retention_policy(logGroupName=names[0], retentionInDays=2)
    assert code(e) == "InvalidParameterException"
    logs.delete_retention_policy(logGroupName=names[0])
    [g] = logs.describe_log_groups(logGroupNamePrefix=names[0])["logGroups"]
    assert "retentionInDays" not in g
    logs.delete_log_group(logGroupName=names[0])
    for call in (lambda: logs.delete_log_group(logGroupName=names[0]),
                 lambda: logs.describe_log_streams(logGroupName=names[0]),
                 lambda: logs.put_retention_policy(logGroupName=names[0], retentionInDays=1),
                 lambda: logs.filter_log_events(logGroupName=names[0])):
        with pytest.raises(ClientError) as e:
            call()
        assert code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        logs.get_log_events(logGroupName=names[1], logStreamName="nope")
    assert code(e) == "ResourceNotFoundException"


def test_cli_describe_and_filter(daemon, fn):
    logs = logs_client(daemon)
    group = f"/aws/lambda/{fn}"
    wait_events(logs, group, "first", want=5)
    rc, out, err = daemon.aws("describe-log-groups", "--log-group-name-prefix", group,
                              service="logs")
    assert rc == 0, err
    assert [g["logGroupName"] for g in out["logGroups"]] == [group]
    rc, out, err = daemon.aws("filter-log-events", "--log-group-name", group, "--filter-pattern",
                              '{ $.level = "ERROR" }', service="logs")
    assert rc == 0, err
    assert all('"ERROR"' in e["message"] for e in out["events"]) and out["events"]
    rc, out, err = daemon.aws("put-retention-policy", "--log-group-name", group,
                              "--retention-in-days", "3", service="logs")
    assert rc == 0, err
    rc, _, err = daemon.aws("put-retention-policy", "--log-group-name", group,
                            "--retention-in-days", "4", service="logs")
    assert rc != 0 and "InvalidParameterException" in err, err
    rc, _, err = daemon.aws("delete-retention-policy", "--log-group-name", group, service="logs")
    assert rc == 0, err


def test_cli_tail_follow_sees_a_new_invocation(daemon, fn):
    group = f"/aws/lambda/{fn}"
    tail = subprocess.Popen(
        [AWS_CLI, "--endpoint-url", daemon.endpoint, "logs", "tail", group, "--follow",
         "--since", "10m", "--filter-pattern", "ERROR", "--format", "short"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=daemon.cli_env())
    try:
        lines: list[str] = []

        def read_until(marker: str, timeout: float) -> None:
            deadline = time.monotonic() + timeout
            while not any(marker in line for line in lines):
                left = deadline - time.monotonic()
                assert left > 0, (lines, tail.poll())
                ready, _, _ = select.select([tail.stdout], [], [], left)
                if ready:
                    line = tail.stdout.readline()
                    assert line, ("tail exited", tail.stderr.read())
                    lines.append(line.rstrip("\n"))

        read_until("something broke first", 20)
        tag = unique("live")
        daemon.client().invoke(FunctionName=fn, Payload=json.dumps({"tag": tag}))
        read_until(f"something broke {tag}", 20)
        assert not any("all fine" in line for line in lines), lines
        # --format short: "<time> <message>", no stream name.
        line = next(l for l in lines if tag in l)
        assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2} \[ERROR\] something broke", line), line
    finally:
        tail.kill()
        tail.wait()
