//! Spare environments: the function-independent part of an environment (helper, namespaces,
//! uid, cgroup created, limited and joined, loopback and Runtime API listener, the veth and
//! DNS sockets of internet-only networking), made ahead of a request by
//! [`Sandbox::prepare`](super::Sandbox::prepare) and finished for one function by
//! [`Sandbox::finish`](super::Sandbox::finish) (mounts, pivot_root, identity, landlock,
//! seccomp, exec).
//!
//! Security rule: a spare never ran function code (its init waits for `Finish` before it
//! mounts anything of a function), it is consumed by `finish` (so it serves one function
//! once and is never reused), its uid is leased from the pool like any environment's, and its
//! cgroup limits are the [`Shape`] it was made for, which `finish` checks against the spec.
//! Only shapes without per-function network rules have spares: loopback-only and unfiltered
//! internet (a VPC's rules or the host network are per function).

use std::os::fd::AsFd;

use super::environment::Environment;
use super::spec::{EnvSpec, NetworkPolicy};
use super::sys;

/// What a spare is made for: the cgroup limits and the network mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shape {
    pub memory_mb: u64,
    pub pids_max: u64,
    pub cpu_share_of_memory: bool,
    pub network: SpareNetwork,
}

/// The network modes a spare can be made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpareNetwork {
    /// Own namespace with loopback only (`NetworkPolicy::None`).
    Loopback,
    /// Internet-only without per-function rules.
    Internet,
}

impl Shape {
    /// The shape of `spec`, or `None` when its network cannot be prepared ahead.
    pub fn of(spec: &EnvSpec) -> Option<Shape> {
        Shape::new(
            spec.memory_mb,
            spec.pids_max,
            spec.cpu_share_of_memory,
            &spec.network,
        )
    }

    pub fn new(
        memory_mb: u64,
        pids_max: u64,
        cpu_share_of_memory: bool,
        network: &NetworkPolicy,
    ) -> Option<Shape> {
        let network = match network {
            NetworkPolicy::None => SpareNetwork::Loopback,
            NetworkPolicy::Internet { .. } if network.filter().is_none() => SpareNetwork::Internet,
            _ => return None,
        };
        Some(Shape {
            memory_mb,
            pids_max,
            cpu_share_of_memory,
            network,
        })
    }

    /// The network policy the spare is prepared with.
    pub fn policy(&self) -> NetworkPolicy {
        match self.network {
            SpareNetwork::Loopback => NetworkPolicy::None,
            SpareNetwork::Internet => NetworkPolicy::internet(),
        }
    }

    /// e.g. "128 MB, internet".
    pub fn label(&self) -> String {
        let net = match self.network {
            SpareNetwork::Loopback => "none",
            SpareNetwork::Internet => "internet",
        };
        format!("{} MB, {net}", self.memory_mb)
    }
}

/// A prepared environment waiting for a function. Dropping it kills it and cleans up
/// (blocking, a few ms): its processes, cgroup, veth and uid are gone when the drop returns.
#[derive(Debug)]
pub struct Spare {
    /// Dropped first: the processes, cgroup and network go before the reservation.
    pub(crate) env: Environment,
    pub(crate) reservation: Option<super::network::Reservation>,
    pub(crate) shape: Shape,
    pub(crate) id: String,
    /// Sent as the spare's `Prepare` (true); false for a launch's own, which is finished at once.
    pub(crate) spare: bool,
}

impl Spare {
    /// The environment id (its cgroup's and hostname's name): the function's spec must use it.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The uid the runtime will run as.
    pub fn uid(&self) -> Option<u32> {
        self.env.uid()
    }

    /// False once the spare's init is gone (killed from outside): such a spare cannot finish.
    pub fn alive(&self) -> bool {
        match sys::poll(&[self.env.init.as_fd()], 0) {
            Ok(r) => r.first().is_some_and(|r| *r == 0),
            Err(_) => false,
        }
    }
}
