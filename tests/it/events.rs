//! Typed notification events: every documented APIv3 notification page of the webhooks
//! corpus, signed and encrypted by the mock, verified and parsed into its event; plus the
//! forms, leniency, errors and duplicate handling of `wechatpay::events`.
//!
//! The corpus is the JSONL file named by `WECHATPAY_WEBHOOKS`, by default
//! `../shared/corpus/webhooks.jsonl` next to this repository. Prints
//! `events: N typed, M other` (one per notification built) and one line per failure.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::executor::block_on;
use serde_json::{Map, Value, json};
use wechatpay::events::{Claim, Deduplicate, Event, MemoryDedupe};
use wechatpay::mock::MockServer;
use wechatpay::{Client, ErrorKind};

// ---------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------

#[test]
fn every_documented_notification_parses() {
    let (path, explicit) = match std::env::var("WECHATPAY_WEBHOOKS") {
        Ok(path) => (PathBuf::from(path), true),
        Err(_) => (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/webhooks.jsonl"),
            false,
        ),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if !explicit && std::env::var_os("CI").is_none() => {
            let _ = writeln!(
                std::io::stderr(),
                "events: no webhooks corpus at {} ({e}); set WECHATPAY_WEBHOOKS to run it",
                path.display()
            );
            return;
        }
        Err(e) => panic!("cannot read the webhooks corpus {}: {e}", path.display()),
    };

    let mock = MockServer::start().expect("mock server starts");
    let client = mock.client_builder().build().expect("client builds");
    let (mut typed, mut other, mut failures) = (0, 0, Vec::new());
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let page: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("line {} is not JSON: {e}", number + 1));
        let documented = page["format"] == "json"
            && page["decrypted_resource"]
                .as_array()
                .is_some_and(|fields| !fields.is_empty());
        if !documented {
            continue;
        }
        let name = page["page"].as_str().unwrap_or("?");
        let plaintext = plaintext_of(&page);
        for event_type in event_types(&page) {
            for original_type in original_types(&page, &event_type) {
                let case = format!("{name} as {event_type}/{original_type}");
                match check(&client, &mock, &event_type, &original_type, &plaintext) {
                    Ok(true) => typed += 1,
                    Ok(false) => other += 1,
                    Err(reason) => failures.push(format!("{case}: {reason}")),
                }
            }
        }
    }
    // Written to stderr directly, past the test harness's capture.
    let mut summary = format!("events: {typed} typed, {other} other\n");
    for failure in &failures {
        summary.push_str(failure);
        summary.push('\n');
    }
    let _ = std::io::stderr().write_all(summary.as_bytes());
    assert!(
        failures.is_empty(),
        "{} notifications failed",
        failures.len()
    );
    assert!(typed > 0 && other > 0, "{summary}");
}

/// Signs and encrypts `plaintext` like WeChat Pay, verifies and parses it; `Ok(typed)`.
fn check(
    client: &Client,
    mock: &MockServer,
    event_type: &str,
    original_type: &str,
    plaintext: &Value,
) -> Result<bool, String> {
    let (headers, body) = mock
        .notification(event_type, "encrypt-resource", original_type, plaintext)
        .map_err(|e| format!("mock: {e}"))?;
    let notification = client
        .verify_notification(&headers, &body)
        .map_err(|e| format!("verify: {e}"))?;
    let event = notification.event().map_err(|e| format!("event: {e}"))?;
    if event.event_type() != event_type {
        return Err(format!("event_type() is {}", event.event_type()));
    }
    let expected = expected_variant(event_type, original_type, plaintext);
    let (variant, fields) = describe(&event);
    if variant != expected {
        return Err(format!("expected {expected}, got {variant}"));
    }
    for (pointer, got) in fields {
        let sent = plaintext.pointer(pointer).map(render);
        if sent.as_deref() != got.as_deref() {
            return Err(format!("{pointer}: sent {sent:?}, parsed {got:?}"));
        }
    }
    Ok(event.is_typed())
}

/// The variant the documented rules choose (written independently of the library).
fn expected_variant(event_type: &str, original_type: &str, plaintext: &Value) -> &'static str {
    let has = |key: &str| plaintext.get(key).is_some_and(|v| !v.is_null());
    let partner = has("sp_mchid");
    let form = |partner_variant, direct_variant| {
        if partner {
            partner_variant
        } else {
            direct_variant
        }
    };
    match event_type {
        "TRANSACTION.SUCCESS" if original_type == "profitsharing" => {
            "ProfitSharingTransactionSuccess"
        }
        "TRANSACTION.SUCCESS" if has("combine_out_trade_no") && !has("out_trade_no") => {
            "CombinedTransactionSuccess"
        }
        "TRANSACTION.SUCCESS" => form("PartnerTransactionSuccess", "TransactionSuccess"),
        "TRANSACTION.FAIL" => form("PartnerTransactionFail", "TransactionFail"),
        "REFUND.SUCCESS" => form("PartnerRefundSuccess", "RefundSuccess"),
        "REFUND.ABNORMAL" => form("PartnerRefundAbnormal", "RefundAbnormal"),
        "REFUND.CLOSED" => form("PartnerRefundClosed", "RefundClosed"),
        "ENTRUST.SIGN" => form("PartnerEntrustSign", "EntrustSign"),
        "ENTRUST.TERMINATE" => form("PartnerEntrustTerminate", "EntrustTerminate"),
        "COUPON.USE" if has("coupon_code") && !has("coupon_id") => "BusinessCouponUse",
        "COUPON.USE" => "CouponUse",
        "COUPON.SEND" => "CouponSend",
        "PROFITSHARING.SUCCESS" => "ProfitSharingSuccess",
        "PROFITSHARING.RETURN" => "ProfitSharingReturn",
        "PAYSCORE.USER_CONFIRM" => "PayScoreUserConfirm",
        "PAYSCORE.USER_PAID" => "PayScoreUserPaid",
        "PAYSCORE.USER_OPEN_SERVICE" => "PayScoreUserOpenService",
        "PAYSCORE.USER_CLOSE_SERVICE" => "PayScoreUserCloseService",
        "PAYSCORE.USER_SIGN_PLAN" => "PayScoreUserSignPlan",
        "PAYSCORE.USER_CANCEL_SIGN_PLAN" => "PayScoreUserCancelSignPlan",
        "MCHTRANSFER.BILL.FINISHED" => "TransferBillFinished",
        "MCHTRANSFER.QQWALLETBILL.FINISHED" => "TransferQqWalletBillFinished",
        "MCHTRANSFER.BATCH.FINISHED" => "TransferBatchFinished",
        "MCHTRANSFER.BATCH.CLOSED" => "TransferBatchClosed",
        "MCHTRANSFER.AUTHORIZATION.CONFIRMED" => "TransferAuthorizationConfirmed",
        "MCHTRANSFER.AUTHORIZATION.CLOSED" => "TransferAuthorizationClosed",
        "COMPLAINT.CREATE" => "ComplaintCreate",
        "COMPLAINT.STATE_CHANGE" => "ComplaintStateChange",
        "PAPAY.SIGN" => "PapaySign",
        "PAPAY.TERMINATE" => "PapayTerminate",
        _ => "Other",
    }
}

type Fields = Vec<(&'static str, Option<String>)>;

/// The variant's name and a few key fields, as (JSON pointer into the plaintext, parsed value).
fn describe(event: &Event) -> (String, Fields) {
    fn s(value: &str) -> Option<String> {
        Some(value.to_owned())
    }
    fn o(value: &Option<String>) -> Option<String> {
        value.clone()
    }
    fn n(value: i64) -> Option<String> {
        Some(value.to_string())
    }
    match event {
        Event::TransactionSuccess(tx) | Event::TransactionFail(tx) => (
            variant_name(event),
            vec![
                ("/mchid", s(&tx.merchant.mchid)),
                ("/out_trade_no", s(&tx.out_trade_no)),
                ("/amount/total", tx.amount.total.map(|v| v.to_string())),
            ],
        ),
        Event::PartnerTransactionSuccess(tx) | Event::PartnerTransactionFail(tx) => (
            variant_name(event),
            vec![
                ("/sp_mchid", s(&tx.merchant.sp_mchid)),
                ("/sub_mchid", s(&tx.merchant.sub_mchid)),
                ("/out_trade_no", s(&tx.out_trade_no)),
                ("/transaction_id", s(&tx.transaction_id)),
                ("/trade_state", s(&tx.trade_state)),
                (
                    "/amount/payer_total",
                    tx.amount.payer_total.map(|v| v.to_string()),
                ),
                ("/amount/currency", o(&tx.amount.currency)),
            ],
        ),
        Event::CombinedTransactionSuccess(tx) => (
            variant_name(event),
            vec![
                ("/combine_out_trade_no", s(&tx.combine_out_trade_no)),
                (
                    "/sub_orders/0/out_trade_no",
                    tx.sub_orders.first().map(|sub| sub.out_trade_no.clone()),
                ),
            ],
        ),
        Event::ProfitSharingTransactionSuccess(ps)
        | Event::ProfitSharingSuccess(ps)
        | Event::ProfitSharingReturn(ps) => (
            variant_name(event),
            vec![
                ("/order_id", s(&ps.order_id)),
                ("/out_order_no", s(&ps.out_order_no)),
                ("/receiver/amount", n(ps.receiver.amount)),
                ("/receiver/type", s(&ps.receiver.kind)),
            ],
        ),
        Event::RefundSuccess(r) | Event::RefundAbnormal(r) | Event::RefundClosed(r) => (
            variant_name(event),
            vec![
                ("/mchid", s(&r.merchant.mchid)),
                ("/out_refund_no", s(&r.out_refund_no)),
                ("/amount/refund", n(r.amount.refund)),
            ],
        ),
        Event::PartnerRefundSuccess(r)
        | Event::PartnerRefundAbnormal(r)
        | Event::PartnerRefundClosed(r) => (
            variant_name(event),
            vec![
                ("/sp_mchid", s(&r.merchant.sp_mchid)),
                ("/sub_mchid", s(&r.merchant.sub_mchid)),
                ("/out_refund_no", s(&r.out_refund_no)),
                ("/refund_id", s(&r.refund_id)),
                ("/refund_status", s(&r.refund_status)),
                ("/amount/refund", n(r.amount.refund)),
                ("/amount/payer_refund", n(r.amount.payer_refund)),
            ],
        ),
        Event::PayScoreUserConfirm(order) | Event::PayScoreUserPaid(order) => (
            variant_name(event),
            vec![
                ("/out_order_no", s(&order.out_order_no)),
                ("/state", s(&order.state)),
                ("/risk_fund/amount", n(order.risk_fund.amount)),
                (
                    "/post_payments/0/amount",
                    order
                        .post_payments
                        .first()
                        .and_then(|p| p.amount)
                        .map(|v| v.to_string()),
                ),
                (
                    "/collection/details/0/amount",
                    order
                        .collection
                        .as_ref()
                        .and_then(|c| c.details.as_ref())
                        .and_then(|details| details.first())
                        .map(|detail| detail.amount.to_string()),
                ),
            ],
        ),
        Event::PayScoreUserOpenService(auth) | Event::PayScoreUserCloseService(auth) => (
            variant_name(event),
            vec![
                ("/service_id", s(&auth.service_id)),
                ("/openid", s(&auth.openid)),
            ],
        ),
        Event::PayScoreUserSignPlan(plan) | Event::PayScoreUserCancelSignPlan(plan) => (
            variant_name(event),
            vec![
                ("/sign_plan_id", s(&plan.sign_plan_id)),
                ("/total_actual_price", n(plan.total_actual_price)),
                (
                    "/signed_detail_list/0/actual_price",
                    plan.signed_detail_list
                        .first()
                        .map(|d| d.actual_price.to_string()),
                ),
            ],
        ),
        Event::TransferBillFinished(bill) | Event::TransferQqWalletBillFinished(bill) => (
            variant_name(event),
            vec![
                ("/out_bill_no", s(&bill.out_bill_no)),
                ("/state", s(&bill.state)),
                ("/transfer_amount", n(bill.transfer_amount)),
            ],
        ),
        Event::TransferBatchFinished(batch) | Event::TransferBatchClosed(batch) => (
            variant_name(event),
            vec![
                ("/out_batch_no", s(&batch.out_batch_no)),
                ("/total_amount", n(batch.total_amount)),
            ],
        ),
        Event::TransferAuthorizationConfirmed(auth) | Event::TransferAuthorizationClosed(auth) => (
            variant_name(event),
            vec![
                ("/authorization_id", s(&auth.authorization_id)),
                ("/state", s(&auth.state)),
            ],
        ),
        Event::ComplaintCreate(c) | Event::ComplaintStateChange(c) => (
            variant_name(event),
            vec![
                ("/complaint_id", s(&c.complaint_id)),
                ("/action_type", s(&c.action_type)),
            ],
        ),
        Event::CouponSend(coupon) | Event::BusinessCouponUse(coupon) => (
            variant_name(event),
            vec![
                ("/coupon_code", s(&coupon.coupon_code)),
                ("/stock_id", s(&coupon.stock_id)),
            ],
        ),
        Event::CouponUse(coupon) => (
            variant_name(event),
            vec![
                ("/coupon_id", s(&coupon.coupon_id)),
                (
                    "/normal_coupon_information/coupon_amount",
                    coupon
                        .normal_coupon_information
                        .as_ref()
                        .map(|info| info.coupon_amount.to_string()),
                ),
            ],
        ),
        Event::EntrustSign(c) | Event::EntrustTerminate(c) => (
            variant_name(event),
            vec![
                ("/mchid", s(&c.merchant.mchid)),
                ("/contract_id", s(&c.contract_id)),
            ],
        ),
        Event::PartnerEntrustSign(c) | Event::PartnerEntrustTerminate(c) => (
            variant_name(event),
            vec![
                ("/sp_mchid", s(&c.merchant.sp_mchid)),
                ("/contract_id", s(&c.contract_id)),
                ("/plan_id", n(c.plan_id)),
                ("/contract_state", s(&c.contract_state)),
            ],
        ),
        Event::PapaySign(c) | Event::PapayTerminate(c) => (
            variant_name(event),
            vec![
                ("/contract_id", o(&c.contract_id)),
                ("/plan_id", c.plan_id.map(|v| v.to_string())),
            ],
        ),
        Event::Other { .. } => ("Other".to_owned(), Vec::new()),
        _ => ("(a variant this test does not know)".to_owned(), Vec::new()),
    }
}

/// The name of `event`'s variant, from its `Debug` output.
fn variant_name(event: &Event) -> String {
    let debug = format!("{event:?}");
    debug
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// A JSON leaf as the string the typed field should hold.
fn render(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The event types a page covers.
fn event_types(page: &Value) -> Vec<String> {
    let listed: Vec<String> = page["event_type_enum"]
        .as_array()
        .map(|types| {
            types
                .iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if listed.is_empty() {
        page["event_type"]
            .as_str()
            .map(str::to_owned)
            .into_iter()
            .collect()
    } else {
        listed
    }
}

/// The documented `original_type` values of a page, or one made from the event type.
fn original_types(page: &Value, event_type: &str) -> Vec<String> {
    let documented: Vec<String> = page["resource"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|field| field["name"] == "original_type")
        .filter_map(|field| field["enum"].as_array())
        .flatten()
        .filter_map(|value| value.as_str().map(str::to_owned))
        .collect();
    if documented.is_empty() {
        let family = event_type.split('.').next().unwrap_or(event_type);
        vec![family.to_lowercase()]
    } else {
        documented
    }
}

/// The page's example resource with its placeholders filled, or one built from its fields.
fn plaintext_of(page: &Value) -> Value {
    let mut counter = 0;
    if let Some(example) = page["sample_json"].as_object() {
        return Value::Object(example.clone());
    }
    if let Some(skeleton) = page["decrypted_skeleton"].as_object() {
        let mut filled = Map::new();
        for (key, value) in skeleton {
            filled.insert(key.clone(), fill(key, value, &mut counter));
        }
        return Value::Object(filled);
    }
    let fields: Vec<&Value> = page["decrypted_resource"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|row| row["kind"] == "field")
        .collect();
    let top = fields
        .iter()
        .filter_map(|f| f["indent"].as_u64())
        .min()
        .unwrap_or(0);
    let mut at = 0;
    Value::Object(build(&fields, &mut at, top, &mut counter))
}

/// A value of the documented type for the leaf `key`.
fn leaf(key: &str, kind: &str, counter: &mut i64) -> Value {
    *counter += 1;
    match kind {
        "number" | "integer" => json!(100 + *counter),
        "boolean" => json!(true),
        "string[]" => json!([format!("{key}-{counter}")]),
        _ if key.ends_with("time") => json!("2024-05-20T13:29:35+08:00"),
        _ => json!(format!("{key}-{counter}")),
    }
}

/// Replaces the `<type>` placeholders of a skeleton.
fn fill(key: &str, value: &Value, counter: &mut i64) -> Value {
    match value {
        Value::String(s) if s.starts_with('<') && s.ends_with('>') => {
            leaf(key, &s[1..s.len() - 1], counter)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| fill(key, v, counter)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), fill(k, v, counter)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Builds the object whose fields sit at `indent`, from `fields[*at..]`.
fn build(fields: &[&Value], at: &mut usize, indent: u64, counter: &mut i64) -> Map<String, Value> {
    let mut object = Map::new();
    while let Some(field) = fields.get(*at) {
        let this = field["indent"].as_u64().unwrap_or(indent);
        if this < indent {
            break;
        }
        *at += 1;
        let name = field["name"].as_str().unwrap_or("field").to_owned();
        let kind = field["type"].as_str().unwrap_or("string");
        let nested = fields
            .get(*at)
            .and_then(|next| next["indent"].as_u64())
            .filter(|&next| next > this);
        let value = match nested {
            Some(next) => {
                let child = Value::Object(build(fields, at, next, counter));
                if kind.ends_with("[]") {
                    json!([child])
                } else {
                    child
                }
            }
            None => match (kind, field["enum"].get(0)) {
                ("string", Some(first)) => first.clone(),
                ("object", _) => json!({}),
                ("object[]", _) => json!([]),
                _ => leaf(&name, kind, counter),
            },
        };
        object.insert(name, value);
    }
    object
}

// ---------------------------------------------------------------------------------------
// Forms, leniency and errors
// ---------------------------------------------------------------------------------------

fn direct_payment() -> Value {
    json!({
        "mchid": "1900000109",
        "appid": "wxd678efh567hg6787",
        "out_trade_no": "1217752501201407033233368018",
        "transaction_id": "4200000001201407033233368018",
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "CMC",
        "success_time": "2018-06-08T10:34:56+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": 100, "payer_total": 90, "currency": "CNY", "payer_currency": "CNY"},
        "promotion_detail": [{"coupon_id": "109519", "amount": 10, "type": "CASH"}],
    })
}

fn partner_payment() -> Value {
    json!({
        "sp_appid": "wx8888888888888888",
        "sp_mchid": "1230000109",
        "sub_appid": "wxd678efh567hg6999",
        "sub_mchid": "1900000109",
        "out_trade_no": "1217752501201407033233368018",
        "transaction_id": "4200000001201407033233368018",
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "success_time": "2018-06-08T10:34:56+08:00",
        "payer": {"sp_openid": "oUpF8uN95-Ptaags6E_roPHg7AG0", "sub_openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY"},
    })
}

fn refund(partner: bool) -> Value {
    let mut refund = json!({
        "out_trade_no": "1217752501201407033233368018",
        "transaction_id": "4200000001201407033233368018",
        "out_refund_no": "1217752501201407033233368018",
        "refund_id": "50000000382019052709732678859",
        "refund_status": "SUCCESS",
        "success_time": "2018-06-08T10:34:56+08:00",
        "user_received_account": "招商银行信用卡0403",
        "amount": {"total": 999, "refund": 888, "payer_total": 999, "payer_refund": 888},
    });
    let ids = if partner {
        json!({"sp_mchid": "1900000100", "sub_mchid": "1900000109"})
    } else {
        json!({"mchid": "1900000100"})
    };
    for (key, value) in ids.as_object().expect("object") {
        refund[key] = value.clone();
    }
    refund
}

fn parse(event_type: &str, original_type: &str, resource: &Value) -> wechatpay::Result<Event> {
    Event::parse(event_type, original_type, resource.to_string().as_bytes())
}

#[test]
fn direct_and_partner_forms() -> wechatpay::Result<()> {
    match parse("TRANSACTION.SUCCESS", "transaction", &direct_payment())? {
        Event::TransactionSuccess(tx) => {
            assert_eq!(tx.merchant.mchid, "1900000109");
            assert_eq!(tx.merchant.appid.as_deref(), Some("wxd678efh567hg6787"));
            assert_eq!(tx.amount.total, Some(100));
            assert_eq!(tx.amount.payer_total, Some(90));
            assert_eq!(
                tx.payer.expect("payer").openid.as_deref(),
                Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
            );
            let promotion = &tx.promotion_detail.expect("promotion")[0];
            assert_eq!(
                (promotion.coupon_id.as_str(), promotion.amount),
                ("109519", Some(10))
            );
            assert!(tx.extra.is_empty(), "{:?}", tx.extra);
        }
        other => panic!("direct payment parsed as {other:?}"),
    }
    match parse("TRANSACTION.SUCCESS", "transaction", &partner_payment())? {
        Event::PartnerTransactionSuccess(tx) => {
            assert_eq!(tx.merchant.sp_mchid, "1230000109");
            assert_eq!(tx.merchant.sub_mchid, "1900000109");
            assert_eq!(tx.merchant.sp_appid.as_deref(), Some("wx8888888888888888"));
            assert_eq!(tx.merchant.sub_appid.as_deref(), Some("wxd678efh567hg6999"));
            let payer = tx.payer.expect("payer");
            assert_eq!(
                payer.sub_openid.as_deref(),
                Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
            );
            assert!(tx.extra.is_empty(), "{:?}", tx.extra);
        }
        other => panic!("partner payment parsed as {other:?}"),
    }
    match parse("REFUND.SUCCESS", "refund", &refund(false))? {
        Event::RefundSuccess(r) => {
            assert_eq!(r.merchant.mchid, "1900000100");
            assert_eq!(r.merchant.appid, None);
            assert_eq!((r.amount.refund, r.amount.payer_refund), (888, 888));
        }
        other => panic!("direct refund parsed as {other:?}"),
    }
    for (event_type, expected) in [
        ("REFUND.SUCCESS", "PartnerRefundSuccess"),
        ("REFUND.ABNORMAL", "PartnerRefundAbnormal"),
        ("REFUND.CLOSED", "PartnerRefundClosed"),
    ] {
        let event = parse(event_type, "refund", &refund(true))?;
        assert_eq!(variant_name(&event), expected);
        assert_eq!(event.event_type(), event_type);
    }
    // A partner refund without its sub-merchant is the wrong shape, not a direct refund.
    let mut broken = refund(true);
    broken.as_object_mut().expect("object").remove("sub_mchid");
    let error = parse("REFUND.CLOSED", "refund", &broken).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode);
    assert!(error.to_string().contains("sub_mchid"), "{error}");
    Ok(())
}

#[test]
fn combined_payments_and_profit_sharing_under_transaction_success() -> wechatpay::Result<()> {
    let combined = json!({
        "combine_appid": "wxd678efh567hg6787",
        "combine_mchid": "1900000109",
        "combine_out_trade_no": "20150806125346",
        "scene_info": {"device_id": "POS1:1"},
        "sub_orders": [{
            "mchid": "1900000109", "sub_mchid": "1900000111", "trade_type": "JSAPI",
            "trade_state": "SUCCESS", "bank_type": "CMC", "attach": "深圳分店",
            "success_time": "2015-05-20T13:29:35.120+08:00",
            "transaction_id": "1009660380201506130728806387", "out_trade_no": "20150806125346",
            "amount": {"total_amount": 10, "currency": "CNY", "payer_amount": 10, "payer_currency": "CNY"},
        }],
        "combine_payer_info": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
    });
    match parse("TRANSACTION.SUCCESS", "transaction", &combined)? {
        Event::CombinedTransactionSuccess(tx) => {
            assert_eq!(tx.combine_out_trade_no, "20150806125346");
            assert_eq!(tx.sub_orders[0].sub_mchid.as_deref(), Some("1900000111"));
            assert_eq!(
                tx.sub_orders[0].amount.as_ref().map(|a| a.total_amount),
                Some(10)
            );
        }
        other => panic!("combined payment parsed as {other:?}"),
    }
    let sharing = json!({
        "sp_mchid": "1900000100", "sub_mchid": "1900000109",
        "transaction_id": "4200000000000000000000000000", "order_id": "1217752501201407033233368018",
        "out_order_no": "P20150806125346", "success_time": "2018-06-08T10:34:56+08:00",
        "receiver": {"type": "MERCHANT_ID", "account": "1900000109", "amount": 888, "description": "运费"},
    });
    match parse("TRANSACTION.SUCCESS", "profitsharing", &sharing)? {
        Event::ProfitSharingTransactionSuccess(ps) => assert_eq!(ps.receiver.amount, 888),
        other => panic!("profit sharing parsed as {other:?}"),
    }
    // Without an original_type, the fields tell.
    let event = parse("TRANSACTION.SUCCESS", "", &sharing)?;
    assert_eq!(variant_name(&event), "ProfitSharingTransactionSuccess");
    let event = parse("PROFITSHARING.RETURN", "profitsharing", &sharing)?;
    assert_eq!(variant_name(&event), "ProfitSharingReturn");
    Ok(())
}

#[test]
fn coupon_use_has_two_products() -> wechatpay::Result<()> {
    let business = json!({
        "event_type": "EVENT_TYPE_BUSICOUPON_CONSUME", "coupon_code": "sxxe34343434",
        "stock_id": "1212", "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
    });
    match parse("COUPON.USE", "coupon", &business)? {
        Event::BusinessCouponUse(coupon) => {
            assert_eq!(coupon.coupon_code, "sxxe34343434");
            assert_eq!(
                coupon.event_type.as_deref(),
                Some("EVENT_TYPE_BUSICOUPON_CONSUME")
            );
        }
        other => panic!("business coupon parsed as {other:?}"),
    }
    let error = parse(
        "COUPON.USE",
        "coupon",
        &json!({"coupon_id": "9856000", "stock_id": "1"}),
    )
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode);
    assert!(error.to_string().contains("CashCoupon"), "{error}");
    Ok(())
}

#[test]
fn unknown_fields_are_kept() -> wechatpay::Result<()> {
    let mut payment = direct_payment();
    payment["new_top_level"] = json!({"since": "2030"});
    payment["amount"]["new_amount_field"] = json!(7);
    payment["promotion_detail"][0]["new_promotion_field"] = json!("x");
    match parse("TRANSACTION.SUCCESS", "transaction", &payment)? {
        Event::TransactionSuccess(tx) => {
            assert_eq!(
                tx.extra.get("new_top_level"),
                Some(&json!({"since": "2030"}))
            );
            assert_eq!(tx.extra.len(), 1, "{:?}", tx.extra);
            assert_eq!(tx.amount.extra.get("new_amount_field"), Some(&json!(7)));
            let promotion = &tx.promotion_detail.as_ref().expect("promotion")[0];
            assert_eq!(
                promotion.extra.get("new_promotion_field"),
                Some(&json!("x"))
            );
        }
        other => panic!("parsed as {other:?}"),
    }
    // Event types without a type keep the whole resource.
    let resource = json!({"anything": [1, 2, {"nested": true}]});
    match parse("VIOLATION.PUNISH", "violation", &resource)? {
        Event::Other {
            event_type,
            resource: kept,
        } => {
            assert_eq!(event_type, "VIOLATION.PUNISH");
            assert_eq!(kept, resource);
        }
        other => panic!("parsed as {other:?}"),
    }
    Ok(())
}

#[test]
fn numbers_sent_as_strings_are_read() -> wechatpay::Result<()> {
    let mut sent = refund(false);
    sent["amount"] = json!({"total": "999", "refund": 888.0, "payer_total": " 999 ", "payer_refund": 888,
                            "settlement_refund": "", "currency": "CNY"});
    match parse("REFUND.SUCCESS", "refund", &sent)? {
        Event::RefundSuccess(r) => {
            assert_eq!(
                (r.amount.total, r.amount.refund, r.amount.payer_total),
                (999, 888, 999)
            );
            assert_eq!(r.amount.settlement_refund, None);
        }
        other => panic!("parsed as {other:?}"),
    }
    let mut payment = direct_payment();
    payment["amount"]["total"] = Value::Null;
    payment["amount"]["payer_total"] = json!("90");
    match parse("TRANSACTION.SUCCESS", "transaction", &payment)? {
        Event::TransactionSuccess(tx) => {
            assert_eq!((tx.amount.total, tx.amount.payer_total), (None, Some(90)));
        }
        other => panic!("parsed as {other:?}"),
    }
    // A decimal amount could be yuan: an error, never a guess.
    for wrong in [
        json!("8.88"),
        json!(8.5),
        json!("eight"),
        json!(true),
        json!(u64::MAX),
    ] {
        let mut sent = refund(false);
        sent["amount"]["refund"] = wrong.clone();
        let error = parse("REFUND.SUCCESS", "refund", &sent).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Decode, "{wrong}");
    }
    Ok(())
}

#[test]
fn a_wrong_shape_is_a_decode_error() {
    let mut missing = refund(false);
    missing.as_object_mut().expect("object").remove("refund_id");
    let error = parse("REFUND.SUCCESS", "refund", &missing).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode);
    let message = error.to_string();
    for part in [
        "REFUND.SUCCESS",
        "`Refund`",
        "Event::RefundSuccess",
        "refund_id",
    ] {
        assert!(message.contains(part), "{message}");
    }
    assert!(std::error::Error::source(&error).is_some());

    let mut wrong_type = direct_payment();
    wrong_type["amount"] = json!("100");
    let error = parse("TRANSACTION.SUCCESS", "transaction", &wrong_type).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode);
    assert!(error.to_string().contains("TransactionSuccess"), "{error}");

    for (event_type, plaintext) in [
        ("TRANSACTION.SUCCESS", &b"[]"[..]),
        ("TRANSACTION.SUCCESS", b"\"SUCCESS\""),
        ("COMPLAINT.CREATE", b"{}"),
        ("COMPLAINT.CREATE", b"<xml/>"),
        ("SOMETHING.NEW", b"not json"),
        ("MCHTRANSFER.BATCH.CLOSED", b""),
    ] {
        let error = Event::parse(event_type, "", plaintext).unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::Decode,
            "{event_type} {plaintext:?}"
        );
        assert!(error.to_string().contains(event_type), "{error}");
    }
}

#[test]
fn notification_event_decrypts_and_parses() -> wechatpay::Result<()> {
    let mock = MockServer::start()?;
    let client = mock.client_builder().build()?;
    let (headers, body) = mock.notification(
        "TRANSACTION.SUCCESS",
        "encrypt-resource",
        "transaction",
        &direct_payment(),
    )?;
    let notification = client.verify_notification(&headers, &body)?;
    match notification.event()? {
        Event::TransactionSuccess(tx) => {
            assert_eq!(tx.out_trade_no, "1217752501201407033233368018")
        }
        other => panic!("parsed as {other:?}"),
    }
    // `decrypt::<T>()` still works for anything else.
    assert_eq!(notification.decrypt::<Value>()?, direct_payment());

    // A wrong shape arrives as an error from `event()` too.
    let (headers, body) = mock.notification(
        "REFUND.SUCCESS",
        "encrypt-resource",
        "refund",
        &json!({"refund_id": 1}),
    )?;
    let error = client
        .verify_notification(&headers, &body)?
        .event()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Duplicates
// ---------------------------------------------------------------------------------------

const HOUR: u64 = 3600;

#[test]
fn dedupe_claim_complete_release() {
    let seen = MemoryDedupe::new();
    let t = 1_700_000_000;
    assert_eq!(block_on(seen.claim("EV-1", t)), Claim::New);
    // A retry while the first delivery is processed.
    assert_eq!(block_on(seen.claim("EV-1", t + 15)), Claim::InProgress);
    // The handler failed: the next retry is processed.
    block_on(seen.release("EV-1")).expect("in memory");
    assert_eq!(block_on(seen.claim("EV-1", t + 30)), Claim::New);
    block_on(seen.complete("EV-1", t + 31)).expect("in memory");
    assert_eq!(block_on(seen.claim("EV-1", t + 200)), Claim::Done);
    // Releasing a completed notification changes nothing.
    block_on(seen.release("EV-1")).expect("in memory");
    assert_eq!(block_on(seen.claim("EV-1", t + 300)), Claim::Done);
    // Another id is independent.
    assert_eq!(block_on(seen.claim("EV-2", t + 300)), Claim::New);
    assert_eq!(seen.len(), 2);
}

#[test]
fn dedupe_lease_lets_a_dead_claim_go() {
    let seen = MemoryDedupe::new().with_lease(Duration::from_secs(60));
    let t = 1_700_000_000;
    assert_eq!(block_on(seen.claim("EV-1", t)), Claim::New);
    assert_eq!(block_on(seen.claim("EV-1", t + 59)), Claim::InProgress);
    // The handler died without releasing: after the lease the retry takes over.
    assert_eq!(block_on(seen.claim("EV-1", t + 60)), Claim::New);
    assert_eq!(block_on(seen.claim("EV-1", t + 61)), Claim::InProgress);
}

#[test]
fn dedupe_window_forgets_old_ids() {
    let seen = MemoryDedupe::new();
    let t = 1_700_000_000;
    block_on(seen.complete("EV-1", t)).expect("in memory");
    // WeChat Pay's last retry comes about 24 hours later: still a duplicate.
    assert_eq!(
        block_on(seen.claim("EV-1", t + 24 * HOUR + 10 * 60)),
        Claim::Done
    );
    assert_eq!(block_on(seen.claim("EV-1", t + 25 * HOUR - 1)), Claim::Done);
    // Past the default 25 hours, forgotten (and the memory freed).
    assert_eq!(block_on(seen.claim("EV-2", t + 25 * HOUR)), Claim::New);
    assert_eq!(seen.len(), 1);
    assert_eq!(block_on(seen.claim("EV-1", t + 25 * HOUR)), Claim::New);

    let short = MemoryDedupe::new().with_window(Duration::from_secs(10));
    assert!(block_on(short.first_time("EV-3", t)));
    assert!(!block_on(short.first_time("EV-3", t + 9)));
    assert!(block_on(short.first_time("EV-3", t + 10)));
}

#[test]
fn dedupe_memory_is_bounded() {
    let seen = MemoryDedupe::new().with_capacity(100);
    let t = 1_700_000_000;
    for i in 0..10_000u64 {
        let id = format!("EV-{i}");
        assert_eq!(block_on(seen.claim(&id, t + i)), Claim::New);
        if i % 2 == 0 {
            block_on(seen.complete(&id, t + i)).expect("in memory");
        } else {
            block_on(seen.release(&id)).expect("in memory");
        }
        assert!(seen.len() <= 100, "{} ids kept", seen.len());
    }
    // The newest are remembered, the oldest forgotten early.
    assert_eq!(block_on(seen.claim("EV-9998", t + 10_000)), Claim::Done);
    assert_eq!(block_on(seen.claim("EV-0", t + 10_000)), Claim::New);
    // One id claimed and released again and again keeps one entry.
    let churn = MemoryDedupe::new();
    for i in 0..10_000 {
        assert_eq!(block_on(churn.claim("EV-1", t + i)), Claim::New);
        block_on(churn.release("EV-1")).expect("in memory");
    }
    assert!(churn.is_empty());
}

#[test]
fn dedupe_is_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<MemoryDedupe>();
    assert_send_sync::<Box<dyn Deduplicate>>();

    let seen: Arc<dyn Deduplicate> = Arc::new(MemoryDedupe::new());
    let t = 1_700_000_000;
    let winners: usize = (0..8)
        .map(|_| {
            let seen = Arc::clone(&seen);
            std::thread::spawn(move || {
                (0..100)
                    .filter(|i| block_on(seen.claim(&format!("EV-{i}"), t)) == Claim::New)
                    .count()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|thread| thread.join().expect("thread"))
        .sum();
    // Each of the 100 ids was claimed exactly once.
    assert_eq!(winners, 100);
}
