//! The seccomp deny-list: reviewed data in `policy/seccomp.json`, compiled once with
//! seccompiler when the `Sandbox` is created, shipped to the helper as plain BPF.
//!
//! Ordering rule: the filter is installed LAST, after mounts, identity changes, rlimits and
//! landlock, immediately before `execve` (it denies `mount`, `unshare` and friends that the set-up
//! itself needs). The default action is allow; each listed syscall returns its errno (EPERM, or
//! ENOSYS where callers fall back, e.g. `clone3` and io_uring). On x86_64 a guard in front of
//! the generated program rejects x32-ABI syscall numbers, which the deny-list would not match.

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
    rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
struct Rule {
    syscall: String,
    errno: String,
    reason: String,
    #[serde(default)]
    arch: Option<Vec<String>>,
    #[serde(default)]
    args: Option<Value>,
}

/// A compiled policy: one or more BPF programs to install in order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Compiled {
    pub programs: Vec<Vec<Insn>>,
    pub denied: usize,
}

fn errno_value(name: &str) -> Option<u32> {
    match name {
        "EPERM" => Some(libc::EPERM as u32),
        "ENOSYS" => Some(libc::ENOSYS as u32),
        "EACCES" => Some(libc::EACCES as u32),
        _ => None,
    }
}

fn parse() -> Result<Policy, SandboxError> {
    let policy: Policy = serde_json::from_str(POLICY_JSON)
        .map_err(|e| SandboxError::SeccompPolicy(format!("parse: {e}")))?;
    if policy.version != 1 {
        return Err(SandboxError::SeccompPolicy(format!(
            "unknown version {}",
            policy.version
        )));
    }
    for rule in &policy.rules {
        if rule.reason.trim().is_empty() {
            return Err(SandboxError::SeccompPolicy(format!(
                "{} has no reason",
                rule.syscall
            )));
        }
        if errno_value(&rule.errno).is_none() {
            return Err(SandboxError::SeccompPolicy(format!(
                "{}: unknown errno {}",
                rule.syscall, rule.errno
            )));
        }
    }
    Ok(policy)
}

/// Names of the syscalls the policy denies on `arch` (any argument form).
#[cfg(test)]
pub fn denied_syscalls(arch: &str) -> Result<Vec<String>, SandboxError> {
    let policy = parse()?;
    let mut names: Vec<String> = policy
        .rules
        .iter()
        .filter(|r| applies(r, arch))
        .map(|r| r.syscall.clone())
        .collect();
    names.dedup();
    Ok(names)
}

fn applies(rule: &Rule, arch: &str) -> bool {
    rule.arch
        .as_ref()
        .as_ref()
        .map_or(true, |list| list.iter().any(|a| a == arch))
}

/// Compiles the policy for `arch` ("x86_64" or "aarch64").
pub fn compile(arch: &str) -> Result<Compiled, SandboxError> {
    let policy = parse()?;
    let target = seccompiler::TargetArch::try_from(arch)
        .map_err(|e| SandboxError::SeccompPolicy(format!("arch {arch}: {e}")))?;
    // Group by errno: seccompiler gives one match action per filter.
    let mut groups: BTreeMap<u32, Vec<Value>> = BTreeMap::new();
    let mut denied = 0;
    for rule in policy.rules.iter().filter(|r| applies(r, arch)) {
        let errno = errno_value(&rule.errno).unwrap_or(libc::EPERM as u32);
        let mut entry = json!({ "syscall": rule.syscall, "comment": rule.reason });
        if let Some(args) = &rule.args {
            entry["args"] = args.clone();
        }
        groups.entry(errno).or_default().push(entry);
        denied += 1;
    }
    let mut filters = serde_json::Map::new();
    for (errno, filter) in &groups {
        filters.insert(
            format!("errno_{errno}"),
            json!({ "mismatch_action": "allow", "match_action": { "errno": errno }, "filter": filter }),
        );
    }
    let text = Value::Object(filters).to_string();
    let map = seccompiler::compile_from_json(text.as_bytes(), target)
        .map_err(|e| SandboxError::SeccompPolicy(format!("compile for {arch}: {e}")))?;
    let mut programs: Vec<Vec<Insn>> = Vec::new();
    for (i, errno) in groups.keys().enumerate() {
        let prog = map
            .get(&format!("errno_{errno}"))
            .ok_or_else(|| SandboxError::SeccompPolicy("compiled filter missing".into()))?;
        let mut insns: Vec<Insn> = Vec::new();
        if i == 0 && arch == "x86_64" {
            insns.extend(x32_guard());
        }
        insns.extend(prog.iter().map(|f| (f.code, f.jt, f.jf, f.k)));
        programs.push(insns);
    }
    Ok(Compiled { programs, denied })
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

    /// The list issue 3 requires, at minimum.
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
        "clone",
        "clone3",
        "userfaultfd",
        "open_by_handle_at",
        "acct",
        "settimeofday",
        "clock_settime",
        "syslog",
        "quotactl",
        "personality",
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
    ];

    #[test]
    fn policy_parses_and_every_entry_has_a_reason() {
        let policy = parse().unwrap();
        assert!(policy.rules.iter().all(|r| r.reason.len() > 5));
    }

    #[test]
    fn policy_covers_the_required_list_on_both_arches() {
        for arch in ["x86_64", "aarch64"] {
            let denied = denied_syscalls(arch).unwrap();
            for name in REQUIRED {
                assert!(
                    denied.iter().any(|d| d == name),
                    "{name} not denied on {arch}"
                );
            }
        }
        let x86 = denied_syscalls("x86_64").unwrap();
        assert!(x86.iter().any(|d| d == "iopl") && x86.iter().any(|d| d == "ioperm"));
    }

    #[test]
    fn clone_denies_every_namespace_flag_and_clone3_is_enosys() {
        let policy = parse().unwrap();
        let flags: Vec<u64> = policy
            .rules
            .iter()
            .filter(|r| r.syscall == "clone")
            .filter_map(|r| r.args.as_ref()?.get(0)?.get("val")?.as_u64())
            .collect();
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
        let clone3 = policy.rules.iter().find(|r| r.syscall == "clone3").unwrap();
        assert_eq!(clone3.errno, "ENOSYS");
    }

    #[test]
    fn compiles_for_both_arches() {
        for arch in ["x86_64", "aarch64"] {
            let c = compile(arch).unwrap();
            assert!(!c.programs.is_empty());
            assert!(c.denied >= REQUIRED.len());
        }
        let x86 = compile("x86_64").unwrap();
        assert_eq!(x86.programs[0][..3], x32_guard()[..]);
    }
}
