//! `wechatpay mock`: the verifying mock server as a standalone process, for integrations in
//! other languages and for shell scripts. Its test-only keys are written to files whose
//! paths it prints, with everything else a client needs, as `NAME=value` lines.

use std::io::Write;
use std::path::PathBuf;

use serde_json::Value;
use wechatpay::mock::{self, MockServer, Reply};

use crate::{Failure, Outcome, files};

/// The arguments of `mock`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The plain HTTP port (0: a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The TLS port, which requires the mock merchant's client certificate (0: a free one).
    #[arg(long, default_value_t = 0)]
    tls_port: u16,
    /// Where to write the test keys [default: a new directory in the system's temp dir].
    #[arg(long, value_name = "DIR")]
    keys_dir: Option<PathBuf>,
    /// What to answer a correctly signed request no rule matches: a status, optionally with
    /// a JSON body (`200:{"code_url":"weixin://…"}`) [default: 404 RESOURCE_NOT_EXISTS].
    #[arg(long, value_name = "STATUS[:JSON]")]
    reply: Option<String>,
}

pub fn run(args: Args) -> Outcome {
    let server = MockServer::start_on(args.port, args.tls_port)?;
    if let Some(reply) = &args.reply {
        server.fallback(fallback(reply)?);
    }
    // A directory of the temp dir is fresh (0700, a random name, never one that exists).
    let (dir, temporary) = match &args.keys_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| Failure(format!("cannot create {}: {e}", dir.display())))?;
            (dir.clone(), false)
        }
        None => (
            files::fresh_directory(&std::env::temp_dir(), "wechatpay-mock-")?,
            true,
        ),
    };
    let write = |name: &str, pem: &str| -> Result<String, Failure> {
        let path = dir.join(name);
        files::write_private(&path, pem.as_bytes())?;
        Ok(path.display().to_string())
    };
    let lines = [
        ("WECHATPAY_BASE_URI", server.uri()),
        ("WECHATPAY_TLS_BASE_URI", server.tls_uri()),
        ("WECHATPAY_MCHID", mock::MCHID.to_owned()),
        ("WECHATPAY_SERIAL", mock::MERCHANT_SERIAL.to_owned()),
        (
            "WECHATPAY_PRIVATE_KEY",
            write("merchant_key.pem", mock::MERCHANT_KEY_PEM)?,
        ),
        (
            "WECHATPAY_PLATFORM_KEY_ID",
            mock::PLATFORM_KEY_ID.to_owned(),
        ),
        (
            "WECHATPAY_PLATFORM_KEY",
            write("platform_pub.pem", mock::PLATFORM_PUBLIC_KEY_PEM)?,
        ),
        (
            "WECHATPAY_PLATFORM_CERTIFICATE",
            write("platform_cert.pem", mock::PLATFORM_CERTIFICATE_PEM)?,
        ),
        (
            "WECHATPAY_MERCHANT_CERT",
            write("merchant_tls_cert.pem", mock::MERCHANT_TLS_CERTIFICATE_PEM)?,
        ),
        (
            "WECHATPAY_TLS_ROOT",
            write("tls_ca_cert.pem", mock::TLS_CA_CERTIFICATE_PEM)?,
        ),
        // The mock's keys are public test keys: printing them is fine.
        ("WECHATPAY_APIV3_KEY", mock::APIV3_KEY.to_owned()),
        ("WECHATPAY_SECRET", mock::SECRET.to_owned()),
    ];
    {
        let mut out = std::io::stdout().lock();
        for (name, value) in &lines {
            writeln!(out, "{name}={value}")?;
        }
        writeln!(out, "# test-only keys; Ctrl-C stops the mock")?;
        out.flush()?;
    }
    wait_for_a_stop_signal()?;
    drop(server);
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// `STATUS[:JSON]` as a reply.
fn fallback(text: &str) -> Result<Reply, Failure> {
    let (status, body) = text.split_once(':').unwrap_or((text, ""));
    let status: u16 = status
        .trim()
        .parse()
        .map_err(|_| Failure(format!("--reply takes STATUS[:JSON], not `{text}`")))?;
    if body.trim().is_empty() {
        return Ok(Reply::status(status));
    }
    let json: Value = serde_json::from_str(body)
        .map_err(|e| Failure(format!("the JSON of --reply does not parse: {e}")))?;
    Ok(Reply::json(status, json))
}

/// Blocks until Ctrl-C (SIGINT) or SIGTERM.
fn wait_for_a_stop_signal() -> Result<(), Failure> {
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
