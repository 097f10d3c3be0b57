//! APIv2: the PHP SDK's vectors, round trips through the mock server (plain and mutual TLS),
//! answer checks and callbacks. (The corpus's APIv2 cases run in tests/conformance.rs.)

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use wechatpay::VerifiedBy;
use wechatpay::config::ApiV2Key;
use wechatpay::mock::{self, Fault, MockServer, RecordedRequest, Reply};
use wechatpay::toolkit::{self as sign, SignType};
use wechatpay::transport::{SendOptions, Transport};
use wechatpay::v2::{self, sign_request, to_query};
use wechatpay::xml::{XmlMap, to_xml_from};
use wechatpay::{Client, ClientBuilder, ErrorKind, Verification};

/// The APIv2 key of the PHP SDK's vectors.
const PHP_SECRET: &str = "exposed_your_key_here_have_risks";

fn php_key() -> ApiV2Key {
    ApiV2Key::new(PHP_SECRET).unwrap()
}

fn ordered(pairs: &[(&str, &str)]) -> XmlMap {
    pairs.iter().copied().collect()
}

fn ok_fields() -> Value {
    json!({"return_code": "SUCCESS", "return_msg": "OK", "result_code": "SUCCESS"})
}

// ---------------------------------------------------------------------------------------------
// The PHP SDK's request vectors (reference §2.11), byte for byte.

#[test]
fn php_micropay_body() {
    let mut fields = ordered(&[
        ("appid", "wxd930ea5d5a258f4f"),
        ("mch_id", "1230000109"),
        ("body", "test"),
        ("nonce_str", "ibuaiVcKdpRxkhJA"),
        ("device_info", "1000"),
        ("total_fee", "1"),
        ("detail", "<a&b>"),
        ("empty", ""),
        ("nul", ""),
    ]);
    // A `nonce_str` given by the caller is kept.
    let sign_type = sign_request(&mut fields, &php_key(), Some("not-used")).unwrap();
    assert_eq!(sign_type, SignType::Md5);
    assert_eq!(
        to_xml_from(&fields).unwrap(),
        "<xml><appid>wxd930ea5d5a258f4f</appid><mch_id>1230000109</mch_id><body>test</body>\
         <nonce_str>ibuaiVcKdpRxkhJA</nonce_str><device_info>1000</device_info><total_fee>1</total_fee>\
         <detail><![CDATA[<a&b>]]></detail><empty></empty><nul></nul>\
         <sign>2A1DCB04779F27AF0EB5479E31D58E60</sign></xml>"
    );
}

#[test]
fn php_hmac_body() {
    let mut fields = ordered(&[
        ("mch_id", "1230000109"),
        ("nonce_str", "N"),
        ("sign_type", "HMAC-SHA256"),
        ("out_refund_no", "R1"),
    ]);
    assert_eq!(
        sign_request(&mut fields, &php_key(), Some("ignored")).unwrap(),
        SignType::HmacSha256
    );
    assert_eq!(
        to_xml_from(&fields).unwrap(),
        "<xml><mch_id>1230000109</mch_id><nonce_str>N</nonce_str><sign_type>HMAC-SHA256</sign_type>\
         <out_refund_no>R1</out_refund_no>\
         <sign>3D155E7D2816DEDC129BA21FF17201198C8991474ECB15BACD1EB0777772C5F7</sign></xml>"
    );
}

#[test]
fn php_nonceless_body() {
    let mut fields = ordered(&[("mch_id", "1230000109")]);
    sign_request(&mut fields, &php_key(), None).unwrap();
    assert_eq!(
        to_xml_from(&fields).unwrap(),
        "<xml><mch_id>1230000109</mch_id><sign>41176DC33B3FE8EFB48A16E9FF85C6C5</sign></xml>"
    );
}

#[test]
fn php_h5entrustweb_query() {
    let mut fields = ordered(&[
        ("appid", "wx1"),
        ("mch_id", "1230000109"),
        ("contract_display_account", "微信 代扣"),
        ("request_serial", "1000"),
        ("sign_type", "HMAC-SHA256"),
    ]);
    sign_request(&mut fields, &php_key(), None).unwrap();
    assert_eq!(
        to_query(&fields),
        "appid=wx1&mch_id=1230000109&contract_display_account=%E5%BE%AE%E4%BF%A1%20%E4%BB%A3%E6%89%A3\
         &request_serial=1000&sign_type=HMAC-SHA256\
         &sign=9161A22872A69F8B1A66912B2C0E12A0CF8FAF01B13E4C786D11329ADEBCD492"
    );
}

#[test]
fn sign_request_rules() {
    // The nonce is appended, `sign` is last, a given `sign` is replaced in place.
    let mut fields = ordered(&[("sign", "OLD"), ("mch_id", "1")]);
    sign_request(&mut fields, &php_key(), Some("NONCE")).unwrap();
    let keys: Vec<&str> = fields.iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["sign", "mch_id", "nonce_str"]);
    let expected = sign::sign(
        SignType::Md5,
        [("mch_id", "1"), ("nonce_str", "NONCE")],
        PHP_SECRET,
    )
    .unwrap();
    assert_eq!(fields.get_str("sign"), Some(expected.as_str()));

    // An empty `nonce_str` is filled; an empty `sign_type` means MD5.
    let mut fields = ordered(&[("nonce_str", ""), ("sign_type", "")]);
    assert_eq!(
        sign_request(&mut fields, &php_key(), Some("N")).unwrap(),
        SignType::Md5
    );
    assert_eq!(fields.get_str("nonce_str"), Some("N"));

    // Unknown algorithms are refused (PHP would send an empty `sign`).
    for bad in ["SHA1", "md5", "HMAC_SHA256"] {
        let mut fields = ordered(&[("sign_type", bad)]);
        let err = sign_request(&mut fields, &php_key(), None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.to_string().contains("HMAC-SHA256"), "{err}");
    }
    let err = ApiV2Key::new("").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

#[test]
fn fields_from_json_keep_the_object_order_and_php_strings() {
    let object =
        json!({"b": 1000, "a": true, "c": false, "d": null, "e": [1, {"x": "中"}], "f": 1.5});
    let fields = v2::fields_from_json(object.as_object().unwrap());
    let expected: Vec<(&str, String)> = object
        .as_object()
        .unwrap()
        .keys()
        .map(|k| (k.as_str(), String::new()))
        .collect();
    let keys: Vec<&str> = fields.iter().map(|(k, _)| k).collect();
    assert_eq!(keys, expected.iter().map(|(k, _)| *k).collect::<Vec<_>>());
    assert_eq!(fields.get_str("b"), Some("1000"));
    assert_eq!(fields.get_str("a"), Some("1"));
    assert_eq!(fields.get_str("c"), Some(""));
    assert_eq!(fields.get_str("d"), Some(""));
    assert_eq!(fields.get_str("e"), Some(r#"[1,{"x":"中"}]"#));
    assert_eq!(fields.get_str("f"), Some("1.5"));
}

// ---------------------------------------------------------------------------------------------
// The whole request, captured by a transport.

/// Keeps the requests and answers each with a fixed answer.
#[derive(Clone)]
struct Capture {
    requests: Arc<Mutex<Vec<http::Request<Bytes>>>>,
    answer: Bytes,
}

/// What [`Capture`] saw in the options of a request: whether it was to go over mutual TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct MutualTls(bool);

impl Capture {
    fn new(answer: &str) -> Self {
        Self {
            requests: Arc::default(),
            answer: Bytes::from(answer.to_owned()),
        }
    }

    fn take(&self) -> Vec<http::Request<Bytes>> {
        std::mem::take(&mut self.requests.lock().unwrap())
    }
}

impl Transport for Capture {
    fn send(
        &self,
        mut request: http::Request<Bytes>,
        options: SendOptions,
    ) -> BoxFuture<'static, wechatpay::Result<http::Response<Bytes>>> {
        request
            .extensions_mut()
            .insert(MutualTls(options.mutual_tls));
        self.requests.lock().unwrap().push(request);
        let answer = self.answer.clone();
        Box::pin(async move { Ok(http::Response::new(answer)) })
    }
}

/// A client of the PHP vectors' merchant, with the mock's APIv3 keys.
fn php_client(transport: Capture) -> Client {
    php_builder().transport(transport).build().unwrap()
}

fn php_builder() -> ClientBuilder {
    Client::builder()
        .mchid("1230000109")
        .serial(mock::MERCHANT_SERIAL)
        .private_key(mock::merchant_private_key())
        .platform_key(mock::PLATFORM_KEY_ID, mock::platform_public_key())
        .apiv2_key(PHP_SECRET)
}

#[test]
fn get_url_is_the_php_one() {
    let capture = Capture::new("<xml><return_code>SUCCESS</return_code></xml>");
    let client = php_client(capture.clone());
    let res = client["v2/papay/h5entrustweb"]
        .get(json!({
            "nonceless": true,
            "query": "appid=wx1&mch_id=1230000109&contract_display_account=%E5%BE%AE%E4%BF%A1%20%E4%BB%A3%E6%89%A3&request_serial=1000&sign_type=HMAC-SHA256",
        }))
        .unwrap();
    // A no-signature path: handed back untouched.
    assert_eq!(res.verified_by(), &VerifiedBy::Unsigned);
    let requests = capture.take();
    assert_eq!(
        requests[0].uri().to_string(),
        "https://api.mch.weixin.qq.com/papay/h5entrustweb?appid=wx1&mch_id=1230000109\
         &contract_display_account=%E5%BE%AE%E4%BF%A1%20%E4%BB%A3%E6%89%A3&request_serial=1000\
         &sign_type=HMAC-SHA256&sign=9161A22872A69F8B1A66912B2C0E12A0CF8FAF01B13E4C786D11329ADEBCD492"
    );
    assert!(requests[0].body().is_empty());

    // The `query` option as an object: same fields (sorted by serde_json), same sign.
    client["v2/papay/h5entrustweb"]
        .get(json!({
            "nonceless": true,
            "query": {"appid": "wx1", "mch_id": "1230000109", "contract_display_account": "微信 代扣",
                      "request_serial": 1000, "sign_type": "HMAC-SHA256"},
        }))
        .unwrap();
    let uri = capture.take()[0].uri().to_string();
    assert!(
        uri.ends_with("&sign=9161A22872A69F8B1A66912B2C0E12A0CF8FAF01B13E4C786D11329ADEBCD492"),
        "{uri}"
    );
}

#[test]
fn post_request_is_the_php_one() {
    let capture = Capture::new("<xml><return_code>FAIL</return_code></xml>");
    let client = php_client(capture.clone());
    let err = client["v2/pay/micropay"]
        .post(json!({
            "security": true,
            "headers": {"X-Extra": "1"},
            "xml": {"appid": "wxd930ea5d5a258f4f", "mch_id": "1230000109", "body": "test",
                    "nonce_str": "ibuaiVcKdpRxkhJA", "device_info": "1000", "total_fee": 1,
                    "detail": "<a&b>", "empty": "", "nul": null},
        }))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api);
    let request = capture.take().remove(0);
    assert_eq!(
        request.uri().to_string(),
        "https://api.mch.weixin.qq.com/pay/micropay"
    );
    assert_eq!(request.method(), http::Method::POST);
    let header = |name: &str| request.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header("content-type"), "text/xml; charset=utf-8");
    assert_eq!(header("accept"), "text/xml, text/plain, application/x-gzip");
    assert!(header("user-agent").starts_with("wechatpay-rust/"));
    assert_eq!(header("x-extra"), "1");
    assert!(request.headers().get("authorization").is_none());
    // `security: true` with a transport of one's own: marked, and left to the transport.
    assert_eq!(request.extensions().get(), Some(&MutualTls(true)));
    let fields = wechatpay::xml::parse(request.body()).unwrap();
    assert_eq!(
        fields.get_str("sign"),
        Some("2A1DCB04779F27AF0EB5479E31D58E60")
    );
    assert_eq!(fields.get_str("nul"), Some(""));
    assert_eq!(fields.get_str("total_fee"), Some("1"));
    assert_eq!(fields.iter().last().map(|(k, _)| k), Some("sign"));
}

#[test]
fn request_options() {
    let capture = Capture::new("");
    let client = php_client(capture.clone());
    // `security` must be a boolean (PHP would quietly ignore `"true"`): nothing is sent.
    let error = client["v2/pay/orderquery"]
        .post(json!({"security": "true", "xml": {"mch_id": "1230000109"}}))
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    assert!(error.to_string().contains("`security`"), "{error}");
    assert!(capture.take().is_empty());
    // `security: false` is plain TLS; `nonceless: false` still drops the nonce.
    let _ = client["v2/pay/orderquery"].post(json!({
        "security": false,
        "nonceless": false,
        "base_uri": "https://api2.mch.weixin.qq.com/",
        "query": {"a": "b c"},
        "xml": {"mch_id": "1230000109"},
    }));
    let request = capture.take().remove(0);
    assert_eq!(request.extensions().get(), Some(&MutualTls(false)));
    assert_eq!(
        request.uri().to_string(),
        "https://api2.mch.weixin.qq.com/pay/orderquery?a=b%20c"
    );
    assert_eq!(
        request.body().as_ref(),
        b"<xml><mch_id>1230000109</mch_id><sign>41176DC33B3FE8EFB48A16E9FF85C6C5</sign></xml>"
    );

    // Without `nonceless`, the request's nonce is added: 32 characters.
    let _ = client["v2/pay/orderquery"].post(json!({"xml": {"mch_id": "1230000109"}}));
    let fields = wechatpay::xml::parse(capture.take()[0].body()).unwrap();
    assert_eq!(fields.get_str("nonce_str").map(str::len), Some(32));

    // A GET with `xml`: the fields replace the query.
    let _ = client["v2/pay/orderquery"].get(json!({
        "query": {"x": "1"},
        "nonceless": true,
        "xml": {"mch_id": "1230000109", "a": "b c"},
    }));
    let request = capture.take().remove(0);
    let query = request.uri().query().unwrap().to_owned();
    assert!(
        query.starts_with("a=b%20c&mch_id=1230000109&sign="),
        "{query}"
    );
    let sign = sign::sign(
        SignType::Md5,
        [("a", "b c"), ("mch_id", "1230000109")],
        PHP_SECRET,
    )
    .unwrap();
    assert!(query.ends_with(&sign), "{query}");
    assert!(request.body().is_empty());

    // `nonceless: null` counts as absent; the path is case-insensitive on `v2/`.
    let _ = client
        .chain_raw("V2/pay/orderquery")
        .post(json!({"nonceless": null, "xml": {"mchid": "1230000109"}}));
    let request = capture.take().remove(0);
    assert_eq!(request.uri().path(), "/pay/orderquery");
    let fields = wechatpay::xml::parse(request.body()).unwrap();
    assert!(fields.get_str("nonce_str").is_some());
}

#[test]
fn refused_before_sending() {
    let capture = Capture::new("");
    let client = php_client(capture.clone());
    let cases = [
        (json!({"xml": {"mch_id": "999"}}), "`mch_id` is `999`"),
        (json!({"xml": {}}), "no merchant id"),
        (json!({}), "no merchant id"),
        (
            json!({"xml": {"mch_id": null, "mchid": "1", "combine_mch_id": "1230000109"}}),
            "`mchid` is `1`",
        ),
        (
            json!({"xml": {"mch_id": "1230000109", "sign_type": "SHA1"}}),
            "`sign_type` is `SHA1`",
        ),
        (
            json!({"xml": "mch_id=1230000109"}),
            "`xml` option must be an object",
        ),
    ];
    for (options, expected) in cases {
        let err = client["v2/pay/orderquery"].post(options).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
        assert!(err.to_string().contains(expected), "{err}");
    }
    // The third key counts when the first two are absent; a number compares as its text.
    for xml in [
        json!({"combine_mch_id": "1230000109"}),
        json!({"mch_id": 1230000109}),
    ] {
        let _ = client["v2/pay/orderquery"].post(json!({ "xml": xml }));
    }
    assert_eq!(capture.take().len(), 2);

    // No APIv2 key: a Config error that says what to set.
    let no_secret = Client::builder()
        .mchid("1230000109")
        .serial(mock::MERCHANT_SERIAL)
        .private_key(mock::merchant_private_key())
        .platform_key(mock::PLATFORM_KEY_ID, mock::platform_public_key())
        .transport(capture.clone())
        .build()
        .unwrap();
    let err = no_secret["v2/pay/orderquery"]
        .post(json!({"xml": {"mch_id": "1230000109"}}))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(
        err.to_string().contains("ClientBuilder::apiv2_key"),
        "{err}"
    );
    assert!(capture.take().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Round trips through the mock server.

fn only_request(mock: &MockServer) -> RecordedRequest {
    let mut requests = mock.take_requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let request = requests.remove(0);
    assert_eq!(request.verdict, Ok(()), "{request:?}");
    request
}

#[test]
fn post_md5_round_trip() {
    let mock = MockServer::start().unwrap();
    mock.on(
        "POST",
        "/pay/micropay",
        Reply::xml(
            200,
            json!({"return_code": "SUCCESS", "return_msg": "OK", "result_code": "SUCCESS",
                              "transaction_id": "4200000215201811190261405420", "detail": "<a&b>"}),
        ),
    );
    let client = mock.client_builder().build().unwrap();
    let res = client["v2/pay/micropay"]
        .post(json!({"xml": {"appid": "wxd678efh567hg6787", "mch_id": mock::MCHID, "body": "腾讯充值中心-QQ会员充值",
                             "total_fee": 888, "detail": {"cost_price": 608800}}}))
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.verified_by(), "MD5");
    assert!(res.is_verified());
    let answer = res.xml().unwrap();
    assert_eq!(
        answer.get_str("transaction_id"),
        Some("4200000215201811190261405420")
    );
    assert_eq!(answer.get_str("detail"), Some("<a&b>"));
    assert_eq!(answer.get_str("sign").map(str::len), Some(32));

    let request = only_request(&mock);
    assert_eq!(
        request.header("content-type"),
        Some("text/xml; charset=utf-8")
    );
    let fields = request.v2_fields().unwrap();
    assert_eq!(fields.get_str("total_fee"), Some("888"));
    assert_eq!(fields.get_str("detail"), Some(r#"{"cost_price":608800}"#));
    assert_eq!(fields.get_str("nonce_str").map(str::len), Some(32));
    assert_eq!(fields.get_str("sign").map(str::len), Some(32));
    assert!(request.client_certificate.is_none());
}

#[test]
fn hmac_round_trip() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", "/pay/orderquery", Reply::xml(200, ok_fields()));
    let client = mock.client_builder().build().unwrap();
    let res = client["v2/pay/orderquery"]
        .post(json!({"xml": {"mch_id": mock::MCHID, "out_trade_no": "T1", "sign_type": "HMAC-SHA256"}}))
        .unwrap();
    assert_eq!(res.verified_by(), "HMAC-SHA256");
    assert_eq!(res.xml().unwrap().get_str("sign").map(str::len), Some(64));
    let fields = only_request(&mock).v2_fields().unwrap();
    assert_eq!(fields.get_str("sign").map(str::len), Some(64));
}

#[tokio::test]
async fn async_round_trip() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", "/pay/closeorder", Reply::xml(200, ok_fields()));
    let client = mock.client_builder().build().unwrap();
    let res = client["v2/pay/closeorder"]
        .post_async(json!({"xml": {"mch_id": mock::MCHID, "out_trade_no": "T1"}}))
        .await
        .unwrap();
    assert_eq!(res.verified_by(), "MD5");
}

#[test]
fn get_nonceless_round_trip() {
    let mock = MockServer::start().unwrap();
    mock.on(
        "GET",
        "/papay/h5entrustweb",
        Reply::xml(
            200,
            json!({"return_code": "SUCCESS", "result_code": "SUCCESS",
                              "redirect_url": "https://example.invalid/?a=1&b=2"}),
        )
        .unsigned(),
    );
    let client = mock.client_builder().build().unwrap();
    let res = client["v2/papay/h5entrustweb"]
        .get(json!({
            "nonceless": true,
            "query": {"appid": "wx1", "mch_id": mock::MCHID, "contract_display_account": "微信 代扣",
                      "request_serial": 1000, "timestamp": 1414488825, "sign_type": "HMAC-SHA256"},
        }))
        .unwrap();
    assert_eq!(res.verified_by(), &VerifiedBy::Unsigned);
    assert!(!res.is_verified());
    assert_eq!(
        res.xml().unwrap().get_str("redirect_url"),
        Some("https://example.invalid/?a=1&b=2")
    );
    let request = only_request(&mock);
    assert!(request.body.is_empty());
    let pairs = request.query_pairs();
    assert_eq!(pairs.last().map(|(k, _)| k.as_str()), Some("sign"));
    assert!(pairs.iter().all(|(k, _)| k != "nonce_str"));
    assert!(pairs.contains(&("contract_display_account".into(), "微信 代扣".into())));
    assert!(pairs.contains(&("request_serial".into(), "1000".into())));
}

#[test]
fn unsigned_paths_are_not_parsed() {
    let mock = MockServer::start().unwrap();
    let csv = "\u{FEFF}交易时间,公众账号ID\n`2014-11-10 16:33:45,`wx2421b1c4370ec43b\n";
    mock.on("POST", "/pay/downloadbill", Reply::status(200).body(csv));
    mock.on(
        "POST",
        "/pay/downloadfundflow",
        Reply::xml(
            200,
            json!({"return_code": "FAIL", "return_msg": "No Bill Exist"}),
        )
        .unsigned(),
    );
    let client = mock.client_builder().build().unwrap();
    let xml = json!({"xml": {"mch_id": mock::MCHID, "bill_date": "20141110", "bill_type": "ALL"}});
    let res = client["v2/pay/downloadbill"].post(xml.clone()).unwrap();
    assert_eq!(res.text().unwrap(), csv);
    assert_eq!(res.verified_by(), &VerifiedBy::Unsigned);
    assert_eq!(res.xml().unwrap_err().kind(), ErrorKind::Decode);
    // Even a FAIL is handed back on these paths, as in PHP.
    let res = client["v2/pay/downloadfundflow"].post(xml).unwrap();
    assert_eq!(res.xml().unwrap().get_str("return_code"), Some("FAIL"));
    // Under a base URI with a path prefix the path is not exempt.
    mock.on(
        "POST",
        "/sandboxnew/pay/downloadbill",
        Reply::status(200).body(csv),
    );
    let err = client["v2/pay/downloadbill"]
        .post(json!({"base_uri": format!("{}sandboxnew/", mock.uri()),
                     "xml": {"mch_id": mock::MCHID}}))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(err.response().unwrap().body().as_ref(), csv.as_bytes());
}

#[test]
fn return_code_fail_is_an_api_error_with_the_fields() {
    let mock = MockServer::start().unwrap();
    mock.on(
        "POST",
        "/tools/authcodetoopenid",
        Reply::xml(
            200,
            json!({"return_code": "FAIL", "return_msg": "参数格式校验错误"}),
        )
        .unsigned(),
    );
    let client = mock.client_builder().build().unwrap();
    let err = client["v2/tools/authcodetoopenid"]
        .post(json!({"xml": {"mch_id": mock::MCHID, "auth_code": "120061098828009406"}}))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.code(), Some("FAIL"));
    let response = err.response().unwrap();
    assert_eq!(response.message(), Some("参数格式校验错误"));
    assert_eq!(
        response.fields(),
        Some(&json!({"return_code": "FAIL", "return_msg": "参数格式校验错误"}))
    );
    assert!(String::from_utf8_lossy(response.body()).contains("<return_code>FAIL</return_code>"));
    assert!(err.to_string().contains("FAIL: 参数格式校验错误"), "{err}");
}

#[test]
fn result_code_fail_is_an_api_error() {
    let mock = MockServer::start().unwrap();
    mock.on(
        "POST",
        "/pay/micropay",
        Reply::xml(
            200,
            json!({"return_code": "SUCCESS", "return_msg": "OK", "result_code": "FAIL",
                              "err_code": "USERPAYING", "err_code_des": "需要用户输入支付密码"}),
        ),
    );
    let client = mock.client_builder().build().unwrap();
    let err = client["v2/pay/micropay"]
        .post(json!({"xml": {"mch_id": mock::MCHID}}))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.code(), Some("USERPAYING"));
    let response = err.response().unwrap();
    assert_eq!(response.message(), Some("需要用户输入支付密码"));
    assert_eq!(response.fields().unwrap()["result_code"], "FAIL");
    assert!(err.to_string().contains("result_code `FAIL`"), "{err}");
}

#[test]
fn a_bad_answer_sign_fails_verification() {
    let mock = MockServer::start().unwrap();
    for sign_type in ["MD5", "HMAC-SHA256"] {
        mock.once(
            "POST",
            "/pay/orderquery",
            Reply::xml(200, ok_fields()).fault(Fault::BadSignature),
        );
        let client = mock.client_builder().build().unwrap();
        let err = client["v2/pay/orderquery"]
            .post(json!({"xml": {"mch_id": mock::MCHID, "sign_type": sign_type}}))
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Verification(Verification::Signature),
            "{err}"
        );
        assert!(err.to_string().contains(sign_type), "{err}");
        assert_eq!(
            err.response().unwrap().fields().unwrap()["return_code"],
            "SUCCESS"
        );
    }
    // The wrong key on the client's side is the same failure.
    mock.on("POST", "/pay/orderquery", Reply::xml(200, ok_fields()));
    let wrong_key = mock
        .client_builder()
        .apiv2_key("not-the-mock-key-0123456789abcde")
        .build()
        .unwrap();
    let err = wrong_key["v2/pay/orderquery"]
        .post(json!({"xml": {"mch_id": mock::MCHID}}))
        .unwrap_err();
    // … though here the mock refuses the request's sign first.
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.code(), Some("FAIL"));
    assert!(err.to_string().contains("签名错误"), "{err}");
    let requests = mock.take_requests();
    assert!(requests.last().unwrap().verdict.is_err());
}

#[test]
fn an_unsigned_answer_on_a_signed_path_fails_verification() {
    let mock = MockServer::start().unwrap();
    mock.on(
        "POST",
        "/pay/orderquery",
        Reply::xml(200, ok_fields()).unsigned(),
    );
    let client = mock.client_builder().build().unwrap();
    let err = client["v2/pay/orderquery"]
        .post(json!({"xml": {"mch_id": mock::MCHID}}))
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Verification(Verification::MissingHeader)
    );
    assert!(err.response().unwrap().fields().is_some());
}

#[test]
fn answers_that_are_not_xml_or_not_success() {
    let mock = MockServer::start().unwrap();
    let html = "<html><body><h1>404 Not Found</h1><hr></body></html>";
    mock.on("POST", "/pay/html", Reply::status(200).body(html));
    mock.on("POST", "/pay/empty", Reply::status(200));
    mock.on(
        "POST",
        "/pay/busy",
        Reply::status(503).body("<html>busy</html>"),
    );
    let client = mock.client_builder().build().unwrap();
    let xml = json!({"xml": {"mch_id": mock::MCHID}});
    let err = client["v2/pay/html"].post(xml.clone()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(err.response().unwrap().body().as_ref(), html.as_bytes());
    let err = client["v2/pay/empty"].post(xml.clone()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api);
    assert!(err.to_string().contains("no `return_code`"), "{err}");
    let err = client["v2/pay/busy"].post(xml).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
}

#[test]
fn the_mock_checks_the_merchant_id() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", "/pay/orderquery", Reply::xml(200, ok_fields()));
    // A client of another merchant, sending its own mch_id.
    let other = mock.client_builder().mchid("1230000109").build().unwrap();
    let err = other["v2/pay/orderquery"]
        .post(json!({"xml": {"mch_id": "1230000109"}}))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api);
    let verdict = mock.take_requests().remove(0).verdict;
    assert!(verdict.unwrap_err().contains("1230000109"));
}

// ---------------------------------------------------------------------------------------------
// Mutual TLS.

#[test]
fn security_over_mutual_tls() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", "/secapi/pay/refund", Reply::xml(200, ok_fields()));
    let client = mock
        .client_builder()
        .base_uri(&mock.tls_uri())
        .build()
        .unwrap();
    let refund = json!({
        "security": true,
        "xml": {"appid": "wxd678efh567hg6787", "mch_id": mock::MCHID, "out_trade_no": "T1",
                "out_refund_no": "R1", "total_fee": 100, "refund_fee": 100},
    });
    let res = client["v2/secapi/pay/refund"].post(refund.clone()).unwrap();
    assert_eq!(res.verified_by(), "MD5");
    let request = only_request(&mock);
    let merchant_der = rustls_pki_der(mock::MERCHANT_TLS_CERTIFICATE_PEM);
    assert_eq!(
        request.client_certificate.as_deref(),
        Some(&merchant_der[..])
    );

    // Without `security`, the same client has no certificate to show: the handshake fails.
    let mut plain = refund.clone();
    plain.as_object_mut().unwrap().remove("security");
    let err = client["v2/secapi/pay/refund"].post(plain).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(mock.take_requests().is_empty());

    // A client without a merchant certificate refuses before sending.
    let no_identity = Client::builder()
        .mchid(mock::MCHID)
        .serial(mock::MERCHANT_SERIAL)
        .private_key(mock::merchant_private_key())
        .platform_key(mock::PLATFORM_KEY_ID, mock::platform_public_key())
        .apiv2_key(mock::SECRET)
        .tls_root_certificate(mock::TLS_CA_CERTIFICATE_PEM)
        .base_uri(&mock.tls_uri())
        .build()
        .unwrap();
    let err = no_identity["v2/secapi/pay/refund"]
        .post(refund)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(
        err.to_string().contains("ClientBuilder::merchant_identity"),
        "{err}"
    );
    assert!(mock.take_requests().is_empty());
}

/// The DER of the first certificate of a PEM text.
fn rustls_pki_der(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = pem
        .lines()
        .skip_while(|line| !line.starts_with("-----BEGIN CERTIFICATE"))
        .skip(1)
        .take_while(|line| !line.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

#[test]
fn merchant_identity_is_checked_by_build() {
    let builder = || MockServer::start().unwrap().client_builder();
    let cases = [
        (
            builder().merchant_identity(mock::MERCHANT_KEY_PEM, mock::MERCHANT_TLS_CERTIFICATE_PEM),
            "holds no `-----BEGIN CERTIFICATE-----`",
        ),
        (
            builder().merchant_identity(
                mock::MERCHANT_TLS_CERTIFICATE_PEM,
                mock::MERCHANT_TLS_CERTIFICATE_PEM,
            ),
            "apiclient_key.pem",
        ),
        (
            builder().merchant_identity(mock::MERCHANT_TLS_CERTIFICATE_PEM, mock::PLATFORM_KEY_PEM),
            "is not the one of the private key",
        ),
        (
            builder()
                .merchant_identity_files("/nonexistent/apiclient_cert.pem", "/nonexistent/key.pem"),
            "/nonexistent/apiclient_cert.pem",
        ),
        (builder().apiv2_key(""), "APIv2 key"),
    ];
    for (builder, expected) in cases {
        let err = builder.build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{err}");
        assert!(err.to_string().contains(expected), "{expected}: {err}");
    }
    // The files variant reads the same PEM texts.
    let dir = std::env::temp_dir().join(format!("wechatpay-v2-identity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (
        dir.join("apiclient_cert.pem"),
        dir.join("apiclient_key.pem"),
    );
    std::fs::write(&cert, mock::MERCHANT_TLS_CERTIFICATE_PEM).unwrap();
    std::fs::write(&key, mock::MERCHANT_KEY_PEM).unwrap();
    let mock = MockServer::start().unwrap();
    mock.on("POST", "/secapi/pay/reverse", Reply::xml(200, ok_fields()));
    let client = mock
        .client_builder()
        .merchant_identity_files(&cert, &key)
        .base_uri(&mock.tls_uri())
        .build()
        .unwrap();
    client["v2/secapi/pay/reverse"]
        .post(json!({"security": true, "xml": {"mch_id": mock::MCHID, "out_trade_no": "T1"}}))
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Callbacks.

fn notification(sign_type: Option<&str>) -> XmlMap {
    let mut fields = ordered(&[
        ("appid", "wx2421b1c4370ec43b"),
        ("attach", "支付测试"),
        ("mch_id", mock::MCHID),
        ("out_trade_no", "1409811653"),
        ("result_code", "SUCCESS"),
        ("return_code", "SUCCESS"),
        ("total_fee", "1"),
    ]);
    if let Some(sign_type) = sign_type {
        fields.insert("sign_type", sign_type);
    }
    sign_request(
        &mut fields,
        &mock::apiv2_key(),
        Some("5d2b6c2a8db53831f7eda20af46e531c"),
    )
    .unwrap();
    fields
}

#[test]
fn verify_v2_notifications() {
    let client = MockServer::start()
        .unwrap()
        .client_builder()
        .build()
        .unwrap();
    for sign_type in [None, Some("MD5"), Some("HMAC-SHA256")] {
        let fields = notification(sign_type);
        let body = to_xml_from(&fields).unwrap();
        let verified = client.verify_v2_notification(body.as_bytes()).unwrap();
        assert_eq!(verified, fields);
        assert_eq!(
            v2::verify_notification(body.as_bytes(), &mock::apiv2_key()).unwrap(),
            fields
        );
    }

    let mut tampered = notification(None);
    tampered.insert("total_fee", "100");
    let err = client
        .verify_v2_notification(to_xml_from(&tampered).unwrap().as_bytes())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Verification(Verification::Signature));

    // The declared algorithm is used: an MD5 sign under `sign_type` HMAC-SHA256 fails.
    let mut retyped = notification(None);
    retyped.insert("sign_type", "HMAC-SHA256");
    let err = client
        .verify_v2_notification(to_xml_from(&retyped).unwrap().as_bytes())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Verification(Verification::Signature));

    let mut unknown = notification(None);
    unknown.insert("sign_type", "SHA1");
    let err = client
        .verify_v2_notification(to_xml_from(&unknown).unwrap().as_bytes())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Verification(Verification::Signature));

    let mut unsigned = notification(None);
    unsigned.remove("sign");
    let err = client
        .verify_v2_notification(to_xml_from(&unsigned).unwrap().as_bytes())
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Verification(Verification::MissingHeader)
    );

    let err = client.verify_v2_notification(b"{\"a\":1}").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);

    let err = php_builder()
        .apiv2_key("another-key-0123456789abcdefghij")
        .build()
        .unwrap()
        .verify_v2_notification(to_xml_from(&notification(None)).unwrap().as_bytes())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Verification(Verification::Signature));
}

/// `refund.notification.req_info.sample.xml` encrypted with `openssl enc -aes-256-ecb` under
/// the key md5("exposed_your_key_here_have_risks") = 4ad14ac334ab13540eb6c5479512a8e8.
const REQ_INFO: &str = "sQHh/cSF5F2ms58BHQoBmSe6PR7CX1bhrvBSH9Qhny+XrJMY2DfYIO50b51BFVxzk/GNmvI9NBWlrTMA5+VT+KkMoeGsh1W7adQPrkArJHBtYvygzfVVOuwzAhFTSMTXVKLQBpkZZ2f0u3dhvM/XZAPN4lOb5T0UVzm9NtEHYHjdZiJXNAtqkzqI+dh4NjDF8MaEYYJlzeYwS3l7ynxMwf4pKyA3mbrevmWNsCmU1hxSwOI/b347rubRroY98DgiCr2Qdp1PwJRNGNyJX6h8kDRNbEcMOtorJLr5sfbdRcisNASrj/E4koGfq/PVkNLHkiEB/SWwEga8H9OAeqgQAqYp0xhhhOPATxwWB0V3JxkhCwuIWKuv5KIkZa3PnV4dlEWAGNc/11siA4h/eIppk4yM8Vm7boDKmDyMdZzYrba/DipqvKZtmXrnrlR67Fcn8UO+SEZLTO7QxtCUcdQMC/CNeQnNufPW0Bp6+jWhLuOZLMxSLXxe9LNyngQLfiUC4V8gAksZkXsc2AXBY83hKtOj/Wm9B3rvv0jdkQvmjd7JSa2HXB0re2HKCo1Hw2Fazxjh9CyYSefMFdtoijtx9YyTPYX2Br68z6leb9H6HmJKP80XQlZj2yVz4jtrp8KmQNf52zjl9bJ9FEttyVKrflZ1XafeuMoijtouDL/F2MWUH4Qb1xaW5NhyLG9zhs+0JF0DYAd2hr5UGYDUJA9vC9Xb7ETl0kuclkyEHMa6KL7c+hqnfkATYkSiL80BoByswG35jKMhTokeUDe1ZEA3Vrt6Pcgwa1vQcL7ET+zeKmhDUDCumBFk9uKXwv2GZaFXXoDX/Rg+FNFh0q0PjcJOzWm6NacWta1OV+OmmjtrhQnuCUfOAoLS6pyA1qzFJMD2k08/M9IiWjsP8hd+HQzRdZ8c47OX0jEo/He2hL4JQXqJS9abJhGe7J3M3Eh4fWxWHUYYC6/1YNOonufdNSjJMnGXA28W69sOB8igwJMhoP/tOUmbVU+KJbTL1ZbrWDAXe/g4l52icbtMmIR7rYOSYc7KkpNueO1hv8KvTmmX7v4=";

#[test]
fn decrypt_v2_refund_req_info() {
    assert_eq!(
        wechatpay::crypto::md5_hex(PHP_SECRET.as_bytes()),
        "4ad14ac334ab13540eb6c5479512a8e8"
    );
    let client = php_builder().build().unwrap();
    let refund = client.decrypt_v2_refund(REQ_INFO).unwrap();
    assert_eq!(
        refund.to_json(),
        json!({
            "out_refund_no": "131811191610442717309", "out_trade_no": "71106718111915575302817",
            "refund_account": "REFUND_SOURCE_RECHARGE_FUNDS", "refund_fee": "3960",
            "refund_id": "50000408942018111907145868882", "refund_recv_accout": "支付用户零钱",
            "refund_request_source": "API", "refund_status": "SUCCESS",
            "settlement_refund_fee": "3960", "settlement_total_fee": "3960",
            "success_time": "2018-11-19 16:24:13", "total_fee": "3960",
            "transaction_id": "4200000215201811190261405420",
        })
    );
    assert_eq!(v2::decrypt_refund(REQ_INFO, &php_key()).unwrap(), refund);

    // Another key: the padding does not check out.
    let err = v2::decrypt_refund(REQ_INFO, &mock::apiv2_key()).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Crypto | ErrorKind::Decode),
        "{err}"
    );
    assert_eq!(
        v2::decrypt_refund("not base64!", &php_key())
            .unwrap_err()
            .kind(),
        ErrorKind::Decode
    );
    let not_xml =
        wechatpay::crypto::aes_ecb_encrypt(b"4ad14ac334ab13540eb6c5479512a8e8", b"{}").unwrap();
    assert_eq!(
        client.decrypt_v2_refund(&not_xml).unwrap_err().kind(),
        ErrorKind::Decode
    );
    let no_secret = Client::builder()
        .mchid("1230000109")
        .serial(mock::MERCHANT_SERIAL)
        .private_key(mock::merchant_private_key())
        .platform_key(mock::PLATFORM_KEY_ID, mock::platform_public_key())
        .build()
        .unwrap();
    assert_eq!(
        no_secret.decrypt_v2_refund(REQ_INFO).unwrap_err().kind(),
        ErrorKind::Config
    );
}

#[test]
fn replies() {
    assert_eq!(
        v2::reply(true, "OK"),
        "<xml><return_code>SUCCESS</return_code><return_msg>OK</return_msg></xml>"
    );
    assert_eq!(
        v2::reply(false, "签名失败\u{1}"),
        "<xml><return_code>FAIL</return_code><return_msg>签名失败</return_msg></xml>"
    );
}

// ---------------------------------------------------------------------------------------------

#[test]
fn a_forged_business_error_is_a_verification_error() {
    // `result_code FAIL` with `err_code USERPAYING` drives payment logic: only a signed one
    // may come back as an API error with that code.
    let mock = MockServer::start().unwrap();
    let forged = json!({"return_code": "SUCCESS", "result_code": "FAIL",
                        "err_code": "USERPAYING", "err_code_des": "用户支付中"});
    mock.once(
        "POST",
        "/pay/micropay",
        Reply::xml(200, forged.clone()).fault(Fault::BadSignature),
    );
    let client = mock.client_builder().build().unwrap();
    let call = || client["v2/pay/micropay"].post(json!({"xml": {"mch_id": mock::MCHID}}));
    let err = call().unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Verification(Verification::Signature),
        "{err}"
    );
    assert_eq!(err.code(), None);

    mock.once("POST", "/pay/micropay", Reply::xml(200, forged));
    let err = call().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api, "{err}");
    assert_eq!(err.code(), Some("USERPAYING"));
}

#[test]
fn apiv2_calls_refuse_options_they_would_ignore_or_leak() {
    let mock = MockServer::start().unwrap();
    let client = mock.client_builder().build().unwrap();
    for options in [
        json!({"json": {"mch_id": mock::MCHID}}),
        json!({"body": "<xml/>", "xml": {"mch_id": mock::MCHID}}),
    ] {
        let err = client["v2/pay/orderquery"].post(options).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
        assert!(err.to_string().contains("`xml` option"), "{err}");
    }
    // The merchant certificate never goes over plain http to another machine.
    let err = client["v2/secapi/pay/refund"]
        .post(json!({
            "security": true,
            "base_uri": "http://api.mch.weixin.qq.com/",
            "xml": {"mch_id": mock::MCHID},
        }))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    assert!(err.to_string().contains("https"), "{err}");
    assert!(mock.requests().is_empty());
}
