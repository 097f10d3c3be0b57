//! What a request tells `tracing` (feature `tracing`): one span per request with its fields,
//! events for retries, failover and refreshes, and never a secret. Captured with a small
//! subscriber of the test's own, installed for the test's thread only.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use wechatpay::mock::{self, MockServer, Reply};
use wechatpay::resilience::{FailoverPolicy, RetryPolicy};

use crate::common::{OUT_ORDER_NO, PREPAID_PATH, TEMPLATE, prepaid_body, prepaid_options};

/// A span or an event, as captured.
#[derive(Debug, Clone, Default)]
struct Captured {
    name: String,
    target: String,
    fields: BTreeMap<String, String>,
    /// For an event: the span it belongs to.
    parent: Option<u64>,
}

impl Visit for Captured {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.fields
            .insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.fields
            .insert(field.name().to_owned(), value.to_owned());
    }
}

/// Keeps every span and event.
#[derive(Default)]
struct Capture {
    next: AtomicU64,
    spans: Mutex<BTreeMap<u64, Captured>>,
    events: Mutex<Vec<Captured>>,
    current: Mutex<Vec<u64>>,
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attributes: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let mut span = Captured {
            name: attributes.metadata().name().to_owned(),
            target: attributes.metadata().target().to_owned(),
            ..Captured::default()
        };
        attributes.record(&mut span);
        self.spans.lock().unwrap().insert(id, span);
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some(span) = self.spans.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(span);
        }
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut captured = Captured {
            name: event.metadata().name().to_owned(),
            target: event.metadata().target().to_owned(),
            parent: event
                .parent()
                .map(Id::into_u64)
                .or_else(|| self.current.lock().unwrap().last().copied()),
            ..Captured::default()
        };
        event.record(&mut captured);
        self.events.lock().unwrap().push(captured);
    }

    fn enter(&self, span: &Id) {
        self.current.lock().unwrap().push(span.into_u64());
    }

    fn exit(&self, span: &Id) {
        let mut current = self.current.lock().unwrap();
        if let Some(at) = current.iter().rposition(|id| *id == span.into_u64()) {
            current.remove(at);
        }
    }
}

impl Capture {
    /// The request spans, in order.
    fn requests(&self) -> Vec<(u64, Captured)> {
        self.spans
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, span)| span.name == "wechatpay.request")
            .map(|(id, span)| (*id, span.clone()))
            .collect()
    }

    /// Everything captured, as text.
    fn text(&self) -> String {
        format!(
            "{:?}{:?}",
            self.spans.lock().unwrap(),
            self.events.lock().unwrap()
        )
    }
}

/// Makes the future of `work` (a request's span starts with its future) and runs it on a
/// current-thread runtime of this thread, with `capture` as the subscriber.
fn captured<F: std::future::Future>(capture: &Arc<Capture>, work: impl FnOnce() -> F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(capture.clone(), || runtime.block_on(work()))
}

#[test]
fn a_request_has_one_span_with_its_fields_and_no_secret() {
    let mock = MockServer::start().unwrap();
    mock.on("POST", PREPAID_PATH, Reply::status(204));
    let client = mock.client_builder().build().unwrap();
    let capture = Arc::new(Capture::default());
    let response = captured(&capture, || client[TEMPLATE].post_async(prepaid_options())).unwrap();

    let spans = capture.requests();
    assert_eq!(spans.len(), 1, "one span per request");
    let span = &spans[0].1;
    assert_eq!(span.target, "wechatpay");
    let field = |name: &str| span.fields.get(name).cloned().unwrap_or_default();
    assert_eq!(field("method"), "POST");
    assert_eq!(field("path"), TEMPLATE, "the template, not its values");
    assert_eq!(field("host"), "127.0.0.1");
    assert_eq!(field("attempt"), "1");
    assert_eq!(field("status"), "204");
    assert_eq!(field("request_id"), response.request_id().unwrap());
    assert_eq!(field("verified_by"), mock::PLATFORM_KEY_ID);
    assert!(field("elapsed_ms").parse::<u64>().is_ok(), "{span:?}");

    let text = capture.text();
    let sent = &mock.requests()[0];
    let authorization = sent.header("authorization").unwrap();
    let signature = authorization
        .split("signature=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    for secret in [
        authorization,
        signature,
        "WECHATPAY2-SHA256-RSA2048",
        OUT_ORDER_NO,
        prepaid_body()["service_id"].as_str().unwrap(),
        prepaid_body()["openid"].as_str().unwrap(),
        mock::APIV3_KEY,
        mock::SECRET,
        "PRIVATE KEY",
    ] {
        assert!(!text.contains(secret), "`{secret}` in {text}");
    }
}

#[test]
fn retries_failover_and_refreshes_are_events() {
    let primary = MockServer::start().unwrap();
    let backup = MockServer::start().unwrap();
    let path = "/v3/merchant-service/complaints-v2";
    backup.on("GET", path, Reply::json(200, json!({"data": []})));
    backup.once("GET", path, Reply::error(503, "SYSTEM_ERROR", "系统繁忙"));
    let client = primary
        .client_builder()
        .backup_base_uri(&backup.uri())
        .failover_policy(FailoverPolicy::default().after(1))
        .retry_policy(
            RetryPolicy::default().backoff(Duration::from_millis(5), Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    primary.refuse_connections();
    let capture = Arc::new(Capture::default());
    captured(&capture, || {
        client["v3/merchant-service/complaints-v2"].get_async(())
    })
    .unwrap();

    let spans = capture.requests();
    assert_eq!(spans.len(), 1);
    let (id, span) = &spans[0];
    assert_eq!(span.fields["attempt"], "3", "{span:?}");
    assert_eq!(span.fields["status"], "200");
    let events: Vec<Captured> = capture
        .events
        .lock()
        .unwrap()
        .iter()
        .filter(|event| event.target == "wechatpay")
        .cloned()
        .collect();
    let messages: Vec<&str> = events
        .iter()
        .map(|event| event.fields["message"].as_str())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("requests go to the backup")),
        "{messages:?}"
    );
    let retries: Vec<&Captured> = events
        .iter()
        .filter(|event| event.fields["message"] == "sending the request again")
        .collect();
    assert_eq!(retries.len(), 2, "{events:?}");
    assert!(retries.iter().all(|event| event.parent == Some(*id)));
    assert_eq!(
        retries[0].fields["other_host"], "true",
        "nothing sent: to the backup"
    );
    assert_eq!(retries[1].fields["status"], "503");

    // A refresh of the platform certificates is an event too.
    let capture = Arc::new(Capture::default());
    captured(&capture, || client.refresh_certificates_async()).unwrap();
    let text = capture.text();
    assert!(
        text.contains("the platform certificates were refreshed"),
        "{text}"
    );
    assert!(!text.contains(mock::APIV3_KEY));
}

#[test]
fn a_merchant_certificate_that_expires_in_20_days_is_warned_of() {
    let mock = MockServer::start().unwrap();
    let dir = std::env::temp_dir().join(format!(
        "wechatpay-expiry-{}-{}",
        std::process::id(),
        wechatpay::toolkit::nonce(8).unwrap()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let pem = crate::common::merchant_certificate_expiring_in(20, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    let certificate = wechatpay::Certificate::from_pem(&pem).unwrap();

    let capture = Arc::new(Capture::default());
    let client = tracing::subscriber::with_default(capture.clone(), || {
        mock.client_builder()
            .merchant_certificate(&certificate)
            .build()
            .unwrap()
    });
    let text = capture.text();
    assert!(
        text.contains(
            "the merchant API certificate 4A7F3C2D1E0B9A8877665544332211AABBCCDDEE expires in"
        ),
        "{text}"
    );
    let expiring = client.expiring();
    assert_eq!(expiring.len(), 1);
    assert!((19..=20).contains(&expiring[0].days_left), "{expiring:?}");

    // A window of 10 days: nothing yet.
    let calm = Arc::new(Capture::default());
    let later = tracing::subscriber::with_default(calm.clone(), || {
        mock.client_builder()
            .merchant_certificate(&certificate)
            .expiry_warning_days(10)
            .build()
            .unwrap()
    });
    assert!(later.expiring().is_empty());
    assert!(!calm.text().contains("expires in"), "{}", calm.text());
}
