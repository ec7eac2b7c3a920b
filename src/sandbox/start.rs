//! Starting environments: [`Sandbox::launch`] (everything at once), and the same work split
//! in two for spares: [`Sandbox::prepare`] (function-independent: uid, network slot, cgroup
//! created and limited, helper spawned, namespaces, veth, cgroup attach) and
//! [`Sandbox::finish`] (the function's mounts, environment and command).
//!
//! Ordering rule: validate → lease uid → reserve network slots → create and limit the cgroup
//! → spawn the helper → `Prepare` → [spare: `Prepared`] → `Finish` → `Ready` → CPU quota. A
//! launch sends `Finish` right behind `Prepare`, so the init builds its root while the helper
//! waits for the cgroup attach, as before the split.

use std::os::fd::AsFd;
use std::process::{Command, Stdio};
use std::sync::Arc;

use super::cgroup::{EnvCgroup, Limits};
use super::environment::{Environment, ExitInfo, ExitStatus};
use super::protocol::{self, Finish, Prepare, Reply, MAGIC};
use super::spare::{Shape, Spare, SpareNetwork};
use super::{
    network, placeholder_fd, rootfs, sys, EnvSpec, NetworkPolicy, Sandbox, SandboxError,
    HELPER_ARG, RUNTIME_API_PORT,
};

/// How long the daemon waits for each reply of the helper.
const REPLY_TIMEOUT_SECS: u64 = 30;

impl Sandbox {
    /// Starts an environment; returns once the runtime was exec'd (or failed to be).
    pub fn launch(&self, spec: &EnvSpec) -> Result<Environment, SandboxError> {
        spec.validate()?;
        // Only the limits count here: a launch's own network policy is `spec.network`.
        let shape = Shape {
            memory_mb: spec.memory_mb,
            pids_max: spec.pids_max,
            cpu_share_of_memory: spec.cpu_share_of_memory,
            network: SpareNetwork::Loopback,
        };
        let pending = self.begin(&spec.id, shape, &spec.network, false)?;
        self.complete(pending, spec)
    }

    /// Prepares a spare of `shape` named `id` (an environment id: 1-64 of `[A-Za-z0-9_-]`);
    /// returns once it is attached to its cgroup and its network is in place.
    pub fn prepare(&self, id: &str, shape: Shape) -> Result<Spare, SandboxError> {
        // The same checks a spec of this shape would pass (the id, the limits).
        let mut probe = EnvSpec::new(id, vec!["/spare".into()]);
        probe.memory_mb = shape.memory_mb;
        probe.pids_max = shape.pids_max;
        probe.cwd = "/".into();
        probe.validate()?;
        self.begin(id, shape, &shape.policy(), true)
    }

    /// Finishes `spare` for one function: `spec` must carry the spare's id and shape. The
    /// spare is consumed whatever happens.
    pub fn finish(&self, spare: Spare, spec: &EnvSpec) -> Result<Environment, SandboxError> {
        spec.validate()?;
        if spec.id != spare.id {
            return Err(SandboxError::InvalidSpec(format!(
                "spec id {:?} is not the spare's id {:?}",
                spec.id, spare.id
            )));
        }
        if Shape::of(spec) != Some(spare.shape) {
            return Err(SandboxError::InvalidSpec(format!(
                "the spec ({} MB, network {}) does not fit the spare ({})",
                spec.memory_mb,
                spec.network.mode(),
                spare.shape.label()
            )));
        }
        self.complete(spare, spec)
    }

    /// Everything up to the `Prepare` message (and, for a spare, its `Prepared` reply).
    fn begin(
        &self,
        id: &str,
        shape: Shape,
        network: &NetworkPolicy,
        spare: bool,
    ) -> Result<Spare, SandboxError> {
        let limits = Limits::new(shape.memory_mb, shape.pids_max, shape.cpu_share_of_memory);
        if !self.protections.missing.is_empty() {
            let missing = self.protections.missing.join("; ");
            tracing::warn!(env = %id, %missing, "starting a degraded sandbox");
        }
        let lease = self.uids.lease()?;
        let reservation = match network {
            NetworkPolicy::Internet { .. } => {
                let internet = self
                    .internet
                    .as_ref()
                    .map_err(|e| SandboxError::Network(format!("unavailable: {e}")))?;
                Some(internet.reserve(lease.uid, network.filter().is_some())?)
            }
            _ => None,
        };
        let cgroup: Option<Arc<dyn EnvCgroup>> = match &self.backend {
            Some(b) => Some(Arc::from(b.create(id, &limits)?)),
            None => None,
        };
        let (host_listener, addr, port) = match network {
            NetworkPolicy::None | NetworkPolicy::Internet { .. } => (
                None,
                format!("127.0.0.1:{RUNTIME_API_PORT}"),
                RUNTIME_API_PORT,
            ),
            NetworkPolicy::Host { .. } => {
                let l =
                    std::net::TcpListener::bind("127.0.0.1:0").map_err(SandboxError::Listener)?;
                let port = l.local_addr().map_err(SandboxError::Listener)?.port();
                (Some(l), format!("127.0.0.1:{port}"), port)
            }
        };
        let mut root_entries = rootfs::system_entries(id, lease.uid, lease.uid);
        if reservation.is_some() {
            rootfs::use_own_resolver(&mut root_entries);
        }
        let prepare = Prepare {
            magic: MAGIC.into(),
            spare,
            own_netns: network.own_namespace(),
            net_slots: reservation
                .as_ref()
                .map(|r| r.slots.clone())
                .unwrap_or_default(),
            root_entries,
            uid: lease.uid,
            gid: lease.uid,
            user_namespace: self.user_namespace,
            outer_uid: sys::getuid(),
            outer_gid: sys::getgid(),
            root_dir: self.root_dir.clone(),
            cgroup_procs: cgroup.as_ref().map(|c| c.procs_files()).unwrap_or_default(),
            thaw: cgroup.as_ref().and_then(|c| c.thaw_file()),
            seccomp: self.seccomp.clone(),
            landlock: self.landlock,
            runtime_api_port: port,
            hostname: id.to_string(),
            boot_id: uuid::Uuid::new_v4().to_string(),
        };
        let (ours, theirs) = sys::seqpacket_pair().map_err(SandboxError::Control)?;
        let (reader, writer) = sys::pipe().map_err(SandboxError::Control)?;
        let writer2 = writer.try_clone().map_err(SandboxError::Control)?;
        let helper = Command::new(&self.helper_exe)
            .arg(HELPER_ARG)
            .env_clear()
            .current_dir("/")
            .stdin(Stdio::from(theirs))
            .stdout(Stdio::from(writer))
            .stderr(Stdio::from(writer2))
            .spawn()
            .map_err(|e| SandboxError::SpawnHelper(self.helper_exe.clone(), e))?;
        let env = Environment {
            helper,
            control: ours,
            init: Arc::new(placeholder_fd()?),
            init_pid: 0,
            listener: host_listener,
            addr,
            output: Some(std::fs::File::from(reader)),
            cgroup,
            uid: Some(lease),
            landlock_status: String::new(),
            finished: None,
            net: None,
            dns: None,
        };
        let mut pending = Spare {
            env,
            reservation,
            shape,
            id: id.to_string(),
            spare,
        };
        let sent = protocol::send(pending.env.control.as_fd(), &prepare, &[]).and_then(|()| {
            sys::set_recv_timeout(pending.env.control.as_fd(), Some(REPLY_TIMEOUT_SECS))
                .map_err(SandboxError::Control)
        });
        let prepared = match sent {
            Ok(()) if pending.spare => self.await_prepared(&mut pending),
            other => other,
        };
        match prepared {
            Ok(()) => Ok(pending),
            Err(e) => {
                let _ = pending.env.helper.kill();
                drop(pending);
                Err(e)
            }
        }
    }

    /// A spare's `Prepared` reply: the init's pidfd (and so a working killer) and, with
    /// internet networking, the namespace of its veth, which the spare's network lease holds
    /// (the veth is deleted with it when the spare goes, claimed or not).
    fn await_prepared(&self, pending: &mut Spare) -> Result<(), SandboxError> {
        let expected = 1 + usize::from(pending.reservation.is_some());
        match protocol::recv::<Reply>(pending.env.control.as_fd())? {
            Some((Reply::Prepared { init_pid, slot }, fds)) if fds.len() == expected => {
                let mut fds = fds.into_iter();
                let mut next = || {
                    fds.next()
                        .ok_or_else(|| SandboxError::Protocol("missing fd".into()))
                };
                pending.env.init = Arc::new(next()?);
                pending.env.init_pid = init_pid;
                if let (Some(reservation), Some(slot)) = (pending.reservation.take(), slot) {
                    let netns = next()?;
                    let internet = self
                        .internet
                        .as_ref()
                        .map_err(|e| SandboxError::Network(e.clone()))?;
                    pending.env.net = Some(internet.lease(reservation, slot, netns, None)?);
                }
                Ok(())
            }
            Some((Reply::Failed { message }, _)) => Err(failed(&mut pending.env, message)),
            Some((other, _)) => Err(SandboxError::Protocol(format!(
                "unexpected reply {other:?}"
            ))),
            None => Err(SandboxError::Protocol(
                "helper exited before the spare was ready".into(),
            )),
        }
    }

    /// Sends the function's `Finish` and waits for `Ready`.
    fn complete(&self, mut pending: Spare, spec: &EnvSpec) -> Result<Environment, SandboxError> {
        let mut spec = spec.clone();
        let addr = pending.env.addr.clone();
        spec.env.retain(|(k, _)| k != "AWS_LAMBDA_RUNTIME_API");
        spec.env
            .push(("AWS_LAMBDA_RUNTIME_API".into(), addr.clone()));
        if spec.aws_endpoint {
            spec.env.retain(|(k, _)| k != "AWS_ENDPOINT_URL");
            spec.env
                .push(("AWS_ENDPOINT_URL".into(), format!("http://{addr}")));
        }
        let reservation = pending.reservation.take();
        let host = !spec.network.own_namespace();
        let filter = spec.network.filter();
        let Spare { mut env, .. } = pending;
        let started = protocol::send(env.control.as_fd(), &Finish { spec: spec.clone() }, &[])
            .and_then(|()| self.handshake(&mut env, host, reservation, filter))
            .and_then(|()| match &env.cgroup {
                Some(cg) => cg.enable_cpu_limit(),
                None => Ok(()),
            });
        match started {
            Ok(()) => Ok(env),
            Err(e) => {
                let _ = env.helper.kill();
                drop(env);
                Err(e)
            }
        }
    }

    fn handshake(
        &self,
        env: &mut Environment,
        host: bool,
        reservation: Option<network::Reservation>,
        filter: Option<(&[network::EgressRule], Option<&[network::EgressRule]>)>,
    ) -> Result<(), SandboxError> {
        // A spare's network lease is already held (made at `Prepared`).
        let internet = reservation.is_some() || env.net.is_some();
        let expected = match (host, internet) {
            (true, _) => 1,
            (_, true) => 5,
            _ => 2,
        };
        match protocol::recv::<Reply>(env.control.as_fd())? {
            Some((
                Reply::Ready {
                    init_pid,
                    landlock,
                    slot,
                },
                fds,
            )) if fds.len() == expected => {
                let mut fds = fds.into_iter();
                let mut next = || {
                    fds.next()
                        .ok_or_else(|| SandboxError::Protocol("missing fd".into()))
                };
                env.init = Arc::new(next()?);
                env.init_pid = init_pid;
                env.landlock_status = landlock;
                if expected > 1 {
                    env.listener = Some(std::net::TcpListener::from(next()?));
                }
                if internet {
                    let udp = std::net::UdpSocket::from(next()?);
                    let tcp = std::net::TcpListener::from(next()?);
                    let netns = next()?;
                    env.dns = Some((udp, tcp));
                    if let (Some(reservation), Some(slot)) = (reservation, slot) {
                        let internet = self
                            .internet
                            .as_ref()
                            .map_err(|e| SandboxError::Network(e.clone()))?;
                        env.net = Some(internet.lease(reservation, slot, netns, filter)?);
                    }
                }
                Ok(())
            }
            Some((Reply::Failed { message }, _)) => Err(failed(env, message)),
            Some((other, _)) => Err(SandboxError::Protocol(format!(
                "unexpected reply {other:?}"
            ))),
            None => Err(SandboxError::Protocol(
                "helper exited before it was ready".into(),
            )),
        }
    }
}

/// The helper reported a failed set-up: it exits by itself; reap it and remove the cgroup.
fn failed(env: &mut Environment, message: String) -> SandboxError {
    env.finished = Some(ExitInfo {
        status: ExitStatus::Code(127),
        oom_killed: false,
        memory_peak_bytes: 0,
    });
    let _ = env.helper.wait();
    if let Some(cg) = &env.cgroup {
        let _ = cg.remove();
    }
    SandboxError::Setup(message)
}
