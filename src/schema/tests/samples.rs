//! Sample answers and notifications.

use http::Method;
use serde_json::{Value, json};

use super::{jsapi, post, valid};
use crate::schema::check;
use crate::schema::data::schema;
use crate::schema::webhooks;

#[test]
fn samples_have_the_documented_shape_and_plausible_values() {
    let jsapi = valid(post("/v3/pay/transactions/jsapi", jsapi()));
    let sample = jsapi.sample_response(7).expect("a body");
    assert_eq!(
        sample,
        jsapi.sample_response(7).expect("a body"),
        "deterministic"
    );
    assert!(
        sample["prepay_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("wx") && id.len() == 36)
    );
    let query = valid(check(
        &Method::GET,
        "/v3/pay/transactions/id/42",
        "mchid=1",
        b"",
    ));
    let order = query.sample_response(1).expect("a body");
    assert_ne!(
        order,
        query.sample_response(2).expect("a body"),
        "seeds differ"
    );
    let mchid = order["mchid"].as_str().expect("mchid");
    assert!(
        mchid.len() == 10 && mchid.bytes().all(|b| b.is_ascii_digit()),
        "{mchid}"
    );
    let appid = order["appid"].as_str().expect("appid");
    assert!(appid.starts_with("wx") && appid.len() == 18, "{appid}");
    let total = order["amount"]["total"]
        .as_i64()
        .expect("an integer amount");
    assert!((1..=10_000).contains(&total), "{total}");
    let time = order["success_time"].as_str().expect("a time");
    assert!(
        crate::time::parse_rfc3339(time).is_some() && time.ends_with("+08:00"),
        "{time}"
    );
    assert_eq!(
        order["trade_state"], "SUCCESS",
        "a state: the one of success"
    );
    assert_eq!(order["amount"]["currency"], "CNY");
    let limits = order["limit_pay"].as_array().expect("an array");
    assert!((1..=2).contains(&limits.len()));
    assert!(limits.iter().all(|l| {
        ["no_balance", "no_credit", "no_debit", "balance_only"]
            .contains(&l.as_str().unwrap_or_default())
    }));
    let goods = order["detail"]["goods_detail"]
        .as_array()
        .expect("an array");
    assert!(goods[0]["unit_price"].is_i64() && goods[0]["merchant_goods_id"].is_string());
    // Answers without a body.
    let close = valid(post(
        "/v3/pay/transactions/out-trade-no/1217752501201407033233368018/close",
        json!({"mchid": "1230000109"}),
    ));
    assert_eq!(close.sample_response(7), None);
    // APIv2: the answer's fields as text.
    let unified = schema()
        .operations
        .iter()
        .find(|op| op.template == "v2/pay/unifiedorder")
        .expect("documented");
    let fields = unified.sample_response(3).expect("fields");
    assert_eq!(fields["return_code"], "SUCCESS");
    assert!(
        fields
            .as_object()
            .expect("an object")
            .values()
            .all(Value::is_string)
    );
}

#[test]
fn every_operation_samples_without_a_panic() {
    for (seed, op) in schema().operations.iter().enumerate() {
        if let Some(sample) = op.sample_response(seed as u64) {
            assert!(sample.is_object(), "{} {}", op.method, op.template);
        }
    }
}

#[test]
fn notifications_are_listed_with_samples() {
    let all = webhooks();
    let find = |event: &str, v2: bool| {
        all.iter()
            .find(|w| w.event_type == event && w.v2 == v2)
            .unwrap_or_else(|| panic!("{event}"))
    };
    let paid = find("TRANSACTION.SUCCESS", false);
    assert!(paid.title.contains("TRANSACTION.SUCCESS"), "{}", paid.title);
    let sample = paid.sample();
    assert_eq!(sample, paid.sample());
    assert!(sample["out_trade_no"].is_string() && sample["amount"].is_object());
    let refund = find("REFUND.SUCCESS", false).sample();
    assert!(refund["amount"]["refund"].is_i64(), "{refund}");
    assert_eq!(refund["refund_status"], "SUCCESS");
    // APIv2: text fields, the encrypted one's fields as an object.
    let v2 = find("refund-processed", true);
    assert_eq!(v2.encrypted, Some("req_info"));
    let sample = v2.sample();
    assert_eq!(sample["return_code"], "SUCCESS");
    assert!(sample["req_info"]["out_refund_no"].is_string(), "{sample}");
    // APIv2 amounts are text of digits.
    let fee = sample["req_info"]["refund_fee"].as_str().expect("text");
    assert!(fee.parse::<u64>().is_ok_and(|fee| fee > 0), "{fee}");
    assert!(find("TRANSACTION.SUCCESS", true).sample().is_object());
    // A moved page keeps its event type, with the fields of the page it moved to.
    let keys = |event: &str| {
        let sample = find(event, false).sample();
        let keys: Vec<String> = sample
            .as_object()
            .expect("an object")
            .keys()
            .cloned()
            .collect();
        keys
    };
    let moved = keys("MEMBERCARDSP.USER_CARD.CREATE");
    assert!(!moved.is_empty());
    assert_eq!(moved, keys("BRAND_MEMBER_CARD_SP.USER_CARD.CREATE"));
    for webhook in all {
        assert!(webhook.sample().is_object(), "{}", webhook.event_type);
    }
}
