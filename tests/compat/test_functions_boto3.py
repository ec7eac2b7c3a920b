"""The Lambda function API driven by boto3: the same operations as the CLI suite, plus
pagination over 120 functions, published versions, persistence across restarts and crashes,
concurrent creates, content-addressed code storage, and the wire shape of errors.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from conftest import (
    ACCOUNT,
    ROLE,
    b64sha256,
    corrupt_zip,
    function_arn,
    handler_zip,
    http_get,
    lying_zip_bomb,
    unique,
    unsafe_zip,
    zip_bomb,
)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def create(c, name, zip_bytes=None, **kw):
    params = dict(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="lambda_function.lambda_handler",
        Code={"ZipFile": zip_bytes if zip_bytes is not None else handler_zip(name)},
    )
    params.update(kw)
    return c.create_function(**params)


def error_of(fn, *args, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as e:
        fn(*args, **kwargs)
    return e.value


def assert_error(e: ClientError, code: str, status: int):
    r = e.response
    assert r["Error"]["Code"] == code, r
    assert r["ResponseMetadata"]["HTTPStatusCode"] == status, r
    headers = r["ResponseMetadata"]["HTTPHeaders"]
    assert UUID.match(headers.get("x-amzn-requestid", "")), headers
    assert headers.get("x-amzn-errortype", "").split(":")[0] == code, headers
    assert r["Error"]["Message"], r


def all_functions(c, **kw):
    out = []
    for page in c.get_paginator("list_functions").paginate(**kw):
        out.extend(page["Functions"])
    return out


def state(c):
    fns = sorted(all_functions(c, FunctionVersion="ALL"), key=lambda f: (f["FunctionName"], f["Version"]))
    return fns, c.get_account_settings()["AccountUsage"]


# ---------------------------------------------------------------------------------------------
# the operations


def test_lifecycle_and_request_ids(daemon):
    c = daemon.client()
    name = unique("life")
    z = handler_zip(name)
    created = create(c, name, z, MemorySize=512, Timeout=30,
                     Environment={"Variables": {"DB_HOST": "db.internal"}}, Tags={"t": "1"})
    meta = created.pop("ResponseMetadata")
    assert meta["HTTPStatusCode"] == 201
    assert UUID.match(meta["HTTPHeaders"]["x-amzn-requestid"])
    assert meta["HTTPHeaders"]["content-type"].startswith("application/json")
    assert created["FunctionArn"] == function_arn(name)
    assert created["CodeSha256"] == b64sha256(z) and created["CodeSize"] == len(z)
    assert created["State"] == "Active" and created["LastUpdateStatus"] == "Successful"
    assert created["Version"] == "$LATEST"

    got = c.get_function(FunctionName=name)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert got["Configuration"] == created
    assert got["Tags"] == {"t": "1"}
    status, _, body = http_get(got["Code"]["Location"])
    assert status == 200 and body == z

    conf = c.get_function_configuration(FunctionName=name)
    assert conf.pop("ResponseMetadata")["HTTPStatusCode"] == 200
    assert conf == created

    z2 = handler_zip(name + "2")
    code = c.update_function_code(FunctionName=name, ZipFile=z2)
    assert code["CodeSha256"] == b64sha256(z2)
    assert code["RevisionId"] != created["RevisionId"]

    upd = c.update_function_configuration(FunctionName=name, MemorySize=1024, Timeout=60,
                                          Environment={"Variables": {"XX": "y"}})
    assert upd["MemorySize"] == 1024 and upd["Timeout"] == 60
    assert upd["Environment"]["Variables"] == {"XX": "y"}
    assert upd["RevisionId"] not in (created["RevisionId"], code["RevisionId"])

    assert c.tag_resource(Resource=function_arn(name), Tags={"u": "2"})["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert c.list_tags(Resource=function_arn(name))["Tags"] == {"t": "1", "u": "2"}
    c.untag_resource(Resource=function_arn(name), TagKeys=["t"])
    assert c.list_tags(Resource=function_arn(name))["Tags"] == {"u": "2"}

    settings = c.get_account_settings()
    assert settings["AccountUsage"]["FunctionCount"] >= 1
    assert settings["AccountLimit"]["CodeSizeZipped"] == 52428800

    c.get_waiter("function_active_v2").wait(FunctionName=name)
    c.get_waiter("function_updated_v2").wait(FunctionName=name)
    c.get_waiter("function_exists").wait(FunctionName=name)

    deleted = c.delete_function(FunctionName=name)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert UUID.match(deleted["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"])
    e = error_of(c.get_function, FunctionName=name)
    assert_error(e, "ResourceNotFoundException", 404)
    assert function_arn(name) in e.response["Error"]["Message"]


def test_name_forms(daemon):
    c = daemon.client()
    name = unique("forms")
    create(c, name)
    for form in (name, f"{ACCOUNT}:function:{name}", function_arn(name)):
        assert c.get_function_configuration(FunctionName=form)["FunctionName"] == name
        assert c.update_function_configuration(FunctionName=form, Description=form)["Description"] == form
    c.delete_function(FunctionName=f"{ACCOUNT}:function:{name}")
    assert_error(error_of(c.get_function, FunctionName=name), "ResourceNotFoundException", 404)


def test_dry_run_and_revision_preconditions(daemon):
    c = daemon.client()
    name = unique("rev")
    created = create(c, name)
    z2 = handler_zip("other")
    dry = c.update_function_code(FunctionName=name, ZipFile=z2, DryRun=True)
    assert dry["CodeSha256"] == b64sha256(z2)
    now = c.get_function_configuration(FunctionName=name)
    assert now["CodeSha256"] == created["CodeSha256"]
    assert now["RevisionId"] == created["RevisionId"]

    before = state(c)
    e = error_of(c.update_function_code, FunctionName=name, ZipFile=z2, RevisionId="stale")
    assert_error(e, "PreconditionFailedException", 412)
    e = error_of(c.update_function_configuration, FunctionName=name, Timeout=7, RevisionId="stale")
    assert_error(e, "PreconditionFailedException", 412)
    assert state(c) == before
    ok = c.update_function_configuration(FunctionName=name, Timeout=7, RevisionId=created["RevisionId"])
    assert ok["Timeout"] == 7


ERRORS = [
    ("memory-20000", {"MemorySize": 20000}, "ValidationException", 400),
    ("memory-127", {"MemorySize": 127}, "ValidationException", 400),
    ("timeout-0", {"Timeout": 0}, "ValidationException", 400),
    ("timeout-901", {"Timeout": 901}, "ValidationException", 400),
    ("ephemeral-511", {"EphemeralStorage": {"Size": 511}}, "ValidationException", 400),
    ("bad-name", {"FunctionName": "has.dot"}, "ValidationException", 400),
    ("reserved-env", {"Environment": {"Variables": {"AWS_REGION": "x"}}},
     "InvalidParameterValueException", 400),
    ("env-over-4kb", {"Environment": {"Variables": {"BIG": "x" * 5000}}},
     "InvalidParameterValueException", 400),
    ("runtime-not-here", {"Runtime": "java21"}, "InvalidParameterValueException", 400),
    ("bad-role", {"Role": "arn:aws:iam::123:role/x"}, "ValidationException", 400),
    ("invalid-zip", {"Code": {"ZipFile": b"nope"}}, "InvalidParameterValueException", 400),
    ("zip-bad-local-header", {"Code": {"ZipFile": corrupt_zip("local-header")}},
     "InvalidParameterValueException", 400),
    ("zip-corrupt-data", {"Code": {"ZipFile": corrupt_zip("data")}},
     "InvalidParameterValueException", 400),
    ("empty-zip-file", {"Code": {"ZipFile": b""}}, "InvalidParameterValueException", 400),
    ("zip-dotdot", {"Code": {"ZipFile": unsafe_zip("../../x")}}, "InvalidParameterValueException", 400),
    ("zip-absolute", {"Code": {"ZipFile": unsafe_zip("/x")}}, "InvalidParameterValueException", 400),
]


@pytest.mark.parametrize("case", ERRORS, ids=[e[0] for e in ERRORS])
def test_create_refused_with_aws_error_shape(daemon, case):
    _, override, code, status = case
    c = daemon.client(parameter_validation=False)
    before = state(c)
    e = error_of(create, c, unique("bad"), **override)
    assert_error(e, code, status)
    assert state(c) == before


def test_zip_bomb_refused(daemon):
    c = daemon.client()
    before = state(c)
    e = error_of(create, c, unique("bomb"), zip_bomb())
    assert e.response["Error"]["Code"] in ("RequestEntityTooLargeException", "InvalidParameterValueException")
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 413)
    assert state(c) == before


def test_zip_bomb_with_lying_sizes_refused(daemon):
    """The declared sizes say 1,000 bytes; the stream inflates to 264 MB. A check that only
    reads the central directory cannot see it."""
    c = daemon.client()
    before = state(c)
    e = error_of(create, c, unique("liar"), lying_zip_bomb())
    assert e.response["Error"]["Code"] in ("RequestEntityTooLargeException", "InvalidParameterValueException")
    assert state(c) == before


def test_conflict_and_not_found_codes(daemon):
    c = daemon.client()
    name = unique("codes")
    create(c, name)
    before = state(c)
    assert_error(error_of(create, c, name), "ResourceConflictException", 409)
    missing = unique("missing")
    assert_error(error_of(c.get_function_configuration, FunctionName=missing), "ResourceNotFoundException", 404)
    assert_error(error_of(c.delete_function, FunctionName=missing), "ResourceNotFoundException", 404)
    assert_error(error_of(c.update_function_code, FunctionName=missing, ZipFile=handler_zip()),
                 "ResourceNotFoundException", 404)
    assert_error(error_of(c.list_tags, Resource=function_arn(missing)), "ResourceNotFoundException", 404)
    assert state(c) == before


# ---------------------------------------------------------------------------------------------
# pagination and versions


def test_paginator_over_120_functions(fresh_daemon):
    c = fresh_daemon.client(max_pool_connections=16)
    names = [f"p{i:03d}-{unique('f')}" for i in range(120)]
    z = handler_zip("shared")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: create(c, n, z), names))

    def run():
        pages = list(c.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 7}))
        for p in pages[:-1]:
            assert len(p["Functions"]) == 7 and "NextMarker" in p
        assert "NextMarker" not in pages[-1]
        assert len(pages) == 18  # ceil(120 / 7)
        return [f["FunctionName"] for p in pages for f in p["Functions"]]

    first = run()
    assert len(first) == 120 and len(set(first)) == 120
    assert set(first) == set(names)
    assert run() == first, "order must be stable between listings"
    default_pages = list(c.get_paginator("list_functions").paginate())
    assert [len(p["Functions"]) for p in default_pages] == [50, 50, 20]
    assert [f["FunctionName"] for p in default_pages for f in p["Functions"]] == first
    # MaxItems above the page cap is capped at 50, never more.
    big = c.list_functions(MaxItems=1000)
    assert len(big["Functions"]) == 50 and "NextMarker" in big


def test_pagination_survives_changes_between_pages(fresh_daemon):
    c = fresh_daemon.client()
    names = sorted(f"m{i:02d}" for i in range(20))
    for n in names:
        create(c, n)
    page = c.list_functions(MaxItems=5)
    seen = [f["FunctionName"] for f in page["Functions"]]
    # Between pages: delete a function already seen and one not yet seen, add one at the end.
    c.delete_function(FunctionName=seen[0])
    c.delete_function(FunctionName=names[10])
    create(c, "zz-late")
    marker = page["NextMarker"]
    while marker:
        page = c.list_functions(MaxItems=5, Marker=marker)
        seen.extend(f["FunctionName"] for f in page["Functions"])
        marker = page.get("NextMarker")
    assert len(seen) == len(set(seen)), "no function may be listed twice"
    expected = set(names) - {names[10]} | {"zz-late"}
    assert set(seen) == expected


def test_bad_marker_and_max_items(daemon):
    c = daemon.client(parameter_validation=False)
    e = error_of(c.list_functions, Marker="not-a-marker!!")
    assert e.response["Error"]["Code"] in ("InvalidParameterValueException", "ValidationException")
    e = error_of(c.list_functions, MaxItems=0)
    assert_error(e, "ValidationException", 400)


def test_publish_on_create_and_function_version_all(daemon):
    c = daemon.client()
    name = unique("pub")
    created = create(c, name, Publish=True)
    assert created["Version"] == "1"
    assert created["FunctionArn"] == function_arn(name) + ":1"
    v1 = c.get_function_configuration(FunctionName=name, Qualifier="1")
    assert v1["Version"] == "1" and v1["CodeSha256"] == created["CodeSha256"]
    latest = c.get_function_configuration(FunctionName=name)
    assert latest["Version"] == "$LATEST"

    plain = unique("nopub")
    create(c, plain)
    everything = all_functions(c, FunctionVersion="ALL")
    mine = sorted((f["FunctionName"], f["Version"], f["FunctionArn"]) for f in everything
                  if f["FunctionName"] in (name, plain))
    assert mine == sorted([
        (name, "$LATEST", function_arn(name) + ":$LATEST"),
        (name, "1", function_arn(name) + ":1"),
        (plain, "$LATEST", function_arn(plain) + ":$LATEST"),
    ])
    latest_only = [f for f in all_functions(c) if f["FunctionName"] in (name, plain)]
    assert sorted(f["Version"] for f in latest_only) == ["$LATEST", "$LATEST"]
    assert all(f["FunctionArn"] == function_arn(f["FunctionName"]) for f in latest_only)
    e = error_of(c.list_functions, FunctionVersion="SOME")
    assert e.response["Error"]["Code"] == "ValidationException"


# ---------------------------------------------------------------------------------------------
# persistence


def test_everything_survives_a_restart(fresh_daemon):
    d = fresh_daemon
    c = d.client()
    z = handler_zip("persist")
    create(c, "keeper", z, MemorySize=768, Timeout=42, Description="kept",
           Environment={"Variables": {"AA": "1"}}, Tags={"team": "home"},
           EphemeralStorage={"Size": 1024})
    c.update_function_configuration(FunctionName="keeper", Environment={"Variables": {"BB": "2"}})
    create(c, "published", Publish=True)
    before_cfg = c.get_function(FunctionName="keeper")
    before_all = state(c)
    old_endpoint = d.endpoint
    keys = d.admin_keys()

    d.restart()
    assert d.admin_keys() == keys, "a restart must not replace the admin key"
    c = d.client()
    after = c.get_function(FunctionName="keeper")
    assert after["Configuration"] == before_cfg["Configuration"]
    assert after["Tags"] == {"team": "home"}
    assert after["Configuration"]["Environment"]["Variables"] == {"BB": "2"}
    assert after["Configuration"]["MemorySize"] == 768
    status, _, body = http_get(after["Code"]["Location"])
    assert status == 200 and body == z
    assert state(c) == before_all
    assert c.get_function_configuration(FunctionName="published", Qualifier="1")["Version"] == "1"
    # A download URL issued before the restart still works (the signing key persisted),
    # once pointed at the new port.
    old_url = before_cfg["Code"]["Location"].replace(old_endpoint, d.endpoint)
    status, _, body = http_get(old_url)
    assert status == 200 and body == z


def test_acknowledged_create_survives_kill_9(fresh_daemon):
    d = fresh_daemon
    c = d.client()
    z = handler_zip("crash")
    created = create(c, "crash-safe", z)
    c.tag_resource(Resource=function_arn("crash-safe"), Tags={"k": "v"})
    updated = c.update_function_configuration(FunctionName="crash-safe", MemorySize=2048)
    d.crash_restart()
    c = d.client()
    got = c.get_function(FunctionName="crash-safe")
    assert got["Configuration"]["CodeSha256"] == created["CodeSha256"]
    assert got["Configuration"]["MemorySize"] == 2048
    assert got["Configuration"]["RevisionId"] == updated["RevisionId"]
    assert got["Tags"] == {"k": "v"}
    status, _, body = http_get(got["Code"]["Location"])
    assert status == 200 and body == z


# ---------------------------------------------------------------------------------------------
# concurrency


def test_parallel_creates(fresh_daemon):
    d = fresh_daemon
    clients = [d.client() for _ in range(20)]
    names = [unique("par") for _ in range(20)]
    barrier = threading.Barrier(20)

    def go(i):
        barrier.wait()
        return create(clients[i], names[i])["FunctionName"]

    with ThreadPoolExecutor(20) as pool:
        done = list(pool.map(go, range(20)))
    assert sorted(done) == sorted(names)
    assert sorted(f["FunctionName"] for f in all_functions(clients[0])) == sorted(names)

    same = unique("same")
    barrier10 = threading.Barrier(10)

    def same_name(i):
        barrier10.wait()
        try:
            create(clients[i], same, handler_zip(f"same{i}"))
            return "ok"
        except ClientError as e:
            return e.response["Error"]["Code"]

    with ThreadPoolExecutor(10) as pool:
        outcomes = list(pool.map(same_name, range(10)))
    assert outcomes.count("ok") == 1, outcomes
    assert outcomes.count("ResourceConflictException") == 9, outcomes
    assert sum(1 for f in all_functions(clients[0]) if f["FunctionName"] == same) == 1
    usage = clients[0].get_account_settings()["AccountUsage"]
    assert usage["FunctionCount"] == 21


# ---------------------------------------------------------------------------------------------
# content-addressed code


def test_identical_packages_are_stored_once(fresh_daemon):
    c = fresh_daemon.client()
    assert c.get_account_settings()["AccountUsage"] == {"TotalCodeSize": 0, "FunctionCount": 0}
    z = handler_zip("dedup")
    create(c, "twin-a", z)
    create(c, "twin-b", z)
    usage = c.get_account_settings()["AccountUsage"]
    assert usage == {"TotalCodeSize": len(z), "FunctionCount": 2}

    other = handler_zip("different")
    c.update_function_code(FunctionName="twin-b", ZipFile=other)
    assert c.get_account_settings()["AccountUsage"]["TotalCodeSize"] == len(z) + len(other)
    c.update_function_code(FunctionName="twin-b", ZipFile=z)
    assert c.get_account_settings()["AccountUsage"]["TotalCodeSize"] == len(z), "an unreferenced package must be freed"

    c.delete_function(FunctionName="twin-a")
    assert c.get_account_settings()["AccountUsage"] == {"TotalCodeSize": len(z), "FunctionCount": 1}
    c.delete_function(FunctionName="twin-b")
    assert c.get_account_settings()["AccountUsage"] == {"TotalCodeSize": 0, "FunctionCount": 0}


# ---------------------------------------------------------------------------------------------
# package size limits and qualified deletes


def test_zip_over_50mb_is_refused_with_413(fresh_daemon):
    import os

    from conftest import make_zip

    c = fresh_daemon.client(read_timeout=120)
    # Random bytes do not compress: the archive is a little over 50 MB (52,428,800 bytes).
    big = make_zip({"lambda_function.py": "def lambda_handler(e, c):\n    return 1\n",
                    "blob.bin": os.urandom(52_428_800 + 1024)})
    assert len(big) > 52_428_800
    e = error_of(create, c, "too-big", big)
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 413, e.response
    assert e.response["Error"]["Code"] in ("RequestEntityTooLargeException", "RequestTooLargeException")
    assert e.response["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-requestid")
    assert c.get_account_settings()["AccountUsage"] == {"TotalCodeSize": 0, "FunctionCount": 0}


def test_delete_with_qualifier(daemon):
    c = daemon.client(parameter_validation=False)
    name = unique("delq")
    create(c, name, Publish=True)
    before = state(c)
    e = error_of(c.delete_function, FunctionName=name, Qualifier="$LATEST")
    assert_error(e, "InvalidParameterValueException", 400)
    assert_error(error_of(c.delete_function, FunctionName=name, Qualifier="7"),
                 "ResourceNotFoundException", 404)
    assert state(c) == before
    assert c.delete_function(FunctionName=name, Qualifier="1")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert_error(error_of(c.get_function_configuration, FunctionName=name, Qualifier="1"),
                 "ResourceNotFoundException", 404)
    assert c.get_function_configuration(FunctionName=name)["Version"] == "$LATEST"
    status, _, _ = http_get(c.get_function(FunctionName=name)["Code"]["Location"])
    assert status == 200, "the package of $LATEST must survive deleting version 1"


def test_unknown_route_has_aws_error_shape(daemon):
    import json as _json
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest(method="GET", url=daemon.endpoint + "/2015-03-31/no-such-thing")
    SigV4Auth(Credentials(*daemon.admin_keys()), "lambda", "us-east-1").add_auth(req)
    try:
        urllib.request.urlopen(urllib.request.Request(req.url, headers=dict(req.headers.items())))
        raise AssertionError("an unknown route answered 2xx")
    except urllib.error.HTTPError as err:
        assert err.code in (400, 404)
        assert err.headers.get("x-amzn-ErrorType")
        assert err.headers.get("x-amzn-RequestId")
        body = _json.loads(err.read())
        assert body.get("message") or body.get("Message")


def test_version_all_pagination_sees_every_version_once(fresh_daemon):
    c = fresh_daemon.client()
    for n in ("va", "vb", "vc"):
        create(c, n, Publish=True)
    create(c, "vd")
    expected = {("va", "$LATEST"), ("va", "1"), ("vb", "$LATEST"), ("vb", "1"),
                ("vc", "$LATEST"), ("vc", "1"), ("vd", "$LATEST")}
    seen = []
    for page in c.get_paginator("list_functions").paginate(
            FunctionVersion="ALL", PaginationConfig={"PageSize": 1}):
        assert len(page["Functions"]) <= 1
        seen.extend((f["FunctionName"], f["Version"]) for f in page["Functions"])
    assert len(seen) == len(set(seen)), seen
    assert set(seen) == expected


def test_create_with_an_arn_as_name_and_tag_limits(daemon):
    c = daemon.client()
    name = unique("arnname")
    created = create(c, function_arn(name))
    assert created["FunctionName"] == name
    assert created["FunctionArn"] == function_arn(name)
    before = state(c)
    tags_before = c.list_tags(Resource=function_arn(name))["Tags"]
    e = error_of(c.tag_resource, Resource=function_arn(name),
                 Tags={f"k{i}": "v" for i in range(51)})
    assert e.response["Error"]["Code"] in ("InvalidParameterValueException", "ValidationException")
    assert c.list_tags(Resource=function_arn(name))["Tags"] == tags_before
    assert state(c) == before
    e = error_of(c.get_function, FunctionName=f"{name}:1", Qualifier="2")
    assert e.response["Error"]["Code"] in ("InvalidParameterValueException", "ResourceNotFoundException")


def test_parallel_updates_with_one_revision_id_only_one_wins(daemon):
    c = daemon.client()
    name = unique("race")
    rev = create(c, name)["RevisionId"]
    clients = [daemon.client() for _ in range(10)]
    barrier = threading.Barrier(10)

    def update(i):
        barrier.wait()
        try:
            clients[i].update_function_configuration(FunctionName=name, Timeout=10 + i, RevisionId=rev)
            return ("ok", 10 + i)
        except ClientError as e:
            return (e.response["Error"]["Code"], None)

    with ThreadPoolExecutor(10) as pool:
        outcomes = list(pool.map(update, range(10)))
    winners = [t for code, t in outcomes if code == "ok"]
    assert len(winners) == 1, outcomes
    assert [code for code, _ in outcomes].count("PreconditionFailedException") == 9, outcomes
    assert c.get_function_configuration(FunctionName=name)["Timeout"] == winners[0]

    rev = c.get_function_configuration(FunctionName=name)["RevisionId"]
    barrier = threading.Barrier(6)

    def code_update(i):
        barrier.wait()
        try:
            clients[i].update_function_code(FunctionName=name, ZipFile=handler_zip(f"r{i}"), RevisionId=rev)
            return "ok"
        except ClientError as e:
            return e.response["Error"]["Code"]

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(code_update, range(6)))
    assert outcomes.count("ok") == 1, outcomes
    assert outcomes.count("PreconditionFailedException") == 5, outcomes
