//! The sandbox's web console, at `/_sandbox/` (what a browser asks for there; a tool asking
//! for JSON still gets the control API's index): the orders with the payer's and WeChat
//! Pay's actions, the request log, the callbacks and the settings, kept live by polling the
//! control API's change feed.
//!
//! Server-rendered HTML from the control API's JSON (every value escaped by [`html`]), a
//! stylesheet and a little JavaScript embedded in the binary: no build step, nothing fetched
//! from elsewhere, so it works offline. The page's script calls the control API for every
//! action and swaps in fragments the server renders; it never turns a value into markup.

mod callbacks;
mod html;
mod orders;
mod requests;
mod settings;

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{Method, StatusCode, header};
use serde_json::{Value, json};

use super::control;
use super::core::Core;
use super::feed::entities;
use super::views;
use crate::mock::engine::Inbound;
use crate::uri::rawurlencode;

const PAGE: &str = include_str!("page.html");
const STYLE: &str = include_str!("console.css");
const SCRIPT: &str = include_str!("console.js");

/// Where the console's own files and fragments are served.
const PREFIX: &str = "/_sandbox/console";

/// The console's answer, when the request is the console's: the page at `/_sandbox/` for a
/// browser (or at `/_sandbox/console`), its stylesheet and script, and the fragments its
/// script asks for.
pub(crate) fn serve(
    core: &Arc<Core>,
    request: &Inbound<'_>,
) -> Option<BoxFuture<'static, http::Response<Bytes>>> {
    if request.method != Method::GET {
        return None;
    }
    let browser = request
        .headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let rest = if matches!(request.path, "/_sandbox" | "/_sandbox/") && browser {
        ""
    } else {
        let rest = request.path.strip_prefix(PREFIX)?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        rest.trim_start_matches('/')
    };
    let query = crate::uri::query_pairs(request.target, false)
        .map(|(key, value)| {
            (
                String::from_utf8_lossy(&key).into_owned(),
                String::from_utf8_lossy(&value).into_owned(),
            )
        })
        .collect::<Vec<_>>();
    let core = core.clone();
    let rest = rest.to_owned();
    Some(Box::pin(async move {
        let param = |name: &str| {
            query
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        match rest.as_str() {
            "" => respond("text/html; charset=utf-8", page(&core).await),
            "console.css" => respond("text/css; charset=utf-8", STYLE.to_owned()),
            "console.js" => respond("text/javascript; charset=utf-8", SCRIPT.to_owned()),
            "view" => {
                let panel = param("panel").unwrap_or("orders");
                let filter = (
                    param("path").unwrap_or_default(),
                    param("refused") == Some("true"),
                );
                let seq = core.changes.current();
                let shown = match panel {
                    "requests" => requests_panel(&core, filter).await,
                    "callbacks" => callbacks::panel(&deliveries(&core).await),
                    "settings" => settings::panel(&views::settings(&core), &views::clock(&core)),
                    _ => orders::panel(&entities(&core, 0).1),
                };
                let view = json!({"seq": seq, "status": status(&core), "panel": shown});
                respond("application/json; charset=utf-8", view.to_string())
            }
            other => match other.strip_prefix("requests/") {
                Some(id) => {
                    let path = format!("requests/{}", rawurlencode(id));
                    match control::invoke(&core, Method::GET, &path, Value::Null).await {
                        Ok((_, entry)) => {
                            respond("text/html; charset=utf-8", requests::detail(&entry))
                        }
                        Err(refused) => not_found(&refused.message),
                    }
                }
                None => not_found(&format!(
                    "no console file {PREFIX}/{other}: the console is at /_sandbox/"
                )),
            },
        }
    }))
}

/// The whole page, every panel rendered (the script shows one at a time).
async fn page(core: &Core) -> String {
    // Read first: a change made while the page is rendered is then seen by its first poll.
    let seq = core.changes.current();
    let deliveries = deliveries(core).await;
    let default_url = deliveries["data"]
        .as_array()
        .and_then(|list| list.last())
        .and_then(|d| d["url"].as_str())
        .unwrap_or_default()
        .to_owned();
    let settings = views::settings(core);
    let clock = views::clock(core);
    let parts = [
        ("seq", seq.to_string()),
        ("status", status(core)),
        ("orders", orders::panel(&entities(core, 0).1)),
        ("requests", requests_panel(core, ("", false)).await),
        ("callbacks", callbacks::panel(&deliveries)),
        ("fire", callbacks::fire_form(&default_url)),
        ("settings", settings::panel(&settings, &clock)),
    ];
    fill(PAGE, &parts)
}

/// `template` with each `{{name}}` replaced by its part, in one pass (a part is never
/// scanned for names: what it shows stays as it is).
fn fill(template: &str, parts: &[(&str, String)]) -> String {
    let mut out =
        String::with_capacity(template.len() + parts.iter().map(|p| p.1.len()).sum::<usize>());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let name = &after[..end];
                match parts.iter().find(|(known, _)| *known == name) {
                    Some((_, part)) => out.push_str(part),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The request log's newest 300 summaries, filtered by path and by failed checks.
async fn requests_panel(core: &Core, (path, refused): (&str, bool)) -> String {
    let mut target = "requests?summary=true&limit=300".to_owned();
    if !path.is_empty() {
        target.push_str("&path=");
        target.push_str(&rawurlencode(path));
    }
    if refused {
        target.push_str("&refused=true");
    }
    let log = control::invoke(core, Method::GET, &target, Value::Null)
        .await
        .map(|(_, log)| log)
        .unwrap_or_default();
    requests::panel(&log, !path.is_empty() || refused)
}

async fn deliveries(core: &Core) -> Value {
    control::invoke(core, Method::GET, "notifications", Value::Null)
        .await
        .map(|(_, list)| list)
        .unwrap_or_default()
}

/// The header: tabs with their counts, the clock, the signing mode.
fn status(core: &Core) -> String {
    let (_, kept) = entities(core, 0);
    let orders = kept.transactions.len()
        + kept.combines.len()
        + kept.refunds.len()
        + kept.service_orders.len()
        + kept.transfers.len();
    let requests = core.log.with(|ring| {
        let refused = ring
            .iter()
            .filter(|entry| entry.exchange.verdict.is_err())
            .count();
        (ring.iter().count(), refused)
    });
    let callbacks = core.deliveries.with(|ring| {
        let failing = ring
            .iter()
            // Genuine ones not accepted (a tampered one is meant to be refused).
            .filter(|d| d.notice.fault.is_none() && matches!(d.state, "retrying" | "failed"))
            .count();
        (ring.iter().count(), failing)
    });
    settings::status(
        &views::clock(core),
        &views::settings(core),
        [(orders, 0), requests, callbacks],
    )
}

fn respond(content_type: &str, body: String) -> http::Response<Bytes> {
    http::Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        // Nothing but the console's own files runs or loads: no inline script, no other host.
        .header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        )
        .header(header::REFERRER_POLICY, "no-referrer")
        .body(Bytes::from(body))
        .unwrap_or_default()
}

fn not_found(message: &str) -> http::Response<Bytes> {
    let body = json!({"code": "NOT_FOUND", "message": message}).to_string();
    let mut response = respond("application/json; charset=utf-8", body);
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn a_part_is_never_scanned_for_names() {
        let parts = [("a", "{{b}}".to_owned()), ("b", "B".to_owned())];
        assert_eq!(fill("<{{a}}|{{b}}|{{c}}|{{", &parts), "<{{b}}|B|{{c}}|{{");
    }
}
