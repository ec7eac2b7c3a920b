"""Virtual-hosted-style S3 (issue 20) with `s3.base_domain = "s3.localhost"`: boto3 with
`addressing_style: virtual` (its host names resolved to 127.0.0.1 inside this process, never
by DNS), curl with `--resolve` and SigV4 over the Host header as sent, path-style on the same
daemon, and a daemon without the setting refusing a virtual-hosted request instead of reading
it path-style (where `PUT /key` would be CreateBucket `key`)."""

from __future__ import annotations

import http.client
import socket
import subprocess
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import Daemon, unique
from s3_support import Signer, s3_client

BASE = "s3.localhost"


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    dm = Daemon(tmp_path_factory.mktemp("s3vhost"),
                env={"LAMBDABOX_S3__BASE_DOMAIN": BASE}).start()
    yield dm
    dm.kill()


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    dm = Daemon(tmp_path_factory.mktemp("s3novhost")).start()
    yield dm
    dm.kill()


@pytest.fixture
def loopback_names(monkeypatch):
    """`*.s3.localhost` resolves to 127.0.0.1 in this process (boto3, urllib)."""
    real = socket.getaddrinfo

    def fake(host, *args, **kw):
        if isinstance(host, str) and (host == BASE or host.endswith("." + BASE)):
            host = "127.0.0.1"
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def virtual_client(d):
    key_id, secret = d.admin_keys()
    return boto3.client(
        "s3", endpoint_url=f"http://{BASE}:{d.port}", region_name="us-east-1",
        aws_access_key_id=key_id, aws_secret_access_key=secret,
        config=Config(s3={"addressing_style": "virtual"}, signature_version="s3v4",
                      retries={"total_max_attempts": 1}))


def test_boto3_virtual_hosted_and_path_style_side_by_side(d, loopback_names):
    s3 = virtual_client(d)
    seen = []
    s3.meta.events.register("before-send.s3.*",
                            lambda request, **_: seen.append(request.url))
    b = unique("vh").lower()
    s3.create_bucket(Bucket=b)
    # keys that are also dashboard / daemon paths: under a bucket host they are keys
    for key in ["ui/index.html", "health", "dir/a b+c.txt"]:
        s3.put_object(Bucket=b, Key=key, Body=key.encode(), ContentType="text/plain")
        got = s3.get_object(Bucket=b, Key=key)
        assert got["Body"].read() == key.encode() and got["ContentType"] == "text/plain"
    assert seen and all(u.startswith(f"http://{b}.{BASE}:{d.port}/") for u in seen), seen
    listed = s3.list_objects_v2(Bucket=b, Prefix="dir/")
    assert [o["Key"] for o in listed["Contents"]] == ["dir/a b+c.txt"]
    up = s3.create_multipart_upload(Bucket=b, Key="mp")
    e = s3.upload_part(Bucket=b, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"x" * 10)
    done = s3.complete_multipart_upload(
        Bucket=b, Key="mp", UploadId=up["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e["ETag"]}]})
    assert done["Location"] == f"http://{b}.{BASE}:{d.port}/mp", done
    url = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "health"})
    assert url.startswith(f"http://{b}.{BASE}:{d.port}/health?")
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.read() == b"health"
    # the same objects path-style (127.0.0.1) and with the base domain itself as the host
    path = s3_client(d)
    assert path.get_object(Bucket=b, Key="dir/a b+c.txt")["Body"].read() == b"dir/a b+c.txt"
    key_id, secret = d.admin_keys()
    base = boto3.client("s3", endpoint_url=f"http://{BASE}:{d.port}", region_name="us-east-1",
                        aws_access_key_id=key_id, aws_secret_access_key=secret,
                        config=Config(s3={"addressing_style": "path"}))
    assert base.head_object(Bucket=b, Key="mp")["ContentLength"] == 10
    with pytest.raises(ClientError) as ex:
        s3.get_object(Bucket=unique("nobucket").lower(), Key="k")
    assert ex.value.response["Error"]["Code"] == "NoSuchBucket"
    s3.delete_object(Bucket=b, Key="health")
    assert "health" not in [o["Key"] for o in path.list_objects_v2(Bucket=b)["Contents"]]


def curl(d, *args):
    key_id, secret = d.admin_keys()
    p = subprocess.run(["curl", "-sS", "--max-time", "20", "--aws-sigv4", "aws:amz:us-east-1:s3",
                        "--user", f"{key_id}:{secret}", "-w", "\n%{http_code}", *args],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    body, _, status = p.stdout.rpartition("\n")
    return int(status), body


def test_curl_resolve_and_host_header(d, tmp_path):
    s3 = s3_client(d)
    b = unique("curl").lower()
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="docs/readme.txt", Body=b"read me")
    host = f"{b}.{BASE}:{d.port}"
    status, body = curl(d, "--resolve", f"{host}:127.0.0.1", f"http://{host}/docs/readme.txt")
    assert (status, body) == (200, "read me")
    # (no '/' in the query: curl 7.88 leaves it unencoded in its canonical query)
    status, body = curl(d, "--resolve", f"{host}:127.0.0.1",
                        f"http://{host}/?list-type=2&prefix=docs")
    assert status == 200 and "<Key>docs/readme.txt</Key>" in body, body
    # the Host header alone, the connection to 127.0.0.1
    status, body = curl(d, "-H", f"Host: {host}", f"http://127.0.0.1:{d.port}/docs/readme.txt")
    assert (status, body) == (200, "read me")
    # a PUT signed over the Host as sent
    src = tmp_path / "up.txt"
    src.write_text("uploaded by curl")
    status, body = curl(d, "--resolve", f"{host}:127.0.0.1",
                        "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                        "-T", str(src), f"http://{host}/up.txt")
    assert status == 200, body
    assert s3.get_object(Bucket=b, Key="up.txt")["Body"].read() == b"uploaded by curl"
    # a signature over another Host does not pass
    status, body = curl(d, "-H", f"Host: {host}", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                        f"http://127.0.0.1:{d.port}/docs/readme.txt", "--aws-sigv4",
                        "aws:amz:us-east-1:s3", "--user", "wrong:secret")
    assert status == 403, body


def test_without_the_setting_virtual_hosted_is_refused_not_misread(plain):
    s3 = s3_client(plain)
    b = unique("novh").lower()
    s3.create_bucket(Bucket=b)
    before = {x["Name"] for x in s3.list_buckets()["Buckets"]}
    key_id, secret = plain.admin_keys()
    host = f"{b}.{BASE}:{plain.port}"
    sig = Signer(key_id, secret)
    for method, path in [("PUT", "/newkey"), ("DELETE", "/" + b), ("GET", "/")]:
        headers = sig.sign(method, path, {"host": host, "content-length": "0"},
                           "UNSIGNED-PAYLOAD")
        conn = http.client.HTTPConnection("127.0.0.1", plain.port, timeout=10)
        conn.request(method, path, body=b"", headers=headers)
        r = conn.getresponse()
        body = r.read().decode()
        conn.close()
        assert r.status == 400, (method, path, r.status, body)
        assert "<Code>InvalidRequest</Code>" in body and "s3.base_domain" in body, body
    after = {x["Name"] for x in s3.list_buckets()["Buckets"]}
    assert after == before and "newkey" not in after
    assert s3.list_objects_v2(Bucket=b)["KeyCount"] == 0
    # curl against the same daemon, Host header naming the bucket
    status, body = curl(plain, "-H", f"Host: {b}.localhost:{plain.port}",
                        f"http://127.0.0.1:{plain.port}/k")
    assert status == 400 and "virtual-hosted-style" in body, body
