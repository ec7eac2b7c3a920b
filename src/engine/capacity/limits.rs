//! The host's capacity, resolved once at start from the config and the machine:
//!
//! | limit | config key | default |
//! |---|---|---|
//! | memory budget (sum of `MemorySize` of live environments) | `engine.memory_budget_mb` | 3/4 of `MemTotal` |
//! | environments (one sandbox uid each) | `sandbox.uid_min`..`uid_max` | 1000 uids |
//! | account concurrency | `engine.concurrent_executions` | min(uids, budget / 128 MB) |
//! | minimum unreserved | `engine.min_unreserved_concurrency` | a tenth of the account limit (AWS: 100 of 1000), at least 1 |

use crate::config::Config;
use crate::domain::concurrency::AccountPool;

/// Used when `/proc/meminfo` cannot be read.
const FALLBACK_HOST_MB: u64 = 4096;

/// The resolved limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub account: u32,
    pub min_unreserved: u32,
    pub memory_budget_mb: u64,
    /// Live environments the uid range allows.
    pub environments: u32,
}

impl Limits {
    /// Resolves the limits for a host with `host_memory_mb` of physical memory.
    pub fn resolve(config: &Config, host_memory_mb: Option<u64>) -> Limits {
        let s = &config.sandbox;
        let environments = s.uid_max.saturating_sub(s.uid_min).saturating_add(1);
        let host = host_memory_mb.unwrap_or(FALLBACK_HOST_MB);
        let memory_budget_mb = config
            .engine
            .memory_budget_mb
            .unwrap_or(host * 3 / 4)
            .max(128);
        let by_memory = u32::try_from(memory_budget_mb / 128).unwrap_or(u32::MAX);
        let account = config
            .engine
            .concurrent_executions
            .unwrap_or_else(|| environments.min(by_memory))
            .max(1);
        let min_unreserved = config
            .engine
            .min_unreserved_concurrency
            .unwrap_or_else(|| account.div_ceil(10))
            .clamp(1, account);
        Limits {
            account,
            min_unreserved,
            memory_budget_mb,
            environments,
        }
    }

    /// The account pool the concurrency rules check against.
    pub fn pool(&self) -> AccountPool {
        AccountPool {
            limit: self.account,
            min_unreserved: self.min_unreserved,
            memory_budget_mb: self.memory_budget_mb,
        }
    }
}

/// `MemTotal` of `/proc/meminfo` in MB.
pub fn host_memory_mb() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_mem_total(&text)
}

fn parse_mem_total(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_memory_and_uids() {
        let c = Config::default();
        let l = Limits::resolve(&c, Some(8192));
        assert_eq!(l.memory_budget_mb, 6144);
        assert_eq!(l.environments, 1000);
        assert_eq!(l.account, 48);
        assert_eq!(l.min_unreserved, 5);
        let l = Limits::resolve(&c, Some(1 << 20));
        assert_eq!(l.account, 1000);
        assert_eq!(l.min_unreserved, 100);
    }

    #[test]
    fn config_wins() {
        let mut c = Config::default();
        c.engine.concurrent_executions = Some(300);
        c.engine.memory_budget_mb = Some(2048);
        c.engine.min_unreserved_concurrency = Some(7);
        let l = Limits::resolve(&c, Some(8192));
        assert_eq!(
            (l.account, l.memory_budget_mb, l.min_unreserved),
            (300, 2048, 7)
        );
    }

    #[test]
    fn reads_mem_total() {
        let t = "MemTotal:       24684544 kB\nMemFree:         1 kB\n";
        assert_eq!(parse_mem_total(t), Some(24106));
        assert!(host_memory_mb().unwrap() > 0);
    }
}
