//! `wechatpay`: WeChat Pay from the terminal — platform certificates, any request, callbacks,
//! bills, a setup doctor, and the verifying mock server. Built on the `wechatpay` crate's
//! public API only (feature `cli`).
//!
//! ```text
//! cargo install wechatpay --features cli
//! wechatpay --help
//! ```

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

mod bill;
mod certificates;
mod doctor;
mod endpoints;
mod files;
mod mock;
mod notify;
mod output;
mod request;
mod settings;

/// WeChat Pay (微信支付) from the command line.
///
/// Credentials come from flags, then `WECHATPAY_*` environment variables, then the profile
/// of the config file (`--config`, `WECHATPAY_CONFIG`, or ~/.config/wechatpay/config.toml).
/// Secrets are read from files or the environment and never printed.
#[derive(Debug, Parser)]
#[command(name = "wechatpay", version, about, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    settings: settings::Args,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Downloads bills (账单), digest checked.
    #[command(subcommand)]
    Bill(bill::Command),
    /// Downloads the platform certificates (平台证书).
    #[command(subcommand)]
    Certificates(certificates::Command),
    /// Sends any APIv3 or APIv2 request (the path as in the docs) and prints the verified answer.
    Request(request::Args),
    /// Checks callbacks (回调通知) offline.
    #[command(subcommand)]
    Notify(notify::Command),
    /// Checks the setup, one line per check, and says how to fix what fails.
    Doctor(doctor::Args),
    /// Lists documented endpoints matching words of a path or a title.
    Endpoints(endpoints::Args),
    /// Runs the verifying mock WeChat Pay server until Ctrl-C.
    Mock(mock::Args),
    /// Prints shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Bill(command) => bill::run(&cli.settings, command),
        Command::Certificates(command) => certificates::run(&cli.settings, command),
        Command::Request(args) => request::run(&cli.settings, args),
        Command::Doctor(args) => doctor::run(&cli.settings, args),
        Command::Notify(command) => notify::run(&cli.settings, command),
        Command::Endpoints(args) => endpoints::run(args),
        Command::Mock(args) => mock::run(args),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "wechatpay",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            output::error(&error);
            ExitCode::FAILURE
        }
    }
}

/// What a command fails with: a message, with the library's error text.
type Outcome = Result<(), Failure>;

/// A failed command.
#[derive(Debug)]
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure(error.to_string())
    }
}
