//! A `notify_url` server with axum: WeChat Pay POSTs notifications, the `Notified` extractor
//! verifies and decrypts them, duplicates are processed once, and every answer is in the
//! format WeChat Pay expects.
//!
//! ```text
//! cargo run --example axum_notify   # in this repository the tests' features include axum
//! ```
//!
//! The example serves on 127.0.0.1, sends itself three notifications made by the mock server
//! (a payment, the same payment again, a forged one) and prints the replies.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::routing::post;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use wechatpay::Client;
use wechatpay::axum::Notified;
use wechatpay::callback::Reply;
use wechatpay::events::{Claim, Deduplicate, Event, MemoryDedupe};
use wechatpay::mock::{Fault, MockServer};

/// What the handlers share: the client (to verify) and the record of processed ids (with
/// several instances, a `wechatpay::redis::RedisDedupe`: feature `redis`).
#[derive(Clone)]
struct AppState {
    client: Client,
    seen: Arc<dyn Deduplicate>,
}

impl FromRef<AppState> for Client {
    fn from_ref(state: &AppState) -> Client {
        state.client.clone()
    }
}

/// Only verified notifications reach this handler; the others are answered with a failure.
async fn notify(State(state): State<AppState>, Notified(notification): Notified) -> Reply {
    let now = wechatpay::toolkit::timestamp();
    match state.seen.claim(notification.id(), now).await {
        Claim::Done => return Reply::success(), // a retry of something already processed
        Claim::InProgress => return Reply::failure("being processed"),
        Claim::New => {}
    }
    match notification.event() {
        Ok(Event::TransactionSuccess(paid)) => {
            println!(
                "  paid: {} ({} fen)",
                paid.out_trade_no,
                paid.amount.total.unwrap_or(0)
            );
        }
        Ok(other) => println!("  not handled: {}", other.event_type()),
        Err(error) => {
            // Let WeChat Pay's retry through (a claim that cannot be released lapses).
            let _ = state.seen.release(notification.id()).await;
            return Reply::from(error);
        }
    }
    if let Err(error) = state.seen.complete(notification.id(), now).await {
        eprintln!("processed, but not recorded as done: {error}");
    }
    Reply::success()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // In production: a client with the merchant's keys and its APIv3 key.
    let mock = MockServer::start()?;
    let client = mock.client_builder().build()?;
    let state = AppState {
        client,
        seen: Arc::new(MemoryDedupe::new()),
    };
    let app = Router::new()
        .route("/wechatpay/notify", post(notify))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/wechatpay/notify", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    println!("notify_url: {url}");

    // What WeChat Pay would POST: a payment, its retry, and a forgery.
    let paid = json!({
        "mchid": "1900000109", "appid": "wxd678efh567hg6787",
        "out_trade_no": "1217752501201407033233368018", "transaction_id": "4200000001201407033233368018",
        "trade_type": "JSAPI", "trade_state": "SUCCESS", "success_time": "2018-06-08T10:34:56+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY"},
    });
    let good = mock.notification(
        "TRANSACTION.SUCCESS",
        "encrypt-resource",
        "transaction",
        &paid,
    )?;
    let forged = mock.notification_with(
        "TRANSACTION.SUCCESS",
        "encrypt-resource",
        "transaction",
        &paid,
        Some(Fault::BadSignature),
    )?;
    let http = HttpClient::builder(TokioExecutor::new()).build_http::<Full<bytes::Bytes>>();
    for (what, (headers, body)) in [
        ("payment", &good),
        ("the same again", &good),
        ("forged", &forged),
    ] {
        let mut request = http::Request::post(url.as_str()).body(Full::new(body.clone()))?;
        *request.headers_mut() = headers.clone();
        let answer = http.request(request).await?;
        let status = answer.status();
        let body = answer.into_body().collect().await?.to_bytes();
        println!("{what}: {status} {}", String::from_utf8_lossy(&body));
    }
    Ok(())
}
