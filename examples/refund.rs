//! A refund (申请退款) and the notification WeChat Pay sends when it succeeds (退款结果通知),
//! verified, decrypted and parsed into a typed event.
//!
//! ```text
//! cargo run --example refund
//! ```
//!
//! Runs against the built-in mock server, which answers like WeChat Pay and makes the
//! notification WeChat Pay would POST to the `notify_url`.

use serde_json::{Value, json};
use wechatpay::callback;
use wechatpay::events::Event;
use wechatpay::mock::{MockServer, Reply};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockServer::start()?;
    let refund = json!({
        "refund_id": "50000000382019052709732678859",
        "out_refund_no": "1217752501201407033233368019",
        "transaction_id": "1217752501201407033233368018",
        "out_trade_no": "1217752501201407033233368018",
        "status": "PROCESSING",
        "amount": {"total": 100, "refund": 100, "payer_total": 100, "payer_refund": 100, "currency": "CNY"},
    });
    mock.on(
        "POST",
        "/v3/refund/domestic/refunds",
        Reply::json(200, refund),
    );
    let client = mock.client_builder().build()?;

    // 1. Ask for the refund. The same out_refund_no never refunds twice: WeChat Pay
    //    deduplicates by it, so a retry after a timeout is safe.
    let accepted: Value = client["v3/refund/domestic/refunds"]
        .post(json!({
            "json": {
                "out_trade_no": "1217752501201407033233368018",
                "out_refund_no": "1217752501201407033233368019",
                "notify_url": "https://www.weixin.qq.com/wxpay/refund.php",
                "amount": {"refund": 100, "total": 100, "currency": "CNY"},
            },
        }))?
        .json()?;
    println!("refund {} is {}", accepted["refund_id"], accepted["status"]);

    // 2. Later, WeChat Pay POSTs the result to the notify_url (here made by the mock).
    let (headers, body) = mock.notification(
        "REFUND.SUCCESS",
        "encrypt-resource",
        "refund",
        &json!({
            "mchid": client.mchid(),
            "out_trade_no": "1217752501201407033233368018",
            "transaction_id": "1217752501201407033233368018",
            "out_refund_no": "1217752501201407033233368019",
            "refund_id": "50000000382019052709732678859",
            "refund_status": "SUCCESS",
            "success_time": "2018-06-08T10:34:56+08:00",
            "user_received_account": "招商银行信用卡0403",
            "amount": {"total": 100, "refund": 100, "payer_total": 100, "payer_refund": 100},
        }),
    )?;

    // 3. The handler: verify the raw body, parse the event, answer.
    let reply = match client.verify_notification(&headers, &body) {
        Ok(notification) => match notification.event()? {
            Event::RefundSuccess(refund) => {
                println!("refund {} succeeded", refund.out_refund_no);
                callback::Reply::success()
            }
            other => {
                println!("not a refund: {}", other.event_type());
                callback::Reply::success()
            }
        },
        Err(error) => callback::Reply::for_error(&error),
    };
    println!("answered WeChat Pay with {}", reply.status());
    Ok(())
}
