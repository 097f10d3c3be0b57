//! The control API under `/_sandbox/` (JSON in and out, documented in
//! `src/sandbox/control_api.md`): the payer's and WeChat Pay's actions, the clock, the request
//! log, the deliveries, the platform keys, and a change feed for a console. `/` redirects to
//! `/_sandbox/`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{Method, StatusCode};
use serde_json::{Value, json};

use super::call::Refusal;
use super::core::Core;
use super::deliveries::{Notice, Payload};
use super::feed::{changes, entities};
use super::{combine, orders, payscore, refunds, samples, summary, transfers, views};
use crate::mock::engine::Inbound;
use crate::uri::percent_decode_bytes;

/// A control request: its method, path segments after `/_sandbox`, query and JSON body.
struct Control {
    method: Method,
    segments: Vec<String>,
    query: Vec<(String, String)>,
    body: Value,
}

impl Control {
    fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn number(&self, name: &str) -> u64 {
        self.query(name)
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    }

    fn text(&self, name: &str) -> Option<&str> {
        self.body.get(name).and_then(Value::as_str)
    }
}

/// The answer to a request outside WeChat Pay's API, or `None` when it is WeChat Pay's.
pub(crate) fn handle(
    core: Arc<Core>,
    request: &Inbound<'_>,
) -> Option<BoxFuture<'static, http::Response<Bytes>>> {
    if request.path == "/" {
        let redirect = http::Response::builder()
            .status(StatusCode::FOUND)
            .header(http::header::LOCATION, "/_sandbox/")
            .body(Bytes::new())
            .unwrap_or_default();
        return Some(Box::pin(async move { redirect }));
    }
    let rest = request.path.strip_prefix("/_sandbox")?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let segments = segments(rest);
    let query = query(request.target);
    let body = if request.body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        match serde_json::from_slice(request.body) {
            Ok(body) => body,
            Err(e) => {
                let refused = refusal(&Refusal::new(
                    400,
                    "INVALID_JSON",
                    format!("the body is not JSON: {e}"),
                ));
                return Some(Box::pin(async move { refused }));
            }
        }
    };
    let control = Control {
        method: request.method.clone(),
        segments,
        query,
        body,
    };
    Some(Box::pin(async move {
        match route(&core, &control).await {
            Ok((status, body)) => respond(status, &body),
            Err(refused) => refusal(&refused),
        }
    }))
}

/// A control route called in-process: `path` as under `/_sandbox/`, with its query.
pub(crate) async fn invoke(
    core: &Core,
    method: Method,
    path: &str,
    body: Value,
) -> Result<(u16, Value), Refusal> {
    let target = format!("/{}", path.trim_start_matches('/'));
    let path = target.split('?').next().unwrap_or_default();
    let control = Control {
        method,
        segments: segments(path),
        query: query(&target),
        body,
    };
    route(core, &control).await
}

/// The percent-decoded segments of a path.
fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| String::from_utf8_lossy(&percent_decode_bytes(segment, false)).into_owned())
        .collect()
}

/// The percent-decoded query pairs of a target.
fn query(target: &str) -> Vec<(String, String)> {
    crate::uri::query_pairs(target, false)
        .map(|(key, value)| {
            (
                String::from_utf8_lossy(&key).into_owned(),
                String::from_utf8_lossy(&value).into_owned(),
            )
        })
        .collect()
}

fn respond(status: u16, body: &Value) -> http::Response<Bytes> {
    http::Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
        .header(
            http::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )
        .header(http::header::CACHE_CONTROL, "no-store")
        .body(Bytes::from(body.to_string()))
        .unwrap_or_default()
}

fn refusal(refused: &Refusal) -> http::Response<Bytes> {
    respond(
        refused.status,
        &json!({"code": refused.code, "message": refused.message}),
    )
}

type Answer = Result<(u16, Value), Refusal>;

fn ok(body: Value) -> Answer {
    Ok((200, body))
}

/// `{"seq": …, "data": [...]}`: a list and the number of the latest change it includes.
fn list(seq: u64, data: Vec<Value>) -> Answer {
    ok(json!({"seq": seq, "data": data}))
}

/// A list of a bounded log: with how many older entries were dropped.
fn log_list(seq: u64, data: Vec<Value>, dropped: u64) -> Answer {
    ok(json!({"seq": seq, "data": data, "dropped": dropped}))
}

async fn route(core: &Core, control: &Control) -> Answer {
    let segments: Vec<&str> = control.segments.iter().map(String::as_str).collect();
    let since = control.number("since");
    let merchant = control.query("mchid");
    let result = |default: &str| control.text("result").unwrap_or(default).to_owned();
    let get = control.method == Method::GET;
    let post = control.method == Method::POST;
    match segments.as_slice() {
        [] if get => ok(index()),
        ["settings"] if get => ok(views::settings(core)),
        ["changes"] if get => {
            let wait = control.number("wait").min(60);
            if wait > 0 && core.changes.current() <= since {
                core.changes
                    .wait_past(since, Duration::from_secs(wait))
                    .await;
            }
            ok(changes(core, since))
        }
        ["transactions"] if get => {
            let (seq, entities) = entities(core, since);
            list(seq, entities.transactions)
        }
        ["combine-transactions"] if get => {
            let (seq, entities) = entities(core, since);
            list(seq, entities.combines)
        }
        ["refunds"] if get => {
            let (seq, entities) = entities(core, since);
            list(seq, entities.refunds)
        }
        ["payscore-orders"] if get => {
            let (seq, entities) = entities(core, since);
            list(seq, entities.service_orders)
        }
        ["transfer-bills"] if get => {
            let (seq, entities) = entities(core, since);
            list(seq, entities.transfers)
        }
        ["transactions", number] if get => one_transaction(core, number),
        ["transactions", number, "pay"] if post => {
            let (exists, orders) = {
                let store = core.store();
                (
                    combine::exists(&store, number),
                    store.transactions.count(number),
                )
            };
            let result = result("SUCCESS");
            if exists && !matches!(result.as_str(), "SUCCESS" | "PAYERROR" | "CLOSED") {
                return Err(Refusal::new(
                    400,
                    "PARAM_ERROR",
                    format!("result `{result}` is none of SUCCESS, PAYERROR, CLOSED"),
                ));
            }
            let paid = match orders {
                0 if exists => combine::pay(core, number, &result),
                _ => orders::pay(core, number, merchant, &result),
            };
            paid.map(|body| (200, body))
        }
        ["refunds", number, "complete"] if post => {
            refunds::complete(core, number, merchant, &result("SUCCESS")).map(|body| (200, body))
        }
        ["payscore-orders", number, action @ ("confirm" | "pay")] if post => {
            payscore::user(core, number, merchant, action).map(|body| (200, body))
        }
        ["transfer-bills", number, "confirm"] if post => {
            transfers::confirm(core, number, merchant, &result("SUCCESS")).map(|body| (200, body))
        }
        ["clock"] if get => ok(views::clock(core)),
        ["clock"] if post => set_clock(core, &control.body),
        ["requests"] if get => requests(core, control, since),
        ["requests", id] if get => {
            let id: u64 = id.parse().unwrap_or(0);
            core.log
                .with(|ring| {
                    ring.iter()
                        .find(|entry| entry.id == id)
                        .map(|entry| entry.to_json(false))
                })
                .map(|entry| (200, entry))
                .ok_or_else(|| {
                    Refusal::new(
                        404,
                        "NOT_FOUND",
                        format!("no request {id} (the log keeps the newest 1,000)"),
                    )
                })
        }
        ["notifications"] if get => {
            let (seq, data, dropped) = core.deliveries.with(|ring| {
                let data = ring
                    .iter()
                    .filter(|d| d.seq > since)
                    .map(views::delivery)
                    .collect();
                (core.changes.current(), data, ring.dropped())
            });
            log_list(seq, data, dropped)
        }
        ["notifications", "events"] if get => ok(json!({"data": samples::all()
            .into_iter()
            .map(|s| json!({"event_type": s.event_type, "v2": s.v2, "title": s.title, "resource": s.resource}))
            .collect::<Vec<_>>()})),
        ["notifications", "send"] if post => send(core, &control.body),
        ["notifications", id] if get => delivery(core, id).map(|body| (200, body)),
        ["notifications", id, "resend"] if post => {
            let id: u64 = id.parse().unwrap_or(0);
            core.deliveries
                .resend(id, core.now_ms())
                .map_err(|message| Refusal::new(404, "NOT_FOUND", message))?;
            delivery(core, &id.to_string()).map(|body| (202, body))
        }
        ["platform"] if get => ok(platform(core)),
        ["platform", "rotate"] if post => {
            let mock = core.mock().ok_or_else(stopped)?;
            let (in_use, _) = mock.certificates().map_err(|e| internal(&e))?;
            if in_use == crate::mock::PLATFORM_ROTATED_CERTIFICATE_SERIAL {
                return Err(Refusal::new(
                    409,
                    "ALREADY_ROTATED",
                    "the sandbox has two platform certificates and already moved to the second; \
                     restart it to rotate again",
                ));
            }
            mock.rotate().map_err(|e| internal(&e))?;
            core.bump();
            ok(platform(core))
        }
        ["platform", "signing"] if post => {
            let name = control.text("mode").unwrap_or_default();
            let signing = views::signing_named(name).ok_or_else(|| {
                Refusal::new(
                    400,
                    "PARAM_ERROR",
                    format!("mode `{name}` is none of public-key, certificate, migrating"),
                )
            })?;
            core.mock()
                .ok_or_else(stopped)?
                .set_signing(signing)
                .map_err(|e| internal(&e))?;
            core.bump();
            ok(platform(core))
        }
        _ => {
            let known = matches!(
                segments.first(),
                None | Some(
                    &("settings"
                        | "changes"
                        | "transactions"
                        | "combine-transactions"
                        | "refunds"
                        | "payscore-orders"
                        | "transfer-bills"
                        | "clock"
                        | "requests"
                        | "notifications"
                        | "platform")
                )
            );
            let path = format!("/_sandbox/{}", control.segments.join("/"));
            if known {
                Err(Refusal::new(
                    405,
                    "METHOD_NOT_ALLOWED",
                    format!(
                        "{} {path} is not a control route: GET /_sandbox/ lists them",
                        control.method
                    ),
                ))
            } else {
                Err(Refusal::new(
                    404,
                    "NOT_FOUND",
                    format!("no control route {path}: GET /_sandbox/ lists them"),
                ))
            }
        }
    }
}

fn stopped() -> Refusal {
    Refusal::new(503, "STOPPED", "the sandbox is not serving")
}

fn internal(error: &crate::Error) -> Refusal {
    Refusal::new(500, "SYSTEM_ERROR", error.to_string())
}

/// The routes, for `GET /_sandbox/` asked by a tool (a browser gets the console).
fn index() -> Value {
    json!({
        "sandbox": "wechatpay sandbox: a local WeChat Pay with state, callbacks and a virtual clock",
        "documentation": "https://docs.rs/wechatpay-sdk/latest/wechatpay/sandbox/",
        "routes": [
            "GET /_sandbox/settings", "GET /_sandbox/changes?since=SEQ&wait=SECONDS",
            "GET /_sandbox/transactions", "GET /_sandbox/transactions/{out_trade_no}",
            "POST /_sandbox/transactions/{out_trade_no}/pay {\"result\": \"SUCCESS|PAYERROR|CLOSED\"}",
            "GET /_sandbox/combine-transactions",
            "GET /_sandbox/refunds", "POST /_sandbox/refunds/{out_refund_no}/complete {\"result\": \"SUCCESS|ABNORMAL|CLOSED\"}",
            "GET /_sandbox/payscore-orders", "POST /_sandbox/payscore-orders/{out_order_no}/confirm",
            "POST /_sandbox/payscore-orders/{out_order_no}/pay",
            "GET /_sandbox/transfer-bills", "POST /_sandbox/transfer-bills/{out_bill_no}/confirm {\"result\": \"SUCCESS|FAIL\"}",
            "GET /_sandbox/clock", "POST /_sandbox/clock {\"advance_seconds\": N, \"time_scale\": N}",
            "GET /_sandbox/requests?since=SEQ&limit=N&path=TEXT&refused=true&summary=true", "GET /_sandbox/requests/{id}",
            "GET /_sandbox/notifications?since=SEQ", "GET /_sandbox/notifications/{id}",
            "POST /_sandbox/notifications/{id}/resend", "GET /_sandbox/notifications/events",
            "POST /_sandbox/notifications/send {\"url\": URL, \"event_type\": TYPE, \"v2\": false, \"resource\": {...}, \"fault\": NAME}",
            "GET /_sandbox/platform", "POST /_sandbox/platform/rotate",
            "POST /_sandbox/platform/signing {\"mode\": \"public-key|certificate|migrating\"}",
        ],
    })
}

fn one_transaction(core: &Core, number: &str) -> Answer {
    let mut store = core.store();
    if let Some(index) = store.transactions.find(number, None) {
        orders::expire_one(core, &mut store, index);
        return ok(summary::transaction(store.transactions.get(index)));
    }
    drop(store);
    entities(core, 0)
        .1
        .combines
        .into_iter()
        .find(|c| c["combine_out_trade_no"] == number)
        .map(|c| (200, c))
        .ok_or_else(|| {
            Refusal::new(
                404,
                "NOT_FOUND",
                format!("no transaction with out_trade_no `{number}`"),
            )
        })
}

fn set_clock(core: &Core, body: &Value) -> Answer {
    let advance = body.get("advance_seconds");
    let scale = body.get("time_scale");
    if advance.is_none() && scale.is_none() {
        return Err(Refusal::new(
            400,
            "PARAM_ERROR",
            "give `advance_seconds` (seconds to move the clock ahead) or `time_scale`",
        ));
    }
    if let Some(advance) = advance {
        let seconds = advance.as_f64().filter(|s| s.is_finite() && *s >= 0.0).ok_or_else(|| {
            Refusal::new(400, "PARAM_ERROR", format!("advance_seconds must be a number of seconds ≥ 0 (the clock only moves ahead), not {advance}"))
        })?;
        core.clock.advance((seconds * 1000.0) as u64);
    }
    if let Some(scale) = scale {
        let scale = scale
            .as_f64()
            .filter(|s| s.is_finite() && *s > 0.0)
            .ok_or_else(|| {
                Refusal::new(
                    400,
                    "PARAM_ERROR",
                    format!("time_scale must be a number > 0, not {scale}"),
                )
            })?;
        core.clock.set_scale(scale);
    }
    {
        let mut store = core.store();
        orders::expire_all(core, &mut store);
        combine::expire_all(core, &mut store);
    }
    core.bump();
    core.deliveries.poke();
    ok(views::clock(core))
}

fn requests(core: &Core, control: &Control, since: u64) -> Answer {
    let limit = match control.number("limit") {
        0 => 100,
        limit => limit as usize,
    };
    let path = control.query("path").unwrap_or_default();
    let refused = control.query("refused") == Some("true");
    let summary = control.query("summary") == Some("true");
    let (seq, data, dropped) = core.log.with(|ring| {
        let mut kept: Vec<Value> = ring
            .iter()
            .rev()
            .filter(|entry| entry.seq > since)
            .filter(|entry| entry.exchange.target.contains(path))
            .filter(|entry| !refused || entry.exchange.verdict.is_err())
            .take(limit)
            .map(|entry| entry.to_json(summary))
            .collect();
        kept.reverse();
        (core.changes.current(), kept, ring.dropped())
    });
    log_list(seq, data, dropped)
}

fn delivery(core: &Core, id: &str) -> Result<Value, Refusal> {
    let id: u64 = id.parse().unwrap_or(0);
    core.deliveries
        .with(|ring| ring.iter().find(|d| d.id == id).map(views::delivery))
        .ok_or_else(|| {
            Refusal::new(
                404,
                "NOT_FOUND",
                format!("no delivery {id} (the newest 2,000 are kept)"),
            )
        })
}

/// `POST /_sandbox/notifications/send`: fires a notification at any URL, once.
fn send(core: &Core, body: &Value) -> Answer {
    let text = |name: &str| body.get(name).and_then(Value::as_str);
    let url = text("url")
        .ok_or_else(|| Refusal::new(400, "PARAM_ERROR", "give `url`, the notify_url"))?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(Refusal::new(
            400,
            "PARAM_ERROR",
            format!("url `{url}` is not an http:// or https:// URL"),
        ));
    }
    let event_type = text("event_type").ok_or_else(|| {
        Refusal::new(
            400,
            "PARAM_ERROR",
            "give `event_type` (GET /_sandbox/notifications/events lists them)",
        )
    })?;
    let v2 = body.get("v2").and_then(Value::as_bool).unwrap_or(false);
    let fault = match text("fault") {
        Some(name) => Some(views::fault_named(name).ok_or_else(|| {
            let names: Vec<&str> = views::FAULTS.iter().map(|(name, _)| *name).collect();
            Refusal::new(
                400,
                "PARAM_ERROR",
                format!("fault `{name}` is none of {}", names.join(", ")),
            )
        })?),
        None => None,
    };
    let resource = match body.get("resource") {
        Some(resource) if !resource.is_null() => resource.clone(),
        _ => samples::find(event_type, v2)
            .map(|sample| sample.resource)
            .ok_or_else(|| {
                Refusal::new(
                    400,
                    "PARAM_ERROR",
                    format!("no notification `{event_type}` is documented: give its `resource`"),
                )
            })?,
    };
    let payload = match (v2, resource.get("req_info")) {
        (false, _) => Payload::V3(resource),
        (true, Some(refund @ Value::Object(_))) => {
            let mut fields = resource.clone();
            if let Some(fields) = fields.as_object_mut() {
                fields.remove("req_info");
            }
            Payload::V2Refund {
                fields,
                refund: refund.clone(),
            }
        }
        (true, _) => Payload::V2(resource),
    };
    let id = core.notify(Notice {
        event_type: event_type.to_owned(),
        summary: samples::find(event_type, v2).map_or_else(|| event_type.to_owned(), |s| s.title),
        resource_type: "encrypt-resource".to_owned(),
        original_type: samples::original_type(event_type),
        url: url.to_owned(),
        payload,
        subject: ("fired", event_type.to_owned()),
        fault,
        retry: false,
    });
    delivery(core, &id.to_string()).map(|body| (202, body))
}

fn platform(core: &Core) -> Value {
    let settings = views::settings(core);
    json!({
        "signing": settings["signing"],
        "platform_key_id": settings["platform_key_id"],
        "platform_certificate_serial": settings["platform_certificate_serial"],
        "listed_certificates": settings["listed_certificates"],
    })
}
