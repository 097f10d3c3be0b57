//! Where the I/O of a request runs, and the runtime thread behind it (with the blocking
//! bridge, the only place besides the transport and the request future that knows tokio).
//!
//! A request's I/O needs a tokio runtime. The async verbs use the runtime that polls them;
//! under any other executor they hand the I/O to the process's runtime thread, a tokio
//! current-thread runtime on a thread of its own (the reqwest design), so their futures run
//! under any executor.
//!
//! The blocking verbs always hand their request to that runtime thread and park until the
//! answer is back, so they work from any thread, inside `spawn_blocking` too, and never nest
//! runtimes; their connections stay driven (closed keep-alive connections are noticed) while
//! the calling threads do other things.
//!
//! **One runtime thread for the whole process.** Every client of the process shares it (and
//! so, where their TLS identity and proxy settings are equal, one connection pool): 1,000
//! clients use one thread, not 1,000. It starts with the first request that needs it and
//! ends when the last client holding it is dropped; a client made after that starts a new
//! one. Its blocking pool (DNS lookups, writes to a `sink`) has at most
//! [`MAX_BLOCKING_THREADS`] threads, which end after ten idle seconds.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::error::{Error, ErrorKind, Result};

/// The most threads of the runtime's blocking pool: DNS lookups (`getaddrinfo`) and the
/// writes of `sink` downloads run there.
pub(crate) const MAX_BLOCKING_THREADS: usize = 4;

/// The runtime thread of the process, while some client holds it.
static SHARED: Mutex<Weak<RuntimeThread>> = Mutex::new(Weak::new());

/// A tokio runtime on a thread of its own.
pub(crate) struct RuntimeThread {
    handle: Handle,
    // Dropping this sender ends the thread's `block_on`, which then drops the runtime on its
    // own thread: a runtime must never be dropped inside an async context.
    _shutdown: oneshot::Sender<()>,
}

impl RuntimeThread {
    /// The process's runtime thread, started if no client holds one.
    pub(crate) fn shared() -> Result<Arc<Self>> {
        let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(running) = shared.upgrade() {
            return Ok(running);
        }
        let started = Arc::new(Self::start()?);
        *shared = Arc::downgrade(&started);
        Ok(started)
    }

    /// Starts a runtime thread.
    fn start() -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .max_blocking_threads(MAX_BLOCKING_THREADS)
            .build()
            .map_err(|e| {
                Error::new(ErrorKind::Transport, "cannot start the client's runtime").with_source(e)
            })?;
        let handle = runtime.handle().clone();
        let (shutdown, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("wechatpay-runtime".into())
            .spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })
            .map_err(|e| {
                Error::new(
                    ErrorKind::Transport,
                    "cannot start the client's runtime thread",
                )
                .with_source(e)
            })?;
        Ok(Self {
            handle,
            _shutdown: shutdown,
        })
    }

    /// Runs `future` on the runtime thread.
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs `work` on the runtime's blocking pool.
    pub(crate) fn spawn_blocking<F, T>(&self, work: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.handle.spawn_blocking(work)
    }
}

/// Parks the calling thread until `future` is done. The future must do its I/O on the
/// runtime thread (`Placement::RuntimeThread`), never on a runtime this thread may be
/// driving.
#[cfg(feature = "blocking")]
pub(crate) fn wait<F: Future>(future: F) -> F::Output {
    futures::executor::block_on(future)
}
