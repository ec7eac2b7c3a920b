//! Address plan of internet-only networking: environment `slot` N owns the /30 at
//! `169.254.64.0 + 4N` (host end `.1`, environment end `.2`) and the host interface
//! `lbx<N>` (slots 0–2047: the default rules only) or `lbv<N>` (slots 2048–4095: a VPC
//! network or security groups add a per-environment chain). The interface name is the lock:
//! the kernel refuses a second link of the same name, so two daemons on one host never share a
//! slot. Pure data.

use std::net::Ipv4Addr;

/// The link-local block every environment link is carved from.
pub const POOL: Ipv4Addr = Ipv4Addr::new(169, 254, 64, 0);
pub const POOL_PREFIX: u8 = 18;
/// Prefix length of each environment's link.
pub const LINK_PREFIX: u8 = 30;
/// Slots per class (plain / filtered).
pub const CLASS_SLOTS: u32 = 2048;
/// Name of the environment's end of the pair, inside its namespace.
pub const PEER: &str = "eth0";
/// How many free-looking slots a launch offers the helper (it takes the first it can create).
pub const CANDIDATES: usize = 8;

/// One environment's link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub slot: u32,
    pub filtered: bool,
    pub host_if: String,
    pub host_addr: Ipv4Addr,
    pub env_addr: Ipv4Addr,
}

/// The link of `slot` (0..4096).
pub fn link(slot: u32) -> Link {
    let filtered = slot >= CLASS_SLOTS;
    let base = u32::from(POOL) + (slot % (2 * CLASS_SLOTS)) * 4;
    Link {
        slot,
        filtered,
        host_if: format!("{}{slot}", if filtered { "lbv" } else { "lbx" }),
        host_addr: Ipv4Addr::from(base + 1),
        env_addr: Ipv4Addr::from(base + 2),
    }
}

/// The slot of a host interface name we made (`lbx12`, `lbv2050`).
pub fn slot_of(name: &str) -> Option<u32> {
    let digits = name
        .strip_prefix("lbx")
        .or_else(|| name.strip_prefix("lbv"))?;
    let slot: u32 = digits.parse().ok()?;
    (link(slot).host_if == name && slot < 2 * CLASS_SLOTS).then_some(slot)
}

/// Up to [`CANDIDATES`] slots of the class, starting at `hint`, for which `free` says yes.
pub fn candidates(hint: u32, filtered: bool, free: impl Fn(u32) -> bool) -> Vec<u32> {
    let offset = if filtered { CLASS_SLOTS } else { 0 };
    (0..CLASS_SLOTS)
        .map(|i| offset + (hint + i) % CLASS_SLOTS)
        .filter(|s| free(*s))
        .take(CANDIDATES)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_map_to_distinct_links() {
        let a = link(0);
        assert_eq!(a.host_if, "lbx0");
        assert_eq!(a.host_addr, Ipv4Addr::new(169, 254, 64, 1));
        assert_eq!(a.env_addr, Ipv4Addr::new(169, 254, 64, 2));
        let b = link(4095);
        assert_eq!(b.host_if, "lbv4095");
        assert!(b.filtered);
        assert_eq!(b.env_addr, Ipv4Addr::new(169, 254, 127, 254));
        assert_eq!(slot_of("lbv4095"), Some(4095));
        assert_eq!(slot_of("lbx2050"), None, "lbx names only plain slots");
        assert_eq!(slot_of("lbx07"), None);
        assert_eq!(slot_of("eth0"), None);
        let c = candidates(2046, false, |s| s != 2047);
        assert_eq!(c[..3], [2046, 0, 1]);
        assert!(candidates(5, true, |_| true)
            .iter()
            .all(|s| *s >= CLASS_SLOTS));
    }
}
