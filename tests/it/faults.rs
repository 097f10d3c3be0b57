//! The fault matrix: every way a hostile or broken WeChat Pay can answer, through each of
//! the six verb styles (pure chain, declarative, property; blocking and async), is an error
//! of the right kind, never a success.

use std::io::Write;
use std::time::Duration;

use serde_json::json;
use wechatpay::mock::{Fault, MockServer, Reply};
use wechatpay::resilience::RetryPolicy;
use wechatpay::{Client, ErrorKind, Response, Verification, chain};

/// How a call is written.
#[derive(Debug, Clone, Copy)]
enum Style {
    Chain,
    ChainAsync,
    Declarative,
    DeclarativeAsync,
    Property,
    PropertyAsync,
}

const STYLES: [Style; 6] = [
    Style::Chain,
    Style::ChainAsync,
    Style::Declarative,
    Style::DeclarativeAsync,
    Style::Property,
    Style::PropertyAsync,
];

/// Which endpoint a fault is served on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Certificates,
    /// An overseas statement, signed over `{"sha1":"…"}`.
    Statements,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::Certificates => "/v3/certificates",
            Endpoint::Statements => "/v3/global/statements",
        }
    }
}

/// One row of the matrix: what the mock answers, and the error it must give.
struct Case {
    name: &'static str,
    endpoint: Endpoint,
    reply: fn() -> Reply,
    expected: ErrorKind,
}

fn ok_json() -> Reply {
    Reply::json(
        200,
        json!({"data": [{"serial_no": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"}]}),
    )
}

fn cases() -> Vec<Case> {
    let verification = ErrorKind::Verification;
    let case = |name, endpoint, reply, expected| Case {
        name,
        endpoint,
        reply,
        expected,
    };
    use Endpoint::{Certificates, Statements};
    vec![
        case(
            "unsigned",
            Certificates,
            || ok_json().fault(Fault::Unsigned),
            verification(Verification::MissingHeader),
        ),
        case(
            "unsigned 204",
            Certificates,
            || Reply::status(204).unsigned(),
            verification(Verification::MissingHeader),
        ),
        case(
            "bad signature",
            Certificates,
            || ok_json().fault(Fault::BadSignature),
            verification(Verification::Signature),
        ),
        case(
            "stale",
            Certificates,
            || ok_json().fault(Fault::StaleTimestamp),
            verification(Verification::Timestamp),
        ),
        case(
            "future",
            Certificates,
            || ok_json().fault(Fault::FutureTimestamp),
            verification(Verification::Timestamp),
        ),
        case(
            "unknown serial",
            Certificates,
            || ok_json().fault(Fault::UnknownSerial),
            verification(Verification::UnknownSerial),
        ),
        case(
            "probe",
            Certificates,
            || ok_json().fault(Fault::Probe),
            verification(Verification::Probe),
        ),
        case(
            "wrong signature type",
            Certificates,
            || ok_json().fault(Fault::WrongSignatureType),
            verification(Verification::Signature),
        ),
        case(
            "tampered body",
            Certificates,
            || ok_json().fault(Fault::TamperedBody),
            verification(Verification::Signature),
        ),
        case(
            "statement SHA-1 mismatch",
            Statements,
            || ok_json().fault(Fault::StatementSha1Mismatch),
            verification(Verification::Signature),
        ),
        case(
            "tampered statement",
            Statements,
            || ok_json().fault(Fault::TamperedBody),
            verification(Verification::Signature),
        ),
        case(
            "truncated body",
            Certificates,
            || ok_json().fault(Fault::TruncatedBody),
            ErrorKind::Transport,
        ),
        case(
            "oversized body",
            Certificates,
            || ok_json().fault(Fault::OversizedBody(4 << 20)),
            ErrorKind::Transport,
        ),
        case(
            "3xx",
            Certificates,
            || {
                Reply::status(301)
                    .header("Location", "https://evil.example/")
                    .unsigned()
            },
            ErrorKind::Api,
        ),
        case(
            "signed 3xx",
            Certificates,
            || Reply::status(302).header("Location", "https://evil.example/"),
            ErrorKind::Api,
        ),
        case(
            "5xx",
            Certificates,
            || Reply::error(503, "SYSTEM_ERROR", "系统繁忙"),
            ErrorKind::Api,
        ),
        case(
            "5xx endless",
            Certificates,
            || Reply::status(500).fault(Fault::OversizedBody(1 << 30)),
            ErrorKind::Api,
        ),
        case(
            "dropped connection",
            Certificates,
            || ok_json().fault(Fault::DropConnection),
            ErrorKind::Transport,
        ),
        case(
            "delay past the timeout",
            Certificates,
            || ok_json().delay(Duration::from_secs(3)),
            ErrorKind::Timeout,
        ),
    ]
}

fn call(
    client: &Client,
    runtime: &tokio::runtime::Runtime,
    style: Style,
    endpoint: Endpoint,
) -> wechatpay::Result<Response> {
    let statements = endpoint == Endpoint::Statements;
    let path = &endpoint.path()[1..];
    match style {
        Style::Chain if statements => chain!(client.v3.global.statements).get(()),
        Style::Chain => chain!(client.v3.certificates).get(()),
        Style::ChainAsync if statements => {
            runtime.block_on(chain!(client.v3.global.statements).get_async(()))
        }
        Style::ChainAsync => runtime.block_on(chain!(client.v3.certificates).get_async(())),
        Style::Declarative => client.chain(path).get(()),
        Style::DeclarativeAsync => runtime.block_on(client.chain(path).get_async(())),
        Style::Property => client[path].get(()),
        Style::PropertyAsync => runtime.block_on(client[path].get_async(())),
    }
}

#[test]
fn every_fault_is_rejected_in_every_style() {
    let mock = MockServer::start().expect("the mock starts");
    // One try each: every hostile answer is seen once (a GET that broke off or answered 5xx
    // would otherwise be sent again, and meet the mock's honest answer).
    let client = mock
        .client_builder()
        .timeout(Duration::from_millis(400))
        .max_response_size(1 << 20)
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("the client builds");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let cases = cases();
    assert!(cases.len() >= 14);
    let (mut rejected, mut accepted, mut wrong) = (0, Vec::new(), Vec::new());
    for case in &cases {
        for style in STYLES {
            mock.once("GET", case.endpoint.path(), (case.reply)());
            match call(&client, &runtime, style, case.endpoint) {
                Ok(response) => accepted.push(format!("{} via {style:?}: {response:?}", case.name)),
                Err(error) if error.kind() == case.expected => rejected += 1,
                Err(error) => wrong.push(format!(
                    "{} via {style:?}: {:?} instead of {:?}: {error}",
                    case.name,
                    error.kind(),
                    case.expected
                )),
            }
        }
    }
    // Unfaulted, every style and endpoint succeeds: the rejections above are the faults'.
    for endpoint in [Endpoint::Certificates, Endpoint::Statements] {
        for style in STYLES {
            mock.once("GET", endpoint.path(), ok_json());
            call(&client, &runtime, style, endpoint).expect("an honest answer is accepted");
        }
    }
    // Written to the process's stderr, past the test harness's capture: the summary shows in
    // every `cargo test`.
    let _ = writeln!(
        std::io::stderr(),
        "faults: {rejected} rejected, {} accepted ({} faults x {} styles)",
        accepted.len(),
        cases.len(),
        STYLES.len()
    );
    assert!(accepted.is_empty(), "accepted:\n{}", accepted.join("\n"));
    assert!(wrong.is_empty(), "wrong kind:\n{}", wrong.join("\n"));
    assert_eq!(rejected, cases.len() * STYLES.len());
}
