"""Event source mapping metrics (AWS, 2024): an SQS mapping with `MetricsConfig: {Metrics:
[EventCount]}` publishes PolledEventCount, FilteredOutEventCount, InvokedEventCount,
FailedInvokeEventCount and DeletedEventCount under the EventSourceMappingUUID dimension. Checked
against what the test sent (11 messages: 6 processed, 2 reported in batchItemFailures, 3 that no
filter matches) in get-metric-statistics through Debian's CLI (query), boto3 (AWS JSON 1.0) and a
CBOR-only boto3 client, in list-metrics, in `/metrics` (parsed with prometheus_client) and on the
dashboard's Monitoring tab. A mapping without MetricsConfig is counted in `/metrics` only, as AWS
publishes nothing for it. With `TracingConfig: Active` the poller's receive, batch invoke and
delete are spans of each batch's invocation."""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import botocore.exceptions
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import Daemon, unique
from dashboard_client import Dashboard, first_admin_password
from invoke_support import create_function
from sqs_support import sqs_client
from test_metrics_cbor import cloudwatch, narrowed

APP = r'''
def handler(event, context):
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]}
                                  for r in event["Records"] if '"fail"' in r["body"]]}
'''
FILTER = {"Filters": [{"Pattern": json.dumps({"body": {"kind": ["ok", "fail"]}})}]}
SENT = {"ok": 6, "fail": 2, "skip": 3}
WANT = {  # metric -> expected Sum
    "PolledEventCount": 11,
    "FilteredOutEventCount": 3,
    "InvokedEventCount": 8,
    "FailedInvokeEventCount": 2,
    "DeletedEventCount": 6,
}
PROM = {
    "PolledEventCount": "lambdabox_esm_polled_events",
    "FilteredOutEventCount": "lambdabox_esm_filtered_out_events",
    "InvokedEventCount": "lambdabox_esm_invoked_events",
    "FailedInvokeEventCount": "lambdabox_esm_failed_invoke_events",
    "DeletedEventCount": "lambdabox_esm_deleted_events",
}


def wait_for(what, timeout=60.0, every=0.3):
    deadline = time.monotonic() + timeout
    while True:
        v = what()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(every)


def prom(d) -> dict:
    with urllib.request.urlopen(d.endpoint + "/metrics", timeout=10) as r:
        return {f.name: f for f in text_string_to_metric_families(r.read().decode())}


def prom_counts(d, uuid) -> dict:
    fams = prom(d)
    out = {}
    for metric, fam in PROM.items():
        for s in fams[fam].samples:
            if s.labels.get("event_source_mapping") == uuid:
                out[metric] = s.value
    return out


def window():
    now = datetime.now(timezone.utc)
    return now - timedelta(minutes=10), now + timedelta(minutes=2)


def make_queue(sqs):
    url = sqs.create_queue(QueueName=unique("q"), Attributes={"VisibilityTimeout": "120"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def send(sqs, url, counts: dict):
    entries = [{"Id": f"{kind}{i}", "MessageBody": json.dumps({"kind": kind, "i": i})}
               for kind, n in counts.items() for i in range(n)]
    for i in range(0, len(entries), 10):
        r = sqs.send_message_batch(QueueUrl=url, Entries=entries[i:i + 10])
        assert not r.get("Failed"), r


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A daemon, a traced function, two mappings (one publishing EventCount) and their
    messages processed; returns (daemon, function, uuid with metrics, uuid without)."""
    d = Daemon(tmp_path_factory.mktemp("esm-metrics")).start()
    try:
        lam = d.client()
        sqs = sqs_client(d)
        name = create_function(lam, {"app.py": APP}, name=unique("esm-metrics"),
                               TracingConfig={"Mode": "Active"})
        # Without MetricsConfig first: once the other mapping's figures reach CloudWatch, a
        # flush has passed after this one's work too.
        url_b, arn_b = make_queue(sqs)
        plain = lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn_b,
                                                BatchSize=10)["UUID"]
        send(sqs, url_b, {"ok": 2})
        got = wait_for(lambda: prom_counts(d, plain).get("DeletedEventCount") == 2)
        assert got, prom_counts(d, plain)

        url_a, arn_a = make_queue(sqs)
        m = lam.create_event_source_mapping(
            FunctionName=name, EventSourceArn=arn_a, BatchSize=10,
            MaximumBatchingWindowInSeconds=1, FilterCriteria=FILTER,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            MetricsConfig={"Metrics": ["EventCount"]})
        assert m["MetricsConfig"] == {"Metrics": ["EventCount"]}, m
        uuid = m["UUID"]
        send(sqs, url_a, SENT)
        got = wait_for(lambda: prom_counts(d, uuid) == WANT)
        assert got, prom_counts(d, uuid)
        yield d, name, uuid, plain
    finally:
        d.kill()


def cli_sum(d, metric, uuid):
    start, end = window()
    rc, out, err = d.aws(
        "get-metric-statistics", "--namespace", "AWS/Lambda", "--metric-name", metric,
        "--dimensions", f"Name=EventSourceMappingUUID,Value={uuid}",
        "--start-time", start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "--end-time", end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "--period", "3600", "--statistics", "Sum", service="cloudwatch")
    assert rc == 0, err
    return sum(p["Sum"] for p in out["Datapoints"])


def boto_sum(cw, metric, uuid):
    start, end = window()
    out = cw.get_metric_statistics(
        Namespace="AWS/Lambda", MetricName=metric,
        Dimensions=[{"Name": "EventSourceMappingUUID", "Value": uuid}],
        StartTime=start, EndTime=end, Period=3600, Statistics=["Sum"])
    return sum(p["Sum"] for p in out["Datapoints"])


def test_prometheus_counts_equal_what_was_sent(run):
    d, name, uuid, plain = run
    assert prom_counts(d, uuid) == WANT
    assert prom_counts(d, plain) == {"PolledEventCount": 2, "FilteredOutEventCount": 0,
                                     "InvokedEventCount": 2, "FailedInvokeEventCount": 0,
                                     "DeletedEventCount": 2}
    fams = prom(d)
    functions = {s.labels["function"] for s in fams["lambdabox_esm_polled_events"].samples}
    assert name in functions


def test_get_metric_statistics_in_all_three_protocols(run, tmp_path):
    d, _, uuid, plain = run
    # The pollers' minutes reach the store within a few seconds.
    assert wait_for(lambda: cli_sum(d, "DeletedEventCount", uuid) == 6, timeout=60), \
        cli_sum(d, "DeletedEventCount", uuid)
    cw_json = cloudwatch(d)
    cw_cbor = narrowed(d, tmp_path, "smithy-rpc-v2-cbor")
    for metric, want in WANT.items():
        assert cli_sum(d, metric, uuid) == want, metric
        assert boto_sum(cw_json, metric, uuid) == want, metric
        assert boto_sum(cw_cbor, metric, uuid) == want, metric
    # The mapping without MetricsConfig publishes nothing, as on AWS.
    assert cli_sum(d, "PolledEventCount", plain) == 0
    # These metrics have no FunctionName series.
    start, end = window()
    out = cw_json.get_metric_statistics(
        Namespace="AWS/Lambda", MetricName="PolledEventCount",
        Dimensions=[{"Name": "FunctionName", "Value": run[1]}],
        StartTime=start, EndTime=end, Period=3600, Statistics=["Sum"])
    assert out["Datapoints"] == []


def test_list_metrics_names_the_mapping_series(run):
    d, _, uuid, plain = run
    assert wait_for(lambda: cli_sum(d, "DeletedEventCount", uuid) == 6, timeout=60)
    rc, out, err = d.aws("list-metrics", "--namespace", "AWS/Lambda", "--dimensions",
                         f"Name=EventSourceMappingUUID,Value={uuid}", service="cloudwatch")
    assert rc == 0, err
    names = sorted(m["MetricName"] for m in out["Metrics"])
    assert names == sorted(WANT), names
    for m in out["Metrics"]:
        assert m["Dimensions"] == [{"Name": "EventSourceMappingUUID", "Value": uuid}]
    rc, out, err = d.aws("list-metrics", "--namespace", "AWS/Lambda", "--dimensions",
                         f"Name=EventSourceMappingUUID,Value={plain}", service="cloudwatch")
    assert rc == 0, err
    assert out["Metrics"] == []


def test_dashboard_monitoring_charts_the_queue_events(run):
    d, name, uuid, _ = run
    assert wait_for(lambda: cli_sum(d, "DeletedEventCount", uuid) == 6, timeout=60)
    ui = Dashboard(d.endpoint)
    ui.login_ok("admin", first_admin_password(d.data_dir))
    page = ui.get(f"/ui/functions/{name}/monitoring?range=1h")
    assert page.status == 200
    for title in ("Queue events polled", "Queue events invoked", "Queue events failed"):
        assert title in page.text, title
    assert "filtered out 3" in page.text
    assert "deleted after processing 6" in page.text


def test_poller_spans_of_a_traced_function(run):
    d, name, _, _ = run
    db = sqlite3.connect(f"file:{d.data_dir / 'logs.db'}?mode=ro", uri=True)

    def spans():
        return db.execute(
            "SELECT request_id, name, parent_id, status, error_type, start_us, end_us FROM trace_spans "
            "WHERE function_name = ?", (name,)).fetchall()

    def complete():
        s = spans()
        names = {r[1] for r in s}
        return {"Invocation", "Receive", "BatchInvoke", "Delete"} <= names and s

    rows = wait_for(complete, timeout=30)
    assert rows, spans()
    by_request: dict[str, list] = {}
    for r in rows:
        by_request.setdefault(r[0], []).append(r)
    for request, group in by_request.items():
        root = [r for r in group if r[1] == "Invocation"]
        assert len(root) == 1, group
        for r in group:
            if r[1] in ("Receive", "BatchInvoke", "Delete"):
                assert r[5] <= r[6], r
    # A batch with reported failures is a BatchInvoke span in error.
    failed = [r for r in rows if r[1] == "BatchInvoke" and r[3] == "error"]
    assert failed and all(r[4] == "PartialBatchFailure" for r in failed), rows


def test_metrics_config_is_validated(run):
    d, name, _, _ = run
    lam = d.client()
    sqs = sqs_client(d)
    _, arn = make_queue(sqs)
    for metrics, code in ((["ErrorCount"], "InvalidParameterValueException"),
                          (["Nope"], "ValidationException")):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn,
                                            MetricsConfig={"Metrics": metrics})
        assert e.value.response["Error"]["Code"] == code, e.value.response
    assert lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"] == []
    m = lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn, Enabled=False)
    assert "MetricsConfig" not in m
    u = wait_update(lam, m["UUID"], MetricsConfig={"Metrics": ["EventCount"]})
    assert u["MetricsConfig"] == {"Metrics": ["EventCount"]}
    assert lam.get_event_source_mapping(UUID=m["UUID"])["MetricsConfig"] == {"Metrics": ["EventCount"]}
    u = wait_update(lam, m["UUID"], MetricsConfig={"Metrics": []})
    assert "MetricsConfig" not in u


def wait_update(lam, uuid, **kw):
    """UpdateEventSourceMapping once the previous update settled (ResourceInUse meanwhile)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return lam.update_event_source_mapping(UUID=uuid, **kw)
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] != "ResourceInUseException" or time.monotonic() > deadline:
                raise
            time.sleep(0.3)
