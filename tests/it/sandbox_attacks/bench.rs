//! Launch cost, with and without a spare prepared ahead, for SANDBOX-NOTES.md (ignored by
//! default; run with
//! `LAMBDABOX_BENCH_BIN=/path/to/static-true cargo test --release --test it sandbox_bench -- --ignored --nocapture`).

use std::process::Command;
use std::time::{Duration, Instant};

use super::support::Fixture;
use lambdabox::sandbox::{EnvSpec, ExitStatus, Mount, Shape};

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn report(name: &str, v: &mut [Duration]) {
    let (p50, p99) = (pct(v, 0.50), pct(v, 0.99));
    println!(
        "{name:<40} n={:<4} p50={:>8.3} ms  p99={:>8.3} ms",
        v.len(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
}

#[test]
#[ignore]
fn sandbox_bench_launch_to_exec() {
    let bin =
        std::env::var("LAMBDABOX_BENCH_BIN").unwrap_or_else(|_| "/tmp/lbx/true-static".into());
    let runs: usize = std::env::var("LAMBDABOX_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let fx = Fixture::new();
    let dir = std::path::Path::new(&bin).parent().unwrap().to_path_buf();
    let name = std::path::Path::new(&bin)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();

    let mut bare = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let st = Command::new(&bin).status().unwrap();
        bare.push(t.elapsed());
        assert!(st.success());
    }
    for (label, idle) in [
        ("back to back", Duration::ZERO),
        ("after 50 ms idle", Duration::from_millis(50)),
    ] {
        let mut launch = Vec::new();
        let mut teardown = Vec::new();
        let n = if idle.is_zero() { runs } else { runs / 4 };
        for i in 0..n {
            std::thread::sleep(idle);
            let mut spec = EnvSpec::new(format!("bench-{i}"), vec![format!("/var/task/{name}")]);
            spec.mounts = vec![Mount::ro(&dir, "/var/task")];
            let t = Instant::now();
            let env = fx.sandbox.launch(&spec).unwrap();
            launch.push(t.elapsed());
            let t = Instant::now();
            let info = env.wait();
            teardown.push(t.elapsed());
            assert_eq!(info.status, ExitStatus::Code(0));
        }
        report(&format!("sandbox launch→exec ({label})"), &mut launch);
        report(&format!("sandbox exit→torn down ({label})"), &mut teardown);
        // The same with a spare prepared ahead (untimed): what a cold start pays with a spare.
        let mut finish = Vec::new();
        for i in 0..n {
            let id = format!("bench-spare-{i}");
            let mut spec = EnvSpec::new(id.clone(), vec![format!("/var/task/{name}")]);
            spec.mounts = vec![Mount::ro(&dir, "/var/task")];
            let shape = Shape::of(&spec).unwrap();
            let spare = fx.sandbox.prepare(&id, shape).unwrap();
            std::thread::sleep(idle);
            let t = Instant::now();
            let env = fx.sandbox.finish(spare, &spec).unwrap();
            finish.push(t.elapsed());
            assert_eq!(env.wait().status, ExitStatus::Code(0));
        }
        report(&format!("spare finish→exec ({label})"), &mut finish);
    }
    report("bare spawn+exec+wait", &mut bare);
}
