//! Command-line interface: subcommands, their flags and help text. Parsing only; each
//! command's work lives in the module that owns it.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Overrides;

/// AWS Lambda, self-hosted, in one binary.
///
/// lambdabox stores functions in SQLite, runs each execution environment in a kernel
/// sandbox, and serves the AWS Lambda API so that the AWS CLI and SDKs work unmodified
/// with --endpoint-url.
#[derive(Debug, Parser)]
#[command(name = "lambdabox", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand accepts. Each overrides the config file and LAMBDABOX_* variables.
#[derive(Debug, Args, Clone, Default)]
pub struct Common {
    /// TOML config file (keys as in `lambdabox config`)
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory holding the database and generated credentials [default: ./data]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Log level: error, warn, info, debug, trace
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: the Lambda API, the dashboard and the function runner
    Serve(ServeArgs),
    /// Manage API access keys (AWS-style access key id and secret)
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Dashboard users: list them, or reset a forgotten password on the host
    #[command(subcommand)]
    Users(UsersCommand),
    /// List every Lambda runtime id: available here (and with what), or what to install; with AWS's deprecation dates
    Runtimes,
    /// Print the effective configuration (all layers merged) as TOML
    Config,
    /// Invoke a function through the running daemon and print its result
    Invoke(InvokeArgs),
    /// Print a function's logs from the database; --follow keeps printing new lines
    Logs(LogsArgs),
    /// Show the asynchronous invocation queue: pending events per function, the age of the
    /// oldest, and the counters (read-only; works with the daemon running or stopped)
    Queue(QueueArgs),
    /// Estimate what this server's invocations would cost on AWS Lambda (list prices, per
    /// function and day, with the monthly free tier); read-only, daemon running or stopped
    Cost(CostArgs),
    /// Run a host command inside a sandbox with the default limits (for debugging and
    /// bug reports; needs the same privileges as the daemon)
    SandboxRun(crate::sandbox::SandboxRunArgs),
    /// Write a consistent copy of the data directory (databases, object files, credentials) to one
    /// archive; safe while the daemon serves
    Backup(BackupArgs),
    /// Restore a backup archive into --data-dir (refused while a daemon uses that directory,
    /// and into a directory with data unless --force)
    Restore(RestoreArgs),
    /// Check the host: kernel features, runtimes, data directory, port and clock, with a fix
    /// for each problem (exit code 1 when something blocks functions)
    Doctor,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell), generated from
    /// this command line
    Completions(CompletionsArgs),
    /// Print the man page lambdabox(1); with --out-dir, write it and one page per subcommand
    Man(ManArgs),
    /// Print the services and operations the API serves, as README.md lists them
    #[command(hide = true)]
    Operations,
}

#[derive(Debug, Args, Clone)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args, Clone)]
pub struct ManArgs {
    /// Write lambdabox.1 and lambdabox-SUBCOMMAND.1 pages into this directory
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    /// Address to listen on; use 127.0.0.1:0 for any free port. Exposing lambdabox beyond
    /// loopback is your explicit choice [default: 127.0.0.1:9070]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// AWS region reported in ARNs [default: us-east-1]
    #[arg(long)]
    pub region: Option<String>,
    /// Twelve-digit account id reported in ARNs [default: 000000000000]
    #[arg(long)]
    pub account_id: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct InvokeArgs {
    /// Function name or ARN
    pub function_name: String,
    /// Event JSON sent to the function
    #[arg(long, default_value = "{}")]
    pub payload: String,
    /// `Tail` prints the last 4 KB of the invocation's log to stderr
    #[arg(long, default_value = "None", value_parser = ["None", "Tail"])]
    pub log_type: String,
    /// Version or alias to invoke
    #[arg(long)]
    pub qualifier: Option<String>,
    /// `Event` queues the invocation (202) instead of waiting for the result
    #[arg(long, default_value = "RequestResponse", value_parser = ["RequestResponse", "Event", "DryRun"])]
    pub invocation_type: String,
    /// Daemon address [default: the configured listen address]
    #[arg(long, value_name = "HOST:PORT")]
    pub endpoint: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct BackupArgs {
    /// Archive file to write (replaced atomically if it exists)
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
}

#[derive(Debug, Args, Clone)]
pub struct RestoreArgs {
    /// Archive written by `lambdabox backup`
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// Replace the data already in --data-dir
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args, Clone)]
pub struct QueueArgs {
    /// Only this function
    pub function_name: Option<String>,
    /// Print JSON instead of tables
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct LogsArgs {
    /// Function name
    pub function_name: String,
    /// Keep printing new log lines until interrupted
    #[arg(long, short)]
    pub follow: bool,
    /// Only lines from the last N minutes
    #[arg(long, default_value_t = 60)]
    pub since_minutes: i64,
}

#[derive(Debug, Args, Clone)]
pub struct CostArgs {
    /// The month, YYYY-MM [default: this month, UTC]
    #[arg(long)]
    pub month: Option<String>,
    /// Only this function
    #[arg(long)]
    pub function: Option<String>,
    /// Also print one line per function and day
    #[arg(long)]
    pub daily: bool,
    /// Print JSON instead of tables
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key pair and print it once in AWS credentials-file format
    Create {
        /// What the key is for
        #[arg(long, default_value = "")]
        description: String,
        /// An IAM policy document (JSON file) that decides what the key may call (least
        /// privilege for automation); without it the key is an admin key
        #[arg(long)]
        policy: Option<std::path::PathBuf>,
    },
    /// List keys (never their secrets)
    List,
    /// Revoke a key; API calls signed with it fail within seconds
    Revoke {
        /// The access key id to revoke
        access_key_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List the dashboard users and their roles
    List,
    /// Give a dashboard user a new random password (printed once) and end their sessions
    ResetPassword {
        /// The user's name (see `lambdabox users list`)
        username: String,
    },
}

impl Cli {
    /// The command-line layer of the configuration.
    pub fn overrides(&self) -> Overrides {
        let serve = match &self.command {
            Command::Serve(s) => s.clone(),
            _ => ServeArgs::default(),
        };
        Overrides {
            listen: serve.listen,
            data_dir: self.common.data_dir.clone(),
            region: serve.region,
            account_id: serve.account_id,
            log_level: self.common.log_level.clone(),
        }
    }
}
