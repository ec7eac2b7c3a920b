"""Concurrency and capacity through the AWS CLI v2 and boto3: reserved concurrency
(Put/Get/DeleteFunctionConcurrency, GetAccountSettings' UnreservedConcurrentExecutions, the
AWS rule that keeps part of the pool unreserved), throttling with the right Reason and
Retry-After, provisioned concurrency (Put/Get/Delete/ListProvisionedConcurrencyConfigs,
READY, no Init Duration, replacement of a killed environment) and the host memory budget
under a burst.

The module's daemon has an account pool of 1000 (so the seed's reservation of 100 fits) and
its own cgroup parent.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import botocore.exceptions
import pytest

from conftest import unique
from invoke_support import (
    build_zip,
    cgroup_dirs,
    create_function,
    invoke,
    remove_empty_cgroups,
    start_isolated_daemon,
    stop_daemon,
)

SLEEPER = {
    "app.py": (
        "import json, os, time\n"
        "def handler(event, context):\n"
        "    time.sleep(event.get('sleep', 0))\n"
        "    return {'init': os.environ.get('AWS_LAMBDA_INITIALIZATION_TYPE'),\n"
        "            'version': context.function_version}\n"
    )
}


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = start_isolated_daemon(
        tmp_path_factory.mktemp("concurrency"),
        cgroup_parent="lambdabox-compat-concurrency",
        extra_toml="[engine]\nconcurrent_executions = 1000\n",
    )
    yield d
    stop_daemon(d)


@pytest.fixture(scope="module")
def client(daemon):
    return daemon.client(max_pool_connections=50, read_timeout=120)


def throttle_of(e: botocore.exceptions.ClientError) -> tuple[str, str | None, str | None]:
    r = e.response
    return (
        r["Error"]["Code"],
        r.get("Reason"),
        r["ResponseMetadata"]["HTTPHeaders"].get("retry-after"),
    )


def cli_error(stderr: str) -> str:
    return stderr.strip().splitlines()[-1] if stderr.strip() else ""


# ---------------------------------------------------------------------------------------------
# reserved concurrency



def wait_started(d, name: str, n: int, timeout: float = 30.0) -> None:
    """Waits until function `name` logged `n` START lines: that many invokes were admitted
    and handed to a runtime (so the next one meets them in flight)."""
    deadline = time.monotonic() + timeout
    while True:
        out = d.lambdabox("logs", name, "--since-minutes", "600").stdout
        if out.count("START RequestId") >= n:
            return
        assert time.monotonic() < deadline, f"{name}: fewer than {n} START lines:\n{out}"
        time.sleep(0.1)


def test_seed_reserved_concurrency_command_verbatim(daemon, client):
    create_function(client, SLEEPER, name="my-critical-function")
    rc, out, err = daemon.aws(
        "put-function-concurrency",
        "--function-name", "my-critical-function",
        "--reserved-concurrent-executions", "100",
    )
    assert rc == 0, err
    assert out == {"ReservedConcurrentExecutions": 100}
    rc, out, err = daemon.aws("get-function-concurrency", "--function-name", "my-critical-function")
    assert rc == 0, err
    assert out == {"ReservedConcurrentExecutions": 100}
    rc, out, err = daemon.aws("get-account-settings")
    assert rc == 0, err
    assert out["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert out["AccountLimit"]["UnreservedConcurrentExecutions"] == 900
    assert client.get_function(FunctionName="my-critical-function")["Concurrency"] == {
        "ReservedConcurrentExecutions": 100
    }
    # Still runs (it has 100 of its own).
    assert invoke(client, "my-critical-function").status == 200
    rc, _, err = daemon.aws("delete-function-concurrency", "--function-name", "my-critical-function")
    assert rc == 0, err
    rc, out, err = daemon.aws("get-function-concurrency", "--function-name", "my-critical-function")
    assert rc == 0 and not out, (out, err)
    assert client.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 1000


def test_a_reservation_must_leave_the_minimum_unreserved(daemon, client):
    name = create_function(client, SLEEPER)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=10)
    rc, _, err = daemon.aws(
        "put-function-concurrency", "--function-name", name,
        "--reserved-concurrent-executions", "901",
    )
    assert rc != 0
    assert "(InvalidParameterValueException)" in err, err
    assert "decreases account's UnreservedConcurrentExecution below its minimum value of [100]" in err
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=901)
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
    # Nothing changed.
    assert client.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 10
    # 900 (all but the 100 kept unreserved) is allowed.
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=900)
    assert client.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 100
    # A second function can no longer reserve anything.
    other = create_function(client, SLEEPER)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.put_function_concurrency(FunctionName=other, ReservedConcurrentExecutions=1)
    assert "minimum value of [100]" in e.value.response["Error"]["Message"]
    client.delete_function_concurrency(FunctionName=name)


def test_bad_requests_are_refused_with_aws_errors(daemon, client):
    name = create_function(client, SLEEPER)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.put_function_concurrency(FunctionName="no-such-fn", ReservedConcurrentExecutions=1)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    rc, _, err = daemon.aws("get-function-concurrency", "--function-name", "no-such-fn")
    assert rc != 0 and "(ResourceNotFoundException)" in err, err
    # The CLI validates the minimum itself; boto3 with validation off reaches the server.
    raw = daemon.client(parameter_validation=False)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        raw.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=-1)
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert client.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") is None


def test_reserved_two_throttles_the_third_parallel_invoke(daemon, client):
    name = create_function(client, SLEEPER)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)

    def call(_):
        try:
            r = client.invoke(FunctionName=name, Payload=json.dumps({"sleep": 3}).encode())
            return ("ok", r["StatusCode"])
        except botocore.exceptions.ClientError as e:
            return ("err", throttle_of(e))

    # Warm two environments first so that the slow part is the handler, not the cold start.
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: invoke(client, name, {"sleep": 0}), range(2)))
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(call, i) for i in range(2)]
        wait_started(daemon, name, 4)  # the two warm-ups and the two 3 s invokes
        third = pool.submit(call, 2).result()
        first_two = [f.result() for f in futures]
    assert first_two == [("ok", 200), ("ok", 200)]
    assert third == (
        "err",
        ("TooManyRequestsException", "ReservedFunctionConcurrentInvocationLimitExceeded", "1"),
    )
    # The throttle is recorded by reason for the dashboard's Monitoring tab.
    html = daemon_page(daemon, f"/ui/functions/{name}/monitoring", wait_for="ReservedFunctionConcurrentInvocationLimitExceeded")
    assert "Throttles" in html


def test_reserved_zero_throttles_every_invoke(daemon, client):
    name = create_function(client, SLEEPER)
    rc, out, err = daemon.aws(
        "put-function-concurrency", "--function-name", name, "--reserved-concurrent-executions", "0"
    )
    assert rc == 0 and out == {"ReservedConcurrentExecutions": 0}, err
    for _ in range(3):
        rc, _, err = daemon.aws("invoke", "--function-name", name, "/dev/null")
        assert rc != 0
        assert "(TooManyRequestsException)" in err, err
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.invoke(FunctionName=name, Payload=b"{}")
    assert throttle_of(e.value)[:2] == (
        "TooManyRequestsException",
        "ReservedFunctionConcurrentInvocationLimitExceeded",
    )
    client.delete_function_concurrency(FunctionName=name)
    assert invoke(client, name).status == 200


# ---------------------------------------------------------------------------------------------
# provisioned concurrency


def publish_with_alias(client, name: str, alias: str = "prod") -> str:
    v = client.publish_version(FunctionName=name)["Version"]
    client.create_alias(FunctionName=name, Name=alias, FunctionVersion=v)
    return v


def wait_status(client, name: str, qualifier: str, want: str, allocated: int | None = None,
                timeout: float = 90.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        cfg = client.get_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier)
        if cfg["Status"] == want and (
                allocated is None or cfg["AllocatedProvisionedConcurrentExecutions"] == allocated):
            return cfg
        assert cfg["Status"] != "FAILED" or want == "FAILED", cfg
        assert time.monotonic() < deadline, f"still {cfg}"
        time.sleep(0.2)


def function_pids(name: str) -> list[int]:
    """Host pids of the runtime processes of function `name` (read from /proc as root)."""
    needle = f"AWS_LAMBDA_FUNCTION_NAME={name}\0".encode()
    pids = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            if needle in (p / "environ").read_bytes():
                pids.append(int(p.name))
        except OSError:
            pass
    return pids


def test_seed_provisioned_command_verbatim_ready_and_used_first(daemon, client):
    unreserved = client.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]
    name = create_function(client, SLEEPER)
    version = publish_with_alias(client, name)
    rc, out, err = daemon.aws(
        "put-provisioned-concurrency-config",
        "--function-name", name,
        "--qualifier", "prod",
        "--provisioned-concurrent-executions", "10",
    )
    assert rc == 0, err
    assert out["RequestedProvisionedConcurrentExecutions"] == 10
    assert out["Status"] in ("IN_PROGRESS", "READY")
    assert set(out) >= {"AvailableProvisionedConcurrentExecutions",
                        "AllocatedProvisionedConcurrentExecutions", "LastModified"}
    cfg = wait_status(client, name, "prod", "READY", allocated=10)
    assert cfg["AvailableProvisionedConcurrentExecutions"] == 10
    assert len(function_pids(name)) >= 10
    rc, out, err = daemon.aws("get-provisioned-concurrency-config", "--function-name", name,
                              "--qualifier", "prod")
    assert rc == 0 and out["Status"] == "READY", (out, err)
    # The first invocation of prod runs in a provisioned environment: no Init Duration.
    res = invoke(client, f"{name}:prod")
    assert res.status == 200
    assert res.payload == {"init": "provisioned-concurrency", "version": version}
    assert res.report().init_ms is None, res.log
    # Its use is recorded as ProvisionedConcurrencyUtilization for the Monitoring tab.
    daemon_page(daemon, f"/ui/functions/{name}/monitoring",
                wait_for="Provisioned concurrency utilization")
    # Unqualified invocations are on-demand (and cold).
    res = invoke(client, name)
    assert res.payload["init"] == "on-demand"
    assert res.report().init_ms is not None
    rc, out, err = daemon.aws("list-provisioned-concurrency-configs", "--function-name", name)
    assert rc == 0, err
    items = out["ProvisionedConcurrencyConfigs"]
    assert len(items) == 1
    assert items[0]["FunctionArn"].endswith(f":function:{name}:prod")
    assert items[0]["Status"] == "READY"
    # Account settings: the provisioned 10 are carved out of the unreserved pool.
    assert client.get_account_settings()["AccountLimit"][
        "UnreservedConcurrentExecutions"] == unreserved - 10
    rc, _, err = daemon.aws("delete-provisioned-concurrency-config", "--function-name", name,
                            "--qualifier", "prod")
    assert rc == 0, err
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_provisioned_concurrency_config(FunctionName=name, Qualifier="prod")
    assert e.value.response["Error"]["Code"] == "ProvisionedConcurrencyConfigNotFoundException"
    deadline = time.monotonic() + 30
    while len(function_pids(name)) > 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(function_pids(name)) <= 1  # only the on-demand environment is left


def test_provisioned_spills_over_to_on_demand(daemon, client):
    name = create_function(client, SLEEPER)
    publish_with_alias(client, name)
    client.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="prod", ProvisionedConcurrentExecutions=1)
    wait_status(client, name, "prod", "READY", allocated=1)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(invoke, client, f"{name}:prod", {"sleep": 2})
        wait_started(daemon, name, 1)
        second = pool.submit(invoke, client, f"{name}:prod", {"sleep": 0})
        a, b = first.result(), second.result()
    assert a.payload["init"] == "provisioned-concurrency"
    assert b.payload["init"] == "on-demand"
    assert b.report().init_ms is not None


def test_killing_a_provisioned_environment_brings_the_count_back(daemon, client):
    name = create_function(client, SLEEPER)
    publish_with_alias(client, name, "live")
    client.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=2)
    wait_status(client, name, "live", "READY", allocated=2)
    before = function_pids(name)
    assert len(before) == 2, before
    os.kill(before[0], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:
        now = function_pids(name)
        if len(now) == 2 and before[0] not in now:
            break
        assert time.monotonic() < deadline, now
        time.sleep(0.2)
    cfg = wait_status(client, name, "live", "READY", allocated=2)
    assert cfg["AvailableProvisionedConcurrentExecutions"] == 2
    res = invoke(client, f"{name}:live")
    assert res.payload["init"] == "provisioned-concurrency"
    assert res.report().init_ms is None


def test_provisioned_concurrency_errors(daemon, client):
    name = create_function(client, SLEEPER)
    rc, _, err = daemon.aws(
        "put-provisioned-concurrency-config", "--function-name", name,
        "--qualifier", "$LATEST", "--provisioned-concurrent-executions", "1",
    )
    assert rc != 0 and "(InvalidParameterValueException)" in err, err
    assert "cannot be applied to unpublished function versions" in err
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="nope", ProvisionedConcurrentExecutions=1)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    v = client.publish_version(FunctionName=name)["Version"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_provisioned_concurrency_config(FunctionName=name, Qualifier=v)
    assert e.value.response["Error"]["Code"] == "ProvisionedConcurrencyConfigNotFoundException"
    # Provisioned concurrency cannot exceed the function's reservation.
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier=v, ProvisionedConcurrentExecutions=3)
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert client.list_provisioned_concurrency_configs(FunctionName=name)[
        "ProvisionedConcurrencyConfigs"] == []
    # ... nor the memory budget (3/4 of this host's memory; 300 × 128 MB is more).
    client.delete_function_concurrency(FunctionName=name)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier=v, ProvisionedConcurrentExecutions=300)
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "memory" in e.value.response["Error"]["Message"]


def test_deleting_the_alias_removes_its_configuration(daemon, client):
    name = create_function(client, SLEEPER)
    publish_with_alias(client, name, "blue")
    client.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="blue", ProvisionedConcurrentExecutions=1)
    wait_status(client, name, "blue", "READY", allocated=1)
    client.delete_alias(FunctionName=name, Name="blue")
    assert client.list_provisioned_concurrency_configs(FunctionName=name)[
        "ProvisionedConcurrencyConfigs"] == []
    deadline = time.monotonic() + 30
    while function_pids(name) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert function_pids(name) == []


def test_a_failing_init_reports_failed(daemon, client):
    name = create_function(client, {"app.py": "raise RuntimeError('no init')\n"})
    v = client.publish_version(FunctionName=name)["Version"]
    client.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier=v, ProvisionedConcurrentExecutions=1)
    cfg = wait_status(client, name, v, "FAILED")
    assert "FUNCTION_ERROR_INIT_FAILURE" in cfg["StatusReason"]


# ---------------------------------------------------------------------------------------------
# dashboard


def signed_in(daemon):
    from dashboard_client import Dashboard, first_admin_password

    ui = Dashboard(daemon.endpoint)
    ui.login_ok("admin", first_admin_password(daemon.data_dir))
    return ui


def daemon_page(daemon, path: str, wait_for: str | None = None, timeout: float = 30.0) -> str:
    ui = signed_in(daemon)
    deadline = time.monotonic() + timeout
    while True:
        r = ui.get(path)
        assert r.status == 200, (r.status, r.text[:500])
        if wait_for is None or wait_for in r.text:
            return r.text
        assert time.monotonic() < deadline, f"{wait_for!r} never appeared on {path}"
        time.sleep(1.0)


def test_dashboard_shows_and_edits_concurrency(daemon, client):
    name = create_function(client, SLEEPER)
    publish_with_alias(client, name)
    ui = signed_in(daemon)
    r = ui.get(f"/ui/functions/{name}/configuration")
    assert r.status == 200
    assert "Reserved concurrency" in r.text and "taken out of the account pool" in r.text
    r = ui.post(f"/ui/functions/{name}/concurrency",
                {"action": "reserved", "mode": "reserved", "reserved": "7"})
    assert r.status == 303, r.text[:500]
    assert client.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 7
    # A reservation the pool cannot give is refused beside the field, and changes nothing.
    r = ui.post(f"/ui/functions/{name}/concurrency",
                {"action": "reserved", "mode": "reserved", "reserved": "5000"})
    assert r.status == 422 and "minimum value" in r.text, r.status
    assert 'value="5000"' in r.text
    assert client.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 7
    r = ui.post(f"/ui/functions/{name}/concurrency",
                {"action": "provisioned", "qualifier": "prod", "provisioned": "1"})
    assert r.status == 303, r.text[:500]
    wait_status(client, name, "prod", "READY", allocated=1)
    r = ui.get(f"/ui/functions/{name}/configuration")
    assert "READY" in r.text and 'value="7"' in r.text
    r = ui.post(f"/ui/functions/{name}/concurrency?remove=prod", {"action": "remove"})
    assert r.status == 303
    assert client.list_provisioned_concurrency_configs(FunctionName=name)[
        "ProvisionedConcurrencyConfigs"] == []
    r = ui.post(f"/ui/functions/{name}/concurrency",
                {"action": "reserved", "mode": "unreserved", "reserved": ""})
    assert r.status == 303
    assert "ReservedConcurrentExecutions" not in client.get_function_concurrency(FunctionName=name)


# ---------------------------------------------------------------------------------------------
# memory budget under a burst


def env_cgroups(parent: str) -> list[Path]:
    """The environment groups (`lbx-*`) of the memory controller (v1) or the unified tree."""
    out = []
    for d in cgroup_dirs(parent):
        if not ((d / "memory.limit_in_bytes").exists() or (d / "memory.max").exists()
                or "memory" in str(d)):
            continue
        out.extend(g for g in d.glob("lbx-*") if g.is_dir())
    return out


def memory_limit(g: Path) -> int:
    for f in ("memory.limit_in_bytes", "memory.max"):
        try:
            return int((g / f).read_text().strip())
        except (OSError, ValueError):
            continue
    return 0


def memory_usage(g: Path) -> int:
    for f in ("memory.usage_in_bytes", "memory.current"):
        try:
            return int((g / f).read_text().strip())
        except (OSError, ValueError):
            continue
    return 0


def test_burst_over_twenty_functions_stays_within_a_2gb_budget(tmp_path):
    parent = "lambdabox-compat-burst"
    d = start_isolated_daemon(
        tmp_path, cgroup_parent=parent, extra_toml="[engine]\nmemory_budget_mb = 2048\n"
    )
    try:
        c = d.client(max_pool_connections=200, read_timeout=120)
        names = [create_function(c, SLEEPER, MemorySize=256) for _ in range(20)]
        budget = 2048 * 1024 * 1024
        stop = threading.Event()
        peaks = {"limit": 0, "usage": 0, "groups": 0, "health_fail": 0, "health_ok": 0}

        def sample():
            while not stop.is_set():
                groups = [g for g in env_cgroups(parent) if "memory" in str(g)] or env_cgroups(parent)
                peaks["limit"] = max(peaks["limit"], sum(memory_limit(g) for g in groups))
                peaks["usage"] = max(peaks["usage"], sum(memory_usage(g) for g in groups))
                peaks["groups"] = max(peaks["groups"], len(groups))
                try:
                    with urllib.request.urlopen(d.endpoint + "/health", timeout=5) as r:
                        peaks["health_ok" if r.status == 200 else "health_fail"] += 1
                except OSError:
                    peaks["health_fail"] += 1
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()

        def call(i):
            try:
                r = c.invoke(FunctionName=names[i % 20], Payload=json.dumps({"sleep": 0.5}).encode())
                body = json.loads(r["Payload"].read())
                assert r["StatusCode"] == 200 and "FunctionError" not in r, body
                return "ok"
            except botocore.exceptions.ClientError as e:
                code, reason, retry = throttle_of(e)
                assert (code, retry) == ("TooManyRequestsException", "1"), e.response
                return reason

        with ThreadPoolExecutor(200) as pool:
            results = list(pool.map(call, range(200)))
        stop.set()
        sampler.join(10)
        ok = results.count("ok")
        throttled = [r for r in results if r != "ok"]
        print(f"burst: {ok} results, {len(throttled)} throttled, peaks {peaks}")
        assert ok + len(throttled) == 200
        assert ok >= 8, results
        assert throttled, "a 2 GB budget cannot run 200 invocations of 256 MB at once"
        assert set(throttled) == {"ConcurrentInvocationLimitExceeded"}, set(throttled)
        assert peaks["groups"] > 0
        assert peaks["limit"] <= budget, peaks
        assert peaks["usage"] <= budget, peaks
        assert peaks["health_ok"] > 0 and peaks["health_fail"] == 0, peaks
        # Every function still runs afterwards (idle ones are evicted to make room).
        for n in names:
            assert invoke(c, n).status == 200
    finally:
        stop_daemon(d)
        remove_empty_cgroups(cgroup_dirs(parent))


def test_uid_exhaustion_evicts_then_throttles_never_a_500(tmp_path):
    parent = "lambdabox-compat-uids"
    from conftest import Daemon

    # Two uids: at most two live environments (the account pool alone would allow 10).
    cfg = tmp_path / "lambdabox.toml"
    cfg.write_text(f'[sandbox]\ncgroup_parent = "{parent}"\nuid_min = 64900\nuid_max = 64901\n'
                   '[engine]\nconcurrent_executions = 10\n')
    d = Daemon(tmp_path, extra_args=("--config", str(cfg))).start()
    try:
        c = d.client(max_pool_connections=10, read_timeout=60)
        names = [create_function(c, SLEEPER) for _ in range(3)]
        # Sequential: the third cold start evicts the least recently used idle environment.
        for n in names:
            assert invoke(c, n).status == 200
        assert len(function_pids(names[0])) == 0
        assert len(function_pids(names[2])) == 1

        def call(n):
            try:
                c.invoke(FunctionName=n, Payload=json.dumps({"sleep": 3}).encode())
                return "ok"
            except botocore.exceptions.ClientError as e:
                return throttle_of(e)

        with ThreadPoolExecutor(3) as pool:
            a = pool.submit(call, names[1])
            b = pool.submit(call, names[2])
            wait_started(d, names[1], 2)  # the sequential invoke and the 3 s one
            wait_started(d, names[2], 2)
            third = pool.submit(call, names[0]).result()
            assert (a.result(), b.result()) == ("ok", "ok")
        assert third == ("TooManyRequestsException", "ConcurrentInvocationLimitExceeded", "1")
        assert invoke(c, names[0]).status == 200
    finally:
        stop_daemon(d)
        remove_empty_cgroups(cgroup_dirs(parent))


def test_room_of_an_environment_being_torn_down_is_waited_for_not_throttled(tmp_path):
    parent = "lambdabox-compat-dying"
    from conftest import Daemon

    # One uid: one live environment. Deleting a function kills its idle environment; the next
    # cold start arrives while that environment is still being torn down (processes, cgroup,
    # network) and must wait the milliseconds it takes, not answer 429.
    cfg = tmp_path / "lambdabox.toml"
    cfg.write_text(f'[sandbox]\ncgroup_parent = "{parent}"\nuid_min = 64910\nuid_max = 64910\n'
                   '[engine]\nconcurrent_executions = 10\n')
    d = Daemon(tmp_path, extra_args=("--config", str(cfg))).start()
    try:
        c = d.client(max_pool_connections=4, read_timeout=60)
        names = [create_function(c, SLEEPER) for _ in range(4)]
        assert invoke(c, names[0]).status == 200
        for prev, n in zip(names, names[1:]):
            c.delete_function(FunctionName=prev)
            assert invoke(c, n).status == 200, n
    finally:
        stop_daemon(d)
        remove_empty_cgroups(cgroup_dirs(parent))


# Last: it restarts the module's daemon (a new port), which the module's `client` does not follow.
def test_provisioned_survives_a_restart(daemon, client):
    name = create_function(client, SLEEPER)
    publish_with_alias(client, name)
    client.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="prod", ProvisionedConcurrentExecutions=2)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)
    wait_status(client, name, "prod", "READY", allocated=2)
    daemon.restart()
    c = daemon.client(read_timeout=60)
    wait_status(c, name, "prod", "READY", allocated=2)
    assert c.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 5
    res = invoke(c, f"{name}:prod")
    assert res.payload["init"] == "provisioned-concurrency"
