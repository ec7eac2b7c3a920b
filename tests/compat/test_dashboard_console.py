"""The dashboard as a console (issue 24) over plain HTTP: everything a function has is
editable after creation, the handler is checked against an uploaded package, post/redirect/get
for new API keys, upload tokens in the body (never the URL), one layout for every error page,
work kept across a new sign-in, and dashboard roles enforced route by route on the server,
with `lambdabox users reset-password` and the first-start credentials file retired once the
password changes. The browser side (keyboard, drafts, busy buttons, contrast) is in
tests/browser/run.mjs."""

from __future__ import annotations

import html
import json
import platform
import re
import time
import urllib.parse

import pytest

from conftest import ROLE, handler_zip, make_zip, unique
from dashboard_client import Dashboard, first_admin_password

PY = "python3.11"
HOST_ARCH = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
NEEDS = re.compile(r"This needs the (\w+) role")


@pytest.fixture(scope="module")
def admin(daemon):
    d = Dashboard(daemon.endpoint)
    d.login_ok("admin", first_admin_password(daemon.data_dir))
    return d


def make_user(daemon, admin, role: str) -> Dashboard:
    name = unique(role)
    admin.get("/ui/settings")
    r = admin.post("/ui/settings", {"action": "add_user", "username": name, "role": role,
                                    "new_password": "a long password", "new_password_confirm": "a long password"})
    assert r.status == 303, r.text[:1000]
    d = Dashboard(daemon.endpoint)
    d.login_ok(name, "a long password")
    d.username = name
    return d


def zip_create(admin: Dashboard, name: str, zip_bytes: bytes | None, handler: str, **extra):
    fields = {"name": name, "runtime": PY, "architecture": HOST_ARCH, "handler": handler,
              "memory": "128", "timeout": "3", "source": "zip", "env": "", **extra}
    files = {"zip": ("package.zip", zip_bytes)} if zip_bytes is not None else None
    return admin.post_multipart("/ui/functions/new", fields, files=files)


APP_ZIP = make_zip({
    "app.py": "def lambda_handler(event, context):\n    return 'app'\n",
    "other.py": "def run(event, context):\n    return 'other'\n",
})


def function_names(daemon) -> list[str]:
    return [f["FunctionName"] for f in daemon.client().list_functions(MaxItems=50)["Functions"]]


# -- editing after creation ---------------------------------------------------------------------


def test_handler_runtime_architecture_and_description_are_editable_after_creation(daemon, admin):
    fn = unique("edit")
    admin.get("/ui/functions/new")
    r = zip_create(admin, fn, APP_ZIP, "app.lambda_handler")
    assert r.status == 303, r.text[:2000]
    page = admin.get(f"/ui/functions/{fn}/configuration").text
    assert 'name="handler"' in page and 'name="runtime"' in page and 'name="architecture"' in page
    archs = re.findall(r'<select name="architecture".*?</select>', page, re.S)[0]
    assert re.findall(r'<option value="([^"]+)"', archs) == [HOST_ARCH], "only the host's architecture"
    rev = daemon.client().get_function_configuration(FunctionName=fn)["RevisionId"]
    r = admin.post(f"/ui/functions/{fn}/configuration", {
        "runtime": PY, "handler": "other.run", "architecture": HOST_ARCH, "description": "changed in the dashboard",
        "memory": "128", "timeout": "3", "ephemeral": "512", "env": "", "revision": rev})
    assert r.status == 303, r.text[:2000]
    cfg = daemon.client().get_function_configuration(FunctionName=fn)
    assert cfg["Handler"] == "other.run" and cfg["Description"] == "changed in the dashboard"
    assert json.loads(daemon.client().invoke(FunctionName=fn, Payload=b"{}")["Payload"].read()) == "other"
    # a handler the package cannot serve is saved but flagged on the page
    rev = cfg["RevisionId"]
    r = admin.post(f"/ui/functions/{fn}/configuration", {
        "runtime": PY, "handler": "missing.run", "architecture": HOST_ARCH, "description": "",
        "memory": "128", "timeout": "3", "ephemeral": "512", "env": "", "revision": rev})
    assert r.status == 303
    page = admin.get(f"/ui/functions/{fn}/configuration").text
    assert 'id="handler-problem"' in page and "no missing.py" in page
    assert 'id="handler-problem"' in admin.get(f"/ui/functions/{fn}/code").text
    # the other architecture is refused with a sentence, and nothing changes
    other = "arm64" if HOST_ARCH == "x86_64" else "x86_64"
    rev = daemon.client().get_function_configuration(FunctionName=fn)["RevisionId"]
    r = admin.post(f"/ui/functions/{fn}/configuration", {
        "runtime": PY, "handler": "app.lambda_handler", "architecture": other, "description": "",
        "memory": "128", "timeout": "3", "ephemeral": "512", "env": "", "revision": rev})
    assert r.status == 422 and 'id="err-architecture"' in r.text and f"runs {HOST_ARCH} functions only" in r.text
    assert daemon.client().get_function_configuration(FunctionName=fn)["Architectures"] == [HOST_ARCH]
    # the package downloads as it is
    r = admin.get(f"/ui/functions/{fn}/package")
    assert r.status == 200 and r.headers["Content-Type"] == "application/zip"
    assert r.body == APP_ZIP and f'filename="{fn}.zip"' in r.headers["Content-Disposition"]


def test_create_offers_the_hosts_architecture_and_runtimes_in_order(admin):
    page = admin.get("/ui/functions/new").text
    archs = re.findall(r'<select name="architecture".*?</select>', page, re.S)[0]
    assert re.findall(r'<option value="([^"]+)"', archs) == [HOST_ARCH]
    runtimes = re.findall(r'<option value="([^"]+)"', re.findall(r'<select name="runtime".*?</select>', page, re.S)[0])

    def key(rid: str):
        family = re.match(r"[a-z]+", rid).group(0)
        nums = [int(n) for n in re.findall(r"\d+", rid[len(family):])]
        return (family, not nums, [-n for n in nums])

    assert runtimes == sorted(runtimes, key=key), runtimes
    pythons = [r for r in runtimes if r.startswith("python")]
    assert pythons == sorted(pythons, key=lambda r: -int(r.split(".")[1])), "newest Python first"


def test_the_handler_is_checked_against_the_package_before_creation(daemon, admin):
    fn = unique("check")
    admin.get("/ui/functions/new")
    r = zip_create(admin, fn, APP_ZIP, "lambda_function.lambda_handler")
    assert r.status == 422, r.text[:1000]
    err = re.search(r'id="err-handler">(.*?)</p>', r.text, re.S).group(1)
    assert "no lambda_function.py" in err and "app.lambda_handler" in err, err
    assert fn not in function_names(daemon), "nothing is created"
    assert 'id="kept-zip"' in r.text and 'name="handler_ack"' in r.text
    # the chosen package is kept: fixing the handler is enough
    r = zip_create(admin, fn, None, "app.lambda_handler", keep_zip="1")
    assert r.status == 303, r.text[:2000]
    assert json.loads(daemon.client().invoke(FunctionName=fn, Payload=b"{}")["Payload"].read()) == "app"
    # "create it anyway" creates it with the handler as typed
    fn2 = unique("anyway")
    r = zip_create(admin, fn2, APP_ZIP, "lambda_function.lambda_handler", handler_ack="1")
    assert r.status == 303, r.text[:2000]
    assert daemon.client().get_function_configuration(FunctionName=fn2)["Handler"] == "lambda_function.lambda_handler"
    # a matching package is created without a word
    fn3 = unique("fine")
    assert zip_create(admin, fn3, handler_zip("x"), "lambda_function.lambda_handler").status == 303


# -- forms ---------------------------------------------------------------------------------------


def test_creating_an_api_key_is_post_redirect_get(daemon, admin):
    def key_count():
        return len(re.findall(r'data-label="Key"', admin.get("/ui/settings").text))

    before = key_count()
    admin.get("/ui/settings")
    r = admin.post("/ui/settings", {"action": "create_key", "description": "prg"})
    assert r.status == 303 and r.location == "/ui/settings?key_created=1"
    first = admin.get(r.location)
    assert 'id="new-key-secret"' in first.text
    # reloading the page it redirected to shows no secret and creates nothing
    again = admin.get(r.location)
    assert 'id="new-key-secret"' not in again.text and 'id="key-secret-gone"' in again.text
    assert key_count() == before + 1


def test_upload_forms_carry_the_token_in_the_body_not_the_url(daemon, admin):
    fn = unique("tok")
    assert admin.create_function(fn).status == 303
    for path in ("/ui/functions/new", f"/ui/functions/{fn}/code", "/ui/layers"):
        page = admin.get(path).text
        assert "csrf=" not in page, path
        for form in re.findall(r'<form[^>]*enctype="multipart/form-data"[^>]*>\s*<input[^>]*>', page):
            assert 'name="csrf"' in form, (path, form)
    # an upload whose first field is not the token is refused, and nothing changes
    sha = daemon.client().get_function_configuration(FunctionName=fn)["CodeSha256"]
    r = admin.post_multipart(f"/ui/functions/{fn}/upload", {}, files={"zip": ("x.zip", handler_zip("new"))}, csrf=False)
    assert r.status == 403 and "Nothing was changed" in r.text
    assert daemon.client().get_function_configuration(FunctionName=fn)["CodeSha256"] == sha
    r = admin.post_multipart(f"/ui/functions/{fn}/upload", {}, files={"zip": ("x.zip", handler_zip("new"))})
    assert r.status == 303, r.text[:1000]
    assert daemon.client().get_function_configuration(FunctionName=fn)["CodeSha256"] != sha


def test_alias_form_keeps_its_input_and_names_versions_not_arns(daemon, admin):
    fn = unique("alias")
    assert admin.create_function(fn).status == 303
    admin.get(f"/ui/functions/{fn}/versions")
    assert admin.post(f"/ui/functions/{fn}/versions", {"action": "publish", "description": "one"}).status == 303
    r = admin.post(f"/ui/functions/{fn}/versions", {"action": "save_alias", "alias": "typed-name",
                                                    "alias_version": "7", "alias_description": "kept text",
                                                    "extra_version": "", "extra_weight": ""})
    assert r.status == 422, r.text[:1000]
    err = re.search(r'id="err-alias">(.*?)</p>', r.text, re.S).group(1)
    assert "arn:aws" not in err and f"Version 7 of {fn} does not exist" in err, err
    assert 'value="typed-name"' in r.text and 'value="kept text"' in r.text
    # publishing with nothing changed publishes nothing and says so
    r = admin.post(f"/ui/functions/{fn}/versions", {"action": "publish", "description": ""})
    assert r.status == 303 and "unchanged=1" in r.location, r.location
    page = admin.get(r.location).text
    assert "Nothing changed since version 1" in page and "Version published." not in page
    assert [v["Version"] for v in daemon.client().list_versions_by_function(FunctionName=fn)["Versions"]] == ["$LATEST", "1"]


# -- error pages ---------------------------------------------------------------------------------


def test_every_error_page_has_the_layout_and_says_what_to_do(daemon, admin):
    anon = Dashboard(daemon.endpoint)
    for who in (anon, admin):
        fav = who.get("/favicon.ico")
        assert fav.status == 200 and fav.headers["Content-Type"].startswith("image/svg+xml")
    fn = unique("err")
    assert admin.create_function(fn).status == 303
    admin.get(f"/ui/functions/{fn}/code")
    pages = {
        404: admin.get("/ui/no/such/page"),
        400: admin.post(f"/ui/functions/{fn}/delete", {"confirm_name": "wrong"}),
        403: admin.post(f"/ui/functions/{fn}/delete", {"confirm_name": fn, "csrf": "0" * 64}, csrf=False),
    }
    pages["400-query"] = admin.get(f"/ui/functions/{fn}/logs/tail?after=not-a-number")
    for status, r in pages.items():
        if status != "400-query":
            assert r.status == status, (status, r.status)
        assert r.status >= 400, (status, r.status)
        assert r.headers["Content-Type"].startswith("text/html"), status
        assert 'id="error-page"' in r.text and "What to do next" in r.text, (status, r.text[:500])
        assert '<header class="top">' in r.text and 'href="/ui/functions"' in r.text, "the dashboard's navigation"
        assert 'class="skip-link"' in r.text
    assert fn in function_names(daemon), "the refused deletes deleted nothing"


def test_sign_in_with_next_logout_lands_on_functions(daemon):
    d = Dashboard(daemon.endpoint)
    page = d.get("/ui/login?next=/ui/logout")
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    assert 'name="next" value="/ui/functions"' in html.unescape(page.text)
    r = d.request("POST", "/ui/login", data={"csrf": token, "next": "/ui/logout", "username": "admin",
                                             "password": first_admin_password(daemon.data_dir)})
    assert r.status == 303 and r.location == "/ui/functions", r.location


# -- work never lost -----------------------------------------------------------------------------


def test_a_form_sent_across_a_new_sign_in_is_offered_again(daemon):
    fn = unique("stale")
    pw = first_admin_password(daemon.data_dir)
    d = Dashboard(daemon.endpoint)
    d.login_ok("admin", pw)
    assert d.create_function(fn).status == 303
    d.get(f"/ui/functions/{fn}/configuration")
    old_token = d.csrf
    rev = daemon.client().get_function_configuration(FunctionName=fn)["RevisionId"]
    # the session ends and the user signs in again (another tab, say); the old page's form is sent
    assert d.post("/ui/logout", {}).status == 303
    d.login_ok("admin", pw)
    referer = {"Referer": f"{daemon.endpoint}/ui/functions/{fn}/configuration"}
    body = {"csrf": old_token, "memory": "256", "timeout": "7", "ephemeral": "512",
            "env": "KEPT=yes", "revision": rev}
    r = d.request("POST", f"/ui/functions/{fn}/configuration", headers=referer, data=body)
    assert r.status == 403 and 'id="resubmit"' in r.text and "Nothing was changed" in r.text, r.text[:1000]
    assert daemon.client().get_function_configuration(FunctionName=fn)["MemorySize"] == 128
    # the page carries the input and the current token: sending it applies the change
    form = re.search(r'<form method="post" action="([^"]+)" class="stack" id="resubmit">(.*?)</form>', r.text, re.S)
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(2))
    data = [(html.unescape(k), html.unescape(v)) for k, v in fields]
    assert ("env", "KEPT=yes") in data and dict(data)["csrf"] != old_token
    r = d.request("POST", html.unescape(form.group(1)), data=data)
    assert r.status == 303, r.text[:1000]
    cfg = daemon.client().get_function_configuration(FunctionName=fn)
    assert cfg["MemorySize"] == 256 and cfg["Environment"]["Variables"] == {"KEPT": "yes"}


def test_a_form_sent_after_the_session_ended_returns_to_its_page_after_sign_in(daemon):
    fn = unique("expired")
    anon = Dashboard(daemon.endpoint)
    page = f"/ui/functions/{fn}/code?file=lambda_function.py"
    r = anon.request("POST", f"/ui/functions/{fn}/code", headers={"Referer": daemon.endpoint + page},
                     data={"csrf": "x", "file": "lambda_function.py", "content": "edited"})
    assert r.status == 303
    q = urllib.parse.parse_qs(urllib.parse.urlparse(r.location).query)
    assert q["next"] == [page], r.location


# -- roles ---------------------------------------------------------------------------------------

# (method, path, body, least role). Bodies are refused by the handlers (wrong confirmation,
# unknown action, missing file...) so that passing the role gate changes nothing.
ROLE_ROUTES = [
    ("GET", "/ui/functions", None, "viewer"),
    ("GET", "/ui/functions/new", None, "developer"),
    ("POST", "/ui/functions/new", "multipart", "developer"),
    ("GET", "/ui/functions/{fn}/code", None, "viewer"),
    ("POST", "/ui/functions/{fn}/code", {"file": "../x", "content": "x"}, "developer"),
    ("GET", "/ui/functions/{fn}/package", None, "viewer"),
    ("POST", "/ui/functions/{fn}/upload", "multipart", "developer"),
    ("POST", "/ui/functions/{fn}/files", {"action": "new", "path": "../x"}, "developer"),
    ("POST", "/ui/functions/{fn}/delete", {"confirm_name": "not-it"}, "developer"),
    ("GET", "/ui/functions/{fn}/test", None, "viewer"),
    ("POST", "/ui/functions/{fn}/test", {"action": "run", "event": "{nope"}, "developer"),
    ("GET", "/ui/functions/{fn}/configuration", None, "viewer"),
    ("POST", "/ui/functions/{fn}/configuration", {"memory": "1", "timeout": "3", "ephemeral": "512", "env": ""}, "developer"),
    ("POST", "/ui/functions/{fn}/async", {"retries": "9", "max_age": "1"}, "developer"),
    ("POST", "/ui/functions/{fn}/concurrency", {"action": "reserved", "mode": "reserved", "reserved": "-1"}, "developer"),
    ("GET", "/ui/functions/{fn}/versions", None, "viewer"),
    ("POST", "/ui/functions/{fn}/versions", {"action": "nothing"}, "developer"),
    ("GET", "/ui/functions/{fn}/logs", None, "viewer"),
    ("GET", "/ui/functions/{fn}/monitoring", None, "viewer"),
    ("GET", "/ui/functions/{fn}/triggers", None, "viewer"),
    ("POST", "/ui/functions/{fn}/triggers", {"action": "nothing"}, "developer"),
    ("GET", "/ui/queues", None, "viewer"),
    ("POST", "/ui/queues", {"name": ""}, "developer"),
    ("POST", "/ui/queues/no-such-queue/send", {"body": ""}, "developer"),
    ("POST", "/ui/queues/no-such-queue/purge", {"confirm": "x"}, "developer"),
    ("POST", "/ui/queues/no-such-queue/delete", {"confirm": "x"}, "developer"),
    ("POST", "/ui/queues/no-such-queue/redrive", {}, "developer"),
    ("GET", "/ui/apis", None, "viewer"),
    ("GET", "/ui/layers", None, "viewer"),
    ("POST", "/ui/layers", "multipart", "developer"),
    ("POST", "/ui/layers/delete", {"layer": "no-such-layer", "version": "x"}, "developer"),
    ("GET", "/ui/schedules", None, "viewer"),
    ("POST", "/ui/schedules", {"name": ""}, "developer"),
    ("POST", "/ui/schedules/state", {"name": "no-such-rule", "state": "x"}, "developer"),
    ("POST", "/ui/schedules/delete", {"name": "no-such-rule"}, "developer"),
    ("GET", "/ui/settings", None, "viewer"),
    ("POST", "/ui/settings", {"action": "password", "current_password": "wrong"}, "viewer"),
    ("POST", "/ui/settings", {"action": "create_key", "description": "x" * 300}, "developer"),
    ("POST", "/ui/settings", {"action": "revoke_key", "key": "LBXANOSUCHKEY"}, "developer"),
    ("POST", "/ui/settings", {"action": "add_user", "username": ""}, "admin"),
    ("POST", "/ui/settings", {"action": "remove_user", "user": "x"}, "admin"),
    ("POST", "/ui/settings", {"action": "set_role", "user": "x", "role": "admin"}, "admin"),
    ("POST", "/ui/settings", {"action": "anything else"}, "admin"),
    ("GET", "/ui/functions/{fn}/traces", None, "viewer"),
    ("GET", "/ui/functions/{fn}/permissions", None, "viewer"),
    ("GET", "/ui/cost", None, "viewer"),
    ("GET", "/ui/buckets", None, "viewer"),
    ("POST", "/ui/buckets", {"name": ""}, "developer"),
    ("POST", "/ui/buckets/no-such-bucket/delete", {"confirm": "x"}, "developer"),
    ("GET", "/ui/roles", None, "viewer"),
    ("POST", "/ui/roles", {"name": ""}, "admin"),
    ("POST", "/ui/functions/{fn}/made-up-route", {}, "admin"),
]
RANK = {"viewer": 0, "developer": 1, "admin": 2}


def test_roles_are_enforced_on_the_server_route_by_route(daemon, admin):
    fn = unique("roles")
    assert admin.create_function(fn).status == 303
    before = daemon.client().get_function_configuration(FunctionName=fn)
    users = {"admin": admin, "developer": make_user(daemon, admin, "developer"),
             "viewer": make_user(daemon, admin, "viewer")}
    for role, d in users.items():
        d.get("/ui/functions")  # a page with this session's token
        for method, path, body, least in ROLE_ROUTES:
            path = path.format(fn=fn)
            if body == "multipart":
                r = d.post_multipart(path, {"name": ""})
            elif method == "POST":
                r = d.post(path, body)
            else:
                r = d.get(path)
            m = NEEDS.search(r.text)
            if RANK[role] >= RANK[least]:
                assert not m, (role, method, path, r.status, r.text[:300])
            else:
                assert r.status == 403 and m and m.group(1) == least, (role, method, path, r.status, r.text[:300])
    after = daemon.client().get_function_configuration(FunctionName=fn)
    assert after["RevisionId"] == before["RevisionId"], "no route changed the function"
    # the navigation and pages follow the role: a viewer sees no key or user forms
    settings = users["viewer"].get("/ui/settings").text
    assert 'id="create-key"' not in settings and 'id="add-user"' not in settings and 'id="password-form"' in settings
    dev = users["developer"]
    page = dev.get("/ui/settings").text
    assert 'id="create-key"' in page and 'id="add-user"' not in page


def test_developers_manage_their_own_keys_only(daemon, admin):
    dev = make_user(daemon, admin, "developer")
    admin.get("/ui/settings")
    admin.post("/ui/settings", {"action": "create_key", "description": "the admin's"})
    admin_key = re.search(r'id="new-key-id">([A-Z0-9]+)<', admin.get("/ui/settings?key_created=1").text).group(1)
    dev.get("/ui/settings")
    assert dev.post("/ui/settings", {"action": "create_key", "description": "mine"}).status == 303
    dev_key = re.search(r'id="new-key-id">([A-Z0-9]+)<', dev.get("/ui/settings?key_created=1").text).group(1)
    page = dev.get("/ui/settings").text
    assert dev_key in page and admin_key not in page, "a developer lists their own keys"
    r = dev.post("/ui/settings", {"action": "revoke_key", "key": admin_key})
    assert r.status == 403 and "only the keys you created" in r.text
    keys = {k.split()[0]: k.split()[1] for k in daemon.lambdabox("keys", "list").stdout.splitlines()}
    assert keys[admin_key] == "active"
    assert dev.post("/ui/settings", {"action": "revoke_key", "key": dev_key}).status == 303
    keys = {k.split()[0]: k.split()[1] for k in daemon.lambdabox("keys", "list").stdout.splitlines()}
    assert keys[dev_key] == "revoked"
    # an admin can change a role; it applies to the user's next request
    uid = re.search(rf'{dev.username}</td>.*?name="user" value="(\d+)"', admin.get("/ui/settings").text, re.S).group(1)
    assert admin.post("/ui/settings", {"action": "set_role", "user": uid, "role": "viewer"}).status == 303
    r = dev.post("/ui/settings", {"action": "create_key", "description": "now refused"})
    assert r.status == 403 and "needs the developer role" in r.text
    # nobody changes their own role
    me = re.search(r'\(you\)', admin.get("/ui/settings").text)
    assert me


def test_reset_password_on_the_host_and_the_credentials_file(fresh_daemon):
    data = fresh_daemon.data_dir
    first = first_admin_password(data)
    hint = Dashboard(fresh_daemon.endpoint).get("/ui/login").text
    assert "dashboard-credentials" in hint
    # changing the password in Settings takes it out of the file, and the hint follows
    d = Dashboard(fresh_daemon.endpoint)
    d.login_ok("admin", first)
    d.get("/ui/settings")
    r = d.post("/ui/settings", {"action": "password", "current_password": first,
                                "password": "the second one", "password_confirm": "the second one"})
    assert r.status == 303
    text = (data / "dashboard-credentials").read_text()
    assert first not in text and "password = " not in text and "reset-password admin" in text
    hint = Dashboard(fresh_daemon.endpoint).get("/ui/login").text
    assert "lambdabox users reset-password" in hint and "password is in" not in hint
    # a forgotten password is reset on the host; the user's sessions end
    out = fresh_daemon.lambdabox("users", "reset-password", "admin")
    assert out.returncode == 0, out.stderr
    new = re.search(r"password = (\S+)", out.stdout).group(1)
    assert d.get("/ui/functions").status == 303, "the old session ended"
    assert Dashboard(fresh_daemon.endpoint).login("admin", "the second one").status == 401
    Dashboard(fresh_daemon.endpoint).login_ok("admin", new)
    bad = fresh_daemon.lambdabox("users", "reset-password", "nobody")
    assert bad.returncode != 0 and "no dashboard user nobody" in bad.stderr
    listing = fresh_daemon.lambdabox("users", "list")
    assert re.search(r"^admin\s+admin$", listing.stdout, re.M), listing.stdout


# -- monitoring and logs --------------------------------------------------------------------------


def until(get, ok, timeout: float = 30.0):
    """Calls `get` until `ok` holds for its value (or `timeout` passes); returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = get()
        if ok(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_monitoring_charts_have_axes_units_gaps_and_the_new_figures(daemon, admin):
    fn = unique("charts")
    code = ("def lambda_handler(event, context):\n"
            "    if event.get('fail'):\n        raise ValueError('boom')\n    return 1\n")
    assert admin.create_function(fn, code=code).status == 303
    for payload in (b"{}", b"{}", b'{"fail": true}'):
        daemon.client().invoke(FunctionName=fn, Payload=payload)
    # the log writer commits the invocation records in batches: wait for all three
    page = until(lambda: admin.get(f"/ui/functions/{fn}/monitoring?range=1h").text,
                 lambda p: re.search(r"<title>[^<]*: 66\.7%</title>", p))
    for title in ("Success rate", "Cold starts", "Init duration", "Duration p50", "Throttles"):
        assert f"<strong>{title}" in page, title
    assert page.count('class="y-axis"') >= 8 and page.count('class="x-axis"') >= 8
    assert "(ms)" in page and "(%)" in page
    assert 'class="gap"' in page and "no data" in page, "buckets without invocations are gaps"
    rate = re.search(r"<strong>Success rate</strong>.*?</figure>", page, re.S).group(0)
    assert "66.7%" in rate or "67%" in rate, rate[:2000]
    assert re.search(r"<title>[^<]*: 66\.7%</title>", rate), "hover values"
    cold = re.search(r"<strong>Cold starts</strong>.*?</figure>", page, re.S).group(0)
    assert "total 1" in cold, cold[:500]


def test_logs_search_with_filter_patterns_time_range_and_pages(daemon, admin):
    fn = unique("search")
    code = ("def lambda_handler(event, context):\n"
            "    for i in range(120):\n        print(f'line {i} alpha')\n"
            "    print('only beta here')\n    return 1\n")
    assert admin.create_function(fn, code=code).status == 303
    daemon.client().invoke(FunctionName=fn, Payload=b"{}")
    base = f"/ui/functions/{fn}/logs"
    # the invocation's lines are committed in order: once its REPORT line is stored, all are
    until(lambda: admin.get(f"{base}?filter=REPORT&range=1h").text, lambda p: "REPORT RequestId" in p)
    r = admin.get(f"{base}?filter=beta&range=1h")
    assert r.status == 200
    hits = re.search(r'id="search-results"[^>]*>(.*?)</pre>', r.text, re.S).group(1)
    assert "only beta here" in hits and "alpha" not in hits
    r = admin.get(f"{base}?filter=%3Fbeta+%3Fnothing&range=15m")
    assert "only beta here" in r.text, "?term OR terms"
    r = admin.get(f"{base}?filter=alpha+-beta&range=all")
    first = re.search(r'id="search-results"[^>]*>(.*?)</pre>', r.text, re.S).group(1)
    assert first.count("alpha") == 100 and 'id="next-page"' in r.text, "pages of 100"
    nxt = html.unescape(re.search(r'href="([^"]+)" id="next-page"', r.text).group(1))
    second = admin.get(nxt).text
    rest = re.search(r'id="search-results"[^>]*>(.*?)</pre>', second, re.S).group(1)
    assert rest.count("alpha") == 20 and 'id="next-page"' not in second
    r = admin.get(f"{base}?filter=%7B+%24.level+%3D&range=1h")
    assert r.status == 422 and 'id="err-filter"' in r.text and "does not parse" in r.text
