"""Bucket notifications (issue 20): Put/GetBucketNotificationConfiguration through the CLI and
boto3, delivery as asynchronous invocations (captured through an OnSuccess queue, whose record
carries the event the function received) and to SQS queues (with S3's s3:TestEvent), the S3
event record compared field by field with the AWS documentation's example (reference §9.4),
prefix/suffix filters, refusals, and the seed's pattern end to end: an upload to my-uploads
under images/ ending .jpg runs a Python function that reads the object with boto3 and writes a
transformed copy to an output bucket."""

from __future__ import annotations

import json
import re
import time

from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, ROLE, Daemon, function_arn, make_zip, unique
from s3_support import s3_client
from sqs_support import receive_all, sqs_client

PY = "python3.11"

# boto3 inside functions: this suite's virtualenv, mounted as AWS's runtime ships its SDK.
SITE_PACKAGES = Path(boto3.__file__).resolve().parent.parent

ECHO = r'''
import os
def handler(event, context):
    return {"event": event, "endpoint": os.environ.get("AWS_ENDPOINT_URL")}
'''

# The seed's "resize image" step: read the object with boto3, write a transformed copy.
TRANSFORM = r'''
import os, urllib.parse
def handler(event, context):
    if event.get("probe"):
        try:
            import boto3  # noqa: F401
            has_boto3 = True
        except ImportError:
            has_boto3 = False
        return {"endpoint": os.environ.get("AWS_ENDPOINT_URL"), "boto3": has_boto3}
    import boto3
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                      config=boto3.session.Config(s3={"addressing_style": "path"}))
    for r in event["Records"]:
        bucket = r["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(r["s3"]["object"]["key"])
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        s3.put_object(Bucket=os.environ["OUTPUT_BUCKET"], Key="thumbs/" + key.rsplit("/", 1)[-1],
                      Body=data.upper(), ContentType="image/jpeg")
    return "ok"
'''

AWS_EXAMPLE = {"Records": [{
    "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
    "eventTime": "2025-01-15T10:20:30.123Z", "eventName": "ObjectCreated:Put",
    "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
    "requestParameters": {"sourceIPAddress": "203.0.113.7"},
    "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/"},
    "s3": {"s3SchemaVersion": "1.0", "configurationId": "on-upload",
           "bucket": {"name": "photos", "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                      "arn": "arn:aws:s3:::photos"},
           "object": {"key": "2025/cat+picture.jpg", "size": 1024,
                      "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                      "sequencer": "0055AED6DCD90281E5"}}}]}

TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    dm = Daemon(tmp_path_factory.mktemp("s3notify"),
                env={"LAMBDABOX_IAM__PYTHON_SDK_DIR": str(SITE_PACKAGES)}).start()
    yield dm
    dm.kill()


@pytest.fixture(scope="module")
def lam(d):
    return d.client()


@pytest.fixture(scope="module")
def s3(d):
    return s3_client(d)


@pytest.fixture(scope="module")
def sqs(d):
    return sqs_client(d)


def make_queue(sqs) -> tuple[str, str]:
    name = unique("nq")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def echo_function(lam, sqs) -> tuple[str, str]:
    """A function whose OnSuccess records (with the event it got) land in a queue."""
    name = unique("s3fn")
    lam.create_function(FunctionName=name, Runtime=PY, Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": make_zip({"app.py": ECHO})}, Timeout=30)
    url, arn = make_queue(sqs)
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0,
                                         DestinationConfig={"OnSuccess": {"Destination": arn}})
    return name, url


def events_in(sqs, url: str, want: int, timeout: float = 30.0) -> list[dict]:
    msgs = receive_all(sqs, url, want, timeout=timeout)
    return [json.loads(m["Body"])["requestPayload"] for m in msgs]


def lambda_config(fn: str, events: list[str], prefix=None, suffix=None, id_="on-upload") -> dict:
    c = {"Id": id_, "LambdaFunctionArn": function_arn(fn), "Events": events}
    rules = [{"Name": n, "Value": v} for n, v in (("prefix", prefix), ("suffix", suffix)) if v]
    if rules:
        c["Filter"] = {"Key": {"FilterRules": rules}}
    return c


def test_event_record_matches_aws_example_field_by_field(d, lam, s3, sqs):
    fn, url = echo_function(lam, sqs)
    b = unique("photos").lower()
    s3.create_bucket(Bucket=b)
    s3.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration={
        "LambdaFunctionConfigurations": [lambda_config(fn, ["s3:ObjectCreated:*"], "images/", ".jpg")]})
    got = s3.get_bucket_notification_configuration(Bucket=b)["LambdaFunctionConfigurations"]
    assert got == [{"Id": "on-upload", "LambdaFunctionArn": function_arn(fn),
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "images/"},
                                                       {"Name": "Suffix", "Value": ".jpg"}]}}}]
    # a key outside the filter first: it must not trigger anything
    s3.put_object(Bucket=b, Key="docs/readme.jpg", Body=b"x")
    s3.put_object(Bucket=b, Key="images/a.png", Body=b"x")
    body = b"\xff\xd8 a jpeg"
    put = s3.put_object(Bucket=b, Key="images/cat picture.jpg", Body=body)
    [ev] = events_in(sqs, url, 1)
    time.sleep(1.5)
    assert not receive_all(sqs, url, 1, timeout=1), "a non-matching key triggered the function"

    want, rec = AWS_EXAMPLE["Records"][0], ev["Records"][0]
    assert set(ev) == {"Records"} and len(ev["Records"]) == 1

    def same_shape(a, b, path=""):
        assert set(a) == set(b), f"{path}: {sorted(a)} != {sorted(b)}"
        for k in a:
            if isinstance(a[k], dict):
                same_shape(a[k], b[k], f"{path}.{k}")
            else:
                assert type(a[k]) is type(b[k]), f"{path}.{k}: {a[k]!r} vs {b[k]!r}"
    same_shape(rec, want)
    assert rec["eventVersion"] == "2.1" and rec["eventSource"] == "aws:s3"
    assert rec["awsRegion"] == REGION and TIME.fullmatch(rec["eventTime"])
    assert rec["eventName"] == "ObjectCreated:Put"
    assert rec["userIdentity"]["principalId"] == "AWS:" + d.admin_keys()[0]
    assert rec["requestParameters"]["sourceIPAddress"] == "127.0.0.1"
    assert rec["responseElements"]["x-amz-request-id"] == put["ResponseMetadata"]["RequestId"]
    o, bk = rec["s3"]["object"], rec["s3"]["bucket"]
    assert rec["s3"]["s3SchemaVersion"] == "1.0" and rec["s3"]["configurationId"] == "on-upload"
    assert bk == {"name": b, "ownerIdentity": {"principalId": ACCOUNT}, "arn": f"arn:aws:s3:::{b}"}
    assert o["key"] == "images/cat+picture.jpg" and o["size"] == len(body)
    assert f'"{o["eTag"]}"' == put["ETag"]
    assert re.fullmatch(r"[0-9A-F]{18}", o["sequencer"]), o


def test_removed_events_and_wildcards(d, lam, s3, sqs):
    fn, url = echo_function(lam, sqs)
    b = unique("rm").lower()
    s3.create_bucket(Bucket=b)
    s3.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration={
        "LambdaFunctionConfigurations": [lambda_config(fn, ["s3:ObjectRemoved:*"], id_="gone")]})
    s3.put_object(Bucket=b, Key="k1", Body=b"x")
    s3.put_object(Bucket=b, Key="k2", Body=b"x")
    s3.delete_object(Bucket=b, Key="k1")
    s3.delete_object(Bucket=b, Key="never-existed")
    s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "k2"}]})
    evs = events_in(sqs, url, 2)
    recs = sorted((e["Records"][0] for e in evs), key=lambda r: r["s3"]["object"]["key"])
    assert [r["s3"]["object"]["key"] for r in recs] == ["k1", "k2"]
    for r in recs:
        assert r["eventName"] == "ObjectRemoved:Delete"
        assert set(r["s3"]["object"]) == {"key", "sequencer"}
    assert recs[0]["s3"]["object"]["sequencer"] != recs[1]["s3"]["object"]["sequencer"]


def test_multipart_and_copy_event_names(d, lam, s3, sqs):
    fn, url = echo_function(lam, sqs)
    b = unique("mpev").lower()
    s3.create_bucket(Bucket=b)
    s3.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration={
        "LambdaFunctionConfigurations": [
            lambda_config(fn, ["s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectCreated:Copy"])]})
    s3.put_object(Bucket=b, Key="plain", Body=b"x")          # Put: not configured
    up = s3.create_multipart_upload(Bucket=b, Key="mp")["UploadId"]
    e = s3.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=1, Body=b"part")["ETag"]
    s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
    s3.copy_object(Bucket=b, Key="copied", CopySource={"Bucket": b, "Key": "plain"})
    names = sorted(ev["Records"][0]["eventName"] for ev in events_in(sqs, url, 2))
    assert names == ["ObjectCreated:CompleteMultipartUpload", "ObjectCreated:Copy"]


def test_queue_configuration_gets_test_event_and_records(d, s3, sqs):
    url, arn = make_queue(sqs)
    b = unique("qb").lower()
    s3.create_bucket(Bucket=b)
    s3.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration={
        "QueueConfigurations": [{"Id": "to-queue", "QueueArn": arn, "Events": ["s3:ObjectCreated:Put"]}]})
    [m] = receive_all(sqs, url, 1)
    t = json.loads(m["Body"])
    assert set(t) == {"Service", "Event", "Time", "Bucket", "RequestId", "HostId"}
    assert t["Service"] == "Amazon S3" and t["Event"] == "s3:TestEvent" and t["Bucket"] == b
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    s3.put_object(Bucket=b, Key="q.txt", Body=b"hi")
    [m] = receive_all(sqs, url, 1)
    rec = json.loads(m["Body"])["Records"][0]
    assert rec["eventName"] == "ObjectCreated:Put" and rec["s3"]["configurationId"] == "to-queue"


def test_refusals_change_nothing(d, lam, s3, sqs):
    fn, _ = echo_function(lam, sqs)
    b = unique("rf").lower()
    s3.create_bucket(Bucket=b)

    def refused(cfg):
        with pytest.raises(ClientError) as e:
            s3.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration=cfg)
        assert e.value.response["Error"]["Code"] == "InvalidArgument", e.value.response
        return e.value.response["Error"]["Message"]

    msg = refused({"LambdaFunctionConfigurations": [lambda_config("no-such-fn", ["s3:ObjectCreated:*"])]})
    assert "Unable to validate the following destination configurations" in msg
    refused({"LambdaFunctionConfigurations": [lambda_config(fn, ["s3:ObjectRestore:Post"])]})
    refused({"LambdaFunctionConfigurations": [
        lambda_config(fn, ["s3:ObjectCreated:*"], "a/", id_="one"),
        lambda_config(fn, ["s3:ObjectCreated:Put"], "a/b/", id_="two")]})
    # a resource policy that does not name S3 refuses the function
    lam.add_permission(FunctionName=fn, StatementId="events-only", Action="lambda:InvokeFunction",
                       Principal="events.amazonaws.com")
    assert "s3.amazonaws.com" in refused(
        {"LambdaFunctionConfigurations": [lambda_config(fn, ["s3:ObjectCreated:*"])]})
    lam.add_permission(FunctionName=fn, StatementId="s3", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{b}")
    s3.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration={
        "LambdaFunctionConfigurations": [lambda_config(fn, ["s3:ObjectCreated:*"])]})
    assert len(s3.get_bucket_notification_configuration(Bucket=b)["LambdaFunctionConfigurations"]) == 1
    # the CLI reads the same configuration
    rc, out, err = d.aws("get-bucket-notification-configuration", "--bucket", b, service="s3api")
    assert rc == 0, err
    assert out["LambdaFunctionConfigurations"][0]["LambdaFunctionArn"] == function_arn(fn)
    s3.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration={})
    assert "LambdaFunctionConfigurations" not in s3.get_bucket_notification_configuration(Bucket=b)


def test_seed_pattern_upload_transform_output(d, lam, s3):
    fn = unique("thumb")
    out_bucket = unique("out").lower()
    # The execution role: read the uploads, write the output (the seed's IAM section).
    key_id, secret = d.admin_keys()
    iam = boto3.client("iam", endpoint_url=d.endpoint, region_name=REGION,
                       aws_access_key_id=key_id, aws_secret_access_key=secret)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": "lambda.amazonaws.com"}}]}
    role = unique("thumb-role")
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=role, PolicyName="s3", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::my-uploads/*"},
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{out_bucket}/*"}]}))
    lam.create_function(FunctionName=fn, Runtime=PY, Role=role_arn, Handler="app.handler",
                        Code={"ZipFile": make_zip({"app.py": TRANSFORM})}, Timeout=60,
                        Environment={"Variables": {"OUTPUT_BUCKET": out_bucket}})
    probe = json.loads(lam.invoke(FunctionName=fn, Payload=b'{"probe": true}')["Payload"].read())
    if not probe.get("endpoint"):
        pytest.skip("functions get no AWS_ENDPOINT_URL yet (the iam helper adds it)")
    assert probe["boto3"], "boto3 is not importable inside the function"
    s3.create_bucket(Bucket="my-uploads")
    s3.create_bucket(Bucket=out_bucket)
    s3.put_bucket_notification_configuration(Bucket="my-uploads", NotificationConfiguration={
        "LambdaFunctionConfigurations": [lambda_config(fn, ["s3:ObjectCreated:*"], "images/", ".jpg")]})
    s3.put_object(Bucket="my-uploads", Key="images/not-an-image.txt", Body=b"skip")
    s3.put_object(Bucket="my-uploads", Key="images/holiday photo.jpg", Body=b"pixels")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            got = s3.get_object(Bucket=out_bucket, Key="thumbs/holiday photo.jpg")
            break
        except ClientError:
            time.sleep(0.5)
    else:
        pytest.fail("the transformed copy never appeared in the output bucket")
    assert got["Body"].read() == b"PIXELS" and got["ContentType"] == "image/jpeg"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=out_bucket).get("Contents", [])]
    assert keys == ["thumbs/holiday photo.jpg"], keys
