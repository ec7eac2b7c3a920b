"""Function URLs (issue 17): the config API with the AWS CLI and boto3 (errors by AWS name),
and requests through `/lambda-url/<id>/` and by Host header driven by curl: a REST backend in
Python and in Node (path, query, cookies, a binary image round trip), the payload 2.0 event,
CORS preflight, AWS_IAM refused unsigned and accepted signed (botocore SigV4Auth), error,
timeout and throttle mapping, and 50 parallel requests."""

import base64
import json
import os
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import Daemon, unique
from invoke_support import create_function

PY_BACKEND = r'''
import base64, json
ITEMS = {}
IMAGE = {}

def handler(event, context):
    method = event["requestContext"]["http"]["method"]
    path = event["rawPath"]
    parts = [p for p in path.split("/") if p]
    q = event.get("queryStringParameters") or {}
    if path == "/echo":
        return {"statusCode": 200, "headers": {"content-type": "application/json"},
                "body": json.dumps(event)}
    if path == "/plain":
        return "hello"
    if path == "/object":
        return {"a": 1}
    if path == "/boom":
        raise ValueError("boom")
    if path == "/image":
        if method == "PUT":
            IMAGE["data"] = event["body"] if event["isBase64Encoded"] else base64.b64encode(event["body"].encode()).decode()
            IMAGE["type"] = event["headers"].get("content-type", "")
            return {"statusCode": 204}
        return {"statusCode": 200, "headers": {"content-type": IMAGE["type"]},
                "body": IMAGE["data"], "isBase64Encoded": True}
    if parts[:1] == ["items"]:
        if method == "POST":
            item = json.loads(event["body"])
            ITEMS[item["id"]] = item
            return {"statusCode": 201, "headers": {"location": "/items/" + item["id"]},
                    "cookies": ["last=" + item["id"] + "; Path=/", "seen=1"], "body": json.dumps(item)}
        if method == "GET" and len(parts) == 1:
            limit = int(q.get("limit", "100"))
            return {"statusCode": 200, "body": json.dumps(sorted(ITEMS)[:limit])}
        key = parts[1]
        if key not in ITEMS:
            return {"statusCode": 404, "body": json.dumps({"error": "no " + key})}
        if method == "GET":
            return {"statusCode": 200, "body": json.dumps({"item": ITEMS[key], "cookies": event.get("cookies", [])})}
        if method == "PUT":
            ITEMS[key].update(json.loads(event["body"]))
            return {"statusCode": 200, "body": json.dumps(ITEMS[key])}
        if method == "DELETE":
            del ITEMS[key]
            return {"statusCode": 204}
    return {"statusCode": 400, "body": "unknown route " + method + " " + path}
'''

NODE_BACKEND = r'''
const items = {};
let image = null;
exports.handler = async (event) => {
  const method = event.requestContext.http.method;
  const parts = event.rawPath.split('/').filter(Boolean);
  if (event.rawPath === '/image') {
    if (method === 'PUT') {
      image = { data: event.isBase64Encoded ? event.body : Buffer.from(event.body).toString('base64'),
                type: event.headers['content-type'] };
      return { statusCode: 204 };
    }
    return { statusCode: 200, headers: { 'content-type': image.type }, body: image.data, isBase64Encoded: true };
  }
  if (parts[0] !== 'items') return { statusCode: 400, body: 'unknown route' };
  if (method === 'POST') {
    const item = JSON.parse(event.body);
    items[item.id] = item;
    return { statusCode: 201, cookies: ['last=' + item.id], body: JSON.stringify(item) };
  }
  if (parts.length === 1) {
    const limit = Number((event.queryStringParameters || {}).limit || 100);
    return { statusCode: 200, body: JSON.stringify(Object.keys(items).sort().slice(0, limit)) };
  }
  const item = items[parts[1]];
  if (!item) return { statusCode: 404, body: JSON.stringify({ error: 'no ' + parts[1] }) };
  if (method === 'GET') return { statusCode: 200, body: JSON.stringify({ item, cookies: event.cookies || [] }) };
  if (method === 'PUT') { Object.assign(item, JSON.parse(event.body)); return { statusCode: 200, body: JSON.stringify(item) }; }
  if (method === 'DELETE') { delete items[parts[1]]; return { statusCode: 204 }; }
  return { statusCode: 405 };
};
'''

SLOW = "import time\ndef handler(e, c):\n    time.sleep(float((e.get('queryStringParameters') or {}).get('s', '0')))\n    return {'statusCode': 200, 'body': 'ok'}\n"

# A 1x1 PNG plus every byte value: not text, not UTF-8.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
) + bytes(range(256))


def curl(*args, data: bytes | None = None):
    """Runs curl; returns (status, headers dict of lists, body bytes)."""
    p = subprocess.run(["curl", "-sS", "-D", "-", "-o", "-", *args] + (["--data-binary", "@-"] if data is not None else []),
                       input=data, capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    raw = p.stdout
    # Skip interim (100 Continue) heads.
    while True:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        if status == 100:
            raw = rest
            continue
        break
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.setdefault(k.strip().lower(), []).append(v.strip())
    return status, headers, rest


@pytest.fixture(scope="module")
def lam(daemon):
    return daemon.client()


def make_url(lam, name, **kw):
    kw.setdefault("AuthType", "NONE")
    return lam.create_function_url_config(FunctionName=name, **kw)["FunctionUrl"]


def error_of(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_config_api_with_boto3_and_errors(lam, daemon):
    name = create_function(lam, {"app.py": PY_BACKEND})
    created = lam.create_function_url_config(
        FunctionName=name, AuthType="NONE",
        Cors={"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"], "MaxAge": 60})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    url = created["FunctionUrl"]
    assert url.startswith(f"{daemon.endpoint}/lambda-url/") and url.endswith("/")
    assert len(url.rstrip("/").rsplit("/", 1)[1]) == 32
    assert created["FunctionArn"].endswith(f":function:{name}")
    assert created["InvokeMode"] == "BUFFERED" and created["AuthType"] == "NONE"
    assert created["Cors"]["MaxAge"] == 60
    got = lam.get_function_url_config(FunctionName=name)
    assert got["FunctionUrl"] == url and "LastModifiedTime" in got
    up = lam.update_function_url_config(FunctionName=name, AuthType="AWS_IAM")
    assert up["AuthType"] == "AWS_IAM" and up["Cors"]["AllowOrigins"] == ["https://app.example"]
    listed = lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]
    assert [u["FunctionUrl"] for u in listed] == [url]

    assert error_of(lam.create_function_url_config, FunctionName=name, AuthType="NONE") == (
        "ResourceConflictException", 409)
    assert error_of(lam.get_function_url_config, FunctionName=name, Qualifier="nope")[0] == "ResourceNotFoundException"
    assert error_of(lam.get_function_url_config, FunctionName=unique("missing"))[0] == "ResourceNotFoundException"
    assert error_of(lam.create_function_url_config, FunctionName=name, AuthType="NONE",
                    Cors={"MaxAge": 90000})[0] == "ValidationException"
    assert error_of(lam.create_function_url_config, FunctionName=name, AuthType="NONE",
                    Qualifier="1")[0] == "ValidationException"
    assert error_of(lam.update_function_url_config, FunctionName=name,
                    Cors={"AllowMethods": ["FETCH"]})[0] == "InvalidParameterValueException"
    streamed = lam.update_function_url_config(FunctionName=name, InvokeMode="RESPONSE_STREAM")
    assert streamed["InvokeMode"] == "RESPONSE_STREAM"
    assert lam.update_function_url_config(FunctionName=name, InvokeMode="BUFFERED")["InvokeMode"] == "BUFFERED"

    # An alias gets its own URL; deleting the alias deletes it.
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    alias_url = lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE")
    assert alias_url["FunctionArn"].endswith(f":function:{name}:live")
    assert len(lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]) == 2
    st, _, body = curl(alias_url["FunctionUrl"] + "plain")
    assert (st, body) == (200, b"hello")
    lam.delete_alias(FunctionName=name, Name="live")
    assert len(lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]) == 1
    # served a moment ago (and so cached): gone with its alias
    st, _, body = curl(alias_url["FunctionUrl"] + "plain")
    assert st == 403 and json.loads(body) == {"Message": "Forbidden"}, body

    lam.delete_function_url_config(FunctionName=name)
    assert error_of(lam.delete_function_url_config, FunctionName=name)[0] == "ResourceNotFoundException"
    st, _, body = curl(url + "plain")
    assert st == 403 and json.loads(body) == {"Message": "Forbidden"}


def test_config_api_with_the_cli(lam, daemon):
    name = create_function(lam, {"app.py": PY_BACKEND})
    rc, out, err = daemon.aws("create-function-url-config", "--function-name", name, "--auth-type", "NONE",
                              "--cors", "AllowOrigins=*,AllowMethods=GET")
    assert rc == 0, err
    assert out["Cors"] == {"AllowOrigins": ["*"], "AllowMethods": ["GET"]}
    rc, got, err = daemon.aws("get-function-url-config", "--function-name", name)
    assert rc == 0 and got["FunctionUrl"] == out["FunctionUrl"], err
    rc, up, err = daemon.aws("update-function-url-config", "--function-name", name, "--auth-type", "AWS_IAM")
    assert rc == 0 and up["AuthType"] == "AWS_IAM", err
    rc, listed, err = daemon.aws("list-function-url-configs", "--function-name", name)
    assert rc == 0 and len(listed["FunctionUrlConfigs"]) == 1, err
    rc, _, err = daemon.aws("create-function-url-config", "--function-name", name, "--auth-type", "NONE")
    assert rc != 0 and "ResourceConflictException" in err
    rc, _, err = daemon.aws("create-function-url-config", "--function-name", name, "--auth-type", "NOPE")
    assert rc != 0 and "ValidationException" in err
    rc, _, err = daemon.aws("delete-function-url-config", "--function-name", name)
    assert rc == 0, err
    rc, _, err = daemon.aws("get-function-url-config", "--function-name", name)
    assert rc != 0 and "ResourceNotFoundException" in err


def test_payload_2_0_event(lam, daemon):
    name = create_function(lam, {"app.py": PY_BACKEND})
    url = make_url(lam, name)
    url_id = url.rstrip("/").rsplit("/", 1)[1]
    st, h, body = curl(url + "echo?a=1&a=2&b=x%20y", "-X", "POST", "-H", "X-Multi: v1", "-H", "X-Multi: v2",
                       "-H", "Cookie: s=1; t=2", "-H", "Content-Type: application/json", "-A", "curl-test",
                       data=b'{"k": "v"}')
    assert st == 200, body
    e = json.loads(body)
    assert e["version"] == "2.0" and e["routeKey"] == "$default"
    assert e["rawPath"] == "/echo" and e["rawQueryString"] == "a=1&a=2&b=x%20y"
    assert e["queryStringParameters"] == {"a": "1,2", "b": "x y"}
    assert e["cookies"] == ["s=1", "t=2"]
    assert e["headers"]["x-multi"] == "v1,v2" and "cookie" not in e["headers"]
    assert e["headers"]["user-agent"] == "curl-test"
    assert e["body"] == '{"k": "v"}' and e["isBase64Encoded"] is False
    rc = e["requestContext"]
    assert rc["apiId"] == url_id and rc["domainPrefix"] == url_id
    assert rc["accountId"] == "anonymous" and rc["routeKey"] == "$default" and rc["stage"] == "$default"
    assert rc["http"] == {"method": "POST", "path": "/echo", "protocol": "HTTP/1.1",
                          "sourceIp": "127.0.0.1", "userAgent": "curl-test"}
    assert rc["requestId"] == h["x-amzn-requestid"][0]
    assert abs(rc["timeEpoch"] / 1000 - time.time()) < 60
    assert "pathParameters" not in e and "stageVariables" not in e
    # Plain returns: a JSON string is its text, any other JSON is the body as is.
    assert curl(url + "plain")[2] == b"hello"
    st, h, body = curl(url + "object")
    assert (st, json.loads(body), h["content-type"]) == (200, {"a": 1}, ["application/json"])


@pytest.mark.parametrize("runtime,files,handler", [
    ("python3.12", {"app.py": PY_BACKEND}, "app.handler"),
    ("nodejs20.x", {"index.js": NODE_BACKEND}, "index.handler"),
])
def test_rest_backend_through_curl(lam, runtime, files, handler):
    name = create_function(lam, files, runtime=runtime, handler=handler)
    url = make_url(lam, name)
    for i in range(3):
        st, h, body = curl(url + "items", "-X", "POST", "-H", "Content-Type: application/json",
                           data=json.dumps({"id": f"i{i}", "n": i}).encode())
        assert st == 201, body
        assert any(c.startswith(f"last=i{i}") for c in h["set-cookie"])
    st, _, body = curl(url + "items?limit=2")
    assert (st, json.loads(body)) == (200, ["i0", "i1"])
    st, _, body = curl(url + "items/i1", "-b", "session=abc; theme=dark")
    assert st == 200 and json.loads(body) == {"item": {"id": "i1", "n": 1}, "cookies": ["session=abc", "theme=dark"]}
    st, _, body = curl(url + "items/i1", "-X", "PUT", "-H", "Content-Type: application/json", data=b'{"n": 10}')
    assert (st, json.loads(body)["n"]) == (200, 10)
    assert curl(url + "items/i1", "-X", "DELETE")[0] == 204
    assert curl(url + "items/i1")[0] == 404
    st, _, _ = curl(url + "image", "-X", "PUT", "-H", "Content-Type: image/png", data=PNG)
    assert st == 204
    st, h, body = curl(url + "image")
    assert (st, h["content-type"], body) == (200, ["image/png"], PNG)


def test_cors_preflight_and_headers(lam):
    name = create_function(lam, {"app.py": PY_BACKEND})
    url = make_url(lam, name, Cors={"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"],
                                     "AllowHeaders": ["content-type", "x-api"], "ExposeHeaders": ["x-total"],
                                     "MaxAge": 300, "AllowCredentials": True})
    st, h, body = curl(url + "items", "-X", "OPTIONS", "-H", "Origin: https://app.example",
                       "-H", "Access-Control-Request-Method: POST", "-H", "Access-Control-Request-Headers: x-api")
    assert st == 200 and body == b""
    assert h["access-control-allow-origin"] == ["https://app.example"]
    assert h["access-control-allow-methods"] == ["GET,POST"]
    assert h["access-control-allow-headers"] == ["content-type,x-api"]
    assert h["access-control-max-age"] == ["300"]
    assert h["access-control-allow-credentials"] == ["true"]
    st, h, _ = curl(url + "plain", "-H", "Origin: https://app.example")
    assert st == 200 and h["access-control-allow-origin"] == ["https://app.example"]
    assert h["access-control-expose-headers"] == ["x-total"]
    st, h, _ = curl(url + "plain", "-H", "Origin: https://evil.example")
    assert st == 200 and "access-control-allow-origin" not in h


def test_aws_iam_url_needs_a_signature(lam, daemon):
    name = create_function(lam, {"app.py": PY_BACKEND})
    url = make_url(lam, name, AuthType="AWS_IAM")
    st, _, body = curl(url + "echo")
    assert st == 403 and json.loads(body) == {"Message": "Forbidden"}
    key, secret = daemon.admin_keys()

    def signed(service, secret_key=secret):
        req = AWSRequest(method="POST", url=url + "echo?x=1", data=b'{"a": 1}',
                         headers={"Content-Type": "application/json"})
        SigV4Auth(Credentials(key, secret_key), service, "us-east-1").add_auth(req)
        r = urllib.request.Request(req.url, data=req.body, headers=dict(req.headers), method="POST")
        try:
            with urllib.request.urlopen(r, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    st, body = signed("lambda")
    assert st == 200, body
    e = json.loads(body)
    assert e["requestContext"]["accountId"] == "000000000000"
    assert e["requestContext"]["authorizer"]["iam"]["accessKey"] == key
    assert signed("lambda", "wrong-secret")[0] == 403
    assert signed("sqs")[0] == 403


def test_error_timeout_and_throttle_mapping(lam):
    name = create_function(lam, {"app.py": PY_BACKEND})
    url = make_url(lam, name)
    st, _, body = curl(url + "boom")
    assert st == 502 and json.loads(body) == {"message": "Internal Server Error"}
    slow = create_function(lam, {"app.py": SLOW}, Timeout=1)
    slow_url = make_url(lam, slow)
    st, _, body = curl(slow_url + "?s=3")
    assert st == 504, body
    lam.put_function_concurrency(FunctionName=slow, ReservedConcurrentExecutions=0)
    st, _, body = curl(slow_url + "?s=0")
    assert st == 429, body


def test_fifty_parallel_requests(lam):
    # 50 cold starts at once on a small shared host can take longer than the 3 s default.
    name = create_function(lam, {"app.py": PY_BACKEND}, Timeout=30)
    url = make_url(lam, name)

    def one(i):
        return curl(url + f"echo?i={i}")

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(one, range(50)))
    assert all(st == 200 for st, _, _ in results), [st for st, _, _ in results]
    seen = sorted(int(json.loads(b)["queryStringParameters"]["i"]) for _, _, b in results)
    assert seen == list(range(50))


def test_served_by_host_header(tmp_path):
    cfg = tmp_path / "lambdabox.toml"
    cfg.write_text('[server]\nurl_base_domain = "box.test"\n')
    d = Daemon(tmp_path, extra_args=("--config", str(cfg))).start()
    try:
        lam = d.client()
        name = create_function(lam, {"app.py": PY_BACKEND})
        url = make_url(lam, name)
        url_id = url.split("//", 1)[1].split(".", 1)[0]
        assert url == f"http://{url_id}.lambda-url.us-east-1.box.test/"
        host = f"{url_id}.lambda-url.us-east-1.box.test"
        st, _, body = curl(f"{d.endpoint}/echo?q=1", "-H", f"Host: {host}")
        assert st == 200, body
        e = json.loads(body)
        assert e["rawPath"] == "/echo" and e["requestContext"]["domainName"] == host
        # Paths the daemon serves itself belong to the URL on its host.
        st, _, body = curl(f"{d.endpoint}/ui/", "-H", f"Host: {host}")
        assert st == 400 and b"unknown route GET /ui/" in body
        st, _, _ = curl(f"{d.endpoint}/x", "-H", "Host: " + "0" * 32 + ".lambda-url.us-east-1.box.test")
        assert st == 403
    finally:
        d.stop()


def test_dashboard_triggers_tab_adds_and_removes_the_url(daemon, lam):
    from dashboard_client import Dashboard, first_admin_password

    admin = Dashboard(daemon.endpoint)
    admin.login_ok("admin", first_admin_password(daemon.data_dir))
    name = create_function(lam, {"app.py": PY_BACKEND})
    tab = admin.get(f"/ui/functions/{name}/triggers")
    assert tab.status == 200 and 'id="url-form"' in tab.text and 'value="NONE"' in tab.text
    r = admin.post(f"/ui/functions/{name}/triggers", {"action": "url-create", "auth_type": "NONE"})
    assert r.status == 303 and r.location.endswith("done=url-created"), r.text[:500]
    url = lam.get_function_url_config(FunctionName=name)["FunctionUrl"]
    tab = admin.get(f"/ui/functions/{name}/triggers").text
    def esc(t):  # tera's autoescape
        return (t.replace("&", "&amp;").replace("/", "&#x2F;").replace("'", "&#x27;")
                .replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;"))

    assert f'value="{esc(url)}"' in tab and 'data-copy="url-value"' in tab
    assert 'id="url-public-warning"' in tab and esc(f"curl -i '{url}'") in tab
    assert curl(url + "plain")[2] == b"hello"
    r = admin.post(f"/ui/functions/{name}/triggers", {"action": "url-create", "auth_type": "NONE"})
    assert r.status == 422 and "FunctionUrlConfig exists" in r.text
    r = admin.post(f"/ui/functions/{name}/triggers", {"action": "url-delete"})
    assert r.status == 303 and r.location.endswith("done=url-deleted")
    r = admin.post(f"/ui/functions/{name}/triggers", {"action": "url-create", "auth_type": "AWS_IAM"})
    assert r.status == 303
    tab = admin.get(f"/ui/functions/{name}/triggers").text
    assert 'id="url-public-warning"' not in tab and "--aws-sigv4" in tab
    assert lam.get_function_url_config(FunctionName=name)["AuthType"] == "AWS_IAM"


def test_public_url_honours_a_resource_policy(lam):
    """No policy: served (lambdabox needs no permission for its own triggers). Once a policy is
    set it is honoured as on AWS: a NONE URL needs lambda:InvokeFunctionUrl for principal *
    with FunctionUrlAuthType NONE, else 403."""
    name = create_function(lam, {"app.py": PY_BACKEND})
    url = make_url(lam, name)
    assert curl(url + "plain")[0] == 200
    lam.add_permission(FunctionName=name, StatementId="events", Action="lambda:InvokeFunction",
                       Principal="events.amazonaws.com")
    st, _, body = curl(url + "plain")
    assert st == 403 and json.loads(body) == {"Message": "Forbidden"}, body
    lam.add_permission(FunctionName=name, StatementId="iam-only", Action="lambda:InvokeFunctionUrl",
                       Principal="*", FunctionUrlAuthType="AWS_IAM")
    assert curl(url + "plain")[0] == 403
    lam.add_permission(FunctionName=name, StatementId="public", Action="lambda:InvokeFunctionUrl",
                       Principal="*", FunctionUrlAuthType="NONE")
    st, _, body = curl(url + "plain")
    assert (st, body) == (200, b"hello")
    lam.remove_permission(FunctionName=name, StatementId="public")
    assert curl(url + "plain")[0] == 403
