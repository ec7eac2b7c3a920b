//! The Lambda Runtime API (2018-06-01) served to each execution environment, and the runtime
//! clients (python, node) embedded in the binary.
//!
//! Must not touch the database.
