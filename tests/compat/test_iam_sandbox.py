"""The AWS APIs from inside a function (issue 19, items 3 and 4, "Show"): a Python function
with the seed's policy calls `boto3.client("lambda").invoke` of an allowed function (works)
and of a denied one (AccessDeniedException) and `sts get_caller_identity`, with no endpoint
or credentials in its code; the in-sandbox endpoint serves only the environment's own
credentials and never the dashboard; the credentials stop working once the environment is
gone. boto3 comes from this test suite's virtualenv, mounted with `iam.python_sdk_dir` (as
AWS's python runtimes ship boto3).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, handler_zip, unique
from invoke_support import build_zip, start_isolated_daemon, stop_daemon, wait_updated

SITE_PACKAGES = Path(boto3.__file__).resolve().parent.parent

CALLER = '''
import json, os, urllib.request, urllib.error
import boto3
from botocore.exceptions import ClientError


def handler(event, context):
    out = {k: os.environ.get(k) for k in
           ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
    out["identity"] = boto3.client("sts").get_caller_identity()["Arn"]
    lam = boto3.client("lambda")
    for tag in ("allowed", "denied"):
        try:
            r = lam.invoke(FunctionName=event[tag], Payload=b"{}")
            out[tag] = json.loads(r["Payload"].read())
        except ClientError as e:
            out[tag] = {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"]}
    # Other credentials are not served here.
    admin = boto3.client("sts", aws_access_key_id=event["admin"][0], aws_secret_access_key=event["admin"][1],
                         aws_session_token=None)
    try:
        admin.get_caller_identity()
        out["admin"] = "served"
    except ClientError as e:
        out["admin"] = e.response["ResponseMetadata"]["HTTPStatusCode"]
    # Nor the dashboard.
    out["dashboard"] = []
    for path in ("/", "/ui/functions", "/metrics"):
        try:
            urllib.request.urlopen(os.environ["AWS_ENDPOINT_URL"] + path, timeout=5)
            out["dashboard"].append(200)
        except urllib.error.HTTPError as e:
            out["dashboard"].append(e.code)
    return out
'''


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = start_isolated_daemon(tmp_path_factory.mktemp("lambdabox-iam-sandbox"),
                              extra_toml=f'[iam]\npython_sdk_dir = "{SITE_PACKAGES}"\n')
    yield d
    stop_daemon(d)


def admin(daemon, service):
    key = daemon.admin_keys()
    return boto3.client(service, endpoint_url=daemon.endpoint, region_name=REGION,
                        aws_access_key_id=key[0], aws_secret_access_key=key[1])


def from_host(daemon, out):
    return boto3.client("sts", endpoint_url=daemon.endpoint, region_name=REGION,
                        aws_access_key_id=out["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=out["AWS_SECRET_ACCESS_KEY"],
                        aws_session_token=out["AWS_SESSION_TOKEN"])


def make(lam, name, role, files, handler):
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler=handler, Role=role,
                        Code={"ZipFile": build_zip(files)}, Timeout=60, MemorySize=512)
    wait_updated(lam, name)


def test_function_calls_aws_apis_with_its_role(daemon):
    lam = admin(daemon, "lambda")
    iam = admin(daemon, "iam")
    allowed, denied, caller = unique("allowed"), unique("denied"), unique("caller")
    for n in (allowed, denied):
        lam.create_function(FunctionName=n, Runtime="python3.12", Handler="lambda_function.lambda_handler",
                            Role=f"arn:aws:iam::{ACCOUNT}:role/none", Code={"ZipFile": handler_zip(n)})
        wait_updated(lam, n)
    role = unique("fn-role")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    seed = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::my-bucket/*"},
        {"Effect": "Allow", "Action": "lambda:InvokeFunction",
         "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{allowed}"},
    ]}
    iam.put_role_policy(RoleName=role, PolicyName="seed", PolicyDocument=json.dumps(seed))
    make(lam, caller, role_arn, {"app.py": CALLER}, "app.handler")

    event = {"allowed": allowed, "denied": denied, "admin": list(daemon.admin_keys())}
    r = lam.invoke(FunctionName=caller, Payload=json.dumps(event).encode())
    out = json.loads(r["Payload"].read())
    assert "FunctionError" not in r, out
    assert out["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert out["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert out["identity"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{caller}"
    assert out["allowed"]["marker"] == allowed
    assert out["denied"]["code"] == "AccessDeniedException"
    assert out["denied"]["message"] == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{caller} is not authorized to perform: "
        f"lambda:InvokeFunction on resource: arn:aws:lambda:{REGION}:{ACCOUNT}:function:{denied} "
        "because no identity-based policy allows the lambda:InvokeFunction action")
    assert out["admin"] == 403
    assert out["dashboard"] == [403, 404, 404]

    # The credentials are real while the environment lives, and end with it.
    assert from_host(daemon, out).get_caller_identity()["Arn"] == out["identity"]
    lam.delete_function(FunctionName=caller)
    deadline = time.monotonic() + 20
    while True:
        try:
            from_host(daemon, out).get_caller_identity()
        except ClientError as e:
            assert e.response["Error"]["Code"] == "InvalidClientTokenId"
            break
        assert time.monotonic() < deadline, "the session outlived its environment"
        time.sleep(0.5)


def test_a_role_named_nowhere_gets_basic_execution_only(daemon):
    lam = admin(daemon, "lambda")
    target, caller = unique("target"), unique("caller")
    lam.create_function(FunctionName=target, Runtime="python3.12", Handler="lambda_function.lambda_handler",
                        Role=f"arn:aws:iam::{ACCOUNT}:role/none", Code={"ZipFile": handler_zip(target)})
    wait_updated(lam, target)
    make(lam, caller, "arn:aws:iam::123456789012:role/lambda-execution-role", {"app.py": CALLER}, "app.handler")
    event = {"allowed": target, "denied": target, "admin": list(daemon.admin_keys())}
    out = json.loads(lam.invoke(FunctionName=caller, Payload=json.dumps(event).encode())["Payload"].read())
    assert out["identity"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/lambda-execution-role/{caller}"
    assert out["allowed"]["code"] == "AccessDeniedException"
    assert "the basic execution permissions only" in daemon.log()
