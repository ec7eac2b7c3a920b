"""The dashboard's Buckets page and the function's Triggers tab (issue 20), over HTTP as a
browser sends it: create a bucket, upload into a folder, browse, download, add and remove a
notification rule (and see it on the function's Triggers tab), delete an object, refuse to
delete a bucket without its name typed again. Keys are rendered escaped."""

from __future__ import annotations

import pytest

from conftest import ROLE, Daemon, make_zip, unique
from dashboard_client import Dashboard, first_admin_password
from s3_support import s3_client


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    dm = Daemon(tmp_path_factory.mktemp("s3dash")).start()
    yield dm
    dm.kill()


@pytest.fixture(scope="module")
def ui(d):
    u = Dashboard(d.endpoint)
    u.login_ok("admin", first_admin_password(d.data_dir))
    return u


def test_buckets_page_flow(d, ui):
    b = unique("dash").lower()
    r = ui.post("/ui/buckets", {"name": b})
    assert r.status == 303 and r.location.endswith(f"/ui/buckets/{b}"), r.text
    r = ui.post("/ui/buckets", {"name": "Bad_Name"})
    assert r.status == 303
    assert "InvalidBucketName" in ui.get(r.location.split(d.endpoint, 1)[-1]).text
    page = ui.get("/ui/buckets")
    assert page.status == 200 and b in page.text
    r = ui.post_multipart(f"/ui/buckets/{b}/upload", {"prefix": "images/", "content_type": "image/jpeg"},
                          {"file": ("<cat>.jpg", b"JPEG bytes")})
    assert r.status == 303, r.text
    top = ui.get(f"/ui/buckets/{b}").text
    assert "images/" in top
    inside = ui.get(f"/ui/buckets/{b}?prefix=images%2F").text
    assert "&lt;cat&gt;.jpg" in inside and "<cat>" not in inside
    got = ui.get(f"/ui/buckets/{b}/download?key=images%2F%3Ccat%3E.jpg")
    assert got.status == 200 and got.body == b"JPEG bytes"
    s3 = s3_client(d)
    assert s3.get_object(Bucket=b, Key="images/<cat>.jpg")["ContentType"] == "image/jpeg"

    fn = unique("dfn")
    d.client().create_function(FunctionName=fn, Runtime="python3.11", Role=ROLE,
                               Handler="app.handler",
                               Code={"ZipFile": make_zip({"app.py": "def handler(e, c):\n    return 1\n"})})
    r = ui.post(f"/ui/buckets/{b}/rules", [("csrf", ui.csrf), ("action", "add"), ("function", fn),
                                          ("events", "s3:ObjectCreated:*"), ("prefix", "images/"),
                                          ("suffix", ".jpg"), ("id", "thumbs")])
    assert r.status == 303 and "done=rule-added" in r.location, r.location
    cfg = s3.get_bucket_notification_configuration(Bucket=b)["LambdaFunctionConfigurations"]
    assert cfg[0]["Id"] == "thumbs" and cfg[0]["Events"] == ["s3:ObjectCreated:*"]
    tab = ui.get(f"/ui/functions/{fn}/triggers").text
    assert f"/ui/buckets/{b}" in tab and "thumbs" in tab
    r = ui.post(f"/ui/buckets/{b}/rules", [("csrf", ui.csrf), ("action", "add"), ("function", "nope"),
                                          ("events", "s3:ObjectCreated:*")])
    assert "error=" in r.location
    assert len(s3.get_bucket_notification_configuration(Bucket=b)["LambdaFunctionConfigurations"]) == 1
    r = ui.post(f"/ui/buckets/{b}/rules", {"action": "remove", "id": "thumbs"})
    assert r.status == 303
    assert "LambdaFunctionConfigurations" not in s3.get_bucket_notification_configuration(Bucket=b)
    assert "No bucket notifies this function" in ui.get(f"/ui/functions/{fn}/triggers").text

    r = ui.post(f"/ui/buckets/{b}/delete", {"confirm": "wrong"})
    assert "error=" in r.location
    r = ui.post(f"/ui/buckets/{b}/delete", {"confirm": b})
    assert "error=" in r.location            # not empty
    r = ui.post(f"/ui/buckets/{b}/delete-object", {"key": "images/<cat>.jpg", "prefix": "images/"})
    assert r.status == 303
    r = ui.post(f"/ui/buckets/{b}/delete", {"confirm": b})
    assert r.status == 303 and r.location.endswith("/ui/buckets")
    assert ui.get(f"/ui/buckets/{b}").status == 404


def test_writes_need_the_csrf_token(d, ui):
    b = unique("csrf").lower()
    r = ui.post("/ui/buckets", {"name": b}, csrf=False)
    assert r.status == 403
    assert b not in [x["Name"] for x in s3_client(d).list_buckets()["Buckets"]]


def test_bucket_routes_need_a_session(d):
    b = unique("gate").lower()
    s3_client(d).create_bucket(Bucket=b)
    anon = Dashboard(d.endpoint)
    for method, path in [("GET", "/ui/buckets"), ("POST", "/ui/buckets"), ("GET", f"/ui/buckets/{b}"),
                         ("POST", f"/ui/buckets/{b}/upload"), ("GET", f"/ui/buckets/{b}/download?key=k"),
                         ("POST", f"/ui/buckets/{b}/delete-object"), ("POST", f"/ui/buckets/{b}/delete"),
                         ("POST", f"/ui/buckets/{b}/rules")]:
        r = anon.request(method, path, body=f"csrf=x&confirm={b}&name=x".encode() if method == "POST" else None)
        assert r.status == 303 and r.location.startswith("/ui/login?next="), (method, path, r.status)
    assert b in [x["Name"] for x in s3_client(d).list_buckets()["Buckets"]]
