//! `lambdabox doctor`: checks the host the daemon runs on and prints one row per check, with
//! a fix for each problem. Exits non-zero when something blocks functions from running (or
//! the daemon from starting).
//!
//! It reuses the sandbox's own start-up self-check ([`Sandbox::new`] and its
//! [`crate::sandbox::Protections`]) in a private cgroup parent and state directory, so it
//! never touches a running daemon's environments, and adds what the self-check does not
//! print: cgroup hierarchies and options, namespaces, runtimes, the data directory, the
//! listen port and the clock. It changes nothing except that private scratch space.

use std::fmt::Write as _;
use std::path::Path;

use crate::catalog::table::Family;
use crate::catalog::{Availability, Catalog};
use crate::config::Config;
use crate::sandbox::{host, Sandbox, SandboxSettings};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Works, but worse than it could (or a feature is missing).
    Warn,
    /// Blocks functions or the daemon.
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Row {
    pub check: String,
    pub status: Status,
    pub detail: String,
    /// What to do; empty when nothing is needed.
    pub fix: String,
}

fn row(check: &str, status: Status, detail: impl Into<String>, fix: impl Into<String>) -> Row {
    Row {
        check: check.into(),
        status,
        detail: detail.into(),
        fix: fix.into(),
    }
}

/// Runs every check.
pub fn run(config: &Config) -> Vec<Row> {
    let mut rows = Vec::new();
    sandbox_rows(config, &mut rows);
    network_rows(config, &mut rows);
    kernel_rows(&host::probe(), &mut rows);
    runtime_rows(&Catalog::detect(&config.runtimes), &mut rows);
    data_dir_rows(&config.data_dir, &mut rows);
    rows.push(port_row(config));
    rows.push(clock_row());
    rows
}

/// Internet-only networking (`sandbox.default_network`, internet subnets): root, nftables,
/// forwarding and whether the rules are installed.
fn network_rows(config: &Config, rows: &mut Vec<Row>) {
    let sb = &config.sandbox;
    let wanted =
        sb.default_network == "internet" || sb.subnets.values().any(|s| s.mode() == "internet");
    let missing = if wanted { Status::Fail } else { Status::Warn };
    for (check, ok, detail) in crate::sandbox::network::diagnose() {
        let fix = match (ok, check) {
            (true, _) => "",
            (false, "root") => "run the daemon as root (the packaged service does)",
            (false, "nftables") => "apt-get install nftables",
            (false, _) => "see the detail",
        };
        let status = if ok { Status::Ok } else { missing };
        rows.push(row(
            &format!("internet networking: {check}"),
            status,
            detail,
            fix,
        ));
    }
    if !wanted {
        rows.push(row(
            "internet networking: in use",
            Status::Ok,
            "sandbox.default_network = \"none\" and no internet subnet: not needed",
            "",
        ));
    }
}

fn sandbox_rows(config: &Config, rows: &mut Vec<Row>) {
    let pid = std::process::id();
    let state_dir = std::env::temp_dir().join(format!("lambdabox-doctor-{pid}"));
    let settings = SandboxSettings {
        uid_range: (config.sandbox.uid_min, config.sandbox.uid_max),
        cgroup_parent: format!("{}-doctor-{pid}", config.sandbox.cgroup_parent),
        allow_degraded: true,
        state_dir: state_dir.clone(),
    };
    let probed = Sandbox::new(settings);
    let _ = std::fs::remove_dir_all(&state_dir);
    let sandbox = match probed {
        Ok(s) => s,
        Err(e) => {
            rows.push(row(
                "sandbox self-check",
                Status::Fail,
                e.to_string(),
                "run as root (the service does) or fix the error above",
            ));
            return;
        }
    };
    let p = sandbox.protections().clone();
    drop(sandbox);
    let blocking = if config.sandbox.allow_degraded {
        Status::Warn
    } else {
        Status::Fail
    };
    rows.push(if p.complete() {
        row("sandbox self-check", Status::Ok, "every protection active", "")
    } else {
        row(
            "sandbox self-check",
            blocking,
            format!("missing: {}", p.missing.join("; ")),
            if config.sandbox.allow_degraded {
                "sandbox.allow_degraded is set: functions run WITHOUT these protections"
            } else {
                "functions cannot run: fix what is missing (or set sandbox.allow_degraded = true to run them with weaker isolation)"
            },
        )
    });
    rows.push(match p.landlock_abi {
        0 => row(
            "landlock",
            blocking,
            "unavailable",
            "a kernel with CONFIG_SECURITY_LANDLOCK=y and landlock in the lsm= boot list",
        ),
        abi if abi < 6 => row(
            "landlock",
            Status::Warn,
            format!("ABI {abi}: file rules only, no signal/abstract-socket scoping"),
            "kernel 6.12 or later gives ABI 6",
        ),
        abi => row("landlock", Status::Ok, format!("ABI {abi}"), ""),
    });
    rows.push(match p.seccomp_rules {
        Some((a, d)) => row(
            "seccomp",
            Status::Ok,
            format!("filter mode: allow-list of {a} syscalls, {d} deny rules"),
            "",
        ),
        None => row(
            "seccomp",
            blocking,
            "unavailable",
            "a kernel with CONFIG_SECCOMP_FILTER=y",
        ),
    });
    rows.push(match &p.cgroups {
        Some(c) => row(
            "cgroup delegation",
            Status::Ok,
            format!("writable: {c}"),
            "",
        ),
        None if p.user_namespace => row(
            "cgroup delegation",
            Status::Warn,
            "no writable cgroup: memory and CPU limits fall back to rlimits",
            "run as the systemd service (Delegate=yes) or as root",
        ),
        None => row(
            "cgroup delegation",
            blocking,
            "no writable memory controller",
            "mount the cgroup memory controller (cgroup v2: enable it in cgroup.subtree_control)",
        ),
    });
}

fn kernel_rows(f: &host::HostFacts, rows: &mut Vec<Row>) {
    let v2 = match &f.cgroup2 {
        Some((mp, _)) if !f.cgroup2_controllers.is_empty() => format!(
            "v2 at {} ({})",
            mp.display(),
            f.cgroup2_controllers.join(", ")
        ),
        Some((mp, _)) => format!("v2 at {} (no controllers)", mp.display()),
        None => "no v2".into(),
    };
    let v1 = if f.cgroup1_controllers.is_empty() {
        "no v1".to_string()
    } else {
        format!("v1 ({})", f.cgroup1_controllers.join(", "))
    };
    rows.push(row(
        "cgroup hierarchies",
        Status::Ok,
        format!("{v2}; {v1}"),
        "",
    ));
    let missing: Vec<&str> = f
        .namespaces
        .iter()
        .filter(|(k, on)| !on && *k != "cgroup")
        .map(|(k, _)| *k)
        .collect();
    let euid_root = Path::new("/proc/self").metadata().is_ok_and(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid() == 0
    });
    rows.push(if !missing.is_empty() {
        row(
            "namespaces",
            Status::Fail,
            format!("missing: {}", missing.join(", ")),
            "a kernel with CONFIG_USER_NS, CONFIG_PID_NS, CONFIG_NET_NS",
        )
    } else if !euid_root && !f.unprivileged_userns {
        row(
            "namespaces",
            Status::Fail,
            "not root and unprivileged user namespaces are disabled",
            "run as root (the service does) or sysctl kernel.unprivileged_userns_clone=1",
        )
    } else {
        let all: Vec<&str> = f
            .namespaces
            .iter()
            .filter(|(_, on)| *on)
            .map(|(k, _)| *k)
            .collect();
        row("namespaces", Status::Ok, all.join(", "), "")
    });
    rows.push(match &f.cgroup2 {
        Some(_) if f.favordynmods() => row("cgroup_favordynmods", Status::Ok, "on", ""),
        Some((mp, _)) => row(
            "cgroup_favordynmods",
            Status::Warn,
            "off: creating an environment's cgroup is slower",
            format!(
                "kernel 6.0+: mount -o remount,favordynmods {} (or boot with cgroup_favordynmods=true)",
                mp.display()
            ),
        ),
        None => row("cgroup_favordynmods", Status::Warn, "no cgroup v2", "boot with systemd.unified_cgroup_hierarchy=1"),
    });
    rows.push(if f.clone_into_cgroup() {
        row("CLONE_INTO_CGROUP", Status::Ok, format!("kernel {} with cgroup v2 controllers", f.kernel_release), "")
    } else {
        row(
            "CLONE_INTO_CGROUP",
            Status::Warn,
            format!("unavailable (kernel {}, needs 5.7+ and cgroup v2 controllers): environments join their cgroup through cgroup.procs", f.kernel_release),
            "kernel 5.7+ with the unified cgroup v2 hierarchy",
        )
    });
}

fn runtime_rows(catalog: &Catalog, rows: &mut Vec<Row>) {
    let mut found = Vec::new();
    for (spec, avail) in catalog.table() {
        match avail {
            Availability::Available(_) => found.push(spec.id),
            Availability::Missing(_)
                if matches!(spec.family, Family::Retired | Family::Dotnet(_)) => {}
            Availability::Missing(install) => rows.push(row(
                &format!("runtime {}", spec.id),
                Status::Warn,
                "missing",
                format!("install {install}"),
            )),
        }
    }
    rows.push(row("runtimes available", Status::Ok, found.join(", "), ""));
}

fn data_dir_rows(dir: &Path, rows: &mut Vec<Row>) {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let shown = dir.display().to_string();
    match std::fs::metadata(dir) {
        Err(_) => rows.push(row(
            "data dir",
            Status::Ok,
            format!("{shown} does not exist yet; serve creates it (0700)"),
            "",
        )),
        Ok(m) => {
            let mode = m.permissions().mode() & 0o777;
            let probe = dir.join(format!(".doctor-{}", std::process::id()));
            let writable = std::fs::write(&probe, b"").is_ok();
            let _ = std::fs::remove_file(&probe);
            let me = std::fs::metadata("/proc/self")
                .map(|m| m.uid())
                .unwrap_or(u32::MAX);
            rows.push(if !writable {
                row(
                    "data dir",
                    Status::Fail,
                    format!("{shown}: not writable by uid {me}"),
                    format!("chown {me} {shown}"),
                )
            } else if mode & 0o077 != 0 {
                row(
                    "data dir",
                    Status::Warn,
                    format!("{shown}: mode {mode:o}, others can read it (it holds key secrets)"),
                    format!("chmod 700 {shown} (serve also does this at start)"),
                )
            } else {
                row(
                    "data dir",
                    Status::Ok,
                    format!("{shown}: mode {mode:o}, owner uid {}", m.uid()),
                    "",
                )
            });
        }
    }
    let mut at = dir.to_path_buf();
    while !at.exists() {
        if !at.pop() {
            break;
        }
    }
    if at.as_os_str().is_empty() {
        at = ".".into();
    }
    rows.push(match rustix::fs::statvfs(&at) {
        Ok(s) => {
            let free = s.f_bavail.saturating_mul(s.f_frsize);
            let mb = free / 1_000_000;
            let status = if mb < 100 {
                Status::Fail
            } else if mb < 1000 {
                Status::Warn
            } else {
                Status::Ok
            };
            let fix = if status == Status::Ok {
                ""
            } else {
                "free disk space (code, layers and logs live in the data dir)"
            };
            row(
                "free space",
                status,
                format!("{mb} MB free on {}", at.display()),
                fix,
            )
        }
        Err(e) => row(
            "free space",
            Status::Warn,
            format!("cannot stat {}: {e}", at.display()),
            "",
        ),
    });
}

fn port_row(config: &Config) -> Row {
    let addr = config.listen;
    match std::net::TcpListener::bind(addr) {
        Ok(_) => row("listen port", Status::Ok, format!("{addr} is free"), ""),
        Err(e) => {
            let ours = config.data_dir.exists()
                && matches!(
                    crate::lock::acquire(&config.data_dir),
                    Err(crate::lock::LockError::Held { .. })
                );
            if ours {
                row(
                    "listen port",
                    Status::Ok,
                    format!("{addr} is in use by the lambdabox serving this data dir"),
                    "",
                )
            } else {
                row(
                    "listen port",
                    Status::Fail,
                    format!("cannot listen on {addr}: {e}"),
                    "stop what uses it, or choose another address (--listen / listen =)",
                )
            }
        }
    }
}

fn clock_row() -> Row {
    let now = time::OffsetDateTime::now_utc();
    let shown = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    if now.year() < 2025 || now.year() > 2100 {
        return row(
            "clock",
            Status::Fail,
            format!("{shown} is not plausible: signatures and schedules would be wrong"),
            "set the time and enable NTP (apt install systemd-timesyncd)",
        );
    }
    let synced = Path::new("/run/systemd/timesync/synchronized").exists();
    let detail = if synced {
        format!("{shown} UTC, synchronized (systemd-timesyncd)")
    } else {
        format!("{shown} UTC (no NTP sync state found; SigV4 allows 5 minutes of skew)")
    };
    row("clock", Status::Ok, detail, "")
}

/// The report as a table, one row per check (and its fix below when there is one).
pub fn render(rows: &[Row]) -> String {
    let mut out = format!("{:<24} {:<6} {}\n", "CHECK", "STATUS", "DETAIL / FIX");
    for r in rows {
        let status = match r.status {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        };
        let _ = writeln!(out, "{:<24} {:<6} {}", r.check, status, r.detail);
        if !r.fix.is_empty() {
            let _ = writeln!(out, "{:<31} fix: {}", "", r.fix);
        }
    }
    out
}

/// The exit code: 1 when any check blocks functions.
pub fn exit_code(rows: &[Row]) -> i32 {
    i32::from(rows.iter().any(|r| r.status == Status::Fail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_row_sets_the_exit_code_and_prints_its_fix() {
        let rows = vec![
            row("a", Status::Ok, "fine", ""),
            row("b", Status::Warn, "meh", "do x"),
        ];
        assert_eq!(exit_code(&rows), 0);
        let mut rows = rows;
        rows.push(row("c", Status::Fail, "broken", "do y"));
        assert_eq!(exit_code(&rows), 1);
        let text = render(&rows);
        assert!(text.contains("FAIL"), "{text}");
        assert!(text.contains("fix: do y"), "{text}");
        assert!(!text.contains("fix: \n"), "{text}");
    }
}
