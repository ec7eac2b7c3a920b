//! How a managed runtime is started inside an environment: argv and environment additions.
//!
//! The paths are the environment's own (`/var/runtime` is where [`super::install_clients`]'s
//! directory is mounted), not the host's.

use std::path::Path;

use super::RuntimeError;

/// Where the embedded clients are mounted inside every environment.
pub const RUNTIME_DIR: &str = "/var/runtime";
/// The python client inside the environment.
pub const PYTHON_BOOTSTRAP: &str = "/var/runtime/python/bootstrap.py";
/// The node client inside the environment.
pub const NODE_BOOTSTRAP: &str = "/var/runtime/node/index.mjs";

/// The family of a runtime id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    /// `python3.x`: the embedded python client.
    Python,
    /// `nodejsNN.x`, with the major version: the embedded node client.
    Node(u32),
    /// `provided`, `provided.al2`, `provided.al2023`: the function's own `bootstrap`.
    Provided,
}

impl RuntimeKind {
    /// Classifies a Lambda runtime id such as `python3.12`, `nodejs20.x` or `provided.al2023`.
    pub fn from_id(runtime_id: &str) -> Option<RuntimeKind> {
        if runtime_id.starts_with("python3.") {
            return Some(RuntimeKind::Python);
        }
        if let Some(rest) = runtime_id.strip_prefix("nodejs") {
            let major = rest.strip_suffix(".x").unwrap_or(rest);
            return major.parse().ok().map(RuntimeKind::Node);
        }
        if runtime_id == "provided" || runtime_id.starts_with("provided.") {
            return Some(RuntimeKind::Provided);
        }
        None
    }
}

/// The argv that starts `runtime_id` with the host interpreter `interpreter` (ignored for
/// `provided*`, which execs `/var/task/bootstrap`; the engine picks `/opt/bootstrap` when the
/// function has none).
///
/// Python runs with `-u` (unbuffered stdio, so lines reach the log at once) and `-s` (no user
/// site directory: the host's `~/.local` is not the function's).
pub fn command_for(runtime_id: &str, interpreter: &Path) -> Result<Vec<String>, RuntimeError> {
    let interpreter = interpreter.to_string_lossy().into_owned();
    match RuntimeKind::from_id(runtime_id) {
        Some(RuntimeKind::Python) => Ok(vec![
            interpreter,
            "-u".into(),
            "-s".into(),
            PYTHON_BOOTSTRAP.into(),
        ]),
        Some(RuntimeKind::Node(_)) => Ok(vec![
            interpreter,
            "--max-http-header-size=81920".into(),
            NODE_BOOTSTRAP.into(),
        ]),
        Some(RuntimeKind::Provided) => Ok(vec!["/var/task/bootstrap".into()]),
        None => Err(RuntimeError::UnknownRuntime(runtime_id.to_owned())),
    }
}

/// Environment variables a runtime family adds (user-overridable defaults of lambda-compat
/// §5.1); the reserved variables are the engine's.
pub fn env_for(runtime_id: &str) -> Vec<(String, String)> {
    match RuntimeKind::from_id(runtime_id) {
        Some(RuntimeKind::Python) => vec![("PYTHONPATH".into(), RUNTIME_DIR.into())],
        Some(RuntimeKind::Node(major)) => vec![(
            "NODE_PATH".into(),
            format!(
                "/opt/nodejs/node{major}/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task"
            ),
        )],
        Some(RuntimeKind::Provided) | None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_ids() {
        assert_eq!(
            RuntimeKind::from_id("python3.12"),
            Some(RuntimeKind::Python)
        );
        assert_eq!(
            RuntimeKind::from_id("nodejs20.x"),
            Some(RuntimeKind::Node(20))
        );
        assert_eq!(
            RuntimeKind::from_id("provided.al2023"),
            Some(RuntimeKind::Provided)
        );
        assert_eq!(RuntimeKind::from_id("java21"), None);
    }

    #[test]
    fn python_command_and_env() {
        let argv = command_for("python3.11", Path::new("/usr/bin/python3")).unwrap_or_default();
        assert_eq!(argv, ["/usr/bin/python3", "-u", "-s", PYTHON_BOOTSTRAP]);
        assert_eq!(
            env_for("python3.11"),
            [("PYTHONPATH".to_string(), "/var/runtime".to_string())]
        );
        assert!(command_for("cobol", Path::new("/x")).is_err());
    }

    #[test]
    fn node_path_names_the_major_version() {
        let env = env_for("nodejs22.x");
        assert!(env[0].1.starts_with("/opt/nodejs/node22/node_modules:"));
    }
}
