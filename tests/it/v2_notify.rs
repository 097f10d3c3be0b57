//! APIv2 notifications from the mock: payment results signed with MD5 and HMAC-SHA256, refund
//! results with an encrypted `req_info`, their faults, and every APIv2 page of the webhooks
//! corpus (the file named by `WECHATPAY_WEBHOOKS`, by default
//! `../shared/corpus/webhooks.jsonl` next to this repository; prints
//! `v2 notifications: N signed (…), M with a req_info`).

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use http::header::CONTENT_TYPE;
use serde_json::{Map, Value, json};
use wechatpay::mock::{self, Fault, MockServer};
use wechatpay::toolkit::SignType;
use wechatpay::xml::XmlMap;
use wechatpay::{ErrorKind, Verification};

// ---------------------------------------------------------------------------------------
// APIv2 notifications from the mock
// ---------------------------------------------------------------------------------------

/// 普通支付通知, with the fields of the documented page.
fn v2_payment() -> Value {
    json!({
        "return_code": "SUCCESS", "result_code": "SUCCESS",
        "appid": "wx2421b1c4370ec43b", "mch_id": mock::MCHID, "device_info": "1000",
        "openid": "oUpF8uMEb4qRXf22hE3X68TekukE", "is_subscribe": "Y", "trade_type": "JSAPI",
        "bank_type": "CMC", "total_fee": 100, "fee_type": "CNY", "cash_fee": 100,
        "coupon_fee": 10, "coupon_count": 1, "coupon_type_0": "CASH", "coupon_id_0": "10000",
        "transaction_id": "1004400740201409030005092168", "out_trade_no": "1409811653",
        "attach": "支付测试 <&> \"附加\"", "time_end": "20140903131540",
    })
}

/// 退款结果通知's `req_info`, with the fields of the documented page.
fn v2_refund() -> Value {
    json!({
        "transaction_id": "4006252001201705123297353072", "out_trade_no": "1409811653",
        "refund_id": "50000408942018111907145868882", "out_refund_no": "1409811653-R1",
        "total_fee": 100, "settlement_total_fee": 100, "refund_fee": 100,
        "settlement_refund_fee": 100, "cash_refund_fee": 100, "refund_status": "SUCCESS",
        "success_time": "2018-11-19 16:24:13", "refund_recv_accout": "支付用户零钱",
        "refund_account": "REFUND_SOURCE_RECHARGE_FUNDS", "refund_request_source": "API",
    })
}

fn text_fields(object: &Value) -> Value {
    Value::Object(
        object
            .as_object()
            .unwrap()
            .iter()
            .map(|(key, value)| {
                let text = match value {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                (key.clone(), Value::String(text))
            })
            .collect(),
    )
}

#[test]
fn v2_payment_notifications_verify_under_md5_and_hmac_sha256() {
    let mock = MockServer::start().expect("the mock starts");
    let client = mock.client_builder().build().expect("a client");
    for sign_type in [SignType::Md5, SignType::HmacSha256] {
        let (headers, body) = mock.v2_notification(&v2_payment(), sign_type).unwrap();
        assert_eq!(headers.get(CONTENT_TYPE).unwrap(), "text/xml");
        let fields = client
            .verify_v2_notification(&body)
            .unwrap_or_else(|e| panic!("{sign_type:?}: {e}"));
        let mut expected = text_fields(&v2_payment());
        let json = fields.to_json();
        assert_eq!(
            json["sign"].as_str().map(str::len),
            Some(if sign_type == SignType::Md5 { 32 } else { 64 })
        );
        assert_eq!(json["nonce_str"].as_str().map(str::len), Some(32));
        for added in ["sign", "nonce_str", "sign_type"] {
            if let Some(value) = json.get(added) {
                expected[added] = value.clone();
            }
        }
        assert_eq!(json, expected, "{sign_type:?}");
        assert_eq!(
            fields.get_str("sign_type"),
            (sign_type == SignType::HmacSha256).then_some("HMAC-SHA256")
        );
        // The same check as a pure function with the key.
        assert!(wechatpay::v2::verify_notification(&body, &mock::apiv2_key()).is_ok());
    }

    // `mch_id` and `nonce_str` are filled in when absent; a given `sign_type` is kept right.
    let (_, body) = mock
        .v2_notification(
            &json!({"return_code": "SUCCESS", "sign_type": "HMAC-SHA256"}),
            SignType::Md5,
        )
        .unwrap();
    let fields = client.verify_v2_notification(&body).unwrap();
    assert_eq!(fields.get_str("mch_id"), Some(mock::MCHID));
    assert_eq!(fields.get_str("sign_type"), Some("MD5"));
    let (_, body) = mock
        .v2_notification(
            &json!({"combine_mch_id": "1900000100"}),
            SignType::HmacSha256,
        )
        .unwrap();
    let fields = client.verify_v2_notification(&body).unwrap();
    assert_eq!(fields.get("mch_id"), None);

    assert_eq!(
        mock.v2_notification(&json!(["not", "an", "object"]), SignType::Md5)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn faulty_v2_payment_notifications_fail() {
    let mock = MockServer::start().expect("the mock starts");
    let client = mock.client_builder().build().expect("a client");
    for sign_type in [SignType::Md5, SignType::HmacSha256] {
        for (fault, step) in [
            (Fault::BadSignature, Verification::Signature),
            (Fault::WrongKey, Verification::Signature),
            (Fault::Unsigned, Verification::MissingHeader),
        ] {
            let (_, body) = mock
                .v2_notification_with(&v2_payment(), sign_type, Some(fault))
                .unwrap();
            let error = client.verify_v2_notification(&body).unwrap_err();
            assert_eq!(
                error.kind(),
                ErrorKind::Verification(step),
                "{sign_type:?} {fault:?}: {error}"
            );
        }
        // A field changed after signing.
        let (_, body) = mock.v2_notification(&v2_payment(), sign_type).unwrap();
        let tampered = String::from_utf8(body.to_vec())
            .unwrap()
            .replace("<total_fee>100</total_fee>", "<total_fee>1</total_fee>");
        assert_ne!(tampered.as_bytes(), &body[..]);
        let error = client
            .verify_v2_notification(tampered.as_bytes())
            .unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::Verification(Verification::Signature)
        );
    }
    // Faults without meaning for APIv2 are ignored.
    let (_, body) = mock
        .v2_notification_with(&v2_payment(), SignType::Md5, Some(Fault::StaleTimestamp))
        .unwrap();
    assert!(client.verify_v2_notification(&body).is_ok());
}

fn req_info(body: &[u8]) -> String {
    let outer = wechatpay::xml::parse(body).expect("XML");
    outer.get_str("req_info").expect("a req_info").to_owned()
}

#[test]
fn v2_refund_req_info_round_trips() {
    let mock = MockServer::start().expect("the mock starts");
    let client = mock.client_builder().build().expect("a client");
    let (headers, body) = mock
        .v2_refund_notification(&json!({"appid": "wx2421b1c4370ec43b"}), &v2_refund())
        .unwrap();
    assert_eq!(headers.get(CONTENT_TYPE).unwrap(), "text/xml");
    let outer = wechatpay::xml::parse(&body).unwrap();
    assert_eq!(outer.get_str("return_code"), Some("SUCCESS"));
    assert_eq!(outer.get_str("appid"), Some("wx2421b1c4370ec43b"));
    assert_eq!(outer.get_str("mch_id"), Some(mock::MCHID));
    assert_eq!(outer.get_str("nonce_str").map(str::len), Some(32));
    assert_eq!(
        outer.get("sign"),
        None,
        "refund notifications are not signed"
    );
    // Refund notifications are not signed: a payment-notification check refuses them.
    assert_eq!(
        client.verify_v2_notification(&body).unwrap_err().kind(),
        ErrorKind::Verification(Verification::MissingHeader)
    );

    let refund = client.decrypt_v2_refund(&req_info(&body)).unwrap();
    assert_eq!(refund.to_json(), text_fields(&v2_refund()));
    // The pure function, and WeChat Pay's `<root>` element inside.
    let refund = wechatpay::v2::decrypt_refund(&req_info(&body), &mock::apiv2_key()).unwrap();
    assert_eq!(refund.get_str("refund_recv_accout"), Some("支付用户零钱"));
    let key = wechatpay::crypto::md5_hex(mock::SECRET.as_bytes());
    let plaintext = wechatpay::crypto::aes_ecb_decrypt(key.as_bytes(), &req_info(&body)).unwrap();
    assert!(plaintext.starts_with(b"<root>") && plaintext.ends_with(b"</root>"));
}

#[test]
fn faulty_v2_refund_notifications_fail() {
    let mock = MockServer::start().expect("the mock starts");
    let client = mock.client_builder().build().expect("a client");
    for fault in [Fault::WrongKey, Fault::TamperedCiphertext] {
        let (_, body) = mock
            .v2_refund_notification_with(&json!({}), &v2_refund(), Some(fault))
            .unwrap();
        let error = client.decrypt_v2_refund(&req_info(&body)).unwrap_err();
        // A wrong key or altered block shows as bad padding; by chance (1 in 256 for a
        // given input) the padding holds and the plaintext is not XML.
        assert!(
            matches!(error.kind(), ErrorKind::Crypto | ErrorKind::Decode),
            "{fault:?}: {error}"
        );
    }
    // The tampered ciphertext is the right one with one byte changed.
    let (_, good) = mock
        .v2_refund_notification(&json!({}), &v2_refund())
        .unwrap();
    let (_, bad) = mock
        .v2_refund_notification_with(&json!({}), &v2_refund(), Some(Fault::TamperedCiphertext))
        .unwrap();
    let (good, bad) = (req_info(&good), req_info(&bad));
    assert_eq!(good.len(), bad.len());
    assert_ne!(good, bad);
    // Signature faults mean nothing for an unsigned notification.
    let (_, body) = mock
        .v2_refund_notification_with(&json!({}), &v2_refund(), Some(Fault::BadSignature))
        .unwrap();
    assert!(client.decrypt_v2_refund(&req_info(&body)).is_ok());
}

// ---------------------------------------------------------------------------------------
// Every APIv2 page of the webhooks corpus
// ---------------------------------------------------------------------------------------

/// The value of a documented field: its first enum value, a number, or a text naming it.
fn sample_value(row: &Value) -> Value {
    if let Some(first) = row["enum"].as_array().and_then(|values| values.first()) {
        return first.clone();
    }
    match row["type"].as_str().unwrap_or("string") {
        "number" | "integer" => json!(100),
        _ => json!(format!("{}-示例", row["name"].as_str().unwrap_or("field"))),
    }
}

/// The fields of `rows`, each row's children (the deeper rows after it) nested as an object
/// (a list of one for `object[]`), except for `opaque` rows (ciphertexts), which stay text.
fn sample_object(rows: &[Value], opaque: &HashSet<&str>) -> Map<String, Value> {
    let indent = |row: &Value| row["indent"].as_u64().unwrap_or(1);
    let mut object = Map::new();
    let mut index = 0;
    while index < rows.len() {
        let row = &rows[index];
        let end = rows[index + 1..]
            .iter()
            .position(|next| indent(next) <= indent(row))
            .map_or(rows.len(), |offset| index + 1 + offset);
        let name = row["name"].as_str().unwrap_or("field");
        let children = &rows[index + 1..end];
        let value = if children.is_empty() || opaque.contains(name) {
            sample_value(row)
        } else {
            let nested = Value::Object(sample_object(children, opaque));
            if row["type"].as_str().unwrap_or("").ends_with("[]") {
                json!([nested])
            } else {
                nested
            }
        };
        // `coupon_type_$n`: the n-th coupon, from 0.
        object.insert(name.replace("$n", "0"), value);
        index = end;
    }
    object
}

fn field_rows(rows: &Value) -> Vec<Value> {
    rows.as_array()
        .map(|rows| {
            rows.iter()
                .filter(|row| row["kind"] == "field" && row["name"].is_string())
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_documented_v2_notification_round_trips() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/webhooks.jsonl");
    let path = std::env::var_os("WECHATPAY_WEBHOOKS").map_or(path, Into::into);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if std::env::var_os("CI").is_none() => {
            let _ = writeln!(
                std::io::stderr(),
                "v2 notifications: no webhooks corpus at {} ({e})",
                path.display()
            );
            return;
        }
        Err(e) => panic!("cannot read the webhooks corpus {}: {e}", path.display()),
    };
    let mock = MockServer::start().expect("the mock starts");
    let client = mock.client_builder().build().expect("a client");
    let (mut signed, mut refunds) = (0, 0);
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let page: Value = serde_json::from_str(line).expect("JSON");
        if page["api"] != "v2" {
            continue;
        }
        let name = page["page"].as_str().unwrap_or("?");
        let rows = field_rows(&page["body"]);
        let opaque: HashSet<&str> = page["encrypted_fields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|field| field["name"].as_str())
            .collect();
        if opaque.contains("req_info") {
            // The outer fields are those before `req_info`'s children; the rest is inside.
            let inner: Vec<Value> = field_rows(&page["decrypted_resource"]);
            let inner_names: HashSet<&str> = inner
                .iter()
                .filter_map(|row| row["name"].as_str())
                .collect();
            let outer: Vec<Value> = rows
                .iter()
                .filter(|row| {
                    row["name"] != "req_info"
                        && !inner_names.contains(row["name"].as_str().unwrap_or(""))
                })
                .cloned()
                .collect();
            let refund = Value::Object(sample_object(&inner, &opaque));
            let (_, body) = mock
                .v2_refund_notification(&Value::Object(sample_object(&outer, &opaque)), &refund)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let decrypted = client
                .decrypt_v2_refund(&req_info(&body))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(decrypted.to_json(), text_fields(&refund), "{name}");
            refunds += 1;
            continue;
        }
        let mut fields = sample_object(&rows, &opaque);
        fields.remove("sign");
        fields.remove("sign_type");
        for sign_type in [SignType::Md5, SignType::HmacSha256] {
            let (_, body) = mock
                .v2_notification(&Value::Object(fields.clone()), sign_type)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let verified: XmlMap = client
                .verify_v2_notification(&body)
                .unwrap_or_else(|e| panic!("{name} {sign_type:?}: {e}"));
            for (key, value) in &fields {
                let expected = match value {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                assert_eq!(
                    verified.get_str(key),
                    Some(expected.as_str()),
                    "{name}: {key}"
                );
            }
        }
        signed += 1;
    }
    let _ = writeln!(
        std::io::stderr(),
        "v2 notifications: {signed} signed (MD5 and HMAC-SHA256), {refunds} with a req_info"
    );
    assert!(
        signed >= 9 && refunds >= 1,
        "{signed} signed, {refunds} refunds"
    );
}
