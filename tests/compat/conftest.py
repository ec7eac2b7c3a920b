"""Fixtures of the compatibility suite: the real lambdabox binary, driven by the real AWS CLI v2
and boto3.

`daemon` is shared by a module (tests there use unique function names); `fresh_daemon` is a
new daemon with an empty data directory for tests that count things or restart it. When a test
fails, the part of each daemon's stderr log written during that test is attached to the report.
"""

from __future__ import annotations

import base64
import configparser
import hashlib
import io
import json
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from functools import lru_cache
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("LAMBDABOX_BIN", str(ROOT / "target" / "release" / "lambdabox")))
AWS_CLI = os.environ.get("LAMBDABOX_AWS_CLI", "/usr/bin/aws")
ACCOUNT = "000000000000"
REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/lambda-execution-role"
START_TIMEOUT = 20.0

# Every daemon started by this session, for the failure-log hook.
_DAEMONS: list["Daemon"] = []


# ---------------------------------------------------------------------------------------------
# zips


# Entries carry a fixed timestamp so that the same files always give the same bytes.
FIXED_ZIP_TIME = (2024, 1, 1, 0, 0, 0)


def make_zip(files: dict[str, bytes | str]) -> bytes:
    """A deflated zip archive of `files` (name -> content), built in memory."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data.encode() if isinstance(data, str) else data)
    return buf.getvalue()


def handler_zip(marker: str = "v1") -> bytes:
    """A python package with `lambda_function.lambda_handler`; `marker` makes its bytes unique."""
    return make_zip(
        {
            "lambda_function.py": (
                "def lambda_handler(event, context):\n"
                f"    return {{'marker': {marker!r}, 'event': event}}\n"
            )
        }
    )


def unsafe_zip(entry_name: str) -> bytes:
    """A zip with one entry stored under exactly `entry_name` (zipfile would not sanitize it on
    write, but build the ZipInfo by hand to be explicit)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("lambda_function.py", "def lambda_handler(e, c):\n    return 1\n")
        info = zipfile.ZipInfo(entry_name, date_time=FIXED_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, b"owned\n")
    data = buf.getvalue()
    assert entry_name.encode() in data
    return data


def corrupt_zip(kind: str) -> bytes:
    """A zip whose central directory still lists its entries (so the AWS CLI's own check,
    which reads only that, lets it through) but which cannot be unzipped:
    `local-header` breaks the entry's local header signature, `data` flips bytes inside the
    compressed stream (the CRC no longer matches)."""
    good = make_zip({"lambda_function.py": "def lambda_handler(e, c):\n    return 'x' * 4000\n" * 20})
    if kind == "local-header":
        assert good.startswith(b"PK\x03\x04")
        return b"PK\x07\x07" + good[4:]
    if kind == "data":
        start = 30 + len("lambda_function.py")
        body = bytearray(good)
        for i in range(start + 4, start + 12):
            body[i] ^= 0xFF
        return bytes(body)
    raise ValueError(kind)


@lru_cache(maxsize=1)
def lying_zip_bomb() -> bytes:
    """A zip whose one big entry (264 MB of zeros, ~260 KB deflated) *declares* an unzipped
    size of 1,000 bytes in both its local header and the central directory: only reading the
    stream reveals the real size."""
    buf = io.BytesIO()
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("zeros.bin", date_time=FIXED_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w") as f:
            for _ in range(264):
                f.write(chunk)
    data = bytearray(buf.getvalue())
    assert len(data) < 2 * 1024 * 1024, len(data)
    real = (264 << 20).to_bytes(4, "little")
    fake = (1000).to_bytes(4, "little")
    assert data[:4] == b"PK\x03\x04" and data[22:26] == real
    data[22:26] = fake
    cd = data.rfind(b"PK\x01\x02")
    assert data[cd + 24:cd + 28] == real
    data[cd + 24:cd + 28] = fake
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        assert zf.infolist()[0].file_size == 1000
    return bytes(data)


@lru_cache(maxsize=1)
def zip_bomb() -> bytes:
    """A small zip whose entries unzip to more than 250 MB (264 MB of zeros in one entry plus a
    second 8 MB entry), at the ~1000:1 ratio deflate really achieves on zeros."""
    buf = io.BytesIO()
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("lambda_function.py", "def lambda_handler(e, c):\n    return 1\n")
        for name, mb in (("zeros.bin", 264), ("more.bin", 8)):
            with zf.open(name, "w") as f:
                for _ in range(mb):
                    f.write(chunk)
    data = buf.getvalue()
    assert len(data) < 2 * 1024 * 1024, len(data)
    return data


def b64sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def unique(prefix: str = "fn") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def http_get(url: str, headers: dict | None = None, timeout: float = 10.0):
    """GET without any signing: (status, headers, body bytes); HTTP errors are returned too."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


# ---------------------------------------------------------------------------------------------
# the daemon


class Daemon:
    """One `lambdabox serve` process on 127.0.0.1:0 with its own data directory."""

    def __init__(self, workdir: Path, extra_args: tuple[str, ...] = (), env: dict | None = None):
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.log_path = workdir / "daemon.log"
        self.extra_args = extra_args
        self.extra_env = env or {}
        self.proc: subprocess.Popen | None = None
        self.endpoint = ""
        self.port = 0
        self.starts = 0
        _DAEMONS.append(self)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> "Daemon":
        assert BIN.exists(), f"lambdabox binary not found at {BIN}; run cargo build --release"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDABOX_")}
        env.update(self.extra_env)
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(f"\n----- start #{self.starts} -----\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            [str(BIN), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(self.data_dir),
             *self.extra_args],
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
        )
        log.close()
        lines: queue.Queue = queue.Queue()

        def pump(stream):
            for raw in stream:
                lines.put(raw.decode(errors="replace").rstrip("\n"))
            lines.put(None)

        threading.Thread(target=pump, args=(self.proc.stdout,), daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        first = None
        while time.monotonic() < deadline:
            try:
                first = lines.get(timeout=0.1)
                break
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
        if first is None or not first.startswith("listening on http://"):
            self.kill()
            raise AssertionError(
                f"lambdabox did not print its listening line (got {first!r}); log:\n{self.log()}"
            )
        self.endpoint = first[len("listening on "):].strip()
        self.port = int(self.endpoint.rsplit(":", 1)[1])
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Sends `sig` and waits for the exit; returns the exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"lambdabox did not exit within {timeout}s of signal {sig}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> "Daemon":
        """SIGTERM, wait, start again on the same data dir (the port may change)."""
        rc = self.stop(signal.SIGTERM)
        assert rc == 0, f"lambdabox exited {rc} on SIGTERM; log:\n{self.log()}"
        return self.start()

    def crash_restart(self) -> "Daemon":
        """kill -9, then start again on the same data dir."""
        self.stop(signal.SIGKILL)
        return self.start()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # -- credentials and clients ------------------------------------------------------------

    @property
    def credentials_file(self) -> Path:
        return self.data_dir / "admin-credentials"

    @property
    def config_file(self) -> Path:
        return self.data_dir / "aws-config"

    def admin_keys(self) -> tuple[str, str]:
        cp = configparser.ConfigParser()
        cp.read(self.credentials_file)
        return cp["default"]["aws_access_key_id"], cp["default"]["aws_secret_access_key"]

    def cli_env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_SHARED_CREDENTIALS_FILE=str(self.credentials_file),
            AWS_CONFIG_FILE=str(self.config_file),
            AWS_PAGER="",
            AWS_EC2_METADATA_DISABLED="true",
            AWS_MAX_ATTEMPTS="1",
        )
        return env

    def client(self, key: tuple[str, str] | None = None, region: str = REGION, **config):
        """A boto3 `lambda` client against this daemon (no retries unless asked)."""
        key_id, secret = key or self.admin_keys()
        config.setdefault("retries", {"total_max_attempts": 1})
        return boto3.client(
            "lambda",
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            config=Config(**config),
        )

    def aws(self, *args: str, cwd: Path | None = None, timeout: float = 120.0, service="lambda"):
        """Runs `aws --endpoint-url ... lambda ARGS`: (rc, parsed JSON or text, stderr)."""
        p = subprocess.run(
            [AWS_CLI, "--endpoint-url", self.endpoint, service, *args],
            capture_output=True,
            text=True,
            env=self.cli_env(),
            cwd=cwd,
            timeout=timeout,
        )
        out: object = p.stdout
        if p.stdout.strip():
            try:
                out = json.loads(p.stdout)
            except ValueError:
                out = p.stdout
        return p.returncode, out, p.stderr

    def aws_many(self, calls: list[tuple[str, ...]], workers: int = 4, **kw) -> list:
        """Runs independent CLI calls concurrently; results in the order of `calls`."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(lambda args: self.aws(*args, **kw), calls))

    def lambdabox(self, *args: str) -> subprocess.CompletedProcess:
        """Runs another `lambdabox` command on this daemon's data dir."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDABOX_")}
        return subprocess.run(
            [str(BIN), *args, "--data-dir", str(self.data_dir)],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
        )


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = Daemon(tmp_path_factory.mktemp("lambdabox")).start()
    yield d
    d.kill()


@pytest.fixture
def fresh_daemon(tmp_path_factory):
    d = Daemon(tmp_path_factory.mktemp("lambdabox-fresh")).start()
    yield d
    d.kill()


@pytest.fixture(autouse=True)
def _log_offsets(request):
    """Remembers where each daemon's log stood when the test started."""
    request.node._lambdabox_offsets = {
        id(d): d.log_path.stat().st_size if d.log_path.exists() else 0 for d in _DAEMONS
    }
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when not in ("setup", "call") or not rep.failed:
        return
    offsets = getattr(item, "_lambdabox_offsets", {})
    for d in _DAEMONS:
        if not d.log_path.exists():
            continue
        with open(d.log_path, "rb") as f:
            f.seek(offsets.get(id(d), 0))
            text = f.read().decode(errors="replace")
        if text.strip():
            rep.sections.append((f"lambdabox stderr ({d.workdir.name}, {d.endpoint})", text[-20000:]))


def pytest_sessionstart(session):
    if shutil.which(AWS_CLI) is None and not Path(AWS_CLI).exists():
        raise pytest.UsageError(f"AWS CLI v2 not found at {AWS_CLI} (set LAMBDABOX_AWS_CLI)")
