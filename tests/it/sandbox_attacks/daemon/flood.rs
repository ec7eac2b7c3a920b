//! The Runtime API against its own function: a connection flood from forked children and
//! endless request heads, while another function keeps invoking and `/health` answers; the
//! daemon's fd count and RSS stay bounded.

use std::time::{Duration, Instant};

use super::{create_python, daemon, fd_count, invoke_ok, rss_bytes, Caller};

const ECHO: &str = "def handler(event, context):\n    return event\n";

/// Forks `children` processes that each open up to 1,000 connections to the Runtime API
/// (stopping after 3 failed connects in a row) and hold them for `hold` seconds.
const FLOOD: &str = r#"
import os, socket, time
def handler(event, context):
    host, port = os.environ['AWS_LAMBDA_RUNTIME_API'].split(':')
    kids = []
    for _ in range(event['children']):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            held, fails = [], 0
            while len(held) < 1000 and fails < 3:
                try:
                    held.append(socket.create_connection((host, int(port)), timeout=0.3))
                    fails = 0
                except OSError:
                    fails += 1
            os.write(w, str(len(held)).encode())
            os.close(w)
            time.sleep(event['hold'])
            os._exit(0)
        os.close(w)
        kids.append((pid, r))
    total = 0
    for pid, r in kids:
        total += int(os.read(r, 32) or b'0')
        os.close(r)
    for pid, r in kids:
        os.waitpid(pid, 0)
    return {'connections': total}
"#;

/// Forks `children` processes that each keep `per` connections sending a request head that
/// never ends (2 KB header lines), reconnecting whenever the server closes one.
const ENDLESS_HEAD: &str = r#"
import os, socket, time
def handler(event, context):
    host, port = os.environ['AWS_LAMBDA_RUNTIME_API'].split(':')
    line = b'X-Pad: ' + b'a' * 2000 + b'\r\n'
    def conn():
        try:
            s = socket.create_connection((host, int(port)), timeout=0.3)
            s.settimeout(0.05)
            s.sendall(b'POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\n')
            return s
        except OSError:
            return None
    kids = []
    for _ in range(event['children']):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            socks = [conn() for _ in range(event['per'])]
            sent, reconnects = 0, 0
            end = time.time() + event['secs']
            while time.time() < end:
                for i, s in enumerate(socks):
                    if s is None:
                        socks[i] = conn()
                        reconnects += 1
                        continue
                    try:
                        s.send(line)
                        sent += len(line)
                    except socket.timeout:
                        pass
                    except OSError:
                        s.close()
                        socks[i] = None
            os.write(w, f'{sent} {reconnects}'.encode())
            os._exit(0)
        os.close(w)
        kids.append((pid, r))
    sent = reconnects = 0
    for pid, r in kids:
        a, b = (os.read(r, 64) or b'0 0').split()
        sent += int(a)
        reconnects += int(b)
        os.waitpid(pid, 0)
    return {'sent': sent, 'reconnects': reconnects}
"#;

#[test]
fn sandbox_daemon_runtime_api_flood_and_endless_heads_are_bounded() {
    // Spares hold a few fds each and are made in the background: off, so the fd count only
    // measures what the attacks cost.
    let d = daemon(&[("LAMBDABOX_ENGINE__SPARE_ENVIRONMENTS", "0")]);
    create_python(&d, "echo", ECHO, 128, 10);
    create_python(&d, "flood", FLOOD, 512, 60);
    create_python(&d, "endless-head", ENDLESS_HEAD, 512, 60);
    let pid = d.pid();
    assert_eq!(invoke_ok(&d, "echo", &serde_json::json!({"n": 0}))["n"], 0);
    std::thread::sleep(Duration::from_millis(500));
    let (base_fds, base_rss) = (fd_count(pid), rss_bytes(pid));

    let caller = Caller::of(&d);
    let attack = |name: &'static str, payload: serde_json::Value| {
        let caller = caller.clone();
        move || caller.invoke(name, &payload)
    };
    let (mut max_fds, mut max_rss, mut echoes) = (base_fds, base_rss, 0);
    let (flood, endless) = std::thread::scope(|s| {
        let flood = s.spawn(attack(
            "flood",
            serde_json::json!({"children": 20, "hold": 10}),
        ));
        let endless = s.spawn(attack(
            "endless-head",
            serde_json::json!({"children": 10, "per": 100, "secs": 12}),
        ));
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(14) {
            let v = invoke_ok(&d, "echo", &serde_json::json!({"n": echoes}));
            assert_eq!(v["n"], echoes, "echo answered {v}");
            echoes += 1;
            let health = d.get("/health");
            assert_eq!(health.status(), 200, "/health failed during the attack");
            max_fds = max_fds.max(fd_count(pid));
            max_rss = max_rss.max(rss_bytes(pid));
            std::thread::sleep(Duration::from_millis(100));
        }
        (flood.join(), endless.join())
    });
    let flood = flood.expect("flood thread");
    let endless = endless.expect("endless-head thread");
    eprintln!(
        "flood: {flood:?}\nendless head: {endless:?}\necho invocations: {echoes}\nfds {base_fds} -> max {max_fds}; rss {} MB -> max {} MB",
        base_rss >> 20,
        max_rss >> 20
    );
    assert_eq!(flood.0, 200, "flood invocation: {flood:?}");
    assert_eq!(endless.0, 200, "endless-head invocation: {endless:?}");
    assert!(echoes >= 10, "only {echoes} echo invocations in 14 s");
    // Two attacking environments at 8 connections each, plus their control fds.
    assert!(
        max_fds <= base_fds + 64,
        "daemon fds grew from {base_fds} to {max_fds}"
    );
    assert!(
        max_rss <= base_rss + (96 << 20),
        "daemon RSS grew from {} MB to {} MB",
        base_rss >> 20,
        max_rss >> 20
    );
    // The attack's connections and buffers go away as the daemon gets to them: wait for it
    // (bounded) instead of a fixed pause.
    let settled_by = Instant::now() + Duration::from_secs(30);
    while Instant::now() < settled_by
        && (rss_bytes(pid) > base_rss + (64 << 20) || fd_count(pid) > base_fds + 32)
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    let after = rss_bytes(pid);
    assert!(
        after <= base_rss + (64 << 20),
        "daemon RSS still {} MB after the attack (was {} MB)",
        after >> 20,
        base_rss >> 20
    );
    assert!(
        fd_count(pid) <= base_fds + 32,
        "fds after the attack: {}",
        fd_count(pid)
    );
}
