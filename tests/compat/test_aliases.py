"""Aliases (issue 5): CreateAlias/GetAlias/UpdateAlias/DeleteAlias/ListAliases with boto3 and
the AWS CLI, invoking through an alias, a weighted split over 1,000 invokes, versions that
stay unchanged when $LATEST moves, and every error case with its AWS error type."""

import json
import math
from collections import Counter

import pytest
from botocore.exceptions import ClientError

from conftest import make_zip, unique

ROLE = "arn:aws:iam::123456789012:role/x"


def code(marker):
    return make_zip({"app.py": f"def handler(e, c):\n    return {{'v': '{marker}', 'fv': c.function_version, 'arn': c.invoked_function_arn}}\n"})


def error_code(call, *a, **kw):
    with pytest.raises(ClientError) as e:
        call(*a, **kw)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def function_with_versions(lam, n):
    name = unique("al")
    lam.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=ROLE,
                        Code={"ZipFile": code("v1")})
    lam.publish_version(FunctionName=name)
    for i in range(2, n + 1):
        lam.update_function_code(FunctionName=name, ZipFile=code(f"v{i}"))
        assert lam.publish_version(FunctionName=name)["Version"] == str(i)
    return name


def invoke(lam, name, qualifier=None):
    kw = {"Qualifier": qualifier} if qualifier else {}
    r = lam.invoke(FunctionName=name, Payload=b"{}", **kw)
    assert "FunctionError" not in r, r["Payload"].read()
    return json.loads(r["Payload"].read()), r["ExecutedVersion"]


def test_alias_lifecycle_and_invoke(daemon):
    lam = daemon.client()
    name = function_with_versions(lam, 2)
    a = lam.create_alias(FunctionName=name, Name="prod", FunctionVersion="1", Description="live")
    assert a["AliasArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}:prod"
    assert (a["Name"], a["FunctionVersion"], a["Description"]) == ("prod", "1", "live")
    assert "RoutingConfig" not in a
    got = lam.get_alias(FunctionName=name, Name="prod")
    assert got["RevisionId"] == a["RevisionId"]
    body, executed = invoke(lam, name, "prod")
    assert (body["v"], body["fv"], executed) == ("v1", "1", "1")
    assert body["arn"].endswith(f":function:{name}:prod")
    # The alias ARN works as the function name too.
    body, executed = invoke(lam, a["AliasArn"])
    assert executed == "1"
    # GetFunctionConfiguration through the alias shows the version it points to.
    assert lam.get_function_configuration(FunctionName=name, Qualifier="prod")["Version"] == "1"

    # Moving the alias takes effect on the next invoke.
    moved = lam.update_alias(FunctionName=name, Name="prod", FunctionVersion="2", RevisionId=a["RevisionId"])
    assert moved["FunctionVersion"] == "2" and moved["RevisionId"] != a["RevisionId"]
    assert moved["Description"] == "live"
    assert invoke(lam, name, "prod")[1] == "2"
    # A stale RevisionId changes nothing.
    code_, _ = error_code(lam.update_alias, FunctionName=name, Name="prod", FunctionVersion="1",
                          RevisionId=a["RevisionId"])
    assert code_ == "PreconditionFailedException"
    assert lam.get_alias(FunctionName=name, Name="prod")["FunctionVersion"] == "2"

    lam.create_alias(FunctionName=name, Name="staging", FunctionVersion="$LATEST")
    names = [x["Name"] for x in lam.list_aliases(FunctionName=name)["Aliases"]]
    assert names == ["prod", "staging"]
    only2 = [x["Name"] for x in lam.list_aliases(FunctionName=name, FunctionVersion="2")["Aliases"]]
    assert only2 == ["prod"]
    paged = [x["Name"] for p in lam.get_paginator("list_aliases").paginate(
        FunctionName=name, PaginationConfig={"PageSize": 1}) for x in p["Aliases"]]
    assert paged == ["prod", "staging"]

    # $LATEST moves; the alias on version 2 keeps running version 2's code.
    lam.update_function_code(FunctionName=name, ZipFile=code("latest"))
    assert invoke(lam, name, "prod")[0]["v"] == "v2"
    assert invoke(lam, name, "staging")[0]["v"] == "latest"
    assert lam.get_function_configuration(FunctionName=name, Qualifier="1")["CodeSha256"] != \
        lam.get_function_configuration(FunctionName=name)["CodeSha256"]

    lam.delete_alias(FunctionName=name, Name="staging")
    code_, msg = error_code(lam.get_alias, FunctionName=name, Name="staging")
    assert code_ == "ResourceNotFoundException" and "Alias not found" in msg
    code_, _ = error_code(lam.invoke, FunctionName=name, Qualifier="staging", Payload=b"{}")
    assert code_ == "ResourceNotFoundException"


def test_deleting_an_aliased_version_is_refused(daemon):
    lam = daemon.client()
    name = function_with_versions(lam, 3)
    lam.create_alias(FunctionName=name, Name="prod", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    for v in ("1", "2"):
        code_, msg = error_code(lam.delete_function, FunctionName=name, Qualifier=v)
        assert code_ == "ResourceConflictException" and "prod" in msg
        assert lam.get_function_configuration(FunctionName=name, Qualifier=v)["Version"] == v
    lam.delete_function(FunctionName=name, Qualifier="3")
    # Clearing the routing frees version 2.
    cleared = lam.update_alias(FunctionName=name, Name="prod", RoutingConfig={"AdditionalVersionWeights": {}})
    assert "RoutingConfig" not in cleared
    lam.delete_function(FunctionName=name, Qualifier="2")
    # Deleting the function takes its aliases with it.
    lam.delete_function(FunctionName=name)
    code_, _ = error_code(lam.get_alias, FunctionName=name, Name="prod")
    assert code_ == "ResourceNotFoundException"


def test_weighted_split_over_1000_invokes(daemon):
    lam = daemon.client()
    name = function_with_versions(lam, 2)
    weight = 0.3
    a = lam.create_alias(FunctionName=name, Name="canary", FunctionVersion="1",
                         RoutingConfig={"AdditionalVersionWeights": {"2": weight}})
    assert a["RoutingConfig"] == {"AdditionalVersionWeights": {"2": weight}}
    n = 1000
    seen = Counter()
    for _ in range(n):
        body, executed = invoke(lam, name, "canary")
        assert body["fv"] == executed  # the header tells which version ran
        assert body["v"] == f"v{executed}"
        seen[executed] += 1
    assert set(seen) == {"1", "2"}
    # Binomial(1000, 0.3): mean 300, sd 14.5; five standard deviations either side.
    sd = math.sqrt(n * weight * (1 - weight))
    assert abs(seen["2"] - n * weight) < 5 * sd, seen
    # Weight 0 and weight 1 are exact.
    lam.update_alias(FunctionName=name, Name="canary", RoutingConfig={"AdditionalVersionWeights": {"2": 0.0}})
    assert {invoke(lam, name, "canary")[1] for _ in range(30)} == {"1"}
    lam.update_alias(FunctionName=name, Name="canary", RoutingConfig={"AdditionalVersionWeights": {"2": 1.0}})
    assert {invoke(lam, name, "canary")[1] for _ in range(30)} == {"2"}


def test_alias_errors_change_nothing(daemon):
    lam = daemon.client()
    name = function_with_versions(lam, 2)
    lam.create_alias(FunctionName=name, Name="prod", FunctionVersion="1")
    cases = [
        (dict(Name="prod", FunctionVersion="2"), "ResourceConflictException"),
        (dict(Name="x", FunctionVersion="9"), "ResourceNotFoundException"),
        (dict(Name="123", FunctionVersion="1"), "ValidationException"),
        (dict(Name="a.b", FunctionVersion="1"), "ValidationException"),
        (dict(Name="y", FunctionVersion="one"), "ValidationException"),
        (dict(Name="y", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}}),
         "InvalidParameterValueException"),
        (dict(Name="y", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 1.5}}),
         "ValidationException"),
        (dict(Name="y", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"9": 0.5}}),
         "ResourceNotFoundException"),
        (dict(Name="y", FunctionVersion="$LATEST", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}}),
         "InvalidParameterValueException"),
        (dict(Name="y", FunctionVersion="1", Description="d" * 300), "ValidationException"),
    ]
    for kw, want in cases:
        got, msg = error_code(lam.create_alias, FunctionName=name, **kw)
        assert got == want, (kw, got, msg)
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]] == ["prod"]
    assert error_code(lam.create_alias, FunctionName=unique("missing"), Name="p", FunctionVersion="1")[0] == \
        "ResourceNotFoundException"
    assert error_code(lam.update_alias, FunctionName=name, Name="nope", FunctionVersion="1")[0] == \
        "ResourceNotFoundException"
    assert error_code(lam.update_alias, FunctionName=name, Name="prod", FunctionVersion="7")[0] == \
        "ResourceNotFoundException"
    assert error_code(lam.delete_alias, FunctionName=name, Name="nope")[0] == "ResourceNotFoundException"
    assert error_code(lam.list_aliases, FunctionName=unique("missing"))[0] == "ResourceNotFoundException"
    assert lam.get_alias(FunctionName=name, Name="prod")["FunctionVersion"] == "1"
    # Updating $LATEST through an alias is refused.
    assert error_code(lam.update_function_configuration, FunctionName=name + ":prod", MemorySize=256)[0] == \
        "InvalidParameterValueException"


def test_aliases_with_the_cli(daemon, tmp_path):
    lam = daemon.client()
    name = function_with_versions(lam, 2)
    rc, out, err = daemon.aws("create-alias", "--function-name", name, "--name", "live", "--function-version", "1",
                              "--routing-config", "AdditionalVersionWeights={2=0.25}")
    assert rc == 0, err
    created = out
    assert created["RoutingConfig"]["AdditionalVersionWeights"] == {"2": 0.25}
    rc, out, err = daemon.aws("update-alias", "--function-name", name, "--name", "live", "--function-version", "2",
                              "--routing-config", "AdditionalVersionWeights={}")
    assert rc == 0, err
    assert out["FunctionVersion"] == "2"
    rc, out, err = daemon.aws("invoke", "--function-name", name, "--qualifier", "live", str(tmp_path / "out.json"))
    assert rc == 0, err
    assert out["ExecutedVersion"] == "2"
    rc, out, err = daemon.aws("list-aliases", "--function-name", name)
    assert rc == 0, err
    assert [a["Name"] for a in out["Aliases"]] == ["live"]
    rc, _, err = daemon.aws("delete-alias", "--function-name", name, "--name", "live")
    assert rc == 0, err
    rc, _, err = daemon.aws("get-alias", "--function-name", name, "--name", "live")
    assert rc != 0 and "ResourceNotFoundException" in err
