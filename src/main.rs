//! The `lambdabox` binary: parse the command line and dispatch.

fn main() -> anyhow::Result<()> {
    Ok(())
}
