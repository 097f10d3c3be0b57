//! `wechatpay sandbox`: a local WeChat Pay with state, callbacks and a virtual clock, for
//! integrations in any language. It prints what a client needs as `export NAME=value` lines
//! (its test keys are written to files), then one line per request and per delivery, each a
//! shell comment, so that the whole output can be sourced. Its subcommands drive a running
//! sandbox through its control API.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use wechatpay::mock::{self, Reply, Signing};
use wechatpay::sandbox::{Sandbox, SandboxBuilder};
use wechatpay::{Certificate, PublicKey};

use crate::remote;
use crate::{Failure, Outcome, files};

/// The arguments of `sandbox`: how to serve, or a subcommand for a running sandbox.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(flatten)]
    serve: Serve,
    #[command(subcommand)]
    command: Option<remote::Command>,
}

/// How the platform signs (`--signing`).
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SigningMode {
    /// The WeChat Pay public key (PUB_KEY_ID_…), as for merchants onboarded since 2024.
    PublicKey,
    /// The platform certificate (平台证书), downloaded from v3/certificates.
    Certificate,
    /// A migration: answers follow the key a request names in Wechatpay-Serial.
    Migrating,
}

impl SigningMode {
    pub fn signing(self) -> Signing {
        match self {
            SigningMode::PublicKey => Signing::PublicKey,
            SigningMode::Certificate => Signing::Certificate,
            SigningMode::Migrating => Signing::Migrating,
        }
    }
}

/// The flags of a serving sandbox (shared with `wechatpay mock`).
#[derive(Debug, clap::Args)]
pub struct Serve {
    /// The plain HTTP port (0: a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The TLS port, which requires the merchant's client certificate (0: a free one).
    #[arg(long, default_value_t = 0)]
    tls_port: u16,
    /// Where to write the test keys [default: a new directory in the system's temp dir,
    /// removed on exit].
    #[arg(long, value_name = "DIR")]
    keys_dir: Option<PathBuf>,
    /// Which platform key signs answers and notifications.
    #[arg(long, value_enum, default_value = "public-key")]
    signing: SigningMode,
    /// How many times as fast as the real clock the business clock runs (expiries, retries).
    #[arg(long, value_name = "N", default_value_t = 1.0)]
    time_scale: f64,
    /// Also accept requests of this merchant id, 商户号 (signed with the test key, or with
    /// the key of --merchant-certificate); the printed settings name it.
    #[arg(long, value_name = "ID")]
    mchid: Option<String>,
    /// The merchant's own apiclient_cert.pem: requests signed with its key under its serial
    /// are accepted, so an existing setup works with only the base URI changed (needs
    /// --mchid).
    #[arg(long, value_name = "FILE", requires = "mchid")]
    merchant_certificate: Option<PathBuf>,
}

pub fn run(args: Args) -> Outcome {
    match args.command {
        Some(command) => remote::run(command),
        None => serve(args.serve, true, None),
    }
}

/// Serves until Ctrl-C (SIGINT) or SIGTERM: with state, or without (`wechatpay mock`, which
/// may answer undocumented paths with `fallback`).
pub fn serve(serve: Serve, stateful: bool, fallback: Option<Reply>) -> Outcome {
    if !(serve.time_scale.is_finite() && serve.time_scale > 0.0) {
        return Err(Failure(format!(
            "--time-scale must be a number above 0, not {}",
            serve.time_scale
        )));
    }
    let mut builder: SandboxBuilder = Sandbox::builder()
        .port(serve.port)
        .tls_port(serve.tls_port)
        .signing(serve.signing.signing())
        .time_scale(serve.time_scale);
    if !stateful {
        builder = builder.stateless();
    }
    if let Some(reply) = fallback {
        builder = builder.fallback(reply);
    }
    let own_certificate = match &serve.merchant_certificate {
        Some(path) => Some(Certificate::from_pem_file(path).map_err(|e| {
            Failure(format!(
                "--merchant-certificate {}: {e} (give the merchant's apiclient_cert.pem)",
                path.display()
            ))
        })?),
        None => None,
    };
    if let Some(mchid) = &serve.mchid {
        builder = match &own_certificate {
            Some(certificate) => builder.merchant(
                mchid,
                certificate.serial(),
                certificate.public_key().clone(),
            ),
            None => builder.merchant(
                mchid,
                mock::MERCHANT_SERIAL,
                PublicKey::from_pem(mock::MERCHANT_PUBLIC_KEY_PEM)?,
            ),
        };
    }
    let sandbox = Arc::new(builder.start()?);
    // A directory of the temp dir is fresh (0700, a random name, never one that exists).
    let (dir, temporary) = match &serve.keys_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| Failure(format!("cannot create {}: {e}", dir.display())))?;
            (dir.clone(), false)
        }
        None => {
            let prefix = if stateful {
                "wechatpay-sandbox-"
            } else {
                "wechatpay-mock-"
            };
            (files::fresh_directory(&std::env::temp_dir(), prefix)?, true)
        }
    };
    let printed = print_settings(&sandbox, &serve, own_certificate.as_ref(), &dir);
    if let Err(failure) = printed {
        if temporary {
            let _ = std::fs::remove_dir_all(&dir);
        }
        return Err(failure);
    }
    let watching = sandbox.clone();
    std::thread::Builder::new()
        .name("wechatpay-sandbox-log".into())
        .spawn(move || print_changes(&watching))?;
    let stopped = wait_for_a_stop_signal();
    drop(sandbox);
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    stopped
}

/// `value` as a shell word: as is when it is safe, else in single quotes.
fn shell_word(value: &str) -> String {
    let safe = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@+,%".contains(&b));
    if safe {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// Writes the test keys to `dir` and prints the settings a client needs.
fn print_settings(
    sandbox: &Sandbox,
    serve: &Serve,
    own_certificate: Option<&Certificate>,
    dir: &std::path::Path,
) -> Outcome {
    let write = |name: &str, pem: &str| -> Result<String, Failure> {
        let path = dir.join(name);
        files::write_private(&path, pem.as_bytes())?;
        Ok(path.display().to_string())
    };
    let settings = sandbox.settings();
    let text = |key: &str| settings[key].as_str().unwrap_or_default().to_owned();
    let platform_certificate = write("platform_cert.pem", mock::PLATFORM_CERTIFICATE_PEM)?;
    let mut lines = vec![
        ("WECHATPAY_BASE_URI", text("base_uri")),
        ("WECHATPAY_TLS_BASE_URI", text("tls_base_uri")),
        (
            "WECHATPAY_MCHID",
            serve.mchid.clone().unwrap_or_else(|| text("mchid")),
        ),
    ];
    match (own_certificate, &serve.merchant_certificate) {
        (Some(certificate), Some(path)) => {
            lines.push(("WECHATPAY_SERIAL", certificate.serial().to_owned()));
            lines.push(("WECHATPAY_MERCHANT_CERT", path.display().to_string()));
        }
        _ => {
            lines.push(("WECHATPAY_SERIAL", text("serial")));
            lines.push((
                "WECHATPAY_PRIVATE_KEY",
                write("merchant_key.pem", mock::MERCHANT_KEY_PEM)?,
            ));
            lines.push((
                "WECHATPAY_MERCHANT_CERT",
                write("merchant_tls_cert.pem", mock::MERCHANT_TLS_CERTIFICATE_PEM)?,
            ));
        }
    }
    match serve.signing {
        // A client of the certificate mode knows the certificate only (no key id).
        SigningMode::Certificate => {
            lines.push(("WECHATPAY_PLATFORM_KEY", platform_certificate.clone()));
        }
        _ => {
            lines.push(("WECHATPAY_PLATFORM_KEY_ID", text("platform_key_id")));
            lines.push((
                "WECHATPAY_PLATFORM_KEY",
                write("platform_pub.pem", mock::PLATFORM_PUBLIC_KEY_PEM)?,
            ));
        }
    }
    lines.push(("WECHATPAY_PLATFORM_CERTIFICATE", platform_certificate));
    lines.push((
        "WECHATPAY_PLATFORM_CERTIFICATE_SERIAL",
        text("platform_certificate_serial"),
    ));
    lines.push((
        "WECHATPAY_TLS_ROOT",
        write("tls_ca_cert.pem", mock::TLS_CA_CERTIFICATE_PEM)?,
    ));
    // The sandbox's keys are public test keys: printing them is fine.
    lines.push(("WECHATPAY_APIV3_KEY", text("apiv3_key")));
    lines.push(("WECHATPAY_SECRET", text("secret")));
    lines.push(("WECHATPAY_SANDBOX", text("control_uri")));
    let mut out = std::io::stdout().lock();
    for (name, value) in &lines {
        writeln!(out, "export {name}={}", shell_word(value))?;
    }
    writeln!(
        out,
        "# test-only keys; signing: {}; console (open in a browser) and control API: {}; \
         Ctrl-C stops it",
        text("signing"),
        text("control_uri")
    )?;
    out.flush()?;
    Ok(())
}

/// Prints one line per logged request and per delivery attempt, as they happen.
fn print_changes(sandbox: &Sandbox) {
    let mut since = 0;
    let mut printed: HashMap<u64, usize> = HashMap::new();
    loop {
        let changes = sandbox.changes(since, Duration::from_secs(1));
        since = changes["seq"].as_u64().unwrap_or(since);
        let mut out = std::io::stdout().lock();
        for request in changes["requests"].as_array().into_iter().flatten() {
            let _ = writeln!(out, "# {}", remote::request_line(request));
        }
        for delivery in changes["notifications"].as_array().into_iter().flatten() {
            let id = delivery["id"].as_u64().unwrap_or_default();
            let attempts = delivery["attempts"]
                .as_array()
                .map_or(&[][..], Vec::as_slice);
            let done = printed.entry(id).or_default();
            for attempt in attempts.iter().skip(*done) {
                let _ = writeln!(out, "# {}", remote::attempt_line(delivery, attempt));
            }
            *done = attempts.len().max(*done);
        }
        let _ = out.flush();
    }
}

/// Blocks until Ctrl-C (SIGINT) or SIGTERM.
fn wait_for_a_stop_signal() -> Outcome {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        #[cfg(unix)]
        {
            let mut terminate =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                stopped = tokio::signal::ctrl_c() => stopped,
                _ = terminate.recv() => Ok(()),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await
        }
    })?;
    Ok(())
}
