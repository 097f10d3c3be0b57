//! Writing APIv2 XML bodies.

use serde_json::{Map, Value};

use super::map::{XmlMap, XmlValue, element_name, is_xml_char};
use crate::error::{Error, Result};

/// Writes `fields` as an APIv2 XML body, `<xml>…</xml>`, like PHP's `Transformer::toXml($data)`.
///
/// Fields come in the map's order (sorted by key, since `serde_json` sorts). Strings are written
/// as they are; integers in decimal; other numbers like PHP's string cast of a float (`1.5`,
/// `2`, `1.0E+20`); `true` as `1`; `false` and `null` as empty text; arrays as `<item>`
/// children; objects as nested elements. A key that is not a usable element name (`a b`,
/// `1x`, `5`) becomes `item`. Text holding `<`, `>`, `&` or `"` is written as CDATA, other text
/// with `\r` as `&#13;`. An empty object or array is written `<a/>`, an empty root `<xml/>`.
///
/// Unlike PHP, text holding `]]>` is split across two CDATA sections and `\r` inside CDATA text
/// is written as `&#13;` between sections, so that the XML stays well-formed and reads back the
/// same.
///
/// # Errors
///
/// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) when a text holds a
/// character that XML 1.0 cannot carry (`U+0000`–`U+0008`, `U+000B`, `U+000C`,
/// `U+000E`–`U+001F`, `U+FFFE`, `U+FFFF`); the message names the field.
pub fn to_xml(fields: &Map<String, Value>) -> Result<String> {
    let mut out = String::new();
    write_nested(&mut out, "xml", fields.is_empty(), |out| {
        fields
            .iter()
            .try_for_each(|(key, value)| write_json(out, "", key, value))
    })?;
    Ok(out)
}

/// Writes `map` as an APIv2 XML body, `<xml>…</xml>`, in the map's own order.
///
/// The rules of [`to_xml`] apply. A [`XmlValue::List`] is written as its key repeated once per
/// item (`<a>1</a><a>2</a>`; a list inside a list is flattened, an empty list writes nothing),
/// so that [`parse`](super::parse) reads the result back as the same map. An empty [`XmlValue::Map`] is
/// written `<a/>`, which reads back as empty text.
///
/// # Errors
///
/// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) when a text holds a
/// character that XML 1.0 cannot carry, as in [`to_xml`].
pub fn to_xml_from(map: &XmlMap) -> Result<String> {
    let mut out = String::new();
    write_nested(&mut out, "xml", map.is_empty(), |out| {
        write_fields(out, "", map)
    })?;
    Ok(out)
}

fn write_json(out: &mut String, path: &str, key: &str, value: &Value) -> Result<()> {
    let name = element_name(key);
    match value {
        Value::Array(items) => write_nested(out, name, items.is_empty(), |out| {
            let path = join(path, key);
            items
                .iter()
                .enumerate()
                .try_for_each(|(i, item)| write_json(out, &path, &i.to_string(), item))
        }),
        Value::Object(fields) => write_nested(out, name, fields.is_empty(), |out| {
            let path = join(path, key);
            fields
                .iter()
                .try_for_each(|(k, v)| write_json(out, &path, k, v))
        }),
        Value::String(text) => write_text(out, name, text, || join(path, key)),
        Value::Number(number) => write_text(out, name, &crate::uri::number_text(number), || {
            join(path, key)
        }),
        Value::Bool(true) => write_text(out, name, "1", || join(path, key)),
        Value::Bool(false) | Value::Null => write_text(out, name, "", || join(path, key)),
    }
}

fn write_fields(out: &mut String, path: &str, map: &XmlMap) -> Result<()> {
    map.iter()
        .try_for_each(|(key, value)| write_value(out, path, key, value))
}

fn write_value(out: &mut String, path: &str, key: &str, value: &XmlValue) -> Result<()> {
    let name = element_name(key);
    match value {
        XmlValue::Text(text) => write_text(out, name, text, || join(path, key)),
        XmlValue::Map(map) => write_nested(out, name, map.is_empty(), |out| {
            write_fields(out, &join(path, key), map)
        }),
        XmlValue::List(items) => items
            .iter()
            .try_for_each(|item| write_value(out, path, key, item)),
    }
}

/// `<name/>` when `empty`, else `<name>` children `</name>`.
fn write_nested(
    out: &mut String,
    name: &str,
    empty: bool,
    children: impl FnOnce(&mut String) -> Result<()>,
) -> Result<()> {
    out.push('<');
    out.push_str(name);
    if empty {
        out.push_str("/>");
        return Ok(());
    }
    out.push('>');
    children(out)?;
    push_end(out, name);
    Ok(())
}

/// `<name>text</name>`, as CDATA when the text holds markup characters.
fn write_text(
    out: &mut String,
    name: &str,
    text: &str,
    field: impl FnOnce() -> String,
) -> Result<()> {
    if let Some(bad) = text.chars().find(|&c| !is_xml_char(c)) {
        return Err(Error::invalid(format!(
            "the APIv2 field `{}` holds the character U+{:04X}, which XML cannot carry; remove it",
            field(),
            u32::from(bad)
        )));
    }
    out.push('<');
    out.push_str(name);
    out.push('>');
    if text.contains(['<', '>', '&', '"']) {
        out.push_str("<![CDATA[");
        // `]]>` would end the section early, and a raw `\r` would read back as `\n`.
        let text = text.replace("]]>", "]]]]><![CDATA[>");
        out.push_str(&text.replace('\r', "]]>&#13;<![CDATA["));
        out.push_str("]]>");
    } else {
        out.push_str(&text.replace('\r', "&#13;"));
    }
    push_end(out, name);
    Ok(())
}

fn push_end(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}
