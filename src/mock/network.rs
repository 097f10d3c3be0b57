//! The mock's network behaviour: an outage (connections refused, open ones closed) and the
//! return on the same ports, connections closed after an idle time as real servers do, and
//! connections reset on purpose.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Sleep;

/// What the mock's accept loops and connections follow.
pub(super) struct Network {
    /// `true` while the mock accepts connections; `false` closes the listeners and every open
    /// connection.
    pub accepting: watch::Sender<bool>,
    /// Connections silent this long (both ways) are closed.
    pub idle_limit: Mutex<Option<Duration>>,
}

impl Network {
    pub(super) fn new() -> Self {
        Self {
            accepting: watch::Sender::new(true),
            idle_limit: Mutex::new(None),
        }
    }

    fn idle_limit(&self) -> Option<Duration> {
        *self
            .idle_limit
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether something listens at `address` (a connection attempt, closed at once).
pub(super) fn listening(address: SocketAddr) -> bool {
    std::net::TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok()
}

/// Accepts connections on `first` while the mock accepts them, listening again on the same
/// port after an outage; hands each to `serve`.
pub(super) async fn accept_loop<F>(first: TcpListener, network: Arc<Network>, mut serve: F)
where
    F: FnMut(MockStream, watch::Receiver<bool>),
{
    let Ok(address) = first.local_addr() else {
        return;
    };
    let mut listener = Some(first);
    let mut accepting = network.accepting.subscribe();
    loop {
        if !*accepting.borrow_and_update() {
            listener = None;
            if accepting.changed().await.is_err() {
                return;
            }
            continue;
        }
        let Some(current) = &listener else {
            listener = rebind(address).await;
            continue;
        };
        tokio::select! {
            accepted = current.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors or the like: wait instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let idle = network.idle_limit();
                serve(MockStream::new(stream, idle), network.accepting.subscribe());
            }
            changed = accepting.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

/// Listens on `address` again (retrying briefly while the port is still taken).
async fn rebind(address: SocketAddr) -> Option<TcpListener> {
    for _ in 0..100 {
        if let Ok(listener) = TcpListener::bind(address).await {
            return Some(listener);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

/// Resolves when the mock stops accepting connections: open ones close then.
pub(super) async fn outage(mut accepting: watch::Receiver<bool>) {
    loop {
        if !*accepting.borrow_and_update() {
            return;
        }
        if accepting.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// A connection of the mock: closed after its idle limit, reset on request.
pub(super) struct MockStream {
    inner: TcpStream,
    idle: Option<(Duration, Pin<Box<Sleep>>)>,
    last_active: Instant,
    reset: Arc<AtomicBool>,
}

impl MockStream {
    fn new(inner: TcpStream, idle: Option<Duration>) -> Self {
        Self {
            inner,
            idle: idle.map(|limit| (limit, Box::pin(tokio::time::sleep(limit)))),
            last_active: Instant::now(),
            reset: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Set it, and the connection ends with a TCP reset instead of a close.
    pub(super) fn reset_flag(&self) -> Arc<AtomicBool> {
        self.reset.clone()
    }

    fn active(&mut self) {
        self.last_active = Instant::now();
    }
}

impl Drop for MockStream {
    fn drop(&mut self) {
        if self.reset.load(Ordering::Acquire) {
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for MockStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.reset.load(Ordering::Acquire) {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        let before = buf.filled().len();
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.active();
            return read;
        }
        if read.is_ready() {
            return read;
        }
        let last_active = this.last_active;
        if let Some((limit, sleep)) = &mut this.idle {
            let due = last_active + *limit;
            if Instant::now() >= due {
                // Idle too long: end of stream, which makes the server close the connection.
                return Poll::Ready(Ok(()));
            }
            sleep.as_mut().reset(tokio::time::Instant::from_std(due));
            if sleep.as_mut().poll(cx).is_ready() {
                cx.waker().wake_by_ref();
            }
        }
        Poll::Pending
    }
}

impl AsyncWrite for MockStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.reset.load(Ordering::Acquire) {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            this.active();
        }
        written
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.reset.load(Ordering::Acquire) {
            // No FIN: the drop sends the reset.
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}
