//! Exhaustion attacks: fork bomb, memory bomb, filling /tmp, a CPU hog next to a well-behaved
//! environment, file descriptors; each is contained and reported, and the host is unharmed.

use std::time::{Duration, Instant};

use super::support::{cgroup_dir, collect, expect_line, Fixture, PRELUDE};
use lambdabox::sandbox::ExitStatus;

#[test]
fn sandbox_fork_bomb_stops_at_pids_limit() {
    let fx = Fixture::new();
    let mut spec = fx.python_spec(
        "fork-bomb",
        "import os, time, errno
kids = 0
err = None
for _ in range(500):
    try:
        pid = os.fork()
    except OSError as e:
        err = errno.errorcode[e.errno]
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    kids += 1
print(f'forked {kids} then {err}', flush=True)
",
    );
    spec.pids_max = 32;
    let (info, out) = fx.run(&spec);
    assert_eq!(info.status, ExitStatus::Code(0), "{out}");
    let kids: u32 = out
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {out}"));
    assert!(kids < 32, "forked {kids} past the limit of 32:\n{out}");
    assert!(out.contains("then EAGAIN"), "{out}");
}

#[test]
fn sandbox_memory_bomb_is_oom_killed_and_reported() {
    let fx = Fixture::new();
    let mut spec = fx.python_spec(
        "memory-bomb",
        "hog = []\nwhile True:\n    hog.append(bytearray(8 * 1024 * 1024))\n",
    );
    spec.memory_mb = 64;
    let (info, out) = fx.run(&spec);
    assert_eq!(info.status, ExitStatus::Signal(9), "{out}");
    assert!(info.oom_killed, "oom kill not reported: {info:?}\n{out}");
    assert!(
        info.memory_peak_bytes >= 48 * 1024 * 1024,
        "peak {}",
        info.memory_peak_bytes
    );
    assert!(
        info.memory_peak_bytes <= 64 * 1024 * 1024 + 4096,
        "peak {}",
        info.memory_peak_bytes
    );
}

#[test]
fn sandbox_filling_tmp_hits_enospc() {
    let fx = Fixture::new();
    let mut spec = fx.python_spec(
        "fill-tmp",
        &format!(
            "{PRELUDE}
def fill():
    for i in range(10):
        with open(f'/tmp/f{{i}}', 'wb') as f:
            f.write(b'x' * (3 * 1024 * 1024))
attempt('fill tmp', fill)
attempt('shm', lambda: open('/dev/shm/x', 'wb').write(b'y' * 1024))
"
        ),
    );
    spec.tmp_mb = 8;
    let (info, out) = fx.run(&spec);
    assert_eq!(info.status, ExitStatus::Code(0), "{out}");
    expect_line(&out, "fill tmp: blocked ENOSPC");
    expect_line(&out, "shm: ALLOWED 1024");
}

#[test]
fn sandbox_nofile_is_limited() {
    let fx = Fixture::new();
    let script = format!(
        "{PRELUDE}
import resource
print('nofile', resource.getrlimit(resource.RLIMIT_NOFILE), flush=True)
print('core', resource.getrlimit(resource.RLIMIT_CORE), flush=True)
attempt('raise nofile', lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096)))
fds = []
def exhaust():
    while True:
        fds.append(os.open('/dev/null', os.O_RDONLY))
attempt('exhaust fds', exhaust)
"
    );
    let (_, out) = fx.run_python("nofile", &script);
    expect_line(&out, "nofile (1024, 1024)");
    expect_line(&out, "core (0, 0)");
    assert!(out.contains("raise nofile: blocked"), "{out}");
    expect_line(&out, "exhaust fds: blocked EMFILE");
}

#[test]
fn sandbox_cpu_hog_is_held_to_its_share_while_another_stays_responsive() {
    let fx = Fixture::new();
    // 128 MB buys a weight of 128/1769 of a vCPU and a hard cap of one vCPU (the floor that
    // keeps cold starts fast); four spinning processes on two cores would use ≈ 4 s unlimited.
    let mut hog = fx.python_spec(
        "cpu-hog",
        "import os, time
parent = True
for _ in range(3):
    if os.fork() == 0:
        parent = False
        break
start, cpu0 = time.monotonic(), time.process_time()
while time.monotonic() - start < 2.0:
    pass
print(f'cpu {time.process_time() - cpu0:.3f}', flush=True)
while parent:
    try:
        os.wait()
    except ChildProcessError:
        break
",
    );
    hog.memory_mb = 128;
    let mut hog_env = fx.launch(&hog);
    let hog_out = collect(&mut hog_env);
    std::thread::sleep(Duration::from_millis(300));

    // A well-behaved environment with a full vCPU answers promptly despite the hog.
    let mut calm = fx.python_spec(
        "cpu-calm",
        "import time\nt = time.monotonic()\nsum(range(2_000_000))\nprint(f'took {time.monotonic() - t:.3f}', flush=True)\n",
    );
    calm.memory_mb = 1769;
    let started = Instant::now();
    let (info, out) = fx.run(&calm);
    let calm_wall = started.elapsed();
    assert_eq!(info.status, ExitStatus::Code(0), "{out}");
    assert!(
        calm_wall < Duration::from_secs(3),
        "calm env took {calm_wall:?}:\n{out}"
    );

    let hog_dir = cgroup_dir("cpu", &fx.parent).join("cpu-hog");
    let quota = std::fs::read_to_string(hog_dir.join("cpu.cfs_quota_us")).unwrap_or_default();
    let shares = std::fs::read_to_string(hog_dir.join("cpu.shares")).unwrap_or_default();
    let _ = hog_env.wait();
    let text = hog_out.join().unwrap_or_default();
    // The 4 hog processes share one vCPU in total.
    let total: f64 = text
        .lines()
        .filter_map(|l| l.strip_prefix("cpu ")?.parse::<f64>().ok())
        .sum();
    assert!(
        text.lines().filter(|l| l.starts_with("cpu ")).count() == 4,
        "{text}"
    );
    assert!(
        total < 2.6,
        "hog used {total:.3} s of CPU in 2 s wall (limit ≈ 2.0 s, one vCPU):\n{text}"
    );
    // Whether the hog is throttled depends on the host's other load; the limits are not.
    assert_eq!(quota.trim(), "100000", "hard quota: one vCPU");
    assert_eq!(shares.trim(), "74", "weight: 128/1769 of 1024");
}

#[test]
fn sandbox_killer_kills_everything_from_another_thread() {
    let fx = Fixture::new();
    let spec = fx.python_spec(
        "killer",
        "import os, time
for _ in range(4):
    if os.fork() == 0:
        os.setsid()
        break
print('sleeping', flush=True)
time.sleep(60)
",
    );
    let mut env = fx.launch(&spec);
    let uid = env.uid();
    let out = collect(&mut env);
    let killer = env.killer();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    std::thread::spawn(move || killer.kill()).join().unwrap();
    env.killer().kill(); // idempotent
    let info = env.wait();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(info.status, ExitStatus::Signal(9));
    let text = out.join().unwrap_or_default();
    fx.assert_host_unharmed("killer", uid, &text);
}

#[test]
fn sandbox_dropping_an_environment_kills_it() {
    let fx = Fixture::new();
    let spec = fx.python_spec("dropped", "import time\ntime.sleep(60)\n");
    let env = fx.launch(&spec);
    let uid = env.uid();
    drop(env);
    fx.assert_host_unharmed("dropped", uid, "");
}

#[test]
fn sandbox_init_reaps_orphans() {
    let fx = Fixture::new();
    let script = "import os, time
for _ in range(5):
    if os.fork() == 0:
        if os.fork() == 0:
            os._exit(0)   # grandchild: orphaned, reparented to the sandbox init
        time.sleep(0.1)
        os._exit(0)
    # children are not waited for on purpose... except at the end
time.sleep(0.5)
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
zombies = []
for pid in os.listdir('/proc'):
    if pid.isdigit():
        try:
            state = [l for l in open(f'/proc/{pid}/status') if l.startswith('State:')][0]
        except OSError:
            continue
        if 'Z' in state.split()[1]:
            zombies.append(pid)
print('zombies', len(zombies), flush=True)
";
    let (info, out) = fx.run_python("reaper", script);
    assert_eq!(info.status, ExitStatus::Code(0), "{out}");
    expect_line(&out, "zombies 0");
}
