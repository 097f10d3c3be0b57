//! Building APIv2 requests: the fields, `nonce_str` and `sign`, and the XML body or query.

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method};
use serde_json::{Map, Value};

use super::answer::AnswerCheck;
use super::sign::{self, SignType};
use super::xml::{self, XmlMap, XmlValue};
use crate::client::Config;
#[cfg(doc)]
use crate::error::ErrorKind;
use crate::error::{Error, Result};
use crate::options::Options;
use crate::pipeline::{self, Check, Destination, Prepared, Stamp};
use crate::transport::MutualTls;
use crate::uri::encode_value;

/// The `Accept` header the PHP SDK sends to APIv2.
const V2_ACCEPT: &str = "text/xml, text/plain, application/x-gzip";
/// The `Content-Type` the PHP SDK sends to APIv2.
const V2_CONTENT_TYPE: &str = "text/xml; charset=utf-8";
/// The fields that carry the merchant id, in the order PHP looks at them.
pub(crate) const MCHID_FIELDS: [&str; 3] = ["mch_id", "mchid", "combine_mch_id"];

/// The fields of an APIv2 request from a JSON object, in the object's iteration order
/// (`serde_json` sorts keys), each value as PHP's string cast writes it.
///
/// Strings stay as they are; integers are written in decimal and other numbers like PHP
/// (`1.5`, `2`, `1.0E+20`); `true` is `1`; `false` and `null` are empty text; a nested
/// object or array becomes its compact JSON text (`{"goods_detail":[…]}`), which is what
/// WeChat Pay expects in fields such as `detail` and `scene_info`.
///
/// ```
/// use serde_json::json;
///
/// let fields = wechatpay::v2::fields_from_json(json!({
///     "total_fee": 1, "mch_id": "1900000109", "receipt": true, "detail": {"cost_price": 1},
/// }).as_object().unwrap());
/// assert_eq!(fields.get_str("total_fee"), Some("1"));
/// assert_eq!(fields.get_str("receipt"), Some("1"));
/// assert_eq!(fields.get_str("detail"), Some(r#"{"cost_price":1}"#));
/// ```
pub fn fields_from_json(object: &Map<String, Value>) -> XmlMap {
    object
        .iter()
        .map(|(key, value)| (key.as_str(), field_text(value)))
        .collect()
}

/// A JSON value as the text of an APIv2 field.
fn field_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => crate::uri::number_text(number),
        Value::Bool(true) => "1".to_owned(),
        Value::Bool(false) | Value::Null => String::new(),
        Value::Array(_) | Value::Object(_) => serde_json::to_string(value).unwrap_or_default(),
    }
}

/// Signs the fields of an APIv2 request in place, like the PHP SDK, and returns the
/// algorithm used.
///
/// * `sign_type` picks the algorithm: `MD5` when absent or empty, else exactly `MD5` or
///   `HMAC-SHA256`.
/// * With `nonce` given, `nonce_str` is set to it (appended at the end) unless the fields
///   already hold a non-empty `nonce_str`. Pass `None` for the `nonceless` calls.
/// * `sign` is computed over every field but `sign` ([`sign::sign`]) and set last, or in
///   place of a `sign` the fields already hold.
///
/// ```
/// use wechatpay::v2::{sign::SignType, sign_request, xml::{XmlMap, to_xml_from}};
///
/// # fn main() -> wechatpay::Result<()> {
/// let mut fields: XmlMap = [("mch_id", "1230000109")].into_iter().collect();
/// assert_eq!(sign_request(&mut fields, "exposed_your_key_here_have_risks", None)?, SignType::Md5);
/// assert_eq!(
///     to_xml_from(&fields)?,
///     "<xml><mch_id>1230000109</mch_id><sign>41176DC33B3FE8EFB48A16E9FF85C6C5</sign></xml>"
/// );
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidArgument`] when `sign_type` names another algorithm (PHP would send an
/// empty `sign`), when a field is a nested element or a list rather than text, or when
/// `secret` is empty.
pub fn sign_request(fields: &mut XmlMap, secret: &str, nonce: Option<&str>) -> Result<SignType> {
    let sign_type = match fields.get("sign_type") {
        None => SignType::Md5,
        Some(XmlValue::Text(name)) => SignType::from_field(Some(name)).ok_or_else(|| {
            Error::invalid(format!(
                "the APIv2 field `sign_type` is `{}`; WeChat Pay signs with `MD5` (the default) \
                 or `HMAC-SHA256` (exactly so, in upper case)",
                name.escape_debug()
            ))
        })?,
        Some(_) => {
            return Err(Error::invalid(
                "the APIv2 field `sign_type` must be text: `MD5` or `HMAC-SHA256`",
            ));
        }
    };
    if let Some(nonce) = nonce {
        if fields.get_str("nonce_str").is_none_or(str::is_empty) {
            fields.insert("nonce_str", nonce);
        }
    }
    let signed = sign::sign(sign_type, text_fields(fields)?, secret)?;
    fields.insert("sign", signed);
    Ok(sign_type)
}

/// The fields as text pairs, refusing nested elements and lists.
fn text_fields(fields: &XmlMap) -> Result<Vec<(&str, &str)>> {
    fields
        .iter()
        .filter(|(key, _)| *key != "sign")
        .map(|(key, value)| match value {
            XmlValue::Text(text) => Ok((key, text.as_str())),
            _ => Err(Error::invalid(format!(
                "the APIv2 field `{key}` is a nested element or a list; APIv2 fields are text \
                 (send nested data as JSON text, as fields_from_json does)"
            ))),
        })
        .collect()
}

/// The fields as a query string, in order: `k=v` pairs joined with `&`, keys and values
/// percent-encoded like PHP's `rawurlencode` (as Guzzle's `Query::build` does). A nested
/// element or a list is written as its JSON text.
///
/// ```
/// use wechatpay::v2::{to_query, xml::XmlMap};
///
/// let fields: XmlMap = [("appid", "wx1"), ("contract_display_account", "微信 代扣")]
///     .into_iter()
///     .collect();
/// assert_eq!(
///     to_query(&fields),
///     "appid=wx1&contract_display_account=%E5%BE%AE%E4%BF%A1%20%E4%BB%A3%E6%89%A3"
/// );
/// ```
pub fn to_query(fields: &XmlMap) -> String {
    let mut out = String::new();
    for (key, value) in fields {
        if !out.is_empty() {
            out.push('&');
        }
        encode_value(key, false, &mut out);
        out.push('=');
        match value {
            XmlValue::Text(text) => encode_value(text, false, &mut out),
            other => encode_value(&other.to_json().to_string(), false, &mut out),
        }
    }
    out
}

/// Builds the signed request of an APIv2 call.
pub(crate) fn prepare(
    config: &Config,
    method: Method,
    path: &str,
    options: &Options,
    stamp: Stamp<'_>,
) -> Result<Prepared> {
    let secret = super::secret(config)?;
    let security = options.map.get("security") == Some(&Value::Bool(true));
    if security && config.mutual_tls_unavailable {
        return Err(Error::config(
            "this APIv2 request asks for `security: true` (mutual TLS) but the client has no \
             merchant certificate; set it with ClientBuilder::merchant_identity \
             (apiclient_cert.pem and apiclient_key.pem)",
        ));
    }
    let given = |key: &str| options.map.get(key).is_some_and(|value| !value.is_null());
    let raw = options.body.is_some() || options.media.is_some();
    for ignored in ["json", "body"] {
        if given(ignored) || (raw && ignored == "body") {
            return Err(Error::invalid(format!(
                "APIv2 calls send their fields from the `xml` option, not `{ignored}`: write \
                 json!({{\"xml\": {{\"mch_id\": \"{}\", …}}}})",
                config.mchid
            )));
        }
    }
    let mut destination = Destination::resolve(config, path, options)?;
    if security && !sends_securely(&destination.origin) {
        return Err(Error::invalid(format!(
            "`security: true` presents the merchant certificate, which needs https, but this \
             request goes to `{}`; use an https base URI",
            destination.origin
        )));
    }
    let is_get = method == Method::GET;

    let (mut fields, merchant) = match options.map.get("xml") {
        Some(Value::Object(object)) => {
            let merchant = MCHID_FIELDS.iter().find_map(|&key| {
                let value = object.get(key).filter(|value| !value.is_null())?;
                Some((key, field_text(value)))
            });
            (fields_from_json(object), merchant)
        }
        None | Some(Value::Null) => {
            let fields = if is_get {
                query_fields(&destination.target)?
            } else {
                XmlMap::new()
            };
            let merchant = MCHID_FIELDS
                .iter()
                .find_map(|&key| Some((key, fields.get_str(key)?.to_owned())));
            (fields, merchant)
        }
        Some(other) => {
            return Err(Error::invalid(format!(
                "the `xml` option must be an object of APIv2 fields like \
                 {{\"mch_id\": \"{}\", …}}, not {other}",
                config.mchid
            )));
        }
    };
    check_merchant(merchant, &config.mchid)?;

    let nonceless = options
        .map
        .get("nonceless")
        .is_some_and(|flag| !flag.is_null());
    sign_request(&mut fields, secret, (!nonceless).then_some(stamp.nonce))?;

    let body = if is_get {
        destination.target = format!("{}?{}", destination.path(), to_query(&fields));
        Bytes::new()
    } else {
        Bytes::from(xml::to_xml_from(&fields)?)
    };

    let mut headers = HeaderMap::with_capacity(8);
    headers.insert(ACCEPT, HeaderValue::from_static(V2_ACCEPT));
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(V2_CONTENT_TYPE));
    headers.insert(USER_AGENT, config.user_agent.clone());
    pipeline::apply_user_headers(&mut headers, options)?;

    let mut request = pipeline::build_request(method, destination.uri()?, headers, body);
    if security {
        request.extensions_mut().insert(MutualTls);
    }
    Ok(Prepared {
        request,
        timeout: options.timeout_or(config.timeout)?,
        check: Check::V2(AnswerCheck {
            path: destination.path().to_owned(),
        }),
    })
}

/// Whether a mutual-TLS request may go to `origin`: https, or plain http to this machine (the
/// mock server in tests).
fn sends_securely(origin: &str) -> bool {
    let Some(authority) = origin.strip_prefix("http://") else {
        return true;
    };
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
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
    let Some((_, query)) = target.split_once('?') else {
        return Ok(fields);
    };
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = form_decode(key)?;
        let value = form_decode(value)?;
        if fields.get(&key).is_some() {
            return Err(Error::invalid(format!(
                "the query of this APIv2 GET request repeats `{key}`; APIv2 fields are unique"
            )));
        }
        fields.insert(key, value);
    }
    Ok(fields)
}

/// `+` as a space, then `%XX` escapes decoded; an invalid escape is kept as it is.
fn form_decode(text: &str) -> Result<String> {
    let out = crate::uri::percent_decode_bytes(text, true);
    String::from_utf8(out).map_err(|_| {
        Error::invalid(format!(
            "the query of this APIv2 GET request does not decode to UTF-8 text: `{text}`"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_texts_are_php_strings() {
        let cases = [
            (json!("a"), "a"),
            (json!(1000), "1000"),
            (json!(-1), "-1"),
            (json!(1.5), "1.5"),
            (json!(2.0), "2"),
            (json!(true), "1"),
            (json!(false), ""),
            (json!(null), ""),
            (json!([1, "a"]), "[1,\"a\"]"),
            (json!({"b": {"c": "中"}}), "{\"b\":{\"c\":\"中\"}}"),
        ];
        for (value, expected) in cases {
            assert_eq!(field_text(&value), expected, "{value}");
        }
    }

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
