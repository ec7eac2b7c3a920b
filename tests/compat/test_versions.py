"""Versions (issue 5, first part): PublishVersion, ListVersionsByFunction, invoking a
published version after $LATEST changed, numbers never reused, and the error cases."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import make_zip, unique

ROLE = "arn:aws:iam::123456789012:role/x"


def code(marker):
    return make_zip({"app.py": f"def handler(e, c):\n    return {{'v': '{marker}', 'fv': c.function_version}}\n"})


def call(lam, name, qualifier=None):
    kw = {"Qualifier": qualifier} if qualifier else {}
    r = lam.invoke(FunctionName=name, Payload=b"{}", **kw)
    assert "FunctionError" not in r, r["Payload"].read()
    return json.loads(r["Payload"].read()), r["ExecutedVersion"]


def test_publish_list_and_invoke_versions(daemon):
    lam = daemon.client()
    name = unique("ver")
    lam.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=ROLE,
                        Code={"ZipFile": code("one")})
    v1 = lam.publish_version(FunctionName=name, Description="first")
    assert v1["Version"] == "1"
    assert v1["FunctionArn"].endswith(f":function:{name}:1")
    assert v1["Description"] == "first"
    # Nothing changed: the existing version comes back.
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    lam.update_function_code(FunctionName=name, ZipFile=code("two"))
    v2 = lam.publish_version(FunctionName=name)
    assert v2["Version"] == "2"
    lam.update_function_code(FunctionName=name, ZipFile=code("three"))
    assert call(lam, name, "1") == ({"v": "one", "fv": "1"}, "1")
    assert call(lam, name, "2") == ({"v": "two", "fv": "2"}, "2")
    assert call(lam, name) == ({"v": "three", "fv": "$LATEST"}, "$LATEST")
    versions = [v["Version"] for p in lam.get_paginator("list_versions_by_function").paginate(
        FunctionName=name, PaginationConfig={"PageSize": 1}) for v in p["Versions"]]
    assert versions == ["$LATEST", "1", "2"]
    # Deleting version 2 never frees its number.
    lam.delete_function(FunctionName=name, Qualifier="2")
    with pytest.raises(ClientError) as e:
        lam.get_function_configuration(FunctionName=name, Qualifier="2")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert lam.publish_version(FunctionName=name)["Version"] == "3"


def test_publish_preconditions_and_errors(daemon):
    lam = daemon.client()
    name = unique("ver")
    created = lam.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=ROLE,
                                  Code={"ZipFile": code("one")})
    with pytest.raises(ClientError) as e:
        lam.publish_version(FunctionName=name, CodeSha256="AAAA" + created["CodeSha256"][4:])
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as e:
        lam.publish_version(FunctionName=name, RevisionId="00000000-0000-0000-0000-000000000000")
    assert e.value.response["Error"]["Code"] == "PreconditionFailedException"
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == ["$LATEST"]
    with pytest.raises(ClientError) as e:
        lam.publish_version(FunctionName=unique("missing"))
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=name, Qualifier="$LATEST")
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
    ok = lam.publish_version(FunctionName=name, CodeSha256=created["CodeSha256"], RevisionId=created["RevisionId"])
    assert ok["Version"] == "1"


def test_publish_with_the_cli(daemon, tmp_path):
    name = unique("ver")
    (tmp_path / "f.zip").write_bytes(code("cli"))
    rc, _, err = daemon.aws("create-function", "--function-name", name, "--runtime", "python3.11", "--handler",
                            "app.handler", "--role", ROLE, "--zip-file", f"fileb://{tmp_path / 'f.zip'}", "--publish")
    assert rc == 0, err
    rc, out, err = daemon.aws("list-versions-by-function", "--function-name", name)
    assert rc == 0, err
    assert [v["Version"] for v in out["Versions"]] == ["$LATEST", "1"]
    rc, out, err = daemon.aws("invoke", "--function-name", name, "--qualifier", "1", str(tmp_path / "o.json"))
    assert rc == 0 and out["ExecutedVersion"] == "1", err
    assert json.loads((tmp_path / "o.json").read_text()) == {"v": "cli", "fv": "1"}
