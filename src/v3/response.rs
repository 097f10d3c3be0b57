//! Checking APIv3 responses: a success status, then the `Wechatpay-*` signature.

use bytes::Bytes;

use super::verify;
use crate::config::Config;
use crate::error::{ErrorResponse, Result, status_error};
use crate::response::Response;

/// Checks the answer to an APIv3 request for `path`; `now` is the Unix time in seconds.
pub(crate) fn check(
    config: &Config,
    path: &str,
    response: http::Response<Bytes>,
    now: u64,
) -> Result<Response> {
    let (parts, body) = response.into_parts();
    if !parts.status.is_success() {
        return Err(status_error(parts.status, parts.headers, body));
    }
    let keys = config.platform_keys.snapshot();
    match verify::verify_response(path, &parts.headers, &body, now, &keys) {
        Ok(verified_by) => Ok(Response::new(
            parts.status,
            parts.headers,
            body,
            verified_by,
        )),
        Err(error) => {
            Err(error.with_response(ErrorResponse::new(parts.status, parts.headers, body)))
        }
    }
}
