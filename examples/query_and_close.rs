//! Query an order by the merchant's order number (查询订单), then close it (关闭订单).
//!
//! ```text
//! cargo run --example query_and_close
//! ```
//!
//! Runs against the built-in mock server, which answers like WeChat Pay.

use serde_json::{Value, json};
use wechatpay::mock::{MockServer, Reply};

const OUT_TRADE_NO: &str = "1217752501201407033233368018";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockServer::start()?;
    let order_path = format!("/v3/pay/transactions/out-trade-no/{OUT_TRADE_NO}");
    mock.on(
        "GET",
        &order_path,
        Reply::json(
            200,
            json!({"out_trade_no": OUT_TRADE_NO, "trade_state": "NOTPAY"}),
        ),
    );
    mock.on("POST", &format!("{order_path}/close"), Reply::status(204));
    let client = mock.client_builder().build()?;

    // Path variables come from the options, percent-encoded; `query` becomes the query string.
    let order: Value = client["v3/pay/transactions/out-trade-no/{out_trade_no}"]
        .get(json!({"out_trade_no": OUT_TRADE_NO, "query": {"mchid": client.mchid()}}))?
        .json()?;
    println!("order {OUT_TRADE_NO}: {}", order["trade_state"]);

    if order["trade_state"] == "NOTPAY" {
        let closed =
            client["v3/pay/transactions/out-trade-no/{out_trade_no}/close"].post(json!({
                "out_trade_no": OUT_TRADE_NO,
                "json": {"mchid": client.mchid()},
            }))?;
        println!("closed: status {}", closed.status().as_u16());
    }
    Ok(())
}
