"""CloudWatch for current boto3 and the SDKs after it. The model botocore ships lists
`protocols: [smithy-rpc-v2-cbor, json, query]` for `monitoring`; the pinned botocore picks by
its own priority (json before smithy-rpc-v2-cbor), so boto3 sends AWS JSON 1.0
(`X-Amz-Target: GraniteServiceVersion20100801.<Op>`), and SDKs that prefer CBOR send
`POST /service/GraniteServiceVersion20100801/operation/<Op>` with CBOR bodies; that one is
driven through boto3 with the model's protocol list narrowed to it. Both must answer what
Debian's CLI 2.9 (query protocol) gets for the same window. Also: ListMetrics paging in all
three, and the asynchronous queue's metrics (AsyncEventsReceived, AsyncEventsDropped,
AsyncEventAge) in get-metric-statistics, `/metrics` and the dashboard's Monitoring tab."""

from __future__ import annotations

import gzip
import json
import sqlite3
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import botocore
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from prometheus_client.parser import text_string_to_metric_families

from conftest import REGION, unique
from dashboard_client import Dashboard, first_admin_password
from invoke_support import create_function

APP = r'''
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return "ok"
'''
N_OK = 5
N_ERR = 2


def cloudwatch(daemon, session=None):
    key, secret = daemon.admin_keys()
    s = session or boto3.session.Session()
    return s.client("cloudwatch", endpoint_url=daemon.endpoint, region_name=REGION,
                    aws_access_key_id=key, aws_secret_access_key=secret,
                    config=Config(retries={"total_max_attempts": 1}))


def narrowed(daemon, tmp_path: Path, protocol: str):
    """A cloudwatch client whose model speaks only `protocol` (a copy of botocore's model)."""
    data = Path(botocore.__file__).parent / "data" / "cloudwatch"
    version = sorted(p.name for p in data.iterdir() if p.is_dir())[-1]
    model = json.loads(gzip.open(data / version / "service-2.json.gz").read())
    model["metadata"]["protocol"] = protocol
    model["metadata"]["protocols"] = [protocol]
    out = tmp_path / "models" / "cloudwatch" / version
    out.mkdir(parents=True, exist_ok=True)
    (out / "service-2.json").write_text(json.dumps(model))
    bs = botocore.session.get_session()
    bs.get_component("data_loader").search_paths.insert(0, str(tmp_path / "models"))
    c = cloudwatch(daemon, boto3.session.Session(botocore_session=bs))
    assert c.meta.service_model.resolved_protocol == protocol
    return c


def client_for(daemon, tmp_path: Path, protocol: str):
    """boto3 as shipped for "json" (what it picks), narrowed to CBOR for "smithy-rpc-v2-cbor"."""
    if protocol == "json":
        c = cloudwatch(daemon)
        assert c.meta.service_model.resolved_protocol == "json"
        return c
    return narrowed(daemon, tmp_path, protocol)


PROTOCOLS = ["json", "smithy-rpc-v2-cbor"]


def window():
    now = datetime.now(timezone.utc).replace(microsecond=0)
    return now - timedelta(minutes=10), now + timedelta(minutes=2)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def done(daemon):
    c = daemon.client()
    name = create_function(c, {"app.py": APP}, name=unique("cbor"))
    for i in range(N_OK + N_ERR):
        r = c.invoke(FunctionName=name, Payload=json.dumps({"fail": i >= N_OK}))
        assert ("FunctionError" in r) == (i >= N_OK)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rc, out, err = daemon.aws(
            "get-metric-statistics", "--namespace", "AWS/Lambda", "--metric-name", "Invocations",
            "--dimensions", f"Name=FunctionName,Value={name}", "--start-time", iso(window()[0]),
            "--end-time", iso(window()[1]), "--period", "3600", "--statistics", "Sum",
            service="cloudwatch")
        assert rc == 0, err
        if out["Datapoints"] and out["Datapoints"][0]["Sum"] == N_OK + N_ERR:
            break
        time.sleep(0.2)
    return name


def test_cbor_requests_go_to_the_service_path(daemon, done, tmp_path):
    c = narrowed(daemon, tmp_path, "smithy-rpc-v2-cbor")
    seen = []

    def record(request, **_):
        seen.append(request)  # returning None lets the request go out

    c.meta.events.register("before-send.cloudwatch.*", record)
    start, end = window()
    c.list_metrics(Namespace="AWS/Lambda", MetricName="Invocations")
    c.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Invocations", StartTime=start,
                            EndTime=end, Period=3600, Statistics=["Sum"])
    paths = [r.url.split("://", 1)[1].split("/", 1)[1] for r in seen]
    assert paths == ["service/GraniteServiceVersion20100801/operation/ListMetrics",
                     "service/GraniteServiceVersion20100801/operation/GetMetricStatistics"]
    for r in seen:
        assert r.headers["smithy-protocol"] in (b"rpc-v2-cbor", "rpc-v2-cbor")
        assert r.body[:1] and r.body[0] >> 5 == 5  # a CBOR map


def cli_stats(daemon, name, metric, start, end, period, *stats):
    rc, out, err = daemon.aws(
        "get-metric-statistics", "--namespace", "AWS/Lambda", "--metric-name", metric,
        "--dimensions", f"Name=FunctionName,Value={name}", "--start-time", iso(start),
        "--end-time", iso(end), "--period", str(period), *stats, service="cloudwatch")
    assert rc == 0, err
    return out


def as_cli(points):
    """boto3 datapoints in the CLI's JSON shape (ISO timestamps)."""
    out = []
    for p in points:
        q = dict(p)
        q["Timestamp"] = q["Timestamp"].astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        out.append(q)
    return sorted(out, key=lambda p: p["Timestamp"])


def cli_points(points):
    out = []
    for p in points:
        q = dict(p)
        q["Timestamp"] = datetime.fromisoformat(q["Timestamp"].replace("Z", "+00:00")).strftime(
            "%Y-%m-%dT%H:%M:%S+00:00")
        out.append(q)
    return sorted(out, key=lambda p: p["Timestamp"])


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_get_metric_statistics_equals_the_cli(daemon, done, tmp_path, protocol):
    name = done
    c = client_for(daemon, tmp_path, protocol)
    start, end = window()
    dims = [{"Name": "FunctionName", "Value": name}]
    for metric, stats, ext in [
        ("Invocations", ["Sum", "SampleCount"], []),
        ("Errors", ["Sum", "Average"], []),
        ("Duration", ["Maximum", "Minimum", "SampleCount"], ["p50", "p99"]),
    ]:
        kw = {"Statistics": stats} if stats else {}
        if ext:
            kw["ExtendedStatistics"] = ext
        for period in (60, 3600):
            b = c.get_metric_statistics(Namespace="AWS/Lambda", MetricName=metric, Dimensions=dims,
                                        StartTime=start, EndTime=end, Period=period, **kw)
            args = ["--statistics", *stats] + (["--extended-statistics", *ext] if ext else [])
            cli = cli_stats(daemon, name, metric, start, end, period, *args)
            assert b["Label"] == cli["Label"] == metric
            assert as_cli(b["Datapoints"]) == cli_points(cli["Datapoints"]), (metric, period)
    inv = c.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Invocations",
                                  Dimensions=dims, StartTime=start, EndTime=end, Period=3600,
                                  Statistics=["Sum"])
    assert inv["Datapoints"][0]["Sum"] == N_OK + N_ERR
    assert inv["Datapoints"][0]["Unit"] == "Count"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_get_metric_data_equals_the_cli(daemon, done, tmp_path, protocol):
    name = done
    c = client_for(daemon, tmp_path, protocol)
    start, end = window()
    dims = [{"Name": "FunctionName", "Value": name}]
    queries = [
        {"Id": "inv", "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Invocations",
                                                "Dimensions": dims}, "Period": 60, "Stat": "Sum"}},
        {"Id": "err", "Label": "errs", "ReturnData": True,
         "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors",
                                   "Dimensions": dims}, "Period": 3600, "Stat": "Sum"}},
        {"Id": "hidden", "ReturnData": False,
         "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors",
                                   "Dimensions": dims}, "Period": 3600, "Stat": "Sum"}},
    ]
    b = c.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end,
                          ScanBy="TimestampAscending")
    rc, cli, err = daemon.aws("get-metric-data", "--metric-data-queries", json.dumps(queries),
                              "--start-time", iso(start), "--end-time", iso(end),
                              "--scan-by", "TimestampAscending", service="cloudwatch")
    assert rc == 0, err
    got = {r["Id"]: r for r in b["MetricDataResults"]}
    want = {r["Id"]: r for r in cli["MetricDataResults"]}
    assert set(got) == set(want) == {"inv", "err"}
    for i in got:
        assert got[i]["Label"] == want[i]["Label"]
        assert got[i]["Values"] == want[i]["Values"]
        assert [t.astimezone(timezone.utc) for t in got[i]["Timestamps"]] == [
            datetime.fromisoformat(t.replace("Z", "+00:00")) for t in want[i]["Timestamps"]]
    assert sum(got["inv"]["Values"]) == N_OK + N_ERR
    assert got["err"]["Label"] == "errs" and got["err"]["Values"] == [N_ERR]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_errors_carry_the_query_codes(daemon, tmp_path, protocol):
    c = client_for(daemon, tmp_path, protocol)
    start, end = window()
    with pytest.raises(c.exceptions.InvalidParameterValueException) as e:
        c.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Invocations", StartTime=start,
                                EndTime=end, Period=90, Statistics=["Sum"])
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "multiple of 60" in e.value.response["Error"]["Message"]
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(c.exceptions.InvalidParameterCombinationException):
        c.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Invocations", StartTime=start,
                                EndTime=end, Period=60)
    with pytest.raises(ClientError) as e:
        c.get_metric_data(MetricDataQueries=[{"Id": "m", "Expression": "a * 2"}],
                          StartTime=start, EndTime=end)
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "metric math" in e.value.response["Error"]["Message"]


def signed_raw(daemon, path: str, body: bytes, headers: dict):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    key, secret = daemon.admin_keys()
    req = AWSRequest(method="POST", url=daemon.endpoint + path, data=body, headers=headers)
    SigV4Auth(Credentials(key, secret), "monitoring", REGION).add_auth(req)
    r = urllib.request.Request(daemon.endpoint + path, data=body, method="POST",
                               headers=dict(req.headers.items()))
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def _decode_cbor(data: bytes):
    """Decodes a CBOR item with botocore's own parser."""
    from botocore.parsers import RpcV2CBORParser

    p = RpcV2CBORParser()
    return p.parse_data_item(p.get_peekable_stream_from_bytes(data))


def test_bad_cbor_bodies_and_paths_are_refused_in_cbor(daemon):
    base = "/service/GraniteServiceVersion20100801/operation/"
    h = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor",
         "Accept": "application/cbor"}
    for path, body, status, code in [
        (base + "ListMetrics", b"\xa1\x61", 400, "SerializationException"),
        (base + "ListMetrics", b"\x82\x01\x02", 400, "SerializationException"),
        (base + "PutMetricAlarm", b"\xa0", 400, "UnknownOperationException"),
        ("/service/Nope/operation/ListMetrics", b"\xa0", 400, "UnknownOperationException"),
    ]:
        s, headers, data = signed_raw(daemon, path, body, h)
        assert s == status, (path, data)
        assert headers["smithy-protocol"] == "rpc-v2-cbor"
        assert headers["Content-Type"] == "application/cbor"
        err = _decode_cbor(data)
        assert err["__type"] == code, err
        assert err["message"]
    # An empty body is an empty input: ListMetrics answers.
    s, _, data = signed_raw(daemon, base + "ListMetrics", b"", h)
    assert s == 200 and "Metrics" in _decode_cbor(data)


# -- ListMetrics paging -------------------------------------------------------------------------

SEEDED = 110  # functions × 5 metrics = 550 series: more than one 500-series page


@pytest.fixture(scope="module")
def seeded(daemon, done):
    """Per-minute metric rows for SEEDED made-up functions, written into logs.db as the log
    writer would (the daemon reads them like any other)."""
    minute = int(time.time() * 1000) // 60_000 * 60_000
    db = sqlite3.connect(daemon.data_dir / "logs.db", timeout=30)
    with db:
        db.executemany(
            "INSERT INTO function_metrics (function_name, resource, executed_version, minute_ms,"
            " invocations, errors, cold_starts, duration_sum_us, duration_min_us, duration_max_us,"
            " duration_hist, init_sum_us, init_min_us, init_max_us, init_hist)"
            " VALUES (?, '', '', ?, 1, 0, 0, 1000, 1000, 1000, '', 0, 0, 0, '')",
            [(f"seeded-{i:03d}", minute) for i in range(SEEDED)])
    db.close()
    return SEEDED


def key(m):
    return (m["MetricName"], tuple((d["Name"], d["Value"]) for d in m["Dimensions"]))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_list_metrics_pages_and_the_cli_follows_them(daemon, seeded, tmp_path, protocol):
    c = client_for(daemon, tmp_path, protocol)
    pages, token = [], None
    while True:
        kw = {"NextToken": token} if token else {}
        r = c.list_metrics(Namespace="AWS/Lambda", **kw)
        pages.append(r["Metrics"])
        token = r.get("NextToken")
        if not token:
            break
    assert len(pages) >= 2
    assert len(pages[0]) == 500
    got = [key(m) for p in pages for m in p]
    assert len(got) == len(set(got)), "a series came twice"
    assert sum(1 for k in got if k[1] and k[1][0][1].startswith("seeded-")) == seeded * 5
    # The CLI (query protocol) follows the NextTokens itself: the same series.
    rc, out, err = daemon.aws("list-metrics", "--namespace", "AWS/Lambda", service="cloudwatch")
    assert rc == 0, err
    assert sorted(key(m) for m in out["Metrics"]) == sorted(got)
    # One page at a time through the CLI too.
    rc, out, err = daemon.aws("list-metrics", "--namespace", "AWS/Lambda", "--no-paginate",
                              service="cloudwatch")
    assert rc == 0, err
    assert len(out["Metrics"]) == 500 and out["NextToken"]


def test_bad_next_tokens_are_refused(daemon, seeded, tmp_path):
    for protocol in PROTOCOLS:
        c = client_for(daemon, tmp_path / protocol, protocol)
        with pytest.raises(ClientError) as e:
            c.list_metrics(NextToken="not-a-token")
        assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    rc, _, err = daemon.aws("list-metrics", "--starting-token", "not-a-token",
                            service="cloudwatch")
    assert rc != 0 and "InvalidParameterValue" in err, err


# -- asynchronous queue metrics -----------------------------------------------------------------

def scrape(endpoint):
    with urllib.request.urlopen(endpoint + "/metrics", timeout=10) as r:
        return {f.name: f for f in text_string_to_metric_families(r.read().decode())}


def test_async_metrics_everywhere(daemon):
    lam = daemon.client()
    name = create_function(lam, {"app.py": APP}, name=unique("async-m"))
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    for fail in (False, False, True):
        r = lam.invoke(FunctionName=name, InvocationType="Event",
                       Payload=json.dumps({"fail": fail}))
        assert r["StatusCode"] == 202
    c = cloudwatch(daemon)
    dims = [{"Name": "FunctionName", "Value": name}]

    def stat(metric, *stats):
        start, end = window()
        r = c.get_metric_statistics(Namespace="AWS/Lambda", MetricName=metric, Dimensions=dims,
                                    StartTime=start, EndTime=end, Period=3600,
                                    Statistics=list(stats))
        return r["Datapoints"][0] if r["Datapoints"] else {}

    # The engine flushes these every 10 s; wait until all three attempts and the drop of the
    # failing event are there.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and (
            stat("AsyncEventsDropped", "Sum").get("Sum") != 1
            or stat("AsyncEventAge", "SampleCount").get("SampleCount") != 3):
        time.sleep(0.5)
    assert stat("AsyncEventsDropped", "Sum")["Sum"] == 1
    assert stat("AsyncEventsReceived", "Sum")["Sum"] == 3
    age = stat("AsyncEventAge", "SampleCount", "Minimum", "Maximum", "Average")
    assert age["SampleCount"] == 3 and age["Unit"] == "Milliseconds"
    assert 0 <= age["Minimum"] <= age["Average"] <= age["Maximum"] < 60_000
    # The CLI (query) answers the same.
    start, end = window()
    cli = cli_stats(daemon, name, "AsyncEventsReceived", start, end, 3600, "--statistics", "Sum")
    assert cli["Datapoints"][0]["Sum"] == 3
    listed = {m["MetricName"] for m in c.list_metrics(Namespace="AWS/Lambda", Dimensions=dims)["Metrics"]}
    assert {"AsyncEventsReceived", "AsyncEventsDropped", "AsyncEventAge"} <= listed
    # /metrics, by Prometheus names.
    fams = scrape(daemon.endpoint)
    rec = [s.value for s in fams["lambdabox_async_events_received"].samples
           if s.labels.get("function") == name]
    assert rec == [3]
    dropped = {s.labels["reason"]: s.value for s in fams["lambdabox_async_events_dropped"].samples
               if s.labels.get("function") == name}
    assert dropped == {"RetriesExhausted": 1}
    ages = [s.value for s in fams["lambdabox_async_event_age_seconds"].samples
            if s.labels.get("function") == name and s.name.endswith("_count")]
    assert ages == [3]
    # The dashboard's Monitoring tab charts them.
    d = Dashboard(daemon.endpoint)
    d.login_ok("admin", first_admin_password(daemon.data_dir))
    page = d.get(f"/ui/functions/{name}/monitoring?range=1h")
    assert page.status == 200
    for title in ("Async events received", "Async events dropped", "Async event age (average)"):
        assert title in page.text, title
    assert "RetriesExhausted 1" in page.text
