//! `wechatpay mock`: the sandbox without state (`wechatpay sandbox` with its state machines
//! off): every correctly signed request to a documented operation is answered with a signed
//! body of the documented shape, and nobody is called back. Its test keys are written to
//! files whose paths it prints, with everything else a client needs.

use serde_json::Value;
use wechatpay::mock::Reply;

use crate::sandbox::{self, Serve};
use crate::{Failure, Outcome};

/// The arguments of `mock`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    serve: Serve,
    /// What to answer a correctly signed request to a path that is no documented operation:
    /// a status, optionally with a JSON body (`200:{"code_url":"weixin://…"}`)
    /// [default: WeChat Pay's 404].
    #[arg(long, value_name = "STATUS[:JSON]")]
    reply: Option<String>,
}

pub fn run(args: Args) -> Outcome {
    let fallback = args.reply.as_deref().map(fallback).transpose()?;
    sandbox::serve(args.serve, false, fallback)
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
