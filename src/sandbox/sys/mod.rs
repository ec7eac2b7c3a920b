//! Raw system calls for the sandbox: the only place in lambdabox with `unsafe`.
//!
//! Each wrapper is small, checks the return value and turns it into `io::Result`; every
//! `unsafe` block says why it is sound. Callers keep the ordering rules (mounts → landlock →
//! seccomp → exec); this module only does the calls. Split by concern: sockets, processes,
//! mounts, credentials.
#![allow(unsafe_code)]

mod creds;
mod mount;
mod net;
mod process;
mod socket;

use std::io;

pub use creds::*;
pub use mount::*;
pub use net::*;
pub use process::*;
pub use socket::*;

pub(crate) fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

pub(crate) fn check_long(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}
