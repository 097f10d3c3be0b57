//! Platform keys that look after themselves: the certificate download and its checks,
//! automatic mode (one shared first download, refresh on an unknown serial, background
//! refresh), rotation, migration to the public key, forged downloads, and the key store.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use wechatpay::config::ApiV3Key;
use wechatpay::crypto::{PlatformKeys, aes_gcm_encrypt};
use wechatpay::keystore::{KeyStore, StoredCertificate, StoredSet};
use wechatpay::mock::{
    self, FORGED_CERTIFICATE_SERIAL, Forgery, MockServer, PLATFORM_CERTIFICATE_PEM,
    PLATFORM_CERTIFICATE_SERIAL, PLATFORM_KEY_ID, PLATFORM_ROTATED_CERTIFICATE_PEM,
    PLATFORM_ROTATED_CERTIFICATE_SERIAL, Reply, Signing,
};
use wechatpay::v3::certificates::verify_download;
use wechatpay::v3::sign::{response_message, sign_base64};
use wechatpay::{Client, ErrorKind, FileKeyStore, PrivateKey, Verification};

use crate::common::{PREPAID_PATH, TEMPLATE, prepaid_options};

const DOWNLOAD: &str = "/v3/certificates";
/// 2126-11-15T00:00:00Z: the first mock certificate has expired, the rotated one has not.
const BETWEEN_EXPIRIES: u64 = 4_950_374_400;

/// A mock of a merchant on platform certificates, answering the documented call with 204.
fn certificate_mock() -> MockServer {
    let mock = MockServer::start().expect("the mock starts");
    mock.sign_answers_with(Signing::Certificate);
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    mock
}

fn downloads(mock: &MockServer) -> usize {
    mock.requests()
        .iter()
        .filter(|request| request.path() == DOWNLOAD)
        .count()
}

fn ids(client: &Client) -> Vec<String> {
    client.platform_keys().ids().map(str::to_owned).collect()
}

fn apiv3_key() -> ApiV3Key {
    ApiV3Key::new(mock::APIV3_KEY).expect("the mock APIv3 key")
}

/// Waits (up to a generous 10 s) until `done` holds.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------------------
// Automatic mode: the first download, shared
// ---------------------------------------------------------------------------------------

#[test]
fn sixteen_concurrent_first_requests_share_one_download() {
    let mock = certificate_mock();
    // Slow the download down so that every first request arrives while it is in flight.
    let (_, listing) = mock.certificate_download().expect("a listing");
    mock.on(
        "GET",
        DOWNLOAD,
        Reply::status(200)
            .header("Content-Type", "application/json")
            .body(listing)
            .delay(Duration::from_millis(300)),
    );
    let client = mock.certificate_client_builder().build().expect("builds");
    assert!(client.platform_keys().is_empty(), "build() does no I/O");
    assert_eq!(client.wechatpay_serial(), "");

    let barrier = Arc::new(Barrier::new(16));
    let verified: Vec<String> = std::thread::scope(|scope| {
        let calls: Vec<_> = (0..16)
            .map(|_| {
                let (client, barrier) = (client.clone(), barrier.clone());
                scope.spawn(move || {
                    barrier.wait();
                    let response = client[TEMPLATE].post(prepaid_options()).expect("accepted");
                    response.verified_by().to_string()
                })
            })
            .collect();
        calls.into_iter().map(|call| call.join().unwrap()).collect()
    });

    assert_eq!(verified, vec![PLATFORM_CERTIFICATE_SERIAL; 16]);
    assert_eq!(downloads(&mock), 1, "exactly one download");
    let requests = mock.requests();
    let download = requests.iter().find(|r| r.path() == DOWNLOAD).unwrap();
    assert_eq!(download.verdict, Ok(()), "signed like any request");
    assert_eq!(download.target, "/v3/certificates?algorithm_type=RSA");
    assert_eq!(ids(&client), [PLATFORM_CERTIFICATE_SERIAL]);
    assert_eq!(client.wechatpay_serial(), PLATFORM_CERTIFICATE_SERIAL);
    let usage = client.key_usage();
    assert_eq!(usage.len(), 1);
    assert_eq!(
        (usage[0].id.as_str(), usage[0].responses),
        (PLATFORM_CERTIFICATE_SERIAL, 16)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_concurrent_async_first_requests_share_one_download() {
    let mock = certificate_mock();
    let client = mock.certificate_client_builder().build().expect("builds");
    let calls = (0..16).map(|_| client[TEMPLATE].post_async(prepaid_options()));
    for response in futures::future::join_all(calls).await {
        assert_eq!(
            response.expect("accepted").verified_by(),
            PLATFORM_CERTIFICATE_SERIAL
        );
    }
    assert_eq!(downloads(&mock), 1);
}

#[test]
fn encrypting_first_waits_for_the_download() {
    let mock = certificate_mock();
    let client = mock.certificate_client_builder().build().unwrap();
    let encrypted = client
        .encrypt("13800138000")
        .expect("downloads, then encrypts");
    let platform = PrivateKey::from_pem(mock::PLATFORM_KEY_PEM).unwrap();
    assert_eq!(platform.decrypt_oaep(&encrypted).unwrap(), b"13800138000");
    assert_eq!(downloads(&mock), 1);
    client[TEMPLATE]
        .post(prepaid_options())
        .expect("no second download");
    assert_eq!(downloads(&mock), 1);
}

#[test]
fn apiv2_calls_do_not_wait_for_the_download() {
    let mock = certificate_mock();
    mock.on(
        "POST",
        "/pay/orderquery",
        Reply::xml(
            200,
            json!({"return_code": "SUCCESS", "result_code": "SUCCESS"}),
        ),
    );
    let client = mock.certificate_client_builder().build().unwrap();
    client["v2/pay/orderquery"]
        .post(
            json!({"xml": {"mch_id": mock::MCHID, "out_trade_no": "1217752501201407033233368018"}}),
        )
        .expect("APIv2 needs no platform key");
    assert_eq!(downloads(&mock), 0);
}

#[test]
fn the_builder_checks_automatic_mode() {
    let mock = certificate_mock();
    let no_apiv3_key = Client::builder()
        .mchid(mock::MCHID)
        .serial(mock::MERCHANT_SERIAL)
        .private_key(mock::merchant_private_key())
        .auto_certificates();
    let error = no_apiv3_key.build().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(error.to_string().contains("apiv3_key"), "{error}");

    let zero = mock
        .certificate_client_builder()
        .certificate_refresh_interval(Duration::ZERO);
    assert_eq!(zero.build().unwrap_err().kind(), ErrorKind::Config);

    let store_without_auto = mock
        .client_builder()
        .key_store(FileKeyStore::new("/nonexistent"));
    let error = store_without_auto.build().unwrap_err();
    assert!(error.to_string().contains("auto_certificates"), "{error}");

    let error = Client::builder()
        .mchid(mock::MCHID)
        .serial(mock::MERCHANT_SERIAL)
        .private_key(mock::merchant_private_key())
        .build()
        .unwrap_err();
    assert!(
        error.to_string().contains(".auto_certificates()"),
        "{error}"
    );
}

#[test]
fn a_public_key_merchant_is_told_what_to_configure() {
    let mock = certificate_mock();
    mock.sign_answers_with(Signing::PublicKey);
    mock.on(
        "GET",
        DOWNLOAD,
        Reply::error(
            404,
            "RESOURCE_NOT_EXISTS",
            "无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥",
        ),
    );
    let client = mock.certificate_client_builder().build().unwrap();
    let error = client[TEMPLATE].post(prepaid_options()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Api);
    assert_eq!(error.code(), Some("RESOURCE_NOT_EXISTS"));
    assert!(error.to_string().contains("PUB_KEY_ID_"), "{error}");
    assert!(client.platform_keys().is_empty());

    // With its public key configured as well, the failed download is not fatal.
    let client = mock
        .certificate_client_builder()
        .platform_key(PLATFORM_KEY_ID, mock::platform_public_key())
        .build()
        .unwrap();
    let response = client[TEMPLATE].post(prepaid_options()).expect("accepted");
    assert_eq!(response.verified_by(), PLATFORM_KEY_ID);
    client[TEMPLATE].post(prepaid_options()).expect("accepted");
    assert_eq!(downloads(&mock), 2, "tried once per client");
}

// ---------------------------------------------------------------------------------------
// Rotation
// ---------------------------------------------------------------------------------------

#[test]
fn a_rotation_under_sixteen_requests_in_flight_fails_none() {
    let mock = certificate_mock();
    let client = mock.certificate_client_builder().build().unwrap();
    client[TEMPLATE].post(prepaid_options()).expect("seeds");
    assert_eq!(ids(&client), [PLATFORM_CERTIFICATE_SERIAL]);

    mock.on(
        "POST",
        PREPAID_PATH,
        Reply::status(204).delay(Duration::from_millis(400)),
    );
    let barrier = Arc::new(Barrier::new(17));
    let results: Vec<wechatpay::Result<String>> = std::thread::scope(|scope| {
        let calls: Vec<_> = (0..16)
            .map(|_| {
                let (client, barrier) = (client.clone(), barrier.clone());
                scope.spawn(move || {
                    barrier.wait();
                    client[TEMPLATE]
                        .post(prepaid_options())
                        .map(|response| response.verified_by().to_string())
                })
            })
            .collect();
        barrier.wait();
        std::thread::sleep(Duration::from_millis(100));
        // Every answer is signed after this, by a certificate the client has never seen.
        mock.rotate_platform_certificate();
        calls.into_iter().map(|call| call.join().unwrap()).collect()
    });

    let failures: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert!(
        results
            .iter()
            .all(|r| r.as_deref().ok() == Some(PLATFORM_ROTATED_CERTIFICATE_SERIAL))
    );
    assert_eq!(
        downloads(&mock),
        2,
        "the first download, then one shared refresh"
    );
    assert_eq!(
        ids(&client),
        [
            PLATFORM_CERTIFICATE_SERIAL,
            PLATFORM_ROTATED_CERTIFICATE_SERIAL
        ]
    );

    // The newest certificate now encrypts and is named in Wechatpay-Serial.
    assert_eq!(
        client.wechatpay_serial(),
        PLATFORM_ROTATED_CERTIFICATE_SERIAL
    );
    let encrypted = client.encrypt("张三").unwrap();
    let rotated = PrivateKey::from_pem(mock::PLATFORM_ROTATED_KEY_PEM).unwrap();
    assert_eq!(rotated.decrypt_oaep(&encrypted).unwrap(), "张三".as_bytes());
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    mock.take_requests();
    client[TEMPLATE].post(prepaid_options()).unwrap();
    assert_eq!(
        mock.requests()[0].header("Wechatpay-Serial"),
        Some(PLATFORM_ROTATED_CERTIFICATE_SERIAL)
    );

    // The old certificate leaves the listing: the next refresh drops it.
    mock.retire_old_platform_certificate();
    let refreshed = client.refresh_certificates().unwrap();
    assert_eq!(refreshed.len(), 1);
    assert_eq!(ids(&client), [PLATFORM_ROTATED_CERTIFICATE_SERIAL]);
}

#[test]
fn an_unknown_serial_refreshes_at_most_once_a_minute() {
    let mock = certificate_mock();
    let client = mock.certificate_client_builder().build().unwrap();
    client[TEMPLATE].post(prepaid_options()).expect("seeds");
    mock.on(
        "POST",
        PREPAID_PATH,
        Reply::status(204).fault(mock::Fault::UnknownSerial),
    );
    for _ in 0..3 {
        let error = client[TEMPLATE].post(prepaid_options()).unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::Verification(Verification::UnknownSerial)
        );
        assert!(error.to_string().contains("refreshed"), "{error}");
    }
    assert_eq!(downloads(&mock), 2, "the first download and one refresh");
}

#[test]
fn a_background_refresh_picks_up_a_rotation_and_ends_with_the_client() {
    let mock = certificate_mock();
    let client = mock
        .certificate_client_builder()
        .certificate_refresh_interval(Duration::from_millis(100))
        .build()
        .unwrap();
    client[TEMPLATE].post(prepaid_options()).expect("seeds");
    mock.rotate_platform_certificate();
    eventually("the background refresh finds the new certificate", || {
        client
            .platform_keys()
            .get(PLATFORM_ROTATED_CERTIFICATE_SERIAL)
            .is_some()
    });
    assert!(downloads(&mock) >= 2);

    let clone = client.clone();
    drop(client);
    eventually("refreshes continue while a clone lives", || {
        downloads(&mock) >= 4
    });
    drop(clone);
    std::thread::sleep(Duration::from_millis(300));
    let after_drop = downloads(&mock);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(
        downloads(&mock),
        after_drop,
        "no refresh after the last clone"
    );
}

#[test]
fn a_notification_from_an_unknown_certificate_starts_a_refresh() {
    let mock = certificate_mock();
    let client = mock.certificate_client_builder().build().unwrap();
    client[TEMPLATE].post(prepaid_options()).expect("seeds");
    mock.rotate_platform_certificate();
    let resource = json!({"out_trade_no": "1217752501201407033233368018"});
    let (headers, body) = mock
        .notification(
            "TRANSACTION.SUCCESS",
            "encrypt-resource",
            "transaction",
            &resource,
        )
        .unwrap();
    let error = client.verify_notification(&headers, &body).unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Verification(Verification::UnknownSerial)
    );
    eventually("the refresh started by the notification lands", || {
        client
            .platform_keys()
            .get(PLATFORM_ROTATED_CERTIFICATE_SERIAL)
            .is_some()
    });
    // WeChat Pay sends it again; now it verifies.
    let notification = client
        .verify_notification(&headers, &body)
        .expect("verifies");
    assert_eq!(
        notification.verified_by(),
        PLATFORM_ROTATED_CERTIFICATE_SERIAL
    );
    let usage = client.key_usage();
    let rotated = usage
        .iter()
        .find(|u| u.id == PLATFORM_ROTATED_CERTIFICATE_SERIAL)
        .unwrap();
    assert_eq!((rotated.responses, rotated.notifications), (0, 1));
}

#[test]
fn a_service_that_only_receives_notifications_gets_its_keys_too() {
    let mock = certificate_mock();
    let client = mock.certificate_client_builder().build().unwrap();
    let resource = json!({"out_trade_no": "1217752501201407033233368018"});
    let (headers, body) = mock
        .notification(
            "TRANSACTION.SUCCESS",
            "encrypt-resource",
            "transaction",
            &resource,
        )
        .unwrap();
    let error = client.verify_notification(&headers, &body).unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Verification(Verification::UnknownSerial)
    );
    eventually("the refresh started by the notification lands", || {
        !client.platform_keys().is_empty()
    });
    client
        .verify_notification(&headers, &body)
        .expect("verifies");
    client[TEMPLATE].post(prepaid_options()).expect("accepted");
    assert_eq!(downloads(&mock), 1, "that download counts as the first");
}

// ---------------------------------------------------------------------------------------
// Migration to the public key
// ---------------------------------------------------------------------------------------

#[test]
fn a_migration_from_certificate_to_public_key_is_accepted_and_counted() {
    let mock = certificate_mock();
    let client = mock
        .certificate_client_builder()
        .platform_key(PLATFORM_KEY_ID, mock::platform_public_key())
        .build()
        .unwrap();
    // Once configured, the public key is preferred: it encrypts, and every request names it.
    assert_eq!(client.wechatpay_serial(), PLATFORM_KEY_ID);

    // Before WeChat Pay switches this merchant: answers signed by the certificate.
    for _ in 0..3 {
        let response = client[TEMPLATE].post(prepaid_options()).expect("accepted");
        assert_eq!(response.verified_by(), PLATFORM_CERTIFICATE_SERIAL);
    }
    let before = client.key_usage();
    assert_eq!(before.len(), 1);
    assert_eq!(
        (before[0].id.as_str(), before[0].responses),
        (PLATFORM_CERTIFICATE_SERIAL, 3)
    );

    // Migrating: WeChat Pay signs with the key the request names, the public key.
    mock.sign_answers_with(Signing::Migrating);
    for _ in 0..5 {
        let response = client[TEMPLATE].post(prepaid_options()).expect("accepted");
        assert_eq!(response.verified_by(), PLATFORM_KEY_ID);
    }
    // A request may still ask for the certificate, and is still accepted.
    let asked = json!({
        "out_order_no": "1234323JKHDFE1243252",
        "json": {"service_id": "2002000000000558128851361561536"},
        "headers": {"Wechatpay-Serial": PLATFORM_CERTIFICATE_SERIAL},
    });
    let response = client[TEMPLATE].post(asked).expect("accepted");
    assert_eq!(response.verified_by(), PLATFORM_CERTIFICATE_SERIAL);
    let resource = json!({"out_trade_no": "1217752501201407033233368018"});
    let (headers, body) = mock
        .notification(
            "TRANSACTION.SUCCESS",
            "encrypt-resource",
            "transaction",
            &resource,
        )
        .unwrap();
    client
        .verify_notification(&headers, &body)
        .expect("verifies");

    let usage = client.key_usage();
    let of = |id: &str| usage.iter().find(|u| u.id == id).cloned().unwrap();
    assert_eq!(of(PLATFORM_CERTIFICATE_SERIAL).responses, 4);
    assert_eq!(of(PLATFORM_KEY_ID).responses, 5);
    assert_eq!(of(PLATFORM_KEY_ID).notifications, 1);
    assert_eq!(
        usage[0].id, PLATFORM_CERTIFICATE_SERIAL,
        "in the order of first use"
    );

    // "Stop the migration" reverts to certificates: still accepted.
    mock.sign_answers_with(Signing::Certificate);
    let response = client[TEMPLATE].post(prepaid_options()).expect("accepted");
    assert_eq!(response.verified_by(), PLATFORM_CERTIFICATE_SERIAL);
    assert_eq!(downloads(&mock), 1);
}

// ---------------------------------------------------------------------------------------
// Forged downloads
// ---------------------------------------------------------------------------------------

fn forged_kind(forgery: Forgery) -> ErrorKind {
    match forgery {
        Forgery::UnlistedSigner => ErrorKind::Verification(Verification::UnknownSerial),
        _ => ErrorKind::Crypto,
    }
}

const FORGERIES: [Forgery; 3] = [
    Forgery::WrongApiV3Key,
    Forgery::TamperedCiphertext,
    Forgery::UnlistedSigner,
];

#[test]
fn forged_downloads_are_errors_that_add_no_key() {
    for forgery in FORGERIES {
        let mock = certificate_mock();
        let client = mock.certificate_client_builder().build().unwrap();
        client[TEMPLATE].post(prepaid_options()).expect("seeds");
        mock.forge_certificate_downloads(Some(forgery));

        let error = client.download_certificates().unwrap_err();
        assert_eq!(error.kind(), forged_kind(forgery), "{forgery:?}: {error}");
        assert!(
            error.response().is_some(),
            "the forged answer is kept for inspection"
        );
        let error = client.refresh_certificates().unwrap_err();
        assert_eq!(error.kind(), forged_kind(forgery), "{forgery:?}: {error}");
        assert_eq!(ids(&client), [PLATFORM_CERTIFICATE_SERIAL], "{forgery:?}");

        // The forger's answers fail verification; its refresh adds nothing either.
        let error = client[TEMPLATE].post(prepaid_options()).unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::Verification(Verification::UnknownSerial),
            "{forgery:?}: {error}"
        );
        assert!(
            error.to_string().contains(FORGED_CERTIFICATE_SERIAL),
            "{error}"
        );
        assert_eq!(ids(&client), [PLATFORM_CERTIFICATE_SERIAL], "{forgery:?}");
        assert_eq!(
            downloads(&mock),
            4,
            "{forgery:?}: seed, two by hand, one refresh"
        );

        // A client that trusts nothing yet stays empty.
        let fresh = mock.certificate_client_builder().build().unwrap();
        let error = fresh[TEMPLATE].post(prepaid_options()).unwrap_err();
        assert_eq!(error.kind(), forged_kind(forgery), "{forgery:?}: {error}");
        assert!(fresh.platform_keys().is_empty());

        // Back to WeChat Pay: the same client recovers.
        mock.forge_certificate_downloads(None);
        assert_eq!(client.refresh_certificates().unwrap().len(), 1);
    }
}

#[test]
fn verify_download_checks_what_the_mock_serves() {
    let mock = certificate_mock();
    let now = wechatpay::toolkit::timestamp();
    let (headers, body) = mock.certificate_download().unwrap();
    let certificates = verify_download(&headers, &body, &apiv3_key(), &PlatformKeys::new(), now)
        .expect("a genuine download verifies by itself");
    assert_eq!(certificates.len(), 1);
    assert_eq!(certificates[0].serial(), PLATFORM_CERTIFICATE_SERIAL);
    assert_eq!(certificates[0].pem(), PLATFORM_CERTIFICATE_PEM);
    let debug = format!("{:?}", certificates[0]);
    assert!(debug.contains("2126-11-03T09:25:59Z"), "{debug}");

    let wrong_key = ApiV3Key::new("not-the-merchant-apiv3-key-00000").unwrap();
    let error =
        verify_download(&headers, &body, &wrong_key, &PlatformKeys::new(), now).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Crypto);
    assert!(error.to_string().contains("APIv3 key"), "{error}");

    for forgery in FORGERIES {
        mock.forge_certificate_downloads(Some(forgery));
        let (headers, body) = mock.certificate_download().unwrap();
        let error =
            verify_download(&headers, &body, &apiv3_key(), &PlatformKeys::new(), now).unwrap_err();
        assert_eq!(error.kind(), forged_kind(forgery), "{forgery:?}: {error}");
    }
}

/// A listing of `(serial_no, pem, effective_time, expire_time)`, encrypted under the mock
/// APIv3 key, signed at `timestamp` by `signer` under `serial`.
fn listing(
    entries: &[(&str, &str, &str, &str)],
    timestamp: u64,
    signer: (&str, &str),
) -> (HeaderMap, Bytes) {
    let data: Vec<Value> = entries
        .iter()
        .map(|(serial, pem, effective, expire)| {
            let ciphertext = aes_gcm_encrypt(
                mock::APIV3_KEY.as_bytes(),
                b"0123456789ab",
                b"certificate",
                pem.as_bytes(),
            )
            .unwrap();
            json!({
                "serial_no": serial, "effective_time": effective, "expire_time": expire,
                "encrypt_certificate": {
                    "algorithm": "AEAD_AES_256_GCM", "nonce": "0123456789ab",
                    "associated_data": "certificate", "ciphertext": ciphertext,
                },
            })
        })
        .collect();
    let body = Bytes::from(json!({ "data": data }).to_string());
    let (serial, key_pem) = signer;
    let key = PrivateKey::from_pem(key_pem).unwrap();
    let message = response_message(&timestamp.to_string(), "nonce", &body);
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("wechatpay-nonce", "nonce".to_owned()),
        ("wechatpay-serial", serial.to_owned()),
        ("wechatpay-signature", sign_base64(&key, &message).unwrap()),
        ("wechatpay-timestamp", timestamp.to_string()),
    ] {
        headers.insert(name, HeaderValue::from_str(&value).unwrap());
    }
    (headers, body)
}

const EFFECTIVE: &str = "2026-11-27T00:00:00+08:00";
const EXPIRE: &str = "2131-01-01T00:00:00+08:00";

#[test]
fn expired_certificates_are_dropped_and_inconsistent_ones_refused() {
    let key = apiv3_key();
    let a = (
        PLATFORM_CERTIFICATE_SERIAL,
        PLATFORM_CERTIFICATE_PEM,
        EFFECTIVE,
        EXPIRE,
    );
    let b = (
        PLATFORM_ROTATED_CERTIFICATE_SERIAL,
        PLATFORM_ROTATED_CERTIFICATE_PEM,
        EFFECTIVE,
        EXPIRE,
    );
    let rotated_signer = (
        PLATFORM_ROTATED_CERTIFICATE_SERIAL,
        mock::PLATFORM_ROTATED_KEY_PEM,
    );
    let original_signer = (PLATFORM_CERTIFICATE_SERIAL, mock::PLATFORM_KEY_PEM);

    // Between the two certificates' own expiries: the first is dropped, the second kept,
    // though the listing says both run to 2131.
    let (headers, body) = listing(&[a, b], BETWEEN_EXPIRIES, rotated_signer);
    let kept = verify_download(
        &headers,
        &body,
        &key,
        &PlatformKeys::new(),
        BETWEEN_EXPIRIES,
    )
    .unwrap();
    let serials: Vec<&str> = kept.iter().map(|c| c.serial()).collect();
    assert_eq!(serials, [PLATFORM_ROTATED_CERTIFICATE_SERIAL]);
    assert_eq!(
        kept[0].validity().not_after,
        4_951_756_800,
        "its own notAfter"
    );

    // Signed by the certificate that was dropped: not trusted.
    let (headers, body) = listing(&[a, b], BETWEEN_EXPIRIES, original_signer);
    let error = verify_download(
        &headers,
        &body,
        &key,
        &PlatformKeys::new(),
        BETWEEN_EXPIRIES,
    )
    .unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Verification(Verification::UnknownSerial)
    );

    // An expire_time earlier than the certificate's own notAfter wins.
    let now = wechatpay::toolkit::timestamp();
    let ended = (
        PLATFORM_CERTIFICATE_SERIAL,
        PLATFORM_CERTIFICATE_PEM,
        EFFECTIVE,
        "2026-11-27T00:00:01+08:00",
    );
    let mut trusted = PlatformKeys::new();
    trusted.insert(PLATFORM_KEY_ID, mock::platform_public_key());
    let (headers, body) = listing(&[ended], now, (PLATFORM_KEY_ID, mock::PLATFORM_KEY_PEM));
    let error = verify_download(&headers, &body, &key, &trusted, now).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Crypto);
    assert!(
        error
            .to_string()
            .contains("no platform certificate that is still valid"),
        "{error}"
    );

    // Listed under another serial.
    let mislabelled = (
        PLATFORM_ROTATED_CERTIFICATE_SERIAL,
        PLATFORM_CERTIFICATE_PEM,
        EFFECTIVE,
        EXPIRE,
    );
    let (headers, body) = listing(&[mislabelled], now, original_signer);
    let error = verify_download(&headers, &body, &key, &trusted, now).unwrap_err();
    assert!(error.to_string().contains("has the serial"), "{error}");

    // Times that are not RFC 3339, and a body that is not a listing.
    let bad_time = (
        PLATFORM_CERTIFICATE_SERIAL,
        PLATFORM_CERTIFICATE_PEM,
        "2026/11/27",
        EXPIRE,
    );
    let (headers, body) = listing(&[bad_time], now, original_signer);
    let error = verify_download(&headers, &body, &key, &trusted, now).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode);
    assert!(error.to_string().contains("effective_time"), "{error}");
    let error = verify_download(&headers, b"{\"code\":1}", &key, &trusted, now).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode);
}

// ---------------------------------------------------------------------------------------
// The key store
// ---------------------------------------------------------------------------------------

fn temporary_directory() -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "wechatpay-keystore-{}",
        wechatpay::toolkit::nonce(16).unwrap()
    ))
}

#[test]
fn a_file_key_store_shares_one_download_between_clients() {
    let mock = certificate_mock();
    let directory = temporary_directory();
    let client = |mock: &MockServer| {
        mock.certificate_client_builder()
            .key_store(FileKeyStore::new(&directory))
            .build()
            .unwrap()
    };

    let first = client(&mock);
    first[TEMPLATE].post(prepaid_options()).expect("downloads");
    let file = FileKeyStore::new(&directory).file();
    assert!(file.ends_with("wechatpay_certificates.json"));
    let saved: StoredSet = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(saved.certificates.len(), 1);
    assert_eq!(saved.certificates[0].pem, PLATFORM_CERTIFICATE_PEM);

    // A second process (or a restart) finds them: no download.
    let second = client(&mock);
    let response = second[TEMPLATE]
        .post(prepaid_options())
        .expect("from the store");
    assert_eq!(response.verified_by(), PLATFORM_CERTIFICATE_SERIAL);
    assert_eq!(downloads(&mock), 1);

    // A rotation seen by the first is found in the store by the second.
    mock.rotate_platform_certificate();
    first[TEMPLATE].post(prepaid_options()).expect("refreshes");
    assert_eq!(downloads(&mock), 2);
    let response = second[TEMPLATE]
        .post(prepaid_options())
        .expect("from the store");
    assert_eq!(response.verified_by(), PLATFORM_ROTATED_CERTIFICATE_SERIAL);
    assert_eq!(downloads(&mock), 2, "the second client did not download");

    std::fs::remove_dir_all(&directory).unwrap();
}

#[test]
fn a_broken_store_falls_back_to_downloading() {
    let mock = certificate_mock();
    let directory = temporary_directory();
    std::fs::create_dir_all(&directory).unwrap();
    let store = FileKeyStore::new(&directory);
    std::fs::write(store.file(), "not a certificate set").unwrap();
    std::fs::write(directory.join("unrelated.txt"), "ignored").unwrap();
    let client = mock
        .certificate_client_builder()
        .key_store(store.clone())
        .build()
        .unwrap();
    client[TEMPLATE].post(prepaid_options()).expect("downloads");
    assert_eq!(downloads(&mock), 1);
    let saved: StoredSet = serde_json::from_slice(&std::fs::read(store.file()).unwrap()).unwrap();
    assert_eq!(
        saved.certificates[0].pem, PLATFORM_CERTIFICATE_PEM,
        "rewritten"
    );
    std::fs::remove_dir_all(&directory).unwrap();
}

/// A store of the user's own, in memory.
#[derive(Clone, Default)]
struct Memory(Arc<std::sync::Mutex<Option<StoredSet>>>);

impl KeyStore for Memory {
    fn load(&self) -> BoxFuture<'static, wechatpay::Result<Option<StoredSet>>> {
        let kept = self.0.lock().unwrap().clone();
        Box::pin(async move { Ok(kept) })
    }

    fn save(&self, set: StoredSet) -> BoxFuture<'static, wechatpay::Result<()>> {
        *self.0.lock().unwrap() = Some(set);
        Box::pin(async { Ok(()) })
    }
}

#[test]
fn a_stale_store_is_used_while_wechat_pay_is_down_then_refreshed() {
    let mock = certificate_mock();
    let store = Memory::default();
    *store.0.lock().unwrap() = Some(StoredSet {
        downloaded_at_ms: 0,
        certificates: vec![StoredCertificate {
            serial: PLATFORM_CERTIFICATE_SERIAL.to_owned(),
            pem: PLATFORM_CERTIFICATE_PEM.to_owned(),
            not_before: 0,
            not_after: u64::MAX,
        }],
    });
    mock.on(
        "GET",
        DOWNLOAD,
        Reply::error(500, "SYSTEM_ERROR", "系统繁忙，请稍后重试"),
    );
    // One try per download, so that the count below is the number of downloads.
    let client = mock
        .certificate_client_builder()
        .key_store(store.clone())
        .retry_policy(wechatpay::resilience::RetryPolicy::none())
        .build()
        .unwrap();
    let response = client[TEMPLATE]
        .post(prepaid_options())
        .expect("the stale store serves");
    assert_eq!(response.verified_by(), PLATFORM_CERTIFICATE_SERIAL);
    assert_eq!(downloads(&mock), 1, "a stale store is refreshed first");
    assert_eq!(
        store.0.lock().unwrap().as_ref().unwrap().downloaded_at_ms,
        0,
        "nothing new to save"
    );

    mock.reset();
    let refreshed = client.refresh_certificates().expect("WeChat Pay is back");
    assert_eq!(refreshed.len(), 1);
    let saved = store.0.lock().unwrap().clone().unwrap();
    assert!(saved.downloaded_at_ms > 0);
    let saved = saved.certificates;
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].pem, PLATFORM_CERTIFICATE_PEM);
    assert_eq!(saved[0].not_after, 4_949_371_559, "the listed expire_time");
}
