//! The VPC analog in the config: `sandbox.subnets` (named networks) and
//! `sandbox.security_groups` (allowed egress), and how a function's `VpcConfig` maps to a
//! sandbox [`NetworkPolicy`].
//!
//! A subnet is either a mode string (`"none"`, `"host"`, `"internet"`; the old form) or a table
//! `{ mode = "internet", allow = ["192.168.1.0/24 tcp 5432"] }`: an internet network that may
//! also reach the listed private destinations (a LAN). A security group is either a list of
//! TCP ports (the old form: any destination, those ports) or `{ egress = ["0.0.0.0/0 tcp 443"] }`.
//! A function without subnets gets `sandbox.default_network` (`"internet"`, as on AWS).
//! With security groups, an internet function may reach only what their egress rules allow
//! (and private ranges only where its subnet allows them too).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::sandbox::network::EgressRule;
use crate::sandbox::NetworkPolicy;

/// One named network (`sandbox.subnets.<name>`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum SubnetConfig {
    /// `"none"`, `"host"` or `"internet"`.
    Mode(String),
    Network(NetworkConfig),
}

/// The table form of a subnet.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    #[serde(default = "internet_mode")]
    pub mode: String,
    /// Private destinations this network reaches: "CIDR [tcp|udp|all [PORTS]]".
    #[serde(default)]
    pub allow: Vec<String>,
}

fn internet_mode() -> String {
    "internet".into()
}

impl SubnetConfig {
    pub fn mode(&self) -> &str {
        match self {
            SubnetConfig::Mode(m) => m,
            SubnetConfig::Network(n) => &n.mode,
        }
    }

    fn allow(&self) -> &[String] {
        match self {
            SubnetConfig::Mode(_) => &[],
            SubnetConfig::Network(n) => &n.allow,
        }
    }
}

impl fmt::Display for SubnetConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.mode())?;
        if !self.allow().is_empty() {
            write!(f, ", also reaches {}", self.allow().join("; "))?;
        }
        Ok(())
    }
}

/// One security group (`sandbox.security_groups.<name>`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum SecurityGroupConfig {
    /// TCP ports, any destination.
    Ports(Vec<u16>),
    Rules(SecurityGroupRules),
}

/// The table form of a security group.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroupRules {
    /// Allowed destinations: "CIDR [tcp|udp|all [PORTS]]".
    pub egress: Vec<String>,
}

impl SecurityGroupConfig {
    /// The group's egress rules.
    pub fn egress(&self) -> Result<Vec<EgressRule>, String> {
        match self {
            SecurityGroupConfig::Ports(ports) => ports
                .iter()
                .map(|p| EgressRule::parse(&format!("0.0.0.0/0 tcp {p}")))
                .collect(),
            SecurityGroupConfig::Rules(r) => {
                r.egress.iter().map(|e| EgressRule::parse(e)).collect()
            }
        }
    }
}

impl fmt::Display for SecurityGroupConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecurityGroupConfig::Ports(p) => {
                let ports: Vec<String> = p.iter().map(u16::to_string).collect();
                write!(f, "{}", ports.join(", "))
            }
            SecurityGroupConfig::Rules(r) => write!(f, "{}", r.egress.join("; ")),
        }
    }
}

/// A function's network mode in words (dashboard).
pub fn describe(policy: Result<&NetworkPolicy, &String>) -> String {
    match policy {
        Err(e) => format!("cannot start: {e}"),
        Ok(NetworkPolicy::None) => {
            "no network: loopback only (the Runtime API and the AWS APIs at AWS_ENDPOINT_URL)"
                .into()
        }
        Ok(NetworkPolicy::Host {
            tcp_connect_ports: None,
        }) => "host network (a subnet mapped to host in sandbox.subnets)".into(),
        Ok(NetworkPolicy::Host {
            tcp_connect_ports: Some(p),
        }) => format!(
            "host network, TCP connect only to ports {}",
            p.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
        ),
        Ok(NetworkPolicy::Internet {
            private_allow,
            egress,
        }) => {
            let mut s =
                "internet only: outbound through NAT; never the host, the LAN or private ranges"
                    .to_string();
            if !private_allow.is_empty() {
                let a: Vec<String> = private_allow.iter().map(ToString::to_string).collect();
                s = format!("internet, and the VPC network's {}", a.join("; "));
            }
            if let Some(rules) = egress {
                let r: Vec<String> = rules.iter().map(ToString::to_string).collect();
                s.push_str(&format!("; security groups allow only {}", r.join("; ")));
            }
            s
        }
    }
}

/// `sandbox.dns_servers`: "IP" (port 53) or "IP:PORT" / "[IPv6]:PORT".
pub fn dns_servers(list: &[String]) -> Result<Vec<std::net::SocketAddr>, String> {
    list.iter()
        .map(|s| {
            s.parse::<std::net::SocketAddr>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(|ip| (ip, 53).into()))
                .map_err(|_| format!("sandbox.dns_servers: {s:?} is not IP or IP:PORT"))
        })
        .collect()
}

/// Checks every subnet and security group (config load).
pub fn validate(
    default_network: &str,
    subnets: &BTreeMap<String, SubnetConfig>,
    groups: &BTreeMap<String, SecurityGroupConfig>,
) -> Result<(), String> {
    if default_network != "internet" && default_network != "none" {
        return Err(format!(
            "sandbox.default_network must be \"internet\" or \"none\", got {default_network:?}"
        ));
    }
    for (name, s) in subnets {
        let mode = s.mode();
        if !matches!(mode, "none" | "host" | "internet") {
            return Err(format!(
                "sandbox.subnets.{name} must be \"none\", \"host\" or \"internet\" (or a table with mode and allow), got {mode:?}"
            ));
        }
        if !s.allow().is_empty() && mode != "internet" {
            return Err(format!(
                "sandbox.subnets.{name}: allow needs mode = \"internet\" (a \"{mode}\" network cannot enforce it)"
            ));
        }
        for rule in s.allow() {
            EgressRule::parse(rule).map_err(|e| format!("sandbox.subnets.{name}.allow: {e}"))?;
        }
    }
    for (name, g) in groups {
        g.egress()
            .map_err(|e| format!("sandbox.security_groups.{name}: {e}"))?;
    }
    Ok(())
}

/// The network of a function with these `VpcConfig` subnets and security groups. Errors are
/// for the API client (InvalidParameterValueException).
pub fn policy(
    default_network: &str,
    all_subnets: &BTreeMap<String, SubnetConfig>,
    all_groups: &BTreeMap<String, SecurityGroupConfig>,
    subnets: &[String],
    groups: &[String],
) -> Result<NetworkPolicy, String> {
    let lookup_subnet = |name: &String| {
        all_subnets.get(name).ok_or_else(|| {
            format!(
                "Subnet '{name}' is not defined on this lambdabox host. Defined subnets: [{}] (config key sandbox.subnets).",
                all_subnets.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    };
    let lookup_group = |name: &String| {
        all_groups.get(name).ok_or_else(|| {
            format!(
                "Security group '{name}' is not defined on this lambdabox host. Defined groups: [{}] (config key sandbox.security_groups).",
                all_groups.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    };
    let nets = subnets
        .iter()
        .map(|n| lookup_subnet(n).map(|s| (n, s)))
        .collect::<Result<Vec<_>, _>>()?;
    let sgs = groups
        .iter()
        .map(|n| lookup_group(n).map(|g| (n, g)))
        .collect::<Result<Vec<_>, _>>()?;
    let mode = match nets.first() {
        None => default_network,
        Some((_, first)) => first.mode(),
    };
    if let Some((other, s)) = nets.iter().find(|(_, s)| s.mode() != mode) {
        return Err(format!(
            "Subnets {} do not share one network mode: '{}' is {mode}, '{other}' is {}.",
            subnets.join(", "),
            nets[0].0,
            s.mode()
        ));
    }
    let egress = |sgs: &[(&String, &SecurityGroupConfig)]| -> Result<Vec<EgressRule>, String> {
        let mut rules = Vec::new();
        for (name, g) in sgs {
            rules.extend(
                g.egress()
                    .map_err(|e| format!("Security group '{name}': {e}"))?,
            );
        }
        Ok(rules)
    };
    match mode {
        "host" => {
            if sgs.is_empty() {
                return Ok(NetworkPolicy::Host {
                    tcp_connect_ports: None,
                });
            }
            let mut ports = Vec::new();
            for (name, g) in &sgs {
                for rule in g
                    .egress()
                    .map_err(|e| format!("Security group '{name}': {e}"))?
                {
                    ports.extend(rule.host_tcp_ports().ok_or_else(|| format!(
                        "Security group '{name}' has the egress rule '{rule}', which a host-network subnet cannot enforce (only \"0.0.0.0/0 tcp PORTS\"); use an internet subnet."
                    ))?);
                }
            }
            Ok(NetworkPolicy::Host {
                tcp_connect_ports: Some(ports),
            })
        }
        "internet" => {
            let mut private_allow = Vec::new();
            for (name, s) in &nets {
                for r in s.allow() {
                    private_allow
                        .push(EgressRule::parse(r).map_err(|e| format!("Subnet '{name}': {e}"))?);
                }
            }
            Ok(NetworkPolicy::Internet {
                private_allow,
                egress: if sgs.is_empty() {
                    None
                } else {
                    Some(egress(&sgs)?)
                },
            })
        }
        _ => Ok(NetworkPolicy::None),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cfg() -> (
        BTreeMap<String, SubnetConfig>,
        BTreeMap<String, SecurityGroupConfig>,
    ) {
        let t: toml::Table = toml::from_str(
            r#"
            [subnets]
            old-host = "host"
            old-none = "none"
            subnet-private-1a = { mode = "internet", allow = ["192.168.1.0/24 tcp 5432"] }
            subnet-private-1b = { allow = ["192.168.2.0/24 tcp 5432"] }
            [security_groups]
            sg-old = [8080]
            sg-lambda = { egress = ["0.0.0.0/0 tcp 443", "192.168.0.0/16 tcp 5432"] }
            "#,
        )
        .unwrap();
        let subnets = t["subnets"].clone().try_into().unwrap();
        let groups = t["security_groups"].clone().try_into().unwrap();
        (subnets, groups)
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn maps_vpc_config_to_policies() {
        let (sn, sg) = cfg();
        validate("internet", &sn, &sg).unwrap();
        let p = |subnets: &[&str], groups: &[&str]| {
            policy("internet", &sn, &sg, &s(subnets), &s(groups))
        };
        assert_eq!(p(&[], &[]).unwrap(), NetworkPolicy::internet());
        assert_eq!(
            policy("none", &sn, &sg, &[], &[]).unwrap(),
            NetworkPolicy::None
        );
        assert_eq!(p(&["old-none"], &[]).unwrap(), NetworkPolicy::None);
        assert_eq!(
            p(&["old-host"], &["sg-old"]).unwrap(),
            NetworkPolicy::Host {
                tcp_connect_ports: Some(vec![8080])
            }
        );
        assert!(p(&["old-host"], &["sg-lambda"])
            .unwrap_err()
            .contains("cannot enforce"));
        match p(&["subnet-private-1a", "subnet-private-1b"], &["sg-lambda"]).unwrap() {
            NetworkPolicy::Internet {
                private_allow,
                egress,
            } => {
                assert_eq!(private_allow.len(), 2);
                assert_eq!(egress.unwrap().len(), 2);
            }
            other => panic!("{other:?}"),
        }
        assert!(p(&["subnet-nope"], &[])
            .unwrap_err()
            .starts_with("Subnet 'subnet-nope' is not defined"));
        assert!(p(&["subnet-private-1a"], &["sg-nope"])
            .unwrap_err()
            .starts_with("Security group 'sg-nope' is not defined"));
        assert!(p(&["old-none", "subnet-private-1a"], &[])
            .unwrap_err()
            .contains("do not share one network mode"));
    }

    #[test]
    fn refuses_bad_networks() {
        let (mut sn, sg) = cfg();
        assert!(validate("host", &sn, &sg).is_err());
        sn.insert(
            "bad".into(),
            SubnetConfig::Network(NetworkConfig {
                mode: "none".into(),
                allow: s(&["10.0.0.0/8"]),
            }),
        );
        assert!(validate("internet", &sn, &sg)
            .unwrap_err()
            .contains("allow needs"));
        sn.insert(
            "bad".into(),
            SubnetConfig::Network(NetworkConfig {
                mode: "internet".into(),
                allow: s(&["10.0.0.1/8"]),
            }),
        );
        assert!(validate("internet", &sn, &sg).is_err());
        sn.remove("bad");
        sn.insert("weird".into(), SubnetConfig::Mode("lan".into()));
        assert!(validate("internet", &sn, &sg).is_err());
    }
}
