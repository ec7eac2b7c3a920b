"""Object store quotas (issue 20): `s3.max_bucket_bytes`, `s3.bucket_max_bytes.<bucket>` and
`s3.max_total_bytes` refuse a PutObject, UploadPart, UploadPartCopy or CopyObject that would
go over with `403 QuotaExceeded` saying what to do, whether the body is refused before it is
read (declared length) or after; overwrites count what they replace; nothing of a refused
upload stays on disk, and concurrent uploads cannot both slip under a limit. And a full disk
(a 1 MiB tmpfs under `<data>/s3`, in the daemon's own mount namespace) answers
`507 InsufficientStorage`, leaving no partial file."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

import conftest
from conftest import AWS_CLI, Daemon, unique
from s3_support import s3_client

CONFIG = """
[s3]
max_total_bytes = 3500
max_bucket_bytes = 1000

[s3.bucket_max_bytes]
roomy = 2500
"""


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    work = tmp_path_factory.mktemp("s3quota")
    (work / "config.toml").write_text(CONFIG)
    dm = Daemon(work, extra_args=("--config", str(work / "config.toml"))).start()
    yield dm
    dm.kill()


def code(e) -> tuple[str, int]:
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def disk_files(root: Path) -> tuple[int, int]:
    """(files in s3/objects, files in s3/tmp)."""
    objects = sum(len(f) for _, _, f in os.walk(root / "s3" / "objects"))
    return objects, len(os.listdir(root / "s3" / "tmp"))


def test_bucket_and_total_quotas(d):
    s3 = s3_client(d)
    small, roomy, third = "small", "roomy", "third"
    for b in (small, roomy, third):
        s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=small, Key="a", Body=b"a" * 600)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=small, Key="b", Body=b"b" * 500)
    assert code(e) == ("QuotaExceeded", 403)
    msg = e.value.response["Error"]["Message"]
    assert "bucket 'small' to 1100 bytes" in msg and "quota of 1000 bytes" in msg, msg
    assert "Delete objects" in msg and "raise the quota" in msg, msg
    # an overwrite counts the bytes it replaces
    s3.put_object(Bucket=small, Key="a", Body=b"A" * 900)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=small)["Contents"]] == ["a"]
    # a named bucket's own quota
    s3.put_object(Bucket=roomy, Key="big", Body=b"r" * 2000)
    # all buckets together: 900 + 2000 + 700 > 3500
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=third, Key="t", Body=b"t" * 700)
    assert code(e) == ("QuotaExceeded", 403)
    assert "all buckets together to 3600 bytes" in e.value.response["Error"]["Message"]
    s3.put_object(Bucket=third, Key="t", Body=b"t" * 100)
    # CopyObject counts the copy's bytes
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=small, Key="copy", CopySource={"Bucket": small, "Key": "a"})
    assert code(e) == ("QuotaExceeded", 403)
    # multipart parts in progress count; aborting gives the room back
    up = s3.create_multipart_upload(Bucket=small, Key="mp")["UploadId"]
    s3.upload_part(Bucket=small, Key="mp", UploadId=up, PartNumber=1, Body=b"p" * 100)
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=small, Key="mp", UploadId=up, PartNumber=2, Body=b"p" * 100)
    assert code(e) == ("QuotaExceeded", 403)
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(Bucket=small, Key="mp", UploadId=up, PartNumber=2,
                            CopySource={"Bucket": small, "Key": "a"})
    assert code(e) == ("QuotaExceeded", 403)
    parts = s3.list_parts(Bucket=small, Key="mp", UploadId=up)["Parts"]
    assert [p["PartNumber"] for p in parts] == [1]
    s3.abort_multipart_upload(Bucket=small, Key="mp", UploadId=up)
    # deleting makes room
    s3.delete_object(Bucket=small, Key="a")
    s3.put_object(Bucket=small, Key="b", Body=b"b" * 1000)
    # nothing of the refused uploads is on disk: one file per object, no temporary file
    assert disk_files(d.data_dir) == (3, 0)


def test_a_large_declared_body_is_refused_before_it_is_read(d, tmp_path):
    s3 = s3_client(d)
    b = unique("early").lower()
    s3.create_bucket(Bucket=b)
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (8 << 20))
    p = subprocess.run([AWS_CLI, "--endpoint-url", d.endpoint, "s3", "cp", str(big),
                        f"s3://{b}/big.bin"], capture_output=True, text=True,
                       env=d.cli_env(), timeout=120)
    assert p.returncode != 0 and "QuotaExceeded" in p.stderr, p.stderr
    assert s3.list_objects_v2(Bucket=b)["KeyCount"] == 0
    assert s3.list_multipart_uploads(Bucket=b).get("Uploads", []) == []
    assert disk_files(d.data_dir)[1] == 0


def test_concurrent_uploads_cannot_both_slip_under(tmp_path):
    """Ten 600-byte PUTs at once into a 1000-byte bucket: whichever way they interleave (all
    past the check before the body, or not), exactly one is stored."""
    from concurrent.futures import ThreadPoolExecutor

    (tmp_path / "config.toml").write_text("[s3]\nmax_bucket_bytes = 1000\n")
    dm = Daemon(tmp_path, extra_args=("--config", str(tmp_path / "config.toml"))).start()
    try:
        s3 = s3_client(dm, max_pool_connections=10)
        s3.create_bucket(Bucket="race")

        def put(i):
            try:
                s3.put_object(Bucket="race", Key=f"k{i}", Body=bytes([i]) * 600)
                return "ok"
            except ClientError as e:
                return e.response["Error"]["Code"]

        with ThreadPoolExecutor(10) as pool:
            results = list(pool.map(put, range(10)))
        assert sorted(results) == ["QuotaExceeded"] * 9 + ["ok"], results
        assert s3.list_objects_v2(Bucket="race")["KeyCount"] == 1
        assert disk_files(dm.data_dir) == (1, 0)
    finally:
        dm.kill()


def can_mount() -> bool:
    p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                        "mount -t tmpfs -o size=1m tmpfs /mnt"],
                       capture_output=True, timeout=10)
    return p.returncode == 0


@pytest.mark.skipif(not shutil.which("unshare"), reason="needs unshare(1)")
def test_full_disk_answers_507_and_leaves_nothing(tmp_path, monkeypatch):
    if not can_mount():
        pytest.skip("cannot mount a tmpfs in a new mount namespace here")
    data = tmp_path / "data"
    (data / "s3").mkdir(parents=True)
    wrapper = tmp_path / "lambdabox-on-tiny-disk"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"exec unshare -m --propagation private sh -c 'mount -t tmpfs -o size=1m tmpfs "
        f"\"$0\" && exec \"$@\"' {data / 's3'} {conftest.BIN} \"$@\"\n")
    wrapper.chmod(0o755)
    monkeypatch.setattr(conftest, "BIN", wrapper)
    dm = Daemon(tmp_path).start()
    try:
        s3 = s3_client(dm)
        s3.create_bucket(Bucket="disk")
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket="disk", Key="too-big", Body=b"x" * (3 << 20))
        assert code(e) == ("InsufficientStorage", 507)
        assert "disk under its data directory is full" in e.value.response["Error"]["Message"]
        assert s3.list_objects_v2(Bucket="disk")["KeyCount"] == 0
        # what the daemon sees: its own mount of <data>/s3
        inside = Path(f"/proc/{dm.proc.pid}/root") / str(data).lstrip("/")
        assert disk_files(inside) == (0, 0)
        s3.put_object(Bucket="disk", Key="fits", Body=b"y" * 100_000)
        assert s3.get_object(Bucket="disk", Key="fits")["Body"].read() == b"y" * 100_000
        assert disk_files(inside) == (1, 0)
    finally:
        dm.kill()
