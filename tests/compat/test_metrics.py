"""Function metrics: CloudWatch `AWS/Lambda` through Debian's AWS CLI v2 (query protocol:
get-metric-statistics, get-metric-data, list-metrics) and `GET /metrics` parsed with
prometheus_client's text parser. The figures must equal what the test did: N invocations,
E errors, and Duration p99/max equal to the REPORT lines' durations (within the histogram's
1% error and the REPORT line's rounding)."""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config
from prometheus_client.parser import text_string_to_metric_families

from conftest import Daemon, unique
from invoke_support import create_function

APP = r'''
import time
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    if event.get("fail"):
        raise ValueError("asked to fail")
    return "ok"
'''

N_OK = 7
N_ERR = 3
TOKEN = "s3cret-metrics-token-0123"
REPORT_RE = re.compile(r"REPORT RequestId: \S+\s+Duration: ([0-9.]+) ms")


def window():
    now = datetime.now(timezone.utc)
    start = (now - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (now + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return start, end


@pytest.fixture(scope="module")
def done(daemon):
    """Invokes one function N_OK + N_ERR times; returns (name, REPORT durations in ms)."""
    c = daemon.client()
    name = create_function(c, {"app.py": APP}, name=unique("metrics"))
    durations = []
    for i in range(N_OK + N_ERR):
        event = {"fail": i >= N_OK, "sleep": 0.02 * (i % 4)}
        r = c.invoke(FunctionName=name, Payload=json.dumps(event), LogType="Tail")
        assert ("FunctionError" in r) == (i >= N_OK)
        tail = base64.b64decode(r["LogResult"]).decode()
        durations.append(float(REPORT_RE.search(tail).group(1)))
    # Records reach logs.db in the log writer's batches: wait until all of them are there.
    key_id, secret = daemon.admin_keys()
    cw = boto3.client("cloudwatch", endpoint_url=daemon.endpoint, region_name="us-east-1",
                      aws_access_key_id=key_id, aws_secret_access_key=secret,
                      config=Config(retries={"total_max_attempts": 1}))

    def stored() -> float:
        now = datetime.now(timezone.utc)
        r = cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Duration",
                                     Dimensions=[{"Name": "FunctionName", "Value": name}],
                                     StartTime=now - timedelta(minutes=10), EndTime=now + timedelta(minutes=2),
                                     Period=3600, Statistics=["SampleCount"])
        return sum(d["SampleCount"] for d in r["Datapoints"])

    deadline = time.monotonic() + 30
    while stored() < N_OK + N_ERR and time.monotonic() < deadline:
        time.sleep(0.2)
    return name, durations


def stats(daemon, name, metric, *extra):
    start, end = window()
    rc, out, err = daemon.aws(
        "get-metric-statistics", "--namespace", "AWS/Lambda", "--metric-name", metric,
        "--dimensions", f"Name=FunctionName,Value={name}", "--start-time", start,
        "--end-time", end, "--period", "3600", *extra, service="cloudwatch")
    assert rc == 0, err
    return out


def test_invocations_and_errors_equal_what_was_done(daemon, done):
    name, _ = done
    out = stats(daemon, name, "Invocations", "--statistics", "Sum", "SampleCount")
    assert out["Label"] == "Invocations"
    assert len(out["Datapoints"]) == 1
    assert out["Datapoints"][0]["Sum"] == N_OK + N_ERR
    assert out["Datapoints"][0]["Unit"] == "Count"
    out = stats(daemon, name, "Errors", "--statistics", "Sum", "Average")
    assert out["Datapoints"][0]["Sum"] == N_ERR
    assert out["Datapoints"][0]["Average"] == pytest.approx(N_ERR / (N_OK + N_ERR))


def test_duration_percentiles_match_the_report_lines(daemon, done):
    name, durations = done
    out = stats(daemon, name, "Duration", "--statistics", "Maximum", "Minimum", "SampleCount",
                "--extended-statistics", "p50", "p99")
    dp = out["Datapoints"][0]
    assert dp["Unit"] == "Milliseconds"
    assert dp["SampleCount"] == N_OK + N_ERR
    # REPORT prints two decimals; the stored value is in microseconds.
    assert dp["Maximum"] == pytest.approx(max(durations), abs=0.01)
    assert dp["Minimum"] == pytest.approx(min(durations), abs=0.01)
    s = sorted(durations)
    assert dp["ExtendedStatistics"]["p99"] == pytest.approx(s[-1], rel=0.011, abs=0.01)
    # Nearest rank: the 5th of 10.
    assert dp["ExtendedStatistics"]["p50"] == pytest.approx(s[4], rel=0.011, abs=0.01)
    cold = stats(daemon, name, "ColdStarts", "--statistics", "Sum")
    assert cold["Datapoints"][0]["Sum"] >= 1
    init = stats(daemon, name, "InitDuration", "--statistics", "SampleCount")
    assert init["Datapoints"][0]["SampleCount"] == cold["Datapoints"][0]["Sum"]


def test_get_metric_data(daemon, done):
    name, _ = done
    start, end = window()
    dims = [{"Name": "FunctionName", "Value": name}]
    queries = [
        {"Id": "inv", "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Invocations",
                                                "Dimensions": dims}, "Period": 3600, "Stat": "Sum"}},
        {"Id": "err", "Label": "errs", "MetricStat": {"Metric": {"Namespace": "AWS/Lambda",
                                                                  "MetricName": "Errors", "Dimensions": dims},
                                                       "Period": 60, "Stat": "Sum"}},
    ]
    rc, out, err = daemon.aws("get-metric-data", "--metric-data-queries", json.dumps(queries),
                              "--start-time", start, "--end-time", end, service="cloudwatch")
    assert rc == 0, err
    res = {r["Id"]: r for r in out["MetricDataResults"]}
    assert res["inv"]["Values"] == [N_OK + N_ERR]
    assert res["inv"]["StatusCode"] == "Complete"
    assert res["err"]["Label"] == "errs"
    assert sum(res["err"]["Values"]) == N_ERR
    assert len(res["err"]["Timestamps"]) == len(res["err"]["Values"])
    # Metric math is refused, clearly.
    bad = [{"Id": "m", "Expression": "inv * 2"}]
    rc, _, err = daemon.aws("get-metric-data", "--metric-data-queries", json.dumps(bad),
                            "--start-time", start, "--end-time", end, service="cloudwatch")
    assert rc != 0 and "InvalidParameterValue" in err and "metric math" in err


def test_list_metrics(daemon, done):
    name, _ = done
    rc, out, err = daemon.aws("list-metrics", "--namespace", "AWS/Lambda", "--dimensions",
                              f"Name=FunctionName,Value={name}", service="cloudwatch")
    assert rc == 0, err
    names = {m["MetricName"] for m in out["Metrics"]}
    assert {"Invocations", "Errors", "Duration", "ColdStarts", "InitDuration"} <= names
    for m in out["Metrics"]:
        assert m["Namespace"] == "AWS/Lambda"
        assert {"Name": "FunctionName", "Value": name} in m["Dimensions"]
    rc, out, err = daemon.aws("list-metrics", "--namespace", "AWS/Lambda", "--metric-name",
                              "Duration", service="cloudwatch")
    assert rc == 0, err
    assert {m["MetricName"] for m in out["Metrics"]} == {"Duration"}


@pytest.mark.parametrize("args,code", [
    (("--period", "90", "--statistics", "Sum"), "InvalidParameterValue"),
    (("--period", "60"), "InvalidParameterCombination"),
    (("--period", "60", "--statistics", "Median"), "InvalidParameterValue"),
    (("--period", "60", "--extended-statistics", "p101"), "InvalidParameterValue"),
    (("--period", "60", "--statistics", "Sum", "--end-time", "2000-01-01T00:00:00Z"),
     "InvalidParameterValue"),
])
def test_bad_requests_get_query_errors(daemon, args, code):
    start, end = window()
    base = ["get-metric-statistics", "--namespace", "AWS/Lambda", "--metric-name", "Invocations",
            "--start-time", start]
    if "--end-time" not in args:
        base += ["--end-time", end]
    rc, _, err = daemon.aws(*base, *args, service="cloudwatch")
    assert rc != 0
    assert code in err, err


def test_unsigned_call_is_refused(daemon):
    body = b"Action=ListMetrics&Version=2010-08-01"
    req = urllib.request.Request(daemon.endpoint + "/", data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code in (400, 403)
    assert b"<ErrorResponse" in e.value.read()


def scrape(endpoint, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(endpoint + "/metrics", headers=headers),
                                timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return {f.name: f for f in text_string_to_metric_families(r.read().decode())}


def test_prometheus_metrics_parse_and_match(daemon, done):
    name, durations = done
    fams = scrape(daemon.endpoint)
    inv = [s for s in fams["lambdabox_invocations"].samples if s.labels.get("function") == name]
    assert fams["lambdabox_invocations"].type == "counter"
    assert sum(s.value for s in inv if s.name == "lambdabox_invocations_total") == N_OK + N_ERR
    err = [s for s in fams["lambdabox_errors"].samples if s.labels.get("function") == name]
    assert sum(s.value for s in err if s.name == "lambdabox_errors_total") == N_ERR
    h = fams["lambdabox_duration_seconds"]
    assert h.type == "histogram"
    mine = [s for s in h.samples if s.labels.get("function") == name]
    count = [s.value for s in mine if s.name == "lambdabox_duration_seconds_count"]
    assert count == [N_OK + N_ERR]
    total = [s.value for s in mine if s.name == "lambdabox_duration_seconds_sum"][0]
    assert total == pytest.approx(sum(durations) / 1000, abs=0.001)
    inf = [s.value for s in mine if s.name == "lambdabox_duration_seconds_bucket"
           and s.labels["le"] == "+Inf"]
    assert inf == [N_OK + N_ERR]
    assert "lambdabox_log_lines_dropped" in fams
    assert "lambdabox_log_queue_depth" in fams


def test_metrics_token_is_required_when_configured(tmp_path):
    d = Daemon(tmp_path, env={"LAMBDABOX_METRICS__TOKEN": TOKEN}).start()
    try:
        for headers in ({}, {"Authorization": "Bearer wrong-token-0000000000"}):
            with pytest.raises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(urllib.request.Request(d.endpoint + "/metrics",
                                                              headers=headers), timeout=10)
            assert e.value.code == 401
        assert "lambdabox_log_queue_depth" in scrape(d.endpoint, TOKEN)
    finally:
        d.stop()
