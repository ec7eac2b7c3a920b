"""EventBridge Scheduler (rest-json) and EventBridge (JSON 1.1) driven by boto3, plus the
Scheduler commands of Debian's AWS CLI v2: one-time `at()` schedules, cron schedules in a
time zone across both daylight-saving changes, start and end dates, flexible windows,
groups, errors, and what happens after downtime (real restarts of the daemon)."""

from __future__ import annotations

import calendar
import json
import signal
import time

import botocore.exceptions
import pytest

from conftest import ACCOUNT, REGION, unique
from dashboard_client import Dashboard, first_admin_password
from events_support import (clock_daemon, create_recorder, epoch, events_client, fired,
                            set_clock, stays, wait_fired)

ROLE = "arn:aws:iam::123456789012:role/scheduler"
INPUT = ('{"arn": "<aws.scheduler.schedule-arn>", "at": "<aws.scheduler.scheduled-time>", '
         '"attempt": <aws.scheduler.attempt-number>, "id": "<aws.scheduler.execution-id>"}')


def utc(s: str) -> float:
    return float(calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ")))


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    daemon = clock_daemon(tmp_path_factory.mktemp("scheduler-boto3"))
    yield daemon
    daemon.kill()


@pytest.fixture(scope="module")
def sch(d):
    return events_client(d, "scheduler")


@pytest.fixture(scope="module")
def eb(d):
    return events_client(d, "events")


def target(arn: str, **extra) -> dict:
    return {"Arn": arn, "RoleArn": ROLE, "Input": INPUT, **extra}


def code(e: botocore.exceptions.ClientError) -> str:
    return e.response["Error"]["Code"]


def test_one_time_schedule_fires_once_and_deletes_itself(d, sch):
    fn = unique("once")
    arn = create_recorder(d, fn)
    set_clock(d, now=utc("2030-01-01T08:59:50Z"))
    name = unique("once")
    out = sch.create_schedule(Name=name, ScheduleExpression="at(2030-01-01T10:00:00)",
                              ScheduleExpressionTimezone="Europe/Berlin",
                              FlexibleTimeWindow={"Mode": "OFF"}, Target=target(arn),
                              ActionAfterCompletion="DELETE")
    assert out["ScheduleArn"] == f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/{name}"
    got = sch.get_schedule(Name=name)
    assert got["ActionAfterCompletion"] == "DELETE" and got["State"] == "ENABLED"
    assert got["ScheduleExpressionTimezone"] == "Europe/Berlin"
    keep = unique("keep")
    sch.create_schedule(Name=keep, ScheduleExpression="at(2030-01-01T09:00:00)",
                        FlexibleTimeWindow={"Mode": "OFF"}, Target=target(arn))
    stays(d, fn, 0, wait=1.0)
    set_clock(d, now=utc("2030-01-01T09:00:00Z") + 0.3)  # 10:00 in Berlin = 09:00 UTC
    got = wait_fired(d, fn, 2)
    stays(d, fn, 2, wait=1.5)
    assert {e["arn"].rsplit("/", 1)[1] for e in got} == {name, keep}
    for e in got:
        assert e["at"] == "2030-01-01T09:00:00Z" and e["attempt"] == 1 and len(e["id"]) == 36
    deadline = time.monotonic() + 30
    while True:
        try:
            sch.get_schedule(Name=name)
        except botocore.exceptions.ClientError as e:
            assert code(e) == "ResourceNotFoundException"
            break
        assert time.monotonic() < deadline, "the DELETE schedule is still there"
        time.sleep(0.2)
    assert sch.get_schedule(Name=keep)["Name"] == keep  # ActionAfterCompletion NONE stays
    set_clock(d, advance=86400)
    stays(d, fn, 2, wait=1.5)
    sch.delete_schedule(Name=keep)


def test_cron_in_a_time_zone_across_spring_forward(d, sch):
    fn = unique("spring")
    arn = create_recorder(d, fn)
    # 2030-03-10 in New York: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist that day.
    set_clock(d, now=utc("2030-03-09T07:00:00Z"))
    name = unique("spring")
    sch.create_schedule(Name=name, ScheduleExpression="cron(30 2 * * ? *)",
                        ScheduleExpressionTimezone="America/New_York",
                        FlexibleTimeWindow={"Mode": "OFF"}, Target=target(arn))
    set_clock(d, now=utc("2030-03-09T07:30:00Z") + 0.3)  # 02:30 EST
    wait_fired(d, fn, 1)
    set_clock(d, now=utc("2030-03-10T12:00:00Z"))  # the whole 10th: nothing was missed
    stays(d, fn, 1, wait=2.0)
    set_clock(d, now=utc("2030-03-11T06:30:00Z") + 0.3)  # 02:30 EDT
    got = wait_fired(d, fn, 2)
    assert [e["at"] for e in got] == ["2030-03-09T07:30:00Z", "2030-03-11T06:30:00Z"]
    sch.delete_schedule(Name=name)


def test_cron_in_a_time_zone_across_fall_back(d, sch):
    fn = unique("fall")
    arn = create_recorder(d, fn)
    # 2030-11-03 in New York: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice.
    set_clock(d, now=utc("2030-11-03T05:00:00Z"))
    name = unique("fall")
    sch.create_schedule(Name=name, ScheduleExpression="cron(30 1 * * ? *)",
                        ScheduleExpressionTimezone="America/New_York",
                        FlexibleTimeWindow={"Mode": "OFF"}, Target=target(arn))
    set_clock(d, now=utc("2030-11-03T05:30:00Z") + 0.3)  # 01:30 EDT
    wait_fired(d, fn, 1)
    set_clock(d, now=utc("2030-11-03T06:30:00Z") + 0.3)  # 01:30 EST: not again
    stays(d, fn, 1, wait=2.0)
    set_clock(d, now=utc("2030-11-04T06:30:00Z") + 0.3)
    got = wait_fired(d, fn, 2)
    assert [e["at"] for e in got] == ["2030-11-03T05:30:00Z", "2030-11-04T06:30:00Z"]
    sch.delete_schedule(Name=name)


def test_start_and_end_dates_bound_a_rate_schedule(d, sch):
    fn = unique("bounded")
    arn = create_recorder(d, fn)
    t = utc("2031-05-01T00:00:00Z")
    set_clock(d, now=t)
    name = unique("bounded")
    sch.create_schedule(Name=name, ScheduleExpression="rate(1 hour)",
                        StartDate=t + 3600, EndDate=t + 3 * 3600 + 60,
                        FlexibleTimeWindow={"Mode": "OFF"}, Target=target(arn))
    got = sch.get_schedule(Name=name)
    assert got["StartDate"].timestamp() == t + 3600
    assert got["EndDate"].timestamp() == t + 3 * 3600 + 60
    set_clock(d, now=t + 1800)
    stays(d, fn, 0, wait=1.0)
    for k in (1, 2, 3):
        set_clock(d, now=t + k * 3600 + 0.3)
        wait_fired(d, fn, k)
    set_clock(d, now=t + 4 * 3600 + 0.3)
    got = stays(d, fn, 3, wait=2.0)
    assert [epoch(e["at"]) for e in got] == [t + 3600, t + 7200, t + 10800]
    sch.delete_schedule(Name=name)


def test_a_flexible_window_fires_once_within_it(d, sch):
    fn = unique("flex")
    arn = create_recorder(d, fn)
    t = utc("2031-06-01T00:00:00Z")
    set_clock(d, now=t - 10)
    name = unique("flex")
    sch.create_schedule(Name=name, ScheduleExpression="cron(0 0 * * ? *)",
                        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5},
                        Target=target(arn))
    set_clock(d, now=t + 5 * 60 + 1)
    [e] = wait_fired(d, fn, 1)
    stays(d, fn, 1, wait=1.5)
    assert e["at"] == "2031-06-01T00:00:00Z"
    sch.delete_schedule(Name=name)


def test_groups_update_list_and_errors(d, sch):
    fn = unique("grp")
    arn = create_recorder(d, fn)
    group = unique("grp")
    out = sch.create_schedule_group(Name=group)
    assert out["ScheduleGroupArn"].endswith(f":schedule-group/{group}")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sch.create_schedule_group(Name=group)
    assert code(e.value) == "ConflictException"
    assert sch.get_schedule_group(Name=group)["State"] == "ACTIVE"
    names = [unique("s") for _ in range(3)]
    for n in names:
        sch.create_schedule(Name=n, GroupName=group, ScheduleExpression="rate(7 days)",
                            FlexibleTimeWindow={"Mode": "OFF"}, Target=target(arn),
                            Description="weekly")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sch.create_schedule(Name=names[0], GroupName=group, ScheduleExpression="rate(7 days)",
                            FlexibleTimeWindow={"Mode": "OFF"}, Target=target(arn))
    assert code(e.value) == "ConflictException"
    listed = sch.list_schedules(GroupName=group)["Schedules"]
    assert sorted(s["Name"] for s in listed) == sorted(names)
    page = sch.list_schedules(GroupName=group, MaxResults=2)
    assert len(page["Schedules"]) == 2 and page["NextToken"]
    rest = sch.list_schedules(GroupName=group, MaxResults=2, NextToken=page["NextToken"])
    assert len(rest["Schedules"]) == 1 and "NextToken" not in rest
    sch.update_schedule(Name=names[0], GroupName=group, ScheduleExpression="cron(0 12 * * ? *)",
                        FlexibleTimeWindow={"Mode": "OFF"}, Target=target(arn), State="DISABLED")
    got = sch.get_schedule(Name=names[0], GroupName=group)
    assert got["ScheduleExpression"] == "cron(0 12 * * ? *)" and got["State"] == "DISABLED"
    assert "Description" not in got  # UpdateSchedule replaces the whole definition
    assert [s["Name"] for s in sch.list_schedules(GroupName=group, State="DISABLED")["Schedules"]] == [names[0]]

    bad = [
        (dict(ScheduleExpression="rate(1 minutes)"), "ValidationException", "minute"),
        (dict(ScheduleExpression="cron(0 12 * * * *)"), "ValidationException", "?"),
        (dict(ScheduleExpression="at(2030-13-01T00:00:00)"), "ValidationException", "at("),
        (dict(ScheduleExpression="rate(1 hour)", ScheduleExpressionTimezone="Mars/Olympus"),
         "ValidationException", "Mars/Olympus"),
        (dict(ScheduleExpression="rate(1 hour)", KmsKeyArn="arn:aws:kms:us-east-1:1:key/x"),
         "ValidationException", "KMS"),
        (dict(ScheduleExpression="rate(1 hour)", GroupName=unique("nogroup")),
         "ResourceNotFoundException", ""),
    ]
    for kw, want, text in bad:
        n = unique("bad")
        args = dict(Name=n, FlexibleTimeWindow={"Mode": "OFF"}, Target=target(arn), **kw)
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sch.create_schedule(**args)
        assert code(e.value) == want, (kw, e.value.response)
        assert text in e.value.response["Error"]["Message"], (kw, e.value.response)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sch.create_schedule(Name=unique("dlq"), ScheduleExpression="rate(1 hour)",
                            FlexibleTimeWindow={"Mode": "OFF"},
                            Target=target(arn, DeadLetterConfig={"Arn": "arn:aws:sqs:us-east-1:1:q"}))
    assert code(e.value) == "ValidationException" and "DeadLetterConfig" in str(e.value)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sch.get_schedule(Name=unique("none"))
    assert code(e.value) == "ResourceNotFoundException"
    assert len(sch.list_schedules(GroupName=group)["Schedules"]) == 3  # nothing changed

    sch.delete_schedule_group(Name=group)  # deletes its schedules, as AWS does
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sch.get_schedule(Name=names[1], GroupName=group)
    assert code(e.value) == "ResourceNotFoundException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sch.delete_schedule_group(Name="default")
    assert code(e.value) == "ValidationException"


def test_scheduler_commands_of_the_cli(d):
    fn = unique("cli")
    arn = create_recorder(d, fn)
    t = utc("2032-02-02T10:00:00Z")
    set_clock(d, now=t - 5)
    name = unique("cli")
    rc, out, err = d.aws("create-schedule", "--name", name,
                         "--schedule-expression", "cron(0 10 ? * MON-FRI *)",
                         "--flexible-time-window", "Mode=OFF",
                         "--target", json.dumps({"Arn": arn, "RoleArn": ROLE,
                                                 "Input": '{"from": "cli"}',
                                                 "RetryPolicy": {"MaximumRetryAttempts": 3,
                                                                 "MaximumEventAgeInSeconds": 600}}),
                         service="scheduler")
    assert rc == 0, err
    rc, got, err = d.aws("get-schedule", "--name", name, service="scheduler")
    assert rc == 0, err
    assert got["Target"]["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600}
    set_clock(d, now=t + 0.3)  # 2032-02-02 is a Monday
    [e] = wait_fired(d, fn, 1)
    assert e == {"from": "cli"}
    rc, out, err = d.aws("list-schedules", "--name-prefix", name, service="scheduler")
    assert rc == 0 and [s["Name"] for s in out["Schedules"]] == [name], err
    rc, _, err = d.aws("delete-schedule", "--name", name, service="scheduler")
    assert rc == 0, err
    rc, _, err = d.aws("delete-schedule", "--name", name, service="scheduler")
    assert rc != 0 and "ResourceNotFoundException" in err


def test_rules_with_boto3_targets_and_input_transformer(d, eb):
    fn = unique("eb")
    arn = create_recorder(d, fn)
    t = set_clock(d, now=time.time())
    rule = unique("eb")
    eb.put_rule(Name=rule, ScheduleExpression="cron(0/15 * * * ? *)", Description="quarterly")
    r = eb.describe_rule(Name=rule)
    assert r["ScheduleExpression"] == "cron(0/15 * * * ? *)" and r["Description"] == "quarterly"
    out = eb.put_targets(Rule=rule, Targets=[
        {"Id": "t", "Arn": arn, "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 120},
         "InputTransformer": {"InputPathsMap": {"t": "$.time", "dt": "$.detail-type"},
                              "InputTemplate": '{"when": <t>, "what": <dt>}'}}])
    assert out["FailedEntryCount"] == 0
    [tg] = eb.list_targets_by_rule(Rule=rule)["Targets"]
    assert tg["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 120}
    assert tg["InputTransformer"]["InputTemplate"] == '{"when": <t>, "what": <dt>}'
    assert eb.list_rule_names_by_target(TargetArn=arn)["RuleNames"] == [rule]
    nxt = (int(t) // 900 + 1) * 900
    set_clock(d, now=nxt + 0.3)
    [e] = wait_fired(d, fn, 1)
    assert e == {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(nxt)),
                 "what": "Scheduled Event"}
    with pytest.raises(botocore.exceptions.ClientError) as err:
        eb.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn,
                                            "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:1:q"}}])
    assert code(err.value) == "ValidationException"
    assert [x["Id"] for x in eb.list_targets_by_rule(Rule=rule)["Targets"]] == ["t"]
    out = eb.remove_targets(Rule=rule, Ids=["t"])
    assert out["FailedEntryCount"] == 0
    assert eb.list_targets_by_rule(Rule=rule)["Targets"] == []
    eb.delete_rule(Name=rule)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        eb.describe_rule(Name=rule)
    assert code(err.value) == "ResourceNotFoundException"


def test_schedule_failures_show_on_the_dashboard(d, sch):
    t = utc("2033-01-01T00:00:00Z")
    set_clock(d, now=t - 5)
    name = unique("lost")
    missing = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{unique('nofn')}"
    sch.create_schedule(Name=name, ScheduleExpression="at(2033-01-01T00:00:00)",
                        FlexibleTimeWindow={"Mode": "OFF"}, Target=target(missing))
    set_clock(d, now=t + 0.3)
    dash = Dashboard(d.endpoint)
    dash.login("admin", first_admin_password(d.data_dir))
    deadline = time.monotonic() + 20
    while True:
        page = dash.get("/ui/schedules").text
        row = page[page.find(f'data-schedule="{name}"'):]
        row = row[:row.find("</tr>")]
        if "1 failed" in row or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert "0 delivered, 1 failed" in row and "Last failure" in row, row
    sch.delete_schedule(Name=name)


# -- downtime: real restarts -----------------------------------------------------------------


def _downtime(tmp_path_factory, catch_up: str) -> tuple[list[float], float, float, float]:
    """A rate(3 seconds) rule runs, the daemon stops for 12 s, then runs again: the firing
    times, when the daemon had exited, when it was started again and when it listened."""
    env = {"LAMBDABOX_SCHEDULER__CATCH_UP": catch_up}
    d = clock_daemon(tmp_path_factory.mktemp(f"downtime-{catch_up}"), env=env)
    try:
        eb = events_client(d)
        fn = unique("down")
        arn = create_recorder(d, fn)
        eb.put_rule(Name="r", ScheduleExpression="rate(3 seconds)")
        eb.put_targets(Rule="r", Targets=[{"Id": "1", "Arn": arn}])
        wait_fired(d, fn, 2)
        assert d.stop(signal.SIGTERM) == 0
        t_down = time.time()  # every on-time firing so far is older than this
        time.sleep(12)
        t_up = time.time()  # the restarted scheduler loads its timers after this
        d.start()
        t_start = time.time()
        time.sleep(4)
        eb = events_client(d)
        eb.disable_rule(Name="r")
        got = wait_fired(d, fn, 3)
        return sorted(epoch(e["time"]) for e in got), t_down, t_up, t_start
    finally:
        d.kill()


def test_after_downtime_a_rule_catches_up_once(tmp_path_factory):
    times, t_down, t_up, t_start = _downtime(tmp_path_factory, "once")
    # The three or four occurrences inside the downtime fired once in all, for the latest
    # (within 3 s before the restarted scheduler loaded its timers; event times are whole
    # seconds), then the rule went on. Bounds taken around the restart itself, not after
    # it: an on-time occurrence may fire before `start()` has returned.
    after = [t for t in times if t > t_down]
    assert after and t_up - 4 < after[0] <= t_start, (times, t_down, t_up, t_start)
    assert len([t for t in after if t < t_up]) <= 1, (times, t_down, t_up)
    assert len(set(times)) == len(times), times
    assert any(t > t_start for t in times), (times, t_start)


def test_after_downtime_catch_up_none_skips_missed_occurrences(tmp_path_factory):
    times, t_down, t_up, t_start = _downtime(tmp_path_factory, "none")
    # (An occurrence up to 2 s before the restart still counts as on time; event times are
    # whole seconds.)
    missed = [t for t in times if t_down < t < t_up - 3]
    assert missed == [], (times, t_down, t_up)
    assert any(t > t_start for t in times), (times, t_start)
