"""The Code tab's editor (issue 24, item 2) over plain HTTP: CodeMirror is served from the
binary (no CDN) with a per-page style nonce in the page's own CSP, and the textarea stays the
form field (the page works without JavaScript); new, rename and delete of files deploy the
package with that one change and refuse what would break it; a syntax error is reported by the
function's runtime before anything is deployed (with "Deploy anyway"); a failed test links the
places of its error to the Code tab at that line; the Test tab runs a version or an alias.
The browser side (editing in CodeMirror by keyboard, go-to-line, axe-core) is in
tests/browser/console.mjs."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile

import pytest

from conftest import unique
from dashboard_client import Dashboard, first_admin_password

BROKEN = "def lambda_handler(event, context):\n    x = 1\n    return x / 0\n"


@pytest.fixture(scope="module")
def admin(daemon):
    d = Dashboard(daemon.endpoint)
    d.login_ok("admin", first_admin_password(daemon.data_dir))
    return d


def package_files(admin: Dashboard, fn: str) -> dict[str, str]:
    r = admin.get(f"/ui/functions/{fn}/package")
    assert r.status == 200, r.status
    z = zipfile.ZipFile(io.BytesIO(r.body))
    return {n: z.read(n).decode() for n in z.namelist() if not n.endswith("/")}


def revision(daemon, fn: str) -> str:
    return daemon.client().get_function_configuration(FunctionName=fn)["RevisionId"]


def textarea(page: str) -> str:
    m = re.search(r'<textarea name="content"[^>]*>(.*?)</textarea>', page, re.S)
    assert m, page[:2000]
    return html.unescape(m.group(1))


def test_the_editor_is_served_from_the_binary_with_a_style_nonce(daemon, admin):
    fn = unique("cm")
    assert admin.create_function(fn).status == 303
    r = admin.get(f"/ui/functions/{fn}/code")
    assert r.status == 200
    csp = r.headers["Content-Security-Policy"]
    nonce = re.search(r"style-src 'self' 'nonce-([0-9a-f]{32})'", csp)
    assert nonce, csp
    assert "script-src 'self';" in csp and "unsafe" not in csp, csp
    assert f'data-csp-nonce="{nonce.group(1)}"' in r.text
    assert '<script src="/ui/static/editor.js" defer></script>' in r.text
    # the textarea is still the form field: the page works without JavaScript
    assert re.search(r'<textarea name="content"[^>]*data-code-editor[^>]*data-file="lambda_function.py"', r.text)
    assert "def lambda_handler" in textarea(r.text)
    # a new nonce per page; other pages keep the plain policy
    again = admin.get(f"/ui/functions/{fn}/code").headers["Content-Security-Policy"]
    assert again != csp and "nonce-" in again
    assert "nonce-" not in admin.get("/ui/functions").headers["Content-Security-Policy"]
    assert "editor.js" not in admin.get(f"/ui/functions/{fn}/test").text
    js = admin.get("/ui/static/editor.js")
    assert js.status == 200 and js.headers["Content-Type"].startswith("text/javascript")
    assert js.text.startswith("/* lambdabox code editor: CodeMirror 6") and len(js.body) > 100_000
    assert "http://" not in js.text.split("*/", 1)[0] and "cdn" not in js.text.lower().split("*/", 1)[0]


def test_new_rename_and_delete_files_deploy_one_change(daemon, admin):
    fn = unique("files")
    assert admin.create_function(fn).status == 303
    code = f"/ui/functions/{fn}/code"
    files = f"/ui/functions/{fn}/files"
    original = package_files(admin, fn)["lambda_function.py"]

    admin.get(code)
    r = admin.post(files, {"action": "new", "path": "lib/util.py", "revision": revision(daemon, fn)})
    assert r.status == 303 and r.location == f"{code}?file=lib%2Futil.py&changed=new", (r.status, r.location)
    page = admin.get(r.location).text
    assert "File created and deployed." in page and 'aria-current="true">util.py<' in page
    assert package_files(admin, fn) == {"lambda_function.py": original, "lib/util.py": ""}

    r = admin.post(files, {"action": "rename", "file": "lib/util.py", "path": "helpers.py", "revision": revision(daemon, fn)})
    assert r.status == 303 and "file=helpers.py&changed=renamed" in r.location
    assert sorted(package_files(admin, fn)) == ["helpers.py", "lambda_function.py"]

    # refusals change nothing: an existing name, a name outside the package, a stale page,
    # the last file, an unknown action
    before = revision(daemon, fn)
    for body, status, words in [
        ({"action": "new", "path": "helpers.py"}, 400, "already a file named helpers.py"),
        ({"action": "new", "path": "../escape.py"}, 400, "cannot be a file name"),
        ({"action": "new", "path": "/etc/x.py"}, 400, "cannot be a file name"),
        ({"action": "rename", "file": "helpers.py", "path": "lambda_function.py"}, 400, "already a file named lambda_function.py"),
        ({"action": "rename", "file": "nope.py", "path": "x.py"}, 400, "not in the package"),
        ({"action": "delete", "file": "nope.py"}, 400, "not in the package"),
        ({"action": "explode", "file": "helpers.py"}, 400, "Choose New file"),
    ]:
        r = admin.post(files, {**body, "revision": before})
        assert r.status == status and words in html.unescape(r.text), (body, r.status, r.text[:800])
    r = admin.post(files, {"action": "delete", "file": "helpers.py", "revision": "stale-" + before})
    assert r.status in (409, 412), r.status
    assert revision(daemon, fn) == before, "no refusal deployed anything"

    r = admin.post(files, {"action": "delete", "file": "helpers.py", "revision": before})
    assert r.status == 303 and r.location == f"{code}?changed=deleted"
    assert "File deleted and deployed." in admin.get(r.location).text
    assert list(package_files(admin, fn)) == ["lambda_function.py"]
    r = admin.post(files, {"action": "delete", "file": "lambda_function.py", "revision": revision(daemon, fn)})
    assert r.status == 400 and "at least one file" in r.text
    # the function still runs its code
    out = json.loads(daemon.client().invoke(FunctionName=fn, Payload=b'{"a": 1}')["Payload"].read())
    assert out["event"] == {"a": 1}


def test_a_syntax_error_is_reported_before_deploy(daemon, admin):
    fn = unique("syntax")
    assert admin.create_function(fn).status == 303
    code = f"/ui/functions/{fn}/code"
    admin.get(code)
    before = revision(daemon, fn)
    bad = "def lambda_handler(event, context):\n    return {'ok': True\n\nprint('after')\n"
    r = admin.post(code, {"file": "lambda_function.py", "content": bad, "revision": before})
    assert r.status == 422, (r.status, r.text[:1000])
    err = html.unescape(re.search(r'id="err-content">(.*?)</p>', r.text, re.S).group(1))
    assert "Not deployed" in err and "python3.11 checked the syntax" in err, err
    line = re.search(r'data-goto-line="(\d+)"', r.text)
    assert line and int(line.group(1)) in (2, 4), err
    assert f'data-line="{line.group(1)}"' in r.text, "the editor opens at the error"
    assert textarea(r.text) == bad, "the typed code is kept"
    assert 'aria-invalid="true"' in r.text and 'id="deploy-anyway"' in r.text
    assert f'name="revision" value="{before}"' in r.text
    assert revision(daemon, fn) == before, "nothing was deployed"
    # deploy anyway
    r = admin.post(code, {"file": "lambda_function.py", "content": bad, "revision": before, "force": "1"})
    assert r.status == 303
    assert package_files(admin, fn)["lambda_function.py"] == bad
    # a file of no checked type deploys without a check
    r = admin.post(code, {"file": "notes.txt", "content": "def (:", "revision": revision(daemon, fn)})
    assert r.status == 303


def node_runtime(admin: Dashboard) -> str:
    page = admin.get("/ui/functions/new").text
    runtimes = re.findall(r'<option value="(nodejs[^"]+)"', page)
    assert runtimes, "a nodejs runtime is needed (the CI machine has node)"
    return runtimes[0]


def test_javascript_is_checked_by_node(daemon, admin):
    fn = unique("nodecheck")
    rt = node_runtime(admin)
    src = "exports.handler = async (event) => ({ got: event });\n"
    assert admin.create_function(fn, runtime=rt, code=src).status == 303
    code = f"/ui/functions/{fn}/code"
    page = admin.get(code).text
    file = re.search(r'data-file="([^"]+)"', page).group(1)
    before = revision(daemon, fn)
    bad = "exports.handler = async (event) => {\n  return { got: event ;\n};\n"
    r = admin.post(code, {"file": file, "content": bad, "revision": before})
    assert r.status == 422, (r.status, r.text[:1000])
    assert f"{rt} checked the syntax" in html.unescape(r.text)
    assert revision(daemon, fn) == before
    good = "export const handler = async (event) => ({ got: event });\n" if file.endswith(".mjs") else src.replace("event })", "event, v: 2 })")
    r = admin.post(code, {"file": file, "content": good, "revision": before})
    assert r.status == 303, r.text[:1000]


def test_a_failed_test_links_to_the_line_in_the_code(daemon, admin):
    fn = unique("goto")
    assert admin.create_function(fn, code=BROKEN).status == 303
    admin.get(f"/ui/functions/{fn}/test")
    r = admin.post(f"/ui/functions/{fn}/test", {"action": "run", "event": "{}", "qualifier": "$LATEST"})
    assert r.status == 200 and "Failed" in r.text, r.text[:1500]
    links = re.findall(r'<a href="([^"]+)">lambda_function.py, line (\d+)</a>', r.text)
    assert links and links[0][1] == "3", re.search(r'id="result".*', r.text, re.S).group(0)[:2000]
    href = html.unescape(links[0][0])
    assert href == f"/ui/functions/{fn}/code?file=lambda_function.py&line=3"
    page = html.unescape(admin.get(href).text)
    assert 'data-line="3"' in page
    assert re.search(r'id="goto-line"[^>]*>Line 3 of lambda_function.py: <code>\s*return x / 0</code>', page), page[:3000]
    # a run that succeeds links nothing
    ok = unique("goto-ok")
    assert admin.create_function(ok).status == 303
    admin.get(f"/ui/functions/{ok}/test")
    r = admin.post(f"/ui/functions/{ok}/test", {"action": "run", "event": "{}"})
    assert "Succeeded" in r.text and 'id="error-links"' not in r.text


def test_the_test_tab_runs_a_version_or_an_alias(daemon, admin):
    fn = unique("target")
    assert admin.create_function(fn, code="def lambda_handler(e, c):\n    return 'one'\n").status == 303
    lam = daemon.client()
    v1 = lam.publish_version(FunctionName=fn)["Version"]
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion=v1)
    admin.get(f"/ui/functions/{fn}/code")
    r = admin.post(f"/ui/functions/{fn}/code", {"file": "lambda_function.py", "content": "def lambda_handler(e, c):\n    return 'two'\n",
                                                "revision": revision(daemon, fn)})
    assert r.status == 303
    page = admin.get(f"/ui/functions/{fn}/test").text
    options = re.findall(r'<option value="([^"]+)"', re.search(r'<select name="qualifier".*?</select>', page, re.S).group(0))
    assert options == ["$LATEST", v1, "live"], options
    for qualifier, expected in [("$LATEST", "two"), (v1, "one"), ("live", "one"), ("", "two")]:
        r = admin.post(f"/ui/functions/{fn}/test", {"action": "run", "event": "{}", "qualifier": qualifier})
        assert r.status == 200 and "Succeeded" in r.text, (qualifier, r.text[:1000])
        assert json.loads(html.unescape(re.search(r'id="result-payload">(.*?)</pre>', r.text, re.S).group(1))) == expected, qualifier
        assert f"Ran {qualifier or '$LATEST'}" in r.text
        assert re.search(rf'<option value="{re.escape(qualifier or "$LATEST")}" selected>', r.text), "the choice is kept"
    r = admin.post(f"/ui/functions/{fn}/test", {"action": "run", "event": "{}", "qualifier": "99"})
    assert r.status == 422 and 'id="err-qualifier"' in r.text and "no version or alias 99" in r.text
