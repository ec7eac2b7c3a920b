"""Helpers of the S3 suites: boto3 S3 clients against a daemon (path-style), and an
independent SigV4 signer for what botocore will not send over plain HTTP: aws-chunked uploads
(`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, its `-TRAILER` variant, `STREAMING-UNSIGNED-PAYLOAD-
TRAILER`), written from AWS's documentation, not from lambdabox."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import http.client
import urllib.parse
import zlib

import boto3
from botocore.config import Config

EMPTY = hashlib.sha256(b"").hexdigest()


def s3_client(daemon, **config):
    key_id, secret = daemon.admin_keys()
    config.setdefault("retries", {"total_max_attempts": 1})
    config.setdefault("s3", {"addressing_style": "path"})
    return boto3.client(
        "s3",
        endpoint_url=daemon.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(**config),
    )


def _h(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


class Signer:
    """SigV4 for S3 with an explicit x-amz-content-sha256."""

    def __init__(self, key_id: str, secret: str, region: str = "us-east-1"):
        self.key_id, self.secret, self.region = key_id, secret, region
        self.now = datetime.datetime.now(datetime.timezone.utc)
        self.amz_date = self.now.strftime("%Y%m%dT%H%M%SZ")
        self.date = self.amz_date[:8]
        self.scope = f"{self.date}/{region}/s3/aws4_request"
        k = _h(("AWS4" + secret).encode(), self.date)
        k = _h(k, region)
        k = _h(k, "s3")
        self.key = _h(k, "aws4_request")

    def sign(self, method: str, path: str, headers: dict, payload_hash: str) -> str:
        headers = {k.lower(): str(v).strip() for k, v in headers.items()}
        headers["x-amz-date"] = self.amz_date
        headers["x-amz-content-sha256"] = payload_hash
        names = sorted(headers)
        canonical = "\n".join([
            method, path, "",
            "".join(f"{n}:{headers[n]}\n" for n in names),
            ";".join(names), payload_hash,
        ])
        sts = "\n".join(["AWS4-HMAC-SHA256", self.amz_date, self.scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
        sig = hmac.new(self.key, sts.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.key_id}/{self.scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={sig}")
        self.seed = sig
        return headers

    def chunk_sig(self, prev: str, data: bytes) -> str:
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", self.amz_date, self.scope, prev, EMPTY,
                         hashlib.sha256(data).hexdigest()])
        return hmac.new(self.key, sts.encode(), hashlib.sha256).hexdigest()

    def trailer_sig(self, prev: str, trailers: str) -> str:
        sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", self.amz_date, self.scope, prev,
                         hashlib.sha256(trailers.encode()).hexdigest()])
        return hmac.new(self.key, sts.encode(), hashlib.sha256).hexdigest()


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def chunked_put(daemon, bucket: str, key: str, data: bytes, mode: str, chunk: int = 65536,
                tamper: bool = False, crc: str | None = None):
    """PUTs `data` as an aws-chunked body in `mode`; returns (status, headers, body)."""
    key_id, secret = daemon.admin_keys()
    s = Signer(key_id, secret)
    host = daemon.endpoint.split("://", 1)[1]
    path = "/" + bucket + "/" + urllib.parse.quote(key, safe="/~")
    trailer = mode.endswith("-TRAILER")
    headers = {"host": host, "content-encoding": "aws-chunked",
               "x-amz-decoded-content-length": str(len(data))}
    if trailer:
        headers["x-amz-trailer"] = "x-amz-checksum-crc32"
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)]
    # the length of the encoded body is part of the signed request, so build the body first
    # with a placeholder seed, then re-sign: the seed is the header signature
    body = b""
    for attempt in range(2):
        encoded = bytearray()
        prev = getattr(s, "seed", "")
        signed = mode.startswith("STREAMING-AWS4")
        for p in pieces + [b""]:
            if signed:
                sig = s.chunk_sig(prev, p)
                prev = sig
                encoded += f"{len(p):x};chunk-signature={sig}\r\n".encode()
            else:
                encoded += f"{len(p):x}\r\n".encode()
            if p or not trailer:
                encoded += p + b"\r\n"
        if trailer:
            line = f"x-amz-checksum-crc32:{crc or crc32_b64(data)}"
            encoded += (line + "\r\n").encode()
            if signed:
                encoded += f"x-amz-trailer-signature:{s.trailer_sig(prev, line + chr(10))}\r\n".encode()
            encoded += b"\r\n"
        body = bytes(encoded)
        headers["content-length"] = str(len(body))
        if attempt == 0:
            signed_headers = s.sign("PUT", path, headers, mode)
    if tamper:
        # flip a bit of the first payload byte: it follows the first chunk header's CRLF (a
        # search for a data byte could land in the signatures or trailer text instead)
        i = body.index(b"\r\n") + 2
        body = body[:i] + bytes([body[i] ^ 1]) + body[i + 1:]
    conn = http.client.HTTPConnection(host, timeout=30)
    conn.request("PUT", path, body=body, headers=signed_headers)
    r = conn.getresponse()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    conn.close()
    return out
