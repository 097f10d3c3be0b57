//! Reading an answer's body: whole (bounded), a prefix, or streamed into a sink, each piece
//! within the read-idle limit.

use std::future::Future;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::seam::Reading;
use super::sink::BodySink;
use crate::error::{Error, ErrorKind, Result};

/// Waits for `step` no longer than the read-idle limit (`None`: the request's own deadline
/// comes first, see [`TotalDeadline`](super::TotalDeadline), so no timer is needed).
pub(super) async fn idle_limited<T>(
    idle: Option<Duration>,
    host: &str,
    step: impl Future<Output = T>,
) -> Result<T> {
    let Some(idle) = idle else {
        return Ok(step.await);
    };
    tokio::time::timeout(idle, step).await.map_err(|_| {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "{host} sent nothing for {idle:?} (ClientBuilder::read_timeout); WeChat Pay may \
                 still have processed the request, so query it (or retry with the same merchant \
                 order number) before sending it again"
            ),
        )
        .transient()
    })
}

/// Reads as much of `body` as `reading` allows (a whole body, or a prefix), each piece within
/// the read-idle limit.
pub(super) async fn read_body(
    mut body: Incoming,
    reading: Reading,
    headers: &http::HeaderMap,
    idle: Option<Duration>,
    host: &str,
) -> Result<Bytes> {
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    let (max, whole) = match reading {
        Reading::Prefix(max) => (max, false),
        Reading::Whole(max) => (max, true),
        // A sink is the caller's business; read nothing into memory for it.
        Reading::Stream(_) => (0, false),
    };
    if whole && declared.is_some_and(|declared| declared > max as u64) {
        return Err(too_large(host, max));
    }
    let capacity = declared.map_or(0, |declared| declared.min(max as u64) as usize);
    let mut collected = BytesMut::with_capacity(capacity.min(1024 * 1024));
    while let Some(frame) = idle_limited(idle, host, body.frame()).await? {
        let frame = frame.map_err(|e| broke_off(host, e))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        if collected.len() + data.len() > max {
            if whole {
                return Err(too_large(host, max));
            }
            let room = max - collected.len();
            collected.extend_from_slice(&data[..room]);
            return Ok(collected.freeze());
        }
        collected.extend_from_slice(&data);
    }
    Ok(collected.freeze())
}

/// Streams `body` into `sink`, each piece within the read-idle limit; no size limit.
pub(super) async fn stream_body(
    mut body: Incoming,
    mut sink: BodySink,
    idle: Option<Duration>,
    host: &str,
) -> Result<u64> {
    while let Some(frame) = idle_limited(idle, host, body.frame()).await? {
        let frame = frame.map_err(|e| broke_off(host, e))?;
        if let Ok(data) = frame.into_data()
            && !data.is_empty()
        {
            sink.write(data).await?;
        }
    }
    sink.finish().await
}

/// The body of the answer broke off.
pub(super) fn broke_off(host: &str, error: hyper::Error) -> Error {
    Error::new(
        ErrorKind::Transport,
        format!(
            "the answer from {host} broke off ({error}); WeChat Pay may still have processed \
             the request, so query it (or retry with the same merchant order number) before \
             sending it again"
        ),
    )
    .with_source(error)
    .transient()
}

fn too_large(host: &str, max: usize) -> Error {
    Error::new(
        ErrorKind::Transport,
        format!(
            "the answer from {host} is larger than {max} bytes, the most this client reads \
             (ClientBuilder::max_response_size); reading stopped there. WeChat Pay's answers are \
             small: for a large download raise the limit, or stream it into a file with the \
             `sink` option"
        ),
    )
}
