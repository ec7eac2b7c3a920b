//! The `[backup]` section: scheduled online backups (interval, directory, how many kept).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// Scheduled online backups taken by the daemon (`lambdabox backup` takes one by hand).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct BackupConfig {
    /// How often the daemon writes a backup archive, as a number with a unit: `90m`, `6h`,
    /// `1d` (s, m, h, d). Unset: no scheduled backups.
    pub interval: Option<String>,
    /// Scheduled archives kept; older ones are deleted after each new one (at least 1).
    pub keep: usize,
    /// Directory the scheduled archives go to. Unset: `<data_dir>/backups`.
    pub dir: Option<PathBuf>,
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig {
            interval: None,
            keep: 7,
            dir: None,
        }
    }
}

impl BackupConfig {
    /// The scheduled interval, if backups are on.
    pub fn interval(&self) -> Result<Option<std::time::Duration>, ConfigError> {
        let Some(text) = self.interval.as_deref() else {
            return Ok(None);
        };
        let bad = || {
            ConfigError::Invalid(format!(
                "backup.interval must be a number with a unit s, m, h or d (e.g. \"6h\"), got {text:?}"
            ))
        };
        let split = text.len().saturating_sub(1);
        let (num, unit) = (
            text.get(..split).ok_or_else(bad)?,
            text.get(split..).ok_or_else(bad)?,
        );
        let n: u64 = num.parse().map_err(|_| bad())?;
        let secs = match unit {
            "s" => n,
            "m" => n.saturating_mul(60),
            "h" => n.saturating_mul(3600),
            "d" => n.saturating_mul(86_400),
            _ => return Err(bad()),
        };
        if secs < 60 {
            return Err(ConfigError::Invalid(format!(
                "backup.interval must be at least 1 minute, got {text:?}"
            )));
        }
        Ok(Some(std::time::Duration::from_secs(secs)))
    }

    /// Where scheduled archives go.
    pub fn dir(&self, data_dir: &Path) -> PathBuf {
        self.dir.clone().unwrap_or_else(|| data_dir.join("backups"))
    }
}
