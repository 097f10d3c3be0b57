//! APIv2 fields: from JSON, to a query, which ones a `sign` covers, and signing them.

use serde_json::{Map, Value};

use crate::config::ApiV2Key;
use crate::error::{Error, Result};
use crate::toolkit::{self, SignType};
use crate::uri::{encode_value, number_text};
use crate::xml::{XmlMap, XmlValue};

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
pub(crate) fn field_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number_text(number),
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
/// * `sign` is computed over every field but `sign` ([`toolkit::sign`](crate::toolkit::sign)) and set last, or in
///   place of a `sign` the fields already hold.
///
/// ```
/// use wechatpay::config::ApiV2Key;
/// use wechatpay::toolkit::SignType;
/// use wechatpay::v2::sign_request;
/// use wechatpay::xml::{XmlMap, to_xml_from};
///
/// # fn main() -> wechatpay::Result<()> {
/// let key = ApiV2Key::new("exposed_your_key_here_have_risks")?;
/// let mut fields: XmlMap = [("mch_id", "1230000109")].into_iter().collect();
/// assert_eq!(sign_request(&mut fields, &key, None)?, SignType::Md5);
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
/// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) when `sign_type` names
/// another algorithm (PHP would send an empty `sign`), or when a field is a nested element or
/// a list rather than text.
pub fn sign_request(fields: &mut XmlMap, key: &ApiV2Key, nonce: Option<&str>) -> Result<SignType> {
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
    if let Some(nonce) = nonce
        && fields.get_str("nonce_str").is_none_or(str::is_empty)
    {
        fields.insert("nonce_str", nonce);
    }
    let pairs = signed_fields(fields).map_err(Error::invalid)?;
    let signed = toolkit::sign(sign_type, pairs, key.as_str())?;
    fields.insert("sign", signed);
    Ok(sign_type)
}

/// The text fields a `sign` covers: every field but `sign`, in order. A nested or repeated
/// element cannot be covered by a `sign`, so fields holding one are refused (the error names
/// the field). The one rule for requests, answers, notifications and the mock server.
pub(crate) fn signed_fields(fields: &XmlMap) -> std::result::Result<Vec<(&str, &str)>, String> {
    fields
        .iter()
        .filter(|(key, _)| *key != "sign")
        .map(|(key, value)| {
            value.as_str().map(|text| (key, text)).ok_or_else(|| {
                format!(
                    "the APIv2 field `{key}` is a nested or repeated element, which a `sign` \
                     cannot cover (send nested data as JSON text, as fields_from_json does)"
                )
            })
        })
        .collect()
}

/// The merchant id field of `fields` and its value: the first of `mch_id`, `mchid`,
/// `combine_mch_id` that is present.
pub(crate) fn merchant_field(fields: &XmlMap) -> Option<(&'static str, &XmlValue)> {
    MCHID_FIELDS
        .into_iter()
        .find_map(|key| Some((key, fields.get(key)?)))
}

/// The fields as a query string, in order: `k=v` pairs joined with `&`, keys and values
/// percent-encoded like PHP's `rawurlencode` (as Guzzle's `Query::build` does). A nested
/// element or a list is written as its JSON text.
///
/// ```
/// use wechatpay::v2::to_query;
/// use wechatpay::xml::XmlMap;
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
    fn nested_fields_are_not_signed() {
        let mut fields: XmlMap = [("a", "1"), ("sign", "X")].into_iter().collect();
        assert_eq!(signed_fields(&fields).unwrap(), [("a", "1")]);
        fields.insert("b", XmlValue::List(vec!["1".into(), "2".into()]));
        assert!(signed_fields(&fields).unwrap_err().contains("`b`"));
    }
}
