//! The test fixture: a real `lambdabox serve` process on `127.0.0.1:0` with a temporary data
//! directory. It waits for the `listening on http://HOST:PORT` line, captures the daemon's
//! stderr, kills the process on drop, and prints the captured log when the test panicked.
//!
//! Requests are signed with a small SigV4 implementation written here from the AWS
//! specification, independent of the daemon's own verifier.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_lambdabox");
/// How long the daemon may take to print its listening line.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A `lambdabox` command with a clean environment: the caller's `LAMBDABOX_*` variables
/// (the test runner exports some) would otherwise become config keys.
pub fn command() -> Command {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("LAMBDABOX_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Runs a `lambdabox` command to completion, killing it after `timeout`.
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn lambdabox");
    let (out, out_done) = drain_joinable(child.stdout.take().expect("stdout"));
    let (err, err_done) = drain_joinable(child.stderr.take().expect("stderr"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "lambdabox {cmd:?} still running after {timeout:?}; stderr:\n{}",
                String::from_utf8_lossy(&err.lock().expect("log").clone())
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    // The reader threads end at EOF; a process the command left running (holding the pipes)
    // must not hang the test, so the wait is bounded.
    let eof_by = Instant::now() + Duration::from_secs(10);
    while !(out_done.is_finished() && err_done.is_finished()) && Instant::now() < eof_by {
        thread::sleep(Duration::from_millis(5));
    }
    let stdout = out.lock().expect("out").clone();
    let stderr = err.lock().expect("err").clone();
    Output {
        status,
        stdout,
        stderr,
    }
}

fn drain(r: impl Read + Send + 'static) -> Arc<Mutex<Vec<u8>>> {
    drain_joinable(r).0
}

/// Like [`drain`], with the reader thread's handle (finished once it read EOF).
fn drain_joinable(
    mut r: impl Read + Send + 'static,
) -> (Arc<Mutex<Vec<u8>>>, thread::JoinHandle<()>) {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&buf);
    let handle = thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        while let Ok(n) = r.read(&mut chunk) {
            if n == 0 {
                break;
            }
            sink.lock().expect("log").extend_from_slice(&chunk[..n]);
        }
    });
    (buf, handle)
}

/// A running daemon.
pub struct Daemon {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    pub port: u16,
    /// The temporary directory holding `data/`, removed on drop.
    _root: tempfile::TempDir,
    pub data_dir: PathBuf,
    stderr: Arc<Mutex<Vec<u8>>>,
    stdout_rest: mpsc::Receiver<String>,
}

impl Daemon {
    /// Starts `lambdabox serve --listen 127.0.0.1:0 --data-dir <tmp>/data`.
    pub fn start() -> Daemon {
        Daemon::start_with(|_| {})
    }

    /// Like [`Daemon::start`], with extra arguments or environment set by `adjust`.
    pub fn start_with(adjust: impl FnOnce(&mut Command)) -> Daemon {
        let root = tempfile::tempdir().expect("tempdir");
        let data_dir = root.path().join("data");
        let (cmd, started) = Daemon::spawn(&data_dir, adjust);
        match started {
            Ok((child, endpoint, port, stderr, rx)) => Daemon {
                child: Some(child),
                endpoint,
                port,
                _root: root,
                data_dir,
                stderr,
                stdout_rest: rx,
            },
            Err(why) => panic!("lambdabox {cmd} did not start: {why}"),
        }
    }

    #[allow(clippy::type_complexity)]
    fn spawn(
        data_dir: &Path,
        adjust: impl FnOnce(&mut Command),
    ) -> (
        String,
        Result<
            (
                Child,
                String,
                u16,
                Arc<Mutex<Vec<u8>>>,
                mpsc::Receiver<String>,
            ),
            String,
        >,
    ) {
        let mut cmd = command();
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir);
        adjust(&mut cmd);
        let shown = format!("{cmd:?}");
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn lambdabox");
        let stderr = drain(child.stderr.take().expect("stderr"));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = rx.recv_timeout(START_TIMEOUT);
        let log = || String::from_utf8_lossy(&stderr.lock().expect("log")).into_owned();
        let result = match first {
            Ok(line) => match line.strip_prefix("listening on http://") {
                Some(addr) => {
                    let port = addr
                        .rsplit(':')
                        .next()
                        .and_then(|p| p.parse().ok())
                        .unwrap_or(0);
                    Ok((child, format!("http://{addr}"), port, stderr, rx))
                }
                None => {
                    let _ = child.kill();
                    let _ = child.wait();
                    Err(format!(
                        "unexpected first line {line:?}; stderr:\n{}",
                        log()
                    ))
                }
            },
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                thread::sleep(Duration::from_millis(50));
                Err(format!("no listening line ({e}); stderr:\n{}", log()))
            }
        };
        (shown, result)
    }

    /// SIGTERM, wait for a clean exit, then start again (without the extra arguments) on the
    /// same data directory. The port may change.
    pub fn restart(&mut self) {
        let status = self
            .signal_and_wait("TERM", Duration::from_secs(10))
            .expect("lambdabox still running 10 s after SIGTERM");
        assert_eq!(status.code(), Some(0), "exit status {status:?}");
        self.child = None;
        let (cmd, started) = Daemon::spawn(&self.data_dir, |_| {});
        match started {
            Ok((child, endpoint, port, stderr, rx)) => {
                let old = self.log();
                stderr.lock().expect("log").splice(0..0, old.into_bytes());
                self.child = Some(child);
                self.endpoint = endpoint;
                self.port = port;
                self.stderr = stderr;
                self.stdout_rest = rx;
            }
            Err(why) => panic!("lambdabox {cmd} did not restart: {why}"),
        }
    }

    /// Everything the daemon wrote to stderr so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().expect("log")).into_owned()
    }

    /// Lines the daemon printed on stdout after the listening line.
    pub fn extra_stdout(&self) -> Vec<String> {
        self.stdout_rest.try_iter().collect()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Sends a signal (by name, as `kill -s` takes it) and waits up to `timeout` for the exit.
    pub fn signal_and_wait(&mut self, signal: &str, timeout: Duration) -> Option<ExitStatus> {
        let status = Command::new("kill")
            .args(["-s", signal, &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -s {signal} failed");
        let child = self.child.as_mut().expect("running");
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(s) = child.try_wait().expect("wait") {
                return Some(s);
            }
            thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The admin key written on first start: (access key id, secret).
    pub fn admin_key(&self) -> (String, String) {
        let text = std::fs::read_to_string(self.data_dir.join("admin-credentials"))
            .expect("admin-credentials");
        let get = |k: &str| {
            text.lines()
                .filter_map(|l| l.split_once('='))
                .find(|(name, _)| name.trim() == k)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_else(|| panic!("{k} missing in admin-credentials"))
        };
        (get("aws_access_key_id"), get("aws_secret_access_key"))
    }

    /// An unsigned request.
    pub fn get(&self, path: &str) -> reqwest::blocking::Response {
        reqwest::blocking::Client::new()
            .get(format!("{}{path}", self.endpoint))
            .send()
            .expect("request")
    }

    /// A request signed with the admin key for `region` (SigV4, service `lambda`).
    pub fn signed(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        region: &str,
    ) -> reqwest::blocking::Response {
        let (key, secret) = self.admin_key();
        let host = self.endpoint.trim_start_matches("http://").to_string();
        let headers = sigv4_headers(method, &host, path, body, &key, &secret, region);
        let client = reqwest::blocking::Client::new();
        let mut req = client.request(
            method.parse().expect("method"),
            format!("{}{path}", self.endpoint),
        );
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.body(body.to_vec()).send().expect("request")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if thread::panicking() {
            eprintln!(
                "----- lambdabox stderr ({}) -----\n{}\n----- end of lambdabox stderr -----",
                self.endpoint,
                self.log()
            );
        }
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("hmac key");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The `Authorization`, `x-amz-date` and `host` headers of a SigV4-signed request. `path`
/// may carry a query string of already-encoded, unreserved-only pairs.
pub fn sigv4_headers(
    method: &str,
    host: &str,
    path: &str,
    body: &[u8],
    key_id: &str,
    secret: &str,
    region: &str,
) -> Vec<(String, String)> {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let amz_date = now.format(&fmt).expect("format date");
    let date = &amz_date[..8];
    let (raw_path, raw_query) = path.split_once('?').unwrap_or((path, ""));
    let mut pairs: Vec<&str> = raw_query.split('&').filter(|p| !p.is_empty()).collect();
    pairs.sort_unstable();
    let canonical_query = pairs
        .iter()
        .map(|p| {
            if p.contains('=') {
                p.to_string()
            } else {
                format!("{p}=")
            }
        })
        .collect::<Vec<_>>()
        .join("&");
    // Every service but S3 encodes the (already encoded) path once more: '%' -> "%25".
    let canonical_uri = raw_path.replace('%', "%25");
    let payload = hex::encode(Sha256::digest(body));
    let canonical = format!(
        "{method}\n{canonical_uri}\n{canonical_query}\nhost:{host}\nx-amz-date:{amz_date}\n\nhost;x-amz-date\n{payload}"
    );
    let scope = format!("{date}/{region}/lambda/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, b"lambda");
    let k = hmac(&k, b"aws4_request");
    let signature = hex::encode(hmac(&k, to_sign.as_bytes()));
    vec![
        ("host".into(), host.into()),
        ("x-amz-date".into(), amz_date),
        (
            "authorization".into(),
            format!(
                "AWS4-HMAC-SHA256 Credential={key_id}/{scope}, SignedHeaders=host;x-amz-date, Signature={signature}"
            ),
        ),
    ]
}
