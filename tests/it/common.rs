//! Helpers shared by the integration tests: the documented call, a mock with its client, and
//! an in-process [`Transport`] that answers with a signed (or deliberately mis-signed) reply.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use wechatpay::mock::{self, MockServer, RecordedRequest, Reply};
use wechatpay::transport::{SendOptions, Transport};
use wechatpay::{Client, PrivateKey};

/// The documented call "下发服务预扣费消息".
pub const TEMPLATE: &str = "v3/payscore/partner/serviceorder/{out_order_no}/send-prepaidmessage";
/// The order number of the documented example.
pub const OUT_ORDER_NO: &str = "1234323JKHDFE1243252";
/// The path the mock sees for [`TEMPLATE`] with [`OUT_ORDER_NO`].
pub const PREPAID_PATH: &str =
    "/v3/payscore/partner/serviceorder/1234323JKHDFE1243252/send-prepaidmessage";

/// The JSON body of the documented example.
pub fn prepaid_body() -> Value {
    json!({
        "service_id": "2002000000000558128851361561536",
        "sub_mchid": "1900000109",
        "appid": "wxd678efh567hg6787",
        "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        "total_amount": 40000,
        "title": "下发服务预扣费消息",
    })
}

/// The options of the documented example: the path variable and the JSON body.
pub fn prepaid_options() -> Value {
    json!({ "out_order_no": OUT_ORDER_NO, "json": prepaid_body() })
}

/// A mock answering the documented call with `204`, and a client for it.
pub fn prepaid_mock() -> (MockServer, Client) {
    prepaid_on(MockServer::start().expect("the mock starts"))
}

/// `mock`, now answering the documented call with `204`, and a client for it.
pub fn prepaid_on(mock: MockServer) -> (MockServer, Client) {
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    let client = mock
        .client_builder()
        .build()
        .expect("the mock client builds");
    (mock, client)
}

/// A mock with no rules yet, and a client for it.
pub fn mock_and_client() -> (MockServer, Client) {
    let mock = MockServer::start().expect("the mock starts");
    let client = mock
        .client_builder()
        .build()
        .expect("the mock client builds");
    (mock, client)
}

/// Asserts that `request` is a correctly signed documented call.
pub fn assert_prepaid_request(request: &RecordedRequest) {
    assert_eq!(request.verdict, Ok(()), "the mock rejected the signature");
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, PREPAID_PATH);
    assert_eq!(request.path(), PREPAID_PATH);
    assert_eq!(request.json(), Some(prepaid_body()));
    assert_eq!(request.header("content-type"), Some("application/json"));
}

/// A [`Transport`] that never touches the network: it records every request it is handed
/// and answers `status` with `body`, carrying `Wechatpay-*` headers whose signature covers
/// `signed_body` (pass the same bytes as `body` for an honest answer) under `serial`.
#[derive(Clone)]
pub struct CannedTransport {
    pub status: u16,
    pub body: Bytes,
    pub signed_body: Bytes,
    pub serial: String,
    pub key: PrivateKey,
    pub seen: Arc<Mutex<Vec<http::Request<Bytes>>>>,
}

impl CannedTransport {
    /// An honest answer, signed by the mock platform key under `serial`.
    pub fn signed(status: u16, body: &str, serial: &str) -> Self {
        Self {
            status,
            body: Bytes::from(body.to_owned()),
            signed_body: Bytes::from(body.to_owned()),
            serial: serial.to_owned(),
            key: PrivateKey::from_pem(mock::PLATFORM_KEY_PEM).expect("the platform key parses"),
            seen: Arc::default(),
        }
    }

    /// An answer carrying `body` but signed over `signed_body`.
    pub fn tampered(body: &str, signed_body: &str) -> Self {
        Self {
            signed_body: Bytes::from(signed_body.to_owned()),
            ..Self::signed(200, body, mock::PLATFORM_KEY_ID)
        }
    }

    /// The requests handed to this transport so far.
    pub fn requests(&self) -> Vec<http::Request<Bytes>> {
        self.seen.lock().unwrap().clone()
    }
}

impl Transport for CannedTransport {
    fn send(
        &self,
        request: http::Request<Bytes>,
        _options: SendOptions,
    ) -> BoxFuture<'static, wechatpay::Result<http::Response<Bytes>>> {
        self.seen.lock().unwrap().push(request);
        let timestamp = wechatpay::toolkit::timestamp().to_string();
        let nonce = wechatpay::toolkit::nonce(32).expect("a nonce");
        let message = wechatpay::v3::sign::response_message(&timestamp, &nonce, &self.signed_body);
        let signature = wechatpay::v3::sign::sign_base64(&self.key, &message).expect("signs");
        let response = http::Response::builder()
            .status(self.status)
            .header("Content-Type", "application/json")
            .header("Wechatpay-Nonce", nonce)
            .header("Wechatpay-Serial", self.serial.as_str())
            .header("Wechatpay-Signature", signature)
            .header("Wechatpay-Timestamp", timestamp)
            .body(self.body.clone())
            .expect("a valid response");
        Box::pin(async move { Ok(response) })
    }
}

/// The resident memory high-water mark of this process in KiB, from `/proc/self/status`
/// (`None` where there is no `/proc`).
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs the ignored test `test` (`module::name`) of this test binary alone in a child
/// process, with `env` set and the variables of `unset` removed, and returns what it printed
/// on its line starting with `marker` (after `marker` and a space). Used by the tests that
/// measure a whole process (memory, threads) or change its environment.
pub fn child_report(test: &str, marker: &str, env: &[(&str, &str)], unset: &[&str]) -> String {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut command = std::process::Command::new(exe);
    command.args([
        test,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for name in unset {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("the test binary runs itself");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let prefix = format!("{marker} ");
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("the child printed no `{marker}` line:\n{stdout}"))
        .trim()
        .to_owned()
}

/// The PEM of a merchant certificate (the mock merchant's key and serial) that expires in
/// `days` days, made by `openssl` (`.ci/run` installs it when missing) under `dir`.
pub fn merchant_certificate_expiring_in(days: u32, dir: &std::path::Path) -> String {
    let key = dir.join("expiring-key.pem");
    let cert = dir.join("expiring-cert.pem");
    std::fs::write(&key, mock::MERCHANT_KEY_PEM).expect("the key file is written");
    let output = std::process::Command::new("openssl")
        .args(["req", "-x509", "-new", "-key"])
        .arg(&key)
        .args([
            "-days",
            &days.to_string(),
            "-subj",
            "/CN=1900000109 mock merchant",
        ])
        .args(["-set_serial", &format!("0x{}", mock::MERCHANT_SERIAL)])
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let pem = std::fs::read_to_string(&cert).expect("openssl wrote the certificate");
    let _ = std::fs::remove_file(&key);
    let _ = std::fs::remove_file(&cert);
    pem
}
