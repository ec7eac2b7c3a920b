//! The `[sandbox]` section: kernel protections, uids, cgroups, networks (subnets, security
//! groups, the default network, DNS) and freezing idle environments.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Settings of the execution sandbox.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxConfig {
    /// Run functions even when a kernel protection is missing (each one is logged).
    pub allow_degraded: bool,
    /// First uid/gid of the range handed to execution environments.
    pub uid_min: u32,
    /// Last uid/gid of that range.
    pub uid_max: u32,
    /// Name of the cgroup under which every environment's cgroup is created.
    pub cgroup_parent: String,
    /// Subnet name -> network, the VPC analog: `"none"`, `"host"`, `"internet"`, or a table
    /// `{ mode = "internet", allow = ["192.168.1.0/24 tcp 5432"] }` (see `netconfig`).
    pub subnets: BTreeMap<String, crate::netconfig::SubnetConfig>,
    /// Security group name -> allowed egress: TCP ports (any destination) or a table
    /// `{ egress = ["0.0.0.0/0 tcp 443"] }`.
    pub security_groups: BTreeMap<String, crate::netconfig::SecurityGroupConfig>,
    /// Network of functions without `VpcConfig`: `"internet"` (AWS's default: outbound only,
    /// never the host or private ranges) or `"none"` (loopback only).
    pub default_network: String,
    /// Resolvers that internet-only functions' DNS queries are forwarded to ("IP" or
    /// "IP:PORT"); empty: the host's /etc/resolv.conf.
    pub dns_servers: Vec<String>,
    /// Freeze an environment's processes while its runtime waits for the next event, as AWS
    /// does (cgroup v1 freezer or v2 `cgroup.freeze`); costs 15–35 µs per warm invoke
    /// (BENCHMARKS.md). On cgroup v1 a frozen task killed from outside (OOM killer, an
    /// operator) cannot die until thawed: a watch thaws such an environment within 100 ms so
    /// its exit is seen and the pool replaces it.
    pub freeze_idle: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            allow_degraded: false,
            uid_min: 61000,
            uid_max: 61999,
            cgroup_parent: "lambdabox".into(),
            subnets: BTreeMap::new(),
            security_groups: BTreeMap::new(),
            default_network: "internet".into(),
            dns_servers: Vec::new(),
            freeze_idle: true,
        }
    }
}
