//! `wechatpay endpoints [WORDS]`: the documented operations, from the crate's catalog.

use wechatpay::endpoints;

use crate::{Outcome, output};

/// The arguments of `endpoints`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Words of a path (`transactions jsapi`) or of a title (`退款`); none lists everything.
    words: Vec<String>,
    /// Print at most this many.
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

pub fn run(args: Args) -> Outcome {
    let words = args.words.join(" ");
    let found: Vec<&endpoints::Endpoint> = if words.trim().is_empty() {
        endpoints::all().iter().collect()
    } else {
        endpoints::search(&words)
    };
    if found.is_empty() {
        return Err(format!("no documented endpoint matches `{words}`").into());
    }
    for endpoint in found.iter().take(args.limit) {
        output::field(
            &format!("{} {}", endpoint.method(), endpoint.template()),
            endpoint.title(),
        );
        output::note(format!("  {}", call(endpoint)));
        if let Some(link) = endpoint.docs().first() {
            output::note(format!("  {link}"));
        }
    }
    if found.len() > args.limit {
        output::note(format!(
            "… {} more (use --limit {})",
            found.len() - args.limit,
            found.len()
        ));
    }
    Ok(())
}

/// The Rust call, declarative style: `client["…"].post(json!({"var": "…"}))`.
fn call(endpoint: &endpoints::Endpoint) -> String {
    let variables: Vec<String> = endpoint
        .variables()
        .map(|name| format!("\"{name}\": \"…\""))
        .collect();
    let verb = endpoint.method().as_str().to_ascii_lowercase();
    if variables.is_empty() {
        format!("client[\"{}\"].{verb}(…)", endpoint.template())
    } else {
        format!(
            "client[\"{}\"].{verb}(json!({{{}, …}}))",
            endpoint.template(),
            variables.join(", ")
        )
    }
}
