//! The `lambdabox` binary: parse the command line and dispatch.

fn main() -> anyhow::Result<()> {
    // The sandbox helper runs before anything else: no runtime, no logging, single-threaded.
    if std::env::args().nth(1).as_deref() == Some("__sandbox-helper") {
        std::process::exit(lambdabox::sandbox::helper_main());
    }
    // Temporary wiring until the CLI lands (the lead replaces this with `cli.rs`).
    if std::env::args().nth(1).as_deref() == Some("sandbox-run") {
        #[derive(clap::Parser)]
        struct Cmd {
            #[command(flatten)]
            args: lambdabox::sandbox::SandboxRunArgs,
        }
        let cmd = <Cmd as clap::Parser>::parse_from(std::env::args().skip(1));
        let state_dir =
            std::env::temp_dir().join(format!("lambdabox-sandbox-run-{}", std::process::id()));
        let settings = lambdabox::sandbox::SandboxSettings {
            uid_range: (61000, 61999),
            cgroup_parent: format!("lambdabox-run-{}", std::process::id()),
            allow_degraded: std::env::var_os("LAMBDABOX_ALLOW_DEGRADED").is_some(),
            state_dir: state_dir.clone(),
        };
        let code = lambdabox::sandbox::sandbox_run(settings, cmd.args)?;
        let _ = std::fs::remove_dir_all(&state_dir);
        std::process::exit(code);
    }
    Ok(())
}
