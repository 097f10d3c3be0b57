//! Criterion benches of the pure functions on every request's path.
//!
//! ```text
//! cargo bench --bench hot_paths
//! ```

mod common;

use std::hint::black_box;

use bytes::Bytes;
use common::{PATH, TEMPLATE, options};
use criterion::{Criterion, criterion_group, criterion_main};
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderValue, Method};
use serde_json::json;
use wechatpay::crypto::Backend;
use wechatpay::crypto::PlatformKeys;
use wechatpay::mock::{self, MockServer};
use wechatpay::transport::{SendOptions, Transport};
use wechatpay::v3::sign;
use wechatpay::v3::verify::verify_response;
use wechatpay::{Client, PrivateKey, PublicKey, Signer, toolkit};

const NONCE: &str = "593BEC0C930BF1AFEB40B4A08C8FB242";
const TIMESTAMP: u64 = 1_554_208_460;

/// A signer without RSA, to measure everything else.
struct NoRsa;

impl Signer for NoRsa {
    fn sign(&self, _message: &[u8]) -> wechatpay::Result<Vec<u8>> {
        Ok(vec![0x5a; 256])
    }
}

fn signing(c: &mut Criterion) {
    let message = sign::request_message(
        "POST",
        PATH,
        TIMESTAMP,
        NONCE,
        options()["json"].to_string().as_bytes(),
    );
    for backend in Backend::available().iter().copied() {
        let key = PrivateKey::from_pem_with_backend(mock::MERCHANT_KEY_PEM, backend)
            .expect("mock key parses");
        c.bench_function(&format!("sign/{backend:?}"), |b| {
            b.iter(|| sign::sign_base64(&key, black_box(&message)))
        });
    }
    c.bench_function("sign/message+authorization", |b| {
        b.iter(|| {
            let message = sign::request_message(
                "POST",
                black_box(PATH),
                TIMESTAMP,
                NONCE,
                black_box(b"{\"service_id\":\"2002000000000558128851361561536\"}"),
            );
            sign::authorization(
                "1900000109",
                mock::MERCHANT_SERIAL,
                TIMESTAMP,
                NONCE,
                &message.len().to_string(),
            )
        })
    });
}

fn verification(c: &mut Criterion) {
    let platform = PrivateKey::from_pem(mock::PLATFORM_KEY_PEM).expect("mock key parses");
    let body = br#"{"out_order_no":"1234323JKHDFE1243252","state":"DOING"}"#;
    let now = toolkit::timestamp();
    let message = sign::response_message(&now.to_string(), NONCE, body);
    let signature = sign::sign_base64(&platform, &message).expect("signs");
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("wechatpay-nonce", NONCE.to_owned()),
        ("wechatpay-serial", mock::PLATFORM_KEY_ID.to_owned()),
        ("wechatpay-signature", signature),
        ("wechatpay-timestamp", now.to_string()),
    ] {
        headers.insert(name, HeaderValue::from_str(&value).expect("header"));
    }
    for backend in Backend::available().iter().copied() {
        let mut keys = PlatformKeys::new();
        keys.insert(
            mock::PLATFORM_KEY_ID,
            PublicKey::from_pem_with_backend(mock::PLATFORM_PUBLIC_KEY_PEM, backend)
                .expect("mock key parses"),
        );
        c.bench_function(&format!("verify_response/{backend:?}"), |b| {
            b.iter(|| verify_response("/v3/x", black_box(&headers), black_box(body), now, &keys))
        });
    }
}

fn requests(c: &mut Criterion) {
    let mock = MockServer::start().expect("mock starts");
    let client: Client = mock
        .client_builder()
        .signer(NoRsa)
        .build()
        .expect("client builds");
    let vars = options();
    let map = vars.as_object().expect("object").clone();
    c.bench_function("expand_template", |b| {
        b.iter(|| toolkit::expand_template(black_box(TEMPLATE), black_box(&map)))
    });
    let chain = &client[TEMPLATE];
    c.bench_function(
        "build_request (options → signed request, RSA excluded)",
        |b| b.iter(|| chain.build_request(Method::POST, black_box(vars.clone()), TIMESTAMP, NONCE)),
    );
    c.bench_function("options clone (subtract from build_request)", |b| {
        b.iter(|| black_box(vars.clone()))
    });
    c.bench_function("client[\"…\"] cached lookup", |b| {
        b.iter(|| black_box(&client[black_box(TEMPLATE)]).path().len())
    });
    c.bench_function("client.chain(…)", |b| {
        b.iter(|| client.chain(black_box(TEMPLATE)))
    });
}

/// A transport that answers at once, in process: an unsigned download's empty `200`.
struct Instant200;

impl Transport for Instant200 {
    fn send(
        &self,
        _request: http::Request<Bytes>,
        _options: SendOptions,
    ) -> BoxFuture<'static, wechatpay::Result<http::Response<Bytes>>> {
        Box::pin(async { Ok(http::Response::new(Bytes::new())) })
    }
}

/// A subscriber that listens to everything and keeps nothing: what a request costs when
/// someone collects its span.
struct Listening;

impl tracing::Subscriber for Listening {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        struct Discard;
        impl tracing::field::Visit for Discard {
            fn record_debug(&mut self, _: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                black_box(value);
            }
        }
        values.record(&mut Discard);
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// A whole request through the pipeline (options, plan, signing without RSA, the tries, the
/// answer check, the span) with an in-process transport: the request path's own cost. Run it
/// with `--no-default-features --features aws-lc,blocking,macros` to see what the `tracing`
/// feature costs.
fn pipeline(c: &mut Criterion) {
    let mock = MockServer::start().expect("mock starts");
    let client: Client = mock
        .client_builder()
        .signer(NoRsa)
        .transport(Instant200)
        .build()
        .expect("client builds");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let chain = &client["v3/billdownload/file"];
    let options = || json!({"query": {"token": "6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA"}});
    let feature = if cfg!(feature = "tracing") {
        "tracing on"
    } else {
        "tracing off"
    };
    c.bench_function(
        &format!("request/in-process transport, RSA excluded ({feature}, no subscriber)"),
        |b| b.iter(|| runtime.block_on(chain.get_async(options())).expect("200")),
    );
    c.bench_function(
        &format!("request/in-process transport, RSA excluded, blocking verb ({feature})"),
        |b| b.iter(|| chain.get(options()).expect("200")),
    );
    if cfg!(feature = "tracing") {
        tracing::subscriber::with_default(Listening, || {
            c.bench_function(
                "request/in-process transport, RSA excluded (tracing on, a subscriber listening)",
                |b| b.iter(|| runtime.block_on(chain.get_async(options())).expect("200")),
            );
        });
    }
}

fn randomness(c: &mut Criterion) {
    c.bench_function("nonce (32 characters)", |b| b.iter(|| toolkit::nonce(32)));
}

criterion_group!(
    benches,
    signing,
    verification,
    requests,
    pipeline,
    randomness
);
criterion_main!(benches);
