//! A JSAPI order (公众号/小程序下单) and the signed parameters the front end needs to show
//! the payment sheet (`wx.requestPayment` / `WeixinJSBridge.invoke`).
//!
//! ```text
//! cargo run --example jsapi_order
//! ```
//!
//! Runs against the built-in mock server, which answers like WeChat Pay.

use serde_json::{Value, json};
use wechatpay::mock::{MockServer, Reply};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockServer::start()?;
    // WeChat Pay answers a JSAPI order with a prepay_id.
    mock.on(
        "POST",
        "/v3/pay/transactions/jsapi",
        Reply::json(
            200,
            json!({"prepay_id": "wx201410272009395522657a690389285100"}),
        ),
    );
    let client = mock.client_builder().build()?;

    // 1. Place the order: the body is signed, the answer verified.
    let order: Value = client["v3/pay/transactions/jsapi"]
        .post(json!({
            "json": {
                "appid": "wxd678efh567hg6787",
                "mchid": client.mchid(),
                "description": "Image形象店-深圳腾大-QQ公仔",
                "out_trade_no": "1217752501201407033233368018",
                "notify_url": "https://www.weixin.qq.com/wxpay/pay.php",
                "amount": {"total": 100, "currency": "CNY"},
                "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            },
        }))?
        .json()?;
    let prepay_id = order["prepay_id"]
        .as_str()
        .ok_or("no prepay_id in the answer")?;

    // 2. Sign the parameters for the page (current time, fresh nonce, merchant key).
    let params = client.jsapi_params("wxd678efh567hg6787", prepay_id)?;
    println!("hand this to the page: {}", serde_json::to_string(&params)?);
    Ok(())
}
