"""IAM through Debian's AWS CLI v2 (issue 19, item 1): roles with trust policies, inline
policies, customer managed policies with versions, attachments, the AWS managed built-ins,
and IAM's own error codes. One daemon for the module; every test uses its own names.
"""

from __future__ import annotations

import json

import pytest

from conftest import ACCOUNT, unique

TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
})
SEED = json.dumps({
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::my-bucket/*"},
    ],
})
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def iam(daemon, *args):
    return daemon.aws(*args, service="iam")


def ok(daemon, *args):
    rc, out, err = iam(daemon, *args)
    assert rc == 0, err
    return out


def fails(daemon, code: str, *args) -> str:
    rc, out, err = iam(daemon, *args)
    assert rc != 0, out
    assert f"({code})" in err, err
    return err


def test_role_lifecycle_with_inline_and_attached_policies(daemon):
    name = unique("role")
    role = ok(daemon, "create-role", "--role-name", name, "--assume-role-policy-document", TRUST,
              "--description", "for tests", "--tags", "Key=team,Value=core")["Role"]
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/{name}"
    assert role["RoleId"].startswith("AROA") and role["Path"] == "/"
    # The CLI decodes the URL-encoded document back into JSON.
    assert role["AssumeRolePolicyDocument"] == json.loads(TRUST)
    got = ok(daemon, "get-role", "--role-name", name)["Role"]
    assert got["Description"] == "for tests" and got["MaxSessionDuration"] == 3600
    assert got["Tags"] == [{"Key": "team", "Value": "core"}]
    assert name in [r["RoleName"] for r in ok(daemon, "list-roles")["Roles"]]

    ok(daemon, "put-role-policy", "--role-name", name, "--policy-name", "seed", "--policy-document", SEED)
    assert ok(daemon, "list-role-policies", "--role-name", name)["PolicyNames"] == ["seed"]
    inline = ok(daemon, "get-role-policy", "--role-name", name, "--policy-name", "seed")
    assert inline["PolicyDocument"] == json.loads(SEED)
    ok(daemon, "attach-role-policy", "--role-name", name, "--policy-arn", BASIC)
    attached = ok(daemon, "list-attached-role-policies", "--role-name", name)["AttachedPolicies"]
    assert attached == [{"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": BASIC}]

    err = fails(daemon, "DeleteConflict", "delete-role", "--role-name", name)
    assert "must delete policies first" in err
    ok(daemon, "delete-role-policy", "--role-name", name, "--policy-name", "seed")
    err = fails(daemon, "DeleteConflict", "delete-role", "--role-name", name)
    assert "must detach all policies first" in err
    ok(daemon, "detach-role-policy", "--role-name", name, "--policy-arn", BASIC)
    ok(daemon, "delete-role", "--role-name", name)
    err = fails(daemon, "NoSuchEntity", "get-role", "--role-name", name)
    assert f"The role with name {name} cannot be found." in err


def test_trust_policy_update_and_refusals(daemon):
    name = unique("role")
    ok(daemon, "create-role", "--role-name", name, "--assume-role-policy-document", TRUST)
    err = fails(daemon, "EntityAlreadyExists", "create-role", "--role-name", name,
                "--assume-role-policy-document", TRUST)
    assert f"Role with name {name} already exists." in err
    # A trust policy must name a principal and no resource.
    bad = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
         "Resource": "*"}]})
    err = fails(daemon, "MalformedPolicyDocument", "update-assume-role-policy", "--role-name", name,
                "--policy-document", bad)
    assert "Has prohibited field Resource" in err
    fails(daemon, "MalformedPolicyDocument", "create-role", "--role-name", unique("role"),
          "--assume-role-policy-document", "{not json")
    fails(daemon, "ValidationError", "create-role", "--role-name", "bad name",
          "--assume-role-policy-document", TRUST)
    new = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]})
    ok(daemon, "update-assume-role-policy", "--role-name", name, "--policy-document", new)
    assert ok(daemon, "get-role", "--role-name", name)["Role"]["AssumeRolePolicyDocument"] == json.loads(new)
    # An identity policy must not name a principal.
    with_principal = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]})
    err = fails(daemon, "MalformedPolicyDocument", "put-role-policy", "--role-name", name,
                "--policy-name", "p", "--policy-document", with_principal)
    assert "should not specify a principal" in err
    fails(daemon, "NoSuchEntity", "get-role-policy", "--role-name", name, "--policy-name", "nope")
    fails(daemon, "NoSuchEntity", "put-role-policy", "--role-name", unique("ghost"),
          "--policy-name", "p", "--policy-document", SEED)
    ok(daemon, "delete-role", "--role-name", name)


def test_customer_managed_policies_with_versions(daemon):
    name = unique("pol")
    pol = ok(daemon, "create-policy", "--policy-name", name, "--policy-document", SEED,
             "--description", "seed")["Policy"]
    arn = pol["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy/{name}"
    assert pol["DefaultVersionId"] == "v1" and pol["AttachmentCount"] == 0
    fails(daemon, "EntityAlreadyExists", "create-policy", "--policy-name", name, "--policy-document", SEED)
    v2 = ok(daemon, "create-policy-version", "--policy-arn", arn, "--policy-document", SEED,
            "--set-as-default")["PolicyVersion"]
    assert v2["VersionId"] == "v2" and v2["IsDefaultVersion"] is True
    got = ok(daemon, "get-policy-version", "--policy-arn", arn, "--version-id", "v1")["PolicyVersion"]
    assert got["Document"] == json.loads(SEED) and got["IsDefaultVersion"] is False
    assert ok(daemon, "get-policy", "--policy-arn", arn)["Policy"]["DefaultVersionId"] == "v2"
    for _ in range(3):
        ok(daemon, "create-policy-version", "--policy-arn", arn, "--policy-document", SEED)
    err = fails(daemon, "LimitExceeded", "create-policy-version", "--policy-arn", arn,
                "--policy-document", SEED)
    assert "up to 5 versions" in err
    local = ok(daemon, "list-policies", "--scope", "Local")["Policies"]
    assert arn in [p["Arn"] for p in local]

    role = unique("role")
    ok(daemon, "create-role", "--role-name", role, "--assume-role-policy-document", TRUST)
    ok(daemon, "attach-role-policy", "--role-name", role, "--policy-arn", arn)
    assert ok(daemon, "get-policy", "--policy-arn", arn)["Policy"]["AttachmentCount"] == 1
    fails(daemon, "DeleteConflict", "delete-policy", "--policy-arn", arn)
    ok(daemon, "detach-role-policy", "--role-name", role, "--policy-arn", arn)
    fails(daemon, "NoSuchEntity", "detach-role-policy", "--role-name", role, "--policy-arn", arn)
    err = fails(daemon, "DeleteConflict", "delete-policy", "--policy-arn", arn)
    assert "more than one version" in err
    for v in ("v1", "v3", "v4", "v5"):
        ok(daemon, "delete-policy-version", "--policy-arn", arn, "--version-id", v)
    fails(daemon, "DeleteConflict", "delete-policy-version", "--policy-arn", arn, "--version-id", "v2")
    ok(daemon, "delete-policy", "--policy-arn", arn)
    fails(daemon, "NoSuchEntity", "get-policy", "--policy-arn", arn)
    ok(daemon, "delete-role", "--role-name", role)


def test_aws_managed_policies_are_built_in(daemon):
    aws = ok(daemon, "list-policies", "--scope", "AWS")["Policies"]
    names = {p["PolicyName"] for p in aws}
    for n in ("AWSLambdaBasicExecutionRole", "AWSLambdaSQSQueueExecutionRole", "AmazonS3ReadOnlyAccess",
              "AWSLambdaRole"):
        assert n in names
    pol = ok(daemon, "get-policy", "--policy-arn", BASIC)["Policy"]
    doc = ok(daemon, "get-policy-version", "--policy-arn", BASIC, "--version-id",
             pol["DefaultVersionId"])["PolicyVersion"]["Document"]
    assert doc["Statement"][0]["Action"] == ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    fails(daemon, "NoSuchEntity", "get-policy", "--policy-arn", "arn:aws:iam::aws:policy/NoSuchPolicy")
    fails(daemon, "InvalidInput", "get-policy", "--policy-arn", "not-an-arn-but-long-enough")
    role = unique("role")
    ok(daemon, "create-role", "--role-name", role, "--assume-role-policy-document", TRUST)
    fails(daemon, "NoSuchEntity", "attach-role-policy", "--role-name", role, "--policy-arn",
          f"arn:aws:iam::{ACCOUNT}:policy/{unique('ghost')}")
    ok(daemon, "delete-role", "--role-name", role)
