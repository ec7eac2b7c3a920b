"""Tracing (`TracingConfig: Active`): the caller's `X-Amzn-Trace-Id` reaches the function
(`_X_AMZN_TRACE_ID`, sampled), REPORT is followed by AWS's `XRAY TraceId:` line, every
invocation leaves its spans (Invocation with Queue, Init and Invoke; each async attempt on its
own, with a Destination child per delivery to its destinations), the dashboard's Traces tab
shows them, and an OTLP/HTTP collector (a receiver in this
test that decodes the protobuf with opentelemetry-proto) gets the same spans. PassThrough
functions leave none."""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
import urllib.parse

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from conftest import Daemon, function_arn
from dashboard_client import Dashboard, first_admin_password
from invoke_support import create_function, invoke

APP = r'''
import os
def handler(event, context):
    if event.get("fail"):
        raise RuntimeError("asked to fail")
    print("trace is", os.environ.get("_X_AMZN_TRACE_ID"))
    return {"trace": os.environ.get("_X_AMZN_TRACE_ID")}
'''

ROOT = "1-6553f100-0123456789abcdef01234567"
HEADER = f"Root={ROOT};Parent=53995c3f42cd8ad8;Sampled=0"


class Collector:
    """An OTLP/HTTP receiver on 127.0.0.1:0 that keeps every decoded export request."""

    def __init__(self):
        self.requests: list[ExportTraceServiceRequest] = []
        self.content_types: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                msg = ExportTraceServiceRequest()
                msg.ParseFromString(body)
                outer.content_types.append(self.headers.get("Content-Type", ""))
                outer.requests.append(msg)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def spans(self) -> list[tuple[dict, object]]:
        out = []
        for r in self.requests:
            for rs in r.resource_spans:
                res = {kv.key: kv.value.string_value for kv in rs.resource.attributes}
                for ss in rs.scope_spans:
                    out.extend((res, s) for s in ss.spans)
        return out


@pytest.fixture(scope="module")
def collector():
    c = Collector()
    yield c
    c.server.shutdown()


@pytest.fixture(scope="module")
def traced_daemon(tmp_path_factory, collector):
    d = Daemon(tmp_path_factory.mktemp("tracing"), env={
        "LAMBDABOX_TRACING__OTLP_ENDPOINT": collector.url,
        "LAMBDABOX_ASYNC_INVOKE__RETRY_DELAY_MS": "200",
    }).start()
    yield d
    d.stop()


def with_trace_header(client, header: str):
    def add(request, **_):
        request.headers["X-Amzn-Trace-Id"] = header
    client.meta.events.register("before-sign.lambda.Invoke", add)
    return client


def wait_for(what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        v = what()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(0.2)


def dashboard(d) -> Dashboard:
    ui = Dashboard(d.endpoint)
    ui.login_ok("admin", first_admin_password(d.data_dir))
    return ui


def test_active_tracing_end_to_end(traced_daemon, collector):
    d = traced_daemon
    c = with_trace_header(d.client(), HEADER)
    name = create_function(c, {"app.py": APP}, TracingConfig={"Mode": "Active"})
    assert c.get_function_configuration(FunctionName=name)["TracingConfig"] == {"Mode": "Active"}
    r = invoke(c, name, {"k": 1})
    assert r.status == 200, r.raw
    seen = r.payload["trace"]
    # The caller's root, a parent of lambdabox's own, and Sampled=1 for an Active function.
    assert seen.startswith(f"Root={ROOT};Parent="), seen
    assert "Sampled=1" in seen.split(";"), seen
    assert f"trace is {seen}" in r.log
    m = re.search(r"REPORT RequestId: (\S+).*\n(XRAY TraceId: (\S+)\tSegmentId: ([0-9a-f]{16})\tSampled: true)", r.log)
    assert m, r.log
    request_id, xray_root, segment = m.group(1), m.group(3), m.group(4)
    assert xray_root == ROOT

    # The dashboard's Traces tab lists the request and draws its spans.
    ui = dashboard(d)
    page = wait_for(lambda: (p := ui.get(f"/ui/functions/{name}/traces")).status == 200
                    and request_id in p.text and p)
    assert page, "the traced request is not listed"
    detail = ui.get(f"/ui/functions/{name}/traces?request={urllib.parse.quote(request_id)}")
    assert detail.status == 200
    for span in ("Invocation", "Init", "Invoke"):
        assert f">{span}</th>" in detail.text, detail.text
    assert ROOT in detail.text

    # The collector got the same spans, with the trace id of the X-Ray root.
    want_trace = bytes.fromhex(ROOT[2:].replace("-", ""))
    got = wait_for(lambda: [(res, s) for res, s in collector.spans()
                            if s.trace_id == want_trace], timeout=30)
    names = sorted(s.name for _, s in got)
    assert names == ["Init", "Invocation", "Invoke"], names
    assert set(collector.content_types) == {"application/x-protobuf"}
    root = next(s for _, s in got if s.name == "Invocation")
    assert root.span_id.hex() == segment
    assert all(s.parent_span_id == root.span_id for _, s in got if s.name != "Invocation")
    assert got[0][0]["service.name"] == name
    attrs = {kv.key: kv.value.string_value for kv in root.attributes}
    assert attrs["faas.invocation_id"] == request_id
    assert root.status.code == 1
    assert root.end_time_unix_nano > root.start_time_unix_nano

    # A warm invoke has no Init span.
    r2 = invoke(c, name, {"k": 2})
    rid2 = re.search(r"REPORT RequestId: (\S+)", r2.log).group(1)
    got2 = wait_for(lambda: [s for _, s in collector.spans()
                             if any(kv.value.string_value == rid2 for kv in s.attributes)], timeout=30)
    assert sorted(s.name for s in got2) == ["Invocation", "Invoke"]


def test_async_attempts_are_traced_with_their_queue_wait(traced_daemon):
    d = traced_daemon
    c = d.client()
    name = create_function(c, {"app.py": APP}, TracingConfig={"Mode": "Active"})
    c.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    r = c.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"fail": True}))
    assert r["StatusCode"] == 202
    request_id = r["ResponseMetadata"]["RequestId"]
    ui = dashboard(d)
    path = f"/ui/functions/{name}/traces?request={urllib.parse.quote(request_id)}"

    def two_attempts():
        p = ui.get(path)
        rows = re.findall(r'<th scope="row"[^>]*>(\w+)</th>\s*<td>[^<]*</td>\s*<td>(\d)</td>', p.text)
        return rows if sum(1 for n, _ in rows if n == "Invocation") == 2 else None

    rows = wait_for(two_attempts, timeout=30)
    assert rows, ui.get(path).text
    assert ("Queue", "1") in rows and ("Queue", "2") in rows, rows
    assert ("Invoke", "2") in rows, rows
    page = ui.get(path).text
    assert re.search(r"<td>error \([^)]+\)</td>", page), page


def test_destination_deliveries_are_spans_of_their_attempt(traced_daemon, collector):
    d = traced_daemon
    c = d.client()
    target = create_function(c, {"app.py": APP})
    name = create_function(c, {"app.py": APP}, TracingConfig={"Mode": "Active"})
    c.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=0,
        DestinationConfig={"OnSuccess": {"Destination": function_arn(target)}})
    r = c.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    assert r["StatusCode"] == 202
    request_id = r["ResponseMetadata"]["RequestId"]

    def spans():
        got = [s for _, s in collector.spans()
               if any(kv.value.string_value == request_id for kv in s.attributes)]
        return got if {"Invocation", "Destination"} <= {s.name for s in got} else None

    got = wait_for(spans, timeout=30)
    assert got, [s.name for _, s in collector.spans()]
    root = next(s for s in got if s.name == "Invocation")
    dest = next(s for s in got if s.name == "Destination")
    assert dest.parent_span_id == root.span_id
    assert dest.trace_id == root.trace_id
    assert dest.status.code == 1
    assert dest.end_time_unix_nano >= dest.start_time_unix_nano >= root.start_time_unix_nano
    # The Traces tab lists it with the attempt.
    ui = dashboard(d)
    page = ui.get(f"/ui/functions/{name}/traces?request={urllib.parse.quote(request_id)}")
    assert re.search(r'<th scope="row"[^>]*>Destination</th>\s*<td>[^<]*</td>\s*<td>1</td>',
                     page.text), page.text


def test_passthrough_functions_leave_no_spans(traced_daemon, collector):
    d = traced_daemon
    c = with_trace_header(d.client(), HEADER.replace("0123456789abcdef", "fedcba9876543210"))
    name = create_function(c, {"app.py": APP})
    assert c.get_function_configuration(FunctionName=name)["TracingConfig"] == {"Mode": "PassThrough"}
    r = invoke(c, name, {})
    assert "Sampled=0" in r.payload["trace"].split(";"), r.payload
    assert "XRAY TraceId" not in r.log
    time.sleep(1.5)
    ui = dashboard(d)
    page = ui.get(f"/ui/functions/{name}/traces")
    assert page.status == 200
    assert "Tracing is off for this function" in page.text
    assert "No traced invocations yet." in page.text
    assert not [s for res, s in collector.spans() if res.get("service.name") == name]


def test_an_otlp_endpoint_that_is_not_http_is_refused(tmp_path):
    d = Daemon(tmp_path, env={"LAMBDABOX_TRACING__OTLP_ENDPOINT": "https://collector:4318/v1/traces"})
    with pytest.raises(Exception):
        d.start()
    assert "tracing.otlp_endpoint must be an http:// URL" in d.log()
