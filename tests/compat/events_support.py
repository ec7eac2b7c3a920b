"""Helpers of the EventBridge and Scheduler tests: a daemon whose scheduler clock can be moved
(`scheduler.test_clock`), the signed `/_lambdabox/clock` calls, a function that prints every
event it receives, and reading those events back from the function's logs."""

from __future__ import annotations

import calendar
import json
import time
import urllib.request

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from conftest import REGION, ROLE, Daemon, function_arn, make_zip

TEST_CLOCK_ENV = {"LAMBDABOX_SCHEDULER__TEST_CLOCK": "true"}

# Prints one line per event: `FIRED <event as JSON>`.
RECORDER = (
    "import json\n"
    "def lambda_handler(event, context):\n"
    "    print('FIRED ' + json.dumps(event, sort_keys=True))\n"
    "    return {'ok': True}\n"
)


def clock_daemon(workdir, env: dict | None = None) -> Daemon:
    return Daemon(workdir, env={**TEST_CLOCK_ENV, **(env or {})}).start()


def _signed(d: Daemon, method: str, path: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = AWSRequest(method=method, url=d.endpoint + path, data=data,
                     headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(*d.admin_keys()), "scheduler", REGION).add_auth(req)
    r = urllib.request.Request(req.url, data=data, method=method, headers=dict(req.headers))
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def clock(d: Daemon) -> dict:
    status, out = _signed(d, "GET", "/_lambdabox/clock")
    assert status == 200, out
    return out


def set_clock(d: Daemon, now: float | None = None, advance: float | None = None) -> float:
    """Moves the scheduler's clock to `now` (epoch seconds) or by `advance` seconds."""
    body = {"Now": now} if now is not None else {"AdvanceSeconds": advance}
    status, out = _signed(d, "POST", "/_lambdabox/clock", body)
    assert status == 200, out
    return out["Now"]


def events_client(d: Daemon, service: str = "events"):
    key_id, secret = d.admin_keys()
    return boto3.client(service, endpoint_url=d.endpoint, region_name=REGION,
                        aws_access_key_id=key_id, aws_secret_access_key=secret,
                        config=Config(retries={"total_max_attempts": 1}))


def create_recorder(d: Daemon, name: str) -> str:
    """Creates the recording function with the CLI-independent boto3 client; returns its ARN."""
    d.client().create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE,
        Handler="lambda_function.lambda_handler",
        Code={"ZipFile": make_zip({"lambda_function.py": RECORDER})},
    )
    return function_arn(name)


def fired(d: Daemon, name: str) -> list[dict]:
    """Every event the recording function `name` printed so far, oldest first."""
    p = d.lambdabox("logs", name, "--since-minutes", "100000")
    out = []
    for line in p.stdout.splitlines():
        i = line.find("FIRED ")
        if i >= 0:
            out.append(json.loads(line[i + len("FIRED "):]))
    return out


def wait_fired(d: Daemon, name: str, count: int, timeout: float = 30.0) -> list[dict]:
    """Waits until `name` printed at least `count` events; returns them all."""
    deadline = time.monotonic() + timeout
    got: list[dict] = []
    while time.monotonic() < deadline:
        got = fired(d, name)
        if len(got) >= count:
            return got
        time.sleep(0.2)
    raise AssertionError(f"{name} received {len(got)} events, expected {count}: {got}")


def stays(d: Daemon, name: str, count: int, wait: float = 3.0) -> list[dict]:
    """Asserts that `name` still has exactly `count` events after `wait` seconds."""
    time.sleep(wait)
    got = fired(d, name)
    assert len(got) == count, got
    return got


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def epoch(iso_time: str) -> float:
    """`2025-01-15T10:20:00Z` as epoch seconds."""
    return float(calendar.timegm(time.strptime(iso_time, "%Y-%m-%dT%H:%M:%SZ")))
