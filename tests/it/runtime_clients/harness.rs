//! Test fixture: one Runtime API server and one runtime child process.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use lambdabox::runtime::{
    install_clients, EnvInfo, InitOutcome, Invocation, InvokeOutcome, RuntimeApi,
};

pub const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:000000000000:function:hello";
const WAIT: Duration = Duration::from_secs(20);

/// A running runtime child against its own Runtime API.
pub struct Env {
    pub api: std::sync::Arc<RuntimeApi>,
    pub rt: tokio::runtime::Runtime,
    child: Child,
    argv: Vec<String>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    pub task: tempfile::TempDir,
    _clients: tempfile::TempDir,
    seq: std::cell::Cell<u32>,
    addr: String,
    spawned: std::time::Instant,
}

/// Where the embedded clients get installed for a test, and the argv prefix for each runtime.
pub enum Runtime<'a> {
    Python(&'a Path),
    Node(&'a Path),
    /// Full argv, used for awslambdaric.
    Custom(Vec<String>),
}

impl Env {
    /// Writes `files` into a fresh task root and starts the runtime with `handler`.
    pub fn start(runtime: Runtime<'_>, handler: &str, files: &[(&str, &str)]) -> Env {
        Env::start_with(runtime, handler, files, &[])
    }

    pub fn start_with(
        runtime: Runtime<'_>,
        handler: &str,
        files: &[(&str, &str)],
        extra_env: &[(&str, &str)],
    ) -> Env {
        let task = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        for (rel, content) in files {
            let path = task.path().join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir: {e}"));
            }
            std::fs::write(&path, content).unwrap_or_else(|e| panic!("write {rel}: {e}"));
        }
        let clients = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        install_clients(clients.path()).unwrap_or_else(|e| panic!("install clients: {e}"));

        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("tokio: {e}"));
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("addr: {e}"));
        let info = EnvInfo {
            function_name: "hello".into(),
            function_version: "$LATEST".into(),
            handler: handler.into(),
            account_id: "000000000000".into(),
            ..EnvInfo::default()
        };
        let api = {
            let _g = rt.enter();
            RuntimeApi::serve(listener, info).unwrap_or_else(|e| panic!("serve: {e}"))
        };

        let (argv, runtime_id, runtime_env) = match runtime {
            Runtime::Python(py) => (
                vec![
                    py.display().to_string(),
                    "-u".into(),
                    "-s".into(),
                    clients
                        .path()
                        .join("python/bootstrap.py")
                        .display()
                        .to_string(),
                ],
                "python3.12",
                vec![("PYTHONPATH", clients.path().display().to_string())],
            ),
            Runtime::Node(node) => (
                vec![
                    node.display().to_string(),
                    clients.path().join("node/index.mjs").display().to_string(),
                ],
                "nodejs20.x",
                vec![("NODE_PATH", task.path().display().to_string())],
            ),
            Runtime::Custom(argv) => (argv, "python3.12", vec![]),
        };
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .current_dir(task.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LANG", "C.UTF-8")
            .env("TZ", ":UTC")
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("_HANDLER", handler)
            .env("LAMBDA_TASK_ROOT", task.path())
            .env("LAMBDA_RUNTIME_DIR", clients.path())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_EXECUTION_ENV", format!("AWS_Lambda_{runtime_id}"))
            .env("AWS_LAMBDA_FUNCTION_NAME", "hello")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/hello")
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in runtime_env {
            cmd.env(k, v);
        }
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let spawned = std::time::Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {argv:?}: {e}"));
        let stdout = collect(child.stdout.take());
        let stderr = collect(child.stderr.take());
        Env {
            api: std::sync::Arc::new(api),
            rt,
            child,
            argv,
            stdout,
            stderr,
            task,
            _clients: clients,
            seq: std::cell::Cell::new(0),
            addr: addr.to_string(),
            spawned,
        }
    }

    /// Waits for init to end.
    pub fn ready(&self) -> InitOutcome {
        self.rt
            .block_on(async { tokio::time::timeout(WAIT, self.api.wait_ready()).await })
            .unwrap_or_else(|_| panic!("runtime never became ready\n{}", self.dump()))
    }

    /// A default invocation with a fresh request id and a 30 s deadline.
    pub fn invocation(&self, payload: impl Into<Bytes>) -> Invocation {
        self.seq.set(self.seq.get() + 1);
        Invocation {
            request_id: format!("00000000-0000-4000-8000-{:012}", self.seq.get()),
            payload: payload.into(),
            deadline_ms: now_ms() + 30_000,
            invoked_function_arn: FUNCTION_ARN.into(),
            trace_id: format!(
                "Root=1-00000000-00000000000000000000000{};Parent=0000000000000001;Sampled=0",
                self.seq.get() % 10
            ),
            client_context: None,
            cognito_identity: None,
            stream: None,
        }
    }

    pub fn invoke(&self, payload: &str) -> InvokeOutcome {
        self.invoke_with(self.invocation(payload.to_owned()))
    }

    pub fn invoke_with(&self, inv: Invocation) -> InvokeOutcome {
        self.rt
            .block_on(async { tokio::time::timeout(WAIT, self.api.invoke(inv)).await })
            .unwrap_or_else(|_| panic!("invoke timed out\n{}", self.dump()))
    }

    /// Invokes and expects a response; returns it as a string.
    pub fn ok(&self, payload: &str) -> String {
        match self.invoke(payload) {
            InvokeOutcome::Response(b) => String::from_utf8_lossy(&b).into_owned(),
            other => panic!("expected a response, got {other:?}\n{}", self.dump()),
        }
    }

    /// Invokes and expects an error; returns (error type header, parsed body).
    pub fn err(&self, payload: &str) -> (Option<String>, serde_json::Value) {
        match self.invoke(payload) {
            InvokeOutcome::Error { error_type, body } => (error_type, parse(&body, self)),
            other => panic!("expected an error, got {other:?}\n{}", self.dump()),
        }
    }

    /// Expects init to fail; returns (error type, parsed body).
    pub fn init_err(&self) -> (String, serde_json::Value) {
        match self.ready() {
            InitOutcome::InitError { error_type, body } => (error_type, parse(&body, self)),
            other => panic!("expected an init error, got {other:?}\n{}", self.dump()),
        }
    }

    /// Polls the child's stdout until it contains `needle` (output is asynchronous).
    pub fn stdout_contains(&self, needle: &str) -> String {
        for _ in 0..200 {
            let out = self.stdout();
            if out.contains(needle) {
                return out;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("stdout lacks {needle:?}\n{}", self.dump())
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Waits for the child to exit; returns its exit code.
    pub fn exit_code(&mut self) -> Option<i32> {
        for _ in 0..500 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// Time since the runtime process was spawned.
    pub fn since_spawn(&self) -> Duration {
        self.spawned.elapsed()
    }

    /// `host:port` of this environment's Runtime API.
    pub fn runtime_api_addr(&self) -> String {
        self.addr.clone()
    }

    pub fn dump(&self) -> String {
        format!(
            "command: {:?}\ncwd: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.argv,
            self.task.path().display(),
            self.stdout(),
            self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
        )
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.api.shutdown();
    }
}

fn collect(stream: Option<impl Read + Send + 'static>) -> Arc<Mutex<String>> {
    let out = Arc::new(Mutex::new(String::new()));
    if let Some(stream) = stream {
        let sink = Arc::clone(&out);
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stream);
            let mut line = Vec::new();
            while reader
                .read_until(b'\n', &mut line)
                .map(|n| n > 0)
                .unwrap_or(false)
            {
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&String::from_utf8_lossy(&line));
                }
                line.clear();
            }
        });
    }
    out
}

fn parse(body: &[u8], env: &Env) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "error body is not json ({e}): {}\n{}",
            String::from_utf8_lossy(body),
            env.dump()
        )
    })
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

pub fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not json ({e}): {s}"))
}

/// The interpreter at `path` if it exists, else a loud skip note.
pub fn interpreter(path: impl Into<PathBuf>) -> Option<PathBuf> {
    let path = path.into();
    if path.exists() {
        Some(path)
    } else {
        eprintln!("SKIP: interpreter {} not present", path.display());
        None
    }
}

/// A pyenv python `3.x` if pyenv has one.
pub fn pyenv_python(minor: &str) -> Option<PathBuf> {
    let root = std::env::var("PYENV_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".pyenv")
        });
    let versions = std::fs::read_dir(root.join("versions")).ok()?;
    let mut found: Vec<PathBuf> = versions
        .filter_map(Result::ok)
        .filter(|d| {
            d.file_name()
                .to_string_lossy()
                .starts_with(&format!("{minor}."))
        })
        .map(|d| d.path().join("bin/python3"))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    let py = found.pop();
    if py.is_none() {
        eprintln!("SKIP: no pyenv python {minor}");
    }
    py
}
