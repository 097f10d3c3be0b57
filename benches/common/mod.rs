//! The call the benches send: the documented "下发服务预扣费消息".

pub mod probe;

use serde_json::{Value, json};

/// The number in the environment variable `name`, or `default` when it is unset or not a
/// number (the benches' knobs: `ROUNDS`, `REQUESTS`, `RUNS`, `CLIENTS`, …).
#[allow(dead_code)] // not every bench has knobs
pub fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// The path template.
#[allow(dead_code)] // not every bench sends the documented call
pub const TEMPLATE: &str = "v3/payscore/partner/serviceorder/{out_order_no}/send-prepaidmessage";

/// The path it expands to with [`options`].
#[allow(dead_code)]
pub const PATH: &str = "/v3/payscore/partner/serviceorder/1234323JKHDFE1243252/send-prepaidmessage";

/// The documented example request.
#[allow(dead_code)]
pub fn options() -> Value {
    json!({
        "out_order_no": "1234323JKHDFE1243252",
        "json": {
            "service_id": "2002000000000558128851361561536",
            "sub_mchid": "1900000109",
            "appid": "wxd678efh567hg6787",
            "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
            "total_amount": 40000,
            "title": "下发服务预扣费消息",
        },
    })
}
