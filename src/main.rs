//! The `lambdabox` binary: parse the command line and dispatch. `anyhow` lives only here.

use anyhow::Context as _;
use clap::Parser;
use lambdabox::cli::{Cli, Command, KeysCommand, UsersCommand};
use lambdabox::config::Config;

fn main() -> anyhow::Result<()> {
    // The sandbox helper runs before anything else: no runtime, no logging, single-threaded.
    if lambdabox::sandbox::is_helper_invocation(std::env::args().nth(1).as_deref()) {
        std::process::exit(lambdabox::sandbox::helper_main());
    }
    let cli = Cli::parse();
    // Commands that describe the binary itself need no configuration.
    match &cli.command {
        Command::Operations => {
            print!("{}", lambdabox::api::registry::operations_markdown());
            return Ok(());
        }
        Command::Completions(args) => {
            lambdabox::cli_gen::completions(args.shell, &mut std::io::stdout());
            return Ok(());
        }
        Command::Man(args) => {
            match &args.out_dir {
                None => lambdabox::cli_gen::man_page(&mut std::io::stdout())?,
                Some(dir) => {
                    for page in lambdabox::cli_gen::man_pages(dir)
                        .with_context(|| format!("writing man pages to {}", dir.display()))?
                    {
                        println!("{}", page.display());
                    }
                }
            }
            return Ok(());
        }
        _ => {}
    }
    let config = Config::load(
        cli.common.config.as_deref(),
        std::env::vars(),
        &cli.overrides(),
    )
    .context("configuration")?;
    init_logging(&config.log_level);
    match cli.command {
        Command::Serve(_) => lambdabox::serve::run(config),
        Command::Runtimes => {
            let catalog = lambdabox::catalog::Catalog::detect(&config.runtimes);
            let fmt = time::macros::format_description!("[year]-[month]-[day]");
            let today = time::OffsetDateTime::now_utc()
                .format(&fmt)
                .unwrap_or_default();
            print!("{}", catalog.listing(&today));
            Ok(())
        }
        Command::SandboxRun(args) => {
            // A private cgroup parent and state dir: the start-up sweep of a sandbox must
            // never touch a running daemon's environments.
            let pid = std::process::id();
            let state_dir = std::env::temp_dir().join(format!("lambdabox-sandbox-run-{pid}"));
            let settings = lambdabox::sandbox::SandboxSettings {
                uid_range: (config.sandbox.uid_min, config.sandbox.uid_max),
                cgroup_parent: format!("{}-run-{pid}", config.sandbox.cgroup_parent),
                allow_degraded: config.sandbox.allow_degraded,
                state_dir: state_dir.clone(),
            };
            let code = lambdabox::sandbox::sandbox_run(settings, args);
            let _ = std::fs::remove_dir_all(&state_dir);
            std::process::exit(code?);
        }
        Command::Invoke(args) => {
            let code = lambdabox::commands::invoke(&config, &args)?;
            std::process::exit(code);
        }
        Command::Logs(args) => lambdabox::commands::logs(&config, &args),
        Command::Queue(args) => lambdabox::commands::queue(&config, &args),
        Command::Cost(args) => lambdabox::cost_cli::run(&config, &args),
        Command::Operations | Command::Completions(_) | Command::Man(_) => Ok(()),
        Command::Doctor => {
            let rows = lambdabox::doctor::run(&config);
            print!("{}", lambdabox::doctor::render(&rows));
            std::process::exit(lambdabox::doctor::exit_code(&rows));
        }
        Command::Backup(args) => {
            let m = lambdabox::backup::create(&config.data_dir, &args.to)?;
            println!(
                "wrote {} ({} files, schema {})",
                args.to.display(),
                m.files.len(),
                m.schema_version
            );
            Ok(())
        }
        Command::Restore(args) => {
            let m = lambdabox::backup::restore(&args.from, &config.data_dir, args.force)?;
            println!(
                "restored {} files (schema {}, written by lambdabox {}) into {}",
                m.files.len(),
                m.schema_version,
                m.version,
                config.data_dir.display()
            );
            Ok(())
        }
        Command::Config => {
            print!("{}", config.to_toml());
            Ok(())
        }
        Command::Users(u) => users(&config, &u),
        Command::Keys(k) => {
            let store = lambdabox::serve::open_store(&config)?;
            match k {
                KeysCommand::Create {
                    description,
                    policy,
                } => {
                    let key = match policy {
                        Some(path) => {
                            let doc = std::fs::read_to_string(&path).map_err(|e| {
                                anyhow::anyhow!("cannot read {}: {e}", path.display())
                            })?;
                            lambdabox::serve::create_scoped_key(&store, &description, &doc)?
                        }
                        None => lambdabox::serve::create_key(&store, &description)?,
                    };
                    println!(
                        "[default]\naws_access_key_id = {}\naws_secret_access_key = {}",
                        key.access_key_id, key.secret
                    );
                    eprintln!("keep the secret safe: it is shown only this once");
                }
                KeysCommand::List => {
                    for k in lambdabox::serve::list_keys(&store)? {
                        let state = if k.revoked_ms.is_some() {
                            "revoked"
                        } else {
                            "active"
                        };
                        println!(
                            "{}  {:<8} {:<8} {}",
                            k.access_key_id, state, k.role, k.description
                        );
                    }
                }
                KeysCommand::Revoke { access_key_id } => {
                    if lambdabox::serve::revoke_key(&store, &access_key_id)? {
                        println!("revoked {access_key_id}");
                    } else {
                        anyhow::bail!("no active key {access_key_id}; see `lambdabox keys list`");
                    }
                }
            }
            Ok(())
        }
    }
}

fn users(config: &lambdabox::config::Config, cmd: &UsersCommand) -> anyhow::Result<()> {
    let store = lambdabox::serve::open_store(config)?;
    match cmd {
        UsersCommand::List => {
            for u in store.call_blocking(|c| lambdabox::store::users::list(c))? {
                println!("{:<24} {}", u.username, u.role);
            }
        }
        UsersCommand::ResetPassword { username } => {
            let pw = lambdabox::web::recovery::reset_password(&store, &config.data_dir, username)?;
            println!("username = {username}\npassword = {pw}");
            eprintln!("the new password is shown only this once; {username}'s sessions were ended. Change it under Settings after signing in.");
        }
    }
    Ok(())
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}
