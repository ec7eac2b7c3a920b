"""A log flood: one function writes 1 GiB of output (16 invocations of 64 MiB, 1 KiB lines).
Its log group must stay within its byte quota (`logs.max_bytes_per_group`, 1 MiB here), the
lines cut by the per-invocation cap (256 KiB, the default) must be counted exactly where users
see them (a line before END in the log stream, and `/metrics` per log group), the events the
quota pruned must be counted, and the control plane must keep answering meanwhile.

Strict: the quota, the counts. Loose: control-plane latency (every GetFunction during the flood
answers, none slower than a generous bound); its p99 against quiet is measured by
tests/bench/observability.py (`flood`). A second test checks that the capture's byte rate
(`logs.capture_bytes_per_second`) slows the flooding function itself."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config
from prometheus_client.parser import text_string_to_metric_families

from conftest import REGION, Daemon, unique
from invoke_support import create_function

QUOTA = 1 << 20
CAP = 256 * 1024
LINE = 1023  # bytes of each line, without its newline
MIB_PER_INVOKE = 64
INVOKES = 16  # 16 × 64 MiB = 1 GiB
LINES_PER_INVOKE = MIB_PER_INVOKE * 1024
KEPT = CAP // LINE  # lines within the cap (the capture counts a line's bytes without "\n")
DROPPED = LINES_PER_INVOKE - KEPT

APP = r'''
import sys
CHUNK = ("x" * 1022 + "y\n") * 1024  # 1 MiB of 1 KiB lines
def handler(event, context):
    w = sys.stdout.write
    for _ in range(event["mib"]):
        w(CHUNK)
    return {"mib": event["mib"]}
'''


@pytest.fixture
def flood_daemon(tmp_path):
    d = Daemon(tmp_path, env={"LAMBDABOX_LOGS__MAX_BYTES_PER_GROUP": str(QUOTA)}).start()
    yield d
    d.kill()


def scrape(endpoint):
    with urllib.request.urlopen(endpoint + "/metrics", timeout=10) as r:
        return {f.name: f for f in text_string_to_metric_families(r.read().decode())}


def group_counter(fams, family, group):
    return [s.value for s in fams[family].samples if s.labels.get("log_group") == group]


def test_a_1_gib_flood_stays_within_its_quota_and_is_counted(flood_daemon):
    d = flood_daemon
    lam = d.client(read_timeout=300)
    name = create_function(lam, {"app.py": APP}, name=unique("flood"), Timeout=300,
                           MemorySize=256)
    group = f"/aws/lambda/{name}"
    key, secret = d.admin_keys()
    logs = boto3.client("logs", endpoint_url=d.endpoint, region_name=REGION,
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(retries={"total_max_attempts": 1}))

    # The control plane while the flood runs: GetFunction in a loop on its own client.
    control = d.client(read_timeout=60)
    latencies: list[float] = []
    failures: list[str] = []
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            t0 = time.monotonic()
            try:
                control.get_function(FunctionName=name)
            except Exception as e:  # noqa: BLE001 — recorded and asserted below
                failures.append(repr(e))
            latencies.append(time.monotonic() - t0)
            time.sleep(0.02)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    t0 = time.monotonic()
    request_ids = []
    try:
        for _ in range(INVOKES):
            r = lam.invoke(FunctionName=name, Payload=json.dumps({"mib": MIB_PER_INVOKE}))
            assert "FunctionError" not in r, r["Payload"].read()
            assert json.loads(r["Payload"].read()) == {"mib": MIB_PER_INVOKE}
            request_ids.append(r["ResponseMetadata"]["RequestId"])
    finally:
        stop.set()
        poller.join(timeout=60)
    flood_secs = time.monotonic() - t0

    # Wait until the writer has stored the last invocation's REPORT line.
    last = request_ids[-1]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ev = logs.filter_log_events(logGroupName=group, filterPattern=f'"REPORT RequestId: {last}"')
        if ev["events"]:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the last REPORT line never reached the log store")

    # Within the quota, strictly.
    g = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [x["logGroupName"] for x in g] == [group]
    assert 0 < g[0]["storedBytes"] <= QUOTA, g[0]
    # What is stored is the newest output, and the truncation count is in the stream.
    notes = logs.filter_log_events(logGroupName=group, filterPattern='"output were dropped"')["events"]
    assert notes, "no truncation count in the stream"
    want = f"[lambdabox] {DROPPED} lines ({DROPPED * LINE} bytes) of this invocation's output were dropped"
    for n in notes:
        assert n["message"].startswith(want), n["message"]
    assert any(last in e["message"] for e in ev["events"])
    stream_of_last = ev["events"][0]["logStreamName"]
    assert any(n["logStreamName"] == stream_of_last for n in notes)

    # /metrics: exact truncation count, and the quota's pruning counted.
    fams = scrape(d.endpoint)
    assert group_counter(fams, "lambdabox_log_truncated_lines", group) == [INVOKES * DROPPED]
    pruned = group_counter(fams, "lambdabox_log_quota_pruned_events", group)
    assert len(pruned) == 1 and pruned[0] > 0
    # Kept lines add up: the cap keeps KEPT lines per invocation, at least INVOKES × KEPT
    # reach the writer; more than the quota holds, so pruning had to delete some.
    assert INVOKES * KEPT * (LINE + 1) > QUOTA

    # The control plane answered throughout (loose: no failures, none slower than 10 s).
    assert not failures, failures[:3]
    assert latencies, "the poller never ran"
    assert max(latencies) < 10.0, (max(latencies), flood_secs)


THROTTLE = 1 << 20  # logs.capture_bytes_per_second in the test below


def test_a_flooding_function_is_slowed_by_its_capture_rate(tmp_path):
    """With logs.capture_bytes_per_second at 1 MiB/s the daemon reads a flooding environment's
    output no faster: past the per-invocation cap each byte costs a sixteenth, so 64 MiB of
    output (about 4.4 MiB of budget with the kept lines' cost, less the one-second burst) keep
    the function blocked in its writes for at least 3.4 s; the counts stay exact."""
    d = Daemon(tmp_path, env={"LAMBDABOX_LOGS__CAPTURE_BYTES_PER_SECOND": str(THROTTLE)}).start()
    try:
        lam = d.client(read_timeout=120)
        name = create_function(lam, {"app.py": APP}, name=unique("throttled"), Timeout=120,
                               MemorySize=256)
        r = lam.invoke(FunctionName=name, Payload=json.dumps({"mib": MIB_PER_INVOKE}), LogType="Tail")
        assert "FunctionError" not in r, r["Payload"].read()
        tail = base64.b64decode(r["LogResult"]).decode()
        want = f"[lambdabox] {DROPPED} lines ({DROPPED * LINE} bytes) of this invocation's output were dropped"
        assert want in tail, tail
        duration = float(re.search(r"REPORT RequestId: \S+\s+Duration: ([0-9.]+) ms", tail).group(1))
        # A lower bound only: the throttle cannot make it faster, load can only make it slower.
        assert duration >= 2500, duration
        fams = scrape(d.endpoint)
        assert group_counter(fams, "lambdabox_log_truncated_lines", f"/aws/lambda/{name}") == [DROPPED]
    finally:
        d.kill()
