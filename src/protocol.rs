//! Which WeChat Pay API a request belongs to: the one rule the client and the mock share.
//!
//! WeChat Pay serves APIv3 under paths with a `v3` segment (`/v3/…`, `/hk/v3/…`,
//! `/v3/global/…`) and APIv2 everywhere else (`/pay/micropay`, `/secapi/pay/refund`, …). The
//! SDK spells an APIv2 call with a `v2/` prefix (`v2/pay/micropay`), which it drops before
//! sending. Every documented operation follows both rules; a call that breaks them is refused
//! before it is signed, since WeChat Pay would refuse it anyway.

use crate::error::{Error, Result};

/// One of WeChat Pay's two APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Api {
    /// XML bodies, MD5 / HMAC-SHA256 `sign`.
    V2,
    /// JSON bodies, RSA-signed `Authorization`.
    V3,
}

impl Api {
    /// The API that serves a request path: APIv3 when a segment is exactly `v3`.
    pub(crate) fn of_wire_path(path: &str) -> Api {
        let path = path.split('?').next().unwrap_or_default();
        if path.split('/').any(|segment| segment == "v3") {
            Api::V3
        } else {
            Api::V2
        }
    }
}

/// The API an expanded template asks for, and the path to send: `v2/…` (any case) is APIv2
/// with the prefix dropped; everything else is APIv3, as written.
pub(crate) fn route(expanded: &str) -> (Api, &str) {
    match expanded.get(..3) {
        Some(prefix) if prefix.eq_ignore_ascii_case("v2/") => (Api::V2, &expanded[3..]),
        _ => (Api::V3, expanded),
    }
}

/// Checks that the request path `wire_path` is served by the API `api` that the template asked
/// for.
///
/// # Errors
///
/// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) saying how to write the
/// path.
pub(crate) fn check(api: Api, wire_path: &str) -> Result<()> {
    match (api, Api::of_wire_path(wire_path)) {
        (Api::V3, Api::V2) => Err(Error::invalid(format!(
            "the request path `{wire_path}` has no `v3` segment, so WeChat Pay serves it as \
             APIv2 (XML); write APIv2 paths with the `v2/` prefix (e.g. `v2/pay/micropay`) and \
             APIv3 paths starting with `v3/`"
        ))),
        (Api::V2, Api::V3) => Err(Error::invalid(format!(
            "the request path `{wire_path}` has a `v3` segment, so WeChat Pay serves it as \
             APIv3 (JSON); drop the `v2/` prefix"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_prefix_and_serves_by_segment() {
        assert_eq!(route("v2/pay/micropay"), (Api::V2, "pay/micropay"));
        assert_eq!(route("V2/pay/micropay"), (Api::V2, "pay/micropay"));
        assert_eq!(route("v3/certificates"), (Api::V3, "v3/certificates"));
        assert_eq!(route("v2"), (Api::V3, "v2"));
        assert_eq!(Api::of_wire_path("/v3/certificates"), Api::V3);
        assert_eq!(Api::of_wire_path("/hk/v3/statements?x=v3"), Api::V3);
        assert_eq!(Api::of_wire_path("/pay/micropay?v3"), Api::V2);
        assert_eq!(Api::of_wire_path("/v30/x"), Api::V2);
        assert!(check(Api::V3, "/v3/x").is_ok());
        assert!(check(Api::V2, "/pay/micropay").is_ok());
        let error = check(Api::V3, "/pay/micropay").unwrap_err();
        assert!(error.to_string().contains("`v2/` prefix"), "{error}");
        assert!(check(Api::V2, "/v3/x").is_err());
    }
}
