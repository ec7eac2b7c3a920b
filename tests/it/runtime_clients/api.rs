//! The Runtime API on the wire, driven by a plain HTTP client standing in for a runtime.

use std::time::Duration;

use bytes::Bytes;
use lambdabox::runtime::{EnvInfo, InitOutcome, Invocation, InvokeOutcome, RuntimeApi};
use reqwest::blocking::Client;

struct Server {
    rt: tokio::runtime::Runtime,
    api: std::sync::Arc<RuntimeApi>,
    base: String,
    http: Client,
}

fn server() -> Server {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio: {e}"));
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let base = format!(
        "http://{}",
        listener
            .local_addr()
            .unwrap_or_else(|e| panic!("addr: {e}"))
    );
    let info = EnvInfo {
        function_name: "hello".into(),
        function_version: "$LATEST".into(),
        handler: "app.handler".into(),
        account_id: "000000000000".into(),
        ..EnvInfo::default()
    };
    let api = {
        let _g = rt.enter();
        RuntimeApi::serve(listener, info).unwrap_or_else(|e| panic!("serve: {e}"))
    };
    let http = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"));
    Server {
        rt,
        api: std::sync::Arc::new(api),
        base,
        http,
    }
}

fn invocation(id: &str) -> Invocation {
    Invocation {
        request_id: id.into(),
        payload: Bytes::from_static(br#"{"k":1}"#),
        deadline_ms: 1_700_000_000_000,
        invoked_function_arn: "arn:aws:lambda:us-east-1:000000000000:function:hello".into(),
        trace_id: "Root=1-5e1b4151-5ac6c58f5b5dbd3b2d9e8a1c;Parent=1;Sampled=0".into(),
        client_context: None,
        cognito_identity: Some(r#"{"cognitoIdentityId":"i"}"#.into()),
        stream: None,
    }
}

impl Server {
    fn spawn_invoke(&self, inv: Invocation) -> tokio::task::JoinHandle<InvokeOutcome> {
        let api = std::sync::Arc::clone(&self.api);
        self.rt.spawn(async move { api.invoke(inv).await })
    }

    fn outcome(&self, h: tokio::task::JoinHandle<InvokeOutcome>) -> InvokeOutcome {
        self.rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(10), h).await })
            .unwrap_or_else(|_| panic!("invoke timed out"))
            .unwrap_or_else(|e| panic!("join: {e}"))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn body_json(resp: reqwest::blocking::Response) -> serde_json::Value {
    resp.json().unwrap_or_else(|e| panic!("json: {e}"))
}

#[test]
fn next_headers_response_and_state_errors() {
    let s = server();
    let pending = s.spawn_invoke(invocation("req-1"));
    let next = s
        .http
        .get(s.url("/2018-06-01/runtime/invocation/next"))
        .send()
        .unwrap_or_else(|e| panic!("next: {e}"));
    assert_eq!(next.status(), 200);
    let h = next.headers();
    assert_eq!(h["lambda-runtime-aws-request-id"], "req-1");
    assert_eq!(h["lambda-runtime-deadline-ms"], "1700000000000");
    assert_eq!(
        h["lambda-runtime-invoked-function-arn"],
        "arn:aws:lambda:us-east-1:000000000000:function:hello"
    );
    assert_eq!(
        h["lambda-runtime-trace-id"],
        "Root=1-5e1b4151-5ac6c58f5b5dbd3b2d9e8a1c;Parent=1;Sampled=0"
    );
    assert_eq!(
        h["lambda-runtime-cognito-identity"],
        r#"{"cognitoIdentityId":"i"}"#
    );
    assert!(
        h.get("lambda-runtime-client-context").is_none(),
        "empty headers are omitted"
    );
    assert_eq!(h["content-type"], "application/json");
    assert_eq!(
        next.bytes().unwrap_or_default(),
        Bytes::from_static(br#"{"k":1}"#)
    );
    assert_eq!(s.rt.block_on(s.api.wait_ready()), InitOutcome::Ready);

    let wrong = s
        .http
        .post(s.url("/2018-06-01/runtime/invocation/nope/response"))
        .body("1")
        .send()
        .unwrap_or_else(|e| panic!("post: {e}"));
    assert_eq!(wrong.status(), 400);
    assert_eq!(
        body_json(wrong),
        serde_json::json!({"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})
    );

    let ok = s
        .http
        .post(s.url("/2018-06-01/runtime/invocation/req-1/response"))
        .body("42")
        .send()
        .unwrap_or_else(|e| panic!("post: {e}"));
    assert_eq!(ok.status(), 202);
    assert_eq!(ok.text().unwrap_or_default(), r#"{"status":"OK"}"#);
    assert_eq!(
        s.outcome(pending),
        InvokeOutcome::Response(Bytes::from_static(b"42"))
    );

    let again = s
        .http
        .post(s.url("/2018-06-01/runtime/invocation/req-1/response"))
        .body("43")
        .send()
        .unwrap_or_else(|e| panic!("post: {e}"));
    assert_eq!(again.status(), 403);
    assert_eq!(body_json(again)["errorType"], "InvalidStateTransition");

    let late_init = s
        .http
        .post(s.url("/2018-06-01/runtime/init/error"))
        .body("{}")
        .send()
        .unwrap_or_else(|e| panic!("post: {e}"));
    assert_eq!(late_init.status(), 403);

    let unknown = s
        .http
        .get(s.url("/2018-06-01/runtime/whatever"))
        .send()
        .unwrap_or_else(|e| panic!("get: {e}"));
    assert_eq!(unknown.status(), 404);
    let wrong_method = s
        .http
        .post(s.url("/2018-06-01/runtime/invocation/next"))
        .send()
        .unwrap_or_else(|e| panic!("post: {e}"));
    assert_eq!(wrong_method.status(), 405);
}

#[test]
fn error_post_and_too_large_response() {
    let s = server();
    let pending = s.spawn_invoke(invocation("req-1"));
    let next = s
        .http
        .get(s.url("/2018-06-01/runtime/invocation/next"))
        .send();
    assert_eq!(next.map(|r| r.status().as_u16()).ok(), Some(200));
    let err = s
        .http
        .post(s.url("/2018-06-01/runtime/invocation/req-1/error"))
        .header("Lambda-Runtime-Function-Error-Type", "Unhandled")
        .body(r#"{"errorMessage":"x","errorType":"E"}"#)
        .send()
        .unwrap_or_else(|e| panic!("post: {e}"));
    assert_eq!(err.status(), 202);
    assert_eq!(
        s.outcome(pending),
        InvokeOutcome::Error {
            error_type: Some("Unhandled".into()),
            body: Bytes::from_static(br#"{"errorMessage":"x","errorType":"E"}"#)
        }
    );

    let pending = s.spawn_invoke(invocation("req-2"));
    let next = s
        .http
        .get(s.url("/2018-06-01/runtime/invocation/next"))
        .send();
    assert_eq!(next.map(|r| r.status().as_u16()).ok(), Some(200));
    let big = s
        .http
        .post(s.url("/2018-06-01/runtime/invocation/req-2/response"))
        .body(vec![b'x'; 6_291_557])
        .send()
        .unwrap_or_else(|e| panic!("post: {e}"));
    assert_eq!(big.status(), 413);
    assert_eq!(
        body_json(big),
        serde_json::json!({"errorMessage": "Exceeded maximum allowed payload size (6291556 bytes).", "errorType": "RequestEntityTooLarge"})
    );
    assert_eq!(s.outcome(pending), InvokeOutcome::ResponseTooLarge);

    // exactly at the limit is fine
    let pending = s.spawn_invoke(invocation("req-3"));
    let next = s
        .http
        .get(s.url("/2018-06-01/runtime/invocation/next"))
        .send();
    assert_eq!(next.map(|r| r.status().as_u16()).ok(), Some(200));
    let at_limit = s
        .http
        .post(s.url("/2018-06-01/runtime/invocation/req-3/response"))
        .body(vec![b'x'; 6_291_556])
        .send()
        .unwrap_or_else(|e| panic!("post: {e}"));
    assert_eq!(at_limit.status(), 202);
    assert!(matches!(s.outcome(pending), InvokeOutcome::Response(b) if b.len() == 6_291_556));
}

#[test]
fn init_error_then_invoke_and_shutdown() {
    let s = server();
    let init = s
        .http
        .post(s.url("/2018-06-01/runtime/init/error"))
        .header(
            "Lambda-Runtime-Function-Error-Type",
            "Runtime.ImportModuleError",
        )
        .body(r#"{"errorMessage":"m","errorType":"Runtime.ImportModuleError"}"#)
        .send()
        .unwrap_or_else(|e| panic!("post: {e}"));
    assert_eq!(init.status(), 202);
    match s.rt.block_on(s.api.wait_ready()) {
        InitOutcome::InitError { error_type, .. } => {
            assert_eq!(error_type, "Runtime.ImportModuleError")
        }
        other => panic!("{other:?}"),
    }
    let pending = s.spawn_invoke(invocation("req-1"));
    assert!(
        matches!(s.outcome(pending), InvokeOutcome::Error { error_type: Some(t), .. } if t == "Runtime.ImportModuleError")
    );
    s.api.shutdown();
    let pending = s.spawn_invoke(invocation("req-2"));
    assert_eq!(s.outcome(pending), InvokeOutcome::Closed);
}

#[test]
fn shutdown_before_ready_and_while_invoking() {
    let s = server();
    let pending = s.spawn_invoke(invocation("req-1"));
    s.api.shutdown();
    assert_eq!(s.outcome(pending), InvokeOutcome::Closed);
    assert_eq!(s.rt.block_on(s.api.wait_ready()), InitOutcome::Closed);
}

#[test]
fn extensions_register_poll_and_subscriptions() {
    let s = server();
    let reg = s
        .http
        .post(s.url("/2020-01-01/extension/register"))
        .header("Lambda-Extension-Name", "ext")
        .header("Lambda-Extension-Accept-Feature", "accountId")
        .body(r#"{"events":["INVOKE","SHUTDOWN"]}"#)
        .send()
        .unwrap_or_else(|e| panic!("register: {e}"));
    assert_eq!(reg.status(), 200);
    let id = reg.headers()["lambda-extension-identifier"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(id.len(), 36);
    assert_eq!(
        body_json(reg),
        serde_json::json!({"functionName": "hello", "functionVersion": "$LATEST", "handler": "app.handler", "accountId": "000000000000"})
    );
    for path in ["/2020-08-15/logs", "/2022-07-01/telemetry"] {
        let sub = s
            .http
            .put(s.url(path))
            .header("Lambda-Extension-Identifier", &id)
            .body("{}")
            .send()
            .unwrap_or_else(|e| panic!("subscribe: {e}"));
        assert_eq!(sub.status(), 200, "{path}");
    }
    let anonymous = s.http.get(s.url("/2020-01-01/extension/event/next")).send();
    assert_eq!(anonymous.map(|r| r.status().as_u16()).ok(), Some(403));

    let http = s.http.clone();
    let url = s.url("/2020-01-01/extension/event/next");
    let poll = std::thread::spawn(move || {
        http.get(url)
            .header("Lambda-Extension-Identifier", id)
            .send()
            .map(|r| (r.status().as_u16(), r.text().unwrap_or_default()))
    });
    std::thread::sleep(Duration::from_millis(100));
    assert!(!poll.is_finished(), "event/next parks until shutdown");
    s.api.shutdown();
    let (status, body) = poll
        .join()
        .unwrap_or_else(|_| panic!("poll thread"))
        .unwrap_or_else(|e| panic!("poll: {e}"));
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    assert_eq!(v["eventType"], "SHUTDOWN");
}

/// Writes `head` (and later pieces) on a raw connection, standing in for a streaming runtime.
fn raw(s: &Server) -> std::net::TcpStream {
    let addr = s.base.trim_start_matches("http://");
    let c = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect: {e}"));
    c.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap_or_else(|e| panic!("timeout: {e}"));
    c
}

fn send(c: &mut std::net::TcpStream, bytes: &[u8]) {
    use std::io::Write;
    c.write_all(bytes).unwrap_or_else(|e| panic!("write: {e}"));
}

fn status_line(c: &mut std::net::TcpStream) -> String {
    use std::io::Read;
    let mut buf = [0u8; 512];
    let n = c.read(&mut buf).unwrap_or_else(|e| panic!("read: {e}"));
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

const STREAM_HEAD: &str = "Host: x\r\nLambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\nTrailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n";

#[test]
fn streamed_response_is_forwarded_as_it_arrives_with_error_trailers() {
    use lambdabox::runtime::api::stream::{channel, StreamEnd, StreamPart};
    let s = server();
    let (sink, mut parts) = channel();
    let mut inv = invocation("req-s");
    inv.stream = Some(sink);
    let pending = s.spawn_invoke(inv);
    let next = s
        .http
        .get(s.url("/2018-06-01/runtime/invocation/next"))
        .send()
        .unwrap_or_else(|e| panic!("next: {e}"));
    assert_eq!(next.status(), 200);
    let mut c = raw(&s);
    send(
        &mut c,
        format!("POST /2018-06-01/runtime/invocation/req-s/response HTTP/1.1\r\n{STREAM_HEAD}5\r\nhello\r\n").as_bytes(),
    );
    let recv = |parts: &mut tokio::sync::mpsc::Receiver<StreamPart>| {
        s.rt.block_on(async { tokio::time::timeout(Duration::from_secs(5), parts.recv()).await })
            .unwrap_or_else(|_| panic!("no part forwarded while the body is still open"))
    };
    assert_eq!(
        recv(&mut parts),
        Some(StreamPart::Head {
            content_type: Some("text/plain".into()),
            version: "$LATEST".into()
        })
    );
    assert_eq!(
        recv(&mut parts),
        Some(StreamPart::Data(Bytes::from_static(b"hello")))
    );
    send(&mut c, b"6\r\n world\r\n");
    assert_eq!(
        recv(&mut parts),
        Some(StreamPart::Data(Bytes::from_static(b" world")))
    );
    // {"errorType":"Boom"} in base64.
    send(
        &mut c,
        b"0\r\nLambda-Runtime-Function-Error-Type: Boom\r\nLambda-Runtime-Function-Error-Body: eyJlcnJvclR5cGUiOiJCb29tIn0=\r\n\r\n",
    );
    assert!(status_line(&mut c).starts_with("HTTP/1.1 202"));
    assert_eq!(
        s.outcome(pending),
        InvokeOutcome::Streamed(StreamEnd {
            bytes: 11,
            error: Some((
                "Boom".into(),
                Bytes::from_static(br#"{"errorType":"Boom"}"#)
            )),
            too_large: false,
        })
    );
    assert_eq!(recv(&mut parts), None, "the sink closes with the answer");
}

#[test]
fn streamed_response_without_a_sink_is_buffered_and_bad_modes_are_refused() {
    let s = server();
    let pending = s.spawn_invoke(invocation("req-b"));
    let next = s
        .http
        .get(s.url("/2018-06-01/runtime/invocation/next"))
        .send()
        .unwrap_or_else(|e| panic!("next: {e}"));
    assert_eq!(next.status(), 200);
    let bad = s
        .http
        .post(s.url("/2018-06-01/runtime/invocation/req-b/response"))
        .header("Lambda-Runtime-Function-Response-Mode", "buffered-please")
        .body("1")
        .send()
        .unwrap_or_else(|e| panic!("post: {e}"));
    assert_eq!(bad.status(), 400);
    assert_eq!(body_json(bad)["errorType"], "InvalidResponseModeHeader");
    let mut c = raw(&s);
    send(
        &mut c,
        format!("POST /2018-06-01/runtime/invocation/req-b/response HTTP/1.1\r\n{STREAM_HEAD}3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").as_bytes(),
    );
    assert!(status_line(&mut c).starts_with("HTTP/1.1 202"));
    assert_eq!(
        s.outcome(pending),
        InvokeOutcome::Response(Bytes::from_static(b"abcde"))
    );
}
