//! Integration tests: every file here starts the real `lambdabox` binary or drives a real
//! part of it (sandbox, runtime clients) against the real kernel and interpreters.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_smoke;
mod fixture;
mod front_door;
mod runtime_clients;
mod sandbox_attacks;
mod sigv4_differential;
mod systemd_notify;
