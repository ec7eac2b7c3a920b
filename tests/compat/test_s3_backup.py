"""The object store in `lambdabox backup` / `restore` (issue 20): an online backup taken while
a writer keeps overwriting and deleting objects holds `s3.db` and exactly the object files
its snapshot names (a hold keeps replaced files readable until the archive is written);
restored into a fresh directory, a new daemon serves every bucket, object (bytes matching
their ETags), notification configuration and multipart upload in progress."""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading
import zipfile

from botocore.exceptions import ClientError

from conftest import BIN, Daemon
from s3_support import s3_client


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=120)


def test_online_backup_and_restore_of_buckets_and_objects(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = Daemon(tmp_path / "a").start()
    try:
        s3 = s3_client(a)
        s3.create_bucket(Bucket="keep")
        s3.create_bucket(Bucket="churn")
        stable = {f"docs/{i}.txt": f"stable {i}\n".encode() * (i + 1) for i in range(20)}
        for k, v in stable.items():
            s3.put_object(Bucket="keep", Key=k, Body=v, Metadata={"n": k})
        big = bytes(range(256)) * (24 << 10)   # 6 MiB: a two-part multipart object
        up = s3.create_multipart_upload(Bucket="keep", Key="multi.bin")["UploadId"]
        e1 = s3.upload_part(Bucket="keep", Key="multi.bin", UploadId=up, PartNumber=1,
                            Body=big[:5 << 20])["ETag"]
        e2 = s3.upload_part(Bucket="keep", Key="multi.bin", UploadId=up, PartNumber=2,
                            Body=big[5 << 20:])["ETag"]
        s3.complete_multipart_upload(Bucket="keep", Key="multi.bin", UploadId=up,
                                     MultipartUpload={"Parts": [
                                         {"PartNumber": 1, "ETag": e1},
                                         {"PartNumber": 2, "ETag": e2}]})
        pending = s3.create_multipart_upload(Bucket="keep", Key="pending.bin")["UploadId"]
        s3.upload_part(Bucket="keep", Key="pending.bin", UploadId=pending, PartNumber=1,
                       Body=b"part one")
        s3.put_bucket_notification_configuration(
            Bucket="keep", SkipDestinationValidation=True,
            NotificationConfiguration={"LambdaFunctionConfigurations": [{
                "Id": "r1", "Events": ["s3:ObjectCreated:*"],
                "LambdaFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:f"}]})
        for i in range(10):
            s3.put_object(Bucket="churn", Key=f"k{i}", Body=b"v0")

        # the writer overwrites k0..k9 and creates/deletes gone-* while the backup runs
        stop, warmed = threading.Event(), threading.Event()
        failures: list[str] = []

        def writer():
            w = s3_client(a)
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    w.put_object(Bucket="churn", Key=f"k{n % 10}", Body=f"v{n}".encode() * n)
                    w.put_object(Bucket="churn", Key=f"gone-{n}", Body=b"x")
                    w.delete_object(Bucket="churn", Key=f"gone-{n}")
                except Exception as e:  # noqa: BLE001 - asserted below
                    failures.append(repr(e))
                if n == 5:
                    warmed.set()

        t = threading.Thread(target=writer, daemon=True)
        t.start()
        assert warmed.wait(60)
        archive = tmp_path / "s3.zip"
        out = run("backup", "--to", str(archive), "--data-dir", str(a.data_dir))
        stop.set()
        t.join(timeout=60)
        assert out.returncode == 0, out.stderr
        assert not failures, failures
    finally:
        a.kill()

    with zipfile.ZipFile(archive) as z:
        manifest = json.loads(z.read("lambdabox-backup.json"))
        names = z.namelist()
    assert "s3.db" in manifest["files"]
    objects = [n for n in names if n.startswith("s3/objects/")]
    assert len(objects) == manifest["s3_objects"] >= 20 + 1 + 1 + 10, manifest
    assert not (a.data_dir / "s3" / "holds").exists() or \
        not list((a.data_dir / "s3" / "holds").iterdir())

    b_dir = tmp_path / "b" / "data"
    out = run("restore", "--from", str(archive), "--data-dir", str(b_dir))
    assert out.returncode == 0, out.stderr
    b = Daemon(tmp_path / "b").start()
    try:
        s3 = s3_client(b)
        assert {x["Name"] for x in s3.list_buckets()["Buckets"]} == {"keep", "churn"}
        for k, v in stable.items():
            got = s3.get_object(Bucket="keep", Key=k)
            assert got["Body"].read() == v and got["Metadata"] == {"n": k}
        got = s3.get_object(Bucket="keep", Key="multi.bin")
        assert got["Body"].read() == big and got["ETag"].endswith('-2"')
        uploads = s3.list_multipart_uploads(Bucket="keep")["Uploads"]
        assert [u["UploadId"] for u in uploads] == [pending]
        p = s3.list_parts(Bucket="keep", Key="pending.bin", UploadId=pending)["Parts"]
        s3.complete_multipart_upload(Bucket="keep", Key="pending.bin", UploadId=pending,
                                     MultipartUpload={"Parts": [
                                         {"PartNumber": 1, "ETag": p[0]["ETag"]}]})
        assert s3.get_object(Bucket="keep", Key="pending.bin")["Body"].read() == b"part one"
        conf = s3.get_bucket_notification_configuration(Bucket="keep")
        assert conf["LambdaFunctionConfigurations"][0]["Id"] == "r1"
        # every churned key acknowledged before the backup is there, its bytes its ETag
        listed = s3.list_objects_v2(Bucket="churn")["Contents"]
        keys = {o["Key"] for o in listed}
        assert {f"k{i}" for i in range(10)} <= keys, keys
        for o in listed:
            body = s3.get_object(Bucket="churn", Key=o["Key"])["Body"].read()
            assert hashlib.md5(body).hexdigest() == o["ETag"].strip('"'), o["Key"]
        try:
            s3.head_object(Bucket="keep", Key="missing")
            raise AssertionError("missing key found")
        except ClientError as e:
            assert e.response["Error"]["Code"] in ("404", "NoSuchKey")
    finally:
        b.kill()
