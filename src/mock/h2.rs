//! The mock over HTTP/2 and TLS ([`MockServer::start_h2`]): the same checks, rules, records
//! and signatures, served with the `h2` crate itself so that it can do what only HTTP/2
//! does: refuse a stream before processing it (`REFUSED_STREAM`, [`Fault::RefusedStream`]),
//! reset one after it began processing (`RST_STREAM`, [`Fault::Reset`]), and send a `GOAWAY`
//! that leaves the next streams out ([`MockH2::go_away_before_streams`]).

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use bytes::{Bytes, BytesMut};
use h2::server::SendResponse;
use h2::{Reason, RecvStream};
use http_body_util::BodyExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

use super::keys::{TLS_SERVER_CERTIFICATE_PEM, TLS_SERVER_KEY_PEM};
use super::mock_server::MockServer;
use super::rules::Fault;
use super::server::answer;
use super::shared::Shared;
use crate::error::{Error, ErrorKind, Result};
use crate::transport::{TlsIdentity, provider};

/// The HTTP/2 front of a [`MockServer`], on a port of its own; it stops when dropped.
///
/// TLS with the certificate of [`TLS_SERVER_CERTIFICATE_PEM`] (trusted by
/// [`MockServer::client_builder`]), ALPN `h2` only, no client certificate asked.
pub struct MockH2 {
    address: SocketAddr,
    go_away: Arc<AtomicU32>,
    _shutdown: oneshot::Sender<()>,
}

impl MockH2 {
    /// The base URI, `https://127.0.0.1:{port}/`.
    pub fn uri(&self) -> String {
        format!("https://{}/", self.address)
    }

    /// The next `connections` connections get a `GOAWAY` (`NO_ERROR`, last stream id 0) as
    /// soon as they open: their requests are left out unprocessed (and not recorded), as a
    /// server going down does.
    pub fn go_away_before_streams(&self, connections: u32) {
        self.go_away.store(connections, Ordering::SeqCst);
    }
}

impl fmt::Debug for MockH2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockH2")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl MockServer {
    /// Serves this mock over HTTP/2 and TLS too, on a new port of `127.0.0.1` (see
    /// [`MockH2`]): its rules, records ([`RecordedRequest::version`](super::RecordedRequest::version)
    /// is `HTTP/2`) and signatures are this mock's. Faults of its own: [`Fault::RefusedStream`]
    /// resets the stream with `REFUSED_STREAM` after reading the request, without processing
    /// it; [`Fault::Reset`] and [`Fault::DropConnection`] reset it with `INTERNAL_ERROR` (it
    /// began processing).
    ///
    /// ```
    /// use serde_json::json;
    /// use wechatpay::http::Version;
    /// use wechatpay::mock::{MockServer, Reply};
    ///
    /// # fn main() -> wechatpay::Result<()> {
    /// let mock = MockServer::start()?;
    /// let h2 = mock.start_h2()?;
    /// mock.on("GET", "/v3/certificates", Reply::json(200, json!({"data": []})));
    /// let client = mock.client_builder().base_uri(&h2.uri()).build()?;
    /// client["v3/certificates"].get(())?;
    /// assert_eq!(mock.requests()[0].version, Version::HTTP_2);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Transport`] when no port can be bound or no thread started.
    pub fn start_h2(&self) -> Result<MockH2> {
        let io_error = |what: &str, e: std::io::Error| {
            Error::new(
                ErrorKind::Transport,
                format!("mock HTTP/2 server: {what}: {e}"),
            )
            .with_source(e)
        };
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
            .map_err(|e| io_error("cannot bind 127.0.0.1", e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| io_error("cannot make the socket non-blocking", e))?;
        let address = listener
            .local_addr()
            .map_err(|e| io_error("no local address", e))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| io_error("cannot start a runtime", e))?;
        let acceptor = acceptor()?;
        let go_away = Arc::new(AtomicU32::new(0));
        let (shutdown, stopped) = oneshot::channel::<()>();
        let (shared, refusing) = (self.shared.clone(), go_away.clone());
        std::thread::Builder::new()
            .name("wechatpay-mock-h2".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = TcpListener::from_std(listener) else {
                        return;
                    };
                    tokio::select! {
                        _ = stopped => {}
                        () = accept_loop(listener, acceptor, shared, refusing) => {}
                    }
                });
            })
            .map_err(|e| io_error("cannot start a thread", e))?;
        Ok(MockH2 {
            address,
            go_away,
            _shutdown: shutdown,
        })
    }
}

/// TLS with the mock's server certificate, ALPN `h2` only, no client certificate.
fn acceptor() -> Result<TlsAcceptor> {
    let identity = TlsIdentity::from_pem(TLS_SERVER_CERTIFICATE_PEM, TLS_SERVER_KEY_PEM)?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider()?)
        .with_safe_default_protocol_versions()
        .and_then(|builder| {
            builder
                .with_no_client_auth()
                .with_single_cert(identity.chain, identity.key.clone_key())
        })
        .map_err(|e| {
            Error::new(
                ErrorKind::Transport,
                format!("mock HTTP/2 server: cannot set up TLS: {e}"),
            )
        })?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
    go_away: Arc<AtomicU32>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let refuse = go_away
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        tokio::spawn(connection(stream, acceptor.clone(), shared.clone(), refuse));
    }
}

/// One connection: its streams, each answered by a task of its own; with `refuse`, a
/// `GOAWAY` before any stream.
async fn connection(stream: TcpStream, acceptor: TlsAcceptor, shared: Arc<Shared>, refuse: bool) {
    let Ok(stream) = acceptor.accept(stream).await else {
        return;
    };
    let Ok(mut connection) = h2::server::handshake(stream).await else {
        return;
    };
    if refuse {
        // No stream was processed yet: the GOAWAY's last stream id is 0.
        connection.abrupt_shutdown(Reason::NO_ERROR);
    }
    while let Some(accepted) = connection.accept().await {
        let Ok((request, respond)) = accepted else {
            break;
        };
        if !refuse {
            tokio::spawn(exchange(shared.clone(), request, respond));
        }
    }
    if refuse {
        // The socket stays open a while after the GOAWAY: closed with the client's request
        // unread, it would be reset, and the reset can discard the GOAWAY before the client
        // reads it.
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
    drop(connection);
}

/// One stream: the request read whole, answered as the mock's rules say.
async fn exchange(
    shared: Arc<Shared>,
    request: http::Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
) {
    let (parts, mut body) = request.into_parts();
    let mut received = BytesMut::new();
    while let Some(piece) = body.data().await {
        let Ok(piece) = piece else {
            return;
        };
        let _ = body.flow_control().release_capacity(piece.len());
        received.extend_from_slice(&piece);
    }
    let answer = answer(&shared, &parts, received.freeze(), None);
    if let Some(delay) = answer.reply.delay {
        tokio::time::sleep(delay).await;
    }
    match answer.reply.fault {
        Some(Fault::RefusedStream) => return respond.send_reset(Reason::REFUSED_STREAM),
        Some(Fault::Reset | Fault::DropConnection) => {
            return respond.send_reset(Reason::INTERNAL_ERROR);
        }
        Some(Fault::Stall) => std::future::pending::<()>().await,
        _ => {}
    }
    let (head, body) = answer.signed(&shared).into_parts();
    let Ok(body) = body.collect().await.map(|collected| collected.to_bytes()) else {
        return respond.send_reset(Reason::INTERNAL_ERROR);
    };
    let head = http::Response::from_parts(head, ());
    let Ok(mut sending) = respond.send_response(head, body.is_empty()) else {
        return;
    };
    if !body.is_empty() {
        let _ = sending.send_data(body, true);
    }
}
