"""The dashboard's Roles pages (issue 19, item 6): behind the sign-in like every page, the
roles and managed policies listed, a role for Lambda created from a template, a role's
policies, and a function's execution role with its effective permissions and network.
"""

from __future__ import annotations

import html

import pytest

from conftest import ACCOUNT, ROLE, handler_zip, unique
from dashboard_client import Dashboard, first_admin_password

ROUTES = [("GET", "/ui/roles"), ("POST", "/ui/roles"), ("GET", "/ui/roles/x"),
          ("GET", "/ui/functions/x/permissions")]


@pytest.fixture(scope="module")
def admin(daemon):
    d = Dashboard(daemon.endpoint)
    d.login_ok("admin", first_admin_password(daemon.data_dir))
    return d


def test_roles_pages_need_a_session(daemon):
    anon = Dashboard(daemon.endpoint)
    for method, path in ROUTES:
        r = anon.request(method, path, body=b"csrf=x" if method == "POST" else None)
        assert r.status == 303 and r.location.startswith("/ui/login?next="), (method, path, r.status)


def test_create_a_role_from_a_template_and_see_a_functions_permissions(daemon, admin):
    page = admin.get("/ui/roles")
    assert page.status == 200
    assert "AWSLambdaBasicExecutionRole" in page.text and "AmazonS3ReadOnlyAccess" in page.text
    name = unique("dash-role")
    r = admin.post("/ui/roles", {"name": name, "template": "invoke", "description": "from the dashboard"})
    assert r.status == 303 and r.location == f"/ui/roles/{name}", r.text[:500]
    role = admin.get(r.location)
    assert role.status == 200
    text = html.unescape(role.text)
    assert f"arn:aws:iam::{ACCOUNT}:role/{name}" in text
    assert "lambda.amazonaws.com" in text and "AWSLambdaRole" in text
    # The API sees the same role.
    rc, out, err = daemon.aws("list-attached-role-policies", "--role-name", name, service="iam")
    assert rc == 0, err
    assert {p["PolicyName"] for p in out["AttachedPolicies"]} == {"AWSLambdaBasicExecutionRole", "AWSLambdaRole"}
    # A bad template or a taken name is refused, nothing created.
    assert admin.post("/ui/roles", {"name": unique("x"), "template": "nope"}).status == 400
    assert admin.post("/ui/roles", {"name": name, "template": "basic"}).status == 400

    lam = daemon.client()
    with_role, without = unique("perm"), unique("perm")
    for fn, role_arn in ((with_role, f"arn:aws:iam::{ACCOUNT}:role/{name}"), (without, ROLE)):
        lam.create_function(FunctionName=fn, Runtime="python3.11", Role=role_arn,
                            Handler="lambda_function.lambda_handler", Code={"ZipFile": handler_zip(fn)})
    p = admin.get(f"/ui/functions/{with_role}/permissions")
    assert p.status == 200
    text = html.unescape(p.text)
    assert "AWSLambdaRole" in text and "lambda:InvokeFunction" in text
    assert 'id="role-problem"' not in text
    assert "internet only" in text  # the default network of a function without VpcConfig
    p = admin.get(f"/ui/functions/{without}/permissions")
    assert p.status == 200
    text = html.unescape(p.text)
    assert 'id="role-problem"' in text and "basic execution permissions only" in text
    assert admin.get(f"/ui/functions/{unique('ghost')}/permissions").status == 404
