//! The unprivileged path (issue 3 item 10): the same sandbox run by an ordinary user (`nobody`
//! via `setpriv`) inside a user namespace, through `lambdabox sandbox-run`. Key attacks must
//! fail there too. Runs only as root (it needs to switch to `nobody`); this suite runs as root.

use std::process::Command;

use super::support::expect_line;

const SCRIPT: &str = r#"
import os, ctypes, errno, socket
libc = ctypes.CDLL(None, use_errno=True)
def attempt(name, fn):
    try:
        r = fn()
    except OSError as e:
        print(f"{name}: blocked {errno.errorcode.get(e.errno, e.errno)}", flush=True)
        return
    print(f"{name}: ALLOWED {r!r}", flush=True)
def sc(name, *args):
    def call():
        r = getattr(libc, name)(*args)
        if r == -1:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
        return r
    return call
print('uid', os.getuid(), flush=True)
print('caps', [l.split()[1] for l in open('/proc/self/status') if l.startswith('CapEff')][0], flush=True)
attempt('shadow', lambda: open('/etc/shadow').read())
attempt('proc 1 root', lambda: os.listdir('/proc/1/root'))
attempt('write usr', lambda: open('/usr/evil', 'w'))
attempt('mount', sc('mount', b'none', b'/tmp', b'tmpfs', 0, None))
attempt('unshare user', sc('unshare', 0x10000000))
attempt('sethostname', sc('sethostname', b'pwned', 5))
attempt('raw socket', lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
attempt('connect host', lambda: socket.create_connection(('127.0.0.1', 22), timeout=1))
attempt('tmp', lambda: open('/tmp/x', 'w').write('ok'))
print('pids', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()), flush=True)
hog = []
try:
    while True:
        hog.append(bytearray(8 << 20))
except MemoryError:
    print('memory capped', len(hog) * 8 <= 128, flush=True)
del hog
kids = 0
try:
    for _ in range(100):
        if os.fork() == 0:
            import time; time.sleep(5); os._exit(0)
        kids += 1
except OSError as e:
    print('fork stopped', errno.errorcode[e.errno], kids < 32, flush=True)
"#;

#[test]
fn sandbox_unprivileged_user_gets_the_same_confinement() {
    assert_eq!(euid(), 0, "the attack suite runs as root on this machine");
    let bin = env!("CARGO_BIN_EXE_lambdabox");
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(bin)
        .args([
            "sandbox-run",
            "--pids-max",
            "32",
            "--",
            "/usr/bin/python3",
            "-S",
            "-c",
            SCRIPT,
        ])
        .current_dir("/")
        .output()
        .expect("run setpriv");
    let text = format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    expect_line(&text, "uid 61000");
    expect_line(&text, "caps 0000000000000000");
    for name in [
        "shadow",
        "proc 1 root",
        "write usr",
        "mount",
        "unshare user",
        "sethostname",
        "raw socket",
        "connect host",
    ] {
        assert!(
            text.contains(&format!("{name}: blocked")),
            "{name} not blocked as nobody:\n{text}"
        );
    }
    expect_line(&text, "tmp: ALLOWED 2");
    expect_line(&text, "pids [1, 2]");
    // No delegated cgroup here: rlimits are the backstop.
    expect_line(&text, "memory capped True");
    expect_line(&text, "fork stopped EAGAIN True");
}

fn euid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(u32::MAX)
}
