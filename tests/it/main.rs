//! Integration tests: every file here starts the real `lambdabox` binary.
mod sandbox_attacks;
