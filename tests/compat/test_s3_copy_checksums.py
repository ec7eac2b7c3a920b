"""UploadPartCopy and the checksums (issue 20): parts copied from objects whole or by
`x-amz-copy-source-range` (boto3's managed multipart copy, the CLI's upload-part-copy), the
copy-source conditions, their refusals; `x-amz-checksum-sha1` next to CRC32, CRC32C and
SHA256, each compared with Python's own computation, single-part and composite multipart."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import zlib

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from conftest import AWS_CLI, Daemon, unique
from s3_support import s3_client

MIB = 1 << 20


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    dm = Daemon(tmp_path_factory.mktemp("s3copy")).start()
    yield dm
    dm.kill()


@pytest.fixture(scope="module")
def s3(d):
    return s3_client(d)


@pytest.fixture
def bucket(s3):
    b = unique("cp").lower()
    s3.create_bucket(Bucket=b)
    return b


def code(e) -> tuple[str, int]:
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def pattern(n: int) -> bytes:
    """`n` deterministic bytes that differ from one MiB to the next."""
    block = bytes(range(256)) * 4096
    return b"".join(hashlib.sha256(block + bytes([i])).digest() * (MIB // 32)
                    for i in range((n + MIB - 1) // MIB))[:n]


def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


CRC32C = _crc32c_table()


def crc32c(data: bytes) -> bytes:
    c = 0xFFFFFFFF
    for b in data:
        c = CRC32C[(c ^ b) & 0xFF] ^ (c >> 8)
    return (c ^ 0xFFFFFFFF).to_bytes(4, "big")


def digest(algorithm: str, data: bytes) -> bytes:
    return {
        "CRC32": lambda: zlib.crc32(data).to_bytes(4, "big"),
        "CRC32C": lambda: crc32c(data),
        "SHA1": lambda: hashlib.sha1(data).digest(),
        "SHA256": lambda: hashlib.sha256(data).digest(),
    }[algorithm]()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_upload_part_copy_by_ranges(s3, bucket):
    src = pattern(10 * MIB + 123)
    s3.put_object(Bucket=bucket, Key="src.bin", Body=src)
    etag = s3.head_object(Bucket=bucket, Key="src.bin")["ETag"]
    up = s3.create_multipart_upload(Bucket=bucket, Key="dst.bin")["UploadId"]
    p1 = s3.upload_part_copy(Bucket=bucket, Key="dst.bin", UploadId=up, PartNumber=1,
                             CopySource={"Bucket": bucket, "Key": "src.bin"},
                             CopySourceRange=f"bytes=0-{5 * MIB - 1}", CopySourceIfMatch=etag)
    assert p1["CopyPartResult"]["ETag"] == '"%s"' % hashlib.md5(src[:5 * MIB]).hexdigest()
    p2 = s3.upload_part_copy(Bucket=bucket, Key="dst.bin", UploadId=up, PartNumber=2,
                             CopySource=f"{bucket}/src.bin",
                             CopySourceRange=f"bytes={5 * MIB}-{len(src) - 1}")
    p3 = s3.upload_part(Bucket=bucket, Key="dst.bin", UploadId=up, PartNumber=3, Body=b"tail")
    s3.complete_multipart_upload(Bucket=bucket, Key="dst.bin", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]},
                  {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]},
                  {"PartNumber": 3, "ETag": p3["ETag"]}]})
    got = s3.get_object(Bucket=bucket, Key="dst.bin")
    assert got["Body"].read() == src + b"tail" and got["ETag"].endswith('-3"')
    # a whole small object as the (last) part, no range
    up = s3.create_multipart_upload(Bucket=bucket, Key="whole")["UploadId"]
    s3.put_object(Bucket=bucket, Key="small", Body=b"small object")
    p = s3.upload_part_copy(Bucket=bucket, Key="whole", UploadId=up, PartNumber=1,
                            CopySource={"Bucket": bucket, "Key": "small"})
    s3.complete_multipart_upload(Bucket=bucket, Key="whole", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": p["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="whole")["Body"].read() == b"small object"


def test_upload_part_copy_refusals(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")
    up = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    args = dict(Bucket=bucket, Key="dst", UploadId=up, PartNumber=1,
                CopySource={"Bucket": bucket, "Key": "src"})
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(**args, CopySourceRange="bytes=0-10")
    assert code(e) == ("InvalidArgument", 400)
    assert "not valid for source object of size: 10" in e.value.response["Error"]["Message"]
    for bad in ["bytes=5-2", "0-3", "bytes=-3", "bytes=a-b"]:
        with pytest.raises(ClientError) as e:
            s3.upload_part_copy(**args, CopySourceRange=bad)
        assert code(e) == ("InvalidArgument", 400), bad
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(**args, CopySourceIfMatch='"0000"')
    assert code(e) == ("PreconditionFailed", 412)
    etag = s3.head_object(Bucket=bucket, Key="src")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(**args, CopySourceIfNoneMatch=etag)
    assert code(e) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(**{**args, "CopySource": {"Bucket": bucket, "Key": "nope"}})
    assert code(e) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(**{**args, "UploadId": "nosuchupload"})
    assert code(e) == ("NoSuchUpload", 404)
    assert s3.list_parts(Bucket=bucket, Key="dst", UploadId=up).get("Parts", []) == []
    # CopyObject: the conditions apply; a range does not belong there
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "src"},
                       CopySourceIfNoneMatch=etag)
    assert code(e) == ("PreconditionFailed", 412)
    s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "src"},
                   CopySourceIfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="c")["Body"].read() == b"0123456789"


def test_boto3_managed_multipart_copy(s3, bucket):
    src = pattern(11 * MIB)
    s3.put_object(Bucket=bucket, Key="big", Body=src)
    cfg = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    s3.copy({"Bucket": bucket, "Key": "big"}, bucket, "big-copy", Config=cfg)
    got = s3.get_object(Bucket=bucket, Key="big-copy")
    assert got["ETag"].endswith('-3"'), got["ETag"]
    assert got["Body"].read() == src


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_checksums_match_pythons(s3, bucket, algorithm):
    """Each value is computed by Python and sent as the header (botocore needs its CRT for
    CRC32C): the daemon's own computation must agree, and stores and returns it."""
    member = f"Checksum{algorithm}"
    data = pattern(300_001)
    s3.put_object(Bucket=bucket, Key="obj", Body=data, **{member: b64(digest(algorithm, data))})
    head = s3.head_object(Bucket=bucket, Key="obj", ChecksumMode="ENABLED")
    assert head[member] == b64(digest(algorithm, data))
    wrong = b64(digest(algorithm, b"other bytes"))
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=data, **{member: wrong})
    assert code(e) == ("BadDigest", 400)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="bad")
    # multipart: the COMPOSITE checksum of the parts' checksums, and a copied part's own
    parts_data = [pattern(5 * MIB), data]
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm=algorithm)["UploadId"]
    r = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=1, Body=parts_data[0],
                       **{member: b64(digest(algorithm, parts_data[0]))})
    assert r[member] == b64(digest(algorithm, parts_data[0]))
    done = [{"PartNumber": 1, "ETag": r["ETag"], member: r[member]}]
    c = s3.upload_part_copy(Bucket=bucket, Key="mp", UploadId=up, PartNumber=2,
                            CopySource={"Bucket": bucket, "Key": "obj"})["CopyPartResult"]
    assert c[member] == b64(digest(algorithm, parts_data[1]))
    done.append({"PartNumber": 2, "ETag": c["ETag"], member: c[member]})
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up,
                                 MultipartUpload={"Parts": done})
    head = s3.head_object(Bucket=bucket, Key="mp", ChecksumMode="ENABLED")
    composite = digest(algorithm, b"".join(digest(algorithm, p) for p in parts_data))
    assert head[member] == f"{b64(composite)}-2"


def test_cli_sha1_and_upload_part_copy(d, s3, bucket, tmp_path):
    f = tmp_path / "f.bin"
    f.write_bytes(b"checksummed by the CLI\n" * 1000)
    env = d.cli_env()

    def api(*args):
        p = subprocess.run([AWS_CLI, "--endpoint-url", d.endpoint, "s3api", *args],
                           capture_output=True, text=True, env=env, timeout=60)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout) if p.stdout.strip() else {}

    out = api("put-object", "--bucket", bucket, "--key", "f.bin", "--body", str(f),
              "--checksum-algorithm", "SHA1")
    assert out["ChecksumSHA1"] == b64(hashlib.sha1(f.read_bytes()).digest())
    up = api("create-multipart-upload", "--bucket", bucket, "--key", "g")["UploadId"]
    out = api("upload-part-copy", "--bucket", bucket, "--key", "g", "--upload-id", up,
              "--part-number", "1", "--copy-source", f"{bucket}/f.bin",
              "--copy-source-range", "bytes=0-22")
    etag = out["CopyPartResult"]["ETag"]
    assert etag == '"%s"' % hashlib.md5(b"checksummed by the CLI\n").hexdigest()
    api("complete-multipart-upload", "--bucket", bucket, "--key", "g", "--upload-id", up,
        "--multipart-upload", json.dumps({"Parts": [{"PartNumber": 1, "ETag": etag}]}))
    assert s3.get_object(Bucket=bucket, Key="g")["Body"].read() == b"checksummed by the CLI\n"
