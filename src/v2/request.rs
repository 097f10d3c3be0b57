//! Building a signed APIv2 request from a plan: the fields, `nonce_str` and `sign`, and the
//! XML body or query.

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method};

use super::fields::{field_text, fields_from_json, merchant_field, sign_request, to_query};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::plan::{Body, Plan};
use crate::uri::{Destination, is_secure_origin, query_pairs};
use crate::xml::{self, XmlMap};

/// The `Accept` header the PHP SDK sends to APIv2.
const ACCEPT_V2: &str = "text/xml, text/plain, application/x-gzip";
/// The `Content-Type` the PHP SDK sends to APIv2.
const CONTENT_TYPE_V2: &str = "text/xml; charset=utf-8";

/// The signed request of an APIv2 call to `destination`, with `nonce` as its `nonce_str`
/// unless the plan is nonceless.
pub(crate) fn build(
    config: &Config,
    method: Method,
    plan: &Plan,
    destination: &Destination,
    nonce: &str,
) -> Result<http::Request<Bytes>> {
    let key = config.apiv2_key()?;
    if plan.security && !is_secure_origin(&destination.origin) {
        return Err(Error::invalid(format!(
            "`security: true` presents the merchant certificate, which needs https, but this \
             request goes to `{}`; use an https base URI",
            destination.origin
        )));
    }
    let is_get = method == Method::GET;
    let mut fields = match &plan.body {
        Body::Xml(object) => {
            // The merchant id as given (a `null` one is skipped, as PHP skips it).
            let given = super::fields::MCHID_FIELDS.iter().find_map(|&key| {
                let value = object.get(key).filter(|value| !value.is_null())?;
                Some((key, field_text(value)))
            });
            check_merchant(given, &config.mchid)?;
            fields_from_json(object)
        }
        _ => {
            let fields = if is_get {
                query_fields(&destination.target)?
            } else {
                XmlMap::new()
            };
            let given = merchant_field(&fields)
                .map(|(key, value)| (key, value.as_str().unwrap_or_default().to_owned()));
            check_merchant(given, &config.mchid)?;
            fields
        }
    };
    sign_request(&mut fields, key, (!plan.nonceless).then_some(nonce))?;

    let (destination, body) = if is_get {
        let signed_query = Destination {
            origin: destination.origin.clone(),
            target: format!("{}?{}", destination.path(), to_query(&fields)),
        };
        (signed_query, Bytes::new())
    } else {
        (destination.clone(), Bytes::from(xml::to_xml_from(&fields)?))
    };

    let mut headers = HeaderMap::with_capacity(8);
    headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_V2));
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_V2));
    headers.insert(USER_AGENT, config.user_agent.clone());
    for (name, value) in &plan.headers {
        headers.insert(name, value.clone());
    }
    destination.request(method, headers, body)
}

/// Checks that the merchant id field of the request is the client's merchant id.
fn check_merchant(given: Option<(&str, String)>, mchid: &str) -> Result<()> {
    match given {
        Some((_, value)) if value == mchid => Ok(()),
        Some((key, value)) => Err(Error::invalid(format!(
            "the APIv2 field `{key}` is `{}` but this client's merchant id is `{mchid}`; send \
             the request with the client of that merchant, or set `{key}` to `{mchid}`",
            value.escape_debug()
        ))),
        None => Err(Error::invalid(format!(
            "the APIv2 fields carry no merchant id: add `mch_id` (or `mchid` / \
             `combine_mch_id`, as the endpoint names it) with the value `{mchid}`"
        ))),
    }
}

/// The fields of a `GET` request: the pairs of the target's query, decoded like PHP
/// (Guzzle's `Query::parse`: `+` is a space, then percent-decoding).
fn query_fields(target: &str) -> Result<XmlMap> {
    let mut fields = XmlMap::new();
    for (key, value) in query_pairs(target, true) {
        let (Ok(key), Ok(value)) = (String::from_utf8(key), String::from_utf8(value)) else {
            return Err(Error::invalid(format!(
                "the query of this APIv2 GET request does not decode to UTF-8 text: `{target}`"
            )));
        };
        if fields.get(&key).is_some() {
            return Err(Error::invalid(format!(
                "the query of this APIv2 GET request repeats `{key}`; APIv2 fields are unique"
            )));
        }
        fields.insert(key, value);
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_fields_decode_like_guzzle() {
        let fields = query_fields("/papay/h5entrustweb?a=1+2&b=%E5%BE%AE%20x&c&&d=%zz&e=").unwrap();
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k, v.as_str().unwrap()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("a", "1 2"),
                ("b", "微 x"),
                ("c", ""),
                ("d", "%zz"),
                ("e", "")
            ]
        );
        assert!(query_fields("/x").unwrap().is_empty());
        let err = query_fields("/x?a=1&a=2").unwrap_err();
        assert!(err.to_string().contains("repeats `a`"), "{err}");
        assert!(query_fields("/x?a=%FF").is_err());
    }

    #[test]
    fn merchant_check() {
        assert!(check_merchant(Some(("mch_id", "1".into())), "1").is_ok());
        let err = check_merchant(Some(("mchid", "999".into())), "1900000109").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument);
        let message = err.to_string();
        assert!(message.contains("`mchid` is `999`"), "{message}");
        assert!(message.contains("`1900000109`"), "{message}");
        let err = check_merchant(None, "1900000109").unwrap_err();
        assert!(err.to_string().contains("no merchant id"), "{err}");
    }
}
