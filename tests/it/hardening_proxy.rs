//! Hardening, round two: proxies. A proxy password with an unencoded reserved character is
//! refused with a message (it used to end the host part early: the start of the password
//! became the host, shown in errors and looked up in DNS), whether given to the builder or in
//! `HTTP_PROXY`; redaction hides everything before the last `@`; `NO_PROXY=*` sends every
//! host direct, IP literals included. Each test failed before the fix it guards.

use wechatpay::mock::{self, MockServer, Reply};
use wechatpay::{Client, ErrorKind, PrivateKey, PublicKey};

use crate::common::{PREPAID_PATH, TEMPLATE, child_report, prepaid_options};

const CHILD: &str = "WECHATPAY_HARDENING_PROXY_BASE";

/// The variables the proxy rules read, none of which reaches a child from this process.
const PROXY_VARIABLES: [&str; 9] = [
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUEST_METHOD",
];

/// Run in a child process with proxy variables set: builds a client with the default proxy
/// settings for the base URI in [`CHILD`] and makes the documented call.
#[test]
#[ignore = "run in a child process by the proxy hardening tests"]
fn hardening_proxy_child() {
    let Ok(base) = std::env::var(CHILD) else {
        return;
    };
    let built = Client::builder()
        .mchid(mock::MCHID)
        .serial(mock::MERCHANT_SERIAL)
        .private_key(PrivateKey::from_pem(mock::MERCHANT_KEY_PEM).unwrap())
        .platform_key(
            mock::PLATFORM_KEY_ID,
            PublicKey::from_pem(mock::PLATFORM_PUBLIC_KEY_PEM).unwrap(),
        )
        .base_uri(&base)
        .retry_policy(wechatpay::resilience::RetryPolicy::none())
        .build();
    let client = match built {
        Ok(client) => client,
        Err(error) => {
            println!("\n{CHILD} refused {error} {error:?}");
            return;
        }
    };
    match client[TEMPLATE].post(prepaid_options()) {
        Ok(response) => println!("\n{CHILD} status {}", response.status().as_u16()),
        Err(error) => println!("\n{CHILD} failed connect={} {error}", error.is_connect()),
    }
}

fn child(base: &str, variables: &[(&str, &str)]) -> String {
    let mut env = vec![(CHILD, base)];
    env.extend_from_slice(variables);
    child_report(
        "hardening_proxy::hardening_proxy_child",
        CHILD,
        &env,
        &PROXY_VARIABLES,
    )
}

/// A loopback port where nothing listens.
fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn proxy_passwords_with_reserved_characters_are_refused_not_leaked() {
    let mock = MockServer::start().unwrap();
    // Passwords whose start looks like a port: misparsed, `shop:8080` became the proxy.
    for (password, hint) in [
        ("8080/s3cret", "`/`"),
        ("8080#s3cret", "`#`"),
        ("8080?s3cret", "`?`"),
        ("8080 s3cret", "` `"),
    ] {
        let uri = format!("http://shop:{password}@127.0.0.1:3128");
        let builder = mock.client_builder().proxy(&uri);
        let shown = format!("{builder:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("8080"),
            "{shown}"
        );
        let error = builder.build().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Config, "{error}");
        let shown = format!("{error} {error:?}");
        assert!(shown.contains(hint), "{password}: {shown}");
        assert!(shown.contains("percent-encode"), "{shown}");
        assert!(shown.contains("http://***@127.0.0.1:3128"), "{shown}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("8080") && !shown.contains("shop"),
            "{shown}"
        );
    }
    // Encoded, it is accepted, and shown without credentials.
    let client = mock
        .client_builder()
        .proxy("http://shop:8080%2Fs3cret@127.0.0.1:3128")
        .build()
        .unwrap();
    assert_eq!(
        client.network().proxy.as_deref(),
        Some("http://127.0.0.1:3128")
    );

    // The environment's proxies follow the same rule.
    let base = format!("http://127.0.0.1:{}/", dead_port());
    for name in ["HTTP_PROXY", "ALL_PROXY", "http_proxy"] {
        let report = child(&base, &[(name, "http://shop:8080/s3cret@127.0.0.1:3128")]);
        assert!(report.starts_with("refused"), "{name}: {report}");
        assert!(report.contains(&name.to_ascii_uppercase()), "{report}");
        assert!(report.contains("percent-encode"), "{report}");
        assert!(
            !report.contains("s3cret") && !report.contains("8080"),
            "{report}"
        );
    }
}

#[test]
fn no_proxy_star_sends_every_host_direct_ip_literals_included() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    let proxy = format!("http://127.0.0.1:{}", dead_port());
    // The mock's URI is an IP literal, 127.0.0.1.
    for no_proxy in ["*", " * ", "example.com,*"] {
        let report = child(
            &mock.uri(),
            &[("HTTP_PROXY", proxy.as_str()), ("NO_PROXY", no_proxy)],
        );
        assert_eq!(report, "status 204", "NO_PROXY={no_proxy:?}");
    }
    // Without it, the (dead) proxy is used.
    let report = child(&mock.uri(), &[("HTTP_PROXY", proxy.as_str())]);
    assert!(report.starts_with("failed connect=true"), "{report}");
}
