//! The seccomp allow-list: reviewed data in `policy/seccomp.json`, compiled once with
//! seccompiler when the `Sandbox` is created, shipped to the helper as plain BPF.
//!
//! Ordering rule: the filters are installed LAST, after mounts, identity changes, rlimits and
//! landlock, immediately before `execve` (the set-up itself needs calls the policy refuses).
//!
//! Shape: program 0 is the allow-list (a listed syscall is allowed, anything else gets the
//! policy's default errno, ENOSYS); after it, one program per errno of the `deny` rules (a
//! matching call gets that errno, anything else is allowed). The kernel runs every installed
//! program and keeps the most severe action; between two errnos, the one of the program
//! installed LAST, so a deny rule always wins over the allow-list and argument filters (socket
//! families, clone flags, ioctl requests, prctl options) are deny rules on allowed syscalls.
//! Every program starts with seccompiler's architecture check, which kills the process on a
//! call of another ABI (i386 `int 0x80` on x86_64); on x86_64 a guard in front of the
//! allow-list rejects x32 syscall numbers with EPERM. Syscalls whose answer does not depend on
//! their arguments are served from the kernel's seccomp action cache, so the long list costs
//! nothing on them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::SandboxError;

/// The reviewed policy, embedded in the binary.
pub const POLICY_JSON: &str = include_str!("policy/seccomp.json");

/// One BPF instruction in a form serde can carry to the helper: (code, jt, jf, k).
pub type Insn = (u16, u8, u8, u32);

#[derive(Debug, Deserialize)]
struct Policy {
    version: u32,
    default: DefaultAction,
    allow: Vec<Rule>,
    deny: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
struct DefaultAction {
    errno: String,
    reason: String,
}

#[derive(Debug, Deserialize)]
struct Rule {
    syscall: String,
    /// Deny rules only: the errno a matching call gets.
    #[serde(default)]
    errno: Option<String>,
    reason: String,
    #[serde(default)]
    arch: Option<Vec<String>>,
    #[serde(default)]
    args: Option<Value>,
    /// Allow rules: runtime families that made the call when the policy was measured.
    #[serde(default)]
    #[allow(dead_code)]
    seen: Vec<String>,
}

/// A compiled policy: the BPF programs to install, in order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Compiled {
    pub programs: Vec<Vec<Insn>>,
    /// Syscalls the allow-list lets through on this architecture.
    pub allowed: usize,
    /// Deny rules (refused syscalls and argument filters) on this architecture.
    pub denied: usize,
}

fn errno_value(name: &str) -> Option<u32> {
    let v = match name {
        "EPERM" => libc::EPERM,
        "ENOSYS" => libc::ENOSYS,
        "EACCES" => libc::EACCES,
        "EINVAL" => libc::EINVAL,
        "ENOTTY" => libc::ENOTTY,
        "EAFNOSUPPORT" => libc::EAFNOSUPPORT,
        _ => return None,
    };
    u32::try_from(v).ok()
}

fn parse() -> Result<Policy, SandboxError> {
    let bad = |m: String| SandboxError::SeccompPolicy(m);
    let policy: Policy =
        serde_json::from_str(POLICY_JSON).map_err(|e| bad(format!("parse: {e}")))?;
    if policy.version != 2 {
        return Err(bad(format!("unknown version {}", policy.version)));
    }
    if errno_value(&policy.default.errno).is_none() || policy.default.reason.trim().is_empty() {
        return Err(bad(
            "the default action needs a known errno and a reason".into()
        ));
    }
    for rule in policy.allow.iter().chain(&policy.deny) {
        if rule.reason.trim().is_empty() {
            return Err(bad(format!("{} has no reason", rule.syscall)));
        }
    }
    let mut names: Vec<&str> = policy.allow.iter().map(|r| r.syscall.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(bad(format!("{} is allowed twice", w[0])));
    }
    for rule in &policy.allow {
        if rule.errno.is_some() {
            return Err(bad(format!("allow entry {} has an errno", rule.syscall)));
        }
    }
    for rule in &policy.deny {
        match rule.errno.as_deref().map(errno_value) {
            Some(Some(_)) => {}
            _ => {
                return Err(bad(format!(
                    "deny rule {}: missing or unknown errno {:?}",
                    rule.syscall, rule.errno
                )))
            }
        }
    }
    Ok(policy)
}

fn applies(rule: &Rule, arch: &str) -> bool {
    rule.arch
        .as_ref()
        .map_or(true, |list| list.iter().any(|a| a == arch))
}

fn entry(rule: &Rule) -> Value {
    let mut e = json!({ "syscall": rule.syscall, "comment": rule.reason });
    if let Some(args) = &rule.args {
        e["args"] = args.clone();
    }
    e
}

/// Compiles the policy for `arch` ("x86_64" or "aarch64").
pub fn compile(arch: &str) -> Result<Compiled, SandboxError> {
    let policy = parse()?;
    let target = seccompiler::TargetArch::try_from(arch)
        .map_err(|e| SandboxError::SeccompPolicy(format!("arch {arch}: {e}")))?;
    let default = errno_value(&policy.default.errno).unwrap_or(libc::ENOSYS as u32);
    let allow: Vec<Value> = policy
        .allow
        .iter()
        .filter(|r| applies(r, arch))
        .map(entry)
        .collect();
    let allowed = allow.len();
    // Deny rules grouped by errno: seccompiler gives one match action per filter.
    let mut groups: BTreeMap<u32, Vec<Value>> = BTreeMap::new();
    let mut denied = 0;
    for rule in policy.deny.iter().filter(|r| applies(r, arch)) {
        let errno = rule
            .errno
            .as_deref()
            .and_then(errno_value)
            .unwrap_or(libc::EPERM as u32);
        groups.entry(errno).or_default().push(entry(rule));
        denied += 1;
    }
    let mut filters = serde_json::Map::new();
    filters.insert(
        "allow".into(),
        json!({ "mismatch_action": { "errno": default }, "match_action": "allow", "filter": allow }),
    );
    for (errno, filter) in &groups {
        filters.insert(
            format!("errno_{errno}"),
            json!({ "mismatch_action": "allow", "match_action": { "errno": errno }, "filter": filter }),
        );
    }
    let text = Value::Object(filters).to_string();
    let map = seccompiler::compile_from_json(text.as_bytes(), target)
        .map_err(|e| SandboxError::SeccompPolicy(format!("compile for {arch}: {e}")))?;
    let names = std::iter::once("allow".to_string())
        .chain(groups.keys().map(|errno| format!("errno_{errno}")));
    let mut programs: Vec<Vec<Insn>> = Vec::new();
    for name in names {
        let prog = map.get(&name).ok_or_else(|| {
            SandboxError::SeccompPolicy(format!("compiled filter {name} missing"))
        })?;
        let mut insns: Vec<Insn> = Vec::new();
        if programs.is_empty() && arch == "x86_64" {
            insns.extend(x32_guard());
        }
        insns.extend(prog.iter().map(|f| (f.code, f.jt, f.jf, f.k)));
        programs.push(insns);
    }
    Ok(Compiled {
        programs,
        allowed,
        denied,
    })
}

/// `if (nr & __X32_SYSCALL_BIT) return ERRNO(EPERM)`, placed before the generated program
/// (which reloads what it needs, so prepending keeps its relative jumps valid).
fn x32_guard() -> Vec<Insn> {
    const BPF_LD_W_ABS: u16 = 0x20;
    const BPF_JMP_JSET_K: u16 = 0x45;
    const BPF_RET_K: u16 = 0x06;
    const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
    vec![
        (BPF_LD_W_ABS, 0, 0, 0), // seccomp_data.nr
        (BPF_JMP_JSET_K, 0, 1, 0x4000_0000),
        (BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | libc::EPERM as u32),
    ]
}

/// The architecture this binary runs on, as seccompiler names it.
pub fn native_arch() -> &'static str {
    std::env::consts::ARCH
}

/// Converts to the kernel's instruction type.
pub fn to_sock_filters(insns: &[Insn]) -> Vec<libc::sock_filter> {
    insns
        .iter()
        .map(|&(code, jt, jf, k)| libc::sock_filter { code, jt, jf, k })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Calls the sandbox refused since issue 3: still refused (EPERM unless noted).
    const REQUIRED: &[&str] = &[
        "mount",
        "umount2",
        "pivot_root",
        "chroot",
        "ptrace",
        "process_vm_readv",
        "process_vm_writev",
        "kexec_load",
        "kexec_file_load",
        "init_module",
        "finit_module",
        "delete_module",
        "bpf",
        "perf_event_open",
        "keyctl",
        "add_key",
        "request_key",
        "reboot",
        "swapon",
        "swapoff",
        "unshare",
        "setns",
        "userfaultfd",
        "open_by_handle_at",
        "acct",
        "settimeofday",
        "clock_settime",
        "syslog",
        "quotactl",
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
    ];

    fn allowed(policy: &Policy, arch: &str) -> Vec<String> {
        policy
            .allow
            .iter()
            .filter(|r| applies(r, arch))
            .map(|r| r.syscall.clone())
            .collect()
    }

    #[test]
    fn policy_parses_and_every_entry_has_a_reason() {
        let policy = parse().unwrap();
        assert!(policy
            .allow
            .iter()
            .chain(&policy.deny)
            .all(|r| r.reason.len() > 5));
        assert_eq!(policy.default.errno, "ENOSYS");
    }

    #[test]
    fn dangerous_calls_are_neither_allowed_nor_silently_defaulted() {
        let policy = parse().unwrap();
        for arch in ["x86_64", "aarch64"] {
            let allow = allowed(&policy, arch);
            for name in REQUIRED {
                assert!(!allow.iter().any(|a| a == name), "{name} allowed on {arch}");
                assert!(
                    policy
                        .deny
                        .iter()
                        .any(|r| r.syscall == *name && applies(r, arch)),
                    "{name} has no explicit deny rule on {arch}"
                );
            }
        }
    }

    #[test]
    fn what_the_runtimes_were_measured_calling_is_allowed_on_both_arches() {
        let policy = parse().unwrap();
        for rule in policy.allow.iter().filter(|r| !r.seen.is_empty()) {
            assert!(
                rule.arch.is_none()
                    || rule
                        .arch
                        .as_ref()
                        .is_some_and(|a| a.iter().any(|x| x == "x86_64")),
                "{} was measured on x86_64 but is not allowed there",
                rule.syscall
            );
        }
        // The core of every runtime, on both architectures.
        for arch in ["x86_64", "aarch64"] {
            let allow = allowed(&policy, arch);
            for name in [
                "read",
                "write",
                "openat",
                "close",
                "mmap",
                "futex",
                "clone",
                "execve",
                "epoll_pwait",
                "socket",
                "connect",
                "rt_sigaction",
                "exit_group",
                "wait4",
            ] {
                assert!(
                    allow.iter().any(|a| a == name),
                    "{name} not allowed on {arch}"
                );
            }
        }
        let seen: Vec<&str> = policy
            .allow
            .iter()
            .flat_map(|r| r.seen.iter().map(String::as_str))
            .collect();
        for family in [
            "python",
            "node",
            "rust",
            "awslambdaric",
            "ruby",
            "go",
            "java",
        ] {
            assert!(
                seen.contains(&family),
                "no measurement recorded for {family}"
            );
        }
    }

    #[test]
    fn argument_filters_cover_sockets_clone_ioctl_and_prctl() {
        let policy = parse().unwrap();
        let rule_vals = |name: &str, errno: &str| -> Vec<u64> {
            policy
                .deny
                .iter()
                .filter(|r| r.syscall == name && r.errno.as_deref() == Some(errno))
                .flat_map(|r| {
                    r.args
                        .as_ref()
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default()
                })
                .filter_map(|a| a.get("val")?.as_u64())
                .collect()
        };
        // socket: every family but AF_UNIX, AF_INET, AF_INET6, AF_NETLINK is refused …
        let families = rule_vals("socket", "EAFNOSUPPORT");
        for f in [1, 2, 10, 16] {
            assert!(families.contains(&f), "family {f} not in the socket filter");
        }
        // … and AF_VSOCK (40), AF_PACKET (17) are not among the exceptions.
        let first = policy.deny.iter().find(|r| r.syscall == "socket").unwrap();
        let exceptions: Vec<u64> = first
            .args
            .as_ref()
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["val"].as_u64())
            .collect();
        assert!(!exceptions.contains(&40) && !exceptions.contains(&17));
        // clone: every namespace flag.
        let flags = rule_vals("clone", "EPERM");
        for f in [
            0x80,
            0x20000,
            0x0200_0000,
            0x0400_0000,
            0x0800_0000,
            0x1000_0000,
            0x2000_0000,
            0x4000_0000,
        ] {
            assert!(flags.contains(&f), "clone flag {f:#x} not denied");
        }
        let clone3 = policy.deny.iter().find(|r| r.syscall == "clone3").unwrap();
        assert_eq!(clone3.errno.as_deref(), Some("ENOSYS"));
        // ioctl: TIOCSTI (0x5412) is not an allowed request; TCGETS and FIONBIO are.
        let ioctls = rule_vals("ioctl", "ENOTTY");
        assert!(!ioctls.contains(&0x5412) && ioctls.contains(&0x5401) && ioctls.contains(&0x5421));
        // prctl: PR_SET_NAME allowed, PR_SET_MM (35) not.
        let prctls = rule_vals("prctl", "EINVAL");
        assert!(prctls.contains(&15) && !prctls.contains(&35));
    }

    #[test]
    fn compiles_for_both_arches() {
        for arch in ["x86_64", "aarch64"] {
            let c = compile(arch).unwrap();
            assert!(c.programs.len() >= 2);
            assert!(c.allowed > 100 && c.denied >= REQUIRED.len());
            assert!(c.programs.iter().all(|p| p.len() < 4096));
        }
        let x86 = compile("x86_64").unwrap();
        assert_eq!(x86.programs[0][..3], x32_guard()[..]);
        let arm = compile("aarch64").unwrap();
        assert!(arm.allowed < x86.allowed, "legacy x86 calls are x86-only");
    }
}
