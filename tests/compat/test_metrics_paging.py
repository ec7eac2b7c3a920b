"""GetMetricData paging as CloudWatch documents it: MaxDatapoints bounds the datapoints of one
answer over all its queries, the query it stopped in is `PartialData`, and NextToken resumes
there. Driven by Debian's CLI (query protocol: `--page-size`, `--max-items`/`--starting-token`),
boto3's paginator (AWS JSON 1.0) and a CBOR-only boto3 client; every way of paging must give,
merged by query Id, exactly the one-page answer."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import botocore.exceptions
import pytest

from conftest import unique
from invoke_support import create_function
from test_metrics_cbor import cloudwatch, narrowed

APP = r'''
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return "ok"
'''


@pytest.fixture(scope="module")
def two_minutes(daemon):
    """A function invoked in two different minutes (3 then 2 times, one error in each)."""
    c = daemon.client()
    name = create_function(c, {"app.py": APP}, name=unique("paging"))
    for i in range(3):
        c.invoke(FunctionName=name, Payload=json.dumps({"fail": i == 0}))
    # The second batch in the next minute: the wall clock has to move on.
    now = time.time()
    time.sleep(60 - now % 60 + 1)
    for i in range(2):
        c.invoke(FunctionName=name, Payload=json.dumps({"fail": i == 0}))
    time.sleep(1.0)  # the log writer's 50 ms batches reach logs.db
    start = datetime.now(timezone.utc) - timedelta(minutes=10)
    end = datetime.now(timezone.utc) + timedelta(minutes=2)
    return name, start, end


def queries(name):
    dims = [{"Name": "FunctionName", "Value": name}]

    def q(id_, metric, stat, **kw):
        return {"Id": id_, "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": metric,
                                                     "Dimensions": dims},
                                          "Period": 60, "Stat": stat}, **kw}
    return [q("inv", "Invocations", "Sum"), q("hidden", "Invocations", "Average", ReturnData=False),
            q("err", "Errors", "Sum"), q("n", "Invocations", "SampleCount"),
            q("none", "Throttles", "Sum")]


def merged(results) -> dict:
    out: dict = {}
    for r in results:
        e = out.setdefault(r["Id"], {"Timestamps": [], "Values": []})
        e["Timestamps"] += [str(t) for t in r["Timestamps"]]
        e["Values"] += r["Values"]
    return out


def one_page(cw, name, start, end):
    out = cw.get_metric_data(MetricDataQueries=queries(name), StartTime=start, EndTime=end)
    assert "NextToken" not in out, out
    assert all(r["StatusCode"] == "Complete" for r in out["MetricDataResults"])
    return merged(out["MetricDataResults"])


def test_the_one_page_answer(daemon, two_minutes):
    name, start, end = two_minutes
    full = one_page(cloudwatch(daemon), name, start, end)
    assert sorted(full) == ["err", "inv", "n", "none"]
    assert full["inv"]["Values"] == [2.0, 3.0]  # newest first
    assert full["err"]["Values"] == [1.0, 1.0]
    assert full["none"]["Values"] == []


@pytest.mark.parametrize("protocol", ["json", "smithy-rpc-v2-cbor"])
def test_boto3_paginator_gives_the_same(daemon, two_minutes, tmp_path, protocol):
    name, start, end = two_minutes
    cw = cloudwatch(daemon) if protocol == "json" else narrowed(daemon, tmp_path, protocol)
    full = one_page(cw, name, start, end)
    pages = list(cw.get_paginator("get_metric_data").paginate(
        MetricDataQueries=queries(name), StartTime=start, EndTime=end,
        PaginationConfig={"PageSize": 1}))
    # Six datapoints, one per page, and a last page for the query without any.
    assert len(pages) == 7, [p["MetricDataResults"] for p in pages]
    for p in pages:
        assert sum(len(r["Values"]) for r in p["MetricDataResults"]) <= 1
    statuses = [(r["Id"], r["StatusCode"]) for p in pages for r in p["MetricDataResults"]]
    assert statuses[0] == ("inv", "PartialData") and statuses[1] == ("inv", "Complete"), statuses
    got = merged([r for p in pages for r in p["MetricDataResults"]])
    assert got == full
    # Three datapoints a page: the page that fills inside a query says PartialData.
    pages = list(cw.get_paginator("get_metric_data").paginate(
        MetricDataQueries=queries(name), StartTime=start, EndTime=end,
        ScanBy="TimestampAscending", PaginationConfig={"PageSize": 3}))
    got = merged([r for p in pages for r in p["MetricDataResults"]])
    assert got["inv"]["Values"] == [3.0, 2.0]
    assert {k: v["Values"] for k, v in got.items()} == {
        k: list(reversed(v["Values"])) for k, v in full.items()}


def test_cli_page_size_and_max_items(daemon, two_minutes):
    name, start, end = two_minutes
    full = one_page(cloudwatch(daemon), name, start, end)
    args = ("get-metric-data", "--metric-data-queries", json.dumps(queries(name)),
            "--start-time", start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "--end-time", end.strftime("%Y-%m-%dT%H:%M:%SZ"))
    rc, out, err = daemon.aws(*args, "--page-size", "1", service="cloudwatch")
    assert rc == 0, err
    got = merged(out["MetricDataResults"])
    assert {k: v["Values"] for k, v in got.items()} == {k: v["Values"] for k, v in full.items()}
    # --max-items counts results; the CLI's token resumes inside the server's pages.
    results, token, calls = [], None, 0
    while True:
        extra = ("--max-items", "1", "--page-size", "2") + (("--starting-token", token) if token else ())
        rc, out, err = daemon.aws(*args, *extra, service="cloudwatch")
        assert rc == 0, err
        results += out["MetricDataResults"]
        calls += 1
        token = out.get("NextToken")
        if not token:
            break
        assert calls < 20, results
    got = merged(results)
    assert {k: v["Values"] for k, v in got.items()} == {k: v["Values"] for k, v in full.items()}


def test_bad_paging_input_is_refused(daemon, two_minutes):
    name, start, end = two_minutes
    cw = cloudwatch(daemon)
    for kw in ({"NextToken": "nope"}, {"MaxDatapoints": 0},
               {"NextToken": "gmd1.OTk6"}):  # query 99 of 5
        with pytest.raises(botocore.exceptions.ClientError) as e:
            cw.get_metric_data(MetricDataQueries=queries(name), StartTime=start, EndTime=end, **kw)
        assert e.value.response["Error"]["Code"] in ("InvalidParameterValue",
                                                     "InvalidParameterValueException"), e.value.response
