//! Property tests of every parser that reads untrusted input: never a panic, and never an
//! `Ok` for a signed input that was changed. Case counts are bounded so that the whole file
//! runs in a few seconds; raise `PROPTEST_CASES` to search longer.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderValue, Method};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use wechatpay::crypto::PlatformKeys;
use wechatpay::mock::{self, MockServer};
use wechatpay::transport::{SendOptions, Transport};
use wechatpay::v3::verify::verify_response;
use wechatpay::xml::{XmlMap, XmlValue};
use wechatpay::{Certificate, Client, PrivateKey, PublicKey, toolkit, v2, v3, xml};

/// Bounded runs: `cases` unless `PROPTEST_CASES` says otherwise; failures are not written to
/// files.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A change to a signed input: flip one bit, cut it, or add a byte.
#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Cut { at: usize },
    Insert { at: usize, byte: u8 },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        any::<usize>().prop_map(|at| Mutation::Cut { at }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
    ]
}

/// `bytes` changed by `mutation`; always different from `bytes`.
fn mutate(bytes: &[u8], mutation: &Mutation) -> Vec<u8> {
    let mut out = bytes.to_vec();
    match *mutation {
        Mutation::Flip { at, bit } if !out.is_empty() => {
            let at = at % out.len();
            out[at] ^= 1 << bit;
        }
        Mutation::Cut { at } if !out.is_empty() => out.truncate(at % out.len()),
        Mutation::Insert { at, byte } => out.insert(at % (out.len() + 1), byte),
        _ => out.push(b' '),
    }
    out
}

fn platform_key() -> PrivateKey {
    PrivateKey::from_pem(mock::PLATFORM_KEY_PEM).expect("the mock platform key parses")
}

fn platform_keys() -> PlatformKeys {
    let mut keys = PlatformKeys::new();
    keys.insert(mock::PLATFORM_KEY_ID, mock::platform_public_key());
    keys
}

/// The `Wechatpay-*` headers WeChat Pay sends for `body` at `now`.
fn signed_headers(key: &PrivateKey, body: &[u8], now: u64, nonce: &str) -> HeaderMap {
    let timestamp = now.to_string();
    let message = v3::sign::response_message(&timestamp, nonce, body);
    let signature = v3::sign::sign_base64(key, &message).expect("signs");
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("wechatpay-nonce", nonce.to_owned()),
        ("wechatpay-serial", mock::PLATFORM_KEY_ID.to_owned()),
        ("wechatpay-signature", signature),
        ("wechatpay-timestamp", timestamp),
        (
            "wechatpay-signature-type",
            "WECHATPAY2-SHA256-RSA2048".to_owned(),
        ),
    ] {
        headers.insert(name, HeaderValue::from_str(&value).expect("a header value"));
    }
    headers
}

/// Text XML can carry and the reader hands back as written (no `\r`, which XML turns into
/// `\n`).
fn xml_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('<'),
            Just('&'),
            Just(']'),
            Just('>'),
            Just('"'),
            Just('\n'),
            Just(' '),
            Just('中'),
            Just('😀'),
            proptest::char::range('!', '~'),
        ],
        0..24,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn field_name() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,12}"
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn the_xml_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = xml::parse(&bytes);
    }

    #[test]
    fn the_xml_reader_never_panics_on_near_xml(
        text in "(<[a-z!?/]{0,3}[a-z]{0,3}( a=\"[a-z&;#0-9]{0,4}\")?/?>|[a-z&;#\\]\\[<>]{0,4}|<!\\[CDATA\\[[a-z\\]>]{0,5}\\]\\]>){0,12}",
    ) {
        let _ = xml::parse(text.as_bytes());
    }

    #[test]
    fn xml_round_trips(fields in proptest::collection::btree_map(field_name(), xml_text(), 0..12)) {
        let map: XmlMap = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let written = xml::to_xml_from(&map).expect("writable");
        let read = xml::parse(written.as_bytes()).expect("what the writer writes, the reader reads");
        prop_assert_eq!(read.len(), map.len());
        for (key, value) in &map {
            prop_assert_eq!(read.get(key), Some(value));
        }
    }
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn v3_answers_never_verify_once_changed(
        body in proptest::collection::vec(any::<u8>(), 0..200),
        change in mutation(),
        header in 0usize..4,
    ) {
        let key = platform_key();
        let keys = platform_keys();
        let now = 1_700_000_000;
        let headers = signed_headers(&key, &body, now, "nonce-0123456789");
        prop_assert!(verify_response("/v3/x", &headers, &body, now, &keys).is_ok());

        let changed = mutate(&body, &change);
        prop_assert!(verify_response("/v3/x", &headers, &changed, now, &keys).is_err());

        let name = ["wechatpay-nonce", "wechatpay-signature", "wechatpay-timestamp", "wechatpay-serial"][header];
        let mut headers = headers;
        let value = headers[name].as_bytes().to_vec();
        let mut changed_value = mutate(&value, &change);
        changed_value.retain(|b| b.is_ascii_graphic());
        match HeaderValue::from_bytes(&changed_value) {
            Ok(value) if value.as_bytes() != headers[name].as_bytes() => {
                headers.insert(name, value);
            }
            _ => {
                headers.remove(name);
            }
        }
        // A timestamp one second off still verifies only if the signature covers it: it does not.
        prop_assert!(verify_response("/v3/x", &headers, &body, now, &keys).is_err());
        // An unsigned-download path does not make a signed answer's headers optional.
        prop_assert!(verify_response("/v3/billdownload/file", &headers, &body, now, &keys).is_err());
    }

    #[test]
    fn notifications_never_verify_or_decrypt_once_changed(
        plaintext in "[ -~]{0,64}",
        change in mutation(),
    ) {
        let mock = mock_server();
        let (headers, body) = mock
            .notification("TRANSACTION.SUCCESS", "encrypt-resource", "transaction", &json!({"note": plaintext}))
            .expect("a notification");
        let client = client_of(mock);
        let notification = client.verify_notification(&headers, &body).expect("verifies");
        prop_assert_eq!(notification.decrypt::<Value>().expect("decrypts"), json!({"note": plaintext}));

        let changed = mutate(&body, &change);
        prop_assert!(client.verify_notification(&headers, &changed).is_err());

        // The ciphertext alone, changed: the tag refuses it.
        let resource = notification.resource();
        let changed = mutate(resource.ciphertext().as_bytes(), &change);
        let changed = String::from_utf8_lossy(&changed);
        prop_assert!(
            toolkit::aes_gcm_decrypt(
                mock::APIV3_KEY.as_bytes(),
                resource.nonce().as_bytes(),
                resource.associated_data().as_bytes(),
                &changed,
            )
            .is_err()
        );
    }

    #[test]
    fn v2_answers_and_notifications_never_pass_once_changed(
        fields in proptest::collection::btree_map("[a-z]{1,8}", "[a-zA-Z0-9]{1,12}", 1..6),
        which in any::<prop::sample::Index>(),
        change in mutation(),
    ) {
        let key = mock::apiv2_key();
        let mut map: XmlMap = [("return_code", "SUCCESS"), ("result_code", "SUCCESS")]
            .into_iter()
            .collect();
        for (name, value) in &fields {
            if name != "sign" && name != "sign_type" && name != "return_code" && name != "result_code" {
                map.insert(name.as_str(), value.as_str());
            }
        }
        v2::sign_request(&mut map, &key, None).expect("signs");
        let body = xml::to_xml_from(&map).expect("writable");
        prop_assert!(v2::verify_notification(body.as_bytes(), &key).is_ok());

        // One field's value changed: the sign no longer matches.
        let names: Vec<String> = map.iter().map(|(k, _)| k.to_owned()).filter(|k| k != "sign").collect();
        let name = which.get(&names).clone();
        let mut changed = map.clone();
        let old = map.get_str(&name).unwrap_or_default().to_owned();
        // Characters XML carries as written (`\r` reads back as `\n`).
        let new: String = String::from_utf8_lossy(&mutate(old.as_bytes(), &change))
            .chars()
            .filter(|c| *c == '\n' || *c == '\t' || (!c.is_control() && *c != '\u{FFFD}'))
            .collect();
        if new != old && !new.is_empty() {
            changed.insert(name.as_str(), XmlValue::Text(new));
            let changed = xml::to_xml_from(&changed).expect("writable");
            prop_assert!(v2::verify_notification(changed.as_bytes(), &key).is_err());
            // The same body as an answer to a call.
            let client = v2_client(Bytes::from(changed));
            let answered = client["v2/pay/orderquery"].post(json!({"xml": {"mch_id": mock::MCHID}}));
            prop_assert!(answered.is_err());
        }
        // Any change to the bytes: an error or the very same fields, never other fields.
        let changed = mutate(body.as_bytes(), &change);
        if let Ok(fields) = v2::verify_notification(&changed, &key) {
            prop_assert_eq!(fields, map);
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn path_values_never_leave_their_segment(value in "[./%a-z]{1,8}") {
        let client = offline_client();
        let built = client["v3/pay/transactions/id/{transaction_id}"].build_request(
            Method::GET,
            json!({"transaction_id": value}),
            1_554_208_460,
            "nonce",
        );
        if let Ok(request) = built {
            let path = request.uri().path().to_owned();
            prop_assert!(path.starts_with("/v3/pay/transactions/id/"), "{}", path);
            prop_assert_eq!(path.matches('/').count(), 5, "{}", path);
            let last = path.rsplit('/').next().unwrap_or_default();
            prop_assert!(!matches!(last, "" | "." | ".."), "{}", path);
        }
    }

    #[test]
    fn template_expansion_never_panics(
        template in "[a-z/{}+#.;?&*:,0-9]{0,24}",
        value in prop_oneof![
            "[ -~]{0,8}".prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            proptest::collection::vec("[./a-z]{0,3}", 0..3).prop_map(Value::from),
        ],
    ) {
        let vars: Map<String, Value> = ["a", "b", "c"].iter().map(|name| (name.to_string(), value.clone())).collect();
        let _ = toolkit::expand_template(&template, &vars);
    }

    #[test]
    fn base_uris_never_panic_nor_leak_user_info(uri in "(https?://)?[a-z@:/.\\\\0-9\\[\\]]{0,24}") {
        let built = mock::client_builder(&uri).build();
        if let Ok(client) = built {
            let request = client["v3/certificates"]
                .build_request(Method::GET, (), 1_554_208_460, "nonce")
                .expect("a base URI that builds makes requests");
            let authority = request.uri().authority().map(|a| a.as_str().to_owned()).unwrap_or_default();
            prop_assert!(!authority.contains('@'), "{}", authority);
            if request.uri().scheme_str() == Some("http") {
                let host = request.uri().host().unwrap_or_default();
                prop_assert!(host == "localhost" || host.starts_with("127.") || host == "[::1]", "{}", host);
            }
        }
    }

    #[test]
    fn pem_and_der_parsers_never_panic(
        label in prop_oneof![
            Just("PRIVATE KEY"), Just("RSA PRIVATE KEY"), Just("PUBLIC KEY"),
            Just("RSA PUBLIC KEY"), Just("CERTIFICATE"), Just("X")
        ],
        der in proptest::collection::vec(any::<u8>(), 0..64),
        text in "[-A-Za-z0-9+/= \n]{0,80}",
    ) {
        use base64::Engine as _;
        let pem = format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            base64::engine::general_purpose::STANDARD.encode(&der)
        );
        for input in [pem.as_str(), text.as_str()] {
            let _ = PrivateKey::from_pem(input);
            let _ = PublicKey::from_pem(input);
            let _ = Certificate::from_pem(input);
        }
    }
}

proptest! {
    #![proptest_config(config(32))]

    #[test]
    fn changed_real_keys_and_certificates_never_panic(
        which in 0usize..3,
        change in mutation(),
    ) {
        let pem = [mock::MERCHANT_KEY_PEM, mock::PLATFORM_PUBLIC_KEY_PEM, mock::PLATFORM_CERTIFICATE_PEM][which];
        // Change the base64 body (between the armour lines), keeping it base64.
        let lines: Vec<&str> = pem.lines().collect();
        let body: String = lines[1..lines.len() - 1].concat();
        let changed = mutate(body.as_bytes(), &change);
        let changed: String = String::from_utf8_lossy(&changed)
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=' { c } else { 'A' })
            .collect();
        let text = format!("{}\n{changed}\n{}\n", lines[0], lines[lines.len() - 1]);
        let _ = PrivateKey::from_pem(&text);
        let _ = PublicKey::from_pem(&text);
        let _ = Certificate::from_pem(&text);
    }
}

// The mock and clients, made once per process: the properties run many cases.

fn mock_server() -> &'static MockServer {
    static MOCK: std::sync::OnceLock<MockServer> = std::sync::OnceLock::new();
    MOCK.get_or_init(|| MockServer::start().expect("the mock starts"))
}

fn client_of(mock: &MockServer) -> &'static Client {
    static CLIENT: std::sync::OnceLock<Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| mock.client_builder().build().expect("the client builds"))
}

/// A client that never sends anything (its base URI is unroutable; only
/// `build_request` is used).
fn offline_client() -> &'static Client {
    static CLIENT: std::sync::OnceLock<Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        mock::client_builder("https://api.mch.weixin.qq.com/")
            .build()
            .expect("the client builds")
    })
}

/// A transport that answers every request with the body set last.
#[derive(Clone, Default)]
struct FixedAnswer(Arc<Mutex<Bytes>>);

impl Transport for FixedAnswer {
    fn send(
        &self,
        _request: http::Request<Bytes>,
        _options: SendOptions,
    ) -> BoxFuture<'static, wechatpay::Result<http::Response<Bytes>>> {
        let body = self.0.lock().unwrap().clone();
        Box::pin(async move { Ok(http::Response::new(body)) })
    }
}

/// A client whose APIv2 calls are answered with `body`.
fn v2_client(body: Bytes) -> &'static Client {
    static CLIENT: std::sync::OnceLock<(Client, FixedAnswer)> = std::sync::OnceLock::new();
    let (client, answer) = CLIENT.get_or_init(|| {
        let answer = FixedAnswer::default();
        let client = mock::client_builder("https://api.mch.weixin.qq.com/")
            .transport(answer.clone())
            .build()
            .expect("the client builds");
        (client, answer)
    });
    *answer.0.lock().unwrap() = body;
    client
}
