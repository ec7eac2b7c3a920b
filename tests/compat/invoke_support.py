"""Helpers of the invoke suites (test_invoke_*.py): building function zips, creating functions
through boto3, invoking them and reading the `X-Amz-Log-Result` tail.

The daemon itself comes from conftest.py (`daemon`, one per module).
"""

from __future__ import annotations

import base64
import io
import json
import re
import stat
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone

from conftest import ACCOUNT, REGION, ROLE, function_arn, unique  # noqa: F401  (re-exported)

UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
START_RE = re.compile(rf"^START RequestId: ({UUID_RE}) Version: (\S+)$")
END_RE = re.compile(rf"^END RequestId: ({UUID_RE})$")
# REPORT RequestId: <id>\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t
#   Max Memory Used: 41 MB\t[Init Duration: 130.20 ms\t][Status: timeout\t]
REPORT_RE = re.compile(
    rf"^REPORT RequestId: ({UUID_RE})\t"
    r"Duration: (\d+\.\d\d) ms\t"
    r"Billed Duration: (\d+) ms\t"
    r"Memory Size: (\d+) MB\t"
    r"Max Memory Used: (\d+) MB\t"
    r"(?:Init Duration: (\d+\.\d\d) ms\t)?"
    r"(.*)$"
)
NODE_LINE_RE = re.compile(
    rf"^(\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z)\t({UUID_RE})\t(INFO|WARN|ERROR|DEBUG|TRACE)\t(.*)$"
)
PY_LOGGING_RE = re.compile(
    rf"^\[(INFO|WARNING|ERROR|DEBUG|CRITICAL)\]\t(\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z)\t({UUID_RE})\t(.*)$"
)
MAX_SYNC_PAYLOAD = 6_291_456


def log_stream_re(version: str = "$LATEST") -> re.Pattern:
    """`YYYY/MM/DD/[$LATEST]<32 hex>` with today's UTC date (or yesterday's around midnight)."""
    return re.compile(r"^(\d{4}/\d\d/\d\d)/\[" + re.escape(version) + r"\][0-9a-f]{32}$")


def today_ok(date_part: str) -> bool:
    now = time.time()
    days = {
        datetime.fromtimestamp(now - d, timezone.utc).strftime("%Y/%m/%d") for d in (0, 120)
    }
    return date_part in days


# ---------------------------------------------------------------------------------------------
# zips


def build_zip(files: dict[str, bytes | str], executables: tuple[str, ...] = ()) -> bytes:
    """A deflated zip of `files`; names in `executables` get mode 0755, others 0644 (as `zip`
    on Linux records them)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = 0o755 if name in executables else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.create_system = 3  # unix
            zf.writestr(info, data.encode() if isinstance(data, str) else data)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# functions


def create_function(
    client,
    files: dict[str, bytes | str],
    runtime: str = "python3.12",
    handler: str = "app.handler",
    name: str | None = None,
    executables: tuple[str, ...] = (),
    zip_bytes: bytes | None = None,
    **kwargs,
) -> str:
    """Creates a function (boto3) and waits until it is Active; returns its name."""
    name = name or unique("inv")
    z = zip_bytes if zip_bytes is not None else build_zip(files, executables)
    client.create_function(
        FunctionName=name,
        Runtime=runtime,
        Handler=handler,
        Role=ROLE,
        Code={"ZipFile": z},
        **kwargs,
    )
    wait_updated(client, name)
    return name


def wait_updated(client, name: str, timeout: float = 30.0) -> dict:
    """Polls until State is Active and LastUpdateStatus Successful."""
    deadline = time.monotonic() + timeout
    while True:
        cfg = client.get_function_configuration(FunctionName=name)
        if cfg.get("State") == "Active" and cfg.get("LastUpdateStatus", "Successful") == "Successful":
            return cfg
        assert cfg.get("State") != "Failed", cfg
        assert time.monotonic() < deadline, f"function {name} not ready: {cfg}"
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------------
# invoking


@dataclass
class Report:
    request_id: str
    duration_ms: float
    billed_ms: int
    memory_mb: int
    max_memory_mb: int
    init_ms: float | None
    rest: str  # what follows (e.g. "Status: timeout\t"), "" on success


@dataclass
class Result:
    status: int
    function_error: str | None
    executed_version: str | None
    raw: bytes
    log: str
    headers: dict = field(default_factory=dict)

    @property
    def payload(self):
        return json.loads(self.raw)

    @property
    def lines(self) -> list[str]:
        """Log lines split on \\n only (Python error reports join traceback lines with \\r)."""
        return split_lines(self.log)

    def start_id(self) -> str:
        starts = [m for m in map(START_RE.match, self.lines) if m]
        assert len(starts) == 1, f"expected one START line in:\n{self.log}"
        return starts[0].group(1)

    def report(self) -> Report:
        return parse_report(self.log)


def split_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def parse_report(log: str) -> Report:
    reports = [m for m in map(REPORT_RE.match, split_lines(log)) if m]
    assert len(reports) == 1, f"expected exactly one well-formed REPORT line in:\n{log!r}"
    m = reports[0]
    return Report(
        request_id=m.group(1),
        duration_ms=float(m.group(2)),
        billed_ms=int(m.group(3)),
        memory_mb=int(m.group(4)),
        max_memory_mb=int(m.group(5)),
        init_ms=float(m.group(6)) if m.group(6) is not None else None,
        rest=m.group(7),
    )


def check_frame(res: Result, version: str = "$LATEST") -> str:
    """START first, END then REPORT last, all with the same request id; returns the id."""
    lines = res.lines
    assert lines, "empty tail log"
    m = START_RE.match(lines[0])
    assert m, f"first tail line is not START: {lines[0]!r}\n{res.log}"
    rid, ver = m.groups()
    assert ver == version
    assert lines[-2] == f"END RequestId: {rid}", res.log
    assert lines[-1].startswith(f"REPORT RequestId: {rid}\t"), res.log
    assert res.log.endswith("\t\n") or res.log.endswith("\t"), f"REPORT must end with a tab: {res.log!r}"
    rep = res.report()
    assert rep.request_id == rid
    return rid


_NO_PAYLOAD = object()


def invoke(client, name: str, payload=_NO_PAYLOAD, raw: bytes | None = None, tail: bool = True,
           **kwargs) -> Result:
    """Invokes `name` with `payload` (JSON-encoded; default `{}`) or exactly the bytes `raw`."""
    if raw is not None:
        body = raw
    else:
        body = json.dumps({} if payload is _NO_PAYLOAD else payload).encode()
    args = dict(FunctionName=name, Payload=body, **kwargs)
    if tail:
        args["LogType"] = "Tail"
    r = client.invoke(**args)
    log = base64.b64decode(r["LogResult"]).decode() if r.get("LogResult") else ""
    return Result(
        status=r["StatusCode"],
        function_error=r.get("FunctionError"),
        executed_version=r.get("ExecutedVersion"),
        raw=r["Payload"].read(),
        log=log,
        headers=r["ResponseMetadata"]["HTTPHeaders"],
    )


def b64json(obj) -> str:
    return base64.b64encode(json.dumps(obj).encode()).decode()


CLIENT_CONTEXT = {
    "client": {
        "installation_id": "inst-42",
        "app_title": "Compat",
        "app_version_name": "1.2.3",
        "app_version_code": "123",
        "app_package_name": "com.example.compat",
    },
    "custom": {"tenant": "t-1", "n": 7},
    "env": {"platform": "Linux", "locale": "en_US"},
}


# ---------------------------------------------------------------------------------------------
# handlers used by several suites

# Returns everything a Python function can observe about its environment and invocation.
PY_PROBE = r'''
import json, logging, os, sys, time, uuid

ENV_ID = uuid.uuid4().hex
COUNT = 0
logger = logging.getLogger()
logger.setLevel(logging.INFO)

def _cc(cc):
    if cc is None:
        return None
    c = cc.client
    return {
        "client": None if c is None else {
            "installation_id": c.installation_id, "app_title": c.app_title,
            "app_version_name": c.app_version_name, "app_version_code": c.app_version_code,
            "app_package_name": c.app_package_name,
        },
        "custom": cc.custom,
        "env": cc.env,
    }

def handler(event, context):
    global COUNT
    COUNT += 1
    if event.get("sleep"):
        time.sleep(event["sleep"])
    print("probe print", context.aws_request_id)
    logger.info("probe logging %s", context.function_name)
    return {
        "env_id": ENV_ID,
        "count": COUNT,
        "event": event,
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "identity": None if context.identity is None else {
            "cognito_identity_id": context.identity.cognito_identity_id,
            "cognito_identity_pool_id": context.identity.cognito_identity_pool_id,
        },
        "client_context": _cc(context.client_context),
        "environ": dict(os.environ),
        "cwd": os.getcwd(),
        "sys_path": sys.path,
        "python": "%d.%d" % sys.version_info[:2],
    }
'''

NODE_PROBE = r'''
const crypto = require("crypto");
const ENV_ID = crypto.randomUUID().replace(/-/g, "");
let COUNT = 0;

exports.handler = async (event, context) => {
  COUNT += 1;
  if (event.sleep) await new Promise((r) => setTimeout(r, event.sleep * 1000));
  console.log("probe log", context.awsRequestId);
  console.warn("probe warn");
  return {
    env_id: ENV_ID,
    count: COUNT,
    event,
    awsRequestId: context.awsRequestId,
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    invokedFunctionArn: context.invokedFunctionArn,
    memoryLimitInMB: context.memoryLimitInMB,
    remaining: context.getRemainingTimeInMillis(),
    logGroupName: context.logGroupName,
    logStreamName: context.logStreamName,
    clientContext: context.clientContext === undefined ? "<undefined>" : context.clientContext,
    callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
    environ: process.env,
    cwd: process.cwd(),
    node: process.versions.node,
  };
};
'''


# ---------------------------------------------------------------------------------------------
# a daemon with its own cgroup parent

def start_isolated_daemon(workdir, cgroup_parent: str | None = None, extra_args=(),
                          extra_toml: str = ""):
    """A conftest `Daemon` whose environments live under their own cgroup parent.

    Every `lambdabox serve` sweeps (kills) the environment groups under its cgroup parent at
    startup, and by default all daemons share `lambdabox`: another daemon started on this host
    (another suite, a benchmark) would kill this suite's warm environments mid-test. A parent
    of our own keeps the invoke suites deterministic; test_invoke_boto3 has a test for the
    shared-parent case itself.
    """
    from conftest import Daemon

    # a fixed name per suite: the next run's startup sweep removes whatever a run left behind
    parent = cgroup_parent or f"lambdabox-compat-{workdir.name.rstrip('0123456789')}"
    cfg = workdir / "lambdabox.toml"
    cfg.write_text(f'[sandbox]\ncgroup_parent = "{parent}"\n\n{extra_toml}')
    return Daemon(workdir, extra_args=("--config", str(cfg), *extra_args)).start()


def stop_daemon(d) -> None:
    """SIGTERM (so the daemon removes its environments and cgroup parent), then SIGKILL."""
    try:
        d.stop()
    except AssertionError:
        d.kill()


def cgroup_dirs(parent: str) -> list:
    """Every directory of the configured cgroup parent `parent` in the mounted cgroup
    hierarchies (v1: one per controller; v2: one), found by walking a few levels of
    /sys/fs/cgroup. The daemon names it `<parent>-<8 hex digest of its data dir>`."""
    from pathlib import Path

    found = []
    root = Path("/sys/fs/cgroup")
    frontier = [root]
    for _ in range(6):
        nxt = []
        for d in frontier:
            try:
                for child in d.iterdir():
                    if child.is_dir():
                        suffix = child.name[len(parent) + 1:]
                        if child.name.startswith(parent + "-") and len(suffix) == 8 and all(
                                c in "0123456789abcdef" for c in suffix):
                            found.append(child)
                        elif not child.name.startswith("lbx-"):
                            nxt.append(child)
            except OSError:
                pass
        frontier = nxt
    return found


def remove_empty_cgroups(dirs) -> None:
    """Test cleanup: removes the process-free `lbx-*` groups under `dirs`, then `dirs`."""
    for d in dirs:
        if not d.exists():
            continue
        for g in d.iterdir():
            try:
                if g.is_dir() and not (g / "cgroup.procs").read_text().strip():
                    g.rmdir()
            except OSError:
                pass
        try:
            d.rmdir()
        except OSError:
            pass
