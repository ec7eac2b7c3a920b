//! Typed daemon configuration and its layering: built-in defaults < TOML file (`--config FILE`)
//! < `LAMBDABOX_*` environment variables < command-line flags.
//!
//! Every layer is merged into one TOML table before a single typed deserialization, so a key
//! means the same thing in every layer: `sandbox.allow_degraded` in the file is
//! `LAMBDABOX_SANDBOX__ALLOW_DEGRADED` in the environment (double underscore = one level down).
//! Unknown keys are refused so that typos do not silently fall back to defaults.
//! This module never opens sockets or the database.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub mod backup;
pub mod iam;
pub mod s3;
pub mod sandbox;
pub mod server;
pub use backup::BackupConfig;
pub use iam::IamConfig;
pub use s3::S3Config;
pub use sandbox::SandboxConfig;
pub use server::ServerConfig;

/// Prefix of the environment variables that override config keys.
pub const ENV_PREFIX: &str = "LAMBDABOX_";

/// The whole daemon configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the API, dashboard and function URLs listen on. Loopback by default.
    pub listen: SocketAddr,
    /// Directory holding the database, generated credentials and caches.
    pub data_dir: PathBuf,
    /// AWS region reported in every ARN and accepted in SigV4 credential scopes.
    pub region: String,
    /// Twelve-digit account id reported in every ARN.
    pub account_id: String,
    /// Log filter (`error`, `warn`, `info`, `debug`, `trace`, or a tracing directive).
    pub log_level: String,
    /// Explicit interpreter paths per runtime id, e.g. `python3.12 = "/opt/py312/bin/python3"`.
    pub runtimes: BTreeMap<String, PathBuf>,
    pub sandbox: SandboxConfig,
    pub engine: EngineConfig,
    pub logs: LogsConfig,
    pub metrics: MetricsConfig,
    pub tracing: TracingConfig,
    pub limits: LimitsConfig,
    pub runtime_api: RuntimeApiConfig,
    pub async_invoke: AsyncInvokeConfig,
    pub server: ServerConfig,
    pub scheduler: SchedulerConfig,
    pub backup: BackupConfig,
    pub iam: IamConfig,
    pub s3: S3Config,
}

/// Settings of the clock that fires EventBridge rules and Scheduler schedules.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SchedulerConfig {
    /// After downtime (or a clock jump): `once` fires each rule or schedule that missed
    /// occurrences one time, for the latest one; `none` skips missed occurrences.
    pub catch_up: String,
    /// Lets `POST /_lambdabox/clock` (signed with an admin key) move the scheduler's clock,
    /// for tests. Off in production.
    pub test_clock: bool,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            catch_up: "once".into(),
            test_clock: false,
        }
    }
}

/// Per-environment limits of the Runtime API server that function code can reach.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeApiConfig {
    /// Connections one environment may hold open at once (a runtime needs one, each extension
    /// one more); further connects wait in the kernel.
    pub max_connections: usize,
    /// Milliseconds a request head may take to arrive; also how long a keep-alive connection
    /// may sit idle between requests.
    pub header_timeout_ms: u64,
    /// Largest request head in bytes (AWS: 1 MiB).
    pub max_header_bytes: usize,
}

/// Settings of the environment pools.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// Seconds an idle warm environment is kept before it is reaped.
    pub idle_timeout_secs: u64,
    /// Account-wide concurrent executions. Unset: derived from the host, the smaller of the
    /// sandbox uid range and `memory_budget_mb / 128` (see `engine::capacity::Limits`).
    pub concurrent_executions: Option<u32>,
    /// Concurrency that reservations must leave to functions without one (AWS keeps 100 of
    /// 1000). Unset: a tenth of the account limit, at least 1.
    pub min_unreserved_concurrency: Option<u32>,
    /// MB of `MemorySize` that live execution environments may hold together. Unset: three
    /// quarters of the host's physical memory.
    pub memory_budget_mb: Option<u64>,
    /// Seconds extracted code and layers stay cached after no environment uses them.
    pub code_cache_idle_secs: u64,
    /// Most spare environments (prepared ahead of cold starts) kept per memory size and
    /// network mode; the engine keeps as many as recent cold starts asked for, up to this. 0 =
    /// off.
    pub spare_environments: u32,
}

/// Settings of the function log store.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogsConfig {
    /// Days log events are kept.
    pub retention_days: u32,
    /// Bytes of function output kept per invocation; the rest is dropped with a marker line.
    pub max_bytes_per_invocation: usize,
    /// Bytes of log events one log group may store; past it its oldest events are pruned
    /// (checked every minute, in small batches).
    pub max_bytes_per_group: u64,
    /// Bytes per second of one environment's output the daemon reads (a stored line also
    /// counts 512, dropped output a sixteenth of its bytes); a function writing faster blocks
    /// in its writes. 0: no limit.
    pub capture_bytes_per_second: u64,
}

/// Settings of the function metrics (CloudWatch `AWS/Lambda`, `GET /metrics`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Days per-minute metrics are kept.
    pub retention_days: u32,
    /// Bearer token `GET /metrics` requires (`Authorization: Bearer …`). Unset: `/metrics`
    /// answers loopback clients only.
    pub token: Option<String>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            retention_days: 15,
            token: None,
        }
    }
}

/// Trace spans of functions with `TracingConfig: Active` (kept in logs.db with the logs).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TracingConfig {
    /// OTLP/HTTP endpoint the spans are also exported to, protobuf-encoded, e.g.
    /// `http://127.0.0.1:4318/v1/traces` (an OpenTelemetry collector, Jaeger, Tempo). Unset:
    /// no export.
    pub otlp_endpoint: Option<String>,
}

/// Account limits reported by GetAccountSettings and enforced on uploads.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Total bytes of stored code (AWS default 75 GB).
    pub total_code_size: u64,
}

/// Settings of the asynchronous invocation queue (`InvocationType: Event` and triggers).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AsyncInvokeConfig {
    /// Attempts of queued events that run at once, all functions together.
    pub max_concurrency: u32,
    /// Milliseconds before the first retry after a function error; the second retry waits
    /// twice as long (AWS: about 1 and 2 minutes). Shorten it for tests.
    pub retry_delay_ms: u64,
    /// First back-off after a platform failure (or a throttle), doubled each time.
    pub backoff_min_ms: u64,
    /// Longest back-off after platform failures and throttles (AWS: 5 minutes).
    pub backoff_max_ms: u64,
}

impl Default for AsyncInvokeConfig {
    fn default() -> Self {
        AsyncInvokeConfig {
            max_concurrency: 16,
            retry_delay_ms: 60_000,
            backoff_min_ms: 1_000,
            backoff_max_ms: 300_000,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 9070)),
            data_dir: PathBuf::from("data"),
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
            log_level: "info".into(),
            runtimes: BTreeMap::new(),
            sandbox: SandboxConfig::default(),
            engine: EngineConfig::default(),
            logs: LogsConfig::default(),
            metrics: MetricsConfig::default(),
            tracing: TracingConfig::default(),
            limits: LimitsConfig::default(),
            runtime_api: RuntimeApiConfig::default(),
            async_invoke: AsyncInvokeConfig::default(),
            server: ServerConfig::default(),
            scheduler: SchedulerConfig::default(),
            backup: BackupConfig::default(),
            iam: IamConfig::default(),
            s3: S3Config::default(),
        }
    }
}

impl Default for RuntimeApiConfig {
    fn default() -> Self {
        RuntimeApiConfig {
            max_connections: 8,
            header_timeout_ms: 15_000,
            max_header_bytes: 1024 * 1024 + 8 * 1024,
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            idle_timeout_secs: 600,
            concurrent_executions: None,
            min_unreserved_concurrency: None,
            memory_budget_mb: None,
            code_cache_idle_secs: 3600,
            spare_environments: 2,
        }
    }
}

impl Default for LogsConfig {
    fn default() -> Self {
        LogsConfig {
            retention_days: 14,
            max_bytes_per_invocation: 256 * 1024,
            max_bytes_per_group: 1 << 30,
            capture_bytes_per_second: 16 << 20,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            total_code_size: 80_530_636_800,
        }
    }
}

/// Why a configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("config file {0} is not valid TOML: {1}")]
    Parse(PathBuf, toml::de::Error),
    #[error("environment variable {0}: {1}")]
    Env(String, String),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Values given on the command line; `None` leaves the lower layers in charge.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub region: Option<String>,
    pub account_id: Option<String>,
    pub log_level: Option<String>,
}

impl Config {
    /// Builds the configuration from every layer, then validates it.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        flags: &Overrides,
    ) -> Result<Config, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ConfigError::Read(path.to_path_buf(), e))?;
                toml::from_str::<toml::Table>(&text)
                    .map_err(|e| ConfigError::Parse(path.to_path_buf(), e))?
            }
            None => toml::Table::new(),
        };
        // The environment is shared with other programs (test harnesses, wrappers): variables
        // whose first key segment is not a config key are ignored, not refused.
        let defaults = toml::Table::try_from(Config::default()).unwrap_or_default();
        let known: Vec<String> = defaults.keys().cloned().collect();
        for (key, value) in env {
            let Some(rest) = key.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let path: Vec<String> = rest.split("__").map(|p| p.to_ascii_lowercase()).collect();
            if !known.iter().any(|k| Some(k) == path.first()) {
                continue;
            }
            if path.iter().any(|p| p.is_empty()) {
                return Err(ConfigError::Env(key, "empty key segment".into()));
            }
            let value = if wants_string(&defaults, &path) {
                toml::Value::String(value)
            } else {
                env_value(&value)
            };
            set_path(&mut table, &path, value).map_err(|e| ConfigError::Env(key, e))?;
        }
        let mut set = |k: &str, v: toml::Value| table.insert(k.to_string(), v);
        if let Some(v) = flags.listen {
            set("listen", toml::Value::String(v.to_string()));
        }
        if let Some(v) = &flags.data_dir {
            set("data_dir", toml::Value::String(v.display().to_string()));
        }
        if let Some(v) = &flags.region {
            set("region", toml::Value::String(v.clone()));
        }
        if let Some(v) = &flags.account_id {
            set("account_id", toml::Value::String(v.clone()));
        }
        if let Some(v) = &flags.log_level {
            set("log_level", toml::Value::String(v.clone()));
        }
        let config: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.message().to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values that the types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        self.backup.interval()?;
        self.s3.validate()?;
        if self.backup.keep == 0 {
            return bad("backup.keep must be at least 1".into());
        }
        if self
            .iam
            .python_sdk_dir
            .as_ref()
            .is_some_and(|p| !p.is_absolute())
        {
            return bad("iam.python_sdk_dir must be an absolute path".into());
        }
        if self.iam.sandbox_api_rate == 0 || self.iam.sandbox_api_max_body_mb == 0 {
            return bad(
                "iam.sandbox_api_rate and iam.sandbox_api_max_body_mb must be at least 1".into(),
            );
        }
        if !matches!(self.scheduler.catch_up.as_str(), "once" | "none") {
            return bad(format!(
                "scheduler.catch_up must be \"once\" or \"none\", got {:?}",
                self.scheduler.catch_up
            ));
        }
        if self.account_id.len() != 12 || !self.account_id.bytes().all(|b| b.is_ascii_digit()) {
            return bad(format!(
                "account_id must be 12 digits, got {:?}",
                self.account_id
            ));
        }
        let region_ok = !self.region.is_empty()
            && self.region.len() <= 32
            && self
                .region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !region_ok {
            return bad(format!(
                "region must look like us-east-1, got {:?}",
                self.region
            ));
        }
        if self.sandbox.uid_min == 0 || self.sandbox.uid_min > self.sandbox.uid_max {
            return bad(format!(
                "sandbox.uid_min..uid_max must be a non-empty range above 0, got {}..{}",
                self.sandbox.uid_min, self.sandbox.uid_max
            ));
        }
        crate::netconfig::validate(
            &self.sandbox.default_network,
            &self.sandbox.subnets,
            &self.sandbox.security_groups,
        )
        .map_err(ConfigError::Invalid)?;
        crate::netconfig::dns_servers(&self.sandbox.dns_servers).map_err(ConfigError::Invalid)?;
        if self.metrics.retention_days == 0 {
            return bad("metrics.retention_days must be at least 1".into());
        }
        if let Some(t) = &self.metrics.token {
            if t.len() < 16 || !t.bytes().all(|b| b.is_ascii_graphic()) {
                return bad(
                    "metrics.token must be at least 16 printable characters without spaces".into(),
                );
            }
        }
        if self.logs.max_bytes_per_group < 1 << 20 {
            return bad(format!(
                "logs.max_bytes_per_group must be at least 1048576 (1 MiB), got {}",
                self.logs.max_bytes_per_group
            ));
        }
        let rate = self.logs.capture_bytes_per_second;
        if rate != 0 && rate < 1 << 16 {
            return bad(format!(
                "logs.capture_bytes_per_second must be 0 (no limit) or at least 65536, got {rate}"
            ));
        }
        if self.engine.concurrent_executions == Some(0) {
            return bad("engine.concurrent_executions must be at least 1".into());
        }
        if self.runtime_api.max_connections == 0 {
            return bad("runtime_api.max_connections must be at least 1".into());
        }
        if self.engine.spare_environments > 64 {
            return bad(format!(
                "engine.spare_environments must be at most 64, got {}",
                self.engine.spare_environments
            ));
        }
        if self.runtime_api.header_timeout_ms == 0 {
            return bad("runtime_api.header_timeout_ms must be at least 1".into());
        }
        if self.runtime_api.max_header_bytes < 8192 {
            return bad(format!(
                "runtime_api.max_header_bytes must be at least 8192, got {}",
                self.runtime_api.max_header_bytes
            ));
        }
        if self.server.header_timeout_secs == 0 || self.server.body_idle_timeout_secs == 0 {
            return bad(
                "server.header_timeout_secs and server.body_idle_timeout_secs must be at least 1"
                    .into(),
            );
        }
        let a = &self.async_invoke;
        if a.max_concurrency == 0 {
            return bad("async_invoke.max_concurrency must be at least 1".into());
        }
        if a.backoff_min_ms == 0 || a.backoff_min_ms > a.backoff_max_ms {
            return bad(format!(
                "async_invoke.backoff_min_ms must be at least 1 and at most backoff_max_ms, got {}..{}",
                a.backoff_min_ms, a.backoff_max_ms
            ));
        }
        if let (Some(limit), Some(min)) = (
            self.engine.concurrent_executions,
            self.engine.min_unreserved_concurrency,
        ) {
            if min > limit {
                return bad(format!(
                    "engine.min_unreserved_concurrency ({min}) cannot exceed engine.concurrent_executions ({limit})"
                ));
            }
        }
        if self.engine.memory_budget_mb.is_some_and(|m| m < 128) {
            return bad("engine.memory_budget_mb must be at least 128".into());
        }
        if self.server.body_budget_mb < 70 {
            return bad(format!(
                "server.body_budget_mb must be at least 70 (one 70 MB code upload), got {}",
                self.server.body_budget_mb
            ));
        }
        if let Some(e) = &self.tracing.otlp_endpoint {
            if !e.starts_with("http://") || e.len() <= "http://".len() {
                return bad(format!(
                    "tracing.otlp_endpoint must be an http:// URL such as http://127.0.0.1:4318/v1/traces (lambdabox's exporter has no TLS: run the collector on this host or behind a local proxy), got {e:?}"
                ));
            }
        }
        if self.server.workers > 256 || self.server.blocking_threads > 256 {
            return bad("server.workers and server.blocking_threads must be at most 256".into());
        }
        Ok(())
    }

    /// The configuration as TOML, for `lambdabox config` and support dumps; secrets
    /// (`metrics.token`) are shown as `<redacted>`.
    pub fn to_toml(&self) -> String {
        let mut shown = self.clone();
        if shown.metrics.token.is_some() {
            shown.metrics.token = Some("<redacted>".into());
        }
        toml::to_string_pretty(&shown).unwrap_or_default()
    }
}

/// True when the key at `path` holds text: its default is a string, or it is an entry of a
/// map of strings (`runtimes.<id>`, `sandbox.subnets.<name>`).
fn wants_string(defaults: &toml::Table, path: &[String]) -> bool {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    if matches!(p.as_slice(), ["runtimes", _] | ["sandbox", "subnets", _]) {
        return true;
    }
    let mut cur = defaults;
    for (i, seg) in p.iter().enumerate() {
        match cur.get(*seg) {
            Some(toml::Value::Table(t)) if i + 1 < p.len() => cur = t,
            Some(toml::Value::String(_)) => return i + 1 == p.len(),
            _ => return false,
        }
    }
    false
}

/// Environment values are TOML literals when they parse as one (`true`, `42`, `[1, 2]`),
/// otherwise plain strings.
fn env_value(raw: &str) -> toml::Value {
    let probe = format!("v = {raw}");
    match toml::from_str::<toml::Table>(&probe) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.into())),
        Err(_) => toml::Value::String(raw.into()),
    }
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) -> Result<(), String> {
    let (last, parents) = path.split_last().ok_or("empty key")?;
    let mut cur = table;
    for p in parents {
        let entry = cur
            .entry(p.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = entry
            .as_table_mut()
            .ok_or_else(|| format!("{p} is not a table"))?;
    }
    cur.insert(last.clone(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dumps_hide_the_metrics_token() {
        let mut c = Config::default();
        c.metrics.token = Some("s3cret-token-0123456789".into());
        let text = c.to_toml();
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_loopback_and_valid() {
        let c = Config::load(None, env(&[]), &Overrides::default()).unwrap();
        assert!(c.listen.ip().is_loopback());
        assert_eq!(c.region, "us-east-1");
        assert_eq!(c.account_id, "000000000000");
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "region = \"eu-west-1\"\naccount_id = \"111111111111\"\n[sandbox]\nallow_degraded = false\n",
        )
        .unwrap();
        let e = env(&[
            ("LAMBDABOX_ACCOUNT_ID", "222222222222"),
            ("LAMBDABOX_SANDBOX__ALLOW_DEGRADED", "true"),
            ("LAMBDABOX_ENGINE__IDLE_TIMEOUT_SECS", "30"),
            ("OTHER", "x"),
        ]);
        let flags = Overrides {
            account_id: Some("333333333333".into()),
            ..Default::default()
        };
        let c = Config::load(Some(&file), e, &flags).unwrap();
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.account_id, "333333333333");
        assert!(c.sandbox.allow_degraded);
        assert_eq!(c.engine.idle_timeout_secs, 30);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let e = env(&[("LAMBDABOX_SANDBOX__ALLOW_DEGRADEDD", "true")]);
        assert!(Config::load(None, e, &Overrides::default()).is_err());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "regoin = \"x\"\n").unwrap();
        assert!(Config::load(Some(&file), env(&[]), &Overrides::default()).is_err());
        // Unrelated LAMBDABOX_* variables (test harnesses) are not config keys.
        let e = env(&[("LAMBDABOX_TEST_VENV", "/x")]);
        assert!(Config::load(None, e, &Overrides::default()).is_ok());
        let e = env(&[("LAMBDABOX_ACCOUNT_ID", "12")]);
        let err = Config::load(None, e, &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("12 digits"));
    }

    #[test]
    fn server_threads_default_from_cores_and_budget_is_checked() {
        let c = Config::load(None, env(&[]), &Overrides::default()).unwrap();
        assert!(c.server.effective_workers() >= 2);
        assert!(c.server.effective_blocking_threads() >= 2);
        let e = env(&[
            ("LAMBDABOX_SERVER__WORKERS", "3"),
            ("LAMBDABOX_SERVER__BODY_BUDGET_MB", "100"),
        ]);
        let c = Config::load(None, e, &Overrides::default()).unwrap();
        assert_eq!(c.server.effective_workers(), 3);
        assert_eq!(c.server.body_budget_bytes(), 100_000_000);
        let e = env(&[("LAMBDABOX_SERVER__BODY_BUDGET_MB", "10")]);
        let err = Config::load(None, e, &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("body_budget_mb"));
    }

    #[test]
    fn runtimes_map_from_env() {
        let e = env(&[("LAMBDABOX_RUNTIMES__PYTHON3.12", "/usr/bin/python3")]);
        let c = Config::load(None, e, &Overrides::default()).unwrap();
        assert_eq!(c.runtimes["python3.12"], PathBuf::from("/usr/bin/python3"));
    }
}
