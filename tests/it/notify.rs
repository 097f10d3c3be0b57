//! APIv3 notifications: a callback made by the mock verifies and decrypts; every failed step
//! has its own error kind.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use wechatpay::callback::Reply;
use wechatpay::config::ApiV3Key;
use wechatpay::crypto::PlatformKeys;
use wechatpay::mock::{self, Fault, MockServer};
use wechatpay::toolkit as sign;
use wechatpay::v3::notify::verify_notification;
use wechatpay::{Certificate, Client, ErrorKind, PrivateKey, PublicKey, Verification, crypto};

#[derive(Debug, Deserialize, PartialEq)]
struct Amount {
    total: u64,
    currency: String,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Transaction {
    mchid: String,
    out_trade_no: String,
    transaction_id: String,
    trade_state: String,
    amount: Amount,
}

fn transaction() -> Value {
    json!({
        "mchid": mock::MCHID,
        "appid": "wxd678efh567hg6787",
        "out_trade_no": "1217752501201407033233368018",
        "transaction_id": "1217752501201407033233368018",
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "success_time": "2018-06-08T10:34:56+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY"},
    })
}

fn paid(mock: &MockServer, fault: Option<Fault>) -> (HeaderMap, Bytes) {
    mock.notification_with(
        "TRANSACTION.SUCCESS",
        "encrypt-resource",
        "transaction",
        &transaction(),
        fault,
    )
    .expect("the mock makes notifications")
}

/// Headers signing `body` at `timestamp` with the mock platform key under `serial`.
fn signed_headers(body: &[u8], timestamp: u64, serial: &str) -> HeaderMap {
    let key = PrivateKey::from_pem(mock::PLATFORM_KEY_PEM).expect("mock platform key");
    let timestamp = timestamp.to_string();
    let nonce = "593BEC0C930BF1AFEB40B4A08C8FB242";
    let signature = key
        .sign(&wechatpay::v3::sign::response_message(
            &timestamp, nonce, body,
        ))
        .expect("sign");
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("wechatpay-nonce", nonce.to_owned()),
        ("wechatpay-serial", serial.to_owned()),
        ("wechatpay-signature", STANDARD.encode(signature)),
        ("wechatpay-timestamp", timestamp),
    ] {
        headers.insert(name, HeaderValue::from_str(&value).expect("header value"));
    }
    headers
}

fn mock_keys() -> PlatformKeys {
    let mut keys = PlatformKeys::new();
    keys.insert(mock::PLATFORM_KEY_ID, mock::platform_public_key());
    keys
}

/// An envelope whose resource is `plaintext` encrypted with `key`.
fn envelope(key: &str, algorithm: &str, nonce: &str, plaintext: &[u8]) -> Vec<u8> {
    let ciphertext =
        crypto::aes_gcm_encrypt(key.as_bytes(), nonce.as_bytes(), b"transaction", plaintext)
            .expect("encrypt");
    json!({
        "id": "EV-2018022511223320873",
        "create_time": "2015-05-20T13:29:35+08:00",
        "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS",
        "summary": "支付成功",
        "resource": {
            "original_type": "transaction",
            "algorithm": algorithm,
            "ciphertext": ciphertext,
            "associated_data": "transaction",
            "nonce": nonce,
        },
    })
    .to_string()
    .into_bytes()
}

#[test]
fn a_mock_callback_verifies_and_decrypts() -> wechatpay::Result<()> {
    let mock = MockServer::start()?;
    let client = mock.client_builder().build()?;
    let (headers, body) = paid(&mock, None);

    let notification = client.verify_notification(&headers, &body)?;
    assert!(notification.id().starts_with("EV-"));
    assert_eq!(notification.event_type(), "TRANSACTION.SUCCESS");
    assert_eq!(notification.resource_type(), "encrypt-resource");
    assert_eq!(notification.summary(), "支付成功");
    assert!(notification.create_time().ends_with("+08:00"));
    assert_eq!(notification.verified_by(), mock::PLATFORM_KEY_ID);
    assert_eq!(notification.body(), &body);
    let resource = notification.resource();
    assert_eq!(resource.algorithm(), "AEAD_AES_256_GCM");
    assert_eq!(resource.original_type(), "transaction");
    assert_eq!(resource.associated_data(), "transaction");
    assert_eq!(resource.nonce().len(), 12);
    assert!(!resource.ciphertext().is_empty());

    let paid: Transaction = notification.decrypt()?;
    assert_eq!(
        paid,
        Transaction {
            mchid: mock::MCHID.to_owned(),
            out_trade_no: "1217752501201407033233368018".to_owned(),
            transaction_id: "1217752501201407033233368018".to_owned(),
            trade_state: "SUCCESS".to_owned(),
            amount: Amount {
                total: 100,
                currency: "CNY".to_owned()
            },
        }
    );
    let raw: Value = serde_json::from_slice(&notification.decrypt_raw()?).expect("JSON");
    assert_eq!(raw, transaction());
    Ok(())
}

#[test]
fn a_notification_never_prints_the_apiv3_key() -> wechatpay::Result<()> {
    let mock = MockServer::start()?;
    let client = mock.client_builder().build()?;
    let (headers, body) = paid(&mock, None);
    let notification = client.verify_notification(&headers, &body)?;
    let debug = format!("{notification:?}");
    assert!(!debug.contains(mock::APIV3_KEY), "{debug}");
    assert!(debug.contains("TRANSACTION.SUCCESS"), "{debug}");
    Ok(())
}

fn verification_failure(headers: &HeaderMap, body: &[u8]) -> Verification {
    let mock = MockServer::start().expect("mock");
    let client = mock.client_builder().build().expect("client");
    match client.verify_notification(headers, body) {
        Ok(notification) => panic!("accepted {notification:?}"),
        Err(error) => match error.kind() {
            ErrorKind::Verification(step) => {
                assert!(
                    error.to_string().contains("notification")
                        || step == Verification::Signature
                        || step == Verification::Probe,
                    "{error}"
                );
                step
            }
            other => panic!("{other:?}: {error}"),
        },
    }
}

#[test]
fn a_tampered_body_fails_the_signature() -> wechatpay::Result<()> {
    let mock = MockServer::start()?;
    let (headers, body) = paid(&mock, None);
    let tampered = String::from_utf8(body.to_vec())
        .expect("UTF-8")
        .replace("TRANSACTION.SUCCESS", "TRANSACTION.SUCCESs");
    assert_ne!(tampered.as_bytes(), &body[..]);
    assert_eq!(
        verification_failure(&headers, tampered.as_bytes()),
        Verification::Signature
    );
    // The body re-serialised (key order, spacing) is not the body that was signed.
    let reserialised =
        serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(&body).expect("JSON"))
            .expect("JSON");
    assert_eq!(
        verification_failure(&headers, &reserialised),
        Verification::Signature
    );

    let (headers, body) = paid(&mock, Some(Fault::BadSignature));
    assert_eq!(
        verification_failure(&headers, &body),
        Verification::Signature
    );
    Ok(())
}

#[test]
fn a_stale_timestamp_fails() -> wechatpay::Result<()> {
    let mock = MockServer::start()?;
    let (headers, body) = paid(&mock, Some(Fault::StaleTimestamp));
    assert_eq!(
        verification_failure(&headers, &body),
        Verification::Timestamp
    );
    Ok(())
}

#[test]
fn an_unknown_serial_fails() -> wechatpay::Result<()> {
    let mock = MockServer::start()?;
    let (headers, body) = paid(&mock, Some(Fault::UnknownSerial));
    assert_eq!(
        verification_failure(&headers, &body),
        Verification::UnknownSerial
    );
    Ok(())
}

#[test]
fn a_signtest_probe_fails() -> wechatpay::Result<()> {
    let mock = MockServer::start()?;
    let (headers, body) = paid(&mock, Some(Fault::Probe));
    let signature = headers["wechatpay-signature"].to_str().expect("ASCII");
    assert!(signature.starts_with("WECHATPAY/SIGNTEST/"));
    assert_eq!(verification_failure(&headers, &body), Verification::Probe);
    Ok(())
}

#[test]
fn missing_headers_fail() -> wechatpay::Result<()> {
    let mock = MockServer::start()?;
    let (headers, body) = paid(&mock, Some(Fault::Unsigned));
    assert_eq!(
        verification_failure(&headers, &body),
        Verification::MissingHeader
    );
    let (mut headers, body) = paid(&mock, None);
    headers.remove("wechatpay-nonce");
    assert_eq!(
        verification_failure(&headers, &body),
        Verification::MissingHeader
    );
    Ok(())
}

#[test]
fn a_wrong_apiv3_key_fails_decryption_not_verification() -> wechatpay::Result<()> {
    let mock = MockServer::start()?;
    let client = mock
        .client_builder()
        .apiv3_key("another-apiv3-key-0123456789abcd")
        .build()?;
    let (headers, body) = paid(&mock, None);
    let notification = client.verify_notification(&headers, &body)?;
    let error = notification.decrypt::<Value>().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Crypto);
    assert!(error.to_string().contains("APIv3 key"), "{error}");
    assert!(std::error::Error::source(&error).is_some());
    Ok(())
}

#[test]
fn no_apiv3_key_is_a_config_error() -> wechatpay::Result<()> {
    let mock = MockServer::start()?;
    let client = Client::builder()
        .mchid(mock::MCHID)
        .serial(mock::MERCHANT_SERIAL)
        .private_key(mock::merchant_private_key())
        .platform_key(mock::PLATFORM_KEY_ID, mock::platform_public_key())
        .base_uri(&mock.uri())
        .build()?;
    let (headers, body) = paid(&mock, None);
    // Verification needs no APIv3 key; decryption does.
    let notification = client.verify_notification(&headers, &body)?;
    let error = notification.decrypt_raw().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(
        error.to_string().contains("ClientBuilder::apiv3_key"),
        "{error}"
    );
    Ok(())
}

#[test]
fn the_pure_function_checks_the_clock_to_the_second() -> wechatpay::Result<()> {
    let now = 1_554_209_980;
    let body = envelope(mock::APIV3_KEY, "AEAD_AES_256_GCM", "0123456789ab", b"{}");
    let headers = signed_headers(&body, now, mock::PLATFORM_KEY_ID);
    let keys = mock_keys();
    for at in [now - 300, now, now + 300] {
        let notification = verify_notification(&headers, &body, at, &keys, None)?;
        assert_eq!(notification.id(), "EV-2018022511223320873");
        assert_eq!(notification.create_time(), "2015-05-20T13:29:35+08:00");
    }
    for at in [now - 301, now + 301, 0] {
        let error = verify_notification(&headers, &body, at, &keys, None).unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::Verification(Verification::Timestamp)
        );
        assert!(error.to_string().contains("notification"), "{error}");
    }
    let apiv3_key = ApiV3Key::new(mock::APIV3_KEY)?;
    let notification = verify_notification(&headers, &body, now, &keys, Some(&apiv3_key))?;
    assert_eq!(notification.decrypt::<Value>()?, json!({}));
    Ok(())
}

#[test]
fn a_platform_certificate_verifies_too() -> wechatpay::Result<()> {
    let now = sign::timestamp();
    let body = envelope(
        mock::APIV3_KEY,
        "AEAD_AES_256_GCM",
        "abcdefghijkl",
        br#"{"out_trade_no":"1"}"#,
    );
    let headers = signed_headers(&body, now, mock::PLATFORM_CERTIFICATE_SERIAL);
    let mock = MockServer::start()?;
    let client = Client::builder()
        .mchid(mock::MCHID)
        .serial(mock::MERCHANT_SERIAL)
        .private_key(mock::merchant_private_key())
        .platform_key(mock::PLATFORM_KEY_ID, mock::platform_public_key())
        .platform_certificate(Certificate::from_pem(mock::PLATFORM_CERTIFICATE_PEM)?)
        .apiv3_key(mock::APIV3_KEY)
        .base_uri(&mock.uri())
        .build()?;
    let notification = client.verify_notification(&headers, &body)?;
    assert_eq!(
        notification.verified_by(),
        mock::PLATFORM_CERTIFICATE_SERIAL
    );
    assert_eq!(
        notification.decrypt::<Value>()?,
        json!({"out_trade_no": "1"})
    );
    Ok(())
}

#[test]
fn a_signed_but_malformed_body_is_a_decode_error() -> wechatpay::Result<()> {
    let now = 1_554_209_980;
    let keys = mock_keys();
    for body in [
        &b"<xml>not json</xml>"[..],
        b"{}",
        br#"{"id":"EV-1","event_type":"TRANSACTION.SUCCESS"}"#,
        b"",
    ] {
        let headers = signed_headers(body, now, mock::PLATFORM_KEY_ID);
        let error = verify_notification(&headers, body, now, &keys, None).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Decode, "{body:?}");
    }
    Ok(())
}

#[test]
fn a_malformed_resource_is_a_decode_error() -> wechatpay::Result<()> {
    let now = 1_554_209_980;
    let keys = mock_keys();
    let apiv3_key = ApiV3Key::new(mock::APIV3_KEY)?;
    let key = Some(&apiv3_key);

    let sm4 = envelope(mock::APIV3_KEY, "AEAD_SM4_GCM", "0123456789ab", b"{}");
    let headers = signed_headers(&sm4, now, mock::PLATFORM_KEY_ID);
    let error = verify_notification(&headers, &sm4, now, &keys, key)?
        .decrypt_raw()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode);
    assert!(error.to_string().contains("AEAD_SM4_GCM"), "{error}");

    let long_nonce = envelope(
        mock::APIV3_KEY,
        "AEAD_AES_256_GCM",
        "0123456789abcdef",
        b"{}",
    );
    let headers = signed_headers(&long_nonce, now, mock::PLATFORM_KEY_ID);
    let error = verify_notification(&headers, &long_nonce, now, &keys, key)?
        .decrypt_raw()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode);

    let not_json = envelope(
        mock::APIV3_KEY,
        "AEAD_AES_256_GCM",
        "0123456789ab",
        b"<xml/>",
    );
    let headers = signed_headers(&not_json, now, mock::PLATFORM_KEY_ID);
    let notification = verify_notification(&headers, &not_json, now, &keys, key)?;
    assert_eq!(*notification.decrypt_raw()?, b"<xml/>");
    let error = notification.decrypt::<Value>().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode);
    Ok(())
}

#[test]
fn a_wrong_key_given_to_the_pure_function() -> wechatpay::Result<()> {
    let now = 1_554_209_980;
    let keys = mock_keys();
    let body = envelope(mock::APIV3_KEY, "AEAD_AES_256_GCM", "0123456789ab", b"{}");
    let headers = signed_headers(&body, now, mock::PLATFORM_KEY_ID);
    let error = ApiV3Key::new("short").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    let wrong_key = ApiV3Key::new("0123456789abcdef0123456789abcdef")?;
    let error = verify_notification(&headers, &body, now, &keys, Some(&wrong_key))?
        .decrypt_raw()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Crypto);
    // Another public key under the right id fails the signature.
    let mut wrong = PlatformKeys::new();
    wrong.insert(
        mock::PLATFORM_KEY_ID,
        PublicKey::from_pem(mock::MERCHANT_PUBLIC_KEY_PEM)?,
    );
    let error = verify_notification(&headers, &body, now, &wrong, None).unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Verification(Verification::Signature)
    );
    Ok(())
}

#[test]
fn replies_for_wechat_pay() {
    let success = Reply::success();
    let status = success.status();
    assert!(status == StatusCode::OK || status == StatusCode::NO_CONTENT);
    assert!(success.body().is_empty());
    let failure = Reply::failure("验签失败");
    assert!(failure.status().is_client_error() || failure.status().is_server_error());
    assert_eq!(
        serde_json::from_slice::<Value>(failure.body()).expect("JSON"),
        json!({"code": "FAIL", "message": "验签失败"})
    );
}
