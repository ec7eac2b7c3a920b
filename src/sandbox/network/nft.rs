//! The nftables rules of internet-only networking, as scripts for `nft -f -` (one atomic
//! transaction each), and running them.
//!
//! One table, `inet lambdabox`, shared by every daemon on the host (its base chains are the
//! same for all; every script is idempotent: "add" then "flush"):
//! - `input`: nothing from an environment link reaches the host itself (any of its addresses,
//!   any port, IPv4 or IPv6).
//! - `forward`: nothing enters an environment unless it answers the environment's own
//!   connection; environments never reach private, shared, link-local, loopback, multicast or
//!   reserved IPv4 ranges, nor anything over IPv6; `lbv*` links (VPC networks, security groups)
//!   go to their own chain through the `envs` verdict map and are refused while it is missing.
//! - `postrouting`: masquerade environment traffic leaving the host.
//!
//! Refusals are `reject` (admin-prohibited), so function code fails fast instead of hanging.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use super::plan::{POOL, POOL_PREFIX};
use super::rules::EgressRule;

pub const TABLE: &str = "inet lambdabox";
const REJECT: &str = "reject with icmpx type admin-prohibited";

/// Destinations an environment never reaches unless its network allows them: RFC 1918,
/// shared (100.64/10), link-local, loopback, "this network", IETF protocol assignments,
/// benchmarking, multicast and reserved (224/3). The documentation ranges (192.0.2/24,
/// 198.51.100/24, 203.0.113/24) stand for "the internet" in tests.
pub const PRIVATE4: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "224.0.0.0/3",
];

/// The shared table and its base chains. `guard`: lambdabox turned IPv4 forwarding on, so
/// forwarding that involves no environment stays refused as it was before. `host_nets`: the
/// networks the host is directly attached to (its LAN, whatever its range), refused like the
/// private ranges.
pub fn base_script(guard: bool, host_nets: &[(std::net::Ipv4Addr, u8)]) -> String {
    let t = TABLE;
    let nets: Vec<String> = host_nets.iter().map(|(a, p)| format!("{a}/{p}")).collect();
    let host_elements = if nets.is_empty() {
        String::new()
    } else {
        format!("add element {t} hostnets4 {{ {} }}\n", nets.join(", "))
    };
    let mut s = format!(
        "add table {t}\n\
         add set {t} private4 {{ type ipv4_addr; flags interval; }}\n\
         flush set {t} private4\n\
         add element {t} private4 {{ {} }}\n\
         add set {t} hostnets4 {{ type ipv4_addr; flags interval; }}\n\
         flush set {t} hostnets4\n\
         {host_elements}\
         add map {t} envs {{ type ifname : verdict; }}\n\
         add chain {t} input {{ type filter hook input priority filter - 10; policy accept; }}\n\
         flush chain {t} input\n\
         add chain {t} forward {{ type filter hook forward priority filter - 10; policy accept; }}\n\
         flush chain {t} forward\n\
         add chain {t} postrouting {{ type nat hook postrouting priority srcnat; policy accept; }}\n\
         flush chain {t} postrouting\n",
        PRIVATE4.join(", ")
    );
    for p in ["lbx*", "lbv*"] {
        s.push_str(&format!("add rule {t} input iifname \"{p}\" {REJECT}\n"));
    }
    for p in ["lbx*", "lbv*"] {
        s.push_str(&format!(
            "add rule {t} forward oifname \"{p}\" ct state established,related accept\n\
             add rule {t} forward oifname \"{p}\" {REJECT}\n\
             add rule {t} forward iifname \"{p}\" meta nfproto ipv6 {REJECT}\n"
        ));
    }
    s.push_str(&format!(
        "add rule {t} forward iifname \"lbv*\" iifname vmap @envs\n\
         add rule {t} forward iifname \"lbv*\" {REJECT}\n\
         add rule {t} forward iifname \"lbx*\" ip daddr @private4 {REJECT}\n\
         add rule {t} forward iifname \"lbx*\" ip daddr @hostnets4 {REJECT}\n"
    ));
    if guard {
        s.push_str(&format!(
            "add rule {t} forward iifname != \"lbx*\" iifname != \"lbv*\" drop\n"
        ));
    }
    s.push_str(&format!(
        "add rule {t} postrouting ip saddr {POOL}/{POOL_PREFIX} oifname != \"lbx*\" oifname != \"lbv*\" masquerade\n"
    ));
    s
}

fn chain_names(slot: u32) -> (String, String) {
    (format!("env-{slot}"), format!("env-{slot}-lan"))
}

/// The chain of a filtered (`lbv<slot>`) environment: private destinations only where
/// `private_allow` lists them; with security groups, only what their egress rules allow.
pub fn env_script(
    slot: u32,
    private_allow: &[EgressRule],
    egress: Option<&[EgressRule]>,
) -> String {
    let t = TABLE;
    let (env, lan) = chain_names(slot);
    let mut s = format!(
        "add chain {t} {env}\nadd chain {t} {lan}\nflush chain {t} {env}\nflush chain {t} {lan}\n"
    );
    for r in private_allow {
        s.push_str(&format!("add rule {t} {lan} {} return\n", r.nft_match()));
    }
    s.push_str(&format!("add rule {t} {lan} {REJECT}\n"));
    s.push_str(&format!(
        "add rule {t} {env} ip daddr @private4 jump {lan}\n\
         add rule {t} {env} ip daddr @hostnets4 jump {lan}\n"
    ));
    match egress {
        None => s.push_str(&format!("add rule {t} {env} accept\n")),
        Some(rules) => {
            for r in rules {
                s.push_str(&format!("add rule {t} {env} {} accept\n", r.nft_match()));
            }
            s.push_str(&format!("add rule {t} {env} {REJECT}\n"));
        }
    }
    s.push_str(&format!(
        "add element {t} envs {{ \"lbv{slot}\" : goto {env} }}\n"
    ));
    s
}

/// Removes a filtered environment's chains and map entry (idempotent).
pub fn remove_env_script(slot: u32) -> String {
    let t = TABLE;
    let (env, lan) = chain_names(slot);
    format!(
        "add table {t}\n\
         add map {t} envs {{ type ifname : verdict; }}\n\
         add set {t} private4 {{ type ipv4_addr; flags interval; }}\n\
         add set {t} hostnets4 {{ type ipv4_addr; flags interval; }}\n\
         add chain {t} {env}\nadd chain {t} {lan}\n\
         add element {t} envs {{ \"lbv{slot}\" : goto {env} }}\n\
         delete element {t} envs {{ \"lbv{slot}\" }}\n\
         flush chain {t} {env}\nflush chain {t} {lan}\n\
         delete chain {t} {env}\ndelete chain {t} {lan}\n"
    )
}

/// Slots that have a per-environment chain in `listing` (`nft list table inet lambdabox`).
pub fn env_chain_slots(listing: &str) -> Vec<u32> {
    listing
        .lines()
        .filter_map(|l| l.trim().strip_prefix("chain env-")?.strip_suffix(" {"))
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// Runs `nft -f -` with `script` on stdin.
pub fn run(nft: &Path, script: &str) -> Result<(), String> {
    let mut child = Command::new(nft)
        .args(["-f", "-"])
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", nft.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| format!("cannot write to nft: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("nft did not finish: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(format!("nft refused the rules: {}", err.trim()))
    }
}

/// `nft list table inet lambdabox`, or `None` when the table does not exist.
pub fn list(nft: &Path) -> Option<String> {
    let out = Command::new(nft)
        .args(["list", "table", "inet", "lambdabox"])
        .env_clear()
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn base_rules_refuse_the_host_and_private_ranges() {
        let s = base_script(false, &[("192.0.2.0".parse().unwrap(), 24)]);
        assert!(s.contains("add rule inet lambdabox input iifname \"lbx*\" reject"));
        assert!(s.contains("10.0.0.0/8, 100.64.0.0/10"));
        assert!(s.contains("masquerade"));
        assert!(!s.contains(" drop\n"));
        assert!(s.contains("add element inet lambdabox hostnets4 { 192.0.2.0/24 }"));
        assert!(s.contains("ip daddr @hostnets4 reject"));
        assert!(base_script(true, &[]).contains("iifname != \"lbv*\" drop"));
        assert!(!base_script(true, &[]).contains("add element inet lambdabox hostnets4"));
    }

    #[test]
    fn env_chain_lists_lan_and_group_rules() {
        let lan = [EgressRule::parse("192.168.1.0/24 tcp 5432").unwrap()];
        let sg = [EgressRule::parse("0.0.0.0/0 tcp 443").unwrap()];
        let s = env_script(2050, &lan, Some(&sg));
        assert!(s.contains(
            "add rule inet lambdabox env-2050-lan ip daddr 192.168.1.0/24 tcp dport { 5432 } return"
        ));
        assert!(s.contains("env-2050 meta nfproto ipv4 tcp dport { 443 } accept"));
        assert!(s.ends_with("add element inet lambdabox envs { \"lbv2050\" : goto env-2050 }\n"));
        assert!(env_script(2050, &[], None).contains("env-2050 accept"));
        let listing = "table inet lambdabox {\n\tchain env-2050 {\n\t}\n\tchain env-2050-lan {\n\t}\n\tchain forward {\n";
        assert_eq!(env_chain_slots(listing), vec![2050]);
    }
}
