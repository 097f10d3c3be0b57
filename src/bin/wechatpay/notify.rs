//! `wechatpay notify verify`: checks a callback offline, step by step, and prints the
//! decrypted resource, or says exactly which step failed. `wechatpay notify send`: fires a
//! notification at a running notify_url, genuine or broken on purpose, and judges the answer
//! by WeChat Pay's rules.

use std::path::PathBuf;

use wechatpay::http::{HeaderMap, HeaderName, HeaderValue};
use wechatpay::v3::notify;
use wechatpay::{ErrorKind, Verification};

use crate::send;
use crate::settings::Args as SettingsArgs;
use crate::{Failure, Outcome, output};

/// `notify` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Verifies an APIv3 callback with the platform keys and decrypts it with the APIv3 key.
    Verify(VerifyArgs),
    /// Sends a notification to a notify_url as WeChat Pay would, signed with the sandbox's
    /// test keys, and checks the answer against WeChat Pay's rules.
    Send(send::Args),
}

/// The arguments of `notify verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The request headers, one `Name: value` per line.
    #[arg(
        long,
        value_name = "FILE",
        requires = "body",
        conflicts_with = "request"
    )]
    headers: Option<PathBuf>,
    /// The raw request body, exactly as received.
    #[arg(long, value_name = "FILE")]
    body: Option<PathBuf>,
    /// The whole raw HTTP request (request line, headers, blank line, body).
    #[arg(long, value_name = "FILE")]
    request: Option<PathBuf>,
    /// Check the timestamp against this Unix time instead of the clock (to replay an old
    /// callback).
    #[arg(long, value_name = "SECONDS")]
    now: Option<u64>,
}

pub fn run(settings: &SettingsArgs, command: Command) -> Outcome {
    let args = match command {
        Command::Verify(args) => args,
        Command::Send(args) => return send::run(args),
    };
    let settings = settings.resolve()?;
    let (headers, body) = match (&args.request, &args.headers, &args.body) {
        (Some(request), _, _) => split_request(&read(request)?)?,
        (None, Some(headers), Some(body)) => (parse_headers(&read(headers)?)?, read(body)?),
        _ => {
            return Err(Failure(
                "give --headers FILE --body FILE, or --request FILE".into(),
            ));
        }
    };
    let keys = settings.platform_keys()?;
    if keys.is_empty() {
        return Err(Failure(
            "no platform key to verify with: pass --platform-key-id and --platform-key (or \
             --platform-certificate)"
                .into(),
        ));
    }
    let apiv3_key = settings.apiv3_key()?;
    let now = args.now.unwrap_or_else(wechatpay::toolkit::timestamp);
    let notification =
        match notify::verify_notification(&headers, &body, now, &keys, apiv3_key.as_ref()) {
            Ok(notification) => notification,
            Err(error) => {
                output::fail(format!("{}: {error}", step(&error)));
                return Err(Failure("the notification must not be trusted".into()));
            }
        };
    output::pass(format!(
        "signature verified by {} (timestamp, serial, signature)",
        notification.verified_by()
    ));
    output::pass(format!(
        "envelope: id {}, event {}, {}",
        notification.id(),
        notification.event_type(),
        notification.summary()
    ));
    if apiv3_key.is_none() {
        output::note("no APIv3 key given: the resource stays encrypted (pass --apiv3-key-file)");
        return Ok(());
    }
    match notification.decrypt_raw() {
        Ok(plaintext) => {
            output::pass(format!(
                "resource decrypted ({})",
                notification.resource().original_type()
            ));
            output::body(&plaintext);
            Ok(())
        }
        Err(error) => {
            output::fail(format!("decryption: {error}"));
            Err(Failure("the resource does not decrypt".into()))
        }
    }
}

/// The step a verification error failed at.
fn step(error: &wechatpay::Error) -> &'static str {
    match error.kind() {
        ErrorKind::Verification(Verification::MissingHeader) => "headers",
        ErrorKind::Verification(Verification::Timestamp) => "timestamp",
        ErrorKind::Verification(Verification::UnknownSerial) => "serial",
        ErrorKind::Verification(Verification::Probe) => "probe",
        ErrorKind::Verification(_) => "signature",
        ErrorKind::Decode => "envelope",
        _ => "verification",
    }
}

fn read(path: &PathBuf) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure(format!("cannot read {}: {e}", path.display())))
}

/// `Name: value` lines into headers (a leading request line is skipped).
fn parse_headers(text: &[u8]) -> Result<HeaderMap, Failure> {
    let text =
        std::str::from_utf8(text).map_err(|_| Failure("the headers are not UTF-8".into()))?;
    let mut headers = HeaderMap::new();
    for line in text
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.is_empty())
    {
        let Some((name, value)) = line.split_once(':') else {
            if line.contains(" HTTP/") {
                continue;
            }
            return Err(Failure(format!(
                "not a `Name: value` header line: `{line}`"
            )));
        };
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| Failure(format!("`{}` is not a header name", name.trim())))?;
        let value = HeaderValue::from_str(value.trim())
            .map_err(|_| Failure(format!("the value of `{name}` is not a header value")))?;
        headers.append(name, value);
    }
    Ok(headers)
}

/// A raw HTTP request into its headers and body (split at the first empty line).
fn split_request(raw: &[u8]) -> Result<(HeaderMap, Vec<u8>), Failure> {
    let (head, body) = [&b"\r\n\r\n"[..], b"\n\n"]
        .iter()
        .find_map(|separator| {
            let at = raw.windows(separator.len()).position(|w| w == *separator)?;
            Some((&raw[..at], &raw[at + separator.len()..]))
        })
        .ok_or_else(|| Failure("the request has no blank line between headers and body".into()))?;
    Ok((parse_headers(head)?, body.to_vec()))
}
