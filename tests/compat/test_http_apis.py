"""HTTP APIs (API Gateway v2, issue 17): the apigatewayv2 API with the AWS CLI and boto3
(quick create, routes, integrations, stages, errors by AWS name), and requests through
`/http-api/<api-id>/[<stage>/]…` and by Host header driven by curl: a REST backend in Python
and in Node over `GET /items/{id}`, `POST /items`, `ANY /{proxy+}` (path parameters, query
strings, cookies, a binary image round trip), the payload 1.0 event field by field, error,
timeout and throttle mapping, body limits and 50 parallel requests."""

import base64
import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import Daemon, function_arn, unique
from invoke_support import create_function

PY_BACKEND = r'''
import base64, json, time
ITEMS = {}
IMAGE = {}

def reply(status, body=None, **kw):
    r = {"statusCode": status, **kw}
    if body is not None:
        r["body"] = json.dumps(body)
    return r

def handler(event, context):
    rk = event["routeKey"]
    method = event["requestContext"]["http"]["method"]
    pp = event.get("pathParameters") or {}
    q = event.get("queryStringParameters") or {}
    if rk == "POST /items":
        item = json.loads(event["body"])
        ITEMS[item["id"]] = item
        return reply(201, item, cookies=["last=" + item["id"] + "; Path=/", "seen=1"])
    if rk == "GET /items/{id}":
        key = pp["id"]
        if key not in ITEMS:
            return reply(404, {"error": "no " + key})
        return reply(200, {"item": ITEMS[key], "cookies": event.get("cookies", []),
                           "stage": event["requestContext"]["stage"],
                           "vars": event.get("stageVariables") or {}})
    # The $default route has no path parameters: its path is the raw path.
    proxy = pp.get("proxy", event["rawPath"].lstrip("/"))
    if proxy == "items" and method == "GET":
        return reply(200, sorted(ITEMS)[: int(q.get("limit", "100"))])
    if proxy.startswith("items/"):
        key = proxy.split("/", 1)[1]
        if key not in ITEMS:
            return reply(404, {"error": "no " + key})
        if method == "PUT":
            ITEMS[key].update(json.loads(event["body"]))
            return reply(200, ITEMS[key])
        if method == "DELETE":
            del ITEMS[key]
            return {"statusCode": 204}
    if proxy == "image":
        if method == "PUT":
            IMAGE["data"] = event["body"] if event["isBase64Encoded"] else base64.b64encode(event["body"].encode()).decode()
            IMAGE["type"] = event["headers"].get("content-type", "")
            return {"statusCode": 204}
        return {"statusCode": 200, "headers": {"content-type": IMAGE["type"]},
                "body": IMAGE["data"], "isBase64Encoded": True}
    if proxy.split("/")[0] == "echo":
        return reply(200, event)
    if proxy == "plain":
        return "hello"
    if proxy == "boom":
        raise ValueError("boom")
    if proxy == "sleep":
        time.sleep(float(q.get("s", "0")))
        return "slept"
    return reply(400, {"unknown": rk, "proxy": proxy})
'''

NODE_BACKEND = r'''
const items = {};
let image = null;
const reply = (statusCode, body, extra = {}) => ({ statusCode, body: JSON.stringify(body), ...extra });
exports.handler = async (event) => {
  const rk = event.routeKey;
  const method = event.requestContext.http.method;
  const pp = event.pathParameters || {};
  const q = event.queryStringParameters || {};
  if (rk === 'POST /items') {
    const item = JSON.parse(event.body);
    items[item.id] = item;
    return reply(201, item, { cookies: ['last=' + item.id + '; Path=/', 'seen=1'] });
  }
  if (rk === 'GET /items/{id}') {
    const item = items[pp.id];
    if (!item) return reply(404, { error: 'no ' + pp.id });
    return reply(200, { item, cookies: event.cookies || [], stage: event.requestContext.stage,
                        vars: event.stageVariables || {} });
  }
  const proxy = pp.proxy || '';
  if (proxy === 'items' && method === 'GET') {
    return reply(200, Object.keys(items).sort().slice(0, Number(q.limit || 100)));
  }
  if (proxy.startsWith('items/')) {
    const key = proxy.slice(6);
    if (!items[key]) return reply(404, { error: 'no ' + key });
    if (method === 'PUT') { Object.assign(items[key], JSON.parse(event.body)); return reply(200, items[key]); }
    if (method === 'DELETE') { delete items[key]; return { statusCode: 204 }; }
  }
  if (proxy === 'image') {
    if (method === 'PUT') {
      image = { data: event.isBase64Encoded ? event.body : Buffer.from(event.body).toString('base64'),
                type: event.headers['content-type'] };
      return { statusCode: 204 };
    }
    return { statusCode: 200, headers: { 'content-type': image.type }, body: image.data, isBase64Encoded: true };
  }
  return reply(400, { unknown: rk, proxy });
};
'''

V1_ECHO = r'''
import json
def handler(event, context):
    if event["path"].endswith("/bad"):
        return {"body": "no status code"}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}, "body": json.dumps(event)}
'''

SLOW = "import time\ndef handler(e, c):\n    time.sleep(float((e.get('queryStringParameters') or {}).get('s', '0')))\n    return 'ok'\n"

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
) + bytes(range(256))


def curl(*args, data: bytes | None = None):
    """Runs curl; returns (status, headers dict of lists, body bytes)."""
    p = subprocess.run(["curl", "-sS", "-D", "-", "-o", "-", *args] + (["--data-binary", "@-"] if data is not None else []),
                       input=data, capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    raw = p.stdout
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


def gw_client(d):
    key, secret = d.admin_keys()
    return boto3.client("apigatewayv2", endpoint_url=d.endpoint, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(retries={"total_max_attempts": 1}))


@pytest.fixture(scope="module")
def lam(daemon):
    return daemon.client()


@pytest.fixture(scope="module")
def gw(daemon):
    return gw_client(daemon)


def error_of(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


def backend_api(gw, fn_arn, version="2.0", stage=None, **integration):
    """An API with the three routes to one integration; returns (api id, endpoint)."""
    api = gw.create_api(Name=unique("api"), ProtocolType="HTTP")
    api_id = api["ApiId"]
    integ = gw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=fn_arn,
                                  PayloadFormatVersion=version, **integration)
    target = "integrations/" + integ["IntegrationId"]
    for key in ("GET /items/{id}", "POST /items", "ANY /{proxy+}"):
        gw.create_route(ApiId=api_id, RouteKey=key, Target=target)
    gw.create_stage(ApiId=api_id, StageName=stage or "$default", AutoDeploy=True,
                    StageVariables={"env": stage or "default"})
    return api_id, api["ApiEndpoint"]


def test_quick_create_with_the_cli_then_curl(lam, daemon):
    name = create_function(lam, {"app.py": PY_BACKEND})
    rc, api, err = daemon.aws("create-api", "--name", "x", "--protocol-type", "HTTP",
                              "--target", function_arn(name), service="apigatewayv2")
    assert rc == 0, err
    api_id = api["ApiId"]
    assert len(api_id) == 10 and api["ProtocolType"] == "HTTP"
    assert api["ApiEndpoint"] == f"{daemon.endpoint}/http-api/{api_id}"
    assert api["RouteSelectionExpression"] == "$request.method $request.path"
    rc, routes, err = daemon.aws("get-routes", "--api-id", api_id, service="apigatewayv2")
    assert rc == 0, err
    [route] = routes["Items"]
    assert route["RouteKey"] == "$default" and route["ApiGatewayManaged"] is True
    rc, integs, err = daemon.aws("get-integrations", "--api-id", api_id, service="apigatewayv2")
    [integ] = integs["Items"]
    assert route["Target"] == "integrations/" + integ["IntegrationId"]
    assert integ["IntegrationType"] == "AWS_PROXY" and integ["PayloadFormatVersion"] == "2.0"
    assert integ["IntegrationUri"] == function_arn(name) and integ["TimeoutInMillis"] == 30000
    rc, stages, err = daemon.aws("get-stages", "--api-id", api_id, service="apigatewayv2")
    [stage] = stages["Items"]
    assert stage["StageName"] == "$default" and stage["AutoDeploy"] is True

    st, h, body = curl(api["ApiEndpoint"] + "/echo/a%20b?x=1&x=2", "-b", "s=1; t=2", "-H", "X-Multi: v1",
                       "-H", "X-Multi: v2", "-A", "curl-test")
    assert st == 200, body
    e = json.loads(body)
    assert e["version"] == "2.0" and e["routeKey"] == "$default"
    assert e["rawPath"] == "/echo/a%20b" and e["rawQueryString"] == "x=1&x=2"
    assert e["queryStringParameters"] == {"x": "1,2"} and e["cookies"] == ["s=1", "t=2"]
    assert e["headers"]["x-multi"] == "v1,v2" and "pathParameters" not in e
    rc_ = e["requestContext"]
    assert rc_["apiId"] == api_id and rc_["domainPrefix"] == api_id
    assert rc_["routeKey"] == "$default" and rc_["stage"] == "$default"
    assert rc_["accountId"] == "000000000000"
    assert rc_["http"] == {"method": "GET", "path": "/echo/a b", "protocol": "HTTP/1.1",
                           "sourceIp": "127.0.0.1", "userAgent": "curl-test"}
    assert rc_["requestId"] == h["x-amzn-requestid"][0]
    assert abs(rc_["timeEpoch"] / 1000 - time.time()) < 60
    # The 2.0 plain-return rule.
    st, h, body = curl(api["ApiEndpoint"] + "/plain")
    assert (st, body, h["content-type"]) == (200, b"hello", ["application/json"])

    # UpdateApi's quick create members are refused by name, and nothing changes.
    for flag, value in (("--target", function_arn(name)), ("--route-key", "GET /x")):
        rc, _, err = daemon.aws("update-api", "--api-id", api_id, "--name", "renamed", flag, value,
                                service="apigatewayv2")
        assert rc != 0 and "BadRequestException" in err and "quick create" in err, err
    rc, got, err = daemon.aws("get-api", "--api-id", api_id, service="apigatewayv2")
    assert rc == 0 and got["Name"] == "x", (got, err)

    rc, _, err = daemon.aws("delete-api", "--api-id", api_id, service="apigatewayv2")
    assert rc == 0, err
    st, _, body = curl(api["ApiEndpoint"] + "/plain")
    assert st == 404 and json.loads(body) == {"message": "Not Found"}


@pytest.mark.parametrize("runtime,files,handler", [
    ("python3.12", {"app.py": PY_BACKEND}, "app.handler"),
    ("nodejs20.x", {"index.js": NODE_BACKEND}, "index.handler"),
])
@pytest.mark.parametrize("stage", [None, "prod"])
def test_rest_backend_through_routes(lam, gw, runtime, files, handler, stage):
    name = create_function(lam, files, runtime=runtime, handler=handler)
    api_id, endpoint = backend_api(gw, function_arn(name), stage=stage)
    base = endpoint + (f"/{stage}" if stage else "")
    for i in range(3):
        st, h, body = curl(base + "/items", "-X", "POST", "-H", "Content-Type: application/json",
                           data=json.dumps({"id": f"i{i}", "n": i}).encode())
        assert st == 201, body
        assert h["set-cookie"] == [f"last=i{i}; Path=/", "seen=1"]
    st, _, body = curl(base + "/items?limit=2")
    assert (st, json.loads(body)) == (200, ["i0", "i1"])
    st, _, body = curl(base + "/items/i1", "-b", "session=abc; theme=dark")
    assert st == 200, body
    assert json.loads(body) == {"item": {"id": "i1", "n": 1}, "cookies": ["session=abc", "theme=dark"],
                                "stage": stage or "$default", "vars": {"env": stage or "default"}}
    st, _, body = curl(base + "/items/i1", "-X", "PUT", "-H", "Content-Type: application/json", data=b'{"n": 10}')
    assert (st, json.loads(body)["n"]) == (200, 10)
    assert curl(base + "/items/i1", "-X", "DELETE")[0] == 204
    assert curl(base + "/items/i1")[0] == 404
    assert curl(base + "/image", "-X", "PUT", "-H", "Content-Type: image/png", data=PNG)[0] == 204
    st, h, body = curl(base + "/image")
    assert (st, h["content-type"], body) == (200, ["image/png"], PNG)
    if stage:
        # A named stage's segment stays in the path the function sees, as on AWS; the API's
        # root without a stage is not served (no $default stage).
        assert curl(endpoint + "/items/i0")[0] == 404


def test_payload_1_0_event_field_by_field(lam, gw):
    name = create_function(lam, {"app.py": V1_ECHO})
    api_id, endpoint = backend_api(gw, function_arn(name), version="1.0", stage="v1")
    st, h, body = curl(endpoint + "/v1/items/42?a=1&a=2&b=x%20y", "-H", "X-Multi: v1", "-H", "X-Multi: v2",
                       "-b", "s=1", "-A", "curl-test")
    assert st == 200, body
    assert h["set-cookie"] == ["a=1", "b=2"]
    e = json.loads(body)
    assert e["version"] == "1.0"
    assert e["resource"] == "/items/{id}"
    assert e["path"] == "/v1/items/42"
    assert e["httpMethod"] == "GET"
    # HTTP APIs lower-case header names in both formats.
    assert e["headers"]["x-multi"] == "v2" and e["multiValueHeaders"]["x-multi"] == ["v1", "v2"]
    assert e["headers"]["cookie"] == "s=1" and e["headers"]["user-agent"] == "curl-test"
    assert e["headers"]["x-forwarded-for"] == "127.0.0.1" and e["headers"]["x-forwarded-proto"] == "http"
    assert e["queryStringParameters"] == {"a": "2", "b": "x y"}
    assert e["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x y"]}
    assert e["pathParameters"] == {"id": "42"}
    assert e["stageVariables"] == {"env": "v1"}
    assert e["body"] is None and e["isBase64Encoded"] is False
    rc = e["requestContext"]
    assert rc["accountId"] == "000000000000" and rc["apiId"] == api_id and rc["domainPrefix"] == api_id
    assert rc["httpMethod"] == "GET" and rc["path"] == "/v1/items/42" and rc["protocol"] == "HTTP/1.1"
    assert rc["resourcePath"] == "/items/{id}" and rc["stage"] == "v1"
    assert rc["requestId"] == h["x-amzn-requestid"][0] == rc["extendedRequestId"]
    assert abs(rc["requestTimeEpoch"] / 1000 - time.time()) < 60 and rc["requestTime"].endswith("+0000")
    assert rc["identity"]["sourceIp"] == "127.0.0.1" and rc["identity"]["userAgent"] == "curl-test"
    assert rc["identity"]["accessKey"] is None and rc["identity"]["userArn"] is None
    # A binary body is base64; without a route-matching path the greedy route answers.
    st, _, body = curl(endpoint + "/v1/up", "-X", "POST", "-H", "Content-Type: image/png", data=PNG)
    e = json.loads(body)
    assert e["resource"] == "/{proxy+}" and e["pathParameters"] == {"proxy": "up"}
    assert e["isBase64Encoded"] is True and base64.b64decode(e["body"]) == PNG
    assert e["queryStringParameters"] is None and e["multiValueQueryStringParameters"] is None
    # 1.0 makes no assumption: an answer without statusCode is a 500.
    st, _, body = curl(endpoint + "/v1/bad")
    assert st == 500 and json.loads(body) == {"message": "Internal Server Error"}


def test_errors_by_aws_name(lam, gw, daemon):
    name = create_function(lam, {"app.py": PY_BACKEND})
    arn = function_arn(name)
    code, status, msg = error_of(gw.create_api, Name="ws", ProtocolType="WEBSOCKET",
                                 RouteSelectionExpression="$request.body.action")
    assert (code, status) == ("BadRequestException", 400) and "WEBSOCKET" in msg
    assert error_of(gw.get_api, ApiId="nope123456")[:2] == ("NotFoundException", 404)
    assert error_of(gw.get_routes, ApiId="nope123456")[:2] == ("NotFoundException", 404)
    api_id = gw.create_api(Name=unique("api"), ProtocolType="HTTP")["ApiId"]
    for key in ("GET items", "FETCH /x", "GET /{proxy+}/x", "GET /a//b", "$connect"):
        assert error_of(gw.create_route, ApiId=api_id, RouteKey=key)[:2] == ("BadRequestException", 400), key
    assert error_of(gw.create_route, ApiId=api_id, RouteKey="GET /x",
                    Target="integrations/nope123")[:2] == ("NotFoundException", 404)
    assert error_of(gw.create_route, ApiId=api_id, RouteKey="GET /x",
                    AuthorizationType="JWT", AuthorizerId="abc")[:2] == ("BadRequestException", 400)
    assert error_of(gw.create_integration, ApiId=api_id, IntegrationType="HTTP_PROXY",
                    IntegrationUri="https://example.com", IntegrationMethod="GET",
                    PayloadFormatVersion="1.0")[:2] == ("BadRequestException", 400)
    assert error_of(gw.create_integration, ApiId=api_id, IntegrationType="AWS_PROXY",
                    IntegrationUri=arn, PayloadFormatVersion="3.0")[:2] == ("BadRequestException", 400)
    assert error_of(gw.create_integration, ApiId=api_id, IntegrationType="AWS_PROXY",
                    IntegrationUri="arn:aws:lambda:eu-west-1:111111111111:function:x",
                    PayloadFormatVersion="2.0")[:2] == ("BadRequestException", 400)
    assert error_of(gw.create_integration, ApiId=api_id, IntegrationType="AWS_PROXY",
                    IntegrationUri=arn, PayloadFormatVersion="2.0",
                    TimeoutInMillis=40000)[:2] == ("BadRequestException", 400)
    integ = gw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn,
                                  PayloadFormatVersion="2.0")["IntegrationId"]
    route = gw.create_route(ApiId=api_id, RouteKey="GET /x", Target="integrations/" + integ)["RouteId"]
    assert error_of(gw.create_route, ApiId=api_id, RouteKey="GET /x")[:2] == ("ConflictException", 409)
    assert error_of(gw.delete_integration, ApiId=api_id, IntegrationId=integ)[:2] == ("ConflictException", 409)
    assert error_of(gw.create_stage, ApiId=api_id, StageName="prod")[:2] == ("BadRequestException", 400)
    assert error_of(gw.create_stage, ApiId=api_id, StageName="bad name", AutoDeploy=True)[0] == "BadRequestException"
    gw.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)
    assert error_of(gw.create_stage, ApiId=api_id, StageName="prod", AutoDeploy=True)[:2] == ("ConflictException", 409)
    assert error_of(gw.get_stage, ApiId=api_id, StageName="nope")[:2] == ("NotFoundException", 404)
    assert error_of(gw.get_route, ApiId=api_id, RouteId="nope123")[:2] == ("NotFoundException", 404)
    assert error_of(gw.get_integration, ApiId=api_id, IntegrationId="nope123")[:2] == ("NotFoundException", 404)
    # Nothing refused changed anything.
    assert [r["RouteKey"] for r in gw.get_routes(ApiId=api_id)["Items"]] == ["GET /x"]
    assert len(gw.get_integrations(ApiId=api_id)["Items"]) == 1
    assert [s["StageName"] for s in gw.get_stages(ApiId=api_id)["Items"]] == ["prod"]
    # The CLI sees the same errors, and the body's member is the lower-case `message`.
    rc, _, err = daemon.aws("get-api", "--api-id", "nope123456", service="apigatewayv2")
    assert rc != 0 and "NotFoundException" in err and "nope123456" in err
    st, h, body = curl(f"{daemon.endpoint}/http-api/{api_id}/prod/nothing-here")
    assert st == 404 and json.loads(body) == {"message": "Not Found"}
    st, _, body = curl(f"{daemon.endpoint}/http-api/zzzzzzzzzz/x")
    assert st == 404 and json.loads(body) == {"message": "Not Found"}
    gw.delete_route(ApiId=api_id, RouteId=route)
    gw.delete_integration(ApiId=api_id, IntegrationId=integ)


def test_function_error_timeout_and_throttle(lam, gw):
    name = create_function(lam, {"app.py": PY_BACKEND}, Timeout=10)
    api_id, endpoint = backend_api(gw, function_arn(name), TimeoutInMillis=1000)
    st, _, body = curl(endpoint + "/boom")
    assert st == 500 and json.loads(body) == {"message": "Internal Server Error"}
    # The integration's TimeoutInMillis passed: 503, as API Gateway answers.
    st, _, body = curl(endpoint + "/sleep?s=3")
    assert st == 503 and json.loads(body) == {"message": "Service Unavailable"}
    # The function's own timeout is a function error.
    short = create_function(lam, {"app.py": SLOW}, Timeout=1)
    _, short_ep = backend_api(gw, function_arn(short))
    st, _, body = curl(short_ep + "/x?s=3")
    assert st == 500, body
    lam.put_function_concurrency(FunctionName=short, ReservedConcurrentExecutions=0)
    st, _, body = curl(short_ep + "/x?s=0")
    assert st == 429 and json.loads(body) == {"message": "Too Many Requests"}


def test_body_limits(lam, gw):
    name = create_function(lam, {"app.py": PY_BACKEND})
    _, endpoint = backend_api(gw, function_arn(name))
    st, _, body = curl(endpoint + "/echo", "-X", "POST", "-H", "Content-Type: text/plain", data=b"x" * (11 << 20))
    assert st == 413 and json.loads(body) == {"message": "Request Entity Too Large"}
    # Under the 10 MB API limit but over Lambda's 6 MB event.
    st, _, body = curl(endpoint + "/echo", "-X", "POST", "-H", "Content-Type: text/plain", data=b"x" * (7 << 20))
    assert st == 413, body
    st, _, body = curl(endpoint + "/echo", "-X", "POST", "-H", "Content-Type: text/plain", data=b"x" * (1 << 20))
    assert st == 200 and len(json.loads(body)["body"]) == 1 << 20


def test_fifty_parallel_requests(lam, gw):
    name = create_function(lam, {"app.py": PY_BACKEND}, Timeout=30)
    _, endpoint = backend_api(gw, function_arn(name))

    def one(i):
        return curl(endpoint + f"/echo?i={i}")

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(one, range(50)))
    assert all(st == 200 for st, _, _ in results), [st for st, _, _ in results]
    seen = sorted(int(json.loads(b)["queryStringParameters"]["i"]) for _, _, b in results)
    assert seen == list(range(50))


def test_boto3_crud_round_trip(lam, gw):
    name = create_function(lam, {"app.py": PY_BACKEND})
    arn = function_arn(name)
    created = gw.create_api(Name="crud", ProtocolType="HTTP", Description="d1", Version="v1", Tags={"team": "a"})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    api_id = created["ApiId"]
    got = gw.get_api(ApiId=api_id)
    assert (got["Name"], got["Description"], got["Version"], got["Tags"]) == ("crud", "d1", "v1", {"team": "a"})
    assert got["CreatedDate"] == created["CreatedDate"]
    up = gw.update_api(ApiId=api_id, Name="crud2", Description="d2")
    assert (up["Name"], up["Description"], up["Version"]) == ("crud2", "d2", "v1")
    assert api_id in [a["ApiId"] for a in gw.get_apis()["Items"]]

    i1 = gw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn,
                               PayloadFormatVersion="2.0", Description="first")
    assert i1["ResponseMetadata"]["HTTPStatusCode"] == 201 and i1["IntegrationMethod"] == "POST"
    i1u = gw.update_integration(ApiId=api_id, IntegrationId=i1["IntegrationId"], PayloadFormatVersion="1.0",
                                TimeoutInMillis=5000)
    assert (i1u["PayloadFormatVersion"], i1u["TimeoutInMillis"], i1u["Description"]) == ("1.0", 5000, "first")
    assert gw.get_integration(ApiId=api_id, IntegrationId=i1["IntegrationId"])["PayloadFormatVersion"] == "1.0"
    apigw_uri = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"
    i2 = gw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=apigw_uri,
                               PayloadFormatVersion="2.0")
    r = gw.create_route(ApiId=api_id, RouteKey="GET /a/{x}", Target="integrations/" + i1["IntegrationId"])
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 201
    ru = gw.update_route(ApiId=api_id, RouteId=r["RouteId"], RouteKey="ANY /echo/{x}",
                         Target="integrations/" + i2["IntegrationId"])
    assert (ru["RouteKey"], ru["Target"]) == ("ANY /echo/{x}", "integrations/" + i2["IntegrationId"])
    assert gw.get_route(ApiId=api_id, RouteId=r["RouteId"])["RouteKey"] == "ANY /echo/{x}"
    for k in ("GET /p1", "GET /p2", "GET /p3"):
        gw.create_route(ApiId=api_id, RouteKey=k)
    page1 = gw.get_routes(ApiId=api_id, MaxResults="2")
    page2 = gw.get_routes(ApiId=api_id, MaxResults="2", NextToken=page1["NextToken"])
    assert [x["RouteKey"] for x in page1["Items"] + page2["Items"]] == ["ANY /echo/{x}", "GET /p1", "GET /p2", "GET /p3"]
    assert "NextToken" not in page2

    s = gw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True, StageVariables={"a": "1", "b": "2"})
    assert s["ResponseMetadata"]["HTTPStatusCode"] == 201 and s["AutoDeploy"] is True
    su = gw.update_stage(ApiId=api_id, StageName="$default", Description="live", StageVariables={"b": "3", "c": "4"})
    assert su["StageVariables"] == {"a": "1", "b": "3", "c": "4"} and su["Description"] == "live"
    assert gw.get_stage(ApiId=api_id, StageName="$default")["StageVariables"]["b"] == "3"
    st, _, body = curl(created["ApiEndpoint"] + "/echo/7")
    e = json.loads(body)
    assert st == 200 and e["routeKey"] == "ANY /echo/{x}" and e["pathParameters"] == {"x": "7"}
    assert e["stageVariables"] == {"a": "1", "b": "3", "c": "4"}

    gw.delete_stage(ApiId=api_id, StageName="$default")
    assert curl(created["ApiEndpoint"] + "/echo/7")[0] == 404
    gw.delete_route(ApiId=api_id, RouteId=r["RouteId"])
    assert error_of(gw.get_route, ApiId=api_id, RouteId=r["RouteId"])[0] == "NotFoundException"
    gw.delete_integration(ApiId=api_id, IntegrationId=i2["IntegrationId"])
    assert [i["IntegrationId"] for i in gw.get_integrations(ApiId=api_id)["Items"]] == [i1["IntegrationId"]]
    gw.delete_api(ApiId=api_id)
    assert error_of(gw.get_api, ApiId=api_id)[0] == "NotFoundException"
    assert error_of(gw.delete_api, ApiId=api_id)[0] == "NotFoundException"


def test_served_by_host_header(tmp_path):
    cfg = tmp_path / "lambdabox.toml"
    cfg.write_text('[server]\nurl_base_domain = "box.test"\n')
    d = Daemon(tmp_path, extra_args=("--config", str(cfg))).start()
    try:
        lam = d.client()
        gw = gw_client(d)
        name = create_function(lam, {"app.py": PY_BACKEND})
        api = gw.create_api(Name="host", ProtocolType="HTTP", Target=function_arn(name))
        api_id = api["ApiId"]
        host = f"{api_id}.execute-api.us-east-1.box.test"
        assert api["ApiEndpoint"] == f"http://{host}"
        st, _, body = curl(f"{d.endpoint}/echo?q=1", "-H", f"Host: {host}")
        assert st == 200, body
        e = json.loads(body)
        assert e["rawPath"] == "/echo" and e["requestContext"]["domainName"] == host
        st, _, body = curl(f"{d.endpoint}/ui/", "-H", f"Host: {host}")
        assert st == 400 and b'"proxy": "ui/"' in body or st == 400, body
        st, _, body = curl(f"{d.endpoint}/x", "-H", "Host: zzzzzzzzzz.execute-api.us-east-1.box.test")
        assert st == 404 and json.loads(body) == {"message": "Not Found"}
    finally:
        d.stop()


def test_dashboard_lists_apis_with_routes(daemon, lam, gw):
    """The HTTP APIs page (`/ui/apis`): behind the session, every API with its stages' invoke
    URLs, its routes with the function each calls (a link) and a curl example; names escaped."""
    from dashboard_client import Dashboard, first_admin_password

    anon = Dashboard(daemon.endpoint)
    r = anon.get("/ui/apis")
    assert r.status == 303 and r.location.startswith("/ui/login"), r.status
    admin = Dashboard(daemon.endpoint)
    admin.login_ok("admin", first_admin_password(daemon.data_dir))
    name = create_function(lam, {"app.py": PY_BACKEND})
    api_id, endpoint = backend_api(gw, function_arn(name), stage="prod")
    gw.update_api(ApiId=api_id, Name="<script>alert(1)</script>")
    page = admin.get("/ui/apis")
    assert page.status == 200
    text = page.text
    assert f'id="api-{api_id}"' in text
    assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)&lt;&#x2F;script&gt;" in text
    def esc(v):  # tera's autoescape
        for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;"), ("/", "&#x2F;")):
            v = v.replace(a, b)
        return v

    assert f'value="{esc(endpoint + "/prod")}"' in text
    for key in ("GET /items/{id}", "POST /items", "ANY /{proxy+}"):
        assert esc(key) in text, key
    assert f'href="{esc("/ui/functions/" + name)}"' in text
    assert esc(f"curl -i '{endpoint}/prod/items/1'") in text
    assert esc(f"curl -i -X POST '{endpoint}/prod/items'") in text
    assert 'href="/ui/apis" aria-current="page"' in text
