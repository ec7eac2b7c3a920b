//! Attacks on the daemon's own surfaces, through the real `lambdabox serve` and real functions:
//! the Runtime API (connection flood, endless headers), the main port (connections held per
//! client), work between invocations (freezing), and host facts visible inside.
//!
//! Helpers: create a python function from files, invoke it, read the daemon's fd count and RSS.

mod flood;
mod freeze;
mod hostfacts;
mod mainport;
mod spares;

use std::io::Write;
use std::time::Duration;

use crate::fixture::Daemon;

/// A zip of `(name, contents)` entries, all world-readable (`bootstrap` executable).
pub fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        for (name, data) in files {
            let mode = if *name == "bootstrap" { 0o755 } else { 0o644 };
            let opts = zip::write::SimpleFileOptions::default().unix_permissions(mode);
            w.start_file(*name, opts).expect("zip entry");
            w.write_all(data.as_bytes()).expect("zip data");
        }
        w.finish().expect("zip finish");
    }
    buf.into_inner()
}

/// Creates a python3.11 function `name` (handler `app.handler`) from `app_py`.
pub fn create_python(d: &Daemon, name: &str, app_py: &str, memory: u32, timeout: u32) {
    create(
        d,
        name,
        "python3.11",
        "app.handler",
        &zip_of(&[("app.py", app_py)]),
        memory,
        timeout,
    );
}

/// Creates a function from a zip.
pub fn create(
    d: &Daemon,
    name: &str,
    runtime: &str,
    handler: &str,
    zip: &[u8],
    memory: u32,
    timeout: u32,
) {
    use base64::Engine as _;
    let body = serde_json::json!({
        "FunctionName": name,
        "Runtime": runtime,
        "Handler": handler,
        "Role": "arn:aws:iam::000000000000:role/lambda",
        "Code": {"ZipFile": base64::engine::general_purpose::STANDARD.encode(zip)},
        "MemorySize": memory,
        "Timeout": timeout,
    });
    let resp = d.signed(
        "POST",
        "/2015-03-31/functions",
        body.to_string().as_bytes(),
        "us-east-1",
    );
    let status = resp.status();
    let text = resp.text().unwrap_or_default();
    assert_eq!(status, 201, "create {name}: {text}");
}

/// Invokes `name` with `payload`; (status, function error header, body).
pub fn invoke(
    d: &Daemon,
    name: &str,
    payload: &serde_json::Value,
) -> (u16, Option<String>, String) {
    let path = format!("/2015-03-31/functions/{name}/invocations");
    let resp = d.signed("POST", &path, payload.to_string().as_bytes(), "us-east-1");
    let status = resp.status().as_u16();
    let err = resp
        .headers()
        .get("x-amz-function-error")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, err, resp.text().unwrap_or_default())
}

/// What another thread needs to invoke functions of a daemon (`Daemon` is not `Sync`).
#[derive(Clone)]
pub struct Caller {
    endpoint: String,
    key: (String, String),
}

impl Caller {
    pub fn of(d: &Daemon) -> Caller {
        Caller {
            endpoint: d.endpoint.clone(),
            key: d.admin_key(),
        }
    }

    /// Invokes `name`; (status, body). Waits up to 120 s.
    pub fn invoke(&self, name: &str, payload: &serde_json::Value) -> (u16, String) {
        let path = format!("/2015-03-31/functions/{name}/invocations");
        let body = payload.to_string();
        let host = self.endpoint.trim_start_matches("http://");
        let headers = crate::fixture::sigv4_headers(
            "POST",
            host,
            &path,
            body.as_bytes(),
            &self.key.0,
            &self.key.1,
            "us-east-1",
        );
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("client");
        let mut req = client.post(format!("{}{path}", self.endpoint));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        match req.body(body).send() {
            Ok(r) => (r.status().as_u16(), r.text().unwrap_or_default()),
            Err(e) => (0, e.to_string()),
        }
    }
}

/// Invokes and parses a successful JSON answer.
#[track_caller]
pub fn invoke_ok(d: &Daemon, name: &str, payload: &serde_json::Value) -> serde_json::Value {
    let (status, err, body) = invoke(d, name, payload);
    assert!(
        status == 200 && err.is_none(),
        "invoke {name}: {status} {err:?} {body}"
    );
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("invoke {name}: {e}: {body}"))
}

/// Open fds of a process.
pub fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Resident set size of a process, in bytes.
pub fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// A daemon for these tests; `adjust` adds environment variables (config keys).
pub fn daemon(env: &[(&str, &str)]) -> Daemon {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Daemon::start_with(move |cmd| {
        for (k, v) in env {
            cmd.env(k, v);
        }
    })
}
