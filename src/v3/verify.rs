//! APIv3 answer and notification verification.
//!
//! Pure functions: the clock is an input. WeChat Pay signs `TIMESTAMP\nNONCE\nBODY\n` with
//! the platform key named by `Wechatpay-Serial` (a platform-certificate serial or a
//! `PUB_KEY_ID_…`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;

use super::sign::{AUTHORIZATION_SCHEME, response_message};
use crate::crypto::{PlatformKeys, Usable, Validity, sha1_hex};
use crate::error::{Error, Result, Verification};
use crate::response::VerifiedBy;
use crate::time::format_rfc3339;

/// `Wechatpay-Nonce`.
pub const HEADER_NONCE: &str = "wechatpay-nonce";
/// `Wechatpay-Serial`.
pub const HEADER_SERIAL: &str = "wechatpay-serial";
/// `Wechatpay-Signature`.
pub const HEADER_SIGNATURE: &str = "wechatpay-signature";
/// `Wechatpay-Timestamp`.
pub const HEADER_TIMESTAMP: &str = "wechatpay-timestamp";
/// `Wechatpay-Statement-Sha1`, sent with the overseas statements.
pub(crate) const HEADER_STATEMENT_SHA1: &str = "wechatpay-statement-sha1";
/// `Wechatpay-Signature-Type`: when present, it must be
/// [`AUTHORIZATION_SCHEME`] (`WECHATPAY2-SHA256-RSA2048`).
pub(crate) const HEADER_SIGNATURE_TYPE: &str = "wechatpay-signature-type";

/// The headers above as header names, made at compile time: looking a header up by a
/// `&str` parses the name first.
pub(crate) mod names {
    use http::HeaderName;

    pub(super) const NONCE: HeaderName = HeaderName::from_static(super::HEADER_NONCE);
    pub(super) const SERIAL: HeaderName = HeaderName::from_static(super::HEADER_SERIAL);
    pub(crate) const SIGNATURE: HeaderName = HeaderName::from_static(super::HEADER_SIGNATURE);
    pub(super) const TIMESTAMP: HeaderName = HeaderName::from_static(super::HEADER_TIMESTAMP);
    pub(super) const SIGNATURE_TYPE: HeaderName =
        HeaderName::from_static(super::HEADER_SIGNATURE_TYPE);
}

/// How far, in seconds, a signed timestamp may be from the local clock.
pub const MAX_CLOCK_OFFSET: u64 = 300;

/// The prefix of the probe signatures WeChat Pay sends to check that merchants verify.
pub(crate) const PROBE_SIGNATURE_PREFIX: &str = "WECHATPAY/SIGNTEST/";

/// Whether WeChat Pay leaves the successful answer of `path` unsigned: the bill download,
/// complaint images (but not their upload), the transfer e-receipt and fapiao downloads.
///
/// `path` is the request's percent-encoded path without the query. The match is
/// case-insensitive; a base URI path prefix (e.g. `/hk/`) defeats it, as in the PHP SDK.
pub(crate) fn is_unsigned_download(path: &str) -> bool {
    const EXACT: [&str; 4] = [
        "/v3/billdownload/file",
        "/v3/transferdownload/elecvoucherfile",
        "/v3/transferdownload/signfile",
        "/v3/new-tax-control-fapiao/download",
    ];
    const IMAGES: [&str; 2] = [
        "/v3/merchant-service/images/",
        "/v3/global/merchant-service/images/",
    ];
    if EXACT.iter().any(|exact| path.eq_ignore_ascii_case(exact)) {
        return true;
    }
    IMAGES.iter().any(|prefix| {
        starts_with_ignore_case(path, prefix)
            && !path[prefix.len()..].eq_ignore_ascii_case("upload")
    })
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Verifies a successful APIv3 answer to a request for `path`.
///
/// On the unsigned download paths (the bill download, complaint images, the transfer
/// e-receipt and fapiao downloads) an answer without signature
/// headers is accepted as [`VerifiedBy::Unsigned`]; one that carries them is still checked. The
/// overseas statements (`/hk/v3/statements`, `/v3/global/statements`) are signed over
/// `{"sha1":"<Wechatpay-Statement-Sha1>"}` instead of the body when that header is present;
/// the SHA-1 of the body must then equal that header, or the body was altered.
///
/// # Errors
///
/// [`ErrorKind::Verification`](crate::ErrorKind::Verification) naming the failed step.
pub fn verify_response(
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: u64,
    keys: &PlatformKeys,
) -> Result<VerifiedBy> {
    if is_unsigned_download(path) && !has_any_signature_header(headers) {
        return Ok(VerifiedBy::Unsigned);
    }
    let statement_digest;
    let signed_body = match statement_sha1(path, headers) {
        Some(sha1) => {
            statement_digest = format!("{{\"sha1\":\"{sha1}\"}}");
            statement_digest.as_bytes()
        }
        None => body,
    };
    let serial = verify_signed(headers, signed_body, now, keys)?;
    if let Some(sha1) = statement_sha1(path, headers) {
        check_statement_sha1(sha1, body)?;
    }
    Ok(VerifiedBy::PlatformKey(serial.to_string()))
}

/// The signature of a statement covers `Wechatpay-Statement-Sha1`, not the body: the body
/// counts only when its SHA-1 is that header.
fn check_statement_sha1(signed_sha1: &str, body: &[u8]) -> Result<()> {
    let actual = sha1_hex(body);
    if actual.eq_ignore_ascii_case(signed_sha1.trim()) {
        return Ok(());
    }
    Err(Error::verification(
        Verification::Signature,
        format!(
            "the statement's body does not match the signed `Wechatpay-Statement-Sha1` \
             ({signed_sha1}); its SHA-1 is {actual}: the body was altered or cut, so it must not \
             be used; download it again"
        ),
    ))
}

/// Refuses a `Wechatpay-Signature-Type` other than [`AUTHORIZATION_SCHEME`]; an answer or
/// notification without the header is accepted (WeChat Pay does not always send it).
fn check_signature_type(subject: Subject, headers: &HeaderMap) -> Result<()> {
    let Some(value) = headers.get(names::SIGNATURE_TYPE) else {
        return Ok(());
    };
    if value.as_bytes() == AUTHORIZATION_SCHEME.as_bytes() {
        return Ok(());
    }
    Err(Error::verification(
        Verification::Signature,
        format!(
            "the {} is signed with `Wechatpay-Signature-Type: {}`; only \
             {AUTHORIZATION_SCHEME} is accepted, so it must not be trusted",
            subject.noun(),
            String::from_utf8_lossy(value.as_bytes()).escape_debug()
        ),
    ))
}

fn has_any_signature_header(headers: &HeaderMap) -> bool {
    [
        HEADER_NONCE,
        HEADER_SERIAL,
        HEADER_SIGNATURE,
        HEADER_TIMESTAMP,
    ]
    .iter()
    .any(|name| headers.contains_key(*name))
}

fn statement_sha1<'h>(path: &str, headers: &'h HeaderMap) -> Option<&'h str> {
    let is_statement = path.eq_ignore_ascii_case("/hk/v3/statements")
        || path.eq_ignore_ascii_case("/v3/global/statements");
    if !is_statement {
        return None;
    }
    headers.get(HEADER_STATEMENT_SHA1)?.to_str().ok()
}

/// Verifies the four `Wechatpay-*` headers against `body`: all present, a
/// `Wechatpay-Signature-Type` (when sent) of `WECHATPAY2-SHA256-RSA2048`, the timestamp within
/// [`MAX_CLOCK_OFFSET`] seconds of `now`, the serial configured (a platform certificate
/// within its validity at `now`, give or take [`MAX_CLOCK_OFFSET`]), the signature valid and
/// not a `WECHATPAY/SIGNTEST/` probe. Returns the id of the key that verified it.
///
/// For a notification, [`crate::v3::notify::verify_notification`] does the same and also parses
/// the body.
///
/// # Errors
///
/// [`ErrorKind::Verification`](crate::ErrorKind::Verification) naming the failed step.
pub fn verify_signed<'k>(
    headers: &HeaderMap,
    body: &[u8],
    now: u64,
    keys: &'k PlatformKeys,
) -> Result<&'k str> {
    verify_signed_as(Subject::Response, headers, body, now, keys)
}

/// What is being verified, for the error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subject {
    /// The response to a request.
    Response,
    /// A notification (callback) WeChat Pay sent to the merchant.
    Notification,
}

impl Subject {
    fn noun(self) -> &'static str {
        match self {
            Subject::Response => "answer",
            Subject::Notification => "notification",
        }
    }
}

/// [`verify_signed`], with error messages about `subject`.
pub(crate) fn verify_signed_as<'k>(
    subject: Subject,
    headers: &HeaderMap,
    body: &[u8],
    now: u64,
    keys: &'k PlatformKeys,
) -> Result<&'k str> {
    let nonce = required_header(subject, headers, names::NONCE)?;
    let serial = required_header(subject, headers, names::SERIAL)?;
    let signature = required_header(subject, headers, names::SIGNATURE)?;
    let timestamp = required_header(subject, headers, names::TIMESTAMP)?;
    check_signature_type(subject, headers)?;

    check_timestamp(subject, timestamp, now)?;

    let (id, key) = match keys.usable(serial, now, MAX_CLOCK_OFFSET) {
        Usable::Key(id, key) => (id, key),
        Usable::Unknown => return Err(unknown_serial(subject, serial, keys)),
        Usable::OutsideValidity(validity) => {
            return Err(outside_validity(subject, serial, validity, now));
        }
    };

    if signature.starts_with(PROBE_SIGNATURE_PREFIX) {
        let reply = match subject {
            Subject::Response => "answer it with an error status",
            Subject::Notification => {
                "reply with an error status (see `callback::Reply::failure`) and do not act on it"
            }
        };
        return Err(Error::verification(
            Verification::Probe,
            format!(
                "the signature is a WeChat Pay probe (`{PROBE_SIGNATURE_PREFIX}…`): WeChat Pay \
                 checks that merchants reject it; {reply}"
            ),
        ));
    }
    let raw_signature = STANDARD.decode(signature).map_err(|_| {
        Error::verification(
            Verification::Signature,
            format!(
                "`Wechatpay-Signature` is not valid base64: the {} was altered or forged",
                subject.noun()
            ),
        )
    })?;
    let message = response_message(timestamp, nonce, body);
    key.verify(&message, &raw_signature).map_err(|_| {
        Error::verification(
            Verification::Signature,
            format!(
                "the signature (timestamp={timestamp}, nonce={nonce}, serial={serial}) does not \
                 match the body: the body was altered (keep the raw bytes, do not re-serialise \
                 them) or the key configured for `{serial}` is not the one WeChat Pay used"
            ),
        )
    })?;
    Ok(id)
}

fn required_header(subject: Subject, headers: &HeaderMap, name: http::HeaderName) -> Result<&str> {
    let missing = || {
        let (every, one) = match subject {
            Subject::Response => ("every successful answer", "an answer"),
            Subject::Notification => ("every notification", "a notification"),
        };
        Error::verification(
            Verification::MissingHeader,
            format!(
                "the {} lacks a usable `{}` header; WeChat Pay signs {every} \
                 with `Wechatpay-Nonce`, `Wechatpay-Serial`, `Wechatpay-Signature` and \
                 `Wechatpay-Timestamp`, so {one} without them must not be trusted",
                subject.noun(),
                canonical(name.as_str())
            ),
        )
    };
    headers
        .get(&name)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(missing)
}

fn canonical(name: &str) -> &'static str {
    match name {
        HEADER_NONCE => "Wechatpay-Nonce",
        HEADER_SERIAL => "Wechatpay-Serial",
        HEADER_SIGNATURE => "Wechatpay-Signature",
        _ => "Wechatpay-Timestamp",
    }
}

fn check_timestamp(subject: Subject, timestamp: &str, now: u64) -> Result<()> {
    let signed_at: u64 = timestamp.trim().parse().map_err(|_| {
        Error::verification(
            Verification::Timestamp,
            format!("`Wechatpay-Timestamp` is `{timestamp}`, not Unix seconds"),
        )
    })?;
    if signed_at.abs_diff(now) > MAX_CLOCK_OFFSET {
        return Err(Error::verification(
            Verification::Timestamp,
            format!(
                "the {} was signed at {signed_at} but the local clock says {now}: more than \
                 {MAX_CLOCK_OFFSET} s apart, so it may be a replay; if the local clock is wrong, \
                 fix it (NTP)",
                subject.noun()
            ),
        ));
    }
    Ok(())
}

fn outside_validity(subject: Subject, serial: &str, validity: Validity, now: u64) -> Error {
    let when = if now < validity.not_before {
        "is not valid yet"
    } else {
        "has expired"
    };
    Error::verification(
        Verification::OutsideValidity,
        format!(
            "the {} is signed by the platform certificate `{serial}`, which {when} (valid from \
             {} to {}, the local clock says {}, {MAX_CLOCK_OFFSET} s allowed): it verifies \
             nothing; if the local clock is wrong, fix it (NTP), else download the platform \
             certificates again (or move to the WeChat Pay public key)",
            subject.noun(),
            format_rfc3339(validity.not_before, 0),
            format_rfc3339(validity.not_after, 0),
            format_rfc3339(now, 0),
        ),
    )
}

fn unknown_serial(subject: Subject, serial: &str, keys: &PlatformKeys) -> Error {
    let known: Vec<&str> = keys.ids().collect();
    Error::verification(
        Verification::UnknownSerial,
        format!(
            "the {} is signed by `{serial}`, which is not a configured platform key (known: \
             {}); add it with ClientBuilder::platform_key (a `PUB_KEY_ID_…` and its pub_key.pem \
             from the merchant platform) or ClientBuilder::platform_certificate",
            subject.noun(),
            known.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_downloads_follow_the_php_rules() {
        for exempt in [
            "/v3/billdownload/file",
            "/V3/BillDownload/File",
            "/v3/merchant-service/images/abc",
            "/v3/merchant-service/images/",
            "/v3/transferdownload/signfile",
        ] {
            assert!(is_unsigned_download(exempt), "{exempt}");
        }
        for signed in [
            "/v3/merchant-service/images/upload",
            "/v3/merchant-service/images",
            "/v3/billdownload/file/",
            "/hk/v3/billdownload/file",
            "/v3/certificates",
        ] {
            assert!(!is_unsigned_download(signed), "{signed}");
        }
    }

    #[test]
    fn timestamps_are_checked_to_the_second() {
        let response = Subject::Response;
        assert!(check_timestamp(response, "1000", 1300).is_ok());
        assert!(check_timestamp(response, "1300", 1000).is_ok());
        assert!(check_timestamp(response, "1000", 1301).is_err());
        assert!(check_timestamp(response, "abc", 1000).is_err());
        assert!(check_timestamp(response, "", 1000).is_err());
    }
}
