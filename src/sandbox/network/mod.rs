//! Internet-only networking, AWS's default for a function outside a VPC: the environment gets
//! its own network namespace with a veth pair to the host, NAT to the outside, and nftables
//! rules that keep it away from the host itself, the LAN and every private or link-local
//! range. DNS is served by the daemon from a socket inside the namespace (`127.0.0.1:53`), so
//! the environment never needs to reach a resolver on the host or the LAN.
//!
//! Ordering rule (per environment): the daemon reserves candidate slots → the helper clones
//! the init into a new network namespace, creates the veth pair (the interface name is the
//! slot's lock), configures the host end → the init configures `eth0` and binds the Runtime API
//! and DNS sockets → the daemon installs a filtered environment's chain → … → teardown (after
//! the environment's processes are gone): chain removed → veth deleted → namespace fd closed →
//! slot released. The namespace outlives its processes only as long as the daemon holds its
//! fd, so no veth survives a daemon killed with -9 (the kernel deletes the pair with the
//! namespace); `enable` still sweeps links and chains whose owner is gone.

pub mod nft;
pub mod plan;
pub mod rules;

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::sys;
use super::SandboxError;
pub use plan::Link;
pub use rules::{EgressRule, Protocol};

/// What the daemon configures for internet-only networking.
#[derive(Debug, Clone, Default)]
pub struct InternetSettings {
    /// Resolvers the daemon forwards environments' DNS queries to (from the host's network).
    pub dns_servers: Vec<SocketAddr>,
}

/// Internet-only networking, ready on this host.
#[derive(Debug)]
pub struct Internet {
    nft: PathBuf,
    reserved: Arc<Mutex<BTreeSet<u32>>>,
    pub settings: InternetSettings,
    /// True when lambdabox turned IPv4 forwarding on (and so refuses other forwarding).
    pub forwarding_guard: bool,
}

/// Marks that lambdabox (not the admin) turned IPv4 forwarding on; lives until reboot, as the
/// setting does.
const FORWARD_MARKER: &str = "/run/lambdabox-enabled-ip-forward";
const IP_FORWARD: &str = "/proc/sys/net/ipv4/ip_forward";

/// Where `nft` is, if installed.
pub fn find_nft() -> Option<PathBuf> {
    ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft", "/bin/nft"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

impl Internet {
    /// Checks the host, turns IPv4 forwarding on if needed, installs the shared rules and
    /// sweeps links and chains left by environments whose owner is gone.
    pub fn enable(settings: InternetSettings) -> Result<Internet, String> {
        if sys::geteuid() != 0 {
            return Err("internet-only networking needs the daemon to run as root (veth pairs and nftables rules on the host)".into());
        }
        let nft = find_nft().ok_or(
            "internet-only networking needs nftables: the nft program is not installed (apt-get install nftables)",
        )?;
        let forwarding = std::fs::read_to_string(IP_FORWARD)
            .map_err(|e| format!("cannot read {IP_FORWARD}: {e}"))?;
        if forwarding.trim() == "0" {
            std::fs::write(IP_FORWARD, "1")
                .map_err(|e| format!("cannot turn IPv4 forwarding on ({IP_FORWARD}): {e}"))?;
            let _ = std::fs::write(FORWARD_MARKER, "lambdabox turned net.ipv4.ip_forward on\n");
            tracing::info!("turned net.ipv4.ip_forward on for internet-only networking; forwarding that involves no environment stays refused (nftables table inet lambdabox)");
        }
        let forwarding_guard = Path::new(FORWARD_MARKER).exists();
        let host_nets =
            host_networks(&std::fs::read_to_string("/proc/net/route").unwrap_or_default());
        nft::run(&nft, &nft::base_script(forwarding_guard, &host_nets))?;
        let internet = Internet {
            nft,
            reserved: Arc::default(),
            settings,
            forwarding_guard,
        };
        internet.sweep();
        Ok(internet)
    }

    /// Deletes `lbx*`/`lbv*` links whose environment is gone and chains without a link.
    fn sweep(&self) {
        let mut swept = 0;
        for name in host_links() {
            let alias = std::fs::read_to_string(format!("/sys/class/net/{name}/ifalias"))
                .unwrap_or_default();
            let owner = alias
                .trim()
                .strip_prefix("lambdabox pid ")
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(pid) = owner {
                if !Path::new(&format!("/proc/{pid}")).exists() && sys::delete_link(&name).is_ok() {
                    swept += 1;
                }
            }
        }
        if let Some(listing) = nft::list(&self.nft) {
            for slot in nft::env_chain_slots(&listing) {
                let link = plan::link(slot);
                if !Path::new(&format!("/sys/class/net/{}", link.host_if)).exists()
                    && nft::run(&self.nft, &nft::remove_env_script(slot)).is_ok()
                {
                    swept += 1;
                }
            }
        }
        if swept > 0 {
            tracing::info!(
                swept,
                "removed network links and rules left by earlier environments"
            );
        }
    }

    /// Reserves up to [`plan::CANDIDATES`] free-looking slots for one launch.
    pub fn reserve(&self, hint: u32, filtered: bool) -> Result<Reservation, SandboxError> {
        let mut used = self.reserved.lock().unwrap_or_else(|p| p.into_inner());
        let slots = plan::candidates(hint, filtered, |s| {
            !used.contains(&s)
                && !Path::new(&format!("/sys/class/net/{}", plan::link(s).host_if)).exists()
        });
        if slots.is_empty() {
            return Err(SandboxError::Network(
                "no free network slot: too many environments with internet access on this host"
                    .into(),
            ));
        }
        used.extend(slots.iter().copied());
        Ok(Reservation {
            slots,
            reserved: Arc::clone(&self.reserved),
        })
    }

    /// Turns the helper's chosen slot into the environment's lease; installs a filtered
    /// environment's chain.
    pub fn lease(
        &self,
        reservation: Reservation,
        slot: u32,
        netns: OwnedFd,
        rules: Option<(&[EgressRule], Option<&[EgressRule]>)>,
    ) -> Result<NetLease, SandboxError> {
        let lease = reservation.keep(slot);
        let mut net = NetLease {
            link: plan::link(slot),
            nft: None,
            netns: Some(netns),
            slot: Some(lease),
        };
        if let Some((private_allow, egress)) = rules {
            net.nft = Some(self.nft.clone());
            nft::run(&self.nft, &nft::env_script(slot, private_allow, egress))
                .map_err(SandboxError::Network)?;
        }
        Ok(net)
    }
}

/// Names of host links that look like ours.
fn host_links() -> Vec<String> {
    std::fs::read_dir("/sys/class/net")
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| plan::slot_of(n).is_some())
                .collect()
        })
        .unwrap_or_default()
}

/// Candidate slots held during one launch; the ones not kept are released on drop.
#[derive(Debug)]
pub struct Reservation {
    pub slots: Vec<u32>,
    reserved: Arc<Mutex<BTreeSet<u32>>>,
}

impl Reservation {
    fn keep(mut self, slot: u32) -> SlotLease {
        self.slots.retain(|s| *s != slot);
        SlotLease {
            slot,
            reserved: Arc::clone(&self.reserved),
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut used = self.reserved.lock().unwrap_or_else(|p| p.into_inner());
        for s in &self.slots {
            used.remove(s);
        }
    }
}

#[derive(Debug)]
struct SlotLease {
    slot: u32,
    reserved: Arc<Mutex<BTreeSet<u32>>>,
}

impl Drop for SlotLease {
    fn drop(&mut self) {
        let mut used = self.reserved.lock().unwrap_or_else(|p| p.into_inner());
        used.remove(&self.slot);
    }
}

/// One environment's network: dropped after its processes are gone.
#[derive(Debug)]
pub struct NetLease {
    pub link: Link,
    nft: Option<PathBuf>,
    netns: Option<OwnedFd>,
    slot: Option<SlotLease>,
}

impl Drop for NetLease {
    fn drop(&mut self) {
        // Order: while the link exists no one else can take the slot, so the chain removed
        // here is this environment's own.
        if let Some(nft) = &self.nft {
            if let Err(e) = nft::run(nft, &nft::remove_env_script(self.link.slot)) {
                tracing::warn!(link = %self.link.host_if, error = %e, "cannot remove an environment's network rules");
            }
        }
        if let Err(e) = sys::delete_link(&self.link.host_if) {
            tracing::warn!(link = %self.link.host_if, error = %e, "cannot delete an environment's veth");
        }
        self.netns = None;
        self.slot = None;
    }
}

/// The IPv4 networks the host is directly attached to (`/proc/net/route` entries without a
/// gateway, not loopback, not ours, prefix ≥ 8), with networks inside another one dropped
/// (an nftables interval set refuses overlaps).
fn host_networks(route_table: &str) -> Vec<(std::net::Ipv4Addr, u8)> {
    let hex = |s: &str| u32::from_str_radix(s, 16).ok().map(u32::from_be);
    let mut nets: Vec<(u32, u8)> = route_table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (iface, dst, gw, mask) = (
                f.first()?,
                hex(f.get(1)?)?,
                hex(f.get(2)?)?,
                hex(f.get(7)?)?,
            );
            let prefix = mask.count_ones() as u8;
            let ours = plan::slot_of(iface).is_some() || *iface == "lo";
            (gw == 0 && !ours && prefix >= 8 && dst & mask == dst).then_some((dst, prefix))
        })
        .collect();
    nets.sort_by_key(|(a, p)| (*p, *a));
    let mut out: Vec<(u32, u8)> = Vec::new();
    for (addr, prefix) in nets {
        let inside = out.iter().any(|(a, p)| {
            let m = u32::MAX << (32 - u32::from(*p));
            addr & m == *a
        });
        if !inside {
            out.push((addr, prefix));
        }
    }
    out.into_iter()
        .map(|(a, p)| (std::net::Ipv4Addr::from(a), p))
        .collect()
}

/// The host's resolvers from `/etc/resolv.conf` (port 53).
pub fn host_nameservers() -> Vec<SocketAddr> {
    parse_resolv_conf(&std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default())
}

fn parse_resolv_conf(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|a| a.trim().split('%').next()?.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

/// One line of `lambdabox doctor` about internet-only networking: (check, ok, detail).
pub fn diagnose() -> Vec<(&'static str, bool, String)> {
    let mut out = Vec::new();
    let root = sys::geteuid() == 0;
    out.push((
        "root",
        root,
        if root {
            "running as root".to_string()
        } else {
            "not root: internet-only networking needs root (veth pairs, nftables)".to_string()
        },
    ));
    match find_nft() {
        Some(p) => out.push(("nftables", true, format!("{} found", p.display()))),
        None => out.push((
            "nftables",
            false,
            "the nft program is missing (apt-get install nftables)".to_string(),
        )),
    }
    let fwd = std::fs::read_to_string(IP_FORWARD).unwrap_or_default();
    out.push((
        "ip forwarding",
        true,
        if fwd.trim() == "1" {
            "net.ipv4.ip_forward = 1".to_string()
        } else {
            "net.ipv4.ip_forward = 0 (the daemon turns it on at start)".to_string()
        },
    ));
    if let (true, Some(nft)) = (root, find_nft()) {
        let probe = nft::list(&nft);
        out.push((
            "rules",
            true,
            match probe {
                Some(_) => "table inet lambdabox installed".to_string(),
                None => "table inet lambdabox not installed yet (the daemon installs it at start)"
                    .to_string(),
            },
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_host_networks() {
        // this machine's table: eth0 192.0.2.0/24 with a default route, a veth of ours, a test
        // veth 203.0.113.0/30 and a /30 inside the /24
        let table =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
            eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
            eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
            lbx3\t0C40FEA9\t00000000\t0001\t0\t0\t0\tFCFFFFFF\t0\t0\t0\n\
            lbtI1\t007100CB\t00000000\t0001\t0\t0\t0\tFCFFFFFF\t0\t0\t0\n\
            x\t040200C0\t00000000\t0001\t0\t0\t0\tFCFFFFFF\t0\t0\t0\n";
        let got: Vec<String> = host_networks(table)
            .iter()
            .map(|(a, p)| format!("{a}/{p}"))
            .collect();
        assert_eq!(got, vec!["192.0.2.0/24", "203.0.113.0/30"]);
    }

    #[test]
    fn reads_nameservers() {
        let got = parse_resolv_conf(
            "# comment\nnameserver 127.0.0.53\nsearch lan\nnameserver fe80::1%eth0\nnameserver bogus\n",
        );
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].to_string(), "127.0.0.53:53");
    }
}
