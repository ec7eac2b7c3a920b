"""Layer version policies (issue 19, item 4): AddLayerVersionPermission,
GetLayerVersionPolicy and RemoveLayerVersionPermission through boto3 and Debian's AWS CLI,
with AWS's shapes and errors (duplicate statement id, bad principal, action or organization,
RevisionId mismatch, unknown layer or version, a version without a policy); the policy goes
with its version and survives a backup; and enforcement: a restricted key (and a role
session) may read or use a layer version only when its own policy or the version's policy
allows it. lambdabox has one account, so the cross-account half of AWS's rule (identity
policy AND a grant to the caller's account) is covered by the evaluator's table test; here a
grant to another account does not let this account's restricted callers in.
"""

from __future__ import annotations

import json
import re
import subprocess

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCOUNT, BIN, REGION, Daemon, make_zip, unique
from dashboard_client import Dashboard, first_admin_password

ROLE = "arn:aws:iam::123456789012:role/x"
OTHER = "210987654321"


def layer_arn(name: str, version: int) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{name}:{version}"


def publish(lam, name: str) -> int:
    return lam.publish_layer_version(LayerName=name, Content={"ZipFile": make_zip({"python/m.py": "X = 1\n"})},
                                     CompatibleRuntimes=["python3.11"])["Version"]


def error(call, **kw) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as e:
        call(**kw)
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


@pytest.fixture(scope="module")
def lam(daemon):
    return daemon.client()


def test_add_get_remove(lam):
    name = unique("shared")
    v = publish(lam, name)
    arn = layer_arn(name, v)
    added = lam.add_layer_version_permission(LayerName=name, VersionNumber=v, StatementId="xaccount",
                                             Action="lambda:GetLayerVersion", Principal=OTHER)
    assert json.loads(added["Statement"]) == {
        "Sid": "xaccount", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
        "Action": "lambda:GetLayerVersion", "Resource": arn}
    got = lam.get_layer_version_policy(LayerName=name, VersionNumber=v)
    assert got["RevisionId"] == added["RevisionId"]
    doc = json.loads(got["Policy"])
    assert (doc["Version"], doc["Id"]) == ("2012-10-17", "default")
    assert [s["Sid"] for s in doc["Statement"]] == ["xaccount"]

    # Everyone in an organization, through the layer's ARN and with the current revision.
    org = lam.add_layer_version_permission(LayerName=f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{name}",
                                           VersionNumber=v, StatementId="org", Action="lambda:GetLayerVersion",
                                           Principal="*", OrganizationId="o-abcdefghij",
                                           RevisionId=added["RevisionId"])
    s = json.loads(org["Statement"])
    assert s["Principal"] == "*"
    assert s["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}
    assert org["RevisionId"] != added["RevisionId"]

    # A stale revision is refused and changes nothing; the current one removes.
    code, status, msg = error(lam.remove_layer_version_permission, LayerName=name, VersionNumber=v,
                              StatementId="org", RevisionId=added["RevisionId"])
    assert (code, status) == ("PreconditionFailedException", 412), msg
    lam.remove_layer_version_permission(LayerName=name, VersionNumber=v, StatementId="org",
                                        RevisionId=org["RevisionId"])
    doc = json.loads(lam.get_layer_version_policy(LayerName=name, VersionNumber=v)["Policy"])
    assert [s["Sid"] for s in doc["Statement"]] == ["xaccount"]
    lam.remove_layer_version_permission(LayerName=name, VersionNumber=v, StatementId="xaccount")
    code, status, msg = error(lam.get_layer_version_policy, LayerName=name, VersionNumber=v)
    assert (code, status, msg) == ("ResourceNotFoundException", 404,
                                   "No policy is associated with the given resource.")


def test_errors_change_nothing(lam):
    name = unique("errs")
    v = publish(lam, name)
    first = lam.add_layer_version_permission(LayerName=name, VersionNumber=v, StatementId="one",
                                             Action="lambda:GetLayerVersion", Principal="*")
    add = lam.add_layer_version_permission
    base = dict(LayerName=name, VersionNumber=v, StatementId="two", Action="lambda:GetLayerVersion",
                Principal=OTHER)
    cases = [
        (dict(base, StatementId="one"), "ResourceConflictException", 409,
         "The statement id (sid) provided already exists"),
        (dict(base, Principal="s3.amazonaws.com"), "ValidationException", 400,
         "Value 's3.amazonaws.com' at 'principal' failed to satisfy constraint"),
        (dict(base, Principal=f"arn:aws:iam::{OTHER}:user/u"), "ValidationException", 400, "'principal'"),
        (dict(base, Action="lambda:InvokeFunction"), "ValidationException", 400,
         "Value 'lambda:InvokeFunction' at 'action' failed to satisfy constraint: Member must satisfy "
         "regular expression pattern: lambda:GetLayerVersion"),
        (dict(base, Principal="*", OrganizationId="my-org"), "ValidationException", 400, "'organizationId'"),
        (dict(base, StatementId="bad id"), "ValidationException", 400, "'statementId'"),
        (dict(base, RevisionId="not-the-revision"), "PreconditionFailedException", 412,
         "does not match the latest Revision Id"),
        (dict(base, VersionNumber=v + 5), "ResourceNotFoundException", 404,
         f"Layer version {layer_arn(name, v + 5)} does not exist."),
        (dict(base, LayerName=unique("ghost")), "ResourceNotFoundException", 404, "does not exist."),
    ]
    for kw, code, status, text in cases:
        got = error(add, **kw)
        assert got[:2] == (code, status) and text in got[2], (kw, got)
    for call, kw in [
        (lam.get_layer_version_policy, dict(LayerName=name, VersionNumber=v + 5)),
        (lam.get_layer_version_policy, dict(LayerName=unique("ghost"), VersionNumber=1)),
        (lam.remove_layer_version_permission, dict(LayerName=name, VersionNumber=v, StatementId="nope")),
        (lam.remove_layer_version_permission, dict(LayerName=name, VersionNumber=v + 5, StatementId="one")),
    ]:
        got = error(call, **kw)
        assert got[:2] == ("ResourceNotFoundException", 404), (kw, got)
    got = lam.get_layer_version_policy(LayerName=name, VersionNumber=v)
    assert got["RevisionId"] == first["RevisionId"]
    assert [s["Sid"] for s in json.loads(got["Policy"])["Statement"]] == ["one"]


def test_the_cli(daemon, lam):
    name = unique("cli")
    v = str(publish(lam, name))
    rc, out, err = daemon.aws("add-layer-version-permission", "--layer-name", name, "--version-number", v,
                              "--statement-id", "everyone", "--action", "lambda:GetLayerVersion",
                              "--principal", "*")
    assert rc == 0, err
    assert json.loads(out["Statement"])["Principal"] == "*" and out["RevisionId"]
    rc, _, err = daemon.aws("add-layer-version-permission", "--layer-name", name, "--version-number", v,
                            "--statement-id", "everyone", "--action", "lambda:GetLayerVersion",
                            "--principal", "*")
    assert rc != 0 and "ResourceConflictException" in err, err
    rc, out, err = daemon.aws("get-layer-version-policy", "--layer-name", name, "--version-number", v)
    assert rc == 0, err
    assert json.loads(out["Policy"])["Statement"][0]["Sid"] == "everyone"
    rc, _, err = daemon.aws("remove-layer-version-permission", "--layer-name", name, "--version-number", v,
                            "--statement-id", "everyone", "--revision-id", "stale")
    assert rc != 0 and "PreconditionFailedException" in err, err
    rc, _, err = daemon.aws("remove-layer-version-permission", "--layer-name", name, "--version-number", v,
                            "--statement-id", "everyone")
    assert rc == 0, err
    rc, _, err = daemon.aws("get-layer-version-policy", "--layer-name", name, "--version-number", v)
    assert rc != 0 and "ResourceNotFoundException" in err, err


def test_the_policy_goes_with_its_version(lam):
    name = unique("gone")
    v1, v2 = publish(lam, name), publish(lam, name)
    for v in (v1, v2):
        lam.add_layer_version_permission(LayerName=name, VersionNumber=v, StatementId="s",
                                         Action="lambda:GetLayerVersion", Principal="*")
    # v2 stays in use by a function, so its row is kept hidden; the policy goes anyway.
    fn = unique("user")
    lam.create_function(FunctionName=fn, Runtime="python3.11", Handler="m.handler", Role=ROLE,
                        Code={"ZipFile": make_zip({"m.py": "def handler(e, c):\n    return 1\n"})},
                        Layers=[layer_arn(name, v2)])
    for v in (v1, v2):
        lam.delete_layer_version(LayerName=name, VersionNumber=v)
        code, status, _ = error(lam.get_layer_version_policy, LayerName=name, VersionNumber=v)
        assert (code, status) == ("ResourceNotFoundException", 404)
    v3 = publish(lam, name)
    assert v3 == v2 + 1
    assert error(lam.get_layer_version_policy, LayerName=name, VersionNumber=v3)[0] == "ResourceNotFoundException"


def restricted_key(daemon, tmp_path, statements: list[dict]):
    path = tmp_path / f"{unique('policy')}.json"
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": statements}))
    p = daemon.lambdabox("keys", "create", "--description", "layers", "--policy", str(path))
    assert p.returncode == 0, p.stderr
    key_id = re.search(r"aws_access_key_id = (\S+)", p.stdout).group(1)
    secret = re.search(r"aws_secret_access_key = (\S+)", p.stdout).group(1)
    return daemon.client(key=(key_id, secret))


def denied(call, arn: str, principal: str, **kw):
    code, status, msg = error(call, **kw)
    assert (code, status) == ("AccessDeniedException", 403), msg
    assert msg == (f"User: {principal} is not authorized to perform: lambda:GetLayerVersion on resource: {arn} "
                   "because no identity-based policy allows the lambda:GetLayerVersion action")


def test_a_restricted_key_is_denied_then_allowed(daemon, lam, tmp_path):
    mine, theirs = unique("mine"), unique("theirs")
    publish(lam, mine)
    t1, t2 = publish(lam, theirs), publish(lam, theirs)
    key = restricted_key(daemon, tmp_path, [
        {"Effect": "Allow", "Action": "lambda:GetLayerVersion", "Resource": layer_arn(mine, 1)},
        {"Effect": "Allow", "Action": ["lambda:CreateFunction", "lambda:UpdateFunctionConfiguration",
                                       "lambda:GetFunction"], "Resource": "*"},
    ])
    user = f"arn:aws:iam::{ACCOUNT}:user/automation"
    arn1, arn2 = layer_arn(theirs, t1), layer_arn(theirs, t2)
    assert key.get_layer_version(LayerName=mine, VersionNumber=1)["Version"] == 1
    denied(key.get_layer_version, arn1, user, LayerName=theirs, VersionNumber=t1)
    denied(key.get_layer_version_by_arn, arn1, user, Arn=arn1)
    fn = unique("keyfn")
    create = dict(FunctionName=fn, Runtime="python3.11", Handler="m.handler", Role=ROLE,
                  Code={"ZipFile": make_zip({"m.py": "def handler(e, c):\n    return 1\n"})})
    denied(key.create_function, arn1, user, Layers=[layer_arn(mine, 1), arn1], **create)
    assert error(lam.get_function, FunctionName=fn)[0] == "ResourceNotFoundException"

    # Grants that do not name this caller change nothing: another account, an organization
    # (lambdabox has none).
    lam.add_layer_version_permission(LayerName=theirs, VersionNumber=t1, StatementId="other",
                                     Action="lambda:GetLayerVersion", Principal=OTHER)
    lam.add_layer_version_permission(LayerName=theirs, VersionNumber=t1, StatementId="org",
                                     Action="lambda:GetLayerVersion", Principal="*", OrganizationId="o-abcdefghij")
    denied(key.get_layer_version, arn1, user, LayerName=theirs, VersionNumber=t1)

    # A grant to everyone lets it read and use that version, and only that one.
    lam.add_layer_version_permission(LayerName=theirs, VersionNumber=t1, StatementId="all",
                                     Action="lambda:GetLayerVersion", Principal="*")
    assert key.get_layer_version(LayerName=theirs, VersionNumber=t1)["Version"] == t1
    assert key.get_layer_version_by_arn(Arn=arn1)["Version"] == t1
    key.create_function(Layers=[layer_arn(mine, 1), arn1], **create)
    assert [l["Arn"] for l in lam.get_function(FunctionName=fn)["Configuration"]["Layers"]] == [
        layer_arn(mine, 1), arn1]
    denied(key.update_function_configuration, arn2, user, FunctionName=fn, Layers=[arn2])
    denied(key.get_layer_version, arn2, user, LayerName=theirs, VersionNumber=t2)
    # A key's own permissions never come from the layer's policy for other actions.
    code, status, _ = error(key.delete_layer_version, LayerName=theirs, VersionNumber=t1)
    assert (code, status) == ("AccessDeniedException", 403)

    # Revoked: denied again on the next call.
    lam.remove_layer_version_permission(LayerName=theirs, VersionNumber=t1, StatementId="all")
    denied(key.get_layer_version, arn1, user, LayerName=theirs, VersionNumber=t1)


ROOT_TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                   "Action": "sts:AssumeRole"}],
})


def test_a_role_session_is_decided_the_same_way(daemon, lam):
    key = daemon.admin_keys()
    admin = dict(endpoint_url=daemon.endpoint, region_name=REGION, aws_access_key_id=key[0],
                 aws_secret_access_key=key[1], config=Config(retries={"total_max_attempts": 1}))
    iam, sts = boto3.client("iam", **admin), boto3.client("sts", **admin)
    role = unique("reader")
    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=ROOT_TRUST)["Role"]["Arn"]
    iam.put_role_policy(RoleName=role, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "lambda:ListFunctions", "Resource": "*"}]}))
    creds = sts.assume_role(RoleArn=arn, RoleSessionName="s1")["Credentials"]
    session = boto3.client("lambda", endpoint_url=daemon.endpoint, region_name=REGION,
                           aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                           aws_session_token=creds["SessionToken"], config=Config(retries={"total_max_attempts": 1}))
    name = unique("forrole")
    v = publish(lam, name)
    principal = f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/s1"
    denied(session.get_layer_version, layer_arn(name, v), principal, LayerName=name, VersionNumber=v)
    lam.add_layer_version_permission(LayerName=name, VersionNumber=v, StatementId="all",
                                     Action="lambda:GetLayerVersion", Principal="*")
    assert session.get_layer_version(LayerName=name, VersionNumber=v)["Version"] == v


def test_layers_page_shows_the_policy(daemon, lam):
    name = unique("page")
    v = publish(lam, name)
    lam.add_layer_version_permission(LayerName=name, VersionNumber=v, StatementId="partner",
                                     Action="lambda:GetLayerVersion", Principal=OTHER)
    lam.add_layer_version_permission(LayerName=name, VersionNumber=v, StatementId="everyone",
                                     Action="lambda:GetLayerVersion", Principal="*", OrganizationId="o-abcdefghij")
    d = Dashboard(daemon.endpoint)
    d.login_ok("admin", first_admin_password(daemon.data_dir))
    page = d.get(f"/ui/layers?layer={name}")
    assert page.status == 200
    assert f'<span class="mono">partner</span>: account {OTHER}' in page.text
    assert '<span class="mono">everyone</span>: every account in organization o-abcdefghij' in page.text
    lam.remove_layer_version_permission(LayerName=name, VersionNumber=v, StatementId="partner")
    lam.remove_layer_version_permission(LayerName=name, VersionNumber=v, StatementId="everyone")
    assert "no policy" in d.get(f"/ui/layers?layer={name}").text


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=60)


def test_backup_and_restore_keep_layer_policies(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = Daemon(tmp_path / "a").start()
    try:
        lam = a.client()
        v = publish(lam, "libs")
        added = lam.add_layer_version_permission(LayerName="libs", VersionNumber=v, StatementId="share",
                                                 Action="lambda:GetLayerVersion", Principal=OTHER)
        before = lam.get_layer_version_policy(LayerName="libs", VersionNumber=v)
        archive = tmp_path / "backup.zip"
        out = run("backup", "--to", str(archive), "--data-dir", str(a.data_dir))
        assert out.returncode == 0, out.stderr
    finally:
        a.kill()
    b = Daemon(tmp_path / "b")
    out = run("restore", "--from", str(archive), "--data-dir", str(b.data_dir))
    assert out.returncode == 0, out.stderr
    b.start()
    try:
        got = b.client().get_layer_version_policy(LayerName="libs", VersionNumber=v)
        assert got["RevisionId"] == added["RevisionId"] == before["RevisionId"]
        assert json.loads(got["Policy"]) == json.loads(before["Policy"])
    finally:
        b.kill()
