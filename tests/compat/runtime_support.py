"""Helpers of the per-runtime suites (test_runtime_*.py): building Java jars, Ruby gems and Go
bootstraps with the host's own toolchains, deploying them with the AWS CLI v2 and reading the
tail log.

Java functions are compiled against `AWS_CORE_API` below: the interfaces of
`com.amazonaws.services.lambda.runtime` as aws-lambda-java-core 1.2.x declares them (written
here, since Maven Central is not reachable from the test machines). lambdabox's runtime carries
its own classes of those names; a jar compiled against AWS's library binds to them unchanged.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

from invoke_support import REPORT_RE, START_RE, split_lines
from conftest import ROLE

# aws-lambda-java-core 1.2.x (before getTenantId/getXrayTraceId existed): only what functions
# compile against. Bundled into a jar by `uber=True`, as shaded jars often do.
AWS_CORE_API = {
    "com/amazonaws/services/lambda/runtime/RequestHandler.java": """
package com.amazonaws.services.lambda.runtime;
public interface RequestHandler<I, O> { O handleRequest(I input, Context context); }
""",
    "com/amazonaws/services/lambda/runtime/RequestStreamHandler.java": """
package com.amazonaws.services.lambda.runtime;
import java.io.*;
public interface RequestStreamHandler {
  void handleRequest(InputStream input, OutputStream output, Context context) throws IOException;
}
""",
    "com/amazonaws/services/lambda/runtime/Context.java": """
package com.amazonaws.services.lambda.runtime;
public interface Context {
  String getAwsRequestId(); String getLogGroupName(); String getLogStreamName();
  String getFunctionName(); String getFunctionVersion(); String getInvokedFunctionArn();
  CognitoIdentity getIdentity(); ClientContext getClientContext();
  int getRemainingTimeInMillis(); int getMemoryLimitInMB(); LambdaLogger getLogger();
}
""",
    "com/amazonaws/services/lambda/runtime/LambdaLogger.java": """
package com.amazonaws.services.lambda.runtime;
public interface LambdaLogger { void log(String message); void log(byte[] message); }
""",
    "com/amazonaws/services/lambda/runtime/CognitoIdentity.java": """
package com.amazonaws.services.lambda.runtime;
public interface CognitoIdentity { String getIdentityId(); String getIdentityPoolId(); }
""",
    "com/amazonaws/services/lambda/runtime/ClientContext.java": """
package com.amazonaws.services.lambda.runtime;
public interface ClientContext {
  Client getClient(); java.util.Map<String, String> getCustom(); java.util.Map<String, String> getEnvironment();
}
""",
    "com/amazonaws/services/lambda/runtime/Client.java": """
package com.amazonaws.services.lambda.runtime;
public interface Client {
  String getInstallationId(); String getAppTitle(); String getAppVersionName();
  String getAppVersionCode(); String getAppPackageName();
}
""",
    "com/amazonaws/services/lambda/runtime/LambdaRuntime.java": """
package com.amazonaws.services.lambda.runtime;
public final class LambdaRuntime {
  private LambdaRuntime() {}
  private static volatile LambdaLogger logger = null;
  public static LambdaLogger getLogger() { return logger; }
}
""",
}

API_PREFIX = "com/amazonaws/services/lambda/runtime/"


def javac() -> str:
    p = shutil.which("javac")
    assert p, "javac is installed on every lambdabox test machine (tests/run installs a JDK)"
    return p


def java_jar(work: Path, sources: dict[str, str], uber: bool = False,
             extra_classpath: list[Path] | None = None, release: str = "8") -> bytes:
    """Compiles `sources` (path -> Java text) against AWS_CORE_API and returns a jar (a zip
    of the classes, as `jar` writes it). The API classes are left out unless `uber`."""
    src = work / "src"
    out = work / "classes"
    for d in (src, out):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    for rel, text in {**AWS_CORE_API, **sources}.items():
        p = src / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    files = [str(p) for p in src.rglob("*.java")]
    cp = os.pathsep.join(str(p) for p in (extra_classpath or []))
    cmd = [javac(), "--release", release, "-Xlint:-options", "-d", str(out)]
    if cp:
        cmd += ["-cp", cp]
    r = subprocess.run(cmd + files, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nCreated-By: lambdabox tests\r\n\r\n")
        for p in sorted(out.rglob("*.class")):
            rel = p.relative_to(out).as_posix()
            if rel.startswith(API_PREFIX) and not uber:
                continue
            zf.write(p, rel)
    return buf.getvalue()


def zip_tree(files: dict[str, bytes | str], links: dict[str, str] | None = None,
             executables: tuple[str, ...] = ()) -> bytes:
    """A zip with regular files, symlinks (`links`: name -> target, stored as `zip -y` does:
    mode S_IFLNK, the target as the entry's data) and executable bits."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = 0o755 if name in executables else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.create_system = 3
            zf.writestr(info, data.encode() if isinstance(data, str) else data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            info.create_system = 3
            zf.writestr(info, target)
    return buf.getvalue()


def dir_zip(root: Path) -> bytes:
    """Zips a directory tree as `zip -ry` would (symlinks kept as links)."""
    files: dict[str, bytes] = {}
    links: dict[str, str] = {}
    execs = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink():
            links[rel] = os.readlink(p)
        elif p.is_file():
            files[rel] = p.read_bytes()
            if os.access(p, os.X_OK):
                execs.append(rel)
    return zip_tree(files, links, tuple(execs))


def cli_create(daemon, tmp_path: Path, name: str, runtime: str, handler: str, package: bytes,
               *extra: str, suffix: str = "zip"):
    """`aws lambda create-function … --zip-file fileb://PACKAGE` then waits for Active."""
    pkg = tmp_path / f"{name}.{suffix}"
    pkg.write_bytes(package)
    rc, out, err = daemon.aws(
        "create-function", "--function-name", name, "--runtime", runtime, "--handler", handler,
        "--role", ROLE, "--zip-file", f"fileb://{pkg}", *extra, cwd=tmp_path)
    assert rc == 0, err
    rc, _, err = daemon.aws("wait", "function-active-v2", "--function-name", name)
    assert rc == 0, err
    return out


def cli_invoke(daemon, tmp_path: Path, name: str, payload: str = '{"key": "value"}', *extra):
    """`aws lambda invoke … --log-type Tail out.json`: (stdout JSON, payload bytes, tail log)."""
    out = tmp_path / f"{name}-out.json"
    if out.exists():
        out.unlink()
    rc, stdout, err = daemon.aws(
        "invoke", "--function-name", name, "--cli-binary-format", "raw-in-base64-out",
        "--payload", payload, "--log-type", "Tail", *extra, str(out), cwd=tmp_path, timeout=180)
    assert rc == 0, err
    log = base64.b64decode(stdout["LogResult"]).decode() if stdout.get("LogResult") else ""
    return stdout, out.read_bytes(), log


def frame(log: str) -> tuple[str, list[str]]:
    """START … END, REPORT: the request id and the lines in between."""
    lines = split_lines(log)
    m = START_RE.match(lines[0])
    assert m, log
    rid = m.group(1)
    assert lines[-2] == f"END RequestId: {rid}", log
    rep = REPORT_RE.match(lines[-1])
    assert rep and rep.group(1) == rid, log
    return rid, lines[1:-2]


def seed_checks(stdout: dict, body: bytes, log: str, event_marker: str) -> str:
    """What every runtime's seed handler must show: statusCode 200 with a JSON body, the event,
    the request id and a plausible remaining time in the log. Returns the request id."""
    assert stdout["StatusCode"] == 200 and "FunctionError" not in stdout, (stdout, body, log)
    result = json.loads(body)
    assert result["statusCode"] == 200, result
    assert json.loads(result["body"])["message"] == "OK", result
    rid, inner = frame(log)
    text = "\n".join(inner)
    assert event_marker in text, log
    assert rid in text, log
    remaining = [int(w) for line in inner if "remaining" in line
                 for w in line.replace("=", " ").split() if w.isdigit()]
    assert remaining and 0 < remaining[0] <= 10_000, log
    return rid
