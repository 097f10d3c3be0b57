//! Proxies: plain forwarding for `http`, CONNECT tunnels for `https` (mutual TLS through the
//! tunnel too), basic authentication that is never shown, and the environment variables.
//!
//! The client targets a port where nothing listens; only the test's proxy, which forwards
//! every request to the mock, can reach it. A request that did not pass the proxy fails.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use wechatpay::mock::{self, MockServer, Reply};
use wechatpay::{Client, ErrorKind, PrivateKey, PublicKey};

use crate::common::{PREPAID_PATH, TEMPLATE, child_report, prepaid_options};

/// What the proxy saw.
#[derive(Default)]
struct Stats {
    tunnels: AtomicUsize,
    forwarded: AtomicUsize,
    refused: AtomicUsize,
    /// The request line of each request: `CONNECT host:port …` or `POST http://… …`.
    lines: Mutex<Vec<String>>,
}

/// A forward proxy on loopback, sending every request to the mock whatever it names.
struct TestProxy {
    address: SocketAddr,
    stats: Arc<Stats>,
    _stop: oneshot::Sender<()>,
}

impl TestProxy {
    /// `credentials`: the `user:password` it asks for, if any.
    fn start(mock: &MockServer, credentials: Option<&str>) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let stats = Arc::new(Stats::default());
        let expected = credentials.map(|credentials| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(credentials)
            )
        });
        let (plain, tls) = (mock.address(), mock.tls_address());
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = stats.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).unwrap();
                let accepting = async {
                    while let Ok((client, _)) = listener.accept().await {
                        let (stats, expected) = (serving.clone(), expected.clone());
                        tokio::spawn(async move {
                            let _ = relay(client, plain, tls, expected, stats).await;
                        });
                    }
                };
                tokio::select! {
                    _ = stopped => {}
                    () = accepting => {}
                }
            });
        });
        Self {
            address,
            stats,
            _stop: stop,
        }
    }

    fn uri(&self) -> String {
        format!("http://{}", self.address)
    }
}

async fn relay(
    mut client: TcpStream,
    plain: SocketAddr,
    tls: SocketAddr,
    expected: Option<String>,
    stats: Arc<Stats>,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let end = loop {
        let mut chunk = [0u8; 4096];
        let read = client.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    stats.lines.lock().unwrap().push(request_line.clone());
    let given = headers
        .iter()
        .find(|(name, _)| name == "proxy-authorization")
        .map(|(_, value)| value.clone());
    if let Some(expected) = &expected
        && given.as_ref() != Some(expected)
    {
        stats.refused.fetch_add(1, Ordering::SeqCst);
        client
            .write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                  Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\
                  Connection: close\r\n\r\n",
            )
            .await?;
        return Ok(());
    }
    let mut parts = request_line.split(' ');
    let (method, target, version) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or("HTTP/1.1"),
    );
    if method == "CONNECT" {
        stats.tunnels.fetch_add(1, Ordering::SeqCst);
        let mut upstream = TcpStream::connect(tls).await?;
        client
            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            .await?;
        upstream.write_all(&buffer[end..]).await?;
        tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
        return Ok(());
    }
    stats.forwarded.fetch_add(1, Ordering::SeqCst);
    // Absolute form → origin form; one request per connection, so each one is counted.
    let path = target
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|slash| &rest[slash..]))
        .unwrap_or(target);
    let mut forwarded = format!("{method} {path} {version}\r\n");
    for (name, value) in &headers {
        if !name.starts_with("proxy-") && name != "connection" {
            forwarded.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    forwarded.push_str("connection: close\r\n\r\n");
    let mut upstream = TcpStream::connect(plain).await?;
    upstream.write_all(forwarded.as_bytes()).await?;
    upstream.write_all(&buffer[end..]).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

/// A port where nothing listens: only the proxy reaches "it".
fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn plain_http_goes_through_a_forwarding_proxy() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    let proxy = TestProxy::start(&mock, None);
    let port = dead_port();
    let client = mock
        .client_builder()
        .base_uri(&format!("http://127.0.0.1:{port}/"))
        .proxy(&proxy.uri())
        .build()
        .unwrap();
    assert_eq!(client.network().proxy, Some(proxy.uri()));
    for _ in 0..3 {
        assert_eq!(
            client[TEMPLATE].post(prepaid_options()).unwrap().status(),
            204
        );
    }
    assert_eq!(proxy.stats.forwarded.load(Ordering::SeqCst), 3);
    assert_eq!(mock.requests().len(), 3);
    assert!(mock.requests().iter().all(|r| r.verdict.is_ok()));
    let lines = proxy.stats.lines.lock().unwrap().clone();
    assert!(
        lines
            .iter()
            .all(|line| line.starts_with(&format!("POST http://127.0.0.1:{port}{PREPAID_PATH} "))),
        "absolute-form requests: {lines:?}"
    );
}

#[test]
fn https_and_mutual_tls_go_through_a_connect_tunnel() {
    let mock = MockServer::start().unwrap();
    mock.on(
        "POST",
        "/secapi/pay/refund",
        Reply::xml(
            200,
            json!({"return_code": "SUCCESS", "result_code": "SUCCESS"}),
        ),
    );
    let proxy = TestProxy::start(&mock, None);
    let port = dead_port();
    let client = mock
        .client_builder()
        .base_uri(&format!("https://127.0.0.1:{port}/"))
        .proxy(&proxy.uri())
        .build()
        .unwrap();
    for _ in 0..2 {
        client["v2/secapi/pay/refund"]
            .post(json!({
                "security": true,
                "xml": {"mch_id": mock::MCHID, "out_trade_no": "1217752501201407033233368018", "out_refund_no": "R1"},
            }))
            .expect("through the tunnel");
    }
    assert!(proxy.stats.tunnels.load(Ordering::SeqCst) >= 1);
    assert_eq!(proxy.stats.forwarded.load(Ordering::SeqCst), 0);
    let lines = proxy.stats.lines.lock().unwrap().clone();
    assert!(
        lines
            .iter()
            .all(|line| line.starts_with(&format!("CONNECT 127.0.0.1:{port} "))),
        "{lines:?}"
    );
    let sent = mock.requests();
    assert_eq!(sent.len(), 2);
    assert!(
        sent.iter().all(|r| r.client_certificate.is_some()),
        "mutual TLS runs end to end through the tunnel"
    );
}

#[test]
fn proxy_credentials_are_sent_and_never_shown() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    mock.on(
        "POST",
        "/secapi/pay/refund",
        Reply::xml(
            200,
            json!({"return_code": "SUCCESS", "result_code": "SUCCESS"}),
        ),
    );
    let proxy = TestProxy::start(&mock, Some("shop:s3cret@word"));
    let port = dead_port();
    let authorized = format!("http://shop:s3cret%40word@{}", proxy.address);
    let builder = mock
        .client_builder()
        .base_uri(&format!("http://127.0.0.1:{port}/"))
        .proxy(&authorized);
    assert!(!format!("{builder:?}").contains("s3cret"), "{builder:?}");
    let client = builder.build().unwrap();
    assert!(!format!("{client:?}").contains("s3cret"));
    assert_eq!(client.network().proxy, Some(proxy.uri()));
    client[TEMPLATE].post(prepaid_options()).expect("forwarded");
    client["v2/secapi/pay/refund"]
        .post(json!({
            "security": true,
            "base_uri": format!("https://127.0.0.1:{port}/"),
            "xml": {"mch_id": mock::MCHID, "out_trade_no": "1217752501201407033233368018", "out_refund_no": "R1"},
        }))
        .expect("tunnelled");
    assert_eq!(proxy.stats.refused.load(Ordering::SeqCst), 0);
    assert_eq!(proxy.stats.forwarded.load(Ordering::SeqCst), 1);
    assert_eq!(proxy.stats.tunnels.load(Ordering::SeqCst), 1);
    assert!(
        mock.requests()
            .iter()
            .all(|r| r.header("proxy-authorization").is_none()),
        "the credentials stop at the proxy"
    );

    // Wrong credentials: refused by the proxy, and still never shown.
    let wrong = format!("http://shop:n0t-it@{}", proxy.address);
    let client = mock
        .client_builder()
        .base_uri(&format!("https://127.0.0.1:{port}/"))
        .proxy(&wrong)
        .retry_policy(wechatpay::resilience::RetryPolicy::none())
        .build()
        .unwrap();
    let error = client["v2/secapi/pay/refund"]
        .post(json!({"security": true, "xml": {"mch_id": mock::MCHID}}))
        .unwrap_err();
    assert!(error.is_connect(), "{error}");
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("n0t-it"), "{shown}");
    assert!(shown.contains(&proxy.uri()), "the proxy is named: {shown}");
    assert!(proxy.stats.refused.load(Ordering::SeqCst) >= 1);

    // Only plain-HTTP proxies.
    let error = mock
        .client_builder()
        .proxy("socks5://shop:s3cret@127.0.0.1:1080")
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(!error.to_string().contains("s3cret"), "{error}");
}

const ENV_CHILD: &str = "WECHATPAY_PROXY_CHILD_BASE";

/// Run in a child process by [`the_proxy_variables_are_honoured`], with `HTTP_PROXY` (and
/// maybe `NO_PROXY`) set: a client with the default proxy settings calls `base`.
#[test]
#[ignore = "run in a child process by the_proxy_variables_are_honoured"]
fn proxy_variables_child() {
    let Ok(base) = std::env::var(ENV_CHILD) else {
        return;
    };
    let client = Client::builder()
        .mchid(mock::MCHID)
        .serial(mock::MERCHANT_SERIAL)
        .private_key(PrivateKey::from_pem(mock::MERCHANT_KEY_PEM).unwrap())
        .platform_key(
            mock::PLATFORM_KEY_ID,
            PublicKey::from_pem(mock::PLATFORM_PUBLIC_KEY_PEM).unwrap(),
        )
        .base_uri(&base)
        .retry_policy(wechatpay::resilience::RetryPolicy::none())
        .build()
        .unwrap();
    match client[TEMPLATE].post(prepaid_options()) {
        Ok(response) => println!("\n{ENV_CHILD} status {}", response.status().as_u16()),
        Err(error) => println!("\n{ENV_CHILD} connect {}", error.is_connect()),
    }
}

/// Runs [`proxy_variables_child`] with `variables`, and returns what it printed.
fn child(base: &str, variables: &[(&str, &str)]) -> String {
    let mut env = vec![(ENV_CHILD, base)];
    env.extend_from_slice(variables);
    child_report(
        "proxy::proxy_variables_child",
        ENV_CHILD,
        &env,
        &PROXY_VARIABLES,
    )
}

/// The variables the proxy rules read (curl's), and `REQUEST_METHOD` (under which they are
/// ignored): none of the test process's own reaches a child.
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

#[test]
fn the_proxy_variables_are_honoured() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    let proxy = TestProxy::start(&mock, None);
    let base = format!("http://127.0.0.1:{}/", dead_port());
    // Each case runs in a process of its own: no variable leaks into the other tests.
    assert_eq!(child(&base, &[("HTTP_PROXY", &proxy.uri())]), "status 204");
    assert_eq!(child(&base, &[("ALL_PROXY", &proxy.uri())]), "status 204");
    assert_eq!(proxy.stats.forwarded.load(Ordering::SeqCst), 2);
    // NO_PROXY wins; HTTPS_PROXY is for https destinations only.
    assert_eq!(
        child(
            &base,
            &[
                ("HTTP_PROXY", &proxy.uri()),
                ("NO_PROXY", "localhost,127.0.0.1")
            ]
        ),
        "connect true"
    );
    assert_eq!(
        child(&base, &[("HTTPS_PROXY", &proxy.uri())]),
        "connect true"
    );
    // A CGI script ignores them (httpoxy).
    assert_eq!(
        child(
            &base,
            &[("HTTP_PROXY", &proxy.uri()), ("REQUEST_METHOD", "GET")]
        ),
        "connect true"
    );
    assert_eq!(proxy.stats.forwarded.load(Ordering::SeqCst), 2);
    let _ = writeln!(
        std::io::stderr(),
        "proxy: HTTP_PROXY and ALL_PROXY honoured; NO_PROXY, HTTPS_PROXY and CGI respected"
    );
}
