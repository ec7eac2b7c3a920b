//! The sandbox attack suite: hostile programs run in real sandboxes (as root on the project's
//! machines; nothing here skips) and each case asserts that the attack fails AND that the host
//! is unharmed afterwards. The library is called directly; the helper is the real `lambdabox`
//! binary. `cargo test --test it sandbox`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bench;
mod daemon;
mod filesystem;
mod kernel;
mod lifecycle;
mod limits;
mod network;
mod process;
mod runtimes;
mod spares;
mod support;
mod unprivileged;
