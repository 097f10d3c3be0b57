//! The client: its builder's checks, how options become the request the mock receives,
//! custom signers and transports, and reading a response.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::common::{
    CannedTransport, OUT_ORDER_NO, PREPAID_PATH, TEMPLATE, mock_and_client, prepaid_body,
    prepaid_mock, prepaid_options,
};
use serde::Deserialize;
use serde_json::{Value, json};
use wechatpay::mock::{
    self, MCHID, MERCHANT_SERIAL, PLATFORM_CERTIFICATE_PEM, PLATFORM_CERTIFICATE_SERIAL,
    PLATFORM_KEY_ID, Reply,
};
use wechatpay::{
    Certificate, Client, ClientBuilder, ErrorKind, Options, PrivateKey, ResponseFuture, Signer,
    Verification,
};

// ---------------------------------------------------------------------------------------
// The builder
// ---------------------------------------------------------------------------------------

fn complete_builder() -> ClientBuilder {
    Client::builder()
        .mchid(MCHID)
        .serial(MERCHANT_SERIAL)
        .private_key(mock::merchant_private_key())
        .platform_key(PLATFORM_KEY_ID, mock::platform_public_key())
        .base_uri("http://127.0.0.1:9/")
}

fn assert_config_error(builder: ClientBuilder, hints: &[&str]) {
    let err = builder.build().expect_err("the builder must refuse");
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    let message = err.to_string();
    for hint in hints {
        assert!(
            message.contains(hint),
            "`{message}` does not mention `{hint}`"
        );
    }
}

#[test]
fn complete_builder_builds() {
    let client = complete_builder().build().expect("builds");
    assert_eq!(client.mchid(), MCHID);
    assert_eq!(
        client.platform_keys().ids().collect::<Vec<_>>(),
        [PLATFORM_KEY_ID]
    );
}

#[test]
fn each_missing_field_is_named() {
    let no_mchid = Client::builder()
        .serial(MERCHANT_SERIAL)
        .private_key(mock::merchant_private_key())
        .platform_key(PLATFORM_KEY_ID, mock::platform_public_key());
    assert_config_error(no_mchid, &["`mchid`", "ClientBuilder::mchid"]);
    assert_config_error(complete_builder().mchid("  "), &["`mchid`"]);

    let no_serial = Client::builder()
        .mchid(MCHID)
        .private_key(mock::merchant_private_key())
        .platform_key(PLATFORM_KEY_ID, mock::platform_public_key());
    assert_config_error(no_serial, &["`serial`", "ClientBuilder::serial"]);

    let no_key = Client::builder()
        .mchid(MCHID)
        .serial(MERCHANT_SERIAL)
        .platform_key(PLATFORM_KEY_ID, mock::platform_public_key());
    assert_config_error(no_key, &["private key", ".private_key("]);

    let no_platform_key = Client::builder()
        .mchid(MCHID)
        .serial(MERCHANT_SERIAL)
        .private_key(mock::merchant_private_key());
    assert_config_error(
        no_platform_key,
        &["platform key", ".platform_key(", ".platform_certificate("],
    );

    // Nothing at all: the first missing field is reported.
    assert_config_error(Client::builder(), &["`mchid`"]);
}

#[test]
fn merchant_serial_as_platform_key_is_refused() {
    let builder = complete_builder().platform_key(MERCHANT_SERIAL, mock::platform_public_key());
    assert_config_error(builder, &[MERCHANT_SERIAL, "merchant"]);
}

#[test]
fn bad_settings_are_config_errors() {
    for base_uri in [
        "api.mch.weixin.qq.com",
        "ftp://api.mch.weixin.qq.com/",
        "https://",
        "",
    ] {
        assert_config_error(complete_builder().base_uri(base_uri), &["base_uri"]);
    }
    for key in ["short", "mock-apiv3-key-0123456789abcdefgh", ""] {
        assert_config_error(
            complete_builder().apiv3_key(key),
            &["APIv3 key", "32 bytes"],
        );
    }
    complete_builder()
        .apiv3_key(mock::APIV3_KEY)
        .build()
        .expect("a 32-byte APIv3 key is fine");
    assert_config_error(
        complete_builder().mchid("1900 000109"),
        &["`mchid`", "printable ASCII"],
    );
    assert_config_error(
        complete_builder().tls_root_certificate("not a certificate"),
        &["TLS", "CERTIFICATE"],
    );
}

#[test]
fn platform_certificate_registers_its_serial() {
    let certificate = Certificate::from_pem(PLATFORM_CERTIFICATE_PEM).unwrap();

    // Only the certificate: the mock signs as PLATFORM_KEY_ID, which is then unknown, even
    // though it is the very same key (lookup is by exact id).
    let mock = mock::MockServer::start().unwrap();
    mock.on(
        "GET",
        "/v3/certificates",
        Reply::json(200, json!({"data": []})),
    );
    let client = Client::builder()
        .mchid(MCHID)
        .serial(MERCHANT_SERIAL)
        .private_key(mock::merchant_private_key())
        .platform_certificate(certificate.clone())
        .base_uri(&mock.uri())
        .build()
        .unwrap();
    assert_eq!(
        client.platform_keys().ids().collect::<Vec<_>>(),
        [PLATFORM_CERTIFICATE_SERIAL]
    );
    let err = client["v3/certificates"]
        .get(())
        .expect_err("unknown serial");
    assert_eq!(
        err.kind(),
        ErrorKind::Verification(Verification::UnknownSerial)
    );
    let message = err.to_string();
    assert!(message.contains(PLATFORM_KEY_ID), "{message}");
    assert!(message.contains(PLATFORM_CERTIFICATE_SERIAL), "{message}");
    assert_eq!(mock.requests()[0].verdict, Ok(()));

    // An answer signed under the certificate serial verifies with the certificate.
    let transport = CannedTransport::signed(200, "{}", PLATFORM_CERTIFICATE_SERIAL);
    let client = Client::builder()
        .mchid(MCHID)
        .serial(MERCHANT_SERIAL)
        .private_key(mock::merchant_private_key())
        .platform_certificate(certificate.clone())
        .transport(transport)
        .build()
        .unwrap();
    let response = client["v3/certificates"].get(()).expect("verified");
    assert_eq!(response.verified_by(), PLATFORM_CERTIFICATE_SERIAL);

    // Both kinds at once (a migration): the mock's answers verify by the key id.
    let client = mock
        .client_builder()
        .platform_certificate(certificate)
        .build()
        .unwrap();
    assert_eq!(
        client["v3/certificates"].get(()).unwrap().verified_by(),
        PLATFORM_KEY_ID
    );
}

#[test]
fn client_and_futures_are_thread_safe() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    fn sendable<T: Send + 'static>() {}
    shareable::<Client>();
    shareable::<wechatpay::PrivateKey>();
    shareable::<wechatpay::PublicKey>();
    sendable::<ResponseFuture>();
    sendable::<wechatpay::Error>();
    sendable::<wechatpay::Response>();
    sendable::<wechatpay::Chain>();
}

// ---------------------------------------------------------------------------------------
// Options → the request on the wire
// ---------------------------------------------------------------------------------------

#[test]
fn query_option_is_encoded_like_php() {
    let (mock, client) = mock_and_client();
    mock.on(
        "GET",
        "/v3/marketing/favor/stocks",
        Reply::json(200, json!({})),
    );
    client["v3/marketing/favor/stocks"]
        .get(json!({
            "query": {
                "a": "b c",
                "d": ["x", "y"],
                "yes": true,
                "no": false,
                "n": 42,
                "m": {"k": "v/w"},
                "gone": null,
                "中": "文",
            },
        }))
        .expect("ok");
    let request = &mock.requests()[0];
    assert_eq!(request.verdict, Ok(()));
    assert_eq!(request.path(), "/v3/marketing/favor/stocks");
    let mut pairs = request.query_pairs();
    pairs.sort();
    let mut expected: Vec<(String, String)> = [
        ("a", "b c"),
        ("d[0]", "x"),
        ("d[1]", "y"),
        ("m[k]", "v/w"),
        ("n", "42"),
        ("no", "0"),
        ("yes", "1"),
        ("中", "文"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    expected.sort();
    assert_eq!(pairs, expected);
    // RFC 3986 encoding: `%20` for a space, brackets and `/` encoded.
    let query = request.target.split_once('?').unwrap().1;
    assert!(query.contains("a=b%20c"), "{query}");
    assert!(query.contains("d%5B0%5D=x&d%5B1%5D=y"), "{query}");
    assert!(query.contains("m%5Bk%5D=v%2Fw"), "{query}");
    assert!(query.contains("%E4%B8%AD=%E6%96%87"), "{query}");

    // A string query is used as is, and replaces a query written in the path.
    client["v3/marketing/favor/stocks?x=1"]
        .get(json!({"query": "offset=0&limit=10"}))
        .unwrap();
    let request = &mock.requests()[1];
    assert_eq!(
        request.target,
        "/v3/marketing/favor/stocks?offset=0&limit=10"
    );
    assert_eq!(request.verdict, Ok(()));
}

#[test]
fn headers_option_is_sent_exactly() {
    let (mock, client) = prepaid_mock();
    let mut options = prepaid_options();
    options["headers"] = json!({
        "Wechatpay-Serial": PLATFORM_KEY_ID,
        "Idempotency-Key": "Idem-Key_42",
        "Accept": "*/*",
    });
    client[TEMPLATE].post(options.clone()).expect("ok");
    let request = &mock.requests()[0];
    assert_eq!(request.verdict, Ok(()));
    assert_eq!(request.header("Wechatpay-Serial"), Some(PLATFORM_KEY_ID));
    assert_eq!(request.header("Idempotency-Key"), Some("Idem-Key_42"));
    // A header named like a default replaces it (case-insensitively).
    assert_eq!(request.headers.get_all("accept").iter().count(), 1);
    assert_eq!(request.header("accept"), Some("*/*"));
    assert!(
        request
            .header("authorization")
            .unwrap()
            .starts_with("WECHATPAY2-SHA256-RSA2048 ")
    );
    // A caller's Authorization (or any header that frames or routes the request) is refused
    // before anything is sent.
    for name in [
        "Authorization",
        "Content-Length",
        "Host",
        "Transfer-Encoding",
    ] {
        let mut refused = options.clone();
        refused["headers"][name] = json!("forged");
        let error = client[TEMPLATE].post(refused).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{name}: {error}");
        assert!(error.to_string().contains(name), "{error}");
    }
    assert_eq!(mock.requests().len(), 1);

    // The typed builder too.
    let options = Options::new()
        .var("out_order_no", OUT_ORDER_NO)
        .json(prepaid_body())
        .header("Idempotency-Key", "typed");
    client[TEMPLATE].post(options).expect("ok");
    assert_eq!(mock.requests()[1].header("Idempotency-Key"), Some("typed"));
}

#[test]
fn per_request_base_uri_with_a_path_prefix() {
    let (mock, client) = mock_and_client();
    mock.on(
        "GET",
        "/hk/v3/statements",
        Reply::json(200, json!({"statements": []})),
    );
    let response = client["v3/statements"]
        .get(json!({
            "base_uri": format!("{}hk/", mock.uri()),
            "query": {"date": "2026-01-01"},
        }))
        .expect("ok");
    assert_eq!(response.verified_by(), PLATFORM_KEY_ID);
    let request = &mock.requests()[0];
    assert_eq!(request.verdict, Ok(()));
    assert_eq!(request.target, "/hk/v3/statements?date=2026-01-01");

    // The typed builder, and the client's own base is untouched afterwards.
    client["v3/statements"]
        .get(Options::new().base_uri(format!("{}hk/", mock.uri())))
        .expect("ok");
    assert_eq!(mock.requests()[1].path(), "/hk/v3/statements");
    let err = client["v3/statements"]
        .get(())
        .expect_err("no rule for /v3/statements");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(mock.requests()[2].path(), "/v3/statements");

    // Without the trailing slash the last segment is replaced (RFC 3986 §5.2).
    client["v3/statements"]
        .get(Options::new().base_uri(format!("{}hk", mock.uri())))
        .expect_err("no rule for /v3/statements");
    assert_eq!(mock.requests()[3].path(), "/v3/statements");

    let err = client["v3/statements"]
        .get(json!({"base_uri": "not a uri"}))
        .expect_err("bad base_uri");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    assert_eq!(mock.requests().len(), 4);
}

#[test]
fn path_variables_are_percent_encoded_and_never_case_changed() {
    let (mock, client) = mock_and_client();
    let encoded = "/v3/pay/transactions/out-trade-no/Tv129e24Xde9b%20a%2Fb%2B%E4%B8%AD";
    mock.on(
        "GET",
        encoded,
        Reply::json(200, json!({"trade_state": "SUCCESS"})),
    );
    let response = client["v3/pay/transactions/outTradeNo/{out_trade_no}"]
        .get(json!({
            "out_trade_no": "Tv129e24Xde9b a/b+中",
            "query": {"mchid": MCHID},
        }))
        .expect("ok");
    assert_eq!(response.json::<Value>().unwrap()["trade_state"], "SUCCESS");
    let request = &mock.requests()[0];
    assert_eq!(request.verdict, Ok(()), "signed over the encoded target");
    assert_eq!(request.path(), encoded);
    assert_eq!(request.query_pairs(), [("mchid".into(), MCHID.into())]);
}

#[test]
fn body_option_is_sent_verbatim_and_signed() {
    let (mock, client) = prepaid_mock();
    let raw = "{\"service_id\":\"2002\",  \"title\":\"\\u4e0b\\u53d1\"}\n";
    client[TEMPLATE]
        .post(json!({"out_order_no": OUT_ORDER_NO, "body": raw}))
        .expect("ok");
    let request = &mock.requests()[0];
    assert_eq!(request.verdict, Ok(()));
    assert_eq!(request.body, raw.as_bytes());
    assert_eq!(
        request.header("content-type"),
        Some("application/json; charset=utf-8")
    );

    // Bytes through the typed builder.
    let bytes: &'static [u8] = b"\x00\x01binary";
    client[TEMPLATE]
        .post(Options::new().var("out_order_no", OUT_ORDER_NO).body(bytes))
        .expect("ok");
    let request = &mock.requests()[1];
    assert_eq!(request.verdict, Ok(()));
    assert_eq!(request.body, bytes);
}

#[test]
fn conflicting_or_malformed_options_send_nothing() {
    let (mock, client) = prepaid_mock();
    let err = client[TEMPLATE]
        .post(json!({"out_order_no": OUT_ORDER_NO, "json": {"a": 1}, "body": "{}"}))
        .expect_err("json and body");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("json"), "{err}");

    for not_an_object in [json!(5), json!("x"), json!([1]), json!(true)] {
        let err = client[TEMPLATE]
            .post(not_an_object.clone())
            .expect_err("not an object");
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{not_an_object}");
        assert!(err.to_string().contains("object"), "{err}");
    }

    for bad in [
        json!({"out_order_no": OUT_ORDER_NO, "headers": "x"}),
        json!({"out_order_no": OUT_ORDER_NO, "headers": {"Bad Name": "x"}}),
        json!({"out_order_no": OUT_ORDER_NO, "headers": {"X": "a\nb"}}),
        json!({"out_order_no": OUT_ORDER_NO, "timeout": "1"}),
        json!({"out_order_no": OUT_ORDER_NO, "timeout": -1}),
        json!({"out_order_no": OUT_ORDER_NO, "body": 5}),
    ] {
        let err = client[TEMPLATE].post(bad.clone()).expect_err("bad option");
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{bad}: {err}");
    }
    assert!(mock.requests().is_empty(), "nothing may be sent");
}

#[test]
fn missing_path_variable_is_named_and_nothing_is_sent() {
    let (mock, client) = prepaid_mock();
    for options in [
        json!({"json": prepaid_body()}),
        json!({"out_order_no": null, "json": prepaid_body()}),
        json!({"out_order_no": "", "json": prepaid_body()}),
    ] {
        let err = client[TEMPLATE].post(options).expect_err("missing");
        assert_eq!(err.kind(), ErrorKind::MissingPathVariable);
        assert_eq!(err.variables(), ["out_order_no"]);
        assert!(err.to_string().contains("out_order_no"), "{err}");
    }
    let err = client["v3/x/{a}/y/{b}"].get(()).expect_err("missing");
    assert_eq!(err.variables(), ["a", "b"]);

    let future = client[TEMPLATE].post_async(json!({}));
    let err = futures::executor::block_on(future).expect_err("missing");
    assert_eq!(err.kind(), ErrorKind::MissingPathVariable);
    assert!(mock.requests().is_empty(), "nothing may be sent");
}

#[test]
fn accepted_and_no_content_answers() {
    let (mock, client) = mock_and_client();
    mock.on("PUT", "/v3/x/accepted", Reply::status(202));
    mock.on("PATCH", "/v3/x/no-content", Reply::status(204));
    mock.on("DELETE", "/v3/x/gone", Reply::status(204));
    let accepted = client["v3/x/accepted"]
        .put(json!({"json": {"a": 1}}))
        .unwrap();
    assert_eq!(accepted.status(), 202);
    assert_eq!(accepted.verified_by(), PLATFORM_KEY_ID);
    assert_eq!(accepted.text().unwrap(), "");
    let no_content = client["v3/x/noContent"].patch(()).unwrap();
    assert_eq!(no_content.status(), 204);
    assert!(no_content.bytes().is_empty());
    assert_eq!(client["v3/x/gone"].delete(()).unwrap().status(), 204);

    let methods: Vec<String> = mock
        .requests()
        .iter()
        .map(|r| {
            assert_eq!(r.verdict, Ok(()));
            r.method.to_string()
        })
        .collect();
    assert_eq!(methods, ["PUT", "PATCH", "DELETE"]);
}

// ---------------------------------------------------------------------------------------
// Custom signers and transports
// ---------------------------------------------------------------------------------------

struct CountingSigner {
    key: PrivateKey,
    calls: Arc<AtomicUsize>,
}

impl Signer for CountingSigner {
    fn sign(&self, message: &[u8]) -> wechatpay::Result<Vec<u8>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.key.sign(message)
    }
}

#[test]
fn custom_signer_signs_every_request() {
    let mock = mock::MockServer::start().unwrap();
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    let calls = Arc::new(AtomicUsize::new(0));
    // No private key at all: only the signer can sign.
    let client = Client::builder()
        .mchid(MCHID)
        .serial(MERCHANT_SERIAL)
        .signer(CountingSigner {
            key: mock::merchant_private_key(),
            calls: calls.clone(),
        })
        .platform_key(PLATFORM_KEY_ID, mock::platform_public_key())
        .base_uri(&mock.uri())
        .build()
        .unwrap();
    client[TEMPLATE].post(prepaid_options()).unwrap();
    futures::executor::block_on(client[TEMPLATE].post_async(prepaid_options())).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    for request in mock.requests() {
        crate::common::assert_prepaid_request(&request);
    }

    // A signer given with a private key wins.
    let before = calls.load(Ordering::SeqCst);
    let client = mock
        .client_builder()
        .signer(CountingSigner {
            key: mock::merchant_private_key(),
            calls: calls.clone(),
        })
        .build()
        .unwrap();
    client[TEMPLATE].post(prepaid_options()).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), before + 1);
}

struct FailingSigner;

impl Signer for FailingSigner {
    fn sign(&self, _: &[u8]) -> wechatpay::Result<Vec<u8>> {
        // A real HSM error would come from elsewhere; any key error will do.
        Err(PrivateKey::from_pem("HSM offline").unwrap_err())
    }
}

#[test]
fn a_failing_signer_aborts_before_sending() {
    let (mock, _) = mock_and_client();
    let client = mock.client_builder().signer(FailingSigner).build().unwrap();
    let err = client["v3/certificates"].get(()).expect_err("no signature");
    assert_eq!(err.kind(), ErrorKind::Crypto);
    assert!(mock.requests().is_empty());
}

#[test]
fn custom_transport_receives_the_signed_request() {
    let transport = CannedTransport::signed(200, "{\"ok\":true}", PLATFORM_KEY_ID);
    let client = Client::builder()
        .mchid(MCHID)
        .serial(MERCHANT_SERIAL)
        .private_key(mock::merchant_private_key())
        .platform_key(PLATFORM_KEY_ID, mock::platform_public_key())
        .transport(transport.clone())
        .build()
        .unwrap();
    let response = client[TEMPLATE].post(prepaid_options()).expect("ok");
    assert_eq!(response.json::<Value>().unwrap(), json!({"ok": true}));
    assert_eq!(response.verified_by(), PLATFORM_KEY_ID);

    let requests = transport.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method(), "POST");
    assert_eq!(
        request.uri().to_string(),
        format!("https://api.mch.weixin.qq.com{PREPAID_PATH}")
    );
    let body: Value = serde_json::from_slice(request.body()).unwrap();
    assert_eq!(body, prepaid_body());

    let authorization = request.headers()["authorization"].to_str().unwrap();
    let prefix = format!(
        "WECHATPAY2-SHA256-RSA2048 mchid=\"{MCHID}\",serial_no=\"{MERCHANT_SERIAL}\",timestamp=\""
    );
    assert!(authorization.starts_with(&prefix), "{authorization}");

    // The signature covers METHOD\nTARGET\nTIMESTAMP\nNONCE\nBODY\n.
    let field = |name: &str| {
        authorization
            .split(&format!("{name}=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no {name} in {authorization}"))
            .to_owned()
    };
    let timestamp: u64 = field("timestamp").parse().unwrap();
    assert!(timestamp.abs_diff(wechatpay::toolkit::timestamp()) < 60);
    let nonce = field("nonce_str");
    assert_eq!(nonce.len(), 32);
    assert!(nonce.chars().all(|c| c.is_ascii_alphanumeric()));
    let message = wechatpay::v3::sign::request_message(
        "POST",
        PREPAID_PATH,
        timestamp,
        &nonce,
        request.body(),
    );
    let signature = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(field("signature"))
            .unwrap()
    };
    wechatpay::PublicKey::from_pem(mock::MERCHANT_PUBLIC_KEY_PEM)
        .unwrap()
        .verify(&message, &signature)
        .expect("the Authorization signature verifies");

    assert_eq!(
        request.headers()["content-type"],
        "application/json",
        "a JSON body is sent as application/json"
    );
    assert!(
        request.headers()["accept"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert!(
        request.headers()["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("wechatpay-rust/")
    );

    // Nonces differ between requests.
    client[TEMPLATE].post(prepaid_options()).unwrap();
    let second = transport.requests()[1].headers()["authorization"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!second.contains(&format!("nonce_str=\"{nonce}\"")));
}

// ---------------------------------------------------------------------------------------
// Reading a response
// ---------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, PartialEq)]
struct Transaction {
    out_trade_no: String,
    amount: Amount,
    payer: Option<Payer>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Amount {
    total: u64,
    currency: String,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Payer {
    openid: String,
}

#[test]
fn response_accessors() {
    let (mock, client) = mock_and_client();
    let body = json!({
        "out_trade_no": "1217752501201407033233368018",
        "amount": {"total": 100, "currency": "CNY"},
        "extra": "ignored",
    });
    mock.on(
        "GET",
        "/v3/pay/transactions/out-trade-no/1217752501201407033233368018",
        Reply::json(200, body.clone()).header("X-Custom", "yes"),
    );
    let response = client["v3/pay/transactions/out-trade-no/{out_trade_no}"]
        .get(json!({"out_trade_no": "1217752501201407033233368018"}))
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-custom"], "yes");
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["wechatpay-serial"], PLATFORM_KEY_ID);
    assert!(
        response.headers()["request-id"]
            .to_str()
            .unwrap()
            .starts_with("mock-")
    );
    assert_eq!(response.bytes().as_ref(), body.to_string().as_bytes());
    assert_eq!(response.text().unwrap(), body.to_string());
    assert_eq!(response.json::<Value>().unwrap(), body);
    assert_eq!(
        response.json::<Transaction>().unwrap(),
        Transaction {
            out_trade_no: "1217752501201407033233368018".into(),
            amount: Amount {
                total: 100,
                currency: "CNY".into(),
            },
            payer: None,
        }
    );
    assert!(response.is_verified());
    assert_eq!(response.clone().into_bytes(), body.to_string().into_bytes());

    // The wrong shape is a decode error.
    let err = response.json::<Payer>().expect_err("no openid");
    assert_eq!(err.kind(), ErrorKind::Decode);
}

#[test]
fn non_json_and_non_utf8_bodies_are_decode_errors() {
    let (mock, client) = mock_and_client();
    mock.on(
        "GET",
        "/v3/x/text",
        Reply::status(200)
            .header("Content-Type", "text/plain")
            .body("plain text"),
    );
    mock.on(
        "GET",
        "/v3/x/binary",
        Reply::status(200).body(&b"\xff\xfe\x00"[..]),
    );
    let text = client["v3/x/text"].get(()).unwrap();
    assert_eq!(text.text().unwrap(), "plain text");
    let err = text.json::<Value>().expect_err("not JSON");
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(std::error::Error::source(&err).is_some());

    let binary = client["v3/x/binary"].get(()).unwrap();
    assert_eq!(binary.bytes().as_ref(), b"\xff\xfe\x00");
    assert_eq!(
        binary.text().expect_err("not UTF-8").kind(),
        ErrorKind::Decode
    );
}

#[test]
fn per_request_timeout_overrides_the_client() {
    // The client allows 50 ms, this request 2 s (never reached: the answer takes 100 ms).
    let (mock, _) = prepaid_mock();
    mock.on(
        "POST",
        PREPAID_PATH,
        Reply::status(204).delay(Duration::from_millis(100)),
    );
    let client = mock
        .client_builder()
        .timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let mut options = prepaid_options();
    options["timeout"] = json!(2);
    assert_eq!(client[TEMPLATE].post(options).unwrap().status(), 204);
}

#[test]
fn debug_output_of_a_request_hides_the_authorization_header() {
    let (mock, client) = prepaid_mock();
    let request = client[TEMPLATE]
        .build_request(http::Method::POST, prepaid_options(), 1554208460, "n0nce")
        .expect("builds");
    let authorization = request.headers()["authorization"].to_str().expect("text");
    assert!(authorization.starts_with("WECHATPAY2-SHA256-RSA2048 "));
    let signature = authorization
        .rsplit("signature=\"")
        .next()
        .expect("signature");
    let printed = format!("{request:?}");
    assert!(!printed.contains(&signature[..40]), "{printed}");
    assert!(printed.contains("Sensitive"), "{printed}");

    client[TEMPLATE].post(prepaid_options()).expect("ok");
    let recorded = format!("{:?}", mock.requests());
    assert!(!recorded.contains("signature=\""), "{recorded}");
}
