//! `wechatpay certificates download`: the platform certificates, downloaded, decrypted with
//! the APIv3 key, checked, and written as `wechatpay_{serial}.pem` files.

use std::path::PathBuf;

use wechatpay::toolkit::format_rfc3339;

use crate::settings::Args as SettingsArgs;
use crate::{Failure, Outcome, files, output};

/// `certificates` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Downloads the platform certificates (GET v3/certificates) and writes them as PEM files.
    Download {
        /// Where to write `wechatpay_{serial}.pem` files.
        #[arg(long, value_name = "DIR", default_value = ".")]
        out: PathBuf,
    },
}

pub fn run(settings: &SettingsArgs, command: Command) -> Outcome {
    let Command::Download { out } = command;
    let settings = settings.resolve()?;
    if settings.apiv3_key()?.is_none() {
        return Err(Failure(
            "the certificates are encrypted with the APIv3 key: give it with \
             --apiv3-key-file FILE or WECHATPAY_APIV3_KEY"
                .into(),
        ));
    }
    let client = settings.client_for_certificates()?;
    let certificates = client.download_certificates()?;
    std::fs::create_dir_all(&out)
        .map_err(|e| Failure(format!("cannot create {}: {e}", out.display())))?;
    for certificate in &certificates {
        let path = out.join(format!("wechatpay_{}.pem", certificate.serial()));
        files::write_private(&path, certificate.pem().as_bytes())?;
        let validity = certificate.validity();
        output::pass(format!(
            "{}  valid {} to {}  {}",
            certificate.serial(),
            format_rfc3339(validity.not_before, 8),
            format_rfc3339(validity.not_after, 8),
            path.display()
        ));
    }
    output::note(format!(
        "{} certificate(s), verified: each decrypted with the APIv3 key, and the answer signed by one of them",
        certificates.len()
    ));
    Ok(())
}
