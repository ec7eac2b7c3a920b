//! lambdabox: AWS Lambda, self-hosted, in one binary.
//!
//! The library holds every module; `main.rs` only parses the command line and dispatches.
//! See ARCHITECTURE.md for the module map and the rules each module keeps.

pub mod api;
pub mod backup;
pub mod catalog;
pub mod cli;
pub mod cli_gen;
pub mod client;
pub mod commands;
pub mod config;
pub mod cost_cli;
pub mod doctor;
pub mod domain;
pub mod engine;
pub mod http_guard;
pub mod lock;
pub mod netconfig;
pub mod runtime;
pub mod sandbox;
pub mod scheduler;
pub mod serve;
pub mod services;
pub mod store;
pub mod systemd;
pub mod triggers;
pub mod web;
