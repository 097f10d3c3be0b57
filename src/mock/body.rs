//! The bodies the mock sends: whole bytes, or bytes generated as they are sent (an oversized
//! answer that is never held in memory, an answer cut off halfway).

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

/// An answer's body.
pub(super) enum MockBody {
    /// The bytes, until sent.
    Whole(Option<Bytes>),
    Generated(Generated),
}

impl MockBody {
    pub(super) fn whole(bytes: Bytes) -> Self {
        MockBody::Whole(Some(bytes).filter(|bytes| !bytes.is_empty()))
    }

    /// The whole body, when it is not made as it is sent.
    #[cfg_attr(not(feature = "sandbox"), allow(dead_code))]
    pub(super) fn bytes(&self) -> Option<Bytes> {
        match self {
            MockBody::Whole(bytes) => Some(bytes.clone().unwrap_or_default()),
            MockBody::Generated(_) => None,
        }
    }

    /// `len` bytes of `x`, made 64 KiB at a time as the client reads them.
    pub(super) fn oversized(len: u64) -> Self {
        MockBody::Generated(Generated {
            chunk: Bytes::from(vec![b'x'; 64 * 1024]),
            remaining: len,
            then_fail: false,
        })
    }

    /// `len` bytes repeating `pattern`, made about 64 KiB at a time as the client reads them.
    pub(super) fn repeating(pattern: &Bytes, len: u64) -> Self {
        let copies = (64 * 1024 / pattern.len().max(1)).max(1);
        MockBody::Generated(Generated {
            chunk: Bytes::from(pattern.repeat(copies)),
            remaining: if pattern.is_empty() { 0 } else { len },
            then_fail: false,
        })
    }

    /// `bytes`, then an error that makes the server drop the connection.
    pub(super) fn cut_after(bytes: Bytes) -> Self {
        MockBody::Generated(Generated {
            remaining: bytes.len() as u64,
            chunk: bytes,
            then_fail: true,
        })
    }
}

/// Repeats `chunk` until `remaining` bytes are sent, then fails if `then_fail`.
pub(super) struct Generated {
    chunk: Bytes,
    remaining: u64,
    then_fail: bool,
}

/// The error that ends a cut-off body.
#[derive(Debug)]
pub(super) struct CutOff;

impl fmt::Display for CutOff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the mock cut the body off on purpose")
    }
}

impl std::error::Error for CutOff {}

impl Body for MockBody {
    type Data = Bytes;
    type Error = CutOff;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, CutOff>>> {
        match self.get_mut() {
            MockBody::Whole(bytes) => Poll::Ready(bytes.take().map(|bytes| Ok(Frame::data(bytes)))),
            MockBody::Generated(generated) => {
                if generated.remaining == 0 {
                    if std::mem::take(&mut generated.then_fail) {
                        return Poll::Ready(Some(Err(CutOff)));
                    }
                    return Poll::Ready(None);
                }
                let len = generated.remaining.min(generated.chunk.len() as u64) as usize;
                generated.remaining -= len as u64;
                Poll::Ready(Some(Ok(Frame::data(generated.chunk.slice(..len)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            MockBody::Whole(bytes) => bytes.is_none(),
            MockBody::Generated(generated) => generated.remaining == 0 && !generated.then_fail,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            MockBody::Whole(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |bytes| bytes.len() as u64))
            }
            // No exact size: sent chunked (HTTP/1.1), so the client must count.
            MockBody::Generated(_) => SizeHint::default(),
        }
    }
}
