//! The sandbox against the stateless mock, and the sandbox's whole payment flow.
//!
//! ```text
//! cargo bench --bench sandbox                  # ROUNDS=5, REQUESTS=4000, ORDERS=2000
//! ROUNDS=3 REQUESTS=2000 ORDERS=1000 cargo bench --bench sandbox
//! ```
//!
//! The server (the mock, or the sandbox) runs in a process of its own, pinned to core 1 with
//! `taskset` when there are two cores; the client runs in this process, pinned to core 0.
//!
//! * **Seed call**: the documented "下发服务预扣费消息" (`send-prepaidmessage`), 16 in flight,
//!   against the stateless mock (answering `204` to any path, as in `end_to_end`) and against
//!   the sandbox, where each call goes to a PayScore service order of its own made before the
//!   timed part (the sandbox answers it once per order). Both servers reuse an answer
//!   signature within a second (`reuse_answer_signatures`), as `end_to_end` does. Rounds
//!   alternate the two servers; the summary gives each one's median and the ratio.
//! * **Flow**: per order, `POST v3/pay/transactions/jsapi`, the payer's `pay` through the
//!   control API (HTTP), the `TRANSACTION.SUCCESS` notification delivered to an axum
//!   notify_url in this process (verified and decrypted by the SDK), then the query by
//!   `out-trade-no` answering `SUCCESS`; 16 orders in flight. The sandbox signs every answer
//!   and notification afresh (no reuse).
//! * **Memory**: 10,000 requests of 100 KB (8 in flight) to a sandbox in a fresh process of
//!   this bench (`WECHATPAY_BENCH_ROLE=memory`), client included; its peak resident size
//!   (`VmHWM`) before the first request and after the last.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::routing::post;
use bytes::Bytes;
use common::env_number;
use common::probe::{cpu_of, median, process_cpu, status_kib};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use wechatpay::Client;
use wechatpay::axum::Notified;
use wechatpay::callback::Reply as CallbackReply;
use wechatpay::events::Event;
use wechatpay::mock::{self, MockServer, Reply};
use wechatpay::sandbox::Sandbox;
use wechatpay::transport::{HttpsTransport, Transport};

const IN_FLIGHT: usize = 16;
const ROLE: &str = "WECHATPAY_BENCH_ROLE";
const SEED: &str = "v3/payscore/serviceorder/{out_order_no}/send-prepaidmessage";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    match std::env::var(ROLE).as_deref() {
        Ok("mock") => serve_mock(),
        Ok("sandbox") => serve_sandbox(),
        Ok("memory") => memory(),
        _ => orchestrate(),
    }
}

/// `taskset -c core` when this machine has two cores or more.
fn pinned(core: &str) -> Option<String> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let taskset = Command::new("taskset")
        .arg("-V")
        .output()
        .is_ok_and(|output| output.status.success());
    (cores >= 2 && taskset).then(|| core.to_owned())
}

/// A server process: this binary in `role`, on core 1; its base URI.
fn spawn(role: &str) -> Result<(Child, String), Box<dyn std::error::Error>> {
    let exe = std::env::current_exe()?;
    let mut command = match pinned("1") {
        Some(core) => {
            let mut command = Command::new("taskset");
            command.args(["-c", &core]).arg(exe);
            command
        }
        None => Command::new(exe),
    };
    let mut child = command
        .env(ROLE, role)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().ok_or("no stdout")?).read_line(&mut line)?;
    Ok((child, line.trim().to_owned()))
}

/// Serves until the orchestrator closes stdin.
fn until_stdin_closes() {
    let _ = std::io::stdin().read_line(&mut String::new());
}

fn serve_mock() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockServer::start()?;
    mock.fallback(Reply::status(204));
    mock.reuse_answer_signatures(true);
    mock.record_requests(false);
    println!("{}", mock.uri());
    std::io::stdout().flush()?;
    until_stdin_closes();
    Ok(())
}

fn serve_sandbox() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start()?;
    sandbox.mock().reuse_answer_signatures(true);
    println!("{}", sandbox.uri());
    std::io::stdout().flush()?;
    until_stdin_closes();
    Ok(())
}

/// The seed call's options for order `n`: the documented fields, `post_payments`,
/// `total_amount` and `prepaid_time` among them.
fn seed(n: usize, round: usize) -> Value {
    json!({
        "out_order_no": format!("BENCH-{round}-{n}"),
        "json": {
            "service_id": "500001",
            "post_payments": [{"name": "就餐费用", "amount": 40000, "count": 1}],
            "total_amount": 40000,
            "prepaid_time": "20261208100000",
        },
    })
}

fn service_order(n: usize, round: usize) -> Value {
    json!({"json": {
        "out_order_no": format!("BENCH-{round}-{n}"),
        "appid": "wxd678efh567hg6787",
        "service_id": "500001",
        "service_introduction": "某某酒店",
        "time_range": {"start_time": "OnAccept"},
        "risk_fund": {"name": "ESTIMATE_ORDER_COST", "amount": 10000},
        "notify_url": "https://example.com/payscore",
        "need_user_confirm": false,
    }})
}

/// What a run cost: calls a second, and the CPU µs per call of the server process and of
/// this one (the client).
#[derive(Clone, Copy)]
struct Run {
    rate: f64,
    server_us: f64,
    client_us: f64,
}

/// 16 calls in flight of `call(n)` for `n` in `0..count`, all answered as expected, against
/// the server process `server`.
fn in_flight<F, Fut>(runtime: &tokio::runtime::Runtime, server: u32, count: usize, call: F) -> Run
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let server = server.to_string();
    let (server_cpu, client_cpu) = (cpu_of(&server), process_cpu());
    let started = Instant::now();
    let ok = runtime.block_on(
        futures::stream::iter(0..count)
            .map(&call)
            .buffer_unordered(IN_FLIGHT)
            .filter(|ok| futures::future::ready(*ok))
            .count(),
    );
    assert_eq!(ok, count, "every call was answered as expected");
    let per_call = |cpu: std::time::Duration| cpu.as_secs_f64() * 1e6 / count as f64;
    Run {
        rate: count as f64 / started.elapsed().as_secs_f64(),
        server_us: per_call(cpu_of(&server).saturating_sub(server_cpu)),
        client_us: per_call(process_cpu().saturating_sub(client_cpu)),
    }
}

fn orchestrate() -> Result<(), Box<dyn std::error::Error>> {
    let rounds = env_number("ROUNDS", 5).max(1);
    let requests = env_number("REQUESTS", 4_000);
    let orders = env_number("ORDERS", 2_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (mut mock_server, mock_uri) = spawn("mock")?;
    let (mut sandbox_server, sandbox_uri) = spawn("sandbox")?;
    let mock_client = mock::client_builder(&mock_uri).build()?;
    let sandbox_client = mock::client_builder(&sandbox_uri).build()?;
    println!(
        "seed call, {IN_FLIGHT} in flight, {requests} calls a round; flow, {IN_FLIGHT} orders in \
         flight, {orders} orders a round; {rounds} rounds; servers {}",
        if pinned("1").is_some() {
            "on core 1, client on core 0"
        } else {
            "unpinned"
        }
    );
    let (mut against_mock, mut against_sandbox, mut flows) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        // The sandbox's service orders of this round (not timed).
        let made = runtime.block_on(
            futures::stream::iter(0..requests)
                .map(|n| {
                    sandbox_client["v3/payscore/serviceorder"].post_async(service_order(n, round))
                })
                .buffer_unordered(IN_FLIGHT)
                .filter(|made| futures::future::ready(made.is_ok()))
                .count(),
        );
        assert_eq!(made, requests, "the service orders were made");
        let mock = in_flight(&runtime, mock_server.id(), requests, |n| {
            let call = mock_client[SEED].post_async(seed(n, round));
            async move { call.await.is_ok_and(|answer| answer.status() == 204) }
        });
        let sandbox = in_flight(&runtime, sandbox_server.id(), requests, |n| {
            let call = sandbox_client[SEED].post_async(seed(n, round));
            async move { call.await.is_ok_and(|answer| answer.status() == 204) }
        });
        let flow = flow(
            &runtime,
            &sandbox_client,
            &sandbox_uri,
            sandbox_server.id(),
            orders,
            round,
        )?;
        println!(
            "round {}: seed call {:.0}/s against the mock ({:.1} µs server CPU a call), {:.0}/s \
             against the sandbox ({:.1} µs) = {:.1} %; flow {:.0} orders/s ({:.0} µs sandbox \
             CPU an order: {:.0} orders/s on its core; client {:.0} µs)",
            round + 1,
            mock.rate,
            mock.server_us,
            sandbox.rate,
            sandbox.server_us,
            100.0 * sandbox.rate / mock.rate,
            flow.rate,
            flow.server_us,
            1e6 / flow.server_us,
            flow.client_us,
        );
        against_mock.push(mock);
        against_sandbox.push(sandbox);
        flows.push(flow);
    }
    let of =
        |runs: &[Run], pick: fn(&Run) -> f64| median(&runs.iter().map(pick).collect::<Vec<_>>());
    let ratios: Vec<f64> = against_sandbox
        .iter()
        .zip(&against_mock)
        .map(|(sandbox, mock)| 100.0 * sandbox.rate / mock.rate)
        .collect();
    let one_core: Vec<f64> = flows.iter().map(|flow| 1e6 / flow.server_us).collect();
    println!(
        "median: seed call {:.0}/s against the mock ({:.1} µs server CPU), {:.0}/s against the \
         sandbox ({:.1} µs), ratio {:.1} % (median of the rounds' ratios); flow {:.0} orders/s, \
         {:.0} µs sandbox CPU an order ({:.0} orders/s on one core), client {:.0} µs",
        of(&against_mock, |run| run.rate),
        of(&against_mock, |run| run.server_us),
        of(&against_sandbox, |run| run.rate),
        of(&against_sandbox, |run| run.server_us),
        median(&ratios),
        of(&flows, |run| run.rate),
        of(&flows, |run| run.server_us),
        median(&one_core),
        of(&flows, |run| run.client_us),
    );
    drop(mock_server.stdin.take());
    drop(sandbox_server.stdin.take());
    let _ = mock_server.wait();
    let _ = sandbox_server.wait();
    let memory = Command::new(std::env::current_exe()?)
        .env(ROLE, "memory")
        .output()?;
    print!("{}", String::from_utf8_lossy(&memory.stdout));
    Ok(())
}

/// 10,000 requests of 100 KB to a sandbox in this process; prints the peak resident size
/// before and after.
fn memory() -> Result<(), Box<dyn std::error::Error>> {
    const REQUESTS: usize = 10_000;
    let sandbox = Sandbox::start()?;
    let client = sandbox.client_builder().build()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let before = status_kib("VmHWM");
    // Not JSON, so that nothing is parsed beyond its first byte; an undocumented path, which
    // the sandbox answers WeChat Pay's 404.
    let body = "x".repeat(100 * 1024);
    let answered = runtime.block_on(
        futures::stream::iter(0..REQUESTS)
            .map(|_| client["v3/sandbox-memory/upload"].post_async(json!({"body": body.clone()})))
            .buffer_unordered(8)
            .filter(|answer| {
                futures::future::ready(
                    answer.as_ref().err().and_then(|e| e.code()) == Some("NOT_FOUND"),
                )
            })
            .count(),
    );
    assert_eq!(answered, REQUESTS, "every request was answered");
    println!(
        "memory: {REQUESTS} requests of 100 KB to an in-process sandbox: peak resident {:.1} MiB \
         ({:.1} MiB before the first request)",
        status_kib("VmHWM") as f64 / 1024.0,
        before as f64 / 1024.0
    );
    Ok(())
}

/// The notify_url's state: the client, and who waits for which order's notification.
#[derive(Clone)]
struct Merchant {
    client: Client,
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<i64>>>>,
}

impl FromRef<Merchant> for Client {
    fn from_ref(merchant: &Merchant) -> Client {
        merchant.client.clone()
    }
}

async fn notified(
    State(merchant): State<Merchant>,
    Notified(notification): Notified,
) -> Result<CallbackReply, CallbackReply> {
    if let Event::TransactionSuccess(paid) = notification.event()? {
        let waiting = merchant.waiting.lock().unwrap().remove(&paid.out_trade_no);
        if let Some(waiting) = waiting {
            let _ = waiting.send(paid.amount.total.unwrap_or_default());
        }
    }
    Ok(CallbackReply::success())
}

/// The whole flow, `orders` times, 16 in flight, against the sandbox process `server`.
fn flow(
    runtime: &tokio::runtime::Runtime,
    client: &Client,
    uri: &str,
    server: u32,
    orders: usize,
    round: usize,
) -> Result<Run, Box<dyn std::error::Error>> {
    let merchant = Merchant {
        client: client.clone(),
        waiting: Arc::default(),
    };
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let notify_url = format!("http://{}/notify", listener.local_addr()?);
    let app = Router::new()
        .route("/notify", post(notified))
        .with_state(merchant.clone());
    let notify = runtime.spawn(async move { axum::serve(listener, app).await });
    let control = HttpsTransport::new()?;
    let run = in_flight(runtime, server, orders, |n| {
        let number = format!("FLOW-{round}-{n}");
        let (paid, notification) = oneshot::channel();
        merchant
            .waiting
            .lock()
            .unwrap()
            .insert(number.clone(), paid);
        let order = json!({"json": {
            "appid": "wxd678efh567hg6787", "mchid": mock::MCHID, "description": "bench",
            "out_trade_no": number, "notify_url": notify_url, "amount": {"total": 100},
            "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        }});
        let create = client["v3/pay/transactions/jsapi"].post_async(order);
        let pay = http::Request::post(format!("{uri}_sandbox/transactions/{number}/pay"))
            .header("Content-Type", "application/json")
            .body(Bytes::from_static(br#"{"result":"SUCCESS"}"#));
        let client = client.clone();
        let control = control.clone();
        async move {
            if create.await.is_err() {
                return false;
            }
            let Ok(pay) = pay else { return false };
            if !control
                .send(pay, wechatpay::transport::SendOptions::default())
                .await
                .is_ok_and(|answer| answer.status() == 200)
            {
                return false;
            }
            if notification.await != Ok(100) {
                return false;
            }
            let queried = client["v3/pay/transactions/out-trade-no/{out_trade_no}"]
                .get_async(json!({"out_trade_no": number, "query": {"mchid": mock::MCHID}}))
                .await;
            queried.is_ok_and(|answer| {
                answer
                    .json::<Value>()
                    .is_ok_and(|order| order["trade_state"] == "SUCCESS")
            })
        }
    });
    notify.abort();
    Ok(run)
}
