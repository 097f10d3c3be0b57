//! The mock's HTTP and TLS servers: accept, check, record, answer.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use http::HeaderMap;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use super::body::MockBody;
use super::certificates;
use super::checks::{check_v2, check_v3};
use super::network;
use super::recorded::{RecordedRequest, multipart_media};
use super::rules::{Fault, Reply};
use super::signing::sign_reply;
use super::{Shared, TLS_CA_CERTIFICATE_PEM, TLS_SERVER_CERTIFICATE_PEM, TLS_SERVER_KEY_PEM};
use crate::error::{Error, ErrorKind, Result};
use crate::protocol::Api;
use crate::toolkit::SignType;
use crate::transport::{TlsIdentity, certificates_from_pem, provider};
use crate::v2;

/// Serves plain-HTTP connections on `listener` (see [`network::accept_loop`]).
pub(super) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let network = shared.network.clone();
    network::accept_loop(listener, network, |stream, accepting| {
        let reset = stream.reset_flag();
        tokio::spawn(serve(stream, shared.clone(), None, reset, accepting));
    })
    .await;
}

/// Serves TLS connections (client certificates required) on `listener`.
pub(super) async fn accept_tls_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
) {
    let network = shared.network.clone();
    network::accept_loop(listener, network, |stream, accepting| {
        let acceptor = acceptor.clone();
        let shared = shared.clone();
        let reset = stream.reset_flag();
        tokio::spawn(async move {
            // A failed handshake (no client certificate, an unknown CA) just closes.
            let Ok(stream) = acceptor.accept(stream).await else {
                return;
            };
            let certificate = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|certificate| Bytes::copy_from_slice(certificate.as_ref()));
            serve(stream, shared, certificate, reset, accepting).await;
        });
    })
    .await;
}

async fn serve<S>(
    stream: S,
    shared: Arc<Shared>,
    client_certificate: Option<Bytes>,
    reset: Arc<AtomicBool>,
    accepting: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let service = hyper::service::service_fn(move |request| {
        let shared = shared.clone();
        let client_certificate = client_certificate.clone();
        let reset = reset.clone();
        async move { handle(&shared, request, client_certificate, &reset).await }
    });
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    // An outage closes open connections too.
    tokio::select! {
        _ = connection => {}
        () = network::outage(accepting) => {}
    }
}

/// The TLS side of the mock: its server certificate, and client certificates required.
pub(super) fn tls_acceptor() -> Result<TlsAcceptor> {
    let tls_error = |e: &dyn fmt::Display| {
        Error::new(
            ErrorKind::Transport,
            format!("mock server: cannot set up TLS: {e}"),
        )
    };
    let provider = provider()?;
    let mut roots = rustls::RootCertStore::empty();
    for ca in certificates_from_pem(TLS_CA_CERTIFICATE_PEM)? {
        roots.add(ca).map_err(|e| tls_error(&e))?;
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| tls_error(&e))?;
    let identity = TlsIdentity::from_pem(TLS_SERVER_CERTIFICATE_PEM, TLS_SERVER_KEY_PEM)?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(&e))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(identity.chain, identity.key.clone_key())
        .map_err(|e| tls_error(&e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The error that makes hyper drop a connection without answering.
#[derive(Debug)]
struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for Dropped {}

async fn handle(
    shared: &Shared,
    request: http::Request<Incoming>,
    client_certificate: Option<Bytes>,
    reset: &AtomicBool,
) -> std::result::Result<http::Response<MockBody>, Dropped> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(Dropped),
    };
    let answer = answer(shared, &parts, body, client_certificate);
    if let Some(delay) = answer.reply.delay {
        tokio::time::sleep(delay).await;
    }
    match answer.reply.fault {
        Some(Fault::DropConnection) => return Err(Dropped),
        Some(Fault::Reset) => {
            reset.store(true, Ordering::Release);
            return Err(Dropped);
        }
        Some(Fault::Stall) => std::future::pending::<()>().await,
        _ => {}
    }
    Ok(answer.signed(shared))
}

/// A request checked and recorded, and the reply the mock chose for it.
pub(super) struct Answer {
    pub reply: Reply,
    path: String,
    v3: bool,
    sign_type: SignType,
    /// The request's `Wechatpay-Serial`, which picks the key of a migrating mock.
    serial: Option<String>,
}

/// Checks a request like WeChat Pay, records it, and picks the reply (any transport: the
/// HTTP/1.1 and TLS ports, and the HTTP/2 front).
pub(super) fn answer(
    shared: &Shared,
    parts: &http::request::Parts,
    body: Bytes,
    client_certificate: Option<Bytes>,
) -> Answer {
    let target = parts
        .uri
        .path_and_query()
        .map(|target| target.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let path = target.split('?').next().unwrap_or_default().to_owned();
    let media = multipart_media(&parts.headers, &body);
    let v3 = Api::of_wire_path(&path) == Api::V3;
    let (verdict, sign_type) = if v3 {
        let verdict = check_v3(
            shared,
            &parts.method,
            &target,
            &parts.headers,
            &body,
            media.as_ref(),
        );
        (verdict, SignType::Md5)
    } else {
        check_v2(&parts.method, &target, &body)
    };
    let reply = {
        let mut state = shared.state();
        if state.recording {
            state.requests.push(RecordedRequest {
                method: parts.method.clone(),
                target: target.clone(),
                version: parts.version,
                headers: redacted(&parts.headers),
                body: body.clone(),
                verdict: verdict.clone(),
                media,
                client_certificate,
            });
        }
        match verdict {
            Err(reason) if v3 => Reply::error(401, "SIGN_ERROR", &reason),
            Err(reason) => Reply::status(200)
                .header("Content-Type", "text/xml; charset=utf-8")
                .body(v2::reply(false, &reason)),
            Ok(()) => certificates::reply(shared, &mut state, &parts.method, &path),
        }
    };
    let serial = certificates::request_serial(&parts.headers).map(str::to_owned);
    Answer {
        reply,
        path,
        v3,
        sign_type,
        serial,
    }
}

impl Answer {
    /// The reply, signed now (after any delay: a rotation meanwhile changes the signer).
    pub(super) fn signed(self, shared: &Shared) -> http::Response<MockBody> {
        let key = shared.platform().answer_key(self.serial.as_deref());
        sign_reply(
            shared,
            &key,
            self.reply,
            &self.path,
            self.v3,
            self.sign_type,
        )
    }
}

/// The headers with `Authorization` marked sensitive, so that `Debug` does not print it.
fn redacted(headers: &HeaderMap) -> HeaderMap {
    let mut headers = headers.clone();
    if let Some(value) = headers.get_mut(http::header::AUTHORIZATION) {
        value.set_sensitive(true);
    }
    headers
}
