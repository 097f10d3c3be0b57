//! A merchant on platform certificates (the older mode): no platform key configured, the
//! client downloads WeChat Pay's certificates at the first request (verified with the APIv3
//! key), refreshes them in the background, and follows a rotation on its own.
//!
//! ```text
//! cargo run --example auto_certificates
//! ```
//!
//! Runs against the built-in mock server, which serves `v3/certificates` and rotates its
//! certificate half-way through.

use serde_json::json;
use wechatpay::mock::{MockServer, Reply, Signing};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockServer::start()?;
    mock.sign_answers_with(Signing::Certificate);
    mock.on(
        "GET",
        "/v3/pay/transactions/out-trade-no/1217752501201407033233368018",
        Reply::json(200, json!({"trade_state": "SUCCESS"})),
    );
    // In production: Client::builder().mchid(…).serial(…).private_key(…)
    //     .apiv3_key(…).auto_certificates().build()? — and no platform_key.
    let client = mock.certificate_client_builder().build()?;

    let query = || {
        client["v3/pay/transactions/out-trade-no/{out_trade_no}"].get(json!({
            "out_trade_no": "1217752501201407033233368018",
            "query": {"mchid": client.mchid()},
        }))
    };
    // The first request downloads the certificates (once, however many requests wait).
    println!("verified by {}", query()?.verified_by());

    // WeChat Pay rotates: answers are signed by a certificate the client has never seen. The
    // client refreshes once, verifies again, and the request succeeds.
    mock.rotate_platform_certificate();
    println!("after the rotation, verified by {}", query()?.verified_by());
    println!("Wechatpay-Serial sent now: {}", client.wechatpay_serial());
    for usage in client.key_usage() {
        println!("  {} verified {} response(s)", usage.id, usage.responses);
    }
    Ok(())
}
