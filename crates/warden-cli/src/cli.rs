//! The command line, declared with clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// warden: an access gateway that answers allow, 401 or 403 correctly for every request.
#[derive(Debug, Parser)]
#[command(name = "warden", version)]
pub struct Cli {
    /// Configuration file.
    #[arg(
        long,
        short,
        global = true,
        env = "WARDEN_CONFIG",
        default_value = "warden.toml"
    )]
    pub config: PathBuf,
    /// Log as JSON lines.
    #[arg(long, global = true)]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the decision server.
    Serve,
    /// Work with the configuration file.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Explain the decision for one request, without a server.
    Check(CheckArgs),
    /// Run policy tests: each case a request and the answer warden must give.
    Test(TestArgs),
    /// Manage users in the store.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API keys in the store.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Bring the store's schema to this version of warden (`serve` also does it at start).
    Migrate,
    /// Manage browser sessions in the store.
    Session {
        #[command(subcommand)]
        command: SessionCommand,
    },
}

/// `warden session …`
#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// List sessions that have not reached their absolute expiry.
    List,
    /// End a session by id, or every session of a user with `--user`.
    Revoke {
        /// The session id shown by `session list`.
        #[arg(required_unless_present = "user", conflicts_with = "user")]
        id: Option<String>,
        /// End every session of this user.
        #[arg(long)]
        user: Option<String>,
    },
}

/// `warden config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the file and print every problem with its location.
    Check,
}

/// `warden check METHOD PATH [-H …]`
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Method of the request, e.g. GET.
    pub method: String,
    /// Path (and query) of the request, e.g. /admin.
    pub path: String,
    /// A request header, `Name: value`; repeatable.
    #[arg(short = 'H', long = "header")]
    pub headers: Vec<String>,
    /// Client address the request comes from.
    #[arg(long, default_value = "127.0.0.1")]
    pub peer: std::net::IpAddr,
}

/// `warden test FILE…`
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Test files (TOML), each naming the configuration it tests.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Also list the cases that pass.
    #[arg(long, short)]
    pub verbose: bool,
}

/// `warden user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        /// User name.
        name: String,
        /// A role; repeatable.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Disable a user: their password stops working at once.
    Disable {
        /// User name.
        name: String,
    },
    /// Enable a disabled user.
    Enable {
        /// User name.
        name: String,
    },
    /// Set a user's password, read from standard input.
    Passwd {
        /// User name.
        name: String,
        /// Read the password from standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

/// `warden key …`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a key and print it once.
    Create {
        /// A name for the key; it becomes the subject.
        #[arg(long)]
        name: String,
        /// A role; repeatable.
        #[arg(long = "role")]
        roles: Vec<String>,
    },
    /// List keys (never the secret).
    List,
    /// Revoke a key by id.
    Revoke {
        /// The key id shown by `key list`.
        id: String,
    },
}
