//! Integration tests: every file here starts the real `lambdabox` binary.
mod runtime_clients;
