//! Landlock: read/execute only on the mounted runtime paths, `/var/task`, `/opt`; read-write
//! only on `/tmp` and `/dev/shm`; the five character devices; TCP connect rules from the
//! network policy; signals and abstract unix sockets scoped to the environment (ABI ≥ 6).
//!
//! Ordering rule: the ruleset is built by the environment's init AFTER `pivot_root` (its rules
//! name paths of the new root, whose tmpfs inodes only exist there), then enforced by the
//! runtime process with `restrict_self` after dropping its identity and BEFORE seccomp (which
//! comes last). Best effort: on an older kernel the missing access rights degrade and the
//! status string says so; `Sandbox::new` refuses a kernel without landlock unless degraded
//! mode is allowed.

use std::path::Path;

use landlock::{
    Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, NetPort, PathBeneath, PathFd,
    Ruleset, RulesetAttr, RulesetCreated, RulesetCreatedAttr, Scope, ABI,
};

use super::protocol::{Launch, RootEntry};
use super::rootfs::DEVICES;
use super::spec::NetworkPolicy;

/// The newest ABI this code was written and tested against.
const TARGET_ABI: ABI = ABI::V7;

fn read_exec() -> BitFlags<AccessFs> {
    AccessFs::ReadFile | AccessFs::ReadDir | AccessFs::Execute
}

fn read_write() -> BitFlags<AccessFs> {
    AccessFs::from_all(TARGET_ABI)
        & !(AccessFs::MakeChar | AccessFs::MakeBlock | AccessFs::IoctlDev)
}

fn rule(path: &Path, access: BitFlags<AccessFs>) -> Result<PathBeneath<PathFd>, String> {
    let fd = PathFd::new(path).map_err(|e| format!("landlock: open {}: {e}", path.display()))?;
    let access = if path.is_dir() {
        access
    } else {
        access & AccessFs::from_file(TARGET_ABI)
    };
    Ok(PathBeneath::new(fd, access))
}

/// Builds the environment's ruleset; every path is checked (no silent skips).
pub fn ruleset(launch: &Launch) -> Result<RulesetCreated, String> {
    let err = |e: landlock::RulesetError| format!("landlock: {e}");
    let mut rules = vec![
        rule(Path::new("/"), AccessFs::ReadDir.into())?,
        rule(Path::new("/etc"), AccessFs::ReadFile | AccessFs::ReadDir)?,
        rule(Path::new("/proc"), AccessFs::ReadFile | AccessFs::ReadDir)?,
        rule(Path::new("/dev"), AccessFs::ReadDir.into())?,
        rule(Path::new("/tmp"), read_write())?,
        rule(Path::new("/dev/shm"), read_write())?,
    ];
    for dev in DEVICES {
        rules.push(rule(
            &Path::new("/dev").join(dev),
            AccessFs::ReadFile | AccessFs::WriteFile,
        )?);
    }
    for entry in &launch.root_entries {
        if let RootEntry::Bind(path) = entry {
            rules.push(rule(path, read_exec())?);
        }
    }
    for m in &launch.spec.mounts {
        let access = if m.writable {
            read_write()
        } else {
            read_exec()
        };
        rules.push(rule(&m.inside, access)?);
    }

    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(TARGET_ABI))
        .map_err(err)?
        .scope(Scope::from_all(TARGET_ABI))
        .map_err(err)?;
    let ports = match &launch.spec.network {
        NetworkPolicy::Host {
            tcp_connect_ports: Some(ports),
        } => Some(ports.clone()),
        _ => None,
    };
    if ports.is_some() {
        ruleset = ruleset
            .handle_access(AccessNet::from_all(TARGET_ABI))
            .map_err(err)?;
    }
    let mut created = ruleset
        .create()
        .map_err(err)?
        .add_rules(rules.into_iter().map(Ok::<_, landlock::RulesetError>))
        .map_err(err)?;
    if let Some(ports) = ports {
        let allowed = ports
            .into_iter()
            .chain(std::iter::once(launch.runtime_api_port));
        for port in allowed {
            created = created
                .add_rule(NetPort::new(port, AccessNet::ConnectTcp))
                .map_err(err)?;
        }
    }
    Ok(created)
}

/// Enforces the ruleset on the calling process (also sets no_new_privs); returns a status
/// word for the protections report.
pub fn enforce(ruleset: RulesetCreated) -> Result<String, String> {
    let status = ruleset
        .restrict_self()
        .map_err(|e| format!("landlock: {e}"))?;
    Ok(match status.ruleset {
        landlock::RulesetStatus::FullyEnforced => "fully enforced".into(),
        landlock::RulesetStatus::PartiallyEnforced => "partially enforced".into(),
        landlock::RulesetStatus::NotEnforced => "not enforced".into(),
    })
}
