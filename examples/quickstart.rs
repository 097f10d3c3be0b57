//! Sends the documented call "下发服务预扣费消息"
//! (`POST v3/payscore/partner/serviceorder/{out_order_no}/send-prepaidmessage`) in all six
//! styles and prints one line per style.
//!
//! Without configuration it runs against the built-in mock server. With `WECHATPAY_MCHID`,
//! `WECHATPAY_SERIAL`, `WECHATPAY_PRIVATE_KEY`, `WECHATPAY_PLATFORM_KEY_ID` and
//! `WECHATPAY_PLATFORM_KEY` set (see the README) it talks to the real API.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use std::env;

use serde_json::{Value, json};
use wechatpay::mock::{MockServer, Reply};
use wechatpay::{Client, PrivateKey, PublicKey, Response, chain};

const TEMPLATE: &str = "v3/payscore/partner/serviceorder/{out_order_no}/send-prepaidmessage";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _mock) = match env::var("WECHATPAY_MCHID") {
        Ok(mchid) => (real_client(&mchid)?, None),
        Err(_) => {
            let mock = MockServer::start()?;
            mock.on(
                "POST",
                "/v3/payscore/partner/serviceorder/1234323JKHDFE1243252/send-prepaidmessage",
                Reply::status(204),
            );
            println!("talking to the mock WeChat Pay server at {}", mock.uri());
            (mock.client_builder().build()?, Some(mock))
        }
    };
    let options = call_options();

    report("chain, sync", || {
        chain!(
            client
                .v3
                .payscore
                .partner
                .serviceorder
                ._out_order_no_
                .sendPrepaidmessage
        )
        .post(options.clone())
    })?;
    report("declarative, sync", || {
        client.chain(TEMPLATE).post(options.clone())
    })?;
    report("property, sync", || client[TEMPLATE].post(options.clone()))?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    report("chain, async", || {
        runtime.block_on(
            chain!(
                client
                    .v3
                    .payscore
                    .partner
                    .serviceorder
                    ._out_order_no_
                    .sendPrepaidmessage
            )
            .post_async(options.clone()),
        )
    })?;
    report("declarative, async", || {
        runtime.block_on(client.chain(TEMPLATE).post_async(options.clone()))
    })?;
    report("property, async", || {
        runtime.block_on(client[TEMPLATE].post_async(options.clone()))
    })?;
    Ok(())
}

/// The documented example request.
fn call_options() -> Value {
    let out_order_no = env::var("WECHATPAY_OUT_ORDER_NO").unwrap_or("1234323JKHDFE1243252".into());
    let service_id =
        env::var("WECHATPAY_SERVICE_ID").unwrap_or("2002000000000558128851361561536".into());
    let sub_mchid = env::var("WECHATPAY_SUB_MCHID").unwrap_or("1900000109".into());
    json!({
        "out_order_no": out_order_no,
        "json": {
            "service_id": service_id,
            "sub_mchid": sub_mchid,
            "appid": "wxd678efh567hg6787",
            "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
            "total_amount": 40000,
            "title": "下发服务预扣费消息",
        },
    })
}

fn report(
    style: &str,
    call: impl FnOnce() -> wechatpay::Result<Response>,
) -> wechatpay::Result<()> {
    let response = call()?;
    let verified = response.verified_by();
    println!(
        "{style:<20} status {}  verified by {verified}",
        response.status().as_u16()
    );
    Ok(())
}

/// A client for the real API, from the `WECHATPAY_*` environment variables.
fn real_client(mchid: &str) -> Result<Client, Box<dyn std::error::Error>> {
    let var = |name: &str| env::var(name).map_err(|_| format!("{name} is not set"));
    let mut builder = Client::builder()
        .mchid(mchid)
        .serial(&var("WECHATPAY_SERIAL")?)
        .private_key(PrivateKey::from_pem_file(var("WECHATPAY_PRIVATE_KEY")?)?)
        .platform_key(
            &var("WECHATPAY_PLATFORM_KEY_ID")?,
            PublicKey::from_pem_file(var("WECHATPAY_PLATFORM_KEY")?)?,
        );
    if let Ok(base_uri) = env::var("WECHATPAY_BASE_URI") {
        builder = builder.base_uri(&base_uri);
    }
    Ok(builder.build()?)
}
