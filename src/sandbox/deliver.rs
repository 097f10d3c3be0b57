//! One delivery of a notification to a merchant's `notify_url`, judged by WeChat Pay's rules:
//! the sandbox's own deliveries, `wechatpay notify send` and the console's "fire a
//! notification" all go through [`deliver`].

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};

use crate::error::{Error, ErrorKind, Result};
use crate::transport::{HttpsTransport, ProxySetting, Transport, TransportSettings};
use crate::xml;

/// How long WeChat Pay waits for the merchant's answer to a notification.
pub(crate) const ANSWER_LIMIT: Duration = Duration::from_secs(5);

/// How much of the merchant's answer is kept.
const ANSWER_KEPT: usize = 4096;

/// How a merchant answered one notification.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Delivered {
    /// The HTTP status of the answer; `None` when there was none (refused, reset, timed out).
    pub status: Option<u16>,
    /// The start of the answer's body (at most 4 KiB).
    pub body: Bytes,
    /// The time from sending the notification to the whole answer (or to the failure).
    pub latency: Duration,
    /// Why there is no answer (the connection refused, no answer within 5 s, …).
    pub error: Option<String>,
    v2: bool,
}

impl Delivered {
    /// Whether WeChat Pay counts this answer as received, and stops retrying: for an APIv3
    /// notification, `200` or `204` within 5 s (接收成功); for an APIv2 one (XML), `200` with
    /// `<return_code>SUCCESS</return_code>` within 5 s.
    pub fn accepted(&self) -> bool {
        match self.status {
            Some(200) if self.v2 => xml::parse(&self.body)
                .ok()
                .and_then(|fields| fields.get_str("return_code").map(|code| code == "SUCCESS"))
                .unwrap_or(false),
            Some(200 | 204) => !self.v2,
            _ => false,
        }
    }

    /// The answer in words, judged against what a merchant must do: accept a genuine
    /// notification (`genuine`), refuse a forged, tampered or stale one.
    pub fn verdict(&self, genuine: bool) -> String {
        let answer = match (&self.status, &self.error) {
            (Some(status), _) => format!("{status} in {} ms", self.latency.as_millis()),
            (None, Some(error)) => format!("no answer: {error}"),
            (None, None) => "no answer".to_owned(),
        };
        if self.status.is_none() {
            return if genuine {
                format!("{answer}: WeChat Pay would retry")
            } else {
                format!("{answer}: the notify_url was not reached, so nothing was checked")
            };
        }
        match (genuine, self.accepted()) {
            (true, true) => format!("{answer}: accepted (WeChat Pay stops retrying)"),
            (true, false) => format!(
                "{answer}: not accepted, WeChat Pay would retry (it needs {} within 5 s)",
                if self.v2 {
                    "200 with <return_code>SUCCESS</return_code>"
                } else {
                    "200 or 204"
                }
            ),
            (false, true) => format!(
                "{answer}: ACCEPTED a notification that must be refused: the handler does not \
                 verify what it is sent"
            ),
            (false, false) => format!("{answer}: refused, as it must be"),
        }
    }
}

/// POSTs a notification (`headers` and `body`, as the mock's notification builders make
/// them) to `url` as WeChat Pay does, directly (no proxy), waiting at most 5 s for the
/// answer, and reports the answer. An XML body (`Content-Type: text/xml`) is judged by the
/// APIv2 rules, anything else by the APIv3 ones (see [`Delivered::accepted`]).
///
/// Runs on the tokio runtime that polls it.
///
/// # Errors
///
/// [`ErrorKind::InvalidArgument`] when `url` is not an `http://` or `https://` URL; a
/// failure to reach it is not an error but a [`Delivered`] without a status.
pub async fn deliver(url: &str, headers: &HeaderMap, body: Bytes) -> Result<Delivered> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| Error::invalid(format!("the notify_url `{url}` is not a URL: {e}")))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        return Err(Error::invalid(format!(
            "the notify_url `{url}` must be an http:// or https:// URL with a host"
        )));
    }
    let v2 = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("xml"));
    let mut request = http::Request::new(body);
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers.clone();
    request.headers_mut().insert(
        http::header::USER_AGENT,
        HeaderValue::from_static("Mozilla/4.0 (wechatpay-rs sandbox)"),
    );
    let started = Instant::now();
    let sent = match transport() {
        Ok(transport) => {
            let options = crate::transport::SendOptions::default();
            tokio::time::timeout(ANSWER_LIMIT, transport.send(request, options)).await
        }
        Err(error) => Ok(Err(error)),
    };
    let latency = started.elapsed();
    let mut delivered = Delivered {
        status: None,
        body: Bytes::new(),
        latency,
        error: None,
        v2,
    };
    match sent {
        Ok(Ok(answer)) => {
            delivered.status = Some(answer.status().as_u16());
            let body = answer.into_body();
            delivered.body = body.slice(..body.len().min(ANSWER_KEPT));
        }
        Ok(Err(error)) => delivered.error = Some(error.to_string()),
        Err(_) => {
            delivered.error = Some(format!(
                "no answer within {} s (WeChat Pay gives up on it and retries)",
                ANSWER_LIMIT.as_secs()
            ));
        }
    }
    Ok(delivered)
}

/// The transport of deliveries: direct connections, Mozilla's roots.
fn transport() -> Result<&'static HttpsTransport> {
    static TRANSPORT: OnceLock<std::result::Result<HttpsTransport, String>> = OnceLock::new();
    TRANSPORT
        .get_or_init(|| {
            HttpsTransport::with_settings(&TransportSettings {
                proxy: ProxySetting::None,
                ..TransportSettings::default()
            })
            .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::new(ErrorKind::Config, e.clone()))
}
