//! Egress rules: "CIDR [tcp|udp|all [PORTS]]" as written in the config (a network's `allow`
//! list, a security group's `egress` list), parsed, printed back and turned into nftables
//! match expressions. Pure data.

use std::fmt;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

/// Which transport a rule covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    All,
    Tcp,
    Udp,
}

/// One allowed destination: an IPv4 network, a protocol and (for tcp/udp) port ranges
/// (empty = every port).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EgressRule {
    pub addr: Ipv4Addr,
    pub prefix: u8,
    pub protocol: Protocol,
    pub ports: Vec<(u16, u16)>,
}

impl EgressRule {
    /// Parses `10.0.0.0/8`, `192.168.1.20 tcp 5432`, `0.0.0.0/0 tcp 80,443,8000-8100`,
    /// `192.168.1.0/24 udp 53`, `0.0.0.0/0 all`.
    pub fn parse(s: &str) -> Result<EgressRule, String> {
        let mut words = s.split_whitespace();
        let cidr = words.next().ok_or("an egress rule is empty")?;
        let (addr, prefix) = parse_cidr(cidr)?;
        let protocol = match words.next() {
            None | Some("all") => Protocol::All,
            Some("tcp") => Protocol::Tcp,
            Some("udp") => Protocol::Udp,
            Some(other) => {
                return Err(format!(
                    "egress rule {s:?}: protocol must be tcp, udp or all, got {other:?}"
                ))
            }
        };
        let ports = match words.next() {
            None => Vec::new(),
            Some(_) if protocol == Protocol::All => {
                return Err(format!(
                    "egress rule {s:?}: ports need a protocol (tcp or udp)"
                ))
            }
            Some(list) => parse_ports(list).map_err(|e| format!("egress rule {s:?}: {e}"))?,
        };
        if let Some(extra) = words.next() {
            return Err(format!(
                "egress rule {s:?}: unexpected {extra:?} (the form is \"CIDR [tcp|udp|all [PORTS]]\")"
            ));
        }
        Ok(EgressRule {
            addr,
            prefix,
            protocol,
            ports,
        })
    }

    /// The nftables match of this rule (without a verdict), for the `inet` family.
    pub fn nft_match(&self) -> String {
        let mut m = if self.prefix == 0 {
            "meta nfproto ipv4".to_string()
        } else {
            format!("ip daddr {}/{}", self.addr, self.prefix)
        };
        let proto = match self.protocol {
            Protocol::All => return m,
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        };
        if self.ports.is_empty() {
            m.push_str(&format!(" meta l4proto {proto}"));
        } else {
            m.push_str(&format!(" {proto} dport {{ {} }}", ports_text(&self.ports)));
        }
        m
    }

    /// TCP ports this rule opens on every destination, for host networking (landlock can
    /// only restrict TCP connect by port): `None` when the rule says more than that.
    pub fn host_tcp_ports(&self) -> Option<Vec<u16>> {
        if self.prefix != 0 || self.protocol != Protocol::Tcp || self.ports.is_empty() {
            return None;
        }
        let count: u32 = self
            .ports
            .iter()
            .map(|(a, b)| u32::from(*b) - u32::from(*a) + 1)
            .sum();
        if count > 1024 {
            return None;
        }
        Some(self.ports.iter().flat_map(|(a, b)| *a..=*b).collect())
    }
}

impl fmt::Display for EgressRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)?;
        match self.protocol {
            Protocol::All => write!(f, " all"),
            Protocol::Tcp | Protocol::Udp => {
                let p = if self.protocol == Protocol::Tcp {
                    "tcp"
                } else {
                    "udp"
                };
                if self.ports.is_empty() {
                    write!(f, " {p}")
                } else {
                    write!(f, " {p} {}", ports_text(&self.ports).replace(' ', ""))
                }
            }
        }
    }
}

fn ports_text(ports: &[(u16, u16)]) -> String {
    ports
        .iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `a.b.c.d[/n]`; host bits must be zero (a typo there would silently widen or narrow a rule).
pub fn parse_cidr(s: &str) -> Result<(Ipv4Addr, u8), String> {
    let (ip, prefix) = match s.split_once('/') {
        Some((ip, p)) => (
            ip,
            p.parse::<u8>()
                .ok()
                .filter(|p| *p <= 32)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0-32"))?,
        ),
        None => (s, 32),
    };
    let addr: Ipv4Addr = ip
        .parse()
        .map_err(|_| format!("{s:?} is not an IPv4 address or CIDR block (IPv6 is not routed)"))?;
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    };
    if u32::from(addr) & !mask != 0 {
        let net = Ipv4Addr::from(u32::from(addr) & mask);
        return Err(format!("{s:?} has host bits set; write {net}/{prefix}"));
    }
    Ok((addr, prefix))
}

fn parse_ports(list: &str) -> Result<Vec<(u16, u16)>, String> {
    let port = |p: &str| {
        p.parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("{p:?} is not a port (1-65535)"))
    };
    list.split(',')
        .map(|item| match item.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (port(a)?, port(b)?);
                if a > b {
                    return Err(format!("port range {item:?} is reversed"));
                }
                Ok((a, b))
            }
            None => port(item).map(|p| (p, p)),
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_rules() {
        let r = EgressRule::parse("192.168.1.0/24 tcp 5432,6000-6010").unwrap();
        assert_eq!(r.prefix, 24);
        assert_eq!(r.ports, vec![(5432, 5432), (6000, 6010)]);
        assert_eq!(r.to_string(), "192.168.1.0/24 tcp 5432,6000-6010");
        assert_eq!(
            r.nft_match(),
            "ip daddr 192.168.1.0/24 tcp dport { 5432, 6000-6010 }"
        );
        let r = EgressRule::parse("10.1.2.3").unwrap();
        assert_eq!((r.prefix, r.protocol), (32, Protocol::All));
        assert_eq!(r.nft_match(), "ip daddr 10.1.2.3/32");
        let r = EgressRule::parse("0.0.0.0/0 udp").unwrap();
        assert_eq!(r.nft_match(), "meta nfproto ipv4 meta l4proto udp");
        assert_eq!(
            EgressRule::parse("0.0.0.0/0 tcp 443")
                .unwrap()
                .host_tcp_ports(),
            Some(vec![443])
        );
        assert_eq!(
            EgressRule::parse("10.0.0.0/8 tcp 443")
                .unwrap()
                .host_tcp_ports(),
            None
        );
    }

    #[test]
    fn refuses_bad_rules() {
        for bad in [
            "",
            "10.0.0.1/8",
            "10.0.0.0/33",
            "fc00::/7",
            "10.0.0.0/8 icmp",
            "10.0.0.0/8 all 80",
            "10.0.0.0/8 tcp 0",
            "10.0.0.0/8 tcp 90-80",
            "10.0.0.0/8 tcp 80 extra",
        ] {
            assert!(EgressRule::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(EgressRule::parse("10.0.0.1/8")
            .unwrap_err()
            .contains("10.0.0.0/8"));
    }
}
