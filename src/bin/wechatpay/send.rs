//! `wechatpay notify send URL --event TYPE`: any documented notification (or an APIv2 one, a
//! `SIGNTEST` probe, a tampered or stale one) fired at a merchant's running notify_url, signed
//! and encrypted with the sandbox's test keys, and the answer judged: a genuine notification
//! must be accepted (200/204 within 5 s), a broken one refused.

use serde_json::Value;
use wechatpay::sandbox::{Firing, events};

use crate::sandbox::SigningMode;
use crate::{Failure, Outcome, output};

/// The arguments of `notify send`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The notify_url to send it to.
    #[arg(required_unless_present = "list")]
    url: Option<String>,
    /// The event type, e.g. TRANSACTION.SUCCESS (`--list` shows them).
    #[arg(long, value_name = "TYPE", required_unless_present = "list")]
    event: Option<String>,
    /// The APIv2 (XML) notification of that name.
    #[arg(long)]
    v2: bool,
    /// The decrypted resource (APIv3) or the fields (APIv2) as JSON, or `@file` [default: a
    /// sample of the documented fields].
    #[arg(long, value_name = "JSON|@FILE")]
    resource: Option<String>,
    /// Send it broken: signature, stale, future, serial, signature-type, probe (a
    /// WECHATPAY/SIGNTEST signature), unsigned, wrong-key, ciphertext.
    #[arg(long, value_name = "HOW")]
    tamper: Option<String>,
    /// Which of the sandbox's platform keys signs it (the merchant's handler must trust it).
    #[arg(long, value_enum, default_value = "public-key")]
    signing: SigningMode,
    /// Lists the notifications that can be sent.
    #[arg(long)]
    list: bool,
}

pub fn run(args: Args) -> Outcome {
    if args.list {
        for (event_type, v2, title) in events() {
            println!("{event_type}{} {title}", if v2 { " --v2" } else { "" });
        }
        return Ok(());
    }
    let (Some(url), Some(event)) = (&args.url, &args.event) else {
        return Err(Failure("give the notify_url and --event TYPE".into()));
    };
    let mut firing = Firing::new(event).signing(args.signing.signing());
    if args.v2 {
        firing = firing.v2();
    }
    if let Some(resource) = &args.resource {
        firing = firing.resource(json_argument(resource)?);
    }
    if let Some(how) = &args.tamper {
        firing = firing.tamper(how)?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let answer = runtime.block_on(firing.send(url))?;
    let genuine = firing.is_genuine();
    output::field(
        "sent",
        format!(
            "{event} ({}, {}) to {url}",
            if args.v2 { "APIv2" } else { "APIv3" },
            match &args.tamper {
                Some(how) => format!("tampered: {how}"),
                None => "genuine".to_owned(),
            }
        ),
    );
    if !answer.body.is_empty() {
        output::field("answer", String::from_utf8_lossy(&answer.body));
    }
    let verdict = answer.verdict(genuine);
    if answer.status.is_some() && answer.accepted() == genuine {
        output::pass(verdict);
        Ok(())
    } else {
        output::fail(verdict);
        Err(Failure(
            "the notify_url does not answer as WeChat Pay requires".into(),
        ))
    }
}

/// A JSON argument, or `@file` holding it.
fn json_argument(text: &str) -> Result<Value, Failure> {
    let source = match text.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Failure(format!("--resource: cannot read {path}: {e}")))?,
        None => text.to_owned(),
    };
    serde_json::from_str(&source).map_err(|e| Failure(format!("--resource is not JSON: {e}")))
}
