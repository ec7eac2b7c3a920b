//! Warm-invoke latency through the Runtime API, beside the bare loopback HTTP floor.
//! Not a test: run on purpose, in release mode:
//!
//! `cargo test --release --test it runtime_clients::bench -- --ignored --nocapture --test-threads 1`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambdabox::runtime::{InitOutcome, InvokeOutcome};

use super::harness::{Env, Runtime};

const N: usize = 20_000;
const PY_N: usize = 5_000;

fn stats(name: &str, mut lat: Vec<Duration>) -> (f64, f64) {
    lat.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let p50 = us(lat[lat.len() / 2]);
    let p99 = us(lat[lat.len() * 99 / 100]);
    let mean = us(lat.iter().sum::<Duration>()) / lat.len() as f64;
    println!(
        "{name:<44} n={:<6} p50={p50:>7.1} us  p99={p99:>7.1} us  mean={mean:>7.1} us",
        lat.len()
    );
    (p50, p99)
}

/// A trivial keep-alive hyper server (same builder settings as the Runtime API) echoing bodies.
fn floor_server(rt: &tokio::runtime::Runtime) -> String {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("addr: {e}"))
        .to_string();
    listener
        .set_nonblocking(true)
        .unwrap_or_else(|e| panic!("nonblocking: {e}"));
    rt.spawn(async move {
        let listener =
            tokio::net::TcpListener::from_std(listener).unwrap_or_else(|e| panic!("adopt: {e}"));
        let mut builder = http1::Builder::new();
        builder.keep_alive(true).auto_date_header(false);
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let conn = builder.serve_connection(
                TokioIo::new(stream),
                service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let body = req
                        .into_body()
                        .collect()
                        .await
                        .map(|c| c.to_bytes())
                        .unwrap_or_default();
                    let body = if body.is_empty() {
                        Bytes::from_static(b"{}")
                    } else {
                        body
                    };
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(body)))
                }),
            );
            tokio::spawn(conn);
        }
    });
    addr
}

/// Minimal blocking HTTP/1.1 exchange on a kept-alive stream: returns (headers, body).
fn exchange(
    stream: &mut BufReader<TcpStream>,
    request: &[u8],
) -> std::io::Result<(String, Vec<u8>)> {
    stream.get_mut().write_all(request)?;
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let len: usize = header(&head, "content-length").parse().unwrap_or(0);
    let mut body = vec![0; len];
    stream.read_exact(&mut body)?;
    Ok((head, body))
}

fn header<'a>(head: &'a str, name: &str) -> &'a str {
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
        .unwrap_or("")
}

/// The tiny Rust echo runtime: GET /next, POST the event back, forever.
fn rust_echo_runtime(addr: String) {
    std::thread::spawn(move || {
        let Ok(stream) = TcpStream::connect(&addr) else {
            return;
        };
        let _ = stream.set_nodelay(true);
        let mut s = BufReader::new(stream);
        let next =
            format!("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: {addr}\r\n\r\n");
        loop {
            let Ok((head, body)) = exchange(&mut s, next.as_bytes()) else {
                return;
            };
            let id = header(&head, "lambda-runtime-aws-request-id").to_owned();
            let mut post = format!(
                "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            post.extend_from_slice(&body);
            if exchange(&mut s, &post).is_err() {
                return;
            }
        }
    });
}

fn drive(env: &Env, n: usize) -> Vec<Duration> {
    let invocations: Vec<_> = (0..n + 500)
        .map(|_| env.invocation(Bytes::from_static(br#"{"hello":"world"}"#)))
        .collect();
    let api = std::sync::Arc::clone(&env.api);
    // Driven from a tokio task, as the engine does (not from the blocking test thread).
    let task = env.rt.spawn(async move {
        let mut lat = Vec::with_capacity(n);
        for (i, inv) in invocations.into_iter().enumerate() {
            let t = Instant::now();
            let out = api.invoke(inv).await;
            if i >= 500 {
                lat.push(t.elapsed());
            }
            assert!(matches!(out, InvokeOutcome::Response(_)), "{out:?}");
        }
        lat
    });
    env.rt
        .block_on(task)
        .unwrap_or_else(|e| panic!("bench task: {e}"))
}

#[test]
#[ignore = "benchmark; run explicitly in release mode"]
fn warm_invoke_latency() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio: {e}"));

    // Floor 1: Rust client, bare loopback keep-alive HTTP round trip to a trivial hyper server.
    let addr = floor_server(&rt);
    let stream = TcpStream::connect(&addr).unwrap_or_else(|e| panic!("connect: {e}"));
    stream
        .set_nodelay(true)
        .unwrap_or_else(|e| panic!("nodelay: {e}"));
    let mut s = BufReader::new(stream);
    let req = format!(
        "POST /x HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 17\r\n\r\n{{\"hello\":\"world\"}}"
    );
    let mut lat = Vec::with_capacity(N);
    let mut lat2 = Vec::with_capacity(N);
    for i in 0..N + 500 {
        let t = Instant::now();
        exchange(&mut s, req.as_bytes()).unwrap_or_else(|e| panic!("floor exchange: {e}"));
        let one = t.elapsed();
        exchange(&mut s, req.as_bytes()).unwrap_or_else(|e| panic!("floor exchange: {e}"));
        if i >= 500 {
            lat.push(one);
            lat2.push(t.elapsed());
        }
    }
    stats("floor: rust client <-> trivial hyper server", lat);
    // One invoke costs two exchanges on the runtime's connection (/next answer + POST, then
    // 202 + the next GET), so this is the like-for-like floor for the echo runtime.
    stats("floor: same, two round trips", lat2);

    // Floor 2: python http.client against the same trivial server.
    let script = format!(
        r#"
import http.client, socket, time
c = http.client.HTTPConnection("{addr}"); c.connect()
c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
lat = []
for i in range({n}):
    t = time.perf_counter()
    c.request("POST", "/x", body=b'{{"hello":"world"}}', headers={{"Content-Type": "application/json"}})
    r = c.getresponse(); r.read()
    if i >= 500: lat.append(time.perf_counter() - t)
lat.sort()
print("%.1f %.1f %.1f" % (lat[len(lat)//2]*1e6, lat[len(lat)*99//100]*1e6, sum(lat)/len(lat)*1e6))
"#,
        n = PY_N + 500
    );
    let out = Command::new("/usr/bin/python3")
        .args(["-c", &script])
        .output();
    if let Ok(out) = out {
        let text = String::from_utf8_lossy(&out.stdout);
        let v: Vec<&str> = text.split_whitespace().collect();
        if v.len() == 3 {
            println!(
                "{:<44} n={:<6} p50={:>7} us  p99={:>7} us  mean={:>7} us",
                "floor: python http.client <-> trivial hyper", PY_N, v[0], v[1], v[2]
            );
        }
    }

    // Floor 3: node http.request with a keep-alive agent against the same trivial server.
    let [host, port] = addr.split(':').collect::<Vec<_>>()[..] else {
        panic!("addr {addr}")
    };
    let js = format!(
        r#"
const http = require("http");
const agent = new http.Agent({{ keepAlive: true, maxSockets: 1 }});
const call = () => new Promise((resolve, reject) => {{
  const req = http.request({{ agent, host: "{host}", port: {port}, method: "POST", path: "/x",
    headers: {{ "Content-Type": "application/json", "Content-Length": 17 }} }}, (res) => {{
    const chunks = []; res.on("data", (c) => chunks.push(c)); res.on("end", () => resolve(Buffer.concat(chunks)));
  }});
  req.setNoDelay(true); req.on("error", reject); req.end('{{"hello":"world"}}');
}});
(async () => {{
  const lat = [];
  for (let i = 0; i < {n}; i++) {{
    const t = process.hrtime.bigint(); await call();
    if (i >= 500) lat.push(Number(process.hrtime.bigint() - t) / 1000);
  }}
  lat.sort((a, b) => a - b);
  console.log(lat[lat.length >> 1].toFixed(1), lat[Math.floor(lat.length * 0.99)].toFixed(1),
    (lat.reduce((a, b) => a + b, 0) / lat.length).toFixed(1));
}})();
"#,
        n = PY_N + 500
    );
    if let Ok(out) = Command::new("/usr/bin/node").args(["-e", &js]).output() {
        let text = String::from_utf8_lossy(&out.stdout);
        let v: Vec<&str> = text.split_whitespace().collect();
        if v.len() == 3 {
            println!(
                "{:<44} n={:<6} p50={:>7} us  p99={:>7} us  mean={:>7} us",
                "floor: node http keep-alive <-> trivial hyper", PY_N, v[0], v[1], v[2]
            );
        }
    }

    // Through the Runtime API: Rust echo runtime.
    let env = Env::start(
        Runtime::Custom(vec!["/bin/sleep".into(), "3600".into()]),
        "x.y",
        &[],
    );
    let api_addr = env_addr(&env);
    rust_echo_runtime(api_addr);
    assert_eq!(env.ready(), InitOutcome::Ready);
    stats("runtime api: rust echo runtime (thread)", drive(&env, N));

    // Through the Runtime API: the embedded python client with an echo handler.
    let py = Env::start(
        Runtime::Python(std::path::Path::new("/usr/bin/python3")),
        "app.handler",
        &[("app.py", "def handler(event, context):\n    return event\n")],
    );
    assert_eq!(py.ready(), InitOutcome::Ready, "{}", py.dump());
    stats(
        "runtime api: embedded python client (echo)",
        drive(&py, PY_N),
    );

    if let Some(node) = super::harness::interpreter("/usr/bin/node") {
        let js = Env::start(
            Runtime::Node(&node),
            "app.handler",
            &[("app.js", "exports.handler = async (event) => event;\n")],
        );
        assert_eq!(js.ready(), InitOutcome::Ready, "{}", js.dump());
        stats("runtime api: embedded node client (echo)", drive(&js, PY_N));
    }
}

fn env_addr(env: &Env) -> String {
    env.runtime_api_addr()
}

/// Wall time of `argv` from spawn to exit.
fn bare_start(argv: &[&str]) -> Duration {
    let t = Instant::now();
    let status = Command::new(argv[0]).args(&argv[1..]).status();
    assert!(status.map(|s| s.success()).unwrap_or(false), "{argv:?}");
    t.elapsed()
}

#[test]
#[ignore = "benchmark; run explicitly in release mode"]
fn cold_start() {
    const RUNS: usize = 30;
    let py = std::path::Path::new("/usr/bin/python3");
    let node = super::harness::interpreter("/usr/bin/node");
    let py_files: &[(&str, &str)] =
        &[("app.py", "def handler(event, context):\n    return event\n")];
    let js_files: &[(&str, &str)] = &[("app.js", "exports.handler = async (e) => e;\n")];
    // Interleaved, so load changes on this shared machine hit both sides alike.
    let (mut py_bare, mut py_cold, mut js_bare, mut js_cold) = (vec![], vec![], vec![], vec![]);
    for _ in 0..RUNS {
        py_bare.push(bare_start(&["/usr/bin/python3", "-s", "-c", "pass"]));
        let env = Env::start(Runtime::Python(py), "app.handler", py_files);
        assert_eq!(env.ready(), InitOutcome::Ready, "{}", env.dump());
        py_cold.push(env.since_spawn());
        if let Some(node) = &node {
            js_bare.push(bare_start(&["/usr/bin/node", "-e", "0"]));
            let env = Env::start(Runtime::Node(node), "app.handler", js_files);
            assert_eq!(env.ready(), InitOutcome::Ready, "{}", env.dump());
            js_cold.push(env.since_spawn());
        }
    }
    stats("bare: python3 -s -c pass (spawn -> exit)", py_bare);
    stats("cold: python client (spawn -> first /next)", py_cold);
    if node.is_some() {
        stats("bare: node -e 0 (spawn -> exit)", js_bare);
        stats("cold: node client (spawn -> first /next)", js_cold);
    }
}
