"""Logging controls (`LoggingConfig`): LogFormat Text|JSON, ApplicationLogLevel,
SystemLogLevel and a custom LogGroup, set with Debian's AWS CLI and boto3, honoured by the
python and node runtime clients (AWS's JSON records, level filtering) and by the platform's
own records (platform.start / platform.report, filtered by SystemLogLevel), and visible
through the CloudWatch Logs API (`aws logs filter-log-events`, `aws logs tail`)."""

from __future__ import annotations

import json
import subprocess
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import AWS_CLI, REGION, ROLE, unique
from invoke_support import build_zip, create_function, invoke

PY_APP = r'''
import json, logging, os
log = logging.getLogger()
def handler(event, context):
    tag = event.get("tag", "none")
    log.debug("debug %s", tag)
    log.info("info %s", tag)
    log.warning("warn %s", tag)
    log.error("error %s", tag, extra={"order": 7})
    try:
        raise ValueError("boom " + tag)
    except ValueError:
        log.exception("caught %s", tag)
    print("plain print " + tag)
    return {k: os.environ.get(k) for k in ("AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL",
                                           "AWS_LAMBDA_LOG_GROUP_NAME")}
'''

NODE_APP = r'''
exports.handler = async (event) => {
  const tag = event.tag || "none";
  console.debug("debug " + tag);
  console.log("log " + tag);
  console.info("info " + tag);
  console.warn("warn " + tag);
  console.error("error %s", tag, new TypeError("bad " + tag));
  return { format: process.env.AWS_LAMBDA_LOG_FORMAT, level: process.env.AWS_LAMBDA_LOG_LEVEL };
};
'''


def logs_client(d):
    key_id, secret = d.admin_keys()
    return boto3.client(
        "logs", endpoint_url=d.endpoint, region_name=REGION, aws_access_key_id=key_id,
        aws_secret_access_key=secret, config=Config(retries={"total_max_attempts": 1}))


def events(d, group: str, want: int, timeout: float = 30.0, pattern: str = "") -> list[str]:
    logs = logs_client(d)
    deadline = time.monotonic() + timeout
    while True:
        try:
            ev = logs.filter_log_events(logGroupName=group, filterPattern=pattern)["events"]
        except ClientError:
            ev = []
        if len(ev) >= want or time.monotonic() > deadline:
            return [e["message"] for e in ev]
        time.sleep(0.2)


def records(messages: list[str]) -> list[dict]:
    out = []
    for m in messages:
        assert m.startswith("{"), f"not a JSON record: {m!r} in {messages}"
        out.append(json.loads(m))
    return out


def test_default_is_text_in_the_function_group(daemon):
    lam = daemon.client()
    name = create_function(lam, {"app.py": PY_APP})
    cfg = lam.get_function_configuration(FunctionName=name)
    assert cfg["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    r = invoke(lam, name, {"tag": "t"})
    env = json.loads(r.raw)
    assert env["AWS_LAMBDA_LOG_FORMAT"] == "Text" and env["AWS_LAMBDA_LOG_LEVEL"] is None
    assert "START RequestId:" in r.log and "[WARNING]" in r.log and "plain print t" in r.log


def test_json_custom_group_python_filtering_seen_by_cli(daemon):
    # Debian's AWS CLI (2.9.19) predates LoggingConfig (its model has no --logging-config),
    # so boto3 sets it; the CLI reads the logs (`aws logs filter-log-events`, `aws logs tail`).
    lam = daemon.client()
    name = unique("lcpy")
    group = f"/custom/{name}"
    want = {"LogFormat": "JSON", "ApplicationLogLevel": "WARN", "SystemLogLevel": "INFO",
            "LogGroup": group}
    out = lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                              Role=ROLE, Code={"ZipFile": build_zip({"app.py": PY_APP})},
                              LoggingConfig=want)
    assert out["LoggingConfig"] == want
    assert lam.get_function_configuration(FunctionName=name)["LoggingConfig"] == want
    r = invoke(daemon.client(), name, {"tag": "p1"})
    assert json.loads(r.raw) == {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "WARN",
                                 "AWS_LAMBDA_LOG_GROUP_NAME": group}
    # platform.start, warn, error, exception, platform.report; nothing in the default group.
    recs = records(events(daemon, group, want=5))
    kinds = [x.get("type") or x.get("level") for x in recs]
    assert kinds == ["platform.start", "WARN", "ERROR", "ERROR", "platform.report"], recs
    warn, err_rec, exc = recs[1], recs[2], recs[3]
    assert set(warn) == {"timestamp", "level", "message", "logger", "requestId"}, warn
    assert warn["message"] == "warn p1" and warn["logger"] == "root"
    assert warn["timestamp"].endswith("Z") and len(warn["timestamp"]) == 24
    rid = recs[0]["record"]["requestId"]
    assert warn["requestId"] == rid and err_rec["order"] == 7
    assert exc["errorType"] == "ValueError" and exc["errorMessage"] == "boom p1"
    assert exc["stackTrace"], exc
    report = recs[4]
    assert report["record"]["requestId"] == rid and report["record"]["status"] == "success"
    assert set(report["record"]["metrics"]) >= {"durationMs", "billedDurationMs",
                                                 "memorySizeMB", "maxMemoryUsedMB"}
    assert not any("plain print" in m for m in events(daemon, group, want=6, timeout=1))
    rc, cli, err = daemon.aws("filter-log-events", "--log-group-name", group,
                              "--filter-pattern", '{ $.level = "ERROR" }', service="logs")
    assert rc == 0, err
    assert [json.loads(e["message"])["message"] for e in cli["events"]] == [
        "error p1", "caught p1"]
    logs = logs_client(daemon)
    assert logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"] == []
    # `aws logs tail` reads the custom group.
    p = subprocess.run([AWS_CLI, "--endpoint-url", daemon.endpoint, "logs", "tail", group,
                        "--since", "10m", "--format", "short"],
                       capture_output=True, text=True, env=daemon.cli_env(), timeout=60)
    assert p.returncode == 0, p.stderr
    assert '"type": "platform.report"' in p.stdout or '"type":"platform.report"' in p.stdout
    assert "warn p1" in p.stdout and "info p1" not in p.stdout


def test_node_json_records_and_level_filtering(daemon):
    lam = daemon.client()
    name = create_function(lam, {"index.js": NODE_APP}, runtime="nodejs20.x",
                           handler="index.handler",
                           LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "INFO"})
    r = invoke(lam, name, {"tag": "n1"})
    assert json.loads(r.raw) == {"format": "JSON", "level": "INFO"}
    recs = records(events(daemon, f"/aws/lambda/{name}", want=6))
    app = [x for x in recs if "level" in x]
    assert [x["level"] for x in app] == ["INFO", "INFO", "WARN", "ERROR"], recs
    assert app[0]["message"] == "log n1" and set(app[0]) == {"timestamp", "level",
                                                             "requestId", "message"}
    e = app[3]
    assert e["message"].startswith("error n1") and e["errorType"] == "TypeError"
    assert e["errorMessage"] == "bad n1" and isinstance(e["stackTrace"], list)
    assert [x["type"] for x in recs if "type" in x] == ["platform.start", "platform.report"]
    # A cold start reports its init duration in the JSON report.
    assert "initDurationMs" in recs[-1]["record"]["metrics"]


def test_system_level_debug_and_warn(daemon):
    lam = daemon.client()
    name = create_function(lam, {"app.py": PY_APP},
                           LoggingConfig={"LogFormat": "JSON", "SystemLogLevel": "DEBUG",
                                          "ApplicationLogLevel": "ERROR"})
    invoke(lam, name, {"tag": "s1"})
    recs = records(events(daemon, f"/aws/lambda/{name}", want=5))
    assert [x["type"] for x in recs if "type" in x] == [
        "platform.start", "platform.runtimeDone", "platform.report"], recs
    assert [x["level"] for x in recs if "level" in x] == ["ERROR", "ERROR"]
    cfg = lam.update_function_configuration(FunctionName=name,
                                            LoggingConfig={"SystemLogLevel": "WARN"})
    assert cfg["LoggingConfig"]["SystemLogLevel"] == "WARN"
    assert cfg["LoggingConfig"]["ApplicationLogLevel"] == "ERROR"
    invoke(lam, name, {"tag": "s2"})
    later = records(events(daemon, f"/aws/lambda/{name}", want=7, pattern="s2"))
    assert later and all("type" not in x for x in later), later


def test_update_to_text_drops_levels_and_versions_keep_theirs(daemon):
    lam = daemon.client()
    name = create_function(lam, {"app.py": PY_APP},
                           LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"})
    v1 = lam.publish_version(FunctionName=name)
    assert v1["LoggingConfig"]["ApplicationLogLevel"] == "DEBUG"
    assert v1["LoggingConfig"]["SystemLogLevel"] == "INFO"
    cfg = lam.update_function_configuration(FunctionName=name,
                                            LoggingConfig={"LogFormat": "Text"})
    assert cfg["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    got = lam.get_function_configuration(FunctionName=name, Qualifier=v1["Version"])
    assert got["LoggingConfig"]["LogFormat"] == "JSON"
    r = invoke(lam, name, {"tag": "u"}, Qualifier=v1["Version"])
    assert json.loads(r.raw)["AWS_LAMBDA_LOG_LEVEL"] == "DEBUG"
    assert '"type": "platform.start"' in r.log or '"type":"platform.start"' in r.log


@pytest.mark.parametrize("logging_config,code,text", [
    ({"LogFormat": "Text", "ApplicationLogLevel": "DEBUG"}, "InvalidParameterValueException",
     'LogLevel is not supported when LogFormat is set to "Text"'),
    ({"SystemLogLevel": "WARN"}, "InvalidParameterValueException", "LogLevel is not supported"),
    ({"LogFormat": "json"}, "ValidationException", "loggingConfig.logFormat"),
    ({"LogFormat": "JSON", "ApplicationLogLevel": "VERBOSE"}, "ValidationException",
     "Member must satisfy enum value set: [TRACE, DEBUG, INFO, WARN, ERROR, FATAL]"),
    ({"LogFormat": "JSON", "SystemLogLevel": "ERROR"}, "ValidationException",
     "Member must satisfy enum value set: [DEBUG, INFO, WARN]"),
    ({"LogGroup": "bad group!"}, "ValidationException", "regular expression pattern"),
    ({"LogGroup": "x" * 513}, "ValidationException", "512"),
])
def test_validation_errors_change_nothing(daemon, logging_config, code, text):
    lam = daemon.client()
    name = unique("lcbad")
    with pytest.raises(ClientError) as e:
        lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                            Role=ROLE, Code={"ZipFile": build_zip({"app.py": PY_APP})},
                            LoggingConfig=logging_config)
    assert e.value.response["Error"]["Code"] == code and text in str(e.value)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError):
        lam.get_function(FunctionName=name)
    existing = create_function(lam, {"app.py": PY_APP})
    before = lam.get_function_configuration(FunctionName=existing)
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName=existing, LoggingConfig=logging_config)
    assert e.value.response["Error"]["Code"] == code
    after = lam.get_function_configuration(FunctionName=existing)
    assert after["RevisionId"] == before["RevisionId"]
    assert after["LoggingConfig"] == before["LoggingConfig"]
