//! Many requests at once from async code: a stream of calls run with at most 16 in flight
//! (`buffer_unordered`), on one client whose connections are pooled.
//!
//! ```text
//! cargo run --example concurrent
//! ```
//!
//! Runs against the built-in mock server.

use futures::stream::{self, StreamExt, TryStreamExt};
use serde_json::json;
use wechatpay::mock::{MockServer, Reply};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockServer::start()?;
    let client = mock.client_builder().build()?;
    let orders: Vec<String> = (0..100).map(|n| format!("ORDER{n:04}")).collect();
    for order in &orders {
        mock.on(
            "GET",
            &format!("/v3/pay/transactions/out-trade-no/{order}"),
            Reply::json(
                200,
                json!({"out_trade_no": order, "trade_state": "SUCCESS"}),
            ),
        );
    }

    // Each `get_async` is a `Send + 'static` future: nothing is sent until it is polled.
    let chain = &client["v3/pay/transactions/out-trade-no/{out_trade_no}"];
    let states: Vec<String> = stream::iter(&orders)
        .map(|order| {
            chain.get_async(json!({"out_trade_no": order, "query": {"mchid": client.mchid()}}))
        })
        .buffer_unordered(16)
        .map_ok(|response| {
            let body: serde_json::Value = response.json().unwrap_or_default();
            body["trade_state"].as_str().unwrap_or_default().to_owned()
        })
        .try_collect()
        .await?;
    let paid = states.iter().filter(|state| *state == "SUCCESS").count();
    println!("{} orders queried, {paid} paid", states.len());
    Ok(())
}
