"""IAM and STS through boto3 (issue 19, items 2 and 3): AssumeRole checks the trust policy;
calls made with the session's credentials are decided by the role's policies (identity and
resource policies combined, explicit deny wins, session policies narrow), refused with
AWS's AccessDeniedException message; admin keys keep full access.
"""

from __future__ import annotations

import json
import re

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, handler_zip, unique
from invoke_support import wait_updated

ROOT_TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                   "Action": "sts:AssumeRole"}],
})
LAMBDA_TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
})


def client(daemon, service, creds=None):
    key = daemon.admin_keys()
    kw = dict(aws_access_key_id=key[0], aws_secret_access_key=key[1])
    if creds:
        kw = dict(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                  aws_session_token=creds["SessionToken"])
    return boto3.client(service, endpoint_url=daemon.endpoint, region_name=REGION,
                        config=Config(retries={"total_max_attempts": 1}), **kw)


@pytest.fixture(scope="module")
def functions(daemon):
    lam = client(daemon, "lambda")
    names = {}
    for tag in ("allowed", "denied"):
        n = unique(tag)
        lam.create_function(FunctionName=n, Runtime="python3.12", Handler="lambda_function.lambda_handler",
                            Role=f"arn:aws:iam::{ACCOUNT}:role/none", Code={"ZipFile": handler_zip(tag)})
        names[tag] = n
    for n in names.values():
        wait_updated(lam, n)
    return names


def role_with(daemon, policy: dict | None, trust: str = ROOT_TRUST) -> str:
    iam = client(daemon, "iam")
    name = unique("role")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    if policy:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    return arn


def assume(daemon, role_arn: str, **kw) -> dict:
    sts = client(daemon, "sts")
    return sts.assume_role(RoleArn=role_arn, RoleSessionName="tester", **kw)


def fn_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def test_assume_role_and_caller_identity(daemon):
    arn = role_with(daemon, None)
    out = assume(daemon, arn, DurationSeconds=900)
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and creds["SessionToken"]
    role_name = arn.rsplit("/", 1)[1]
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/tester"
    me = client(daemon, "sts", creds).get_caller_identity()
    assert me["Arn"] == out["AssumedRoleUser"]["Arn"]
    assert me["UserId"] == out["AssumedRoleUser"]["AssumedRoleId"]
    assert me["Account"] == ACCOUNT
    # Without the session token the key is not accepted.
    bare = boto3.client("sts", endpoint_url=daemon.endpoint, region_name=REGION,
                        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        bare.get_caller_identity()
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_trust_policy_decides_assume_role(daemon):
    arn = role_with(daemon, None, trust=LAMBDA_TRUST)
    with pytest.raises(ClientError) as e:
        assume(daemon, arn)
    err = e.value.response["Error"]
    assert err["Code"] == "AccessDenied"
    assert err["Message"] == (f"User: arn:aws:iam::{ACCOUNT}:user/admin is not authorized to perform: "
                              f"sts:AssumeRole on resource: {arn}")
    with pytest.raises(ClientError) as e:
        assume(daemon, f"arn:aws:iam::{ACCOUNT}:role/{unique('ghost')}")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    ok = role_with(daemon, None)
    with pytest.raises(ClientError) as e:
        assume(daemon, ok, DurationSeconds=7200)
    assert e.value.response["Error"]["Code"] == "ValidationError"


def test_session_calls_are_decided_by_the_role_policy(daemon, functions):
    allowed, denied = functions["allowed"], functions["denied"]
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["lambda:InvokeFunction", "lambda:GetFunction*"], "Resource": fn_arn(allowed)},
        {"Effect": "Allow", "Action": "lambda:ListFunctions", "Resource": "*"},
    ]}
    arn = role_with(daemon, policy)
    creds = assume(daemon, arn)["Credentials"]
    lam = client(daemon, "lambda", creds)
    out = lam.invoke(FunctionName=allowed, Payload=b"{}")
    assert json.loads(out["Payload"].read())["marker"] == "allowed"
    lam.get_function_configuration(FunctionName=allowed)
    assert lam.list_functions()["Functions"]
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=denied, Payload=b"{}")
    err = e.value.response
    assert err["Error"]["Code"] == "AccessDeniedException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 403
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/{arn.rsplit('/', 1)[1]}/tester"
    assert err["Error"]["Message"] == (
        f"User: {session} is not authorized to perform: lambda:InvokeFunction on resource: "
        f"{fn_arn(denied)} because no identity-based policy allows the lambda:InvokeFunction action")
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=allowed)
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    # IAM itself is refused in its own shape.
    with pytest.raises(ClientError) as e:
        client(daemon, "iam", creds).list_roles()
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    # The admin key keeps full access.
    client(daemon, "lambda").get_function(FunctionName=denied)


def test_explicit_deny_and_session_policies(daemon, functions):
    allowed = functions["allowed"]
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "lambda:InvokeFunction", "Resource": fn_arn(allowed)},
    ]}
    arn = role_with(daemon, policy)
    lam = client(daemon, "lambda", assume(daemon, arn)["Credentials"])
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=allowed, Payload=b"{}")
    assert "with an explicit deny in an identity-based policy" in e.value.response["Error"]["Message"]
    lam.get_function(FunctionName=allowed)
    narrow = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:ListFunctions", "Resource": "*"}]})
    lam2 = client(daemon, "lambda", assume(daemon, arn, Policy=narrow)["Credentials"])
    lam2.list_functions()
    with pytest.raises(ClientError) as e:
        lam2.get_function(FunctionName=allowed)
    assert "no session policy allows" in e.value.response["Error"]["Message"]


def test_function_resource_policy_allows_the_role(daemon, functions):
    denied = functions["denied"]
    arn = role_with(daemon, None)
    client(daemon, "lambda").add_permission(FunctionName=denied, StatementId=unique("s"),
                                            Action="lambda:InvokeFunction", Principal=arn)
    lam = client(daemon, "lambda", assume(daemon, arn)["Credentials"])
    out = lam.invoke(FunctionName=denied, Payload=b"{}")
    assert json.loads(out["Payload"].read())["marker"] == "denied"
    with pytest.raises(ClientError):
        lam.get_function(FunctionName=denied)


def test_attached_managed_policy_applies_and_detaching_takes_effect(daemon, functions):
    allowed = functions["allowed"]
    iam = client(daemon, "iam")
    name = unique("role")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=ROOT_TRUST)["Role"]["Arn"]
    iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaRole")
    lam = client(daemon, "lambda", assume(daemon, arn)["Credentials"])
    lam.invoke(FunctionName=allowed, Payload=b"{}")
    iam.detach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaRole")
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=allowed, Payload=b"{}")
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"


def test_scoped_api_keys_carry_a_policy(daemon, functions, tmp_path):
    allowed, denied = functions["allowed"], functions["denied"]
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": fn_arn(allowed)}]}))
    p = daemon.lambdabox("keys", "create", "--description", "ci", "--policy", str(policy))
    assert p.returncode == 0, p.stderr
    key_id = re.search(r"aws_access_key_id = (\S+)", p.stdout).group(1)
    secret = re.search(r"aws_secret_access_key = (\S+)", p.stdout).group(1)
    lam = boto3.client("lambda", endpoint_url=daemon.endpoint, region_name=REGION,
                       aws_access_key_id=key_id, aws_secret_access_key=secret,
                       config=Config(retries={"total_max_attempts": 1}))
    lam.invoke(FunctionName=allowed, Payload=b"{}")
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=denied, Payload=b"{}")
    assert e.value.response["Error"]["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:user/automation is not authorized to perform: "
        f"lambda:InvokeFunction on resource: {fn_arn(denied)} because no identity-based policy "
        "allows the lambda:InvokeFunction action")
    bad = tmp_path / "bad.json"
    bad.write_text('{"Statement": "x"}')
    p = daemon.lambdabox("keys", "create", "--policy", str(bad))
    assert p.returncode != 0 and "not a valid IAM policy" in p.stderr
