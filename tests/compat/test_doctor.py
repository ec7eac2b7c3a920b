"""`lambdabox doctor` on this machine: exit 0 (nothing blocks functions here), every check
present, and a failing check (the listen port taken by another program) turns the exit code
non-zero with its fix."""

from __future__ import annotations

import socket
import subprocess

from conftest import BIN

ROWS = ("sandbox self-check", "landlock", "seccomp", "cgroup delegation", "cgroup hierarchies",
        "namespaces", "cgroup_favordynmods", "CLONE_INTO_CGROUP", "runtimes available",
        "data dir", "free space", "listen port", "clock",
        "internet networking: root", "internet networking: nftables",
        "internet networking: ip forwarding")


def doctor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN), "doctor", *args], capture_output=True, text=True, timeout=60)


def test_doctor_passes_on_this_host_with_every_row(tmp_path):
    p = doctor("--data-dir", str(tmp_path / "data"))
    assert p.returncode == 0, p.stdout + p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split()[:2] == ["CHECK", "STATUS"]
    for name in ROWS:
        assert any(line.startswith(name + " ") for line in lines), (name, p.stdout)
    assert "FAIL" not in p.stdout, p.stdout
    # what the sandbox reports at start is what doctor reports
    assert any(line.startswith("runtimes available") and "python3.11" in line for line in lines)
    assert not (tmp_path / "data").exists(), "doctor must not create the data dir"


def test_a_taken_port_fails_with_its_fix(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        (tmp_path / "c.toml").write_text(f'listen = "127.0.0.1:{port}"\n')
        p = doctor("--config", str(tmp_path / "c.toml"), "--data-dir", str(tmp_path / "d"))
    assert p.returncode == 1, p.stdout + p.stderr
    line = next(line for line in p.stdout.splitlines() if line.startswith("listen port"))
    assert "FAIL" in line, p.stdout
    assert "fix: stop what uses it" in p.stdout, p.stdout
