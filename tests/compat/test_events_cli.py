"""EventBridge rules, targets, buses and PutEvents driven by Debian's AWS CLI v2, against a
daemon whose scheduler clock the tests move (`scheduler.test_clock`), so that "every 5
minutes" is tested in seconds. Each invocation is read back from the function's logs."""

from __future__ import annotations

import json
import math
import time

import pytest

from conftest import ACCOUNT, REGION, unique
from dashboard_client import Dashboard, first_admin_password
from events_support import (clock, clock_daemon, create_recorder, epoch, fired, iso, set_clock,
                            stays, wait_fired)

RULE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/"


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    daemon = clock_daemon(tmp_path_factory.mktemp("events-cli"))
    yield daemon
    daemon.kill()


def ev(d, *args):
    return d.aws(*args, service="events")


def ok(res):
    rc, out, err = res
    assert rc == 0, err
    return out


def refused(res, code: str, text: str = "") -> str:
    rc, _, err = res
    assert rc != 0 and code in err, err
    assert text in err, err
    return err


def test_seed_commands_run_the_function_every_5_minutes(d):
    fn = unique("tick")
    arn = create_recorder(d, fn)
    rule = unique("every-5-minutes")
    t0 = set_clock(d, now=time.time())
    out = ok(ev(d, "put-rule", "--name", rule, "--schedule-expression", "rate(5 minutes)"))
    assert out["RuleArn"] == RULE_ARN + rule
    out = ok(ev(d, "put-targets", "--rule", rule, "--targets", f"Id=1,Arn={arn}"))
    assert out == {"FailedEntryCount": 0, "FailedEntries": []}

    set_clock(d, advance=200)
    stays(d, fn, 0, wait=1.5)
    set_clock(d, advance=105)
    [e] = wait_fired(d, fn, 1)
    assert e["detail-type"] == "Scheduled Event" and e["source"] == "aws.events"
    assert e["resources"] == [RULE_ARN + rule] and e["detail"] == {}
    assert e["account"] == ACCOUNT and e["region"] == REGION and e["version"] == "0"
    # One period after PutRule (a few seconds after t0: the CLI calls take time).
    first = epoch(e["time"])
    assert t0 + 299 <= first <= t0 + 315, (e["time"], iso(t0))

    set_clock(d, advance=300)
    got = wait_fired(d, fn, 2)
    assert epoch(got[1]["time"]) == first + 300
    assert got[0]["id"] != got[1]["id"]
    ok(ev(d, "remove-targets", "--rule", rule, "--ids", "1"))
    ok(ev(d, "delete-rule", "--name", rule))


def test_after_a_long_gap_a_rule_fires_once_not_a_burst(d):
    fn = unique("gap")
    arn = create_recorder(d, fn)
    rule = unique("gap")
    t0 = set_clock(d, now=time.time())
    ok(ev(d, "put-rule", "--name", rule, "--schedule-expression", "rate(1 minute)"))
    ok(ev(d, "put-targets", "--rule", rule, "--targets", f"Id=a,Arn={arn}"))
    set_clock(d, advance=3600 + 30)  # 60 occurrences missed
    [e] = wait_fired(d, fn, 1)
    stays(d, fn, 1, wait=2)
    # The catch-up firing is the latest missed occurrence; the schedule goes on from there.
    last = epoch(e["time"])
    assert t0 + 3600 - 60 < last <= t0 + 3630, (e["time"], iso(t0))
    set_clock(d, advance=60)
    got = wait_fired(d, fn, 2)
    assert epoch(got[1]["time"]) == last + 60
    ok(ev(d, "remove-targets", "--rule", rule, "--ids", "a"))
    ok(ev(d, "delete-rule", "--name", rule))


def test_rate_1_second_fires_n_times_in_n_seconds_in_real_time(d):
    # the module's daemon is shared: earlier tests moved its clock; this one runs on real time
    set_clock(d, now=time.time())
    fn = unique("sec")
    arn = create_recorder(d, fn)
    rule = unique("sec")
    ok(ev(d, "put-rule", "--name", rule, "--schedule-expression", "rate(1 second)"))
    t_a = time.time()
    ok(ev(d, "put-targets", "--rule", rule, "--targets", f"Id=s,Arn={arn}"))
    t_b = time.time()
    n = 6
    time.sleep(n + 1.2)
    t_c = time.time()
    ok(ev(d, "disable-rule", "--name", rule))
    t_d = time.time()
    # Every occurrence between PutTargets returning and DisableRule being sent fired, once;
    # nothing outside the calls' window did. Cold start and a loaded machine may delay the
    # invocations (so wait for them) but not the firings (their `time`).
    required = set(range(math.ceil(t_b), math.floor(t_c)))
    assert len(required) >= n
    deadline = time.monotonic() + 30
    got = fired(d, fn)
    while not required <= {epoch(e["time"]) for e in got} and time.monotonic() < deadline:
        time.sleep(0.3)
        got = fired(d, fn)
    secs = sorted(epoch(e["time"]) for e in got)
    assert required <= set(secs), (sorted(required), secs)
    assert len(set(secs)) == len(secs), secs
    assert math.floor(t_a) - 1 <= secs[0] and secs[-1] <= math.floor(t_d) + 1, (t_a, t_d, secs)
    assert all(b - a == 1 for a, b in zip(secs, secs[1:])), secs
    lateness = clock(d)["Lateness"]
    assert lateness["count"] >= n, lateness
    stays(d, fn, len(got), wait=2.0)  # disabled: no more firings
    ok(ev(d, "remove-targets", "--rule", rule, "--ids", "s"))
    ok(ev(d, "delete-rule", "--name", rule))


def test_a_disabled_rule_never_fires_and_fires_again_when_enabled(d):
    fn = unique("dis")
    arn = create_recorder(d, fn)
    rule = unique("dis")
    ok(ev(d, "put-rule", "--name", rule, "--schedule-expression", "rate(1 minute)",
          "--state", "DISABLED"))
    ok(ev(d, "put-targets", "--rule", rule, "--targets", f"Id=1,Arn={arn}"))
    assert ok(ev(d, "describe-rule", "--name", rule))["State"] == "DISABLED"
    set_clock(d, advance=600)
    stays(d, fn, 0, wait=2)
    ok(ev(d, "enable-rule", "--name", rule))
    assert ok(ev(d, "describe-rule", "--name", rule))["State"] == "ENABLED"
    set_clock(d, advance=61)
    wait_fired(d, fn, 1)
    ok(ev(d, "disable-rule", "--name", rule))
    set_clock(d, advance=600)
    stays(d, fn, 1, wait=2)
    ok(ev(d, "remove-targets", "--rule", rule, "--ids", "1"))
    ok(ev(d, "delete-rule", "--name", rule))


def test_a_custom_bus_routes_put_events_by_pattern(d):
    fn = unique("home")
    arn = create_recorder(d, fn)
    bus = unique("home")
    out = ok(ev(d, "create-event-bus", "--name", bus))
    assert out["EventBusArn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{bus}"
    refused(ev(d, "create-event-bus", "--name", bus), "ResourceAlreadyExistsException")
    pattern = {"source": ["home.sensors"], "detail": {"room": [{"prefix": "kit"}],
                                                       "level": [{"numeric": [">", 5]}]}}
    rule = unique("motion")
    out = ok(ev(d, "put-rule", "--name", rule, "--event-bus-name", bus,
                "--event-pattern", json.dumps(pattern)))
    assert out["RuleArn"] == f"{RULE_ARN}{bus}/{rule}"
    ok(ev(d, "put-targets", "--rule", rule, "--event-bus-name", bus, "--targets",
          json.dumps([{"Id": "whole", "Arn": arn},
                      {"Id": "detail", "Arn": arn, "InputPath": "$.detail"},
                      {"Id": "const", "Arn": arn, "Input": '{"fixed": true}'},
                      {"Id": "tr", "Arn": arn, "InputTransformer": {
                          "InputPathsMap": {"room": "$.detail.room", "src": "$.source"},
                          "InputTemplate": '{"where": <room>, "from": <src>, "rule": "<aws.events.rule-name>"}'}}])))
    entries = [
        {"Source": "home.sensors", "DetailType": "motion", "EventBusName": bus,
         "Detail": json.dumps({"room": "kitchen", "level": 7})},
        {"Source": "home.sensors", "DetailType": "motion", "EventBusName": bus,
         "Detail": json.dumps({"room": "hall", "level": 9})},
        {"Source": "home.sensors", "DetailType": "motion", "EventBusName": bus,
         "Detail": json.dumps({"room": "kitchen", "level": 2})},
        # Same event on the default bus: the rule lives on `bus` only.
        {"Source": "home.sensors", "DetailType": "motion",
         "Detail": json.dumps({"room": "kitchen", "level": 8})},
    ]
    out = ok(ev(d, "put-events", "--entries", json.dumps(entries)))
    assert out["FailedEntryCount"] == 0 and len(out["Entries"]) == 4
    assert all("EventId" in e for e in out["Entries"])
    got = wait_fired(d, fn, 4)
    stays(d, fn, 4, wait=1.5)
    whole = next(e for e in got if "detail-type" in e)
    assert whole["source"] == "home.sensors" and whole["detail"] == {"room": "kitchen", "level": 7}
    assert whole["detail-type"] == "motion" and whole["account"] == ACCOUNT
    assert whole["id"] == out["Entries"][0]["EventId"]
    assert {"room": "kitchen", "level": 7} in got
    assert {"fixed": True} in got
    assert {"where": "kitchen", "from": "home.sensors", "rule": rule} in got

    refused(ev(d, "delete-rule", "--name", rule, "--event-bus-name", bus), "ValidationException",
            "Rule can't be deleted since it has targets.")
    refused(ev(d, "delete-event-bus", "--name", "default"), "ValidationException")
    ok(ev(d, "delete-rule", "--name", rule, "--event-bus-name", bus, "--force"))
    assert ok(ev(d, "list-rules", "--event-bus-name", bus))["Rules"] == []
    ok(ev(d, "delete-event-bus", "--name", bus))
    names = [b["Name"] for b in ok(ev(d, "list-event-buses"))["EventBuses"]]
    assert "default" in names and bus not in names


def test_test_event_pattern_and_pattern_errors(d):
    event = {"id": "1", "source": "a.b", "detail-type": "x", "account": ACCOUNT, "region": REGION,
             "time": "2020-01-01T00:00:00Z", "resources": [], "detail": {"n": 3, "tags": ["x", "y"]}}
    cases = [
        ({"source": ["a.b"]}, True),
        ({"source": [{"prefix": "a."}]}, True),
        ({"source": [{"anything-but": ["a.b"]}]}, False),
        ({"detail": {"n": [{"numeric": [">=", 3, "<", 4]}]}}, True),
        ({"detail": {"tags": ["y"]}}, True),
        ({"detail": {"missing": [{"exists": False}]}}, True),
        ({"$or": [{"source": ["zzz"]}, {"detail": {"n": [3]}}]}, True),
    ]
    for pattern, want in cases:
        out = ok(ev(d, "test-event-pattern", "--event-pattern", json.dumps(pattern),
                    "--event", json.dumps(event)))
        assert out["Result"] is want, (pattern, out)
    refused(ev(d, "put-rule", "--name", unique("bad"), "--event-pattern", '{"source": "a"}'),
            "InvalidEventPatternException", "Event pattern is not valid. Reason: ")
    refused(ev(d, "put-rule", "--name", unique("bad"), "--event-pattern", "{not json"),
            "InvalidEventPatternException", "Event pattern is not valid. Reason: ")
    refused(ev(d, "test-event-pattern", "--event-pattern", '{"source": ["a"]}', "--event", "{}"),
            "ValidationException")


@pytest.mark.parametrize("expr,text", [
    ("rate(1 minutes)", "minute"),
    ("rate(5 minute)", "minutes"),
    ("rate(0 minutes)", "rate"),
    ("rate(5 fortnights)", "unit"),
    ("cron(0 10 * * * *)", "?"),
    ("cron(0 10 * * ?)", "six"),
    ("cron(61 10 * * ? *)", "minute"),
    ("cron(0 9 ? * 2#1,3#1 *)", "#"),
    ("every 5 minutes", "rate"),
])
def test_invalid_schedule_expressions_say_what_is_wrong(d, expr, text):
    name = unique("bad")
    err = refused(ev(d, "put-rule", "--name", name, "--schedule-expression", expr),
                  "ValidationException")
    assert "Parameter ScheduleExpression is not valid" in err and text in err, err
    refused(ev(d, "describe-rule", "--name", name), "ResourceNotFoundException",
            f"Rule {name} does not exist")


def test_rule_errors_change_nothing(d):
    name = unique("r")
    refused(ev(d, "put-rule", "--name", name), "ValidationException")
    refused(ev(d, "put-rule", "--name", "bad name!", "--schedule-expression", "rate(1 day)"),
            "ValidationException")
    refused(ev(d, "put-targets", "--rule", name, "--targets", "Id=1,Arn=arn:aws:lambda:us-east-1:000000000000:function:x"),
            "ResourceNotFoundException")
    refused(ev(d, "enable-rule", "--name", name), "ResourceNotFoundException")
    bus = unique("b")
    ok(ev(d, "create-event-bus", "--name", bus))
    refused(ev(d, "put-rule", "--name", name, "--event-bus-name", bus, "--schedule-expression",
               "rate(1 day)"), "ValidationException")
    refused(ev(d, "put-rule", "--name", name, "--event-bus-name", unique("nobus"),
               "--event-pattern", '{"source":["a"]}'), "ResourceNotFoundException")
    ok(ev(d, "delete-event-bus", "--name", bus))
    names = [r["Name"] for r in ok(ev(d, "list-rules"))["Rules"]]
    assert name not in names


def test_list_rules_pages_and_filters_by_prefix(d):
    prefix = unique("page")
    for i in range(5):
        ok(ev(d, "put-rule", "--name", f"{prefix}-{i}", "--schedule-expression", "rate(1 day)",
              "--description", f"rule {i}"))
    # The CLI follows NextToken itself: --page-size makes it call ListRules with Limit=2.
    out = ok(ev(d, "list-rules", "--name-prefix", prefix, "--page-size", "2"))
    assert [r["Name"] for r in out["Rules"]] == [f"{prefix}-{i}" for i in range(5)]
    assert out["Rules"][3]["Description"] == "rule 3"
    out = ok(ev(d, "list-rules", "--name-prefix", prefix, "--max-items", "2"))
    assert len(out["Rules"]) == 2 and out["NextToken"]
    for i in range(5):
        ok(ev(d, "delete-rule", "--name", f"{prefix}-{i}"))
    assert ok(ev(d, "list-rules", "--name-prefix", prefix))["Rules"] == []


def test_a_resource_policy_on_the_function_is_honoured(d):
    fn = unique("pol")
    arn = create_recorder(d, fn)
    rule = unique("pol")
    refused(d.aws("get-policy", "--function-name", fn), "ResourceNotFoundException")
    ok(d.aws("add-permission", "--function-name", fn, "--statement-id", "other",
             "--action", "lambda:InvokeFunction", "--principal", "events.amazonaws.com",
             "--source-arn", RULE_ARN + "someone-else"))
    refused(d.aws("add-permission", "--function-name", fn, "--statement-id", "other",
                  "--action", "lambda:InvokeFunction", "--principal", "events.amazonaws.com"),
            "ResourceConflictException")
    policy = json.loads(ok(d.aws("get-policy", "--function-name", fn))["Policy"])
    [st] = policy["Statement"]
    assert st["Sid"] == "other" and st["Principal"] == {"Service": "events.amazonaws.com"}
    assert st["Condition"]["ArnLike"]["AWS:SourceArn"] == RULE_ARN + "someone-else"

    set_clock(d, now=time.time())
    ok(ev(d, "put-rule", "--name", rule, "--schedule-expression", "rate(1 minute)"))
    ok(ev(d, "put-targets", "--rule", rule, "--targets", f"Id=1,Arn={arn}"))
    set_clock(d, advance=61)
    stays(d, fn, 0, wait=2.5)  # refused: the only statement names another rule

    ok(d.aws("add-permission", "--function-name", fn, "--statement-id", "mine",
             "--action", "lambda:InvokeFunction", "--principal", "events.amazonaws.com",
             "--source-arn", RULE_ARN + rule))
    set_clock(d, advance=60)
    wait_fired(d, fn, 1)
    ok(d.aws("remove-permission", "--function-name", fn, "--statement-id", "mine"))
    refused(d.aws("remove-permission", "--function-name", fn, "--statement-id", "mine"),
            "ResourceNotFoundException")
    set_clock(d, advance=60)
    stays(d, fn, 1, wait=2.5)
    ok(ev(d, "delete-rule", "--name", rule, "--force"))


def test_a_deleted_functions_target_reports_failures(d):
    fn = unique("gone")
    arn = create_recorder(d, fn)
    rule = unique("gone")
    set_clock(d, now=time.time())
    ok(ev(d, "put-rule", "--name", rule, "--schedule-expression", "rate(1 minute)"))
    ok(ev(d, "put-targets", "--rule", rule, "--targets", f"Id=t,Arn={arn}"))
    # Still listed as the rule's target after the function is gone, as on AWS.
    ok(d.aws("delete-function", "--function-name", fn))
    set_clock(d, advance=61)
    dash = Dashboard(d.endpoint)
    dash.login("admin", first_admin_password(d.data_dir))
    deadline = time.monotonic() + 20
    while True:
        page = dash.get("/ui/schedules").text
        row = page[page.find(f'data-rule="{rule}"'):]
        row = row[:row.find("</tr>")]
        if "1 failed" in row or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert "0 delivered, 1 failed" in row, row
    assert "Last failure" in row and fn in row, row
    assert "event delivery failed" in d.log() and rule in d.log()
    targets = ok(ev(d, "list-targets-by-rule", "--rule", rule))["Targets"]
    assert [t["Arn"] for t in targets] == [arn]
    ok(ev(d, "delete-rule", "--name", rule, "--force"))
