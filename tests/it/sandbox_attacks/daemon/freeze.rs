//! Work between invocations: a background process started by one invocation makes no progress
//! while the environment waits for the next one (it is frozen, as on AWS), resumes during the
//! next invocation, and its timers fire right after the thaw.

use std::time::Duration;

use super::{create_python, daemon, invoke_ok};

/// The first invocation starts a child that counts every 10 ms into /tmp/counter (count and
/// the longest gap between two of its ticks, by its monotonic clock); each invocation reports
/// the counter, waits `wait` seconds and reports it again.
const COUNTER: &str = r#"
import os, subprocess, sys, time
LOOP = '''
import time
n, gap, last = 0, 0.0, time.monotonic()
while True:
    n += 1
    now = time.monotonic()
    gap, last = max(gap, now - last), now
    with open('/tmp/counter.tmp', 'w') as f:
        f.write(f'{n} {gap}')
    import os; os.replace('/tmp/counter.tmp', '/tmp/counter')
    time.sleep(0.01)
'''
child = None
def read():
    try:
        n, t = open('/tmp/counter').read().split()
        return int(n), float(t)
    except (OSError, ValueError):
        return 0, 0.0
def handler(event, context):
    global child
    if child is None:
        child = subprocess.Popen([sys.executable, '-c', LOOP])
        while read()[0] == 0:
            time.sleep(0.01)
    first, _ = read()
    time.sleep(event.get('wait', 0))
    second, gap = read()
    return {'first': first, 'second': second, 'max_gap': gap}
"#;

/// The freezer state of every environment cgroup of this daemon (v1 freezer or v2 events).
fn frozen_states(data_dir: &std::path::Path) -> Vec<String> {
    let dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let digest = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(dir.as_os_str().as_encoded_bytes()))
    };
    let parent = format!("lambdabox-{}", &digest[..8]);
    let mut out = Vec::new();
    let v1 = crate::sandbox_attacks::support::cgroup_dir("freezer", &parent);
    for e in std::fs::read_dir(&v1).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("lbx-") {
            out.push(
                std::fs::read_to_string(e.path().join("freezer.state"))
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            );
        }
    }
    out
}

fn run(freeze: bool) -> (Vec<serde_json::Value>, Vec<String>) {
    // Spares off: a spare's group (never frozen: nothing of a function runs in it) would be
    // counted with the function's.
    let env = [
        (
            "LAMBDABOX_SANDBOX__FREEZE_IDLE",
            if freeze { "true" } else { "false" },
        ),
        ("LAMBDABOX_ENGINE__SPARE_ENVIRONMENTS", "0"),
    ];
    let d = daemon(&env);
    create_python(&d, "counter", COUNTER, 256, 10);
    let mut answers = vec![invoke_ok(&d, "counter", &serde_json::json!({}))];
    std::thread::sleep(Duration::from_millis(1500));
    answers.push(invoke_ok(&d, "counter", &serde_json::json!({})));
    std::thread::sleep(Duration::from_millis(1500));
    let states = frozen_states(&d.data_dir);
    answers.push(invoke_ok(&d, "counter", &serde_json::json!({"wait": 0.5})));
    (answers, states)
}

#[test]
fn sandbox_daemon_freezes_background_work_between_invocations() {
    let (a, states) = run(true);
    eprintln!("frozen: {a:?}, states between invocations: {states:?}");
    // Between the end of invocation 2 and the start of invocation 3 (1.5 s) the child ran
    // only until the runtime asked for its next event: a few ticks at most.
    let idle = a[2]["first"].as_i64().unwrap_or(0) - a[1]["second"].as_i64().unwrap_or(0);
    assert!(
        idle <= 30,
        "the background process ran {idle} ticks while idle: {a:?}"
    );
    // It resumes during the invocation …
    let during = a[2]["second"].as_i64().unwrap_or(0) - a[2]["first"].as_i64().unwrap_or(0);
    assert!(
        during >= 5,
        "the background process made {during} ticks in 0.5 s after the thaw: {a:?}"
    );
    // … and the clock kept running while frozen, as on AWS: the child's 10 ms sleep that was
    // due during the freeze returned right after the thaw, ≈ 1.5 s after it began.
    let gap = a[2]["max_gap"].as_f64().unwrap_or(0.0);
    assert!(gap >= 1.0, "longest gap between ticks only {gap} s: {a:?}");
    if !states.is_empty() {
        assert!(
            states.iter().all(|s| s == "FROZEN"),
            "idle environment not frozen: {states:?}"
        );
    }

    // With freezing switched off (sandbox.freeze_idle = false) the same child keeps counting.
    let (b, states) = run(false);
    eprintln!("not frozen: {b:?}, states: {states:?}");
    let idle = b[2]["first"].as_i64().unwrap_or(0) - b[1]["second"].as_i64().unwrap_or(0);
    assert!(
        idle > 50,
        "without freezing the child should have kept counting: {b:?}"
    );
    assert!(states.iter().all(|s| s == "THAWED"), "{states:?}");
}

const IDLE: &str = r#"
def handler(event, context):
    return {'ok': True}
"#;

/// Polls `f` every 200 ms until it holds or `secs` pass; whether it held.
fn eventually(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    f()
}

/// A frozen environment can still be killed wherever the engine kills one: eviction to make
/// room, idle reaping and daemon shutdown all end a FROZEN environment (on cgroup v1 a frozen
/// task does not die of SIGKILL until it is thawed; the kill thaws the cgroup after signalling).
#[test]
fn sandbox_daemon_kills_frozen_environments_on_eviction_reaping_and_shutdown() {
    let mut d = daemon(&[
        ("LAMBDABOX_SANDBOX__FREEZE_IDLE", "true"),
        ("LAMBDABOX_ENGINE__MEMORY_BUDGET_MB", "256"),
        ("LAMBDABOX_ENGINE__IDLE_TIMEOUT_SECS", "4"),
    ]);
    create_python(&d, "first", IDLE, 256, 10);
    create_python(&d, "second", IDLE, 256, 10);
    invoke_ok(&d, "first", &serde_json::json!({}));
    let v1 = !frozen_states(&d.data_dir).is_empty();
    if v1 {
        assert!(
            eventually(5, || frozen_states(&d.data_dir) == ["FROZEN"]),
            "the idle environment is not frozen: {:?}",
            frozen_states(&d.data_dir)
        );
    }
    // The budget holds one environment: `second` needs `first` (frozen) evicted and gone.
    let t = std::time::Instant::now();
    let (status, err, body) = super::invoke(&d, "second", &serde_json::json!({}));
    assert!(
        status == 200 && err.is_none(),
        "second after evicting the frozen first: {status} {err:?} {body}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(15),
        "eviction took {:?}",
        t.elapsed()
    );
    if v1 {
        assert!(
            eventually(5, || frozen_states(&d.data_dir) == ["FROZEN"]),
            "one frozen environment expected: {:?}",
            frozen_states(&d.data_dir)
        );
        // Idle reaping (idle_timeout_secs = 4, checked every 5 s) removes the frozen one.
        assert!(
            eventually(30, || frozen_states(&d.data_dir).is_empty()),
            "the frozen idle environment was not reaped: {:?}",
            frozen_states(&d.data_dir)
        );
    }
    // Shutdown with a frozen idle environment: the daemon exits and leaves no cgroup behind.
    invoke_ok(&d, "first", &serde_json::json!({}));
    if v1 {
        assert!(eventually(5, || frozen_states(&d.data_dir) == ["FROZEN"]));
    }
    let status = d.signal_and_wait("TERM", Duration::from_secs(20));
    assert!(
        status.is_some(),
        "the daemon did not stop with a frozen environment"
    );
    assert!(
        frozen_states(&d.data_dir).is_empty(),
        "left behind: {:?}",
        frozen_states(&d.data_dir)
    );
}
