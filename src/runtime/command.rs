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
/// The ruby client inside the environment.
pub const RUBY_BOOTSTRAP: &str = "/var/runtime/ruby/bootstrap.rb";
/// The Java client inside the environment.
pub const JAVA_CLASSPATH: &str = "/var/runtime/java/lambdabox-java-runtime.jar";
/// The Java client's entry point.
pub const JAVA_MAIN: &str = "lambdabox.runtime.Main";

/// The family of a runtime id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    /// `python3.x`: the embedded python client.
    Python,
    /// `nodejsNN.x`, with the major version: the embedded node client.
    Node(u32),
    /// `java8.al2`, `java11` … `java25`, with the major version: the embedded Java client.
    Java(u32),
    /// `ruby3.N`, with the minor version: the embedded ruby client.
    Ruby(u32),
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
        if runtime_id == "java8.al2" {
            return Some(RuntimeKind::Java(8));
        }
        if let Some(major) = runtime_id.strip_prefix("java") {
            // `java8` (Amazon Linux 1) is retired: not served.
            return major.parse().ok().filter(|m| *m > 8).map(RuntimeKind::Java);
        }
        if let Some(minor) = runtime_id.strip_prefix("ruby3.") {
            return minor.parse().ok().map(RuntimeKind::Ruby);
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
        Some(RuntimeKind::Java(major)) => Ok(java_command(&interpreter, major, 512, "")),
        Some(RuntimeKind::Ruby(_)) => Ok(vec![interpreter, RUBY_BOOTSTRAP.into()]),
        Some(RuntimeKind::Provided) => Ok(vec!["/var/task/bootstrap".into()]),
        None => Err(RuntimeError::UnknownRuntime(runtime_id.to_owned())),
    }
}

/// The JVM command of the Java runtimes, with AWS's defaults for a function of `memory_mb`:
/// heap at 85 % of the memory, the serial collector, tiered compilation stopped at level 1 on
/// Java 17 and later, IPv4 preferred. A default is left out when the function's own
/// `JAVA_TOOL_OPTIONS` (`tool_options`) sets the same thing: the JVM reads that variable
/// *before* its command line, so a command-line default would silently override the user.
pub fn java_command(
    interpreter: &str,
    major: u32,
    memory_mb: u32,
    tool_options: &str,
) -> Vec<String> {
    let opts: Vec<&str> = tool_options.split_whitespace().collect();
    let has = |needle: &str| opts.iter().any(|o| o.contains(needle));
    let mut argv = vec![interpreter.to_string()];
    if !has("-Xmx") && !has("MaxHeapSize") && !has("MaxRAM") {
        argv.push(format!(
            "-XX:MaxHeapSize={}m",
            u64::from(memory_mb) * 85 / 100
        ));
    }
    let chooses_gc = opts
        .iter()
        .any(|o| o.starts_with("-XX:+Use") && o.ends_with("GC"));
    if !chooses_gc {
        argv.push("-XX:+UseSerialGC".into());
    }
    if major >= 17 && !has("TieredStopAtLevel") && !has("TieredCompilation") {
        argv.push("-XX:TieredStopAtLevel=1".into());
    }
    if !has("UsePerfData") {
        // no hsperfdata file in /tmp: nothing in the sandbox attaches to the JVM
        argv.push("-XX:-UsePerfData".into());
    }
    if !has("preferIPv4Stack") {
        argv.push("-Djava.net.preferIPv4Stack=true".into());
    }
    argv.extend([
        "-cp".to_string(),
        JAVA_CLASSPATH.to_string(),
        JAVA_MAIN.to_string(),
    ]);
    argv
}

/// The ruby ABI directory of a version: `3.2` or `3.2.4` → `3.2.0`.
pub fn ruby_abi(version: &str) -> Option<String> {
    let mut it = version.split('.');
    let major: u32 = it.next()?.parse().ok()?;
    let minor: u32 = it.next()?.parse().ok()?;
    Some(format!("{major}.{minor}.0"))
}

/// `GEM_PATH` and `RUBYLIB` of a ruby runtime (lambda-compat §5.1): the function's
/// `vendor/bundle` and the layers' `ruby/gems` for the runtime's ABI, then for the ABI of the
/// interpreter that really serves it when an admin mapped another version.
pub fn ruby_env(minor: u32, interpreter_version: Option<&str>) -> Vec<(String, String)> {
    let mut abis = vec![format!("3.{minor}.0")];
    if let Some(real) = interpreter_version.and_then(ruby_abi) {
        if !abis.contains(&real) {
            abis.push(real);
        }
    }
    let gem_path: Vec<String> = abis
        .iter()
        .flat_map(|a| {
            [
                format!("/var/task/vendor/bundle/ruby/{a}"),
                format!("/opt/ruby/gems/{a}"),
            ]
        })
        .collect();
    vec![
        ("GEM_PATH".into(), gem_path.join(":")),
        ("RUBYLIB".into(), "/var/task:/opt/ruby/lib".into()),
    ]
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
        Some(RuntimeKind::Ruby(minor)) => ruby_env(minor, None),
        Some(RuntimeKind::Java(_) | RuntimeKind::Provided) | None => Vec::new(),
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
        assert_eq!(RuntimeKind::from_id("java21"), Some(RuntimeKind::Java(21)));
        assert_eq!(
            RuntimeKind::from_id("java8.al2"),
            Some(RuntimeKind::Java(8))
        );
        assert_eq!(RuntimeKind::from_id("java8"), None);
        assert_eq!(RuntimeKind::from_id("ruby3.3"), Some(RuntimeKind::Ruby(3)));
        assert_eq!(RuntimeKind::from_id("dotnet8"), None);
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
    fn java_defaults_yield_to_java_tool_options() {
        let argv = java_command("/usr/bin/java", 17, 1024, "");
        assert!(argv.contains(&"-XX:MaxHeapSize=870m".to_string()));
        assert!(argv.contains(&"-XX:TieredStopAtLevel=1".to_string()));
        assert!(argv.contains(&"-XX:+UseSerialGC".to_string()));
        assert_eq!(argv[argv.len() - 1], JAVA_MAIN);
        let argv = java_command(
            "/usr/bin/java",
            21,
            512,
            "-Xmx300m -XX:+UseParallelGC -XX:TieredStopAtLevel=4",
        );
        assert!(!argv.iter().any(|a| a.contains("MaxHeapSize")
            || a.contains("SerialGC")
            || a.contains("TieredStopAtLevel")));
        let argv = java_command("/usr/bin/java", 11, 512, "");
        assert!(
            !argv.iter().any(|a| a.contains("Tiered")),
            "java11 keeps JVM defaults"
        );
    }

    #[test]
    fn ruby_gem_path_covers_the_mapped_interpreter() {
        let env = ruby_env(2, Some("3.1.2"));
        assert_eq!(env[0].0, "GEM_PATH");
        assert_eq!(
            env[0].1,
            "/var/task/vendor/bundle/ruby/3.2.0:/opt/ruby/gems/3.2.0:/var/task/vendor/bundle/ruby/3.1.0:/opt/ruby/gems/3.1.0"
        );
        assert_eq!(ruby_env(3, Some("3.3.1"))[0].1.matches(':').count(), 1);
    }

    #[test]
    fn node_path_names_the_major_version() {
        let env = env_for("nodejs22.x");
        assert!(env[0].1.starts_with("/opt/nodejs/node22/node_modules:"));
    }
}
