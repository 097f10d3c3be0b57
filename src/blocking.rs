//! The client-owned runtime thread.
//!
//! Every request's I/O runs on one tokio current-thread runtime that the client starts on
//! its own thread at the first request (the reqwest design). The blocking verbs hand their
//! request to it and park until the answer is back, so they work from any thread, inside
//! `spawn_blocking` too, and never nest runtimes; the async verbs await the same hand-off, so
//! their futures run under any executor (tokio of either flavour, `futures::executor`).
//!
//! The thread ends when the last clone of the client is dropped.

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
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
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
}

/// Parks the current thread until `future` is done. The future must not need the current
/// thread's runtime: ours only waits for the runtime thread.
#[cfg(feature = "blocking")]
pub(crate) fn wait<F: Future>(future: F) -> F::Output {
    futures::executor::block_on(future)
}
