"""The object store (issue 20) through boto3: managed transfers (`upload_file` /
`download_file`, multipart, checksums on), conditional and ranged GETs, metadata, CopyObject,
listings (V2 with prefix, delimiter, continuation, start-after; V1 with markers),
DeleteObjects, the multipart API and its refusals, Content-MD5 and x-amz-checksum checks, and
aws-chunked uploads with their chunk signatures (an independent signer)."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from conftest import Daemon, unique
from s3_support import chunked_put, crc32_b64, s3_client


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    dm = Daemon(tmp_path_factory.mktemp("s3boto")).start()
    yield dm
    dm.kill()


@pytest.fixture(scope="module")
def s3(d):
    return s3_client(d, request_checksum_calculation="when_supported",
                     response_checksum_validation="when_supported")


@pytest.fixture
def bucket(s3):
    b = unique("bk").lower()
    s3.create_bucket(Bucket=b)
    return b


def code(e) -> tuple[str, int]:
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_managed_transfers_with_checksums(s3, bucket, tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(3 << 20) * 7)   # 21 MiB: multipart at the 8 MiB threshold
    cfg = TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20)
    s3.upload_file(str(src), bucket, "data/src.bin", Config=cfg)
    head = s3.head_object(Bucket=bucket, Key="data/src.bin", ChecksumMode="ENABLED")
    assert head["ContentLength"] == 21 << 20
    assert head["ETag"].endswith('-3"'), head
    assert head.get("ChecksumCRC32", "").endswith("-3"), head
    dst = tmp_path / "dst.bin"
    s3.download_file(bucket, "data/src.bin", str(dst), Config=cfg)
    assert dst.read_bytes() == src.read_bytes()
    small = tmp_path / "small.txt"
    small.write_text("tiny")
    s3.upload_file(str(small), bucket, "small.txt")
    got = s3.get_object(Bucket=bucket, Key="small.txt", ChecksumMode="ENABLED")
    assert got["Body"].read() == b"tiny"
    assert got["ChecksumCRC32"] == crc32_b64(b"tiny")


def test_metadata_content_type_and_conditionals(s3, bucket):
    body = b"0123456789" * 10
    put = s3.put_object(Bucket=bucket, Key="m.txt", Body=body, ContentType="text/plain",
                        Metadata={"colour": "blue"}, CacheControl="max-age=60")
    etag = put["ETag"]
    assert etag == f'"{hashlib.md5(body).hexdigest()}"'
    h = s3.head_object(Bucket=bucket, Key="m.txt")
    assert h["ContentType"] == "text/plain" and h["Metadata"] == {"colour": "blue"}
    assert h["CacheControl"] == "max-age=60"
    r = s3.get_object(Bucket=bucket, Key="m.txt", Range="bytes=10-19")
    assert r["Body"].read() == b"0123456789" and r["ContentRange"] == "bytes 10-19/100"
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert s3.get_object(Bucket=bucket, Key="m.txt", Range="bytes=-5")["Body"].read() == b"56789"
    assert s3.get_object(Bucket=bucket, Key="m.txt", Range="bytes=95-")["Body"].read() == b"56789"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="m.txt", Range="bytes=100-200")
    assert code(e) == ("InvalidRange", 416)
    assert s3.get_object(Bucket=bucket, Key="m.txt", IfMatch=etag)["Body"].read() == body
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="m.txt", IfMatch='"0000"')
    assert code(e) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="m.txt", IfNoneMatch=etag)
    assert code(e)[1] == 304
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="m.txt", IfModifiedSince=h["LastModified"])
    assert code(e)[1] == 304
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="nope")
    assert code(e)[1] == 404
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="nope")
    assert code(e) == ("NoSuchKey", 404)


def test_digests_are_verified(s3, d, bucket):
    bad_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="d.txt", Body=b"body", ContentMD5=bad_md5)
    assert code(e) == ("BadDigest", 400)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="d.txt", Body=b"body", ChecksumCRC32=crc32_b64(b"x"))
    assert code(e) == ("BadDigest", 400)
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="d.txt")
    assert code(e)[1] == 404
    good = base64.b64encode(hashlib.md5(b"body").digest()).decode()
    s3.put_object(Bucket=bucket, Key="d.txt", Body=b"body", ContentMD5=good)
    assert os.listdir(d.data_dir / "s3" / "tmp") == []


def test_copy_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"copy me", ContentType="text/x-a",
                  Metadata={"a": "1"})
    r = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert r["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"copy me").hexdigest()}"'
    h = s3.head_object(Bucket=bucket, Key="dst")
    assert h["ContentType"] == "text/x-a" and h["Metadata"] == {"a": "1"}
    s3.copy_object(Bucket=bucket, Key="dst2", CopySource=f"{bucket}/src",
                   MetadataDirective="REPLACE", ContentType="text/x-b", Metadata={"b": "2"})
    h = s3.head_object(Bucket=bucket, Key="dst2")
    assert h["ContentType"] == "text/x-b" and h["Metadata"] == {"b": "2"}
    s3.delete_object(Bucket=bucket, Key="src")
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"copy me"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "dst"})
    assert code(e) == ("InvalidRequest", 400)


def test_listings(s3, bucket):
    keys = ["a/1", "a/2", "a/b/3", "b/4", "c", "d e", "é"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    r = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in r["Contents"]] == sorted(keys, key=lambda k: k.encode())
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "b/"]
    assert [o["Key"] for o in r["Contents"]] == ["c", "d e", "é"]
    r = s3.list_objects_v2(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/b/"]
    seen, token = [], None
    while True:
        kw = {"ContinuationToken": token} if token else {}
        r = s3.list_objects_v2(Bucket=bucket, Delimiter="/", MaxKeys=2, **kw)
        seen += [o["Key"] for o in r.get("Contents", [])] + [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        assert r["KeyCount"] <= 2
        if not r["IsTruncated"]:
            break
        token = r["NextContinuationToken"]
    assert sorted(seen) == sorted(["a/", "b/", "c", "d e", "é"])
    r = s3.list_objects_v2(Bucket=bucket, StartAfter="b/4")
    assert [o["Key"] for o in r["Contents"]] == ["c", "d e", "é"]
    pages = s3.get_paginator("list_objects").paginate(Bucket=bucket, PaginationConfig={"PageSize": 3})
    assert [o["Key"] for p in pages for o in p.get("Contents", [])] == sorted(keys, key=str.encode)
    r = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=1)
    assert r["IsTruncated"] and r["NextMarker"] == "a/"
    r = s3.list_objects(Bucket=bucket, Delimiter="/", Marker="a/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["b/"]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys] + [{"Key": "zz"}]})
    assert sorted(x["Key"] for x in r["Deleted"]) == sorted(keys + ["zz"])
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    s3.delete_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=bucket)
    assert code(e)[1] == 404


def test_multipart_api(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    p1, p2 = os.urandom(5 << 20), b"tail"
    e1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=1, Body=p1)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=2, Body=p2)["ETag"]
    parts = s3.list_parts(Bucket=bucket, Key="mp", UploadId=up)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 5 << 20), (2, 4)]
    ups = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [u["UploadId"] for u in ups] == [up]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]})
    assert code(e) == ("InvalidPartOrder", 400)
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]})
    assert code(e) == ("InvalidPart", 400)
    r = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    want = hashlib.md5(hashlib.md5(p1).digest() + hashlib.md5(p2).digest()).hexdigest() + "-2"
    assert r["ETag"] == f'"{want}"'
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == p1 + p2
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket=bucket, Key="mp", UploadId=up)
    assert code(e) == ("NoSuchUpload", 404)
    small = s3.create_multipart_upload(Bucket=bucket, Key="small")["UploadId"]
    a = s3.upload_part(Bucket=bucket, Key="small", UploadId=small, PartNumber=1, Body=b"a")["ETag"]
    b = s3.upload_part(Bucket=bucket, Key="small", UploadId=small, PartNumber=2, Body=b"b")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=small, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": a}, {"PartNumber": 2, "ETag": b}]})
    assert code(e) == ("EntityTooSmall", 400)
    s3.abort_multipart_upload(Bucket=bucket, Key="small", UploadId=small)
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="small")
    assert code(e)[1] == 404


@pytest.mark.parametrize("mode", ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                                  "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
                                  "STREAMING-UNSIGNED-PAYLOAD-TRAILER"])
def test_aws_chunked_uploads(d, s3, bucket, mode):
    data = os.urandom(200_000)
    status, headers, body = chunked_put(d, bucket, "chunked.bin", data, mode)
    assert status == 200, body
    assert headers["etag"] == f'"{hashlib.md5(data).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="chunked.bin")
    assert got["Body"].read() == data
    assert "ContentEncoding" not in got
    if mode.endswith("TRAILER"):
        status, _, body = chunked_put(d, bucket, "bad-crc.bin", data, mode, crc=crc32_b64(b"x"))
        assert status == 400 and b"<Code>BadDigest</Code>" in body, body
    if mode.startswith("STREAMING-AWS4"):
        status, _, body = chunked_put(d, bucket, "tampered.bin", data, mode, tamper=True)
        assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body, body
    for k in ("bad-crc.bin", "tampered.bin"):
        with pytest.raises(ClientError):
            s3.head_object(Bucket=bucket, Key=k)
    assert os.listdir(d.data_dir / "s3" / "tmp") == []
