//! `wechatpay bill download`: the two-step bill download (申请账单, then the file), streamed to
//! a file with a progress bar, its digest checked as it streams (after gunzip for a GZIP
//! bill, as WeChat Pay digests the decompressed bill).

use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use wechatpay::Options;

use crate::files::Partial;
use crate::settings::Args as SettingsArgs;
use crate::{Failure, Outcome, output};

/// `bill` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Applies for a bill and downloads it, digest checked.
    Download(DownloadArgs),
}

/// Which bill.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    /// 交易账单, `v3/bill/tradebill`.
    Trade,
    /// 资金账单, `v3/bill/fundflowbill`.
    Fundflow,
}

/// The arguments of `bill download`.
#[derive(Debug, clap::Args)]
pub struct DownloadArgs {
    /// Which bill.
    #[arg(long, value_enum)]
    kind: Kind,
    /// The bill's date, YYYY-MM-DD.
    #[arg(long)]
    date: String,
    /// Ask for the bill compressed (`tar_type=GZIP`); the file is then written as received.
    #[arg(long)]
    gzip: bool,
    /// Where to write it.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn run(settings: &SettingsArgs, command: Command) -> Outcome {
    let Command::Download(args) = command;
    if !is_date(&args.date) {
        return Err(Failure(format!(
            "--date takes YYYY-MM-DD, not `{}`",
            args.date
        )));
    }
    let client = settings.resolve()?.client_for_certificates()?;
    let path = match args.kind {
        Kind::Trade => "v3/bill/tradebill",
        Kind::Fundflow => "v3/bill/fundflowbill",
    };
    let mut query = json!({"bill_date": args.date});
    if args.gzip {
        query["tar_type"] = json!("GZIP");
    }
    let apply: Value = client[path].get(json!({"query": query}))?.json()?;
    let field = |name: &str| {
        apply[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Failure(format!("the bill-apply answer has no `{name}`: {apply}")))
    };
    let (url, hash_type, hash_value) = (
        field("download_url")?,
        field("hash_type")?,
        field("hash_value")?,
    );
    let token = url
        .split_once("token=")
        .map(|(_, token)| token.split('&').next().unwrap_or_default())
        .filter(|token| !token.is_empty())
        .ok_or_else(|| Failure(format!("the download_url has no token: {url}")))?;

    // Written next to the destination under a new random name (never through a file or link
    // planted there), renamed into place once the digest matched, removed on any failure.
    let partial = Partial::create(&args.out)?;
    let progress = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {bytes} ({bytes_per_sec}) {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    progress.set_message(format!("{} {}", path, args.date));
    let writer = progress.wrap_write(partial.file()?);
    let downloaded = client["v3/billdownload/file"].get(
        Options::new()
            .query(json!({"token": token}))
            .sink_to(writer)
            .expect_digest(&hash_type, &hash_value),
    );
    progress.finish_and_clear();
    let response = downloaded?;
    partial.rename_to(&args.out)?;
    let bytes = response.streamed().map_or(0, |streamed| streamed.bytes);
    output::pass(format!(
        "{bytes} bytes written to {}{}",
        args.out.display(),
        if args.gzip { " (gzip)" } else { "" }
    ));
    output::pass(format!(
        "{hash_type} digest {hash_value} matches{}",
        if args.gzip {
            " (of the decompressed bill)"
        } else {
            ""
        }
    ));
    Ok(())
}

/// `YYYY-MM-DD`, digits in place.
fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(at, byte)| {
            if at == 4 || at == 7 {
                *byte == b'-'
            } else {
                byte.is_ascii_digit()
            }
        })
}
