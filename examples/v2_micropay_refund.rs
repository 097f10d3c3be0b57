//! APIv2: a micropay (付款码支付) and a refund over mutual TLS (申请退款, `security: true`).
//!
//! ```text
//! cargo run --example v2_micropay_refund
//! ```
//!
//! Runs against the built-in mock server: its plain port for the micropay, its TLS port
//! (which requires the merchant's client certificate) for the refund.

use serde_json::json;
use wechatpay::mock::{MockServer, Reply};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockServer::start()?;
    mock.on(
        "POST",
        "/pay/micropay",
        Reply::xml(
            200,
            json!({
                "return_code": "SUCCESS", "return_msg": "OK", "result_code": "SUCCESS",
                "transaction_id": "4200000001201407033233368018",
            }),
        ),
    );
    mock.on(
        "POST",
        "/secapi/pay/refund",
        Reply::xml(
            200,
            json!({
                "return_code": "SUCCESS", "return_msg": "OK", "result_code": "SUCCESS",
                "refund_id": "50000000382019052709732678859",
            }),
        ),
    );
    // The mock's builder already holds the APIv2 key and the merchant's TLS certificate
    // (ClientBuilder::apiv2_key, ClientBuilder::merchant_identity_files in production).
    let client = mock.client_builder().build()?;

    // A `v2/` path goes through the APIv2 pipeline: XML fields, nonce_str and sign added.
    let paid = client["v2/pay/micropay"].post(json!({
        "xml": {
            "appid": "wxd678efh567hg6787",
            "mch_id": client.mchid(),
            "body": "image形象店-深圳腾大- QQ公仔",
            "out_trade_no": "1217752501201407033233368018",
            "total_fee": 888,
            "spbill_create_ip": "8.8.8.8",
            "auth_code": "120061098828009406",
        },
    }))?;
    let fields = paid.xml()?;
    println!(
        "paid: {:?}, sign checked as {}",
        fields.get_str("transaction_id"),
        paid.verified_by()
    );

    // The refund needs the merchant certificate: `security: true`, on the TLS port.
    let refunded = client["v2/secapi/pay/refund"].post(json!({
        "security": true,
        "base_uri": mock.tls_uri(),
        "xml": {
            "appid": "wxd678efh567hg6787",
            "mch_id": client.mchid(),
            "out_trade_no": "1217752501201407033233368018",
            "out_refund_no": "1217752501201407033233368019",
            "total_fee": 888,
            "refund_fee": 888,
            "sign_type": "HMAC-SHA256",
        },
    }))?;
    println!(
        "refund: {:?}, sign checked as {}",
        refunded.xml()?.get_str("refund_id"),
        refunded.verified_by()
    );
    Ok(())
}
