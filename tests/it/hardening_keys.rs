//! Hardening, round two: platform keys. A certificate WeChat Pay withdrew stays withdrawn
//! (the key store keeps complete sets, and an older set never replaces a newer one), a key
//! outside its validity verifies nothing, a certificate download is sealed exactly as WeChat
//! Pay seals it, and a failed notification learns nothing from the answer. Each test failed
//! before the fix it guards.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use wechatpay::config::ApiV3Key;
use wechatpay::crypto::aes_gcm_encrypt;
use wechatpay::keystore::{KeyStore, StoredCertificate, StoredSet};
use wechatpay::mock::{
    self, MockServer, PLATFORM_CERTIFICATE_PEM, PLATFORM_CERTIFICATE_SERIAL,
    PLATFORM_ROTATED_CERTIFICATE_SERIAL, Reply, Signing,
};
use wechatpay::v3::certificates::{platform_keys, verify_download};
use wechatpay::v3::sign::{response_message, sign_base64};
use wechatpay::v3::verify::verify_signed;
use wechatpay::{Certificate, Client, ErrorKind, FileKeyStore, PrivateKey, Verification};

use crate::common::{PREPAID_PATH, TEMPLATE, prepaid_options};

const DOWNLOAD: &str = "/v3/certificates";

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

fn now_ms() -> u64 {
    wechatpay::toolkit::timestamp() * 1000
}

/// Headers signing `body` now with the private key `key_pem`, under `serial`.
fn signed_by(key_pem: &str, serial: &str, body: &[u8]) -> HeaderMap {
    let timestamp = wechatpay::toolkit::timestamp().to_string();
    let nonce = wechatpay::toolkit::nonce(32).unwrap();
    let key = PrivateKey::from_pem(key_pem).unwrap();
    let signature = sign_base64(&key, &response_message(&timestamp, &nonce, body)).unwrap();
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("wechatpay-nonce", nonce),
        ("wechatpay-serial", serial.to_owned()),
        ("wechatpay-signature", signature),
        ("wechatpay-timestamp", timestamp),
    ] {
        headers.insert(name, HeaderValue::from_str(&value).unwrap());
    }
    headers
}

/// A payment notification as one who holds the first (withdrawn) certificate's key could
/// send it: a genuine body, signed with that key and naming its serial.
fn signed_by_the_withdrawn_key(mock: &MockServer) -> (HeaderMap, Bytes) {
    let (_, body) = mock
        .notification(
            "TRANSACTION.SUCCESS",
            "encrypt-resource",
            "transaction",
            &json!({"out_trade_no": "WITHDRAWN", "trade_state": "SUCCESS"}),
        )
        .unwrap();
    let headers = signed_by(mock::PLATFORM_KEY_PEM, PLATFORM_CERTIFICATE_SERIAL, &body);
    (headers, body)
}

fn temporary_directory() -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "wechatpay-hardening-keys-{}",
        wechatpay::toolkit::nonce(16).unwrap()
    ))
}

/// A store of the test's own, in memory.
#[derive(Clone, Default)]
struct Memory(Arc<Mutex<Option<StoredSet>>>);

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
fn a_withdrawn_platform_certificate_does_not_come_back() {
    let mock = certificate_mock();
    let directory = temporary_directory();
    let client = |mock: &MockServer| {
        mock.certificate_client_builder()
            .key_store(FileKeyStore::new(&directory))
            .build()
            .unwrap()
    };
    // A rotation: both certificates listed, then the first withdrawn.
    mock.rotate_platform_certificate();
    let first = client(&mock);
    first[TEMPLATE].post(prepaid_options()).expect("downloads");
    assert_eq!(
        ids(&first),
        [
            PLATFORM_CERTIFICATE_SERIAL,
            PLATFORM_ROTATED_CERTIFICATE_SERIAL
        ]
    );
    mock.retire_old_platform_certificate();
    first.refresh_certificates().expect("refreshes");
    assert_eq!(ids(&first), [PLATFORM_ROTATED_CERTIFICATE_SERIAL]);

    // The store holds that complete set, with the listed validity, and nothing else.
    let saved: StoredSet =
        serde_json::from_slice(&std::fs::read(FileKeyStore::new(&directory).file()).unwrap())
            .unwrap();
    let serials: Vec<&str> = saved
        .certificates
        .iter()
        .map(|c| c.serial.as_str())
        .collect();
    assert_eq!(serials, [PLATFORM_ROTATED_CERTIFICATE_SERIAL]);
    assert_eq!(
        saved.certificates[0].not_after, 4_951_756_800,
        "expire_time"
    );
    assert!(saved.downloaded_at_ms > 0);

    // A second client trusts what the store holds: not the withdrawn certificate.
    let downloaded = downloads(&mock);
    let second = client(&mock);
    second[TEMPLATE]
        .post(prepaid_options())
        .expect("from the store");
    assert_eq!(downloads(&mock), downloaded, "no download");
    assert_eq!(ids(&second), [PLATFORM_ROTATED_CERTIFICATE_SERIAL]);
    let (headers, body) = signed_by_the_withdrawn_key(&mock);
    let error = second.verify_notification(&headers, &body).unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Verification(Verification::UnknownSerial),
        "{error}"
    );

    // It made the second client ask WeChat Pay (its store is not newer than what it holds).
    eventually("the second client's refresh", || {
        downloads(&mock) == downloaded + 1
    });

    // To the first client, the notification naming the withdrawn serial makes a download
    // (not a reload of the store), which does not list it: refused again after.
    let error = first.verify_notification(&headers, &body).unwrap_err();
    assert!(error.is_verification(), "{error}");
    eventually("the refresh the notification started", || {
        downloads(&mock) == downloaded + 2
    });
    let error = first.verify_notification(&headers, &body).unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Verification(Verification::UnknownSerial),
        "{error}"
    );
    assert_eq!(ids(&first), [PLATFORM_ROTATED_CERTIFICATE_SERIAL]);
    std::fs::remove_dir_all(&directory).unwrap();
}

#[test]
fn a_withdrawn_platform_certificate_does_not_come_back_from_an_older_store() {
    let mock = certificate_mock();
    mock.rotate_platform_certificate();
    mock.retire_old_platform_certificate();
    let store = Memory::default();
    let client = mock
        .certificate_client_builder()
        .key_store(store.clone())
        .build()
        .unwrap();
    client[TEMPLATE].post(prepaid_options()).expect("downloads");
    assert_eq!(downloads(&mock), 1);
    let ours = store.0.lock().unwrap().clone().expect("saved");

    // The store now holds an older set that still lists the withdrawn certificate (another
    // process's save from before the withdrawal, or a store that was not updated).
    let stale = StoredSet {
        downloaded_at_ms: ours.downloaded_at_ms - 60_000,
        certificates: vec![
            StoredCertificate {
                serial: PLATFORM_CERTIFICATE_SERIAL.to_owned(),
                pem: PLATFORM_CERTIFICATE_PEM.to_owned(),
                not_before: 0,
                not_after: u64::MAX,
            },
            ours.certificates[0].clone(),
        ],
    };
    *store.0.lock().unwrap() = Some(stale);

    // A notification naming the withdrawn serial: the older store is not used, WeChat Pay is
    // asked instead, and the withdrawn key verifies nothing.
    let (headers, body) = signed_by_the_withdrawn_key(&mock);
    let error = client.verify_notification(&headers, &body).unwrap_err();
    assert!(error.is_verification(), "{error}");
    eventually("the refresh the notification started", || {
        downloads(&mock) == 2
    });
    assert_eq!(ids(&client), [PLATFORM_ROTATED_CERTIFICATE_SERIAL]);
    let error = client.verify_notification(&headers, &body).unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Verification(Verification::UnknownSerial),
        "{error}"
    );
}

/// The mock platform certificate with its validity moved: `not_before` / `not_after` as Unix
/// seconds (its signature no longer matches, which nothing here checks).
fn certificate_valid(not_before: u64, not_after: u64) -> Certificate {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    let body: String = PLATFORM_CERTIFICATE_PEM
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let mut der = STANDARD.decode(body).unwrap();
    let replace = |der: &mut Vec<u8>, old: &[u8], new: String| {
        let at = der
            .windows(old.len())
            .position(|window| window == old)
            .expect("the date is in the certificate");
        assert_eq!(new.len(), old.len());
        der[at..at + old.len()].copy_from_slice(new.as_bytes());
    };
    // notBefore is a UTCTime, notAfter a GeneralizedTime.
    let time = |unix: u64| {
        let text = wechatpay::toolkit::format_rfc3339(unix, 0);
        let digits: String = text[..19].chars().filter(char::is_ascii_digit).collect();
        format!("{digits}Z")
    };
    replace(&mut der, b"261127092559Z", time(not_before)[2..].to_owned());
    replace(&mut der, b"21261103092559Z", time(not_after));
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        STANDARD.encode(&der)
    );
    let certificate = Certificate::from_pem(&pem).unwrap();
    assert_eq!(
        (certificate.not_before(), certificate.not_after()),
        (not_before, not_after)
    );
    certificate
}

#[test]
fn an_expired_certificate_verifies_nothing() {
    let now = wechatpay::toolkit::timestamp();
    let mock = certificate_mock();
    let client_with = |certificate: Certificate| {
        mock::client_builder(&mock.uri())
            .platform_certificate(certificate)
            .retry_policy(wechatpay::resilience::RetryPolicy::none())
            .build()
            .unwrap()
    };
    let notification = || {
        mock.notification(
            "TRANSACTION.SUCCESS",
            "encrypt-resource",
            "transaction",
            &json!({"out_trade_no": "T1"}),
        )
        .unwrap()
    };

    // Configured: expired a day ago, or valid only from tomorrow. Answers and notifications
    // it signs are refused, saying why.
    for (not_before, not_after, what) in [
        (now - 400 * 86_400, now - 86_400, "has expired"),
        (now + 86_400, now + 400 * 86_400, "is not valid yet"),
    ] {
        let client = client_with(certificate_valid(not_before, not_after));
        let error = client[TEMPLATE].post(prepaid_options()).unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::Verification(Verification::OutsideValidity),
            "{error}"
        );
        assert!(error.to_string().contains(what), "{error}");
        let (headers, body) = notification();
        let error = client.verify_notification(&headers, &body).unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::Verification(Verification::OutsideValidity),
            "{error}"
        );
    }
    // Within the 300 s allowed for clocks, and inside its validity, it verifies.
    for (not_before, not_after) in [(now - 86_400, now - 100), (now + 100, now + 86_400)] {
        let client = client_with(certificate_valid(not_before, not_after));
        client[TEMPLATE].post(prepaid_options()).expect("verifies");
        let (headers, body) = notification();
        client
            .verify_notification(&headers, &body)
            .expect("verifies");
    }

    // Downloaded: listed with an effective_time of tomorrow, it is kept (WeChat Pay lists a
    // new certificate before it uses it) but verifies nothing before then.
    let tomorrow = wechatpay::toolkit::format_rfc3339(now + 86_400, 8);
    let entries = [(
        PLATFORM_CERTIFICATE_SERIAL,
        PLATFORM_CERTIFICATE_PEM,
        tomorrow.as_str(),
        "2126-01-01T00:00:00+08:00",
    )];
    let (headers, body) = listing(&entries, "certificate", "0123456789ab");
    let trusted = mock_public_key_ring();
    let certificates = verify_download(&headers, &body, &apiv3_key(), &trusted, now).unwrap();
    assert_eq!(certificates[0].validity().not_before, now + 86_400);
    let keys = platform_keys(&certificates);
    let answer = b"{\"ok\":true}";
    let headers = signed_by(mock::PLATFORM_KEY_PEM, PLATFORM_CERTIFICATE_SERIAL, answer);
    let error = verify_signed(&headers, answer, now, &keys).unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Verification(Verification::OutsideValidity)
    );

    // From a key store, the same: the listed validity is kept, and honoured.
    let store = Memory::default();
    *store.0.lock().unwrap() = Some(StoredSet {
        downloaded_at_ms: now_ms(),
        certificates: vec![StoredCertificate {
            serial: PLATFORM_CERTIFICATE_SERIAL.to_owned(),
            pem: PLATFORM_CERTIFICATE_PEM.to_owned(),
            not_before: now + 86_400,
            not_after: u64::MAX,
        }],
    });
    let client = mock
        .certificate_client_builder()
        .key_store(store)
        .retry_policy(wechatpay::resilience::RetryPolicy::none())
        .build()
        .unwrap();
    let error = client[TEMPLATE].post(prepaid_options()).unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Verification(Verification::OutsideValidity),
        "{error}"
    );
    assert_eq!(downloads(&mock), 0, "the store was fresh");
}

fn apiv3_key() -> ApiV3Key {
    ApiV3Key::new(mock::APIV3_KEY).unwrap()
}

/// The mock's public key, the key a download may also be signed by.
fn mock_public_key_ring() -> wechatpay::crypto::PlatformKeys {
    let mut keys = wechatpay::crypto::PlatformKeys::new();
    keys.insert(mock::PLATFORM_KEY_ID, mock::platform_public_key());
    keys
}

/// A certificate download listing `entries` (serial, PEM, effective, expire), each sealed
/// with `associated_data` and `nonce`, signed now by the mock's public key.
fn listing(
    entries: &[(&str, &str, &str, &str)],
    associated_data: &str,
    nonce: &str,
) -> (HeaderMap, Bytes) {
    let data: Vec<Value> = entries
        .iter()
        .map(|(serial, pem, effective, expire)| {
            let ciphertext = aes_gcm_encrypt(
                mock::APIV3_KEY.as_bytes(),
                nonce.as_bytes(),
                associated_data.as_bytes(),
                pem.as_bytes(),
            )
            .unwrap();
            json!({
                "serial_no": serial, "effective_time": effective, "expire_time": expire,
                "encrypt_certificate": {
                    "algorithm": "AEAD_AES_256_GCM", "nonce": nonce,
                    "associated_data": associated_data, "ciphertext": ciphertext,
                },
            })
        })
        .collect();
    let body = Bytes::from(json!({ "data": data }).to_string());
    let headers = signed_by(mock::PLATFORM_KEY_PEM, mock::PLATFORM_KEY_ID, &body);
    (headers, body)
}

#[test]
fn a_certificate_download_is_sealed_as_wechat_pay_seals_it() {
    let now = wechatpay::toolkit::timestamp();
    let trusted = mock_public_key_ring();
    let pem = PLATFORM_CERTIFICATE_PEM;
    let good = |pem: &str, aad: &str, nonce: &str| {
        let entries = [(
            PLATFORM_CERTIFICATE_SERIAL,
            pem,
            "2026-11-27T00:00:00+08:00",
            "2126-01-01T00:00:00+08:00",
        )];
        let (headers, body) = listing(&entries, aad, nonce);
        verify_download(&headers, &body, &apiv3_key(), &trusted, now)
    };
    good(pem, "certificate", "0123456789ab").expect("as WeChat Pay seals it");
    good(&format!("\n{pem}\n\n"), "certificate", "0123456789ab").expect("whitespace around");

    // Each sealed under the right APIv3 key (the tag checks), yet not as WeChat Pay seals a
    // certificate: refused, and nothing of the download trusted.
    let forged = mock::FORGED_CERTIFICATE_PEM;
    for (pem, aad, nonce, says) in [
        (pem.to_owned(), "", "0123456789ab", "associated_data"),
        (
            pem.to_owned(),
            "transaction",
            "0123456789ab",
            "associated_data",
        ),
        (
            pem.to_owned(),
            "certificate",
            "0123456789abcdef",
            "nonce of 16 bytes",
        ),
        (
            format!("{pem}{forged}"),
            "certificate",
            "0123456789ab",
            "more",
        ),
        (
            format!("note\n{pem}"),
            "certificate",
            "0123456789ab",
            "before",
        ),
        (
            format!("{pem}trailing"),
            "certificate",
            "0123456789ab",
            "more",
        ),
    ] {
        let error = good(&pem, aad, nonce).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Crypto, "{aad} {nonce}: {error}");
        assert!(error.to_string().contains(says), "{says}: {error}");
    }
}

#[test]
fn the_callback_401_does_not_say_which_check_failed() {
    use wechatpay::callback::Reply as CallbackReply;
    use wechatpay::mock::Fault;
    let (mock, client) = crate::common::mock_and_client();
    let mut texts = Vec::new();
    for fault in [
        Fault::BadSignature,
        Fault::StaleTimestamp,
        Fault::FutureTimestamp,
        Fault::UnknownSerial,
        Fault::Unsigned,
        Fault::Probe,
        Fault::WrongSignatureType,
    ] {
        let (headers, body) = mock
            .notification_with(
                "TRANSACTION.SUCCESS",
                "encrypt-resource",
                "transaction",
                &json!({"out_trade_no": "T1"}),
                Some(fault),
            )
            .unwrap();
        let error = client.verify_notification(&headers, &body).unwrap_err();
        let reply = CallbackReply::for_error(&error);
        assert_eq!(reply.status(), 401, "{fault:?}");
        texts.push(String::from_utf8(reply.body().to_vec()).unwrap());
        // The details stay in the error, for the merchant's log.
        assert!(error.is_verification(), "{fault:?}: {error}");
    }
    texts.dedup();
    assert_eq!(
        texts,
        [r#"{"code":"FAIL","message":"signature verification failed"}"#]
    );
}
