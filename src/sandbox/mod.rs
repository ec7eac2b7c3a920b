//! Sandboxed execution environments: namespaces, cgroups, rlimits, landlock and seccomp.
//!
//! Owns everything between "start an environment from this spec" and the `exec` of the runtime.
//! Must not touch the database, HTTP or templates.
