"""Response streaming (issue 17 part 5): a node `awslambda.streamifyResponse` function that
writes 10 chunks 100 ms apart, read through a `RESPONSE_STREAM` function URL by curl
(`--no-buffer`, arrival times recorded) and through boto3's `invoke_with_response_stream`
(PayloadChunk events as they come, then InvokeComplete); an error thrown mid-stream
(InvokeComplete ErrorCode); a `provided.al2023` bootstrap in Python that streams by doing the
chunked HTTP itself, trailers included; a buffered function answering in one PayloadChunk;
plain Invoke of a streaming function (buffered); unknown function → 404."""

import base64
import json
import subprocess
import time

import pytest
from botocore.exceptions import ClientError

from conftest import unique
from invoke_support import create_function

NODE_STREAM = r'''
exports.handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  const q = event.queryStringParameters || {};
  const mode = q.mode || event.mode || "plain";
  if (mode === "http") {
    responseStream = awslambda.HttpResponseStream.from(responseStream, {
      statusCode: 201,
      headers: { "Content-Type": "text/plain", "X-Stream": "yes" },
      cookies: ["s=1; Path=/"],
    });
  } else {
    responseStream.setContentType("text/plain");
  }
  for (let i = 0; i < 10; i++) {
    if (mode === "fail" && i === 3) throw new Error("broke at 3");
    responseStream.write(`chunk ${i} ${context.awsRequestId}\n`);
    await new Promise((r) => setTimeout(r, 100));
  }
  responseStream.end();
});
'''

PROVIDED_BOOTSTRAP = r'''#!/usr/bin/python3
import base64, http.client, json, os, time

host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
api = http.client.HTTPConnection(host, int(port))
while True:
    api.request("GET", "/2018-06-01/runtime/invocation/next")
    r = api.getresponse()
    event = json.loads(r.read())
    rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
    s = http.client.HTTPConnection(host, int(port))
    s.putrequest("POST", f"/2018-06-01/runtime/invocation/{rid}/response")
    s.putheader("Lambda-Runtime-Function-Response-Mode", "streaming")
    s.putheader("Transfer-Encoding", "chunked")
    s.putheader("Trailer", "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body")
    s.putheader("Content-Type", "text/plain")
    s.endheaders()
    for i in range(5):
        data = f"part {i}\n".encode()
        s.send(b"%x\r\n%s\r\n" % (len(data), data))
        time.sleep(0.1)
    if event.get("fail"):
        doc = base64.b64encode(json.dumps({"errorType": "Custom.Failure", "errorMessage": "gave up"}).encode())
        s.send(b"0\r\nLambda-Runtime-Function-Error-Type: Custom.Failure\r\n"
               b"Lambda-Runtime-Function-Error-Body: " + doc + b"\r\n\r\n")
    else:
        s.send(b"0\r\n\r\n")
    answer = s.getresponse()
    answer.read()
    s.close()
    assert answer.status == 202, answer.status
'''

BUFFERED_PY = "def handler(e, c):\n    return {'a': 1, 'echo': e}\n"


@pytest.fixture(scope="module")
def lam(daemon):
    return daemon.client()


@pytest.fixture(scope="module")
def node_stream(lam):
    return create_function(lam, {"index.js": NODE_STREAM}, runtime="nodejs20.x",
                           handler="index.handler", Timeout=10)


def read_stream(resp):
    """(chunks with arrival times, the InvokeComplete event) of an invoke_with_response_stream."""
    chunks, complete = [], None
    for ev in resp["EventStream"]:
        if "PayloadChunk" in ev:
            chunks.append((time.monotonic(), ev["PayloadChunk"]["Payload"]))
        elif "InvokeComplete" in ev:
            assert complete is None
            complete = ev["InvokeComplete"]
    assert complete is not None, "no InvokeComplete event"
    return chunks, complete


def assert_spread(times, n, min_span=0.6):
    """The n arrivals are spread over the stream's life, not bunched at its end."""
    assert len(times) >= n, times
    span = times[-1] - times[0]
    assert span >= min_span, f"all chunks arrived within {span:.3f} s: {times}"
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert sum(g > 0.04 for g in gaps) >= n // 2, gaps


def test_function_url_streams_chunks_as_they_come(lam, node_stream, tmp_path):
    url = lam.create_function_url_config(FunctionName=node_stream, AuthType="NONE",
                                         InvokeMode="RESPONSE_STREAM")
    assert url["InvokeMode"] == "RESPONSE_STREAM"
    assert lam.get_function_url_config(FunctionName=node_stream)["InvokeMode"] == "RESPONSE_STREAM"
    heads = tmp_path / "headers"
    p = subprocess.Popen(["curl", "-sS", "--no-buffer", "-D", str(heads), url["FunctionUrl"] + "x?mode=http"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = []
    t0 = time.monotonic()
    for line in p.stdout:
        lines.append((time.monotonic(), line))
    assert p.wait(timeout=30) == 0, p.stderr.read()
    total = time.monotonic() - t0
    assert [l.split()[:2] for _, l in lines] == [[b"chunk", str(i).encode()] for i in range(10)], lines
    assert_spread([t for t, _ in lines], 10)
    # The first chunk came long before the stream ended.
    assert lines[0][0] - t0 < total - 0.6, (lines[0][0] - t0, total)
    head = heads.read_text().lower()
    assert head.startswith("http/1.1 201"), head
    assert "x-stream: yes" in head and "content-type: text/plain" in head
    assert "set-cookie: s=1; path=/" in head
    assert "transfer-encoding: chunked" in head

    # Without a prelude: 200 with the stream's content type; the body is the bytes written.
    out = subprocess.run(["curl", "-sS", "-D", "-", url["FunctionUrl"]], capture_output=True, timeout=30)
    head, _, body = out.stdout.partition(b"\r\n\r\n")
    assert head.lower().startswith(b"http/1.1 200") and b"content-type: text/plain" in head.lower(), head
    assert body.count(b"chunk ") == 10


def test_boto3_invoke_with_response_stream(lam, node_stream):
    resp = lam.invoke_with_response_stream(FunctionName=node_stream, Payload=json.dumps({"mode": "plain"}),
                                           LogType="Tail")
    assert resp["StatusCode"] == 200
    assert resp["ExecutedVersion"] == "$LATEST"
    assert resp["ResponseStreamContentType"] == "application/vnd.amazon.eventstream"
    rid = resp["ResponseMetadata"]["RequestId"]
    chunks, complete = read_stream(resp)
    text = b"".join(c for _, c in chunks).decode()
    assert text == "".join(f"chunk {i} {rid}\n" for i in range(10))
    assert_spread([t for t, _ in chunks], 10)
    assert "ErrorCode" not in complete, complete
    log = base64.b64decode(complete["LogResult"]).decode()
    assert f"REPORT RequestId: {rid}" in log, log


def test_streamed_error_midway_gives_error_code(lam, node_stream):
    resp = lam.invoke_with_response_stream(FunctionName=node_stream, Payload=json.dumps({"mode": "fail"}))
    chunks, complete = read_stream(resp)
    text = b"".join(c for _, c in chunks).decode()
    assert [l.split()[1] for l in text.splitlines()] == ["0", "1", "2"], text
    assert complete["ErrorCode"] == "Error", complete
    details = json.loads(complete["ErrorDetails"])
    assert details["errorType"] == "Error" and details["errorMessage"] == "broke at 3", details
    assert "LogResult" not in complete
    # The environment stays usable.
    again = read_stream(lam.invoke_with_response_stream(FunctionName=node_stream, Payload=b"{}"))
    assert len(again[0]) == 10 and "ErrorCode" not in again[1]


def test_plain_invoke_of_a_streaming_function_is_buffered(lam, node_stream):
    r = lam.invoke(FunctionName=node_stream, Payload=b"{}")
    assert r["StatusCode"] == 200 and "FunctionError" not in r
    body = r["Payload"].read().decode()
    assert body.count("chunk ") == 10 and body.startswith("chunk 0 ")


def test_provided_runtime_streams_with_its_own_http(lam):
    name = create_function(lam, {"bootstrap": PROVIDED_BOOTSTRAP}, executables=("bootstrap",),
                           runtime="provided.al2023", handler="bootstrap", Timeout=10)
    chunks, complete = read_stream(lam.invoke_with_response_stream(FunctionName=name, Payload=b"{}"))
    assert b"".join(c for _, c in chunks) == b"".join(b"part %d\n" % i for i in range(5))
    assert_spread([t for t, _ in chunks], 5, min_span=0.3)
    assert "ErrorCode" not in complete, complete
    chunks, complete = read_stream(lam.invoke_with_response_stream(FunctionName=name, Payload=b'{"fail": true}'))
    assert len(chunks) == 5
    assert complete["ErrorCode"] == "Custom.Failure", complete
    assert json.loads(complete["ErrorDetails"]) == {"errorType": "Custom.Failure", "errorMessage": "gave up"}


def test_buffered_function_answers_in_one_chunk(lam):
    name = create_function(lam, {"app.py": BUFFERED_PY})
    chunks, complete = read_stream(lam.invoke_with_response_stream(FunctionName=name, Payload=b'{"k": 2}'))
    assert len(chunks) == 1, chunks
    assert json.loads(chunks[0][1]) == {"a": 1, "echo": {"k": 2}}
    assert complete == {}
    # Through a RESPONSE_STREAM URL, the one-piece answer is mapped like a BUFFERED one.
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE", InvokeMode="RESPONSE_STREAM")
    out = subprocess.run(["curl", "-sS", url["FunctionUrl"]], capture_output=True, timeout=30)
    assert json.loads(out.stdout)["a"] == 1
    # DryRun checks the function only.
    dry = lam.invoke_with_response_stream(FunctionName=name, InvocationType="DryRun")
    assert dry["StatusCode"] == 204


def test_unknown_function_is_404(lam):
    with pytest.raises(ClientError) as e:
        lam.invoke_with_response_stream(FunctionName=unique("missing"), Payload=b"{}")
    err = e.value.response
    assert err["Error"]["Code"] == "ResourceNotFoundException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as e:
        lam.invoke_with_response_stream(FunctionName=unique("x"), Payload=b"not json")
    assert e.value.response["Error"]["Code"] == "InvalidRequestContentException"


NODE_BIG = r'''
exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const q = event.queryStringParameters || {};
  const mb = Number(q.mb || event.mb || 10);
  responseStream.setContentType("application/octet-stream");
  const block = Buffer.alloc(256 * 1024, 0x61);
  for (let i = 0; i < mb * 4; i++) {
    if (!responseStream.write(block)) await new Promise((r) => responseStream.once("drain", r));
  }
  responseStream.end();
});
'''

NODE_HANG = r'''
exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.setContentType("text/plain");
  for (let i = 0; i < 3; i++) {
    responseStream.write(`part ${i}\n`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise(() => {});
});
'''

MB = 1024 * 1024


def test_bandwidth_cap_after_six_megabytes(lam):
    """10 MB streamed as fast as the function can: the first 6 MB go out at once, the last 4 MB
    at 2 MB/s at most, so the whole stream takes at least 2 s (and ends, well bounded)."""
    name = create_function(lam, {"index.js": NODE_BIG}, runtime="nodejs20.x",
                           handler="index.handler", Timeout=60, MemorySize=512)
    t0 = time.monotonic()
    resp = lam.invoke_with_response_stream(FunctionName=name, Payload=json.dumps({"mb": 10}))
    got, six_at, complete = 0, None, None
    for ev in resp["EventStream"]:
        if "PayloadChunk" in ev:
            got += len(ev["PayloadChunk"]["Payload"])
            if six_at is None and got >= 6 * MB:
                six_at = time.monotonic()
        elif "InvokeComplete" in ev:
            complete = ev["InvokeComplete"]
    end = time.monotonic()
    assert got == 10 * MB and complete is not None and "ErrorCode" not in complete, (got, complete)
    assert end - t0 >= 1.9, f"10 MB in {end - t0:.2f} s: faster than 6 MB + 4 MB at 2 MB/s"
    assert end - six_at >= 1.8, f"the last 4 MB took {end - six_at:.2f} s"
    assert end - t0 < 30, end - t0

    # The same cap through a RESPONSE_STREAM function URL (curl's own timing).
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE", InvokeMode="RESPONSE_STREAM")
    out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{size_download} %{time_total}",
                          url["FunctionUrl"] + "?mb=8"], capture_output=True, timeout=60, text=True)
    size, total = out.stdout.split()
    assert int(size) == 8 * MB, out
    assert 0.9 <= float(total) < 30, f"8 MB in {total} s (2 MB past the cap need 1 s)"


def test_timeout_mid_stream_ends_the_stream_with_the_error(lam):
    name = create_function(lam, {"index.js": NODE_HANG}, runtime="nodejs20.x",
                           handler="index.handler", Timeout=2)
    t0 = time.monotonic()
    chunks, complete = read_stream(lam.invoke_with_response_stream(FunctionName=name, Payload=b"{}"))
    assert time.monotonic() - t0 < 15
    assert b"".join(c for _, c in chunks) == b"part 0\npart 1\npart 2\n"
    assert complete["ErrorCode"] == "Sandbox.Timedout", complete
    assert "Task timed out after 2" in complete["ErrorDetails"], complete

    # Through a RESPONSE_STREAM URL: the status line and the first parts came, then the
    # connection ends without the chunked body's end (curl: exit 18, transfer closed).
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE", InvokeMode="RESPONSE_STREAM")
    out = subprocess.run(["curl", "-sS", "-D", "-", url["FunctionUrl"]], capture_output=True, timeout=30)
    assert out.returncode in (18, 56), (out.returncode, out.stderr)
    head, _, body = out.stdout.partition(b"\r\n\r\n")
    assert head.lower().startswith(b"http/1.1 200"), head
    assert body == b"part 0\npart 1\npart 2\n", body
