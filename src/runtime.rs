//! Where the I/O of a request runs, and the runtime thread behind it (with the blocking
//! bridge, the only place besides the transport and the request future that knows tokio).
//!
//! A request's I/O needs a tokio runtime. The async verbs use the runtime that polls them;
//! under any other executor they hand the I/O to the client's runtime thread, a tokio
//! current-thread runtime that the client starts on its own thread at the first such request
//! (the reqwest design), so their futures run under any executor.
//!
//! The blocking verbs always hand their request to that runtime thread and park until the
//! answer is back, so they work from any thread, inside `spawn_blocking` too, and never nest
//! runtimes; their connections stay driven (closed keep-alive connections are noticed) while
//! the calling threads do other things.
//!
//! The runtime thread ends when the last clone of the client is dropped.

use std::future::Future;

use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::error::{Error, ErrorKind, Result};

/// A tokio runtime on a thread of its own.
pub(crate) struct RuntimeThread {
    handle: Handle,
    // Dropping this sender ends the thread's `block_on`, which then drops the runtime on its
    // own thread: a runtime must never be dropped inside an async context.
    _shutdown: oneshot::Sender<()>,
}

impl RuntimeThread {
    /// Starts the runtime thread.
    pub(crate) fn start() -> Result<Self> {
        let runtime = current_thread_runtime().map_err(|e| {
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
}

fn current_thread_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Parks the calling thread until `future` is done. The future must do its I/O on the
/// client's runtime thread (`Placement::RuntimeThread`), never on a runtime this thread may
/// be driving.
#[cfg(feature = "blocking")]
pub(crate) fn wait<F: Future>(future: F) -> F::Output {
    futures::executor::block_on(future)
}
