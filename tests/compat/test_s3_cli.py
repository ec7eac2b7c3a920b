"""The object store (issue 20) through Debian's AWS CLI v2: `aws s3 mb/cp/ls/sync/rm/presign/rb`
with a small file and a 200 MB multipart upload, `aws s3api` error shapes, presigned GET/PUT
URLs through curl."""

from __future__ import annotations

import hashlib
import os
import subprocess
import urllib.request

import pytest

from conftest import AWS_CLI, Daemon, unique
from s3_support import s3_client


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    dm = Daemon(tmp_path_factory.mktemp("s3cli")).start()
    yield dm
    dm.kill()


def s3(d, *args, cwd=None, timeout=120.0):
    p = subprocess.run([AWS_CLI, "--endpoint-url", d.endpoint, "s3", *args], capture_output=True,
                       text=True, env=d.cli_env(), cwd=cwd, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def test_mb_cp_ls_rm_rb(d, tmp_path):
    b = unique("cli").lower()
    rc, out, err = s3(d, "mb", f"s3://{b}")
    assert rc == 0 and f"make_bucket: {b}" in out, err
    rc, _, err = s3(d, "mb", f"s3://{b}")
    assert rc != 0 and "BucketAlreadyOwnedByYou" in err, err
    f = tmp_path / "hello world.txt"
    f.write_text("hello\n")
    rc, out, err = s3(d, "cp", str(f), f"s3://{b}/docs/hello world.txt")
    assert rc == 0, err
    rc, out, _ = s3(d, "ls", f"s3://{b}/")
    assert "PRE docs/" in out, out
    rc, out, _ = s3(d, "ls", f"s3://{b}", "--recursive")
    assert "docs/hello world.txt" in out and " 6 " in out, out
    rc, out, _ = s3(d, "ls")
    assert b in out
    rc, out, err = s3(d, "cp", f"s3://{b}/docs/hello world.txt", "-")
    assert rc == 0 and out == "hello\n", err
    rc, _, err = s3(d, "rb", f"s3://{b}")
    assert rc != 0 and "BucketNotEmpty" in err, err
    rc, out, err = s3(d, "rm", f"s3://{b}/docs/hello world.txt")
    assert rc == 0 and "delete:" in out, err
    rc, out, err = s3(d, "rb", f"s3://{b}")
    assert rc == 0, err
    rc, _, err = s3(d, "ls", f"s3://{b}")
    assert rc != 0 and "NoSuchBucket" in err, err


def test_200_mb_multipart_round_trip(d, tmp_path):
    b = unique("big").lower()
    assert s3(d, "mb", f"s3://{b}")[0] == 0
    src = tmp_path / "big.bin"
    # sparse: 200 MB of zeros but for a marker every 16 MB, created instantly
    with open(src, "wb") as f:
        f.truncate(200 * 1000 * 1000)
        for i in range(0, 200 * 1000 * 1000, 16 << 20):
            f.seek(i)
            f.write(i.to_bytes(8, "big"))
    rc, _, err = s3(d, "cp", str(src), f"s3://{b}/big.bin", "--only-show-errors", timeout=300)
    assert rc == 0, err
    rc, out, err = d.aws("head-object", "--bucket", b, "--key", "big.bin", service="s3api")
    assert rc == 0, err
    assert out["ContentLength"] == 200 * 1000 * 1000
    # the CLI's 8 MiB parts: 24 of them, so S3's ETag is md5(md5s)-24
    md5s = b""
    with open(src, "rb") as f:
        while chunk := f.read(8 << 20):
            md5s += hashlib.md5(chunk).digest()
    assert out["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-24"', out
    dst = tmp_path / "back.bin"
    rc, _, err = s3(d, "cp", f"s3://{b}/big.bin", str(dst), "--only-show-errors", timeout=300)
    assert rc == 0, err
    with open(src, "rb") as a, open(dst, "rb") as c:
        while True:
            x, y = a.read(1 << 22), c.read(1 << 22)
            assert x == y
            if not x:
                break
    # nothing left in the temporary directory, no upload in progress
    assert os.listdir(d.data_dir / "s3" / "tmp") == []
    rc, out, _ = d.aws("list-multipart-uploads", "--bucket", b, service="s3api")
    assert rc == 0 and not (out or {}).get("Uploads"), out


def test_sync_uploads_only_changes(d, tmp_path):
    b = unique("sync").lower()
    assert s3(d, "mb", f"s3://{b}")[0] == 0
    src = tmp_path / "tree"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "sub" / "b.txt").write_text("bb")
    rc, out, err = s3(d, "sync", str(src), f"s3://{b}/t")
    assert rc == 0 and out.count("upload:") == 2, (out, err)
    rc, out, err = s3(d, "sync", str(src), f"s3://{b}/t")
    assert rc == 0 and "upload:" not in out, out
    (src / "c.txt").write_text("ccc")
    rc, out, _ = s3(d, "sync", str(src), f"s3://{b}/t")
    assert out.count("upload:") == 1 and "c.txt" in out, out
    back = tmp_path / "back"
    rc, out, err = s3(d, "sync", f"s3://{b}/t", str(back))
    assert rc == 0, err
    assert (back / "sub" / "b.txt").read_text() == "bb"
    rc, out, _ = s3(d, "rm", f"s3://{b}", "--recursive")
    assert out.count("delete:") == 3, out
    assert s3(d, "rb", f"s3://{b}")[0] == 0


def test_presigned_get_and_put_through_curl(d, tmp_path):
    b = unique("pre").lower()
    assert s3(d, "mb", f"s3://{b}")[0] == 0
    f = tmp_path / "x.txt"
    f.write_text("presigned body")
    assert s3(d, "cp", str(f), f"s3://{b}/x.txt")[0] == 0
    rc, url, err = s3(d, "presign", f"s3://{b}/x.txt", "--expires-in", "60")
    assert rc == 0, err
    got = subprocess.run(["curl", "-sS", "-f", url.strip()], capture_output=True, timeout=30)
    assert got.returncode == 0 and got.stdout == b"presigned body", got
    # a changed signature is refused
    bad = url.strip()[:-1] + ("0" if not url.strip().endswith("0") else "1")
    got = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", bad],
                         capture_output=True, text=True, timeout=30)
    assert got.stdout == "403", got
    put = s3_client(d, signature_version="s3v4").generate_presigned_url(
        "put_object", Params={"Bucket": b, "Key": "up.txt"}, ExpiresIn=60)
    up = tmp_path / "up.txt"
    up.write_text("put by curl")
    got = subprocess.run(["curl", "-sS", "-f", "-T", str(up), put], capture_output=True,
                         timeout=30)
    assert got.returncode == 0, got
    with urllib.request.urlopen(url.strip()) as r:
        assert r.read() == b"presigned body"
    rc, out, _ = s3(d, "cp", f"s3://{b}/up.txt", "-")
    assert out == "put by curl"


def test_s3api_error_shapes(d):
    rc, _, err = d.aws("head-object", "--bucket", "no-such-bucket-here", "--key", "k",
                       service="s3api")
    assert rc != 0 and "404" in err, err
    rc, _, err = d.aws("get-object", "--bucket", "no-such-bucket-here", "--key", "k", "/dev/null",
                       service="s3api")
    assert rc != 0 and "NoSuchBucket" in err, err
    b = unique("err").lower()
    assert s3(d, "mb", f"s3://{b}")[0] == 0
    rc, _, err = d.aws("get-object", "--bucket", b, "--key", "missing", "/dev/null",
                       service="s3api")
    assert rc != 0 and "NoSuchKey" in err, err
    rc, _, err = d.aws("create-bucket", "--bucket", "Bad_Name", service="s3api")
    assert rc != 0 and "InvalidBucketName" in err, err
    rc, _, err = d.aws("get-bucket-acl", "--bucket", b, service="s3api")
    assert rc != 0 and "NotImplemented" in err, err
