"""The web dashboard over plain HTTP: session and CSRF gates, rate-limited sign-in, cookie
attributes, first-admin credentials, and the main flows (create, test, configure, publish,
alias, logs, live tail, keys, password). The browser flows are in tests/browser."""

from __future__ import annotations

import json
import os
import re
import stat
import threading
import time
import urllib.request

import pytest

from conftest import ROLE, handler_zip, make_zip, unique
from dashboard_client import Dashboard, first_admin_password

PY = "python3.11"

# Every dashboard route: (method, path). {fn} is an existing function.
ROUTES = [
    ("GET", "/ui/"), ("GET", "/ui/functions"), ("GET", "/ui/functions?q=x"),
    ("GET", "/ui/functions/new"), ("POST", "/ui/functions/new"),
    ("GET", "/ui/functions/{fn}"), ("POST", "/ui/functions/{fn}/delete"),
    ("GET", "/ui/functions/{fn}/code"), ("POST", "/ui/functions/{fn}/code"),
    ("POST", "/ui/functions/{fn}/upload"),
    ("GET", "/ui/functions/{fn}/test"), ("POST", "/ui/functions/{fn}/test"),
    ("GET", "/ui/functions/{fn}/configuration"), ("POST", "/ui/functions/{fn}/configuration"),
    ("POST", "/ui/functions/{fn}/async"),
    ("POST", "/ui/functions/{fn}/concurrency"),
    ("GET", "/ui/functions/{fn}/versions"), ("POST", "/ui/functions/{fn}/versions"),
    ("GET", "/ui/functions/{fn}/logs"), ("GET", "/ui/functions/{fn}/logs/tail"),
    ("GET", "/ui/functions/{fn}/monitoring"), ("GET", "/ui/functions/{fn}/triggers"),
    ("GET", "/ui/layers"), ("GET", "/ui/layers?layer=x"), ("POST", "/ui/layers"),
    ("POST", "/ui/layers/delete"), ("GET", "/ui/settings"), ("POST", "/ui/settings"),
    ("POST", "/ui/logout"), ("GET", "/ui/no/such/page"), ("DELETE", "/ui/functions/{fn}"),
]


def api_function(daemon, name: str, env: dict | None = None) -> None:
    daemon.client().create_function(
        FunctionName=name, Runtime=PY, Role=ROLE, Handler="lambda_function.lambda_handler",
        Code={"ZipFile": handler_zip(name)}, Environment={"Variables": env or {}})


@pytest.fixture(scope="module")
def admin(daemon):
    d = Dashboard(daemon.endpoint)
    d.login_ok("admin", first_admin_password(daemon.data_dir))
    return d


def test_every_dashboard_route_redirects_to_login_without_a_session(daemon):
    fn = unique("gate")
    api_function(daemon, fn)
    for cookie in (None, "lbx_session=" + "0" * 64, "lbx_session=garbage"):
        anon = Dashboard(daemon.endpoint)
        headers = {"Cookie": cookie} if cookie else {}
        for method, path in ROUTES:
            path = path.format(fn=fn)
            r = anon.request(method, path, headers=headers,
                             body=b"csrf=x&action=run" if method == "POST" else None)
            assert r.status == 303, (method, path, r.status, r.text[:300])
            assert r.location.startswith("/ui/login?next="), (method, path, r.location)
    # the function is untouched by those POSTs (delete, code, configuration ...)
    assert daemon.client().get_function(FunctionName=fn)["Configuration"]["FunctionName"] == fn
    # the root and /ui lead to the dashboard; the login page and assets are public
    anon = Dashboard(daemon.endpoint)
    assert anon.get("/").location == "/ui/functions"
    assert anon.get("/ui/login").status == 200
    assert anon.get("/ui/static/style.css").status == 200
    # the Lambda API is not affected by the dashboard routes
    assert daemon.client().list_functions()["Functions"]


def test_form_posts_without_a_valid_csrf_token_are_refused_and_change_nothing(daemon, admin):
    fn = unique("csrf")
    api_function(daemon, fn, {"AA": "1"})
    before = daemon.client().get_function_configuration(FunctionName=fn)
    keys_before = admin.get("/ui/settings").text.count('data-label="Key"')
    posts = [
        (f"/ui/functions/{fn}/configuration", {"memory": "512", "timeout": "9", "ephemeral": "512", "env": "AA=2"}),
        (f"/ui/functions/{fn}/delete", {"confirm_name": fn}),
        (f"/ui/functions/{fn}/versions", {"action": "publish"}),
        (f"/ui/functions/{fn}/code", {"file": "lambda_function.py", "content": "x = 1\n"}),
        ("/ui/settings", {"action": "create_key", "description": "evil"}),
        ("/ui/settings", {"action": "password", "current_password": "x", "password": "0123456789", "password_confirm": "0123456789"}),
        ("/ui/logout", {}),
    ]
    for path, data in posts:
        for token in (None, "", "0" * 64, admin.csrf[:-1] + ("0" if admin.csrf[-1] != "0" else "1")):
            body = dict(data)
            if token is not None:
                body["csrf"] = token
            r = admin.post(path, body, csrf=False)
            assert r.status == 403, (path, token, r.status, r.text[:300])
            assert "Nothing was changed" in r.text
    # a multipart create without the token in the query string
    r = admin.post_multipart("/ui/functions/new", {"name": fn + "-x", "runtime": PY, "handler": "a.b",
                                                   "memory": "128", "timeout": "3", "source": "inline", "code": "x"},
                             csrf=False)
    assert r.status == 403
    # nothing changed: configuration, the function list, keys, and the session still works
    after = daemon.client().get_function_configuration(FunctionName=fn)
    assert after["RevisionId"] == before["RevisionId"]
    assert after["Environment"]["Variables"] == {"AA": "1"}
    assert not daemon.client().list_versions_by_function(FunctionName=fn)["Versions"][1:]
    names = [f["FunctionName"] for f in daemon.client().list_functions(MaxItems=50)["Functions"]]
    assert fn + "-x" not in names
    page = admin.get("/ui/settings")
    assert page.status == 200, "session must survive a refused logout"
    assert page.text.count('data-label="Key"') == keys_before
    # the same form with the token is accepted
    r = admin.post(f"/ui/functions/{fn}/configuration",
                   {"memory": "256", "timeout": "5", "ephemeral": "512", "env": "AA=2",
                    "revision": after["RevisionId"]})
    assert r.status == 303, r.text[:500]
    assert daemon.client().get_function_configuration(FunctionName=fn)["MemorySize"] == 256


def test_wrong_passwords_are_rate_limited(fresh_daemon):
    pw = first_admin_password(fresh_daemon.data_dir)
    d = Dashboard(fresh_daemon.endpoint)
    for i in range(5):
        r = d.login("admin", f"wrong-{i}")
        assert r.status == 401, r.status
        assert "Wrong username or password." in r.text
    # now even the right password is refused, without being checked
    r = d.login("admin", pw)
    assert r.status == 429, r.status
    assert re.search(r"Too many failed sign-in attempts\. Try again in \d+ minutes?\.", r.text)
    assert "lbx_session" not in r.headers.get("Set-Cookie", "")
    assert "dashboard sign-in refused: too many failed attempts" in fresh_daemon.log()
    # the limit survives a restart (it is in the database)
    fresh_daemon.restart()
    d = Dashboard(fresh_daemon.endpoint)
    assert d.login("admin", pw).status == 429
    # another user from the same address is not locked out by admin's failures
    assert d.login("someone-else", "nope").status == 401


def test_session_cookie_attributes_and_logout(daemon):
    pw = first_admin_password(daemon.data_dir)
    d = Dashboard(daemon.endpoint)
    r = d.login("admin", pw)
    cookie = r.headers.get("Set-Cookie", "")
    assert r.status == 303
    assert "lbx_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/ui" in cookie and "Secure" not in cookie
    # behind a TLS-terminating proxy the cookie is Secure
    page = Dashboard(daemon.endpoint).request("GET", "/ui/login", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in page.headers.get("Set-Cookie", "")
    # security headers
    r = d.get("/ui/functions")
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["Cache-Control"] == "no-store"
    # logout ends the session on the server, not only in the browser
    stolen = [c for c in d.jar if c.name == "lbx_session"][0].value
    assert d.post("/ui/logout", {}).location == "/ui/login"
    replay = Dashboard(daemon.endpoint).request("GET", "/ui/functions", headers={"Cookie": f"lbx_session={stolen}"})
    assert replay.status == 303


def test_first_admin_credentials_are_private_and_logged_once(fresh_daemon):
    path = fresh_daemon.data_dir / "dashboard-credentials"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    pw = first_admin_password(fresh_daemon.data_dir)
    assert fresh_daemon.log().count(pw) == 1
    fresh_daemon.restart()
    assert fresh_daemon.log().count(pw) == 1, "the password is logged on first start only"
    assert first_admin_password(fresh_daemon.data_dir) == pw


def test_create_test_configure_publish_alias_logs(daemon, admin):
    fn = unique("flow")
    assert admin.get("/ui/functions/new").status == 200
    r = admin.create_function(fn, env="GREETING=hello")
    assert r.status == 303, r.text[:2000]
    # run a test event: result, figures and log lines
    r = admin.post(f"/ui/functions/{fn}/test", {"action": "run", "event": '{"n": 1}'})
    assert r.status == 200
    payload = re.search(r'id="result-payload">(.*?)</pre>', r.text, re.S).group(1)
    assert json.loads(payload.replace("&quot;", '"')) == {"greeting": "hello", "event": {"n": 1}}
    assert re.search(r'id="duration">[0-9.]+ ms<', r.text)
    assert re.search(r'id="billed">\d+ ms<', r.text)
    assert re.search(r'id="max-memory">\d+ MB<', r.text)
    assert f"hello from {fn}" in r.text and "REPORT RequestId:" in r.text
    # invalid JSON is explained beside the editor
    r = admin.post(f"/ui/functions/{fn}/test", {"action": "run", "event": "{nope"})
    assert 'id="err-event"' in r.text and "not valid JSON" in r.text
    # save a test event and load it again
    r = admin.post(f"/ui/functions/{fn}/test", {"action": "save", "event": '{"saved": true}', "event_name": "mine"})
    assert r.status == 303
    assert "{&quot;saved&quot;: true}" in admin.get(f"/ui/functions/{fn}/test?event=mine").text
    # change an environment variable: the next invoke sees it
    rev = daemon.client().get_function_configuration(FunctionName=fn)["RevisionId"]
    r = admin.post(f"/ui/functions/{fn}/configuration",
                   {"memory": "256", "timeout": "10", "ephemeral": "1024", "env": "GREETING=changed", "revision": rev})
    assert r.status == 303, r.text[:2000]
    out = daemon.client().invoke(FunctionName=fn, Payload=b"{}")
    assert json.loads(out["Payload"].read())["greeting"] == "changed"
    cfg = daemon.client().get_function_configuration(FunctionName=fn)
    assert (cfg["MemorySize"], cfg["Timeout"], cfg["EphemeralStorage"]["Size"]) == (256, 10, 1024)
    # a stale revision is refused with a plain message, not overwritten
    r = admin.post(f"/ui/functions/{fn}/configuration",
                   {"memory": "512", "timeout": "10", "ephemeral": "1024", "env": "", "revision": rev})
    assert r.status == 422 and "Someone changed this function" in r.text
    # out-of-range values are explained next to the field
    r = admin.post(f"/ui/functions/{fn}/configuration",
                   {"memory": "64", "timeout": "10", "ephemeral": "1024", "env": "1BAD=x"})
    assert r.status == 422 and 'id="err-memory"' in r.text and 'id="err-env"' in r.text
    # publish a version, then an alias on it
    r = admin.post(f"/ui/functions/{fn}/versions", {"action": "publish", "description": "first"})
    assert r.status == 303
    r = admin.post(f"/ui/functions/{fn}/versions",
                   {"action": "save_alias", "alias": "live", "alias_version": "1", "alias_description": "prod"})
    assert r.status == 303, r.text[:2000]
    alias = daemon.client().get_alias(FunctionName=fn, Name="live")
    assert alias["FunctionVersion"] == "1"
    page = admin.get(f"/ui/functions/{fn}/versions").text
    assert ">first<" in page and ">live<" in page
    # logs: streams and lines
    daemon.client().invoke(FunctionName=fn, Payload=b"{}")
    # the log writer commits in batches: wait for the lines instead of sleeping
    deadline = time.monotonic() + 30
    while True:
        logs = admin.get(f"/ui/functions/{fn}/logs").text
        if (f"hello from {fn}" in logs and "[$LATEST]" in logs) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert f"hello from {fn}" in logs and "[$LATEST]" in logs
    # monitoring counts the invocations; the list shows them for the last 24 h
    mon = admin.get(f"/ui/functions/{fn}/monitoring?range=24h")
    assert mon.status == 200 and "<rect" in mon.text
    listing = admin.get(f"/ui/functions?q={fn}").text
    row = re.search(rf'>{fn}</a>.*?</tr>', listing, re.S).group(0)
    assert re.search(r'data-label="Invocations" class="num">[1-9]', row), row
    # code tab shows the file; an inline edit deploys
    code = admin.get(f"/ui/functions/{fn}/code").text
    assert "lambda_function.py" in code and "def lambda_handler" in code
    rev = daemon.client().get_function_configuration(FunctionName=fn)["RevisionId"]
    r = admin.post(f"/ui/functions/{fn}/code", {"file": "lambda_function.py", "revision": rev,
                                                "content": "def lambda_handler(e, c):\n    return 'edited'\n"})
    assert r.status == 303, r.text[:1000]
    assert json.loads(daemon.client().invoke(FunctionName=fn, Payload=b"{}")["Payload"].read()) == "edited"
    # a file bigger than actix's default 256 KB body limit still deploys
    rev = daemon.client().get_function_configuration(FunctionName=fn)["RevisionId"]
    big = "def lambda_handler(e, c):\n    return len(DATA)\n" + "DATA = '" + "x" * 400_000 + "'\n"
    r = admin.post(f"/ui/functions/{fn}/code", {"file": "lambda_function.py", "revision": rev, "content": big})
    assert r.status == 303, (r.status, r.text[:500])
    assert json.loads(daemon.client().invoke(FunctionName=fn, Payload=b"{}")["Payload"].read()) == 400_000
    # deleting needs the name typed again
    r = admin.post(f"/ui/functions/{fn}/delete", {"confirm_name": "wrong"})
    assert r.status == 400
    r = admin.post(f"/ui/functions/{fn}/delete", {"confirm_name": fn})
    assert r.status == 303
    assert admin.get(f"/ui/functions/{fn}/code").status == 404


def test_create_form_errors_are_shown_beside_fields(admin):
    admin.get("/ui/functions/new")
    r = admin.create_function("bad name!", memory=50)
    assert r.status == 422
    assert 'id="err-name"' in r.text and 'id="err-memory"' in r.text
    r = admin.post_multipart("/ui/functions/new", {"name": unique("z"), "runtime": PY, "architecture": "x86_64",
                                                   "handler": "lambda_function.lambda_handler", "memory": "128",
                                                   "timeout": "3", "source": "zip"})
    assert r.status == 422 and 'id="err-code"' in r.text


def test_zip_upload_creates_a_function(daemon, admin):
    fn = unique("zip")
    admin.get("/ui/functions/new")
    r = admin.post_multipart("/ui/functions/new", {"name": fn, "runtime": PY, "architecture": "x86_64",
                                                   "handler": "lambda_function.lambda_handler", "memory": "128",
                                                   "timeout": "3", "source": "zip", "env": ""},
                             files={"zip": ("f.zip", handler_zip("zipped"))})
    assert r.status == 303, r.text[:2000]
    out = json.loads(daemon.client().invoke(FunctionName=fn, Payload=b'{"k": 2}')["Payload"].read())
    assert out == {"marker": "zipped", "event": {"k": 2}}


def test_live_tail_streams_new_log_lines(daemon, admin):
    fn = unique("tail")
    api_function(daemon, fn)
    got: list[str] = []
    cookie = "; ".join(f"{c.name}={c.value}" for c in admin.jar)
    # the tail starts after the newest event stored when its response begins
    subscribed = threading.Event()

    def read():
        req = urllib.request.Request(f"{daemon.endpoint}/ui/functions/{fn}/logs/tail",
                                     headers={"Cookie": cookie})
        with urllib.request.urlopen(req, timeout=30) as r:
            subscribed.set()
            assert r.headers["Content-Type"].startswith("text/event-stream")
            for raw in r:
                line = raw.decode()
                if line.startswith("data: "):
                    got.append(json.loads(line[6:])["message"])
                    if any(m.startswith("REPORT") for m in got):
                        return

    t = threading.Thread(target=read, daemon=True)
    t.start()
    assert subscribed.wait(30), "the live tail did not answer"
    daemon.client().invoke(FunctionName=fn, Payload=b'{"live": 1}')
    t.join(30)
    assert any(m.startswith("START RequestId") for m in got), got
    assert any(m.startswith("REPORT RequestId") for m in got), got


def test_api_keys_and_users_from_settings(daemon, admin):
    admin.get("/ui/settings")
    r = admin.post("/ui/settings", {"action": "create_key", "description": "from the dashboard"})
    assert r.status == 303 and r.location == "/ui/settings?key_created=1", (r.status, r.text[:500])
    r = admin.get(r.location)
    assert r.status == 200
    key_id = re.search(r'id="new-key-id">([A-Z0-9]+)<', r.text).group(1)
    secret = re.search(r'id="new-key-secret">([^<]+)<', r.text).group(1).replace("&#x2F;", "/").replace("&#x2B;", "+")
    secret = secret.replace("&#47;", "/").replace("&#43;", "+")
    assert daemon.client(key=(key_id, secret)).list_functions()["ResponseMetadata"]["HTTPStatusCode"] == 200
    # shown once only
    assert secret not in admin.get("/ui/settings").text
    r = admin.post("/ui/settings", {"action": "revoke_key", "key": key_id})
    assert r.status == 303
    # users: add one, sign in as them, change their password, remove them
    user = unique("user")
    r = admin.post("/ui/settings", {"action": "add_user", "username": user, "role": "developer",
                                    "new_password": "short", "new_password_confirm": "short"})
    assert r.status == 422 and "at least 10 characters" in r.text
    r = admin.post("/ui/settings", {"action": "add_user", "username": user, "role": "developer",
                                    "new_password": "first-password", "new_password_confirm": "first-password"})
    assert r.status == 303
    u = Dashboard(daemon.endpoint)
    u.login_ok(user, "first-password")
    r = u.post("/ui/settings", {"action": "password", "current_password": "nope",
                                "password": "second-password", "password_confirm": "second-password"})
    assert r.status == 422 and "not your current password" in r.text
    r = u.post("/ui/settings", {"action": "password", "current_password": "first-password",
                                "password": "second-password", "password_confirm": "second-password"})
    assert r.status == 303
    assert Dashboard(daemon.endpoint).login(user, "first-password").status == 401
    Dashboard(daemon.endpoint).login_ok(user, "second-password")
    uid = re.search(rf'{user}</td>.*?name="user" value="(\d+)"', admin.get("/ui/settings").text, re.S).group(1)
    assert admin.post("/ui/settings", {"action": "remove_user", "user": uid}).status == 303
    assert u.get("/ui/functions").status == 303, "a removed user's session ends"


def test_layers_publish_attach_delete(daemon, admin):
    layer = unique("lib")
    admin.get("/ui/layers")
    r = admin.post_multipart("/ui/layers", {"name": layer, "description": "shared code",
                                            "runtimes": PY, "architectures": "x86_64", "license": "MIT"})
    assert r.status == 422 and 'id="err-layer_zip"' in r.text
    lib = make_zip({"python/shared_lib.py": "WORD = 'from the layer'\n"})
    r = admin.post_multipart("/ui/layers", {"name": layer, "description": "shared code",
                                            "runtimes": PY, "architectures": "x86_64", "license": "MIT"},
                             files={"zip": ("lib.zip", lib)})
    assert r.status == 303, r.text[:2000]
    page = admin.get(f"/ui/layers?layer={layer}").text
    arn = re.search(rf"(arn:aws:lambda:[^<]*:layer:{layer}:1)<", page).group(1)
    assert "shared code" in page and "MIT" in page
    fn = unique("uses-layer")
    admin.get("/ui/functions/new")
    r = admin.create_function(fn, code="import shared_lib\ndef lambda_handler(e, c):\n    return shared_lib.WORD\n")
    assert r.status == 303
    rev = daemon.client().get_function_configuration(FunctionName=fn)["RevisionId"]
    r = admin.post(f"/ui/functions/{fn}/configuration", {"memory": "128", "timeout": "3", "ephemeral": "512",
                                                         "env": "", "layers": arn, "revision": rev})
    assert r.status == 303, r.text[:2000]
    out = daemon.client().invoke(FunctionName=fn, Payload=b"{}")
    assert json.loads(out["Payload"].read()) == "from the layer"
    r = admin.post("/ui/layers/delete", {"layer": layer, "version": "1"})
    assert r.status == 303
    assert daemon.client().list_layer_versions(LayerName=layer)["LayerVersions"] == []
