//! Tests of decoding the options into a plan.

use super::*;
use serde_json::json;

fn decode(template: &str, options: Value) -> Result<Plan> {
    Plan::decode(template, &Options::from(options))
}

#[test]
fn suggests_the_nearest_option() {
    let error = decode("v3/x", json!({"jsno": {}})).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    assert!(
        error.to_string().contains("did you mean `json`?"),
        "{error}"
    );
    let error = decode(
        "v3/x/{out_trade_no}",
        json!({"out_trade_no": "1", "out_trade_n0": "2"}),
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("did you mean `out_trade_no`?"),
        "{error}"
    );
    let error = decode("v3/x", json!({"zzzzzzzz": 1})).unwrap_err();
    assert!(!error.to_string().contains("did you mean"), "{error}");
}

#[test]
fn refuses_guzzle_options_with_a_sentence() {
    for (option, words) in [
        ("debug", "build_request"),
        ("verify", "always verified"),
        ("http_errors", "Error::response"),
        ("proxy", "ClientBuilder::proxy"),
        ("stream", "read whole"),
    ] {
        let error = decode("v3/x", json!({ option: true })).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains(&format!("Guzzle option `{option}`")),
            "{text}"
        );
        assert!(text.contains(words), "{text}");
    }
}

#[test]
fn missing_variables_name_likely_misspellings() {
    let error = decode("v3/x/{user_id}", json!({"use_id": "1"})).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::MissingPathVariable);
    assert_eq!(error.variables(), ["user_id"]);
    assert!(
        error.to_string().contains("`use_id` for `user_id`"),
        "{error}"
    );
}

#[test]
fn maps_guzzle_options_with_a_meaning() {
    let plan = decode(
        "v3/x/{id}",
        json!({"id": "a b", "timeout": 0, "connect_timeout": 1.5, "query": {"k": "v"},
               "headers": {"X-A": "1", "X-B": null}, "json": {"a": 1},
               "base_uri": "https://apihk.mch.weixin.qq.com/"}),
    )
    .unwrap();
    assert_eq!(plan.path, "v3/x/a%20b");
    assert_eq!(plan.timeout, Some(None));
    assert_eq!(
        plan.connect_timeout,
        Some(Some(Duration::from_millis(1500)))
    );
    assert_eq!(plan.query.as_deref(), Some("k=v"));
    assert_eq!(plan.headers.len(), 1);
    assert!(matches!(plan.body, Body::Json(ref bytes) if bytes == "{\"a\":1}"));
    assert!(plan.base_uri.is_some());
}

#[test]
fn refuses_headers_that_frame_route_or_sign() {
    for name in [
        "Host",
        "content-length",
        "Transfer-Encoding",
        "Authorization",
        "Connection",
        "Upgrade",
        "TE",
        "Trailer",
        "Keep-Alive",
        "Proxy-Authorization",
        "Expect",
    ] {
        let error = decode("v3/x", json!({"headers": {name: "1"}})).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{name}");
        assert!(error.to_string().contains(name), "{error}");
    }
    let plan = decode(
        "v3/x",
        json!({"headers": {"User-Agent": "shop/1", "Wechatpay-Serial": "PUB_KEY_ID_1",
                           "Content-Type": "application/json", "Accept": "*/*"}}),
    )
    .unwrap();
    assert_eq!(plan.headers.len(), 4);
}

#[test]
fn keeps_each_api_to_its_options() {
    let error = decode("v3/x", json!({"xml": {}})).unwrap_err();
    assert!(error.to_string().contains("APIv2 option"), "{error}");
    let error = decode("v2/pay/micropay", json!({"json": {}})).unwrap_err();
    assert!(error.to_string().contains("`xml` option"), "{error}");
    let plan = decode(
        "v2/pay/micropay",
        json!({"xml": {"a": 1}, "nonceless": false, "security": true}),
    )
    .unwrap();
    assert_eq!(plan.api, Api::V2);
    assert_eq!(plan.path, "pay/micropay");
    assert!(plan.nonceless && plan.security);
    assert!(decode("v2/x", json!({"security": "yes"})).is_err());
}
