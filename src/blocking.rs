//! Where the I/O of a request runs, and the runtime thread behind it.
//!
//! A request's I/O needs a tokio runtime. The async verbs use the runtime that polls them;
//! under any other executor they hand the I/O to the client's runtime thread, a tokio
//! current-thread runtime that the client starts on its own thread at the first such request
//! (the reqwest design), so their futures run under any executor.
//!
//! The blocking verbs drive the request on a runtime of the calling thread (made at the
//! thread's first blocking call), so a blocking call costs no thread hop; inside a tokio
//! context (an async task, `spawn_blocking`), where a nested runtime is not allowed, they park
//! on the client's runtime thread instead. Either way they work from any thread and never
//! nest runtimes.
//!
//! The runtime thread ends when the last clone of the client is dropped.

use std::future::Future;

use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::chain::Placement;
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

#[cfg(feature = "blocking")]
thread_local! {
    /// The runtime that drives the blocking calls of this thread; `None` if it could not be
    /// made.
    static THREAD_RUNTIME: std::cell::OnceCell<Option<tokio::runtime::Runtime>> =
        const { std::cell::OnceCell::new() };
}

/// Runs the request future that `make` builds to completion, parking the calling thread: on
/// this thread's own runtime when the thread is outside any tokio context, else on the
/// client's runtime thread.
#[cfg(feature = "blocking")]
pub(crate) fn wait<F: Future>(make: impl FnOnce(Placement) -> F) -> F::Output {
    match on_thread_runtime(make) {
        Ok(output) => output,
        Err(make) => futures::executor::block_on(make(Placement::RuntimeThread)),
    }
}

/// Runs the future on this thread's runtime, or gives `make` back when there is none to use.
#[cfg(feature = "blocking")]
fn on_thread_runtime<F: Future, M: FnOnce(Placement) -> F>(make: M) -> Result<F::Output, M> {
    if Handle::try_current().is_ok() {
        return Err(make);
    }
    THREAD_RUNTIME.with(
        |cell| match cell.get_or_init(|| current_thread_runtime().ok()) {
            Some(runtime) => Ok(runtime.block_on(make(Placement::Caller))),
            None => Err(make),
        },
    )
}
