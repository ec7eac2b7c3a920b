//! Fixture for the attack suite: a `Sandbox` with its own state dir, cgroup parent and uid
//! range per test, a code dir mounted at /var/task, and checks that the host is unharmed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use lambdabox::sandbox::{EnvSpec, Environment, ExitInfo, Mount, Sandbox, SandboxSettings, Shape};

static NEXT: AtomicU32 = AtomicU32::new(0);

pub const PYTHON: &str = "/usr/bin/python3";

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub sandbox: Sandbox,
    pub parent: String,
    pub code: PathBuf,
    hostname: String,
}

impl Fixture {
    pub fn new() -> Fixture {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir = tempfile::tempdir().expect("tempdir");
        let parent = format!("lambdabox-test-{}-{n}", std::process::id());
        let base = 62000 + (std::process::id() % 100) * 100 + n * 4;
        let settings = SandboxSettings {
            uid_range: (base, base + 3),
            cgroup_parent: parent.clone(),
            allow_degraded: false,
            state_dir: dir.path().join("state"),
        };
        let mut sandbox = Sandbox::new(settings).expect("sandbox::new (must not be degraded here)");
        sandbox.set_helper_exe(env!("CARGO_BIN_EXE_lambdabox"));
        let code = dir.path().join("code");
        std::fs::create_dir_all(&code).expect("code dir");
        Fixture {
            dir,
            sandbox,
            parent,
            code,
            hostname: hostname(),
        }
    }

    /// The code dir of environment `id` (mounted at /var/task).
    pub fn code_dir(&self, id: &str) -> PathBuf {
        let dir = self.code.join(id);
        std::fs::create_dir_all(&dir).expect("code dir");
        dir
    }

    /// A spec running `python3 /var/task/main.py` with `script`.
    pub fn python_spec(&self, id: &str, script: &str) -> EnvSpec {
        let code = self.code_dir(id);
        std::fs::write(code.join("main.py"), script).expect("write script");
        let mut spec = EnvSpec::new(
            id,
            vec![PYTHON.into(), "-S".into(), "/var/task/main.py".into()],
        );
        spec.mounts = vec![Mount::ro(&code, "/var/task")];
        spec.env = vec![
            ("PATH".into(), "/usr/bin:/bin".into()),
            ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
        ];
        spec.memory_mb = 256;
        spec.tmp_mb = 64;
        spec
    }

    /// Starts `spec` the way a cold start with a spare does (`prepare` + `finish`) whenever
    /// its network allows a spare, so every case below also checks that a spare's environment
    /// is as confined as a launched one; a plain `launch` otherwise (host network, VPC rules).
    pub fn launch(&self, spec: &EnvSpec) -> Environment {
        let Some(shape) = Shape::of(spec) else {
            return self
                .sandbox
                .launch(spec)
                .unwrap_or_else(|e| panic!("launch {}: {e}", spec.id));
        };
        let spare = self
            .sandbox
            .prepare(&spec.id, shape)
            .unwrap_or_else(|e| panic!("prepare a spare for {}: {e}", spec.id));
        self.sandbox
            .finish(spare, spec)
            .unwrap_or_else(|e| panic!("finish the spare of {}: {e}", spec.id))
    }

    /// Launches, collects all output, waits; asserts the host is unharmed afterwards.
    pub fn run(&self, spec: &EnvSpec) -> (ExitInfo, String) {
        let mut env = self.launch(spec);
        let uid = env.uid();
        let out = collect(&mut env);
        let info = env.wait();
        let text = out.join().unwrap_or_default();
        self.assert_host_unharmed(&spec.id, uid, &text);
        (info, text)
    }

    pub fn run_python(&self, id: &str, script: &str) -> (ExitInfo, String) {
        self.run(&self.python_spec(id, script))
    }

    /// After an environment ended: no process of its uid is left, its cgroups are gone, the
    /// host's hostname is unchanged and /etc/shadow is intact.
    pub fn assert_host_unharmed(&self, id: &str, uid: Option<u32>, output: &str) {
        assert_eq!(
            hostname(),
            self.hostname,
            "host hostname changed; output:\n{output}"
        );
        if let Some(uid) = uid {
            let left = processes_of_uid(uid);
            assert!(
                left.is_empty(),
                "processes of uid {uid} survived: {left:?}; output:\n{output}"
            );
        }
        for controller in ["memory", "pids", "cpu", "freezer"] {
            let dir = cgroup_dir(controller, &self.parent).join(id);
            assert!(
                !dir.exists(),
                "{} left behind; output:\n{output}",
                dir.display()
            );
        }
        assert!(Path::new("/etc/shadow").exists());
    }
}

/// Reads the environment's output on a thread.
pub fn collect(env: &mut Environment) -> std::thread::JoinHandle<String> {
    let out = env.output();
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut f) = out {
            let _ = f.read_to_string(&mut s);
        }
        s
    })
}

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Host pids whose real uid is `uid`.
pub fn processes_of_uid(uid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let real = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|l| l.split_whitespace().next()?.parse::<u32>().ok());
        if real == Some(uid) {
            out.push(pid);
        }
    }
    out
}

/// The directory of our `parent` group in `controller` (under this process's own cgroup).
pub fn cgroup_dir(controller: &str, parent: &str) -> PathBuf {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let path = own
        .lines()
        .find_map(|l| {
            let mut p = l.splitn(3, ':');
            let (_, list, path) = (p.next()?, p.next()?, p.next()?);
            list.split(',')
                .any(|c| c == controller)
                .then(|| path.to_string())
        })
        .unwrap_or_else(|| "/".into());
    Path::new("/sys/fs/cgroup")
        .join(controller)
        .join(path.trim_start_matches('/'))
        .join(parent)
}

/// Asserts `output` contains `marker`, printing everything otherwise.
#[track_caller]
pub fn expect_line(output: &str, marker: &str) {
    assert!(
        output.lines().any(|l| l.trim() == marker),
        "expected line {marker:?} in output:\n{output}"
    );
}

/// Python prelude: `attempt(name, fn)` prints "name: blocked <errno>" or "name: ALLOWED".
pub const PRELUDE: &str = r#"
import os, sys, ctypes, errno, socket
libc = ctypes.CDLL(None, use_errno=True)
def attempt(name, fn):
    try:
        r = fn()
    except OSError as e:
        print(f"{name}: blocked {errno.errorcode.get(e.errno, e.errno)}", flush=True)
        return
    except ValueError as e:
        print(f"{name}: blocked ValueError {e}", flush=True)
        return
    print(f"{name}: ALLOWED {r!r}", flush=True)
def sc(name, *args):
    """A raw libc call that returns -1/errno: raise OSError so attempt() reports it."""
    def call():
        r = getattr(libc, name)(*args)
        if r == -1:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
        return r
    return call
def raw(nr, *args):
    def call():
        r = libc.syscall(nr, *args)
        if r == -1:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
        return r
    return call
"#;

/// Syscall numbers for the raw calls the suite makes.
pub fn nr(name: &str) -> i64 {
    let x86 = cfg!(target_arch = "x86_64");
    match name {
        "keyctl" => {
            if x86 {
                250
            } else {
                219
            }
        }
        "add_key" => {
            if x86 {
                248
            } else {
                217
            }
        }
        "io_uring_setup" => 425,
        "clone3" => 435,
        "finit_module" => {
            if x86 {
                313
            } else {
                273
            }
        }
        "init_module" => {
            if x86 {
                175
            } else {
                105
            }
        }
        "bpf" => {
            if x86 {
                321
            } else {
                280
            }
        }
        "perf_event_open" => {
            if x86 {
                298
            } else {
                241
            }
        }
        "userfaultfd" => {
            if x86 {
                323
            } else {
                282
            }
        }
        "setns" => {
            if x86 {
                308
            } else {
                268
            }
        }
        "open_by_handle_at" => {
            if x86 {
                304
            } else {
                265
            }
        }
        "kexec_load" => {
            if x86 {
                246
            } else {
                104
            }
        }
        "process_vm_readv" => {
            if x86 {
                310
            } else {
                270
            }
        }
        _ => panic!("unknown syscall {name}"),
    }
}
