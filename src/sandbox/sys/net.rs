//! rtnetlink for internet-only networking: create a veth pair whose peer lands in an
//! environment's network namespace, delete a link, add an IPv4 address, bring a link up and add
//! a default route. Each call opens its own `NETLINK_ROUTE` socket, which acts on the network
//! namespace of the calling thread (the helper's: the host; the init's: the environment).
//! Messages are built in safe code; only the socket, send and receive calls are `unsafe`.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::check;

const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_NEWADDR: u16 = 20;
const RTM_NEWROUTE: u16 = 24;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const IFLA_IFNAME: u16 = 3;
const IFLA_LINKINFO: u16 = 18;
const IFLA_NET_NS_FD: u16 = 28;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const VETH_INFO_PEER: u16 = 1;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;

/// One netlink request under construction (header length fixed up in `finish`).
struct Msg(Vec<u8>);

impl Msg {
    fn new(ty: u16, flags: u16) -> Msg {
        let mut b = Vec::with_capacity(256);
        b.extend(0u32.to_ne_bytes()); // length, set in finish
        b.extend(ty.to_ne_bytes());
        b.extend((flags | NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        b.extend(1u32.to_ne_bytes()); // seq
        b.extend(0u32.to_ne_bytes()); // pid: the kernel
        Msg(b)
    }

    fn bytes(&mut self, data: &[u8]) {
        self.0.extend(data);
        self.pad();
    }

    fn pad(&mut self) {
        while self.0.len() % 4 != 0 {
            self.0.push(0);
        }
    }

    /// `struct ifinfomsg`: family, pad, type, index, flags, change.
    fn ifinfo(&mut self, index: i32, flags: u32, change: u32) {
        self.0.extend([libc::AF_UNSPEC as u8, 0]);
        self.0.extend(0u16.to_ne_bytes());
        self.0.extend(index.to_ne_bytes());
        self.0.extend(flags.to_ne_bytes());
        self.0.extend(change.to_ne_bytes());
    }

    fn attr(&mut self, ty: u16, payload: &[u8]) {
        self.0.extend(((4 + payload.len()) as u16).to_ne_bytes());
        self.0.extend(ty.to_ne_bytes());
        self.bytes(payload);
    }

    fn name(&mut self, ty: u16, name: &str) {
        let mut v = name.as_bytes().to_vec();
        v.push(0);
        self.attr(ty, &v);
    }

    fn nested(&mut self, ty: u16, body: impl FnOnce(&mut Msg)) {
        let start = self.0.len();
        self.0.extend([0u8; 4]);
        body(self);
        let len = (self.0.len() - start) as u16;
        self.0[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self.0[start + 2..start + 4].copy_from_slice(&ty.to_ne_bytes());
    }

    fn finish(mut self) -> Vec<u8> {
        let len = self.0.len() as u32;
        self.0[0..4].copy_from_slice(&len.to_ne_bytes());
        self.0
    }
}

fn route_socket() -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2); the fd is checked and then owned.
    let fd = check(unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )
    })?;
    // SAFETY: fd is new and ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sends one request and waits for its acknowledgement; a negative error code becomes `Err`.
fn request(msg: Msg) -> io::Result<()> {
    let sock = route_socket()?;
    let data = msg.finish();
    // SAFETY: zeroed sockaddr_nl is valid; family set below; pid 0 addresses the kernel.
    let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    // SAFETY: data and the address are valid for the lengths given.
    let sent = unsafe {
        libc::sendto(
            sock.as_raw_fd(),
            data.as_ptr() as *const libc::c_void,
            data.len(),
            0,
            &kernel as *const libc::sockaddr_nl as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: buf is valid for its length.
        let n = unsafe {
            libc::recv(
                sock.as_raw_fd(),
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
                0,
            )
        };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        let n = n as usize;
        if n < 20 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "short netlink reply",
            ));
        }
        let ty = u16::from_ne_bytes([buf[4], buf[5]]);
        if ty != NLMSG_ERROR {
            continue;
        }
        let code = i32::from_ne_bytes([buf[16], buf[17], buf[18], buf[19]]);
        return if code == 0 {
            Ok(())
        } else {
            Err(io::Error::from_raw_os_error(-code))
        };
    }
}

/// The index of interface `name` in the calling thread's network namespace.
pub fn if_index(name: &str) -> io::Result<i32> {
    let c = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: c is a valid NUL-terminated string for the call.
    let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if idx == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(idx as i32)
}

/// Creates the veth pair `host` (here) ↔ `peer` (moved into the namespace `netns` at once).
/// `EEXIST` when `host` already exists.
pub fn create_veth(host: &str, peer: &str, netns: BorrowedFd<'_>) -> io::Result<()> {
    let mut m = Msg::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    m.ifinfo(0, 0, 0);
    m.name(IFLA_IFNAME, host);
    m.nested(IFLA_LINKINFO, |m| {
        m.attr(IFLA_INFO_KIND, b"veth");
        m.nested(IFLA_INFO_DATA, |m| {
            m.nested(VETH_INFO_PEER, |m| {
                m.ifinfo(0, 0, 0);
                m.name(IFLA_IFNAME, peer);
                m.attr(IFLA_NET_NS_FD, &(netns.as_raw_fd() as u32).to_ne_bytes());
            });
        });
    });
    request(m)
}

/// Deletes link `name` (for a veth: both ends); a link that is already gone is not an error.
pub fn delete_link(name: &str) -> io::Result<()> {
    let mut m = Msg::new(RTM_DELLINK, 0);
    m.ifinfo(0, 0, 0);
    m.name(IFLA_IFNAME, name);
    match request(m) {
        Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(()),
        other => other,
    }
}

/// Sets link `name` up.
pub fn link_up(name: &str) -> io::Result<()> {
    let index = if_index(name)?;
    let mut m = Msg::new(RTM_NEWLINK, 0);
    let up = libc::IFF_UP as u32;
    m.ifinfo(index, up, up);
    request(m)
}

/// Adds `addr/prefix` to link `name`.
pub fn add_ipv4(name: &str, addr: Ipv4Addr, prefix: u8) -> io::Result<()> {
    let index = if_index(name)?;
    let mut m = Msg::new(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    // struct ifaddrmsg: family, prefixlen, flags, scope, index
    m.bytes(&[libc::AF_INET as u8, prefix, 0, 0]);
    m.bytes(&(index as u32).to_ne_bytes());
    m.attr(IFA_LOCAL, &addr.octets());
    m.attr(IFA_ADDRESS, &addr.octets());
    request(m)
}

/// Adds the default route via `gateway` on link `name` (main table).
pub fn add_default_route(name: &str, gateway: Ipv4Addr) -> io::Result<()> {
    let index = if_index(name)?;
    let mut m = Msg::new(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    // struct rtmsg: family, dst_len, src_len, tos, table (main), protocol (boot),
    // scope (universe), type (unicast), flags
    m.bytes(&[libc::AF_INET as u8, 0, 0, 0, 254, 3, 0, 1]);
    m.bytes(&0u32.to_ne_bytes());
    m.attr(RTA_GATEWAY, &gateway.octets());
    m.attr(RTA_OIF, &(index as u32).to_ne_bytes());
    request(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_attributes_have_their_lengths() {
        let mut m = Msg::new(RTM_NEWLINK, 0);
        m.ifinfo(0, 0, 0);
        m.nested(IFLA_LINKINFO, |m| m.attr(IFLA_INFO_KIND, b"veth"));
        let b = m.finish();
        assert_eq!(
            u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize,
            b.len()
        );
        // header 16 + ifinfomsg 16, then the nest: 4 + (4 + 4 "veth")
        assert_eq!(b.len(), 16 + 16 + 12);
        assert_eq!(u16::from_ne_bytes([b[32], b[33]]), 12);
        assert_eq!(u16::from_ne_bytes([b[34], b[35]]), IFLA_LINKINFO);
    }
}
