//! The function model: the configuration a version carries, and a stored version.
//!
//! `FunctionConfig` is what `$LATEST` or a published version is configured with; it is stored
//! as JSON so that later fields can be added without a migration for each.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Everything configurable about one version of a function (code aside).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct FunctionConfig {
    pub runtime: String,
    pub handler: String,
    pub role: String,
    pub description: String,
    pub timeout: u32,
    pub memory_size: u32,
    pub environment: BTreeMap<String, String>,
    pub architectures: Vec<String>,
    pub ephemeral_storage: u32,
    pub tracing_mode: String,
    /// Layers in order (later ones win on conflicting files in `/opt`).
    pub layers: Vec<super::layer::AttachedLayer>,
    pub dead_letter_target: Option<String>,
    pub kms_key_arn: Option<String>,
    pub vpc: VpcConfig,
    pub logging: LoggingConfig,
    pub package_type: String,
    pub snap_start: String,
    pub file_system_configs: Vec<FileSystemConfig>,
}

/// The VPC analog: subnets and security groups named by the admin in the daemon config.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct VpcConfig {
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub ipv6_allowed_for_dual_stack: bool,
}

/// Where and how the function's logs are written.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct LoggingConfig {
    pub log_format: String,
    pub application_log_level: Option<String>,
    pub system_log_level: Option<String>,
    pub log_group: Option<String>,
}

/// An EFS mount (accepted and echoed; lambdabox has no EFS).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct FileSystemConfig {
    pub arn: String,
    pub local_mount_path: String,
}

impl Default for FunctionConfig {
    fn default() -> Self {
        FunctionConfig {
            runtime: String::new(),
            handler: String::new(),
            role: String::new(),
            description: String::new(),
            timeout: 3,
            memory_size: 128,
            environment: BTreeMap::new(),
            architectures: vec![host_architecture().to_string()],
            ephemeral_storage: 512,
            tracing_mode: "PassThrough".into(),
            layers: Vec::new(),
            dead_letter_target: None,
            kms_key_arn: None,
            vpc: VpcConfig::default(),
            logging: LoggingConfig {
                log_format: "Text".into(),
                ..LoggingConfig::default()
            },
            package_type: "Zip".into(),
            snap_start: "None".into(),
            file_system_configs: Vec::new(),
        }
    }
}

impl FunctionConfig {
    /// The log group the function writes to.
    pub fn log_group(&self, function_name: &str) -> String {
        self.logging
            .log_group
            .clone()
            .unwrap_or_else(|| format!("/aws/lambda/{function_name}"))
    }
}

/// One stored version (`$LATEST` or a number) of a function.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionVersion {
    pub name: String,
    pub version: String,
    pub config: FunctionConfig,
    /// Hex sha256 of the deployment zip.
    pub code_sha256: String,
    pub code_size: u64,
    pub revision_id: String,
    /// Milliseconds since the Unix epoch.
    pub last_modified_ms: i64,
}

/// The Lambda architecture name of the machine lambdabox runs on.
pub fn host_architecture() -> &'static str {
    if cfg!(target_arch = "aarch64") {
        "arm64"
    } else {
        "x86_64"
    }
}

/// `2025-01-15T10:20:30.123+0000`, the string-timestamp format of FunctionConfiguration.
pub fn format_last_modified(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+0000"
    );
    t.format(&fmt).unwrap_or_default()
}

/// The base64 form of a hex sha256, as `CodeSha256` shows it.
pub fn b64_sha256(hex_digest: &str) -> String {
    use base64::Engine;
    let raw = hex::decode(hex_digest).unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(raw)
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_modified_matches_aws_format() {
        assert_eq!(
            format_last_modified(1_736_936_430_123),
            "2025-01-15T10:20:30.123+0000"
        );
    }

    #[test]
    fn config_round_trips_and_tolerates_missing_fields() {
        let c: FunctionConfig = serde_json::from_str(r#"{"runtime":"python3.12"}"#).unwrap();
        assert_eq!(c.timeout, 3);
        assert_eq!(c.memory_size, 128);
        let again: FunctionConfig =
            serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(c, again);
    }
}
