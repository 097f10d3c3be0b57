//! `wechatpay request METHOD PATH …`: any endpoint, the path written as in the docs.

use std::io::Write;

use serde_json::{Map, Value};
use wechatpay::http::Method;

use crate::settings::Args as SettingsArgs;
use crate::{Failure, Outcome, output};

/// The arguments of `request`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// GET, POST, PUT, PATCH or DELETE.
    method: String,
    /// The path as in the docs: `v3/pay/transactions/out-trade-no/{out_trade_no}`, or
    /// `v2/pay/micropay` for APIv2.
    path: String,
    /// A path variable: `--var out_trade_no=1217752501`; repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// A query parameter: `--query mchid=1900000109`; repeatable.
    #[arg(long, value_name = "NAME=VALUE")]
    query: Vec<String>,
    /// The JSON body, or `@file` to read it.
    #[arg(long, value_name = "JSON|@FILE", conflicts_with = "xml")]
    json: Option<String>,
    /// APIv2: the fields as a JSON object, or `@file` to read it.
    #[arg(long, value_name = "JSON|@FILE")]
    xml: Option<String>,
    /// A request header: `--header Wechatpay-Serial:PUB_KEY_ID_…`; repeatable.
    #[arg(long, value_name = "NAME:VALUE")]
    header: Vec<String>,
    /// APIv2: send over mutual TLS with the merchant certificate (`security: true`).
    #[arg(long)]
    security: bool,
    /// Print only the body, exactly as received.
    #[arg(long)]
    raw: bool,
    /// Send a field WeChat Pay's docs say travels encrypted as given, in plain text.
    #[arg(long)]
    allow_plaintext: bool,
}

pub fn run(settings: &SettingsArgs, args: Args) -> Outcome {
    let method = Method::from_bytes(args.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| Failure(format!("`{}` is not an HTTP method", args.method)))?;
    let options = options(&args)?;
    let settings = settings.resolve()?;
    if args.path.trim_start_matches('/').starts_with("v2/") {
        settings.require_apiv2_key()?;
    }
    let builder = settings.verifying_builder()?;
    let builder = if args.security {
        settings.with_identity(builder)?
    } else {
        builder
    };
    let client = builder.build()?;
    let response = client
        .chain(&args.path)
        .request(method, options)
        .map_err(|error| Failure(with_var_flags(&error)))?;
    if args.raw {
        std::io::stdout().write_all(response.bytes())?;
        return Ok(());
    }
    output::field("status", response.status());
    if let Some(id) = response
        .headers()
        .get("request-id")
        .and_then(|value| value.to_str().ok())
    {
        output::field("request-id", id);
    }
    output::field("verified by", response.verified_by());
    output::body(response.bytes());
    Ok(())
}

/// The options object: variables at the top level, then `query`, `json`, `xml`, `headers`.
fn options(args: &Args) -> Result<Value, Failure> {
    let mut options = Map::new();
    for var in &args.vars {
        let (name, value) = pair(var, '=', "--var")?;
        options.insert(name.to_owned(), Value::String(value.to_owned()));
    }
    if !args.query.is_empty() {
        let mut query = Map::new();
        for item in &args.query {
            let (name, value) = pair(item, '=', "--query")?;
            query.insert(name.to_owned(), Value::String(value.to_owned()));
        }
        options.insert("query".into(), Value::Object(query));
    }
    if let Some(json) = &args.json {
        options.insert("json".into(), json_argument(json, "--json")?);
    }
    if let Some(xml) = &args.xml {
        options.insert("xml".into(), json_argument(xml, "--xml")?);
    }
    if !args.header.is_empty() {
        let mut headers = Map::new();
        for item in &args.header {
            let (name, value) = pair(item, ':', "--header")?;
            headers.insert(
                name.trim().to_owned(),
                Value::String(value.trim().to_owned()),
            );
        }
        options.insert("headers".into(), Value::Object(headers));
    }
    if args.security {
        options.insert("security".into(), Value::Bool(true));
    }
    if args.allow_plaintext {
        options.insert("allow_plaintext".into(), Value::Bool(true));
    }
    Ok(Value::Object(options))
}

fn pair<'a>(text: &'a str, separator: char, flag: &str) -> Result<(&'a str, &'a str), Failure> {
    text.split_once(separator)
        .filter(|(name, _)| !name.trim().is_empty())
        .ok_or_else(|| Failure(format!("{flag} takes NAME{separator}VALUE, not `{text}`")))
}

/// A JSON argument, or `@file` holding it.
fn json_argument(text: &str, flag: &str) -> Result<Value, Failure> {
    let source = match text.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Failure(format!("{flag}: cannot read {path}: {e}")))?,
        None => text.to_owned(),
    };
    serde_json::from_str(&source).map_err(|e| Failure(format!("{flag} is not JSON: {e}")))
}

/// The error's text, with the advice for a missing path variable given as `--var` flags.
fn with_var_flags(error: &wechatpay::Error) -> String {
    let text = crate::terms::in_command_terms(error.to_string());
    if error.kind() != wechatpay::ErrorKind::MissingPathVariable {
        return text;
    }
    let flags = error
        .variables()
        .iter()
        .map(|name| format!("--var {name}=VALUE"))
        .collect::<Vec<_>>()
        .join(" ");
    let advice = text
        .find("pass it as a top-level option")
        .and_then(|start| Some((start, start + text[start..].find("})")? + 2)));
    match advice {
        Some((start, end)) => format!("{}pass {flags}{}", &text[..start], &text[end..]),
        None => text,
    }
}
