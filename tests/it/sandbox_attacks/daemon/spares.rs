//! Spare environments (`engine.spare_environments`) through the real daemon: a cold start
//! takes a spare made after an earlier cold start, the spare's environment looks and is
//! confined exactly like a launched one, a spare serves one function only, spares count in
//! the memory budget (admission tears one down before it evicts an idle environment), and
//! nothing of a spare survives the daemon's shutdown.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use super::{create_python, daemon, invoke_ok};
use crate::fixture::Daemon;
use crate::sandbox_attacks::support::cgroup_dir;

/// What an environment looks like from inside, split into what must be the same in every
/// environment (`same`) and what is the environment's own (`own`).
const PROBE: &str = r#"
import os, socket, resource
def read(p):
    try:
        with open(p) as f:
            return f.read()
    except OSError as e:
        return f'<{e.__class__.__name__}>'
def handler(event, context):
    status = dict(l.split(':', 1) for l in read('/proc/self/status').splitlines() if ':' in l)
    keep = ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp',
            'Seccomp_filters', 'Groups']
    host = socket.gethostname()
    mounts = sorted(l.split()[4] for l in read('/proc/self/mountinfo').splitlines())
    limits = {n: resource.getrlimit(getattr(resource, n)) for n in
              ['RLIMIT_NOFILE', 'RLIMIT_CORE', 'RLIMIT_FSIZE', 'RLIMIT_NPROC', 'RLIMIT_MEMLOCK']}
    st = os.statvfs('/tmp')
    same = {
        'status': {k: status.get(k, '').strip() for k in keep},
        'mounts': mounts,
        'limits': limits,
        'tmp_bytes': st.f_blocks * st.f_frsize,
        'interfaces': sorted(n for _, n in socket.if_nameindex()),
        'resolv': read('/etc/resolv.conf'),
        'hosts': read('/etc/hosts').replace(host, 'HOST'),
        'cgroup': read('/proc/self/cgroup'),
        'shadow': read('/etc/shadow')[:40],
        'pid': os.getpid(),
        'runtime_api': os.environ.get('AWS_LAMBDA_RUNTIME_API'),
        'memory': os.environ.get('AWS_LAMBDA_FUNCTION_MEMORY_SIZE'),
        'cwd': os.getcwd(),
        'task': sorted(os.listdir('/var/task')),
    }
    own = {'host': host, 'uid': os.getuid(), 'gid': os.getgid(),
           'function': os.environ.get('AWS_LAMBDA_FUNCTION_NAME'),
           'boot_id': read('/proc/sys/kernel/random/boot_id').strip()}
    return {'same': same, 'own': own}
"#;

/// The daemon's cgroup parent (as `freeze.rs` finds it).
fn parent_of(data_dir: &Path) -> String {
    let dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    use sha2::Digest as _;
    let digest = hex::encode(sha2::Sha256::digest(dir.as_os_str().as_encoded_bytes()));
    format!("lambdabox-{}", &digest[..8])
}

/// Environment groups (live environments and spares) of the daemon, by id.
fn env_groups(d: &Daemon) -> BTreeSet<String> {
    let dir = cgroup_dir("memory", &parent_of(&d.data_dir));
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("lbx-"))
        .collect()
}

/// Ready spares, from `/metrics`.
fn ready_spares(d: &Daemon) -> u64 {
    let text = d.get("/metrics").text().unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("lambdabox_spare_environments{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// Waits (generously: the machine may be loaded) until `/metrics` shows at least `n` ready
/// spares and none being prepared; returns the daemon's environment groups then.
#[track_caller]
fn wait_spares(d: &Daemon, n: u64) -> BTreeSet<String> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let text = d.get("/metrics").text().unwrap_or_default();
        let preparing = text
            .lines()
            .find_map(|l| l.strip_prefix("lambdabox_spare_environments_preparing "))
            .and_then(|v| v.trim().parse::<u64>().ok());
        if ready_spares(d) >= n && preparing == Some(0) {
            return env_groups(d);
        }
        assert!(
            Instant::now() < deadline,
            "no {n} ready spares after 90 s; /metrics:\n{text}\nlog:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn probe(d: &Daemon, name: &str) -> (serde_json::Value, serde_json::Value) {
    let v = invoke_ok(d, name, &serde_json::json!({}));
    (v["same"].clone(), v["own"].clone())
}

fn host(own: &serde_json::Value) -> String {
    own["host"].as_str().unwrap_or_default().to_string()
}

/// Host pids of the daemon's children (the sandbox helpers).
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(p);
        }
    }
    out
}

/// Host links (`lbx*`/`lbv*`) whose `ifalias` names one of `helpers`.
fn links_of(helpers: &[u32]) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/sys/class/net")
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        if !(name.starts_with("lbx") || name.starts_with("lbv")) {
            continue;
        }
        let alias = std::fs::read_to_string(e.path().join("ifalias")).unwrap_or_default();
        let owner = alias
            .trim()
            .strip_prefix("lambdabox pid ")
            .and_then(|p| p.parse::<u32>().ok());
        if owner.is_some_and(|p| helpers.contains(&p)) {
            out.push(name);
        }
    }
    out
}

#[test]
fn sandbox_daemon_cold_starts_take_spares_one_function_each() {
    let mut d = daemon(&[("LAMBDABOX_ENGINE__SPARE_ENVIRONMENTS", "2")]);
    for name in ["plain", "spared", "third"] {
        create_python(&d, name, PROBE, 128, 20);
    }
    // No spare yet: a plain launch. Its cold start asks for one spare of its shape.
    let (same_a, own_a) = probe(&d, "plain");
    let groups = wait_spares(&d, 1);
    let spares: Vec<String> = groups.into_iter().filter(|g| *g != host(&own_a)).collect();
    assert_eq!(spares.len(), 1, "one spare expected: {spares:?}");

    // The next cold start (another function) takes it, and sees what a launch sees.
    let (same_b, own_b) = probe(&d, "spared");
    assert_eq!(
        host(&own_b),
        spares[0],
        "the cold start did not take the spare"
    );
    assert_eq!(
        same_a, same_b,
        "a spare's environment differs from a launched one"
    );
    assert_eq!(own_b["function"], "spared");
    assert!(
        same_b["shadow"]
            .as_str()
            .unwrap_or_default()
            .starts_with('<'),
        "/etc/shadow readable: {same_b}"
    );

    // Two cold starts in the last minute ask for two spares (one if the first is over a
    // minute old on a slow machine). A third function takes one of them, never the
    // environment the second function ran in.
    let groups = wait_spares(&d, 1);
    let (_, own_c) = probe(&d, "third");
    assert!(
        groups.contains(&host(&own_c))
            && host(&own_c) != host(&own_b)
            && host(&own_c) != host(&own_a),
        "third took {} (spares and envs: {groups:?})",
        host(&own_c)
    );
    let (_, again_b) = probe(&d, "spared");
    assert_eq!(
        host(&again_b),
        host(&own_b),
        "the spared function's warm env changed"
    );
    let uids: BTreeSet<String> = [&own_a, &own_b, &own_c]
        .iter()
        .map(|o| o["uid"].to_string())
        .collect();
    assert_eq!(uids.len(), 3, "uids not fresh: {own_a} {own_b} {own_c}");
    let boots: BTreeSet<String> = [&own_a, &own_b, &own_c]
        .iter()
        .map(|o| o["boot_id"].to_string())
        .collect();
    assert_eq!(boots.len(), 3, "boot ids shared: {own_a} {own_b} {own_c}");

    // Shutdown: spares go with everything else.
    wait_spares(&d, 1);
    let helpers = children_of(d.pid());
    assert!(!helpers.is_empty(), "no sandbox helpers found");
    let status = d
        .signal_and_wait("TERM", Duration::from_secs(30))
        .expect("lambdabox still running 30 s after SIGTERM");
    assert!(status.success(), "exit status {status:?}");
    assert!(
        env_groups(&d).is_empty(),
        "groups left: {:?}",
        env_groups(&d)
    );
    let alive: Vec<u32> = helpers
        .iter()
        .copied()
        .filter(|p| Path::new(&format!("/proc/{p}")).exists())
        .collect();
    assert!(alive.is_empty(), "helpers survived: {alive:?}");
    let links = links_of(&helpers);
    assert!(links.is_empty(), "veths left: {links:?}");
}

#[test]
fn sandbox_daemon_spares_count_in_the_memory_budget() {
    let d = daemon(&[
        ("LAMBDABOX_ENGINE__SPARE_ENVIRONMENTS", "1"),
        ("LAMBDABOX_ENGINE__MEMORY_BUDGET_MB", "768"),
    ]);
    create_python(&d, "small", PROBE, 128, 20);
    create_python(&d, "big", PROBE, 640, 20);
    let (_, own_small) = probe(&d, "small");
    let groups = wait_spares(&d, 1);
    assert_eq!(
        groups.len(),
        2,
        "an environment and a spare expected: {groups:?}"
    );
    // 128 (small) + 128 (spare) + 640 > 768: admission must tear the spare down, and it does
    // so before it evicts the idle environment of `small`.
    let (_, own_big) = probe(&d, "big");
    assert_eq!(ready_spares(&d), 0);
    let (_, again) = probe(&d, "small");
    assert_eq!(
        host(&again),
        host(&own_small),
        "the idle environment was evicted"
    );
    let expected: BTreeSet<String> = [host(&own_small), host(&own_big)].into_iter().collect();
    assert_eq!(env_groups(&d), expected);
}
