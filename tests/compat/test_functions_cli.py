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
    corrupt_zip,
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


def given_function(daemon, name: str, zip_bytes: bytes | None = None, **kw):
    """Creates a function through boto3 (fast) for tests whose subject is another call."""
    return daemon.client().create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE,
        Handler="lambda_function.lambda_handler",
        Code={"ZipFile": zip_bytes if zip_bytes is not None else handler_zip(name)}, **kw,
    )


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
    calls = [(op, "--function-name", unique("missing"))
             for op in ("get-function", "get-function-configuration", "delete-function")]
    for rc, _, err in daemon.aws_many(calls):
        assert_refused(daemon, before, rc, err, "ResourceNotFoundException")


# ---------------------------------------------------------------------------------------------
# ListFunctions


def test_list_functions_max_items_pagination(fresh_daemon):
    daemon = fresh_daemon
    prefix = unique("page")
    names = [f"{prefix}-{i}" for i in range(5)]
    for n in names:
        given_function(daemon, n)
    rc, full, err = daemon.aws("list-functions")
    assert rc == 0, err
    all_names = [f["FunctionName"] for f in full["Functions"]]
    assert len(all_names) == len(set(all_names))
    assert sorted(all_names) == sorted(names)
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
    assert pages == 3

    rc, small_pages, err = daemon.aws("list-functions", "--page-size", "2")
    assert rc == 0, err
    assert [f["FunctionName"] for f in small_pages["Functions"]] == all_names


# ---------------------------------------------------------------------------------------------
# UpdateFunctionCode / UpdateFunctionConfiguration preconditions


def test_update_code_dry_run_and_revision_id(daemon, tmp_path):
    name = unique("code")
    z1 = handler_zip(name + "1")
    given_function(daemon, name, z1)
    rc, created, err = daemon.aws("get-function-configuration", "--function-name", name)
    assert rc == 0, err
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
    created = given_function(daemon, name)
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
    create(daemon, tmp_path, name, "--environment", "Variables={AA=1,BB=2}")
    rc, out, err = daemon.aws(
        "update-function-configuration", "--function-name", name, "--description", "d",
    )
    assert rc == 0, err
    assert out["Environment"]["Variables"] == {"AA": "1", "BB": "2"}, "absent Environment must keep it"
    rc, out, err = daemon.aws(
        "update-function-configuration", "--function-name", name,
        "--environment", "Variables={CC=3}",
    )
    assert rc == 0, err
    assert out["Environment"]["Variables"] == {"CC": "3"}
    rc, out, err = daemon.aws(
        "update-function-configuration", "--function-name", name,
        "--environment", json.dumps({"Variables": {}}),
    )
    assert rc == 0, err
    assert out.get("Environment", {}).get("Variables", {}) == {}
    got = daemon.client().get_function_configuration(FunctionName=name)
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
    assert daemon.client().get_function(FunctionName=name)["Tags"] == {"env": "prod"}

    before = snapshot(daemon)
    missing = function_arn(unique("missing"))
    results = daemon.aws_many([
        ("tag-resource", "--resource", missing, "--tags", "a=b"),
        ("untag-resource", "--resource", missing, "--tag-keys", "a"),
        ("list-tags", "--resource", missing),
        ("tag-resource", "--resource", arn, "--tags", "aws:reserved=x"),
    ])
    for rc, _, err in results[:3]:
        assert_refused(daemon, before, rc, err, "ResourceNotFoundException")
    rc, _, err = results[3]
    assert_refused(daemon, before, rc, err, "InvalidParameterValueException", "ValidationException")


def test_account_settings(daemon, tmp_path):
    given_function(daemon, unique("acct"))
    rc, out, err = daemon.aws("get-account-settings")
    assert rc == 0, err
    # The default account pool is derived from the host: the smaller of the uid range (1000)
    # and a memory budget of 3/4 of MemTotal in 128 MB environments.
    mem_mb = int(open("/proc/meminfo").read().split("MemTotal:")[1].split()[0]) // 1024
    pool = min(1000, (mem_mb * 3 // 4) // 128)
    assert out["AccountLimit"] == {
        "TotalCodeSize": 80530636800,
        "CodeSizeUnzipped": 262144000,
        "CodeSizeZipped": 52428800,
        "ConcurrentExecutions": pool,
        "UnreservedConcurrentExecutions": pool,
    }
    listed = daemon.client().get_paginator("list_functions").paginate().build_full_result()
    assert out["AccountUsage"]["FunctionCount"] == len(listed["Functions"])
    assert out["AccountUsage"]["TotalCodeSize"] >= len(handler_zip("x"))


def test_waiters(daemon, tmp_path):
    name = unique("wait")
    given_function(daemon, name)
    t0 = time.monotonic()
    waiters = ("function-exists", "function-active-v2", "function-active")
    for waiter, (rc, _, err) in zip(waiters, daemon.aws_many(
            [("wait", w, "--function-name", name) for w in waiters])):
        assert rc == 0, (waiter, err)
    daemon.client().update_function_configuration(FunctionName=name, MemorySize=256)
    waiters = ("function-updated-v2", "function-updated")
    for waiter, (rc, _, err) in zip(waiters, daemon.aws_many(
            [("wait", w, "--function-name", name) for w in waiters])):
        assert rc == 0, (waiter, err)
    rc, _, err = daemon.aws("wait", "function-active-v2", "--function-name", unique("missing"))
    assert rc != 0 and "ResourceNotFoundException" in err, err
    assert time.monotonic() - t0 < 60, "waiters must succeed on their first poll"


# ---------------------------------------------------------------------------------------------
# FunctionName forms


def test_function_name_forms(daemon, tmp_path):
    name = unique("forms")
    given_function(daemon, name)
    partial, full = f"{ACCOUNT}:function:{name}", function_arn(name)
    forms = [name, partial, full, f"{name}:$LATEST"]
    results = daemon.aws_many(
        [("get-function-configuration", "--function-name", f) for f in forms]
        + [("get-function", "--function-name", full)]
    )
    for form, (rc, got, err) in zip(forms + [full], results):
        assert rc == 0, (form, err)
        conf = got.get("Configuration", got)
        assert conf["FunctionName"] == name
        assert conf["FunctionArn"] in (full, full + ":$LATEST")

    for i, form in enumerate((partial, full)):
        rc, got, err = daemon.aws("update-function-configuration", "--function-name", form,
                                  "--description", f"via form {i}")
        assert rc == 0, (form, err)
        assert got["Description"] == f"via form {i}"
    z = handler_zip(name + "new")
    rc, got, err = daemon.aws("update-function-code", "--function-name", partial,
                              "--zip-file", write(tmp_path, "f.zip", z))
    assert rc == 0, err
    assert got["CodeSha256"] == b64sha256(z)

    before = snapshot(daemon)
    foreign = (
        f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:{name}",
        f"arn:aws:lambda:{REGION}:111111111111:function:{name}",
        f"111111111111:function:{name}",
    )
    for rc, _, err in daemon.aws_many(
            [("get-function-configuration", "--function-name", f) for f in foreign]):
        assert_refused(daemon, before, rc, err, "ResourceNotFoundException")

    rc, _, err = daemon.aws("delete-function", "--function-name", full)
    assert rc == 0, err
    given_function(daemon, name)
    rc, _, err = daemon.aws("delete-function", "--function-name", partial)
    assert rc == 0, err
    with pytest.raises(Exception) as e:
        daemon.client().get_function(FunctionName=name)
    assert "ResourceNotFoundException" in str(e.value)


# ---------------------------------------------------------------------------------------------
# refused calls


def test_create_duplicate_is_a_conflict(daemon, tmp_path):
    name = unique("dup")
    given_function(daemon, name)
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
    # Rows are `ID  STATUS  …` (continuation lines start with spaces): the available ones.
    return [
        line.split()[0]
        for line in p.stdout.splitlines()
        if not line.startswith(" ") and len(line.split()) > 1 and line.split()[1] == "available"
    ]


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
    ("invalid-zip", {"zip": corrupt_zip("local-header")}, ["InvalidParameterValueException"], None),
    ("zip-dotdot", {"zip": unsafe_zip("../escape.py")}, ["InvalidParameterValueException"], None),
    ("zip-nested-dotdot", {"zip": unsafe_zip("lib/../../escape.py")},
     ["InvalidParameterValueException"], None),
    ("zip-absolute", {"zip": unsafe_zip("/etc/cron.d/escape")},
     ["InvalidParameterValueException"], None),
    ("zip-bomb", {"zip": "bomb"},
     ["RequestEntityTooLargeException", "InvalidParameterValueException"], None),
]


@pytest.fixture(scope="module")
def create_errors(daemon, tmp_path_factory):
    """Runs every refused create-function of CREATE_ERRORS once, concurrently (the CLI is slow
    to start), between two snapshots of the daemon's state."""
    tmp = tmp_path_factory.mktemp("create-errors")
    calls = []
    for case_id, overrides, _, _ in CREATE_ERRORS:
        z = overrides.get("zip", handler_zip(case_id))
        if z == "bomb":
            z = zip_bomb()
        args = {
            "--function-name": unique("bad"),
            "--runtime": "python3.12",
            "--handler": "lambda_function.lambda_handler",
            "--role": ROLE,
            "--zip-file": write(tmp, f"{case_id}.zip", z),
        }
        args.update({k: v for k, v in overrides.items() if k.startswith("--")})
        calls.append(("create-function", *[x for kv in args.items() for x in kv]))
    before = snapshot(daemon)
    results = daemon.aws_many(calls)
    after = snapshot(daemon)
    return before, after, dict(zip([c[0] for c in CREATE_ERRORS], results))


@pytest.mark.parametrize("case", CREATE_ERRORS, ids=[c[0] for c in CREATE_ERRORS])
def test_create_function_refused(daemon, create_errors, case):
    case_id, _, exceptions, fragment = case
    before, after, results = create_errors
    rc, _, err = results[case_id]
    assert rc != 0, "the call was expected to fail"
    assert re.search(rf"An error occurred \(({'|'.join(exceptions)})\)", err), err
    if fragment:
        assert fragment in err, err
    if case_id == "runtime-not-here":
        for rt in _runtimes(daemon):
            assert rt in err, f"the message must list available runtime {rt}: {err}"
    assert after == before, "a refused create-function changed the daemon's state"


def test_host_runtimes_include_the_expected_ones(daemon):
    available = _runtimes(daemon)
    for rt in ("python3.12", "nodejs20.x", "provided.al2023"):
        assert rt in available, available


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


def test_update_configuration_refused(daemon):
    name = unique("upc")
    given_function(daemon, name, Environment={"Variables": {"KEEP": "1"}})
    calls = [("update-function-configuration", "--function-name", name, *args)
             for _, args, _ in UPDATE_CONFIG_ERRORS]
    calls.append(("update-function-configuration", "--function-name", unique("no"), "--timeout", "5"))
    expected = [(case_id, exc) for case_id, _, exc in UPDATE_CONFIG_ERRORS]
    expected.append(("missing-function", "ResourceNotFoundException"))
    before = snapshot(daemon)
    results = daemon.aws_many(calls)
    problems = []
    for (case_id, exc), (rc, _, err) in zip(expected, results):
        if rc == 0 or f"An error occurred ({exc})" not in err:
            problems.append(f"{case_id}: rc={rc} expected {exc}: {err.strip()}")
    assert not problems, "\n".join(problems)
    assert snapshot(daemon) == before, "a refused update-function-configuration changed state"


def test_update_code_refused(daemon, tmp_path):
    name = unique("upz")
    given_function(daemon, name)
    bad = ["InvalidParameterValueException"]
    big = ["RequestEntityTooLargeException", "InvalidParameterValueException"]
    cases = [
        ("invalid-zip", corrupt_zip("local-header"), bad, []),
        ("invalid-zip-dry-run", corrupt_zip("local-header"), bad, ["--dry-run"]),
        ("zip-dotdot", unsafe_zip("../x"), bad, []),
        ("zip-absolute", unsafe_zip("/tmp/x"), bad, []),
        ("zip-bomb", zip_bomb(), big, []),
        ("zip-bomb-dry-run", zip_bomb(), big, ["--dry-run"]),
    ]
    calls = [("update-function-code", "--function-name", name,
              "--zip-file", write(tmp_path, f"{case_id}.zip", z), *extra)
             for case_id, z, _, extra in cases]
    calls.append(("update-function-code", "--function-name", unique("no"),
                  "--zip-file", write(tmp_path, "ok.zip", handler_zip())))
    expected = [(case_id, exc) for case_id, _, exc, _ in cases]
    expected.append(("missing-function", ["ResourceNotFoundException"]))
    before = snapshot(daemon)
    results = daemon.aws_many(calls)
    problems = []
    for (case_id, excs), (rc, _, err) in zip(expected, results):
        if rc == 0 or not re.search(rf"An error occurred \(({'|'.join(excs)})\)", err):
            problems.append(f"{case_id}: rc={rc} expected {excs}: {err.strip()}")
    assert not problems, "\n".join(problems)
    assert snapshot(daemon) == before, "a refused update-function-code changed state"
