//! APIv2: XML bodies, MD5 / HMAC-SHA256 `sign`, mutual TLS, checked answers.

use bytes::Bytes;
use http::Method;

use crate::client::Config;
use crate::error::{Error, Result};
use crate::options::Options;
use crate::pipeline::{Prepared, Stamp};
use crate::response::Response;

pub mod sign;
pub mod xml;

/// The APIv2 path of an expanded template that starts with `v2/` (any case).
pub(crate) fn strip_prefix(expanded: &str) -> Option<&str> {
    let prefix = expanded.get(..3)?;
    prefix.eq_ignore_ascii_case("v2/").then(|| &expanded[3..])
}

/// How to check an APIv2 answer.
pub(crate) struct AnswerCheck;

pub(crate) fn prepare(
    _config: &Config,
    _method: Method,
    _path: &str,
    _options: &Options,
    _stamp: Stamp<'_>,
) -> Result<Prepared> {
    Err(Error::invalid("APIv2 is not supported yet"))
}

pub(crate) fn finish(
    _config: &Config,
    _check: &AnswerCheck,
    _response: http::Response<Bytes>,
) -> Result<Response> {
    Err(Error::invalid("APIv2 is not supported yet"))
}
