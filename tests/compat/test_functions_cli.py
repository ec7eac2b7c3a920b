"""The Lambda function API driven by the real AWS CLI v2 (`/usr/bin/aws`, Debian's awscli 2.9).

Every operation of issue 2 item 4, each error case with the exception name the CLI prints, and
after every refused call a check that nothing changed.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse

import pytest

from conftest import (
    ACCOUNT,
    REGION,
    ROLE,
    b64sha256,
    function_arn,
    handler_zip,
    http_get,
    make_zip,
    unique,
    unsafe_zip,
    zip_bomb,
)

LAST_MODIFIED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def write(tmp_path, name: str, data: bytes) -> str:
    (tmp_path / name).write_bytes(data)
    return f"fileb://{tmp_path / name}"


def create(daemon, tmp_path, name: str, *extra: str, zip_bytes: bytes | None = None):
    z = zip_bytes if zip_bytes is not None else handler_zip(name)
    rc, out, err = daemon.aws(
        "create-function", "--function-name", name, "--runtime", "python3.12",
        "--handler", "lambda_function.lambda_handler", "--role", ROLE,
        "--zip-file", write(tmp_path, f"{name}.zip", z), *extra,
    )
    assert rc == 0, err
    return out


def snapshot(daemon):
    """Everything a refused call must leave alone: every function's full configuration, its
    tags, and the account usage."""
    c = daemon.client()
    fns = []
    for page in c.get_paginator("list_functions").paginate(FunctionVersion="ALL"):
        fns.extend(page["Functions"])
    fns.sort(key=lambda f: (f["FunctionName"], f["Version"]))
    tags = {
        f["FunctionName"]: c.list_tags(Resource=function_arn(f["FunctionName"]))["Tags"]
        for f in fns
        if f["Version"] == "$LATEST"
    }
    return fns, tags, c.get_account_settings()["AccountUsage"]


def assert_refused(daemon, before, rc, err, *exceptions):
    assert rc != 0, "the call was expected to fail"
    names = "|".join(exceptions)
    assert re.search(rf"An error occurred \(({names})\)", err), err
    assert snapshot(daemon) == before, "a refused call changed the daemon's state"


# ---------------------------------------------------------------------------------------------
# the sequence of the issue


def test_issue_sequence(daemon, tmp_path):
    z1 = handler_zip("first")
    (tmp_path / "function.zip").write_bytes(z1)
    rc, created, err = daemon.aws(
        "create-function", "--function-name", "my-processor", "--runtime", "python3.12",
        "--handler", "lambda_function.lambda_handler",
        "--role", "arn:aws:iam::123456789012:role/lambda-execution-role",
        "--zip-file", "fileb://function.zip", "--memory-size", "512", "--timeout", "30",
        "--environment", "Variables={DB_HOST=db.internal,LOG_LEVEL=INFO}",
        cwd=tmp_path,
    )
    assert rc == 0, err
    assert created["FunctionName"] == "my-processor"
    assert created["FunctionArn"] == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:my-processor"
    assert created["Runtime"] == "python3.12"
    assert created["Handler"] == "lambda_function.lambda_handler"
    assert created["Role"] == "arn:aws:iam::123456789012:role/lambda-execution-role"
    assert created["MemorySize"] == 512 and created["Timeout"] == 30
    assert created["Environment"]["Variables"] == {"DB_HOST": "db.internal", "LOG_LEVEL": "INFO"}
    assert created["CodeSha256"] == b64sha256(z1)
    assert created["CodeSize"] == len(z1)
    assert created["Version"] == "$LATEST"
    assert created["State"] == "Active" and created["LastUpdateStatus"] == "Successful"
    assert created["PackageType"] == "Zip"
    assert created["EphemeralStorage"] == {"Size": 512}
    assert created["TracingConfig"] == {"Mode": "PassThrough"}
    assert created["Description"] == ""
    assert LAST_MODIFIED.match(created["LastModified"]), created["LastModified"]
    assert UUID.match(created["RevisionId"])

    z2 = handler_zip("second")
    (tmp_path / "function.zip").write_bytes(z2)
    rc, code, err = daemon.aws(
        "update-function-code", "--function-name", "my-processor",
        "--zip-file", "fileb://function.zip", cwd=tmp_path,
    )
    assert rc == 0, err
    assert code["CodeSha256"] == b64sha256(z2) and code["CodeSize"] == len(z2)
    assert code["RevisionId"] != created["RevisionId"]
    assert code["MemorySize"] == 512 and code["Timeout"] == 30
    assert code["Environment"] == created["Environment"]
    assert code["LastModified"] >= created["LastModified"]

    rc, conf, err = daemon.aws(
        "update-function-configuration", "--function-name", "my-processor",
        "--memory-size", "1024", "--timeout", "60",
    )
    assert rc == 0, err
    assert conf["MemorySize"] == 1024 and conf["Timeout"] == 60
    assert conf["CodeSha256"] == code["CodeSha256"]
    assert conf["Environment"] == created["Environment"]
    assert conf["Handler"] == created["Handler"] and conf["Role"] == created["Role"]
    assert conf["RevisionId"] not in (created["RevisionId"], code["RevisionId"])

    rc, table, err = daemon.aws("list-functions", "--output", "table")
    assert rc == 0, err
    assert isinstance(table, str)
    assert "ListFunctions" in table
    row = next(line for line in table.splitlines() if "FunctionName" in line and "my-processor" in line)
    assert row
    for value in ("python3.12", "1024", "lambda_function.lambda_handler", "db.internal"):
        assert value in table, value

    rc, got, err = daemon.aws("get-function-configuration", "--function-name", "my-processor")
    assert rc == 0, err
    assert got == conf

    rc, out, err = daemon.aws("delete-function", "--function-name", "my-processor")
    assert rc == 0, err
    assert out == ""
    rc, out, err = daemon.aws("get-function-configuration", "--function-name", "my-processor")
    assert rc != 0
    assert "An error occurred (ResourceNotFoundException)" in err
    assert f"function:my-processor" in err


# ---------------------------------------------------------------------------------------------
# GetFunction and its download URL


def test_get_function_code_location(daemon, tmp_path):
    name = unique("get")
    z = make_zip({"lambda_function.py": "def lambda_handler(e, c):\n    return 1\n",
                  "pkg/data.txt": name})
    created = create(daemon, tmp_path, name, "--tags", "team=home", zip_bytes=z)
    rc, got, err = daemon.aws("get-function", "--function-name", name)
    assert rc == 0, err
    assert got["Configuration"] == created
    assert got["Tags"] == {"team": "home"}
    assert got["Code"]["RepositoryType"] == "S3"
    url = got["Code"]["Location"]
    assert url.startswith(daemon.endpoint + "/"), url

    status, headers, body = http_get(url)
    assert status == 200
    assert body == z
    assert b64sha256(body) == got["Configuration"]["CodeSha256"]

    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    sig = query["Signature"]
    expires = int(query["Expires"])

    def with_query(path=parts.path, **q):
        return urllib.parse.urlunsplit(
            (parts.scheme, parts.netloc, path, urllib.parse.urlencode({**query, **q}), "")
        )

    flipped = ("0" if sig[-1] != "0" else "1")
    tampered = [
        with_query(Signature=sig[:-1] + flipped),
        with_query(Expires=str(expires + 3600)),
        with_query(Expires=str(int(time.time()) - 10)),
        with_query(path=parts.path.replace(name, name + "x")),
        urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
        with_query(Signature=""),
    ]
    for bad in tampered:
        status, _, body = http_get(bad)
        assert status == 403, (bad, status)
        assert body != z


def test_get_function_missing(daemon):
    before = snapshot(daemon)
    for op in ("get-function", "get-function-configuration", "delete-function"):
        rc, _, err = daemon.aws(op, "--function-name", unique("missing"))
        assert_refused(daemon, before, rc, err, "ResourceNotFoundException")


# ---------------------------------------------------------------------------------------------
# ListFunctions


def test_list_functions_max_items_pagination(daemon, tmp_path):
    prefix = unique("page")
    names = [f"{prefix}-{i}" for i in range(5)]
    for n in names:
        create(daemon, tmp_path, n)
    rc, full, err = daemon.aws("list-functions")
    assert rc == 0, err
    all_names = [f["FunctionName"] for f in full["Functions"]]
    assert len(all_names) == len(set(all_names))
    assert set(names) <= set(all_names)
    assert "NextToken" not in full

    seen, token, pages = [], None, 0
    while True:
        args = ["list-functions", "--max-items", "2"]
        if token:
            args += ["--starting-token", token]
        rc, page, err = daemon.aws(*args)
        assert rc == 0, err
        pages += 1
        assert len(page["Functions"]) <= 2
        seen.extend(f["FunctionName"] for f in page["Functions"])
        token = page.get("NextToken")
        if not token:
            break
        assert pages < 100
    assert seen == all_names
    assert pages == (len(all_names) + 1) // 2

    rc, small_pages, err = daemon.aws("list-functions", "--page-size", "2")
    assert rc == 0, err
    assert [f["FunctionName"] for f in small_pages["Functions"]] == all_names


# ---------------------------------------------------------------------------------------------
# UpdateFunctionCode / UpdateFunctionConfiguration preconditions


def test_update_code_dry_run_and_revision_id(daemon, tmp_path):
    name = unique("code")
    z1 = handler_zip(name + "1")
    created = create(daemon, tmp_path, name, zip_bytes=z1)
    z2 = handler_zip(name + "2")
    rc, dry, err = daemon.aws(
        "update-function-code", "--function-name", name,
        "--zip-file", write(tmp_path, "z2.zip", z2), "--dry-run",
    )
    assert rc == 0, err
    assert dry["CodeSha256"] == b64sha256(z2)
    rc, now, err = daemon.aws("get-function-configuration", "--function-name", name)
    assert rc == 0, err
    assert now == created, "a dry run changed the function"

    before = snapshot(daemon)
    rc, _, err = daemon.aws(
        "update-function-code", "--function-name", name,
        "--zip-file", write(tmp_path, "z2.zip", z2),
        "--revision-id", "00000000-0000-4000-8000-000000000000",
    )
    assert_refused(daemon, before, rc, err, "PreconditionFailedException")

    rc, updated, err = daemon.aws(
        "update-function-code", "--function-name", name,
        "--zip-file", write(tmp_path, "z2.zip", z2), "--revision-id", created["RevisionId"],
    )
    assert rc == 0, err
    assert updated["CodeSha256"] == b64sha256(z2)
    assert updated["RevisionId"] != created["RevisionId"]

    before = snapshot(daemon)
    rc, _, err = daemon.aws(
        "update-function-code", "--function-name", name,
        "--zip-file", write(tmp_path, "z1.zip", z1), "--revision-id", created["RevisionId"],
    )
    assert_refused(daemon, before, rc, err, "PreconditionFailedException")


def test_update_configuration_revision_id(daemon, tmp_path):
    name = unique("conf")
    created = create(daemon, tmp_path, name)
    before = snapshot(daemon)
    rc, _, err = daemon.aws(
        "update-function-configuration", "--function-name", name, "--timeout", "9",
        "--revision-id", "00000000-0000-4000-8000-000000000000",
    )
    assert_refused(daemon, before, rc, err, "PreconditionFailedException")
    rc, updated, err = daemon.aws(
        "update-function-configuration", "--function-name", name, "--timeout", "9",
        "--revision-id", created["RevisionId"],
    )
    assert rc == 0, err
    assert updated["Timeout"] == 9
    before = snapshot(daemon)
    rc, _, err = daemon.aws(
        "update-function-configuration", "--function-name", name, "--timeout", "10",
        "--revision-id", created["RevisionId"],
    )
    assert_refused(daemon, before, rc, err, "PreconditionFailedException")


def test_environment_replaces_whole_map(daemon, tmp_path):
    name = unique("env")
    create(daemon, tmp_path, name, "--environment", "Variables={A=1,B=2}")
    rc, out, err = daemon.aws(
        "update-function-configuration", "--function-name", name, "--description", "d",
    )
    assert rc == 0, err
    assert out["Environment"]["Variables"] == {"A": "1", "B": "2"}, "absent Environment must keep it"
    rc, out, err = daemon.aws(
        "update-function-configuration", "--function-name", name,
        "--environment", "Variables={C=3}",
    )
    assert rc == 0, err
    assert out["Environment"]["Variables"] == {"C": "3"}
    rc, out, err = daemon.aws(
        "update-function-configuration", "--function-name", name,
        "--environment", json.dumps({"Variables": {}}),
    )
    assert rc == 0, err
    assert out.get("Environment", {}).get("Variables", {}) == {}
    rc, got, err = daemon.aws("get-function-configuration", "--function-name", name)
    assert rc == 0, err
    assert got.get("Environment", {}).get("Variables", {}) == {}


# ---------------------------------------------------------------------------------------------
# tags, account settings, waiters


def test_tags(daemon, tmp_path):
    name = unique("tags")
    arn = function_arn(name)
    create(daemon, tmp_path, name, "--tags", "team=home,env=dev")
    rc, out, err = daemon.aws("list-tags", "--resource", arn)
    assert rc == 0, err
    assert out == {"Tags": {"team": "home", "env": "dev"}}
    rc, out, err = daemon.aws("tag-resource", "--resource", arn, "--tags", "owner=me,env=prod")
    assert rc == 0, err
    assert out == ""
    rc, out, err = daemon.aws("list-tags", "--resource", arn)
    assert out["Tags"] == {"team": "home", "env": "prod", "owner": "me"}
    rc, out, err = daemon.aws("untag-resource", "--resource", arn, "--tag-keys", "team", "owner")
    assert rc == 0, err
    rc, out, err = daemon.aws("list-tags", "--resource", arn)
    assert out["Tags"] == {"env": "prod"}
    rc, got, err = daemon.aws("get-function", "--function-name", name)
    assert got["Tags"] == {"env": "prod"}

    before = snapshot(daemon)
    missing = function_arn(unique("missing"))
    for args in (
        ("tag-resource", "--resource", missing, "--tags", "a=b"),
        ("untag-resource", "--resource", missing, "--tag-keys", "a"),
        ("list-tags", "--resource", missing),
    ):
        rc, _, err = daemon.aws(*args)
        assert_refused(daemon, before, rc, err, "ResourceNotFoundException")
    rc, _, err = daemon.aws("tag-resource", "--resource", arn, "--tags", "aws:reserved=x")
    assert_refused(daemon, before, rc, err, "InvalidParameterValueException", "ValidationException")


def test_account_settings(daemon, tmp_path):
    create(daemon, tmp_path, unique("acct"))
    rc, out, err = daemon.aws("get-account-settings")
    assert rc == 0, err
    assert out["AccountLimit"] == {
        "TotalCodeSize": 80530636800,
        "CodeSizeUnzipped": 262144000,
        "CodeSizeZipped": 52428800,
        "ConcurrentExecutions": 1000,
        "UnreservedConcurrentExecutions": 1000,
    }
    rc, listed, err = daemon.aws("list-functions")
    assert out["AccountUsage"]["FunctionCount"] == len(listed["Functions"])
    assert out["AccountUsage"]["TotalCodeSize"] >= len(handler_zip("x"))


def test_waiters(daemon, tmp_path):
    name = unique("wait")
    create(daemon, tmp_path, name)
    t0 = time.monotonic()
    for waiter in ("function-exists", "function-active-v2", "function-active"):
        rc, _, err = daemon.aws("wait", waiter, "--function-name", name)
        assert rc == 0, (waiter, err)
    rc, _, err = daemon.aws("update-function-configuration", "--function-name", name,
                            "--memory-size", "256")
    assert rc == 0, err
    for waiter in ("function-updated-v2", "function-updated"):
        rc, _, err = daemon.aws("wait", waiter, "--function-name", name)
        assert rc == 0, (waiter, err)
    assert time.monotonic() - t0 < 60, "waiters must succeed on their first poll"


# ---------------------------------------------------------------------------------------------
# FunctionName forms


def test_function_name_forms(daemon, tmp_path):
    name = unique("forms")
    create(daemon, tmp_path, name)
    forms = [name, f"{ACCOUNT}:function:{name}", function_arn(name), f"{name}:$LATEST"]
    for i, form in enumerate(forms):
        rc, got, err = daemon.aws("get-function-configuration", "--function-name", form)
        assert rc == 0, (form, err)
        assert got["FunctionName"] == name
        assert got["FunctionArn"] in (function_arn(name), function_arn(name) + ":$LATEST")
        rc, got, err = daemon.aws("get-function", "--function-name", form)
        assert rc == 0, (form, err)
        assert got["Configuration"]["FunctionName"] == name
        if form.endswith(":$LATEST"):
            continue
        rc, got, err = daemon.aws("update-function-configuration", "--function-name", form,
                                  "--description", f"via form {i}")
        assert rc == 0, (form, err)
        assert got["Description"] == f"via form {i}"
        rc, got, err = daemon.aws("update-function-code", "--function-name", form,
                                  "--zip-file", write(tmp_path, "f.zip", handler_zip(f"{name}{i}")))
        assert rc == 0, (form, err)
        assert got["CodeSha256"] == b64sha256(handler_zip(f"{name}{i}"))

    before = snapshot(daemon)
    for foreign in (
        f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:{name}",
        f"arn:aws:lambda:{REGION}:111111111111:function:{name}",
        f"111111111111:function:{name}",
    ):
        rc, _, err = daemon.aws("get-function-configuration", "--function-name", foreign)
        assert_refused(daemon, before, rc, err, "ResourceNotFoundException")

    rc, _, err = daemon.aws("delete-function", "--function-name", function_arn(name))
    assert rc == 0, err
    create(daemon, tmp_path, name)
    rc, _, err = daemon.aws("delete-function", "--function-name", f"{ACCOUNT}:function:{name}")
    assert rc == 0, err
    rc, _, err = daemon.aws("get-function", "--function-name", name)
    assert "ResourceNotFoundException" in err


# ---------------------------------------------------------------------------------------------
# refused calls


def test_create_duplicate_is_a_conflict(daemon, tmp_path):
    name = unique("dup")
    create(daemon, tmp_path, name)
    before = snapshot(daemon)
    rc, _, err = daemon.aws(
        "create-function", "--function-name", name, "--runtime", "python3.11",
        "--handler", "x.y", "--role", ROLE, "--zip-file", write(tmp_path, "o.zip", handler_zip("o")),
    )
    assert_refused(daemon, before, rc, err, "ResourceConflictException")
    assert name in err


def _runtimes(daemon) -> list[str]:
    p = daemon.lambdabox("runtimes")
    assert p.returncode == 0, p.stderr
    return [line.split()[0] for line in p.stdout.splitlines() if line.strip()]


CREATE_ERRORS = [
    # (id, overrides of the create arguments, expected exception(s), message fragment)
    ("memory-20000", {"--memory-size": "20000"}, ["ValidationException"], "memorySize"),
    ("timeout-901", {"--timeout": "901"}, ["ValidationException"], "timeout"),
    ("ephemeral-10241", {"--ephemeral-storage": "Size=10241"}, ["ValidationException"], None),
    ("bad-name", {"--function-name": "bad name!"}, ["ValidationException"], "functionName"),
    ("long-name", {"--function-name": "n" * 65}, ["ValidationException"], "functionName"),
    ("reserved-env", {"--environment": "Variables={AWS_REGION=eu-west-1}"},
     ["InvalidParameterValueException"], "AWS_REGION"),
    ("env-over-4kb", {"--environment": json.dumps({"Variables": {"BIG": "x" * 4100}})},
     ["InvalidParameterValueException"], "4KB"),
    ("env-bad-key", {"--environment": "Variables={1BAD=x}"}, ["ValidationException"], None),
    ("runtime-not-here", {"--runtime": "java21"}, ["InvalidParameterValueException"], "java21"),
    ("runtime-unknown", {"--runtime": "python2"}, ["ValidationException"], "runtime"),
    ("bad-role", {"--role": "not-a-role-arn"}, ["ValidationException"], "role"),
    ("role-short-account", {"--role": "arn:aws:iam::12345:role/x"}, ["ValidationException"], "role"),
    ("handler-whitespace", {"--handler": "lambda_function lambda_handler"},
     ["ValidationException"], "handler"),
    ("description-257", {"--description": "d" * 257}, ["ValidationException"], "description"),
    ("invalid-zip", {"zip": b"this is not a zip archive"}, ["InvalidParameterValueException"], None),
    ("zip-dotdot", {"zip": unsafe_zip("../escape.py")}, ["InvalidParameterValueException"], None),
    ("zip-nested-dotdot", {"zip": unsafe_zip("lib/../../escape.py")},
     ["InvalidParameterValueException"], None),
    ("zip-absolute", {"zip": unsafe_zip("/etc/cron.d/escape")},
     ["InvalidParameterValueException"], None),
    ("zip-bomb", {"zip": "bomb"},
     ["RequestEntityTooLargeException", "InvalidParameterValueException"], None),
]


@pytest.mark.parametrize("case", CREATE_ERRORS, ids=[c[0] for c in CREATE_ERRORS])
def test_create_function_refused(daemon, tmp_path, case):
    _, overrides, exceptions, fragment = case
    name = unique("bad")
    z = overrides.get("zip", handler_zip(name))
    if z == "bomb":
        z = zip_bomb()
    args = {
        "--function-name": name,
        "--runtime": "python3.12",
        "--handler": "lambda_function.lambda_handler",
        "--role": ROLE,
        "--zip-file": write(tmp_path, "f.zip", z),
    }
    args.update({k: v for k, v in overrides.items() if k.startswith("--")})
    before = snapshot(daemon)
    rc, _, err = daemon.aws("create-function", *[x for kv in args.items() for x in kv])
    assert_refused(daemon, before, rc, err, *exceptions)
    if fragment:
        assert fragment in err, err
    if case[0] == "runtime-not-here":
        for rt in _runtimes(daemon):
            assert rt in err, f"the message must list available runtime {rt}: {err}"


def test_create_with_missing_runtime_lists_available(daemon, tmp_path):
    available = _runtimes(daemon)
    for rt in ("python3.12", "nodejs20.x", "provided.al2023"):
        assert rt in available, available
    before = snapshot(daemon)
    rc, _, err = daemon.aws(
        "create-function", "--function-name", unique("rt"), "--runtime", "ruby3.3",
        "--handler", "h.h", "--role", ROLE, "--zip-file", write(tmp_path, "f.zip", handler_zip()),
    )
    assert_refused(daemon, before, rc, err, "InvalidParameterValueException")
    assert all(rt in err for rt in available), err


UPDATE_CONFIG_ERRORS = [
    ("memory-20000", ["--memory-size", "20000"], "ValidationException"),
    ("timeout-901", ["--timeout", "901"], "ValidationException"),
    ("ephemeral-10241", ["--ephemeral-storage", "Size=10241"], "ValidationException"),
    ("reserved-env", ["--environment", "Variables={AWS_REGION=x}"], "InvalidParameterValueException"),
    ("env-over-4kb", ["--environment", json.dumps({"Variables": {f"K{i}": "v" * 100 for i in range(41)}})],
     "InvalidParameterValueException"),
    ("runtime-not-here", ["--runtime", "java21"], "InvalidParameterValueException"),
    ("bad-role", ["--role", "arn:aws:iam::role/x"], "ValidationException"),
    ("handler-whitespace", ["--handler", "a b"], "ValidationException"),
]


def test_update_configuration_refused(daemon, tmp_path):
    name = unique("upc")
    create(daemon, tmp_path, name, "--environment", "Variables={KEEP=1}")
    for case_id, args, exception in UPDATE_CONFIG_ERRORS:
        before = snapshot(daemon)
        rc, _, err = daemon.aws("update-function-configuration", "--function-name", name, *args)
        try:
            assert_refused(daemon, before, rc, err, exception)
        except AssertionError as e:
            raise AssertionError(f"{case_id}: {e}") from e
    before = snapshot(daemon)
    rc, _, err = daemon.aws("update-function-configuration", "--function-name", unique("no"),
                            "--timeout", "5")
    assert_refused(daemon, before, rc, err, "ResourceNotFoundException")


def test_update_code_refused(daemon, tmp_path):
    name = unique("upz")
    create(daemon, tmp_path, name)
    cases = [
        ("invalid-zip", b"PK\x03\x04 truncated", ["InvalidParameterValueException"]),
        ("zip-dotdot", unsafe_zip("../x"), ["InvalidParameterValueException"]),
        ("zip-absolute", unsafe_zip("/tmp/x"), ["InvalidParameterValueException"]),
        ("zip-bomb", zip_bomb(), ["RequestEntityTooLargeException", "InvalidParameterValueException"]),
    ]
    for case_id, z, exceptions in cases:
        for dry in ([], ["--dry-run"]):
            before = snapshot(daemon)
            rc, _, err = daemon.aws("update-function-code", "--function-name", name,
                                    "--zip-file", write(tmp_path, "u.zip", z), *dry)
            try:
                assert_refused(daemon, before, rc, err, *exceptions)
            except AssertionError as e:
                raise AssertionError(f"{case_id} {dry}: {e}") from e
    before = snapshot(daemon)
    rc, _, err = daemon.aws("update-function-code", "--function-name", unique("no"),
                            "--zip-file", write(tmp_path, "ok.zip", handler_zip()))
    assert_refused(daemon, before, rc, err, "ResourceNotFoundException")

