//! Where the I/O of a request runs, and the runtime thread behind it (with the blocking
//! bridge, the only place besides the transport and the request future that knows tokio).
//!
//! Two rules, each written once here: [`ClientRuntime::placed`] (async work runs inline
//! inside a tokio runtime, else on the runtime thread) and [`ClientRuntime::block_on`] (a
//! blocking call drives the runtime thread's runtime itself, or inside a tokio runtime hands
//! its work over and parks).
//!
//! A request's I/O needs a tokio runtime. The async verbs use the runtime that polls them;
//! under any other executor they hand the I/O to the process's runtime thread, a tokio
//! current-thread runtime on a thread of its own (the reqwest design), so their futures run
//! under any executor.
//!
//! A blocking verb drives that shared runtime itself, on the calling thread, for as long as
//! its call lasts (tokio lets several threads `block_on` one current-thread runtime: one
//! drives it, the others wait for their answer or their turn). The runtime thread drives it
//! whenever no blocking call does, so pooled connections stay watched (a keep-alive
//! connection the server closed is noticed) while the calling threads do other things: it
//! hands the runtime over when a blocking call arrives and takes it back once no blocking
//! call has run for [`LINGER`]. Calls one after the other thus run without a hop to another
//! thread and back (two context switches and two wake-ups each). A blocking call made inside
//! another tokio runtime (which must not be blocked on by tokio) hands its request to the
//! runtime thread and parks instead. Either way blocking calls work from any thread, inside
//! `spawn_blocking` too, and never nest runtimes.
//!
//! **One runtime thread for the whole process.** Every client of the process shares it (and
//! so, where their TLS identity and proxy settings are equal, one connection pool): 1,000
//! clients use one thread, not 1,000. It starts with the first request that needs it and
//! ends when the last client holding it is dropped; a client made after that starts a new
//! one. Its blocking pool (DNS lookups, writes to a `sink`) has at most
//! [`MAX_BLOCKING_THREADS`] threads, which end after ten idle seconds.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::runtime::{Handle, Runtime};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

use crate::error::{Error, ErrorKind, Result};

/// The most threads of the runtime's blocking pool: DNS lookups (`getaddrinfo`) and the
/// writes of `sink` downloads run there.
pub(crate) const MAX_BLOCKING_THREADS: usize = 4;

/// How long the runtime thread leaves the runtime to blocking calls after the last one ended,
/// before it drives the runtime again: calls closer together than this never wait for it.
pub(crate) const LINGER: Duration = Duration::from_millis(2);

/// The runtime thread of the process, while some client holds it.
static SHARED: Mutex<Weak<RuntimeThread>> = Mutex::new(Weak::new());

/// Where a piece of a request's work runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// On the tokio runtime polling the future, if there is one, else the runtime thread.
    Caller,
    /// On the process's runtime thread.
    #[cfg(feature = "blocking")]
    RuntimeThread,
}

/// A client's hold on the process's runtime thread, taken at the first request that needs
/// it; where its work runs.
#[derive(Default)]
pub(crate) struct ClientRuntime {
    thread: OnceLock<std::result::Result<Arc<RuntimeThread>, String>>,
}

impl ClientRuntime {
    /// The process's runtime thread (started, or joined, at the first call).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Transport`] when the thread or its runtime cannot start.
    pub(crate) fn thread(&self) -> Result<&RuntimeThread> {
        self.thread
            .get_or_init(|| RuntimeThread::shared().map_err(|e| e.to_string()))
            .as_ref()
            .map(|thread| &**thread)
            .map_err(|message| Error::new(ErrorKind::Transport, message.clone()))
    }

    /// Runs `work` where `placement` says: inline (polled by the caller) when the placement
    /// allows it and the caller is inside a tokio runtime, else as a task on the runtime
    /// thread, aborted when the returned future is dropped before it ends. The rule is decided
    /// at the first poll, where the caller is.
    ///
    /// # Errors
    ///
    /// `work`'s, or [`ErrorKind::Transport`] when the runtime thread cannot run it.
    pub(crate) async fn placed<T, F>(&self, placement: Placement, work: F) -> Result<T>
    where
        F: Future<Output = Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        if placement == Placement::Caller && Handle::try_current().is_ok() {
            return work.await;
        }
        Aborting(self.thread()?.spawn(work)).await
    }

    /// Runs `work` (a blocking closure: a file write) on the blocking pool of the runtime
    /// [`ClientRuntime::placed`] picks for `placement`.
    ///
    /// # Errors
    ///
    /// `work`'s, or [`ErrorKind::Transport`] when the pool cannot run it.
    pub(crate) async fn placed_blocking<T, F>(&self, placement: Placement, work: F) -> Result<T>
    where
        F: FnOnce() -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.placed(placement, async move {
            Aborting(tokio::task::spawn_blocking(work)).await
        })
        .await
    }

    /// Runs the future `make` gives for a placement to its end, blocking the calling thread:
    /// the calling thread drives the process's runtime while the call lasts (no hop to
    /// another thread); inside a tokio runtime, whose thread must not drive ours, the work
    /// goes to the runtime thread ([`Placement::RuntimeThread`]) and the thread parks.
    ///
    /// # Errors
    ///
    /// The future's, or [`ErrorKind::Transport`] when the runtime thread cannot start.
    #[cfg(feature = "blocking")]
    pub(crate) fn block_on<T, F>(&self, make: impl FnOnce(Placement) -> F) -> Result<T>
    where
        F: Future<Output = Result<T>>,
    {
        if Handle::try_current().is_ok() {
            return futures::executor::block_on(make(Placement::RuntimeThread));
        }
        self.thread()?.block_on(make(Placement::Caller))
    }
}

/// A task's handle that aborts the task when dropped before it ends, and turns a task that
/// stopped (its runtime shut down) into an error.
struct Aborting<T>(JoinHandle<Result<T>>);

impl<T> Future for Aborting<T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        Pin::new(&mut self.0).poll(cx).map(|joined| {
            joined.unwrap_or_else(|join_error| {
                Err(Error::new(
                    ErrorKind::Transport,
                    "the runtime stopped before the work finished",
                )
                .with_source(join_error))
            })
        })
    }
}

impl<T> Drop for Aborting<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A tokio runtime on a thread of its own, which blocking calls drive themselves while they
/// last.
pub(crate) struct RuntimeThread {
    runtime: Option<Arc<Runtime>>,
    handle: Handle,
    turns: Arc<Turns>,
    // Dropping this sender ends the thread's `block_on`, which then drops the runtime on its
    // own thread: a runtime must never be dropped inside an async context.
    _shutdown: oneshot::Sender<()>,
}

/// Who drives the runtime: the runtime thread, or the blocking calls in progress.
#[derive(Default)]
struct Turns {
    /// Blocking calls in progress (driving the runtime, or waiting for their turn).
    callers: AtomicUsize,
    /// Whether the runtime thread is (about to be) driving the runtime.
    driving: AtomicBool,
    /// Tells the runtime thread to hand the runtime over.
    wanted: Notify,
    /// Work was handed to the runtime while no one drove it: the runtime thread takes it back
    /// at once rather than after [`LINGER`].
    handed: AtomicBool,
    /// When the last blocking call ended; the runtime thread waits on `changed` for it.
    last_call: Mutex<Option<Instant>>,
    changed: Condvar,
    /// Set when the last client is gone, with the handle's own reference to the runtime,
    /// which the thread drops (never an async context).
    parting: Mutex<Option<Arc<Runtime>>>,
    stopping: AtomicBool,
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
        let runtime = Arc::new(
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .max_blocking_threads(MAX_BLOCKING_THREADS)
                .build()
                .map_err(|e| {
                    Error::new(ErrorKind::Transport, "cannot start the client's runtime")
                        .with_source(e)
                })?,
        );
        let handle = runtime.handle().clone();
        let turns = Arc::new(Turns::default());
        let (shutdown, stopped) = oneshot::channel::<()>();
        let (own, thread_turns) = (runtime.clone(), turns.clone());
        std::thread::Builder::new()
            .name("wechatpay-runtime".into())
            .spawn(move || drive(&own, &thread_turns, stopped))
            .map_err(|e| {
                Error::new(
                    ErrorKind::Transport,
                    "cannot start the client's runtime thread",
                )
                .with_source(e)
            })?;
        Ok(Self {
            runtime: Some(runtime),
            handle,
            turns,
            _shutdown: shutdown,
        })
    }

    /// Runs `future` on the runtime thread.
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = self.handle.spawn(future);
        self.handed_over();
        handle
    }

    /// Work went to the runtime: when no one drives it (the runtime thread lingering after a
    /// blocking call), the runtime thread takes it back now.
    fn handed_over(&self) {
        let turns = &*self.turns;
        if !turns.driving.load(Ordering::SeqCst) && turns.callers.load(Ordering::SeqCst) == 0 {
            turns.handed.store(true, Ordering::SeqCst);
            let _lock = turns
                .last_call
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            turns.changed.notify_one();
        }
    }

    /// Drives the runtime on this thread until `future` is done (or waits for its turn while
    /// another thread drives it). Never called inside a tokio runtime: see
    /// [`ClientRuntime::block_on`].
    #[cfg(feature = "blocking")]
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        let Some(runtime) = &self.runtime else {
            return futures::executor::block_on(future);
        };
        let turns = &*self.turns;
        turns.callers.fetch_add(1, Ordering::SeqCst);
        if turns.driving.load(Ordering::SeqCst) {
            turns.wanted.notify_one();
        }
        let output = runtime.block_on(future);
        if turns.callers.fetch_sub(1, Ordering::SeqCst) == 1 {
            *turns
                .last_call
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        }
        output
    }
}

impl Drop for RuntimeThread {
    fn drop(&mut self) {
        // The thread drops the runtime, after its last turn.
        *self
            .turns
            .parting
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = self.runtime.take();
        self.turns.stopping.store(true, Ordering::SeqCst);
        self.turns.changed.notify_all();
    }
}

/// The runtime thread: drives the runtime whenever no blocking call does, until the last
/// client is gone.
fn drive(runtime: &Runtime, turns: &Turns, mut stopped: oneshot::Receiver<()>) {
    loop {
        turns.driving.store(true, Ordering::SeqCst);
        // A blocking call that came meanwhile keeps the runtime: wait for the calls to end.
        let stop = turns.callers.load(Ordering::SeqCst) == 0
            && runtime.block_on(async {
                let wanted = std::pin::pin!(turns.wanted.notified());
                // The stop signal first.
                matches!(
                    futures::future::select(&mut stopped, wanted).await,
                    futures::future::Either::Left(_)
                )
            });
        turns.driving.store(false, Ordering::SeqCst);
        if stop || !wait_for_calls_to_end(turns) {
            break;
        }
    }
    // The handle's reference to the runtime, then this one: the runtime is dropped here.
    drop(
        turns
            .parting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take(),
    );
}

/// Waits until no blocking call has run for [`LINGER`]; `false` when the last client is gone.
fn wait_for_calls_to_end(turns: &Turns) -> bool {
    let mut last_call = turns
        .last_call
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    loop {
        if turns.stopping.load(Ordering::SeqCst) {
            return false;
        }
        let quiet_since = last_call.map_or(Duration::MAX, |at| at.elapsed());
        if turns.callers.load(Ordering::SeqCst) == 0
            && (quiet_since >= LINGER || turns.handed.swap(false, Ordering::SeqCst))
        {
            return true;
        }
        let wait = LINGER
            .saturating_sub(quiet_since)
            .max(Duration::from_micros(100));
        last_call = turns
            .changed
            .wait_timeout(last_call, wait)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}
