//! Streaming an answer's body to a file or a writer (the `sink` option), with a check of the
//! client's over its bytes (a bill's digest). The writes run on the runtime's blocking pool,
//! fed through a small bounded channel, so memory stays constant whatever the body's size.

use std::fmt;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::error::{Error, ErrorKind, Result};
use crate::options::Sink;

/// How many pieces of a body may wait for the writer.
const QUEUE: usize = 8;

/// A check over a body as it is written, which says at the end whether it may be kept: the
/// client's (a bill's digest), decided above the transport.
pub(crate) trait BodyCheck: Send {
    /// The next bytes.
    fn update(&mut self, piece: &[u8]) -> Result<()>;

    /// The end of the body: an error means it must not be kept.
    fn finish(self: Box<Self>) -> Result<()>;
}

/// The sink of one request, shared by its tries and the client: taken by the first transport
/// that streams into it ([`Reading::Stream`](super::Reading::Stream)), and telling the client
/// how many bytes went in.
#[derive(Clone)]
pub(crate) struct StreamTo {
    sink: Arc<Mutex<Option<BodySink>>>,
    written: Arc<OnceLock<u64>>,
}

impl StreamTo {
    /// A sink for one answer.
    pub(crate) fn new(mut sink: BodySink) -> Self {
        let written = Arc::new(OnceLock::new());
        sink.written = Some(written.clone());
        Self {
            sink: Arc::new(Mutex::new(Some(sink))),
            written,
        }
    }

    /// The sink, unless an earlier try of the request took it.
    pub(crate) fn take(&self) -> Option<BodySink> {
        self.sink
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Whether the sink was taken.
    pub(crate) fn taken(&self) -> bool {
        self.sink
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
    }

    /// How many bytes a transport wrote into the sink and committed, once it has.
    pub(crate) fn written(&self) -> Option<u64> {
        self.written.get().copied()
    }
}

impl fmt::Debug for StreamTo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StreamTo")
    }
}

/// Where one answer's body goes: a file (written under a new temporary name, mode `0600`,
/// renamed when complete) or a writer, with the client's check over its bytes (a bill's digest). Write the
/// pieces with [`BodySink::write`] inside a tokio runtime, then [`BodySink::finish`]; dropping
/// it unfinished discards a file's temporary copy.
pub struct BodySink {
    sink: Option<Sink>,
    check: Option<Box<dyn BodyCheck>>,
    running: Option<Running>,
    /// Where [`BodySink::finish`] tells the client how many bytes went in.
    written: Option<Arc<OnceLock<u64>>>,
}

struct Running {
    pieces: mpsc::Sender<Bytes>,
    done: JoinHandle<Result<u64>>,
}

impl fmt::Debug for BodySink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodySink")
            .field("sink", &self.sink)
            .field("checked", &self.check.is_some())
            .finish_non_exhaustive()
    }
}

impl BodySink {
    pub(crate) fn new(sink: Sink, check: Option<Box<dyn BodyCheck>>) -> Self {
        Self {
            sink: Some(sink),
            check,
            running: None,
            written: None,
        }
    }

    /// Writes the next piece of the body (waiting while the writer is behind).
    ///
    /// # Errors
    ///
    /// The writer's error (a full disk, a closed pipe, …); the sink is then spent.
    pub async fn write(&mut self, piece: Bytes) -> Result<()> {
        if self.running.is_none() {
            let (pieces, queue) = mpsc::channel(QUEUE);
            let writing = Writing::open(self.sink.take(), self.check.take())?;
            let done = tokio::task::spawn_blocking(move || writing.drain(queue));
            self.running = Some(Running { pieces, done });
        }
        let Some(running) = &self.running else {
            return Ok(());
        };
        if running.pieces.send(piece).await.is_ok() {
            return Ok(());
        }
        // The writer stopped: its error says why.
        match self.running.take() {
            Some(running) => match joined(running.done.await) {
                Err(error) => Err(error),
                Ok(_) => Err(Error::new(
                    ErrorKind::Transport,
                    "the sink stopped taking the body",
                )),
            },
            None => Ok(()),
        }
    }

    /// Ends the body: runs the client's check (a bill's digest), flushes, and renames a file
    /// into place. Returns how many bytes were written.
    ///
    /// # Errors
    ///
    /// The writer's error, or the check's: [`ErrorKind::Verification`](crate::ErrorKind::Verification)
    /// when the digest does not match (a file sink is then not written).
    pub async fn finish(mut self) -> Result<u64> {
        let written = match self.running.take() {
            Some(Running { pieces, done }) => {
                // A closed channel after the last piece means "done" to the writer; an
                // unfinished sink is dropped without this and aborts instead.
                let _ = pieces.send(Bytes::new()).await;
                drop(pieces);
                joined(done.await)
            }
            None => {
                let sink = self.sink.take();
                let check = self.check.take();
                joined(
                    tokio::task::spawn_blocking(move || Writing::open(sink, check)?.commit()).await,
                )
            }
        }?;
        if let Some(told) = &self.written {
            let _ = told.set(written);
        }
        Ok(written)
    }

    /// Writes a whole body at once, on the calling thread (a blocking context).
    pub(crate) fn write_whole(mut self, body: &[u8]) -> Result<u64> {
        let mut writing = Writing::open(self.sink.take(), self.check.take())?;
        writing.push(body)?;
        writing.commit()
    }
}

fn joined(done: std::result::Result<Result<u64>, tokio::task::JoinError>) -> Result<u64> {
    done.unwrap_or_else(|e| {
        Err(Error::new(ErrorKind::Transport, "the sink's writer stopped").with_source(e))
    })
}

/// The writing side, on a blocking thread.
struct Writing {
    out: Output,
    check: Option<Box<dyn BodyCheck>>,
    written: u64,
}

enum Output {
    File {
        file: File,
        partial: PathBuf,
        path: PathBuf,
        committed: bool,
    },
    Writer(Box<dyn Write + Send>),
}

impl Writing {
    fn open(sink: Option<Sink>, check: Option<Box<dyn BodyCheck>>) -> Result<Self> {
        let out = match sink {
            Some(Sink::Path(path)) => {
                let partial = partial_path(&path)?;
                let file = create_new(&partial)
                    .map_err(|e| sink_error(format!("cannot create `{}`", partial.display()), e))?;
                Output::File {
                    file,
                    partial,
                    path,
                    committed: false,
                }
            }
            Some(Sink::Writer(slot)) => {
                let writer = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
                Output::Writer(writer.ok_or_else(|| {
                    Error::invalid(
                        "this Options::sink_to writer was already used by an earlier request: \
                         give each request its own",
                    )
                })?)
            }
            None => {
                return Err(Error::new(
                    ErrorKind::Transport,
                    "the sink was already used",
                ));
            }
        };
        Ok(Self {
            out,
            check,
            written: 0,
        })
    }

    fn push(&mut self, piece: &[u8]) -> Result<()> {
        if let Some(check) = &mut self.check {
            check.update(piece)?;
        }
        let written = match &mut self.out {
            Output::File { file, partial, .. } => file
                .write_all(piece)
                .map_err(|e| sink_error(format!("cannot write `{}`", partial.display()), e)),
            Output::Writer(writer) => writer
                .write_all(piece)
                .map_err(|e| sink_error("the sink_to writer failed".to_owned(), e)),
        };
        written?;
        self.written += piece.len() as u64;
        Ok(())
    }

    /// Takes pieces until an empty one (the end) or until the channel closes (abandoned).
    fn drain(mut self, mut queue: mpsc::Receiver<Bytes>) -> Result<u64> {
        while let Some(piece) = queue.blocking_recv() {
            if piece.is_empty() {
                return self.commit();
            }
            self.push(&piece)?;
        }
        Err(Error::new(
            ErrorKind::Transport,
            "the download stopped before the end of the body; nothing was kept",
        ))
    }

    fn commit(mut self) -> Result<u64> {
        if let Some(check) = self.check.take() {
            check.finish().map_err(|e| {
                e.with_note(format!(
                    " ({} bytes streamed; {})",
                    self.written,
                    match &self.out {
                        Output::File { path, .. } =>
                            format!("`{}` was not written", path.display()),
                        Output::Writer(_) => "discard what the writer received".to_owned(),
                    }
                ))
            })?;
        }
        match &mut self.out {
            Output::File {
                file,
                partial,
                path,
                committed,
            } => {
                file.flush()
                    .and_then(|()| std::fs::rename(&*partial, &*path))
                    .map_err(|e| sink_error(format!("cannot write `{}`", path.display()), e))?;
                *committed = true;
            }
            Output::Writer(writer) => writer
                .flush()
                .map_err(|e| sink_error("the sink_to writer failed".to_owned(), e))?,
        }
        Ok(self.written)
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if let Output::File {
            partial, committed, ..
        } = self
            && !*committed
        {
            let _ = std::fs::remove_file(partial);
        }
    }
}

/// Creates the file `path`, which must not exist yet (never a file or link planted there),
/// readable and writable by its owner only (`0600`: a bill is the merchant's business).
fn create_new(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// `dir/.name.<random>.part`, beside `path`.
fn partial_path(path: &Path) -> Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        Error::invalid(format!(
            "the sink `{}` names no file (a directory?)",
            path.display()
        ))
    })?;
    let mut random = [0u8; 6];
    crate::crypto::random::fill(&mut random)?;
    let suffix = crate::crypto::hash::hex_lower(&random);
    let mut partial = std::ffi::OsString::from(".");
    partial.push(name);
    partial.push(format!(".{suffix}.part"));
    Ok(path.with_file_name(partial))
}

fn sink_error(what: String, error: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Transport,
        format!("{what}: {error}; the download was not kept"),
    )
    .with_source(error)
}
