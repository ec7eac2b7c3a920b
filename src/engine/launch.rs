//! From a function version to a sandbox spec: the mounts (code, layers, runtime client,
//! interpreter prefix), the argv of the runtime, the reserved environment variables of
//! lambda-compat §5.1, limits and the network policy.

use std::path::{Path, PathBuf};

use crate::catalog::RuntimeInfo;
use crate::config::Config;
use crate::domain::function::FunctionVersion;
use crate::domain::Identity;
use crate::runtime::command::{
    command_for, env_for, java_command, ruby_env, RuntimeKind, RUNTIME_DIR,
};
use crate::sandbox::{EnvSpec, Mount, NetworkPolicy};

/// Process limit of every environment.
pub const PIDS_MAX: u64 = 1024;

/// Where `iam.python_sdk_dir` is mounted in python environments.
pub const PYTHON_SDK_DIR: &str = "/var/lang/sdk";

/// Paths on the host an environment is assembled from.
pub struct Sources<'a> {
    pub code_dir: &'a Path,
    pub opt_dir: &'a Path,
    pub runtime_dir: &'a Path,
}

/// Why a spec could not be built (reported to the caller as an init failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    pub error_type: String,
    pub message: String,
}

/// How an environment is initialised (`AWS_LAMBDA_INITIALIZATION_TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitType {
    OnDemand,
    Provisioned,
}

impl InitType {
    pub fn as_str(self) -> &'static str {
        match self {
            InitType::OnDemand => "on-demand",
            InitType::Provisioned => "provisioned-concurrency",
        }
    }
}

/// Sets `AWS_LAMBDA_INITIALIZATION_TYPE` of a planned spec.
pub fn set_init_type(spec: &mut EnvSpec, init: InitType) {
    for (k, v) in &mut spec.env {
        if k == "AWS_LAMBDA_INITIALIZATION_TYPE" {
            *v = init.as_str().into();
        }
    }
}

/// `YYYY/MM/DD/[VERSION]<32 hex>`
pub fn stream_name(version: &str) -> String {
    let fmt = time::macros::format_description!("[year]/[month]/[day]");
    let day = time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_default();
    format!("{day}/[{version}]{}", uuid::Uuid::new_v4().simple())
}

/// Builds the sandbox spec for one environment of `fv`.
pub fn plan(
    config: &Config,
    identity: &Identity,
    fv: &FunctionVersion,
    runtime: Option<&RuntimeInfo>,
    src: &Sources<'_>,
    env_id: &str,
    stream: &str,
) -> Result<EnvSpec, PlanError> {
    let c = &fv.config;
    let kind = RuntimeKind::from_id(&c.runtime).ok_or_else(|| PlanError {
        error_type: "Runtime.InvalidRuntime".into(),
        message: format!("runtime {} cannot run on this host", c.runtime),
    })?;
    let mut mounts = vec![
        Mount::ro(src.code_dir, "/var/task"),
        Mount::ro(src.opt_dir, "/opt"),
        Mount::ro(src.runtime_dir, RUNTIME_DIR),
    ];
    let argv = match kind {
        RuntimeKind::Provided => {
            let entry = if has_entry(src.code_dir, "bootstrap") {
                "/var/task/bootstrap"
            } else if has_entry(src.opt_dir, "bootstrap") {
                "/opt/bootstrap"
            } else {
                return Err(PlanError {
                    error_type: "Runtime.InvalidEntrypoint".into(),
                    message:
                        "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]"
                            .into(),
                });
            };
            vec![entry.to_string()]
        }
        RuntimeKind::Python
        | RuntimeKind::Node(_)
        | RuntimeKind::Java(_)
        | RuntimeKind::Ruby(_) => {
            let info = runtime.ok_or_else(|| PlanError {
                error_type: "Runtime.InvalidRuntime".into(),
                message: format!("runtime {} is no longer available on this host", c.runtime),
            })?;
            let interp = info.interpreter.clone().unwrap_or_default();
            if let Some(prefix) = &info.prefix {
                if !is_system_prefix(prefix) {
                    mounts.push(Mount::ro(prefix, prefix));
                }
            }
            // Installation files outside /usr (Debian's JDK keeps its conf in /etc/java-NN-openjdk).
            mounts.extend(info.host_paths.iter().map(|p| Mount::ro(p, p)));
            match kind {
                RuntimeKind::Java(major) => {
                    let tool_options = c
                        .environment
                        .get("JAVA_TOOL_OPTIONS")
                        .map_or("", String::as_str);
                    java_command(
                        &interp.to_string_lossy(),
                        major,
                        c.memory_size,
                        tool_options,
                    )
                }
                _ => command_for(&c.runtime, &interp).map_err(|e| PlanError {
                    error_type: "Runtime.InvalidRuntime".into(),
                    message: e.to_string(),
                })?,
            }
        }
    };
    let mut env: Vec<(String, String)> = vec![
        ("LANG".into(), "en_US.UTF-8".into()),
        ("PATH".into(), "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin".into()),
        (
            "LD_LIBRARY_PATH".into(),
            "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib".into(),
        ),
        ("AWS_XRAY_CONTEXT_MISSING".into(), "LOG_ERROR".into()),
        ("AWS_LAMBDA_LOG_FORMAT".into(), c.logging.log_format.clone()),
    ];
    if let Some(level) = &c.logging.application_log_level {
        env.push(("AWS_LAMBDA_LOG_LEVEL".into(), level.clone()));
    }
    match kind {
        RuntimeKind::Ruby(minor) => {
            env.extend(ruby_env(minor, runtime.and_then(|r| r.version.as_deref())))
        }
        _ => env.extend(env_for(&c.runtime)),
    }
    // The Python AWS SDK, as AWS's python runtimes ship it (`iam.python_sdk_dir`).
    if let (RuntimeKind::Python, Some(sdk)) = (kind, &config.iam.python_sdk_dir) {
        mounts.push(Mount::ro(sdk, PYTHON_SDK_DIR));
        for (k, v) in &mut env {
            if k == "PYTHONPATH" {
                *v = format!("{v}:{PYTHON_SDK_DIR}");
            }
        }
    }
    // The function's own variables may override the unreserved defaults above.
    for (k, v) in &c.environment {
        env.retain(|(name, _)| name != k);
        env.push((k.clone(), v.clone()));
    }
    // Reserved variables last: they cannot be overridden.
    let reserved = [
        ("_HANDLER", c.handler.clone()),
        ("AWS_REGION", identity.region.clone()),
        ("AWS_DEFAULT_REGION", identity.region.clone()),
        ("AWS_EXECUTION_ENV", format!("AWS_Lambda_{}", c.runtime)),
        ("AWS_LAMBDA_FUNCTION_NAME", fv.name.clone()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", c.memory_size.to_string()),
        ("AWS_LAMBDA_FUNCTION_VERSION", fv.version.clone()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", c.log_group(&fv.name)),
        ("AWS_LAMBDA_LOG_STREAM_NAME", stream.to_string()),
        ("LAMBDA_TASK_ROOT", "/var/task".into()),
        ("LAMBDA_RUNTIME_DIR", RUNTIME_DIR.into()),
        ("TZ", ":UTC".into()),
    ];
    for (k, v) in reserved {
        env.retain(|(name, _)| name != k);
        env.push((k.to_string(), v));
    }
    let mut spec = EnvSpec::new(env_id.to_string(), argv);
    spec.env = env;
    spec.cwd = "/var/task".into();
    spec.mounts = mounts;
    spec.memory_mb = u64::from(c.memory_size);
    spec.tmp_mb = u64::from(c.ephemeral_storage);
    spec.pids_max = PIDS_MAX;
    spec.cpu_share_of_memory = true;
    spec.network = network_policy(config, &c.vpc.subnet_ids, &c.vpc.security_group_ids).map_err(
        |message| PlanError {
            error_type: "Runtime.NetworkError".into(),
            message,
        },
    )?;
    Ok(spec)
}

/// True when `dir/name` exists as a file or a symlink. Never follows a link: a package's
/// `bootstrap -> /somewhere` resolves only inside the sandbox, not on the host.
fn has_entry(dir: &Path, name: &str) -> bool {
    std::fs::symlink_metadata(dir.join(name))
        .is_ok_and(|m| m.file_type().is_file() || m.file_type().is_symlink())
}

/// Interpreter prefixes already present in every sandbox (the system's /usr).
fn is_system_prefix(p: &Path) -> bool {
    let p: PathBuf = p.to_path_buf();
    p == Path::new("/usr") || p == Path::new("/") || p.starts_with("/usr/")
}

/// The VPC analog (see `netconfig`): no subnets → `sandbox.default_network`; `host` subnets
/// → the host network (security groups' TCP ports through landlock); `internet` subnets →
/// NAT with their private allowances and the security groups' egress rules; `none` → loopback.
pub fn network_policy(
    config: &Config,
    subnets: &[String],
    groups: &[String],
) -> Result<NetworkPolicy, String> {
    let sb = &config.sandbox;
    crate::netconfig::policy(
        &sb.default_network,
        &sb.subnets,
        &sb.security_groups,
        subnets,
        groups,
    )
}
