//! Checking APIv2 responses: `return_code`, `result_code` and `sign`.

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use super::fields::signed_fields;
use crate::config::{ApiV2Key, Config};
use crate::error::{Error, ErrorKind, ErrorResponse, Result, Verification, status_error};
use crate::response::{Response, VerifiedBy};
use crate::toolkit::{self, SignType};
use crate::xml::{self, XmlMap, XmlValue};

/// The APIv2 request paths whose answers WeChat Pay does not sign (the PHP SDK's list):
/// their answers are handed back untouched, unparsed and unchecked (bills are CSV, some
/// answers carry no `sign`). Matched exactly and case-sensitively against the request path,
/// so a base URI with a path prefix (`/sandboxnew/pay/downloadbill`) does not match.
pub const NO_SIGNATURE_PATHS: [&str; 24] = [
    "/mchrisk/querymchrisk",
    "/mchrisk/setmchriskcallback",
    "/mchrisk/syncmchriskresult",
    "/mmpaymkttransfers/gethbinfo",
    "/mmpaymkttransfers/gettransferinfo",
    "/mmpaymkttransfers/pay_bank",
    "/mmpaymkttransfers/promotion/paywwsptrans2pocket",
    "/mmpaymkttransfers/promotion/querywwsptrans2pocket",
    "/mmpaymkttransfers/promotion/transfers",
    "/mmpaymkttransfers/query_bank",
    "/mmpaymkttransfers/sendgroupredpack",
    "/mmpaymkttransfers/sendminiprogramhb",
    "/mmpaymkttransfers/sendredpack",
    "/papay/entrustweb",
    "/papay/h5entrustweb",
    "/papay/partner/entrustweb",
    "/papay/partner/h5entrustweb",
    "/pay/downloadbill",
    "/pay/downloadfundflow",
    "/payitil/report",
    "/risk/getpublickey",
    "/risk/getviolation",
    "/secapi/mch/submchmanage",
    "/xdc/apiv2getsignkey/sign/getsignkey",
];

/// Whether the answer to an APIv2 request for `path` (the request path, e.g.
/// `/pay/downloadbill`) comes without a `sign`: one of [`NO_SIGNATURE_PATHS`], exactly.
pub(crate) fn is_unsigned_path(path: &str) -> bool {
    NO_SIGNATURE_PATHS.contains(&path)
}

/// Checks the answer to an APIv2 request for `path` (e.g. `/pay/micropay`).
pub(crate) fn check(
    config: &Config,
    path: &str,
    response: http::Response<Bytes>,
) -> Result<Response> {
    let (parts, body) = response.into_parts();
    if !parts.status.is_success() {
        return Err(status_error(parts.status, parts.headers, body));
    }
    if is_unsigned_path(path) {
        return Ok(Response::new(
            parts.status,
            parts.headers,
            body,
            VerifiedBy::Unsigned,
        ));
    }
    let key = config.apiv2_key()?;
    let fields = match xml::parse(&body) {
        Ok(fields) => fields,
        Err(error) => {
            let message = format!(
                "the APIv2 answer from {} is not XML ({error}); WeChat Pay answers APIv2 calls \
                 in XML, so check the base URI and the path",
                path
            );
            return Err(Error::decode(message)
                .with_source(error)
                .with_response(ErrorResponse::new(parts.status, parts.headers, body)));
        }
    };
    let parsed = Parsed {
        status: parts.status,
        headers: parts.headers,
        body,
        fields,
    };
    match check_fields(&parsed.fields, key) {
        Ok(sign_type) => Ok(Response::new(
            parsed.status,
            parsed.headers,
            parsed.body,
            VerifiedBy::Sign(sign_type),
        )),
        Err(failure) => Err(parsed.into_error(failure)),
    }
}

/// A parsed response, kept for the error.
struct Parsed {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    fields: XmlMap,
}

/// Why an answer was refused.
enum Failure {
    /// `return_code` is missing or not `SUCCESS`.
    Return,
    /// `result_code` is present and not `SUCCESS`.
    Result,
    /// No `sign`.
    MissingSign,
    /// A `sign` that does not match, or fields a `sign` cannot cover.
    Sign(String),
}

impl Parsed {
    fn into_error(self, failure: Failure) -> Error {
        let text = |key: &str| self.fields.get_str(key).map(str::to_owned);
        let (error, code, message) = match failure {
            Failure::Return => {
                let code = text("return_code");
                let what = match &code {
                    Some(code) => {
                        format!("WeChat Pay refused the APIv2 request: return_code `{code}`")
                    }
                    None => "the APIv2 answer has no `return_code`; it is not a WeChat Pay answer"
                        .to_owned(),
                };
                (Error::new(ErrorKind::Api, what), code, text("return_msg"))
            }
            Failure::Result => {
                let result = self.fields.get("result_code").map(|value| match value {
                    XmlValue::Text(text) => text.clone(),
                    other => other.to_json().to_string(),
                });
                let what = format!(
                    "the APIv2 request failed: result_code `{}`",
                    result.unwrap_or_default()
                );
                (
                    Error::new(ErrorKind::Api, what),
                    text("err_code"),
                    text("err_code_des"),
                )
            }
            Failure::MissingSign => (
                Error::verification(
                    Verification::MissingHeader,
                    "the APIv2 answer has no `sign`; WeChat Pay signs the answers of this path, \
                     so an unsigned one must not be trusted",
                ),
                None,
                None,
            ),
            Failure::Sign(why) => (
                Error::verification(Verification::Signature, why),
                None,
                None,
            ),
        };
        let fields = self.fields.to_json();
        error.with_response(
            ErrorResponse::new(self.status, self.headers, self.body)
                .with_code(code, message)
                .with_fields(fields),
        )
    }
}

/// Checks `return_code`, then `sign`, then `result_code`; the algorithm of the `sign` when
/// all pass. The `sign` comes before `result_code` so that a business error code
/// (`USERPAYING`, `ORDERPAID`, …), which callers act on, is only reported when WeChat Pay
/// signed it; a communication failure (`return_code` not `SUCCESS`) is unsigned.
fn check_fields(fields: &XmlMap, key: &ApiV2Key) -> std::result::Result<SignType, Failure> {
    if fields.get_str("return_code") != Some("SUCCESS") {
        return Err(Failure::Return);
    }
    let sign_type = check_sign(fields, key)?;
    if fields
        .get("result_code")
        .is_some_and(|code| code.as_str() != Some("SUCCESS"))
    {
        return Err(Failure::Result);
    }
    Ok(sign_type)
}

fn check_sign(fields: &XmlMap, key: &ApiV2Key) -> std::result::Result<SignType, Failure> {
    let given = match fields.get("sign") {
        None => return Err(Failure::MissingSign),
        Some(XmlValue::Text(given)) => given,
        Some(_) => {
            return Err(Failure::Sign(
                "the APIv2 answer holds more than one `sign`; it must not be trusted".to_owned(),
            ));
        }
    };
    let sign_type = SignType::for_signature(given);
    let pairs = signed_fields(fields).map_err(Failure::Sign)?;
    match toolkit::sign_matches(sign_type, pairs, key.as_str(), given) {
        Ok(true) => Ok(sign_type),
        Ok(false) => Err(Failure::Sign(format!(
            "the APIv2 answer's `sign` does not match its fields (checked as {}): the answer \
             may be forged or tampered with, or the APIv2 key (ClientBuilder::apiv2_key) is wrong",
            sign_type.name()
        ))),
        Err(error) => Err(Failure::Sign(error.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "exposed_your_key_here_have_risks";

    fn key() -> ApiV2Key {
        ApiV2Key::new(SECRET).unwrap()
    }

    fn signed(pairs: &[(&str, &str)], sign_type: SignType) -> XmlMap {
        let mut fields: XmlMap = pairs.iter().copied().collect();
        let sign = toolkit::sign(sign_type, pairs.iter().copied(), SECRET).unwrap();
        fields.insert("sign", sign);
        fields
    }

    #[test]
    fn unsigned_paths_are_exact() {
        assert_eq!(NO_SIGNATURE_PATHS.len(), 24);
        assert!(is_unsigned_path("/pay/downloadbill"));
        assert!(is_unsigned_path("/xdc/apiv2getsignkey/sign/getsignkey"));
        assert!(!is_unsigned_path("/sandboxnew/pay/downloadbill"));
        assert!(!is_unsigned_path("/pay/downloadbill/"));
        assert!(!is_unsigned_path("/Pay/downloadbill"));
        assert!(!is_unsigned_path("pay/downloadbill"));
    }

    #[test]
    fn checks_in_order() {
        let ok = [("return_code", "SUCCESS"), ("return_msg", "OK")];
        assert!(matches!(
            check_fields(&signed(&ok, SignType::Md5), &key()),
            Ok(SignType::Md5)
        ));
        assert!(matches!(
            check_fields(&signed(&ok, SignType::HmacSha256), &key()),
            Ok(SignType::HmacSha256)
        ));
        // `sign_type` in an answer is covered but does not pick the algorithm: the length does.
        let typed = [("return_code", "SUCCESS"), ("sign_type", "HMAC-SHA256")];
        assert!(matches!(
            check_fields(&signed(&typed, SignType::Md5), &key()),
            Ok(SignType::Md5)
        ));
        let fail = [("return_code", "FAIL"), ("return_msg", "签名错误")];
        assert!(matches!(
            check_fields(&signed(&fail, SignType::Md5), &key()),
            Err(Failure::Return)
        ));
        let lower = [("return_code", "success")];
        assert!(matches!(
            check_fields(&signed(&lower, SignType::Md5), &key()),
            Err(Failure::Return)
        ));
        let result = [("return_code", "SUCCESS"), ("result_code", "FAIL")];
        assert!(matches!(
            check_fields(&signed(&result, SignType::Md5), &key()),
            Err(Failure::Result)
        ));
        let unsigned: XmlMap = ok.iter().copied().collect();
        assert!(matches!(
            check_fields(&unsigned, &key()),
            Err(Failure::MissingSign)
        ));
        let mut lower_sign = signed(&ok, SignType::Md5);
        let sign = lower_sign.get_str("sign").unwrap().to_lowercase();
        lower_sign.insert("sign", sign);
        assert!(matches!(
            check_fields(&lower_sign, &key()),
            Err(Failure::Sign(_))
        ));
        let mut nested = signed(&ok, SignType::Md5);
        nested.insert("extra", XmlValue::List(vec!["1".into(), "2".into()]));
        assert!(matches!(
            check_fields(&nested, &key()),
            Err(Failure::Sign(_))
        ));
    }
}
