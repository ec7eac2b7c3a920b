"""The dashboard's runtime choices (issue 23): starter code per runtime in the create page
(Python, Node.js, Ruby inline; Java and custom runtimes by upload), AWS's deprecation dates
beside runtimes, and a Ruby function created inline and run.
"""

from __future__ import annotations

import html
import json
import re
import shutil

import pytest

from dashboard_client import Dashboard, first_admin_password
from invoke_support import start_isolated_daemon, stop_daemon, unique
from runtime_support import java_jar
from test_runtime_java import SEED as JAVA_SEED


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    ruby = shutil.which("ruby3.1") or shutil.which("ruby")
    d = start_isolated_daemon(tmp_path_factory.mktemp("lambdabox-dash-rt"),
                              extra_toml=f'[runtimes]\n"ruby3.2" = "{ruby}"\n')
    yield d
    stop_daemon(d)


@pytest.fixture(scope="module")
def admin(daemon):
    d = Dashboard(daemon.endpoint)
    d.login_ok("admin", first_admin_password(daemon.data_dir))
    return d


def test_create_page_offers_starters_and_lifecycle_dates(admin):
    page = admin.get("/ui/functions/new")
    assert page.status == 200
    text = html.unescape(page.text)
    options = re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', page.text)
    ids = [o[0] for o in options]
    for rid in ("python3.11", "nodejs20.x", "java17", "ruby3.2", "provided.al2023"):
        assert rid in ids, ids
    labels = dict(options)
    assert "deprecated by AWS 2025-12-15" in html.unescape(labels.get("python3.9", "deprecated by AWS 2025-12-15"))
    assert "AWS deprecation 2029-06-30" in html.unescape(labels["provided.al2023"])
    assert "def lambda_handler(event:, context:)" in text  # the Ruby starter, for the runtime switch
    assert "Java functions are deployed as a .jar" in text
    assert 'accept=".zip,.jar' in page.text


def test_ruby_inline_and_java_upload(daemon, admin, tmp_path):
    fn = unique("dash-rb")
    admin.get("/ui/functions/new")
    r = admin.post_multipart("/ui/functions/new", {
        "name": fn, "runtime": "ruby3.2", "architecture": "x86_64", "handler": "lambda_function.lambda_handler",
        "memory": "128", "timeout": "3", "env": "GREETING=hi", "source": "inline",
        "code": re.search(r'data-ruby="([^"]*)"', admin.get("/ui/functions/new").text).group(1)
                  .replace("&#x27;", "'").replace("&quot;", '"').replace("&gt;", ">").replace("&lt;", "<")
                  .replace("&amp;", "&")})
    assert r.status == 303, r.text[:2000]
    out = daemon.client().invoke(FunctionName=fn, Payload=b'{"x": 1}')
    body = json.loads(out["Payload"].read())
    assert body["statusCode"] == 200, body
    assert json.loads(body["body"]) == {"message": "Hello from lambdabox!", "greeting": "hi"}

    # Java cannot be written inline: the form says how to deploy it, and creates nothing
    jfn = unique("dash-java")
    r = admin.post_multipart("/ui/functions/new", {
        "name": jfn, "runtime": "java17", "architecture": "x86_64", "handler": "example.Hello",
        "memory": "512", "timeout": "10", "env": "", "source": "inline", "code": "class X {}"})
    assert r.status == 422 and "Java functions are deployed as a .jar" in html.unescape(r.text)
    # … and a jar upload works
    jar = java_jar(tmp_path / "j", JAVA_SEED)
    r = admin.post_multipart("/ui/functions/new", {
        "name": jfn, "runtime": "java17", "architecture": "x86_64", "handler": "example.Hello",
        "memory": "512", "timeout": "10", "env": "", "source": "zip"}, files={"zip": ("fn.jar", jar)})
    assert r.status == 303, r.text[:2000]
    out = daemon.client(read_timeout=120).invoke(FunctionName=jfn, Payload=b'{"k": "v"}')
    assert json.loads(out["Payload"].read())["statusCode"] == 200


def test_function_list_and_page_show_aws_dates(daemon, admin):
    fn = unique("dash-dates")
    from conftest import handler_zip
    daemon.client().create_function(FunctionName=fn, Runtime="python3.11", Role="arn:aws:iam::123456789012:role/r",
                                    Handler="lambda_function.lambda_handler", Code={"ZipFile": handler_zip(fn)})
    listing = html.unescape(admin.get("/ui/functions").text)
    row = listing[listing.index(fn):]
    assert re.search(r"python3\.11<br><span[^>]*>(deprecated by AWS 2026-06-30|AWS deprecation 2026-06-30)", row), row[:600]
    page = html.unescape(admin.get(f"/ui/functions/{fn}/code").text)
    m = re.search(r'id="runtime-lifecycle">([^<]+)<', page)
    assert m and "2026-06-30" in m.group(1), page[:3000]
