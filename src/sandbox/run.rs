//! `lambdabox sandbox-run -- CMD...`: run a host command in a sandbox with the default limits,
//! stream its output to our stdout and return its exit code. For the attack suite, bug reports
//! and trying the sandbox by hand (admin only: it needs the daemon's sandbox settings).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{EnvSpec, Mount, NetworkPolicy, Sandbox, SandboxError, SandboxSettings};

/// Arguments of `sandbox-run`.
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxRunArgs {
    /// Memory limit in MB (CPU follows it: 1769 MB = 1 vCPU).
    #[arg(long, default_value_t = 128)]
    pub memory_mb: u64,
    /// Size of /tmp in MB.
    #[arg(long, default_value_t = 512)]
    pub tmp_mb: u64,
    /// Maximum number of processes.
    #[arg(long, default_value_t = 1024)]
    pub pids_max: u64,
    /// `none` (own network namespace, loopback only), `host`, or `internet` (own namespace
    /// with NAT, never the host or private ranges; root only).
    #[arg(long, default_value = "none", value_parser = ["none", "host", "internet"])]
    pub network: String,
    /// Extra bind mount HOST:INSIDE[:rw] (read-only unless `:rw`); repeatable.
    #[arg(long = "mount", value_name = "HOST:INSIDE[:rw]")]
    pub mounts: Vec<String>,
    /// Working directory inside the sandbox.
    #[arg(long, default_value = "/tmp")]
    pub cwd: String,
    /// Environment variable NAME=VALUE; repeatable.
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// The command and its arguments (the program is looked up in the sandbox's PATH).
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

/// Parses `HOST:INSIDE[:rw]`.
pub fn parse_mount(s: &str) -> Result<Mount, SandboxError> {
    let parts: Vec<&str> = s.split(':').collect();
    let (host, inside, writable) = match parts.as_slice() {
        [h, i] => (h, i, false),
        [h, i, "rw"] => (h, i, true),
        [h, i, "ro"] => (h, i, false),
        _ => {
            return Err(SandboxError::InvalidSpec(format!(
                "mount {s:?} is not HOST:INSIDE[:rw]"
            )))
        }
    };
    Ok(Mount {
        host: PathBuf::from(host),
        inside: PathBuf::from(inside),
        writable,
    })
}

const PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";

/// Resolves a bare program name against the sandbox's PATH (the same dirs exist on the host).
fn resolve(program: &str, mounts: &[Mount]) -> String {
    if program.starts_with('/') {
        return program.to_string();
    }
    for dir in PATH.split(':') {
        let candidate = Path::new(dir).join(program);
        if candidate.is_file() {
            return candidate.to_string_lossy().into_owned();
        }
    }
    for m in mounts {
        if m.inside.join(program).is_file() || m.host.join(program).is_file() {
            return m.inside.join(program).to_string_lossy().into_owned();
        }
    }
    format!("/usr/bin/{program}")
}

/// Builds the spec `sandbox-run` would launch.
pub fn spec_for(args: &SandboxRunArgs) -> Result<EnvSpec, SandboxError> {
    let mounts = args
        .mounts
        .iter()
        .map(|m| parse_mount(m))
        .collect::<Result<Vec<_>, _>>()?;
    let mut argv = args.command.clone();
    if let Some(first) = argv.first_mut() {
        *first = resolve(first, &mounts);
    }
    let id = format!("run-{}-{}", std::process::id(), now_nanos() % 1_000_000);
    let mut spec = EnvSpec::new(id, argv);
    spec.memory_mb = args.memory_mb;
    spec.tmp_mb = args.tmp_mb;
    spec.pids_max = args.pids_max;
    spec.cwd = args.cwd.clone();
    spec.mounts = mounts;
    spec.network = match args.network.as_str() {
        "host" => NetworkPolicy::Host {
            tcp_connect_ports: None,
        },
        "internet" => NetworkPolicy::internet(),
        _ => NetworkPolicy::None,
    };
    spec.env = vec![
        ("PATH".into(), PATH.into()),
        ("HOME".into(), "/tmp".into()),
        ("LANG".into(), "C.UTF-8".into()),
    ];
    for kv in &args.env {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| SandboxError::InvalidSpec(format!("env {kv:?} is not NAME=VALUE")))?;
        spec.env.retain(|(name, _)| name != k);
        spec.env.push((k.into(), v.into()));
    }
    Ok(spec)
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// Runs the command; returns its exit code (128 + signal when killed).
pub fn sandbox_run(settings: SandboxSettings, args: SandboxRunArgs) -> Result<i32, SandboxError> {
    let mut sandbox = Sandbox::new(settings)?;
    if args.network == "internet" {
        let dns_servers = super::network::host_nameservers();
        sandbox
            .enable_internet(super::network::InternetSettings { dns_servers })
            .map_err(SandboxError::Network)?;
    }
    if !sandbox.protections().complete() {
        eprintln!(
            "lambdabox sandbox-run: degraded sandbox: {}",
            sandbox.protections()
        );
    }
    let spec = spec_for(&args)?;
    let mut env = sandbox.launch(&spec)?;
    let copier = env.output().map(|mut out| {
        std::thread::spawn(move || {
            let mut stdout = std::io::stdout().lock();
            let _ = std::io::copy(&mut out, &mut stdout);
            let _ = stdout.flush();
        })
    });
    let info = env.wait();
    if let Some(c) = copier {
        let _ = c.join();
    }
    if info.oom_killed {
        eprintln!(
            "lambdabox sandbox-run: out of memory (limit {} MB)",
            args.memory_mb
        );
    }
    Ok(info.status.shell_code())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_mounts() {
        assert_eq!(parse_mount("/a:/b").unwrap(), Mount::ro("/a", "/b"));
        assert!(parse_mount("/a:/b:rw").unwrap().writable);
        assert!(parse_mount("/a").is_err());
        assert!(parse_mount("/a:/b:x").is_err());
    }
}
