//! `wechatpay`: WeChat Pay from the terminal — platform certificates, any request, callbacks,
//! bills, a setup doctor, and the verifying mock server. Built on the `wechatpay` crate's
//! public API only (feature `cli`).
//!
//! ```text
//! cargo install wechatpay-sdk --features cli
//! wechatpay --help
//! ```

use std::process::ExitCode;

use clap::{Args as _, CommandFactory, FromArgMatches, Parser, Subcommand};

mod bill;
mod certificates;
mod doctor;
mod endpoints;
mod files;
mod mock;
mod notify;
mod output;
mod remote;
mod request;
mod sandbox;
mod send;
mod settings;
mod terms;

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
    /// Runs a local WeChat Pay with state, callbacks and a virtual clock until Ctrl-C, or
    /// drives a running one.
    Sandbox(sandbox::Args),
    /// Runs the sandbox without state (every documented operation answered, nothing kept)
    /// until Ctrl-C.
    Mock(mock::Args),
    /// Prints shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let cli = match parse() {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    let outcome = match cli.command {
        Command::Bill(command) => bill::run(&cli.settings, command),
        Command::Certificates(command) => certificates::run(&cli.settings, command),
        Command::Request(args) => request::run(&cli.settings, args),
        Command::Doctor(args) => doctor::run(&cli.settings, args),
        Command::Notify(command) => notify::run(&cli.settings, command),
        Command::Endpoints(args) => {
            settings_unused(&cli.settings, "endpoints").and_then(|()| endpoints::run(args))
        }
        Command::Sandbox(args) => {
            settings_unused(&cli.settings, "sandbox").and_then(|()| sandbox::run(args))
        }
        Command::Mock(args) => {
            settings_unused(&cli.settings, "mock").and_then(|()| mock::run(args))
        }
        Command::Completions { shell } => settings_unused(&cli.settings, "completions").map(|()| {
            clap_complete::generate(shell, &mut command(), "wechatpay", &mut std::io::stdout());
        }),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            output::error(&error);
            ExitCode::FAILURE
        }
    }
}

/// The commands that use no credentials: the servers, which serve their own test keys, and
/// the offline ones. The credential flags are neither listed in their help nor taken by them.
const WITHOUT_CREDENTIALS: [&str; 4] = ["sandbox", "mock", "endpoints", "completions"];

/// Why a command of [`WITHOUT_CREDENTIALS`] takes no credential flag.
fn without_credentials_because(name: &str) -> &'static str {
    match name {
        "sandbox" | "mock" => "which serves its own test keys",
        _ => "which works offline, without credentials",
    }
}

/// The command line, refusing the credential flags given to a command of
/// [`WITHOUT_CREDENTIALS`] (`--mchid` aside, which `sandbox` and `mock` honour).
fn parse() -> Result<Cli, clap::Error> {
    let settings = settings_flags();
    let matches = command().try_get_matches()?;
    for name in WITHOUT_CREDENTIALS {
        if let Some(given) = matches.subcommand_matches(name) {
            for arg in &settings {
                let id = arg.get_id().as_str();
                let own = given.ids().any(|given| given.as_str() == id)
                    && given.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
                let honoured = id == "mchid" && matches!(name, "sandbox" | "mock");
                if own && !honoured {
                    return Err(command().error(
                        clap::error::ErrorKind::ArgumentConflict,
                        format!(
                            "--{} has no meaning for `wechatpay {name}`, {} (see `wechatpay \
                             {name} --help`)",
                            arg.get_long().unwrap_or(id),
                            without_credentials_because(name)
                        ),
                    ));
                }
            }
        }
    }
    Cli::from_arg_matches(&matches)
}

/// The credential flags (global, for the commands that use them).
fn settings_flags() -> Vec<clap::Arg> {
    settings::Args::augment_args(clap::Command::new("settings"))
        .get_arguments()
        .cloned()
        .collect()
}

/// The command line: each command of [`WITHOUT_CREDENTIALS`] gets hidden flags named as the
/// credential flags, so that the global ones are neither listed in its help nor taken by it.
fn command() -> clap::Command {
    let settings = settings_flags();
    let mut command = Cli::command();
    for name in WITHOUT_CREDENTIALS {
        command = command.mut_subcommand(name, |mut subcommand| {
            for arg in &settings {
                let taken = subcommand
                    .get_arguments()
                    .any(|own| own.get_id() == arg.get_id() || own.get_long() == arg.get_long());
                if !taken {
                    subcommand = subcommand.arg(arg.clone().global(false).hide(true));
                }
            }
            subcommand
        });
    }
    command
}

/// Refuses the credential flags given before a command of [`WITHOUT_CREDENTIALS`], which
/// does not use them.
fn settings_unused(settings: &settings::Args, name: &str) -> Outcome {
    // `--mchid` is the sandbox's own too: clap hands its value to both.
    let honoured = |flag: &str| flag == "mchid" && matches!(name, "sandbox" | "mock");
    match settings.given().into_iter().find(|flag| !honoured(flag)) {
        Some(flag) => Err(Failure(format!(
            "--{flag} has no meaning for `wechatpay {name}`, {}",
            without_credentials_because(name)
        ))),
        None => Ok(()),
    }
}

/// What a command fails with: a message, with the library's error text.
type Outcome = Result<(), Failure>;

/// A failed command.
#[derive(Debug)]
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure(terms::in_command_terms(error.to_string()))
    }
}
