//! The XML of APIv2: building request bodies and reading answers and notifications.
//!
//! [`to_xml`] and [`to_xml_from`] write what the PHP SDK's `Transformer::toXml` writes (headless,
//! no indentation, root `<xml>`, list items as `<item>`), except where PHP would write broken
//! XML. [`parse`] reads what `Transformer::toArray` reads, but fails with an [`Error`] where PHP
//! quietly returns an empty array. Nothing here touches files or the network: a `<!DOCTYPE>` is
//! skipped, and its entities are never loaded or expanded.

use std::borrow::Cow;

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::reader::Reader;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// How deep elements may nest in a parsed document, the root included.
const MAX_DEPTH: usize = 64;

/// The most elements a document may hold. APIv2 messages have a few dozen; the bound keeps
/// an untrusted body (a notification is parsed before its `sign` is checked) from costing
/// more than a few milliseconds.
const MAX_ELEMENTS: usize = 10_000;

/// The element name used where a key cannot be one, as in PHP.
const ITEM: &str = "item";

/// An APIv2 value: text, a nested element, or a repeated element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlValue {
    /// The text of an element without child elements (`<a>1</a>` or `<a/>`).
    Text(String),
    /// The child elements of an element (`<a><b>1</b></a>`).
    Map(XmlMap),
    /// The values of an element name that appears more than once, in document order
    /// (`<a>1</a><a>2</a>`).
    List(Vec<XmlValue>),
}

impl XmlValue {
    /// The text, if this is [`XmlValue::Text`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The child elements, if this is [`XmlValue::Map`].
    pub fn as_map(&self) -> Option<&XmlMap> {
        match self {
            Self::Map(map) => Some(map),
            _ => None,
        }
    }

    /// The values, if this is [`XmlValue::List`].
    pub fn as_list(&self) -> Option<&[XmlValue]> {
        match self {
            Self::List(items) => Some(items),
            _ => None,
        }
    }

    /// This value as JSON: text as a string, a map as an object, a list as an array.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Text(text) => Value::String(text.clone()),
            Self::Map(map) => map.to_json(),
            Self::List(items) => Value::Array(items.iter().map(Self::to_json).collect()),
        }
    }
}

impl From<String> for XmlValue {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&str> for XmlValue {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<XmlMap> for XmlValue {
    fn from(map: XmlMap) -> Self {
        Self::Map(map)
    }
}

impl From<Vec<XmlValue>> for XmlValue {
    fn from(items: Vec<XmlValue>) -> Self {
        Self::List(items)
    }
}

/// Insertion-ordered fields of an element.
///
/// Keys are unique: [`XmlMap::insert`] replaces the value of a key that is already there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XmlMap(Vec<(String, XmlValue)>);

impl XmlMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&XmlValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The text of `key`, if present and [`XmlValue::Text`].
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(XmlValue::as_str)
    }

    /// Sets `key` to `value`: in place if `key` is present (returning the old value), else
    /// appended at the end.
    pub fn insert(
        &mut self,
        key: impl Into<String>,
        value: impl Into<XmlValue>,
    ) -> Option<XmlValue> {
        let key = key.into();
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, old)) => Some(std::mem::replace(old, value)),
            None => {
                self.0.push((key, value));
                None
            }
        }
    }

    /// Removes `key`, returning its value if it was present.
    pub fn remove(&mut self, key: &str) -> Option<XmlValue> {
        let index = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(index).1)
    }

    /// The fields in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.0.iter())
    }

    /// How many fields there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// These fields as a JSON object (keys sorted, as `serde_json` keeps them).
    pub fn to_json(&self) -> Value {
        Value::Object(
            self.iter()
                .map(|(k, v)| (k.to_owned(), v.to_json()))
                .collect(),
        )
    }

    /// Adds a parsed child: a name seen before turns into (or grows) a [`XmlValue::List`].
    fn append(&mut self, key: String, value: XmlValue) {
        let Some((_, old)) = self.0.iter_mut().find(|(k, _)| *k == key) else {
            self.0.push((key, value));
            return;
        };
        match old {
            XmlValue::List(items) => items.push(value),
            _ => {
                let first = std::mem::replace(old, XmlValue::List(Vec::new()));
                *old = XmlValue::List(vec![first, value]);
            }
        }
    }
}

impl IntoIterator for XmlMap {
    type Item = (String, XmlValue);
    type IntoIter = std::vec::IntoIter<(String, XmlValue)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a XmlMap {
    type Item = (&'a str, &'a XmlValue);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The fields of an [`XmlMap`] in order, from [`XmlMap::iter`].
#[derive(Debug, Clone)]
pub struct Iter<'a>(std::slice::Iter<'a, (String, XmlValue)>);

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a XmlValue);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k.as_str(), v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<K: Into<String>, V: Into<XmlValue>> FromIterator<(K, V)> for XmlMap {
    /// Collects fields in order; a repeated key replaces the earlier value, like
    /// [`XmlMap::insert`].
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = Self::new();
        for (key, value) in iter {
            map.insert(key, value);
        }
        map
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

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
/// so that [`parse`] reads the result back as the same map. An empty [`XmlValue::Map`] is
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

/// `key` when PHP would use it as an element name, else `item`.
///
/// PHP accepts `^[\pL_][\pL0-9._:-]*$`. Here a letter is what [`char::is_alphabetic`] says,
/// limited to the characters XML allows in names, so the output is always well-formed.
fn element_name(key: &str) -> &str {
    let mut chars = key.chars();
    let valid = chars
        .next()
        .is_some_and(|c| (c == '_' || c.is_alphabetic()) && is_name_start_char(c))
        && chars.all(|c| {
            c.is_ascii_digit()
                || matches!(c, '.' | '-')
                || (matches!(c, '_' | ':') || c.is_alphabetic()) && is_name_start_char(c)
        });
    if valid { key } else { ITEM }
}

/// XML 1.0 `NameStartChar`.
fn is_name_start_char(c: char) -> bool {
    matches!(c,
        ':' | 'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

/// XML 1.0 `Name`.
fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(is_name_start_char)
        && chars.all(|c| {
            is_name_start_char(c)
                || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
        })
}

/// XML 1.0 `Char`: what a document may hold.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Reads an APIv2 XML answer or notification into its fields, like PHP's
/// `Transformer::toArray`, but strictly.
///
/// The root element's name is ignored; its children become the fields, in document order. A
/// child without child elements gives its text: CDATA and text joined, the five predefined
/// entities and character references decoded, whitespace kept exactly (`<f> </f>` is `" "`),
/// line ends normalised to `\n` as XML requires. A child with child elements gives a
/// [`XmlValue::Map`], unless it also holds text other than whitespace (mixed content), which
/// gives that text alone. A name repeated among siblings gives a [`XmlValue::List`] in document
/// order. Attributes, comments and processing instructions are checked for syntax and ignored
/// (PHP keeps attributes under `@attributes`). Characters that XML 1.0 forbids are removed
/// first, as PHP's `Transformer::sanitize` does. Empty input gives an empty map.
///
/// A `<!DOCTYPE>` is accepted but never processed: nothing is loaded from files or the network,
/// and after one, references to entities other than the five predefined ones read as empty text
/// (as PHP reads `&xxe;`), so entity expansion attacks cannot cost memory or time.
///
/// A few things libxml would refuse are let through: `]]>` in text, and an `<?xml …?>`
/// declaration that is not first.
///
/// # Errors
///
/// [`ErrorKind::Decode`](crate::ErrorKind::Decode), where PHP returns `[]`, when the input
/// is not UTF-8, is not well-formed XML (unclosed or mismatched tags, a bare `&`, text or a
/// second element outside the root, no root at all, …), references an undefined entity without
/// a `<!DOCTYPE>`, references a character XML cannot carry, or nests more than 64 elements deep.
pub fn parse(xml: &[u8]) -> Result<XmlMap> {
    if xml.is_empty() {
        return Ok(XmlMap::new());
    }
    let text = std::str::from_utf8(xml).map_err(|e| {
        Error::decode(format!("the XML body is not valid UTF-8: {e}")).with_source(e)
    })?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    Parser::default().run(&sanitize(text))
}

/// Removes the characters XML 1.0 forbids.
fn sanitize(text: &str) -> Cow<'_, str> {
    if text.chars().all(is_xml_char) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|&c| is_xml_char(c)).collect())
    }
}

/// An element being read.
struct Frame {
    name: String,
    text: String,
    children: XmlMap,
}

impl Frame {
    /// The element's name and value: its text, unless it has child elements and no text
    /// other than whitespace.
    fn into_field(self) -> (String, XmlValue) {
        let blank = is_blank(&self.text);
        let value = if self.children.is_empty() || !blank {
            XmlValue::Text(self.text)
        } else {
            XmlValue::Map(self.children)
        };
        (self.name, value)
    }
}

fn is_blank(text: &str) -> bool {
    text.trim_matches([' ', '\t', '\n', '\r']).is_empty()
}

#[derive(Default)]
struct Parser {
    open: Vec<Frame>,
    root: Option<XmlMap>,
    doctype: bool,
    elements: usize,
}

impl Parser {
    fn run(mut self, text: &str) -> Result<XmlMap> {
        let mut reader = Reader::from_str(text);
        reader.config_mut().check_comments = true;
        loop {
            let event = reader.read_event().map_err(|e| {
                Error::decode(format!(
                    "the XML body is not well-formed at byte {}: {e}",
                    reader.error_position()
                ))
                .with_source(e)
            })?;
            match event {
                Event::Start(start) => self.start(&start)?,
                Event::Empty(start) => {
                    self.start(&start)?;
                    self.end()?;
                }
                Event::End(_) => self.end()?,
                Event::Text(text) => self.text(&text.xml10_content())?,
                Event::CData(cdata) => self.text(&cdata.xml10_content())?,
                Event::GeneralRef(reference) => self.reference(&reference)?,
                Event::DocType(_) => self.doctype()?,
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => break,
            }
        }
        if let Some(frame) = self.open.last() {
            return Err(Error::decode(format!(
                "the XML body ends before </{}>",
                frame.name
            )));
        }
        self.root
            .ok_or_else(|| Error::decode("the XML body has no root element"))
    }

    fn start(&mut self, start: &BytesStart<'_>) -> Result<()> {
        if self.root.is_some() {
            return Err(Error::decode("the XML body has more than one root element"));
        }
        if self.open.len() >= MAX_DEPTH {
            return Err(Error::decode(format!(
                "the XML body nests elements more than {MAX_DEPTH} deep"
            )));
        }
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return Err(Error::decode(format!(
                "the XML body has more than {MAX_ELEMENTS} elements; no APIv2 message is that large"
            )));
        }
        let name = start.name().0.to_owned();
        if !is_xml_name(&name) {
            return Err(Error::decode(format!(
                "the XML body has an element whose name is not an XML name: <{name}>"
            )));
        }
        if let Some(Err(e)) = start.attributes().find(Result::is_err) {
            return Err(Error::decode(format!(
                "the XML body has a malformed attribute in <{name}>: {e}"
            ))
            .with_source(e));
        }
        self.open.push(Frame {
            name,
            text: String::new(),
            children: XmlMap::new(),
        });
        Ok(())
    }

    fn end(&mut self) -> Result<()> {
        let frame = self
            .open
            .pop()
            .ok_or_else(|| Error::decode("the XML body closes an element it never opened"))?;
        match self.open.last_mut() {
            Some(parent) => {
                let (name, value) = frame.into_field();
                parent.children.append(name, value);
            }
            None => self.root = Some(frame.children),
        }
        Ok(())
    }

    fn text(&mut self, text: &str) -> Result<()> {
        match self.open.last_mut() {
            Some(frame) => frame.text.push_str(text),
            None if is_blank(text) => {}
            None => {
                return Err(Error::decode(
                    "the XML body has text outside its root element",
                ));
            }
        }
        Ok(())
    }

    fn reference(&mut self, reference: &BytesRef<'_>) -> Result<()> {
        let name: &str = reference;
        if self.open.is_empty() {
            return Err(Error::decode(format!(
                "the XML body has &{name}; outside its root element"
            )));
        }
        let resolved = match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "apos" => '\'',
            "quot" => '"',
            _ if reference.is_char_ref() => match reference.resolve_char_ref() {
                Ok(Some(c)) if is_xml_char(c) => c,
                _ => {
                    return Err(Error::decode(format!(
                        "the XML body references a character XML cannot carry: &{name};"
                    )));
                }
            },
            // Entities of a DTD are never expanded: they read as nothing, as in PHP.
            _ if self.doctype => return self.text(""),
            _ => {
                return Err(Error::decode(format!(
                    "the XML body references the undefined entity &{name};"
                )));
            }
        };
        self.text(resolved.encode_utf8(&mut [0; 4]))
    }

    fn doctype(&mut self) -> Result<()> {
        if self.root.is_some() || !self.open.is_empty() || self.doctype {
            return Err(Error::decode(
                "the XML body has a <!DOCTYPE> that is not before its root element, or two",
            ));
        }
        self.doctype = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::ErrorKind;

    fn map(fields: &[(&str, &str)]) -> XmlMap {
        fields.iter().map(|&(k, v)| (k, v)).collect()
    }

    fn json_xml(value: Value) -> String {
        let Value::Object(fields) = value else {
            panic!("not an object: {value}")
        };
        to_xml(&fields).expect("writable")
    }

    fn parse_str(xml: &str) -> XmlMap {
        parse(xml.as_bytes()).expect("parses")
    }

    fn parse_err(xml: &[u8]) -> String {
        let err = parse(xml).expect_err("must fail");
        assert_eq!(err.kind(), ErrorKind::Decode);
        err.to_string()
    }

    const DETAIL: &str = r#"[{"goods_detail":"华为手机","url":"https://huawei.com"}]"#;

    #[test]
    fn php_vector_in_insertion_order() {
        let fields = map(&[
            ("appid", "wx2421b1c4370ec43b"),
            ("body", "dummybot"),
            ("mch_id", "10000100"),
            ("detail", DETAIL),
        ]);
        assert_eq!(
            to_xml_from(&fields).unwrap(),
            r#"<xml><appid>wx2421b1c4370ec43b</appid><body>dummybot</body><mch_id>10000100</mch_id><detail><![CDATA[[{"goods_detail":"华为手机","url":"https://huawei.com"}]]]></detail></xml>"#
        );
    }

    #[test]
    fn php_vector_nested_detail() {
        let xml = json_xml(json!({
            "appid": "wx2421b1c4370ec43b",
            "detail": [{"goods_detail": "华为手机", "url": "https://huawei.com"}],
        }));
        assert_eq!(
            xml,
            "<xml><appid>wx2421b1c4370ec43b</appid><detail><item><goods_detail>华为手机</goods_detail>\
             <url>https://huawei.com</url></item></detail></xml>"
        );
    }

    #[test]
    fn php_vector_scalars() {
        // PHP order is appid, finished, no, amount, f, n, e; serde_json sorts the keys.
        let xml = json_xml(json!({
            "appid": "wx2421b1c4370ec43b", "finished": true, "no": false, "amount": 100,
            "f": 1.5, "n": null, "e": "",
            "r": r#"{"type":"MERCHANT_ID","account":"190001001"}"#,
        }));
        assert_eq!(
            xml,
            r#"<xml><amount>100</amount><appid>wx2421b1c4370ec43b</appid><e></e><f>1.5</f><finished>1</finished><n></n><no></no><r><![CDATA[{"type":"MERCHANT_ID","account":"190001001"}]]></r></xml>"#
        );
    }

    #[test]
    fn php_vector_names_and_cdata() {
        let fields = map(&[
            ("a b", "1"),
            ("1x", "2"),
            ("5", "3"),
            ("_ok", "4"),
            ("中文", "5"),
            ("a:b", "6"),
            ("q", "it's <b> & \"c\""),
            ("gt", "a>b"),
            ("amp", "a&b"),
            ("apos", "'"),
        ]);
        assert_eq!(
            to_xml_from(&fields).unwrap(),
            r#"<xml><item>1</item><item>2</item><item>3</item><_ok>4</_ok><中文>5</中文><a:b>6</a:b><q><![CDATA[it's <b> & "c"]]></q><gt><![CDATA[a>b]]></gt><amp><![CDATA[a&b]]></amp><apos>'</apos></xml>"#
        );
    }

    #[test]
    fn element_names() {
        for good in ["a", "_", "中文", "a:b", "a.b-c_1", "Ünïcödé", "a:"] {
            assert_eq!(element_name(good), good);
        }
        for bad in [
            "", "a b", "1x", "5", "-a", ".a", ":a", "a/b", "a<b", "a\u{1}", "ª", "a\u{B7}",
        ] {
            assert_eq!(element_name(bad), "item", "{bad:?}");
        }
    }

    #[test]
    fn php_vector_list_and_map() {
        assert_eq!(
            json_xml(json!({"list": ["a", "b"], "m": {"k": "v"}})),
            "<xml><list><item>a</item><item>b</item></list><m><k>v</k></m></xml>"
        );
        assert_eq!(
            json_xml(json!({"a": [["x", 1], []], "b": {}})),
            "<xml><a><item><item>x</item><item>1</item></item><item/></a><b/></xml>"
        );
    }

    #[test]
    fn empty_documents() {
        assert_eq!(json_xml(json!({})), "<xml/>");
        assert_eq!(to_xml_from(&XmlMap::new()).unwrap(), "<xml/>");
        assert_eq!(
            json_xml(json!({"return_code": "SUCCESS", "return_msg": "OK"})),
            "<xml><return_code>SUCCESS</return_code><return_msg>OK</return_msg></xml>"
        );
    }

    #[test]
    fn php_vector_carriage_return() {
        assert_eq!(
            json_xml(json!({"a": "line1\nline2\ttab\r"})),
            "<xml><a>line1\nline2\ttab&#13;</a></xml>"
        );
    }

    #[test]
    fn php_vector_apiv2_request_body() {
        let fields = map(&[
            ("appid", "wxd930ea5d5a258f4f"),
            ("mch_id", "1230000109"),
            ("body", "test"),
            ("nonce_str", "ibuaiVcKdpRxkhJA"),
            ("device_info", "1000"),
            ("total_fee", "1"),
            ("detail", "<a&b>"),
            ("empty", ""),
            ("nul", ""),
            ("sign", "2A1DCB04779F27AF0EB5479E31D58E60"),
        ]);
        assert_eq!(
            to_xml_from(&fields).unwrap(),
            "<xml><appid>wxd930ea5d5a258f4f</appid><mch_id>1230000109</mch_id><body>test</body>\
             <nonce_str>ibuaiVcKdpRxkhJA</nonce_str><device_info>1000</device_info>\
             <total_fee>1</total_fee><detail><![CDATA[<a&b>]]></detail><empty></empty><nul></nul>\
             <sign>2A1DCB04779F27AF0EB5479E31D58E60</sign></xml>"
        );
        // The same from JSON, in sorted order, with a number and a null.
        assert_eq!(
            json_xml(json!({"total_fee": 1, "detail": "<a&b>", "nul": null, "empty": ""})),
            "<xml><detail><![CDATA[<a&b>]]></detail><empty></empty><nul></nul><total_fee>1</total_fee></xml>"
        );
    }

    #[test]
    fn numbers_like_php() {
        let cases = [
            (json!(100), "100"),
            (json!(-7), "-7"),
            (json!(u64::MAX), "18446744073709551615"),
            (json!(1.5), "1.5"),
            (json!(2.0), "2"),
            (json!(-2.5), "-2.5"),
            (json!(0.1 + 0.2), "0.3"),
            (json!(1e20), "1.0E+20"),
            (json!(1.2345e20), "1.2345E+20"),
            (json!(-0.0), "-0"),
            (json!(0.0), "0"),
            (json!(1e13), "10000000000000"),
            (json!(1e14), "1.0E+14"),
            (json!(0.0001), "0.0001"),
            (json!(0.00001), "1.0E-5"),
            (json!(1.5e-7), "1.5E-7"),
            (json!(123456789.12345678), "123456789.12346"),
            (json!(99.99), "99.99"),
        ];
        for (value, expected) in cases {
            assert_eq!(
                json_xml(json!({ "n": value })),
                format!("<xml><n>{expected}</n></xml>"),
                "{value}"
            );
        }
    }

    #[test]
    fn cdata_end_is_split() {
        assert_eq!(
            to_xml_from(&map(&[("c", "x]]>y")])).unwrap(),
            "<xml><c><![CDATA[x]]]]><![CDATA[>y]]></c></xml>"
        );
        assert_eq!(
            to_xml_from(&map(&[("c", "a<\r\nb")])).unwrap(),
            "<xml><c><![CDATA[a<]]>&#13;<![CDATA[\nb]]></c></xml>"
        );
    }

    #[test]
    fn unrepresentable_characters_are_refused() {
        for bad in [
            "x\u{0}", "\u{1}", "a\u{8}", "\u{B}", "\u{C}", "\u{1F}", "\u{FFFE}", "\u{FFFF}",
        ] {
            let err = to_xml(json!({"a": {"b": [bad]}}).as_object().unwrap()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument);
            assert!(err.to_string().contains("`a.b.0`"), "{err}");
            let err = to_xml_from(&map(&[("k", bad)])).unwrap_err();
            assert!(err.to_string().contains("`k`"), "{err}");
        }
        assert!(to_xml_from(&map(&[("k", "\t\n\r\u{D7FF}\u{E000}\u{FFFD}\u{10000}")])).is_ok());
    }

    #[test]
    fn parses_fields_in_order() {
        let parsed = parse_str(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xml>\n  <return_code><![CDATA[SUCCESS]]></return_code>\n  \
             <return_msg>OK</return_msg>\n  <f> </f>\n  <g>\n 1 \n</g><e/><e2></e2></xml>\n",
        );
        let expected: XmlMap = [
            ("return_code", "SUCCESS"),
            ("return_msg", "OK"),
            ("f", " "),
            ("g", "\n 1 \n"),
            ("e", ""),
            ("e2", ""),
        ]
        .into_iter()
        .collect();
        assert_eq!(parsed, expected);
        assert_eq!(parsed.get_str("return_code"), Some("SUCCESS"));
        assert_eq!(parse_str("<xml/>"), XmlMap::new());
        assert_eq!(
            parse_str("<x:y><中文>1</中文><a.b-c·\u{300}>2</a.b-c·\u{300}></x:y>").len(),
            2
        );
        assert_eq!(parse(b"").unwrap(), XmlMap::new());
        assert_eq!(
            parse_str("\u{FEFF}<anything><a>1</a></anything>").get_str("a"),
            Some("1")
        );
    }

    #[test]
    fn parses_text_like_php() {
        let parsed = parse_str(
            "<xml><a><![CDATA[<b>&amp;]]></a><b>&lt;&amp;&gt;&quot;&apos;&#x4E2D;&#25991;</b>\
             <c>x<![CDATA[<y>]]>z</c><d>1\r\n2\r3</d><e>&#13;</e><f>a\u{1}b\u{FFFE}c</f>\
             <g>1<!-- comment -->2<?pi x?>3</g></xml>",
        );
        assert_eq!(parsed.get_str("a"), Some("<b>&amp;"));
        assert_eq!(parsed.get_str("b"), Some("<&>\"'中文"));
        assert_eq!(parsed.get_str("c"), Some("x<y>z"));
        assert_eq!(parsed.get_str("d"), Some("1\n2\n3"));
        assert_eq!(parsed.get_str("e"), Some("\r"));
        assert_eq!(parsed.get_str("f"), Some("abc"));
        assert_eq!(parsed.get_str("g"), Some("123"));
    }

    #[test]
    fn parses_nesting_lists_and_mixed_content() {
        let parsed = parse_str(
            "<xml><m>\n  <k>v</k>\n  <n><o/></n>\n</m><a>1</a><b/><a>2</a><a><x>3</x></a>\
             <mixed>x<b>1</b>y</mixed><attr id=\"1\" other='2'>t</attr></xml>",
        );
        let m = parsed.get("m").and_then(XmlValue::as_map).unwrap();
        assert_eq!(m.get_str("k"), Some("v"));
        assert_eq!(
            m.get("n").and_then(XmlValue::as_map).unwrap().get_str("o"),
            Some("")
        );
        let a = parsed.get("a").and_then(XmlValue::as_list).unwrap();
        assert_eq!(a.len(), 3);
        assert_eq!(a[0], XmlValue::from("1"));
        assert_eq!(a[1], XmlValue::from("2"));
        assert_eq!(a[2], XmlValue::Map(map(&[("x", "3")])));
        assert_eq!(parsed.get_str("mixed"), Some("xy"));
        assert_eq!(parsed.get_str("attr"), Some("t"));
        let keys: Vec<&str> = parsed.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["m", "a", "b", "mixed", "attr"]);
        assert_eq!(
            parsed.to_json(),
            json!({"m": {"k": "v", "n": {"o": ""}}, "a": ["1", "2", {"x": "3"}], "b": "",
                   "mixed": "xy", "attr": "t"})
        );
    }

    #[test]
    fn fragment_injection_reads_as_a_list() {
        let parsed = parse_str(
            "<?xml version=\"1.0\"?>\n<transfer>\n\
             <payment><account>5678-attacker</account><rcpt>206-1234</rcpt><amount>100.00</amount>\
             <comment></comment></payment>\n\
             <payment><account>1234-victim</account><rcpt>206-1234</rcpt><amount>100.00</amount>\
             <comment>Hacked</comment></payment>\n</transfer>",
        );
        assert_eq!(
            parsed.to_json(),
            json!({"payment": [
                {"account": "5678-attacker", "rcpt": "206-1234", "amount": "100.00", "comment": ""},
                {"account": "1234-victim", "rcpt": "206-1234", "amount": "100.00", "comment": "Hacked"},
            ]})
        );
    }

    #[test]
    fn getpublickey_answer() {
        let pem = "-----BEGIN RSA PUBLIC KEY-----\nMIIBCgKCAQEA\n-----END RSA PUBLIC KEY-----\n";
        let parsed = parse_str(&format!(
            "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg>\
             <result_code><![CDATA[SUCCESS]]></result_code><mch_id><![CDATA[1230000109]]></mch_id>\
             <pub_key><![CDATA[{pem}]]></pub_key></xml>"
        ));
        assert_eq!(parsed.len(), 5);
        assert_eq!(parsed.get_str("pub_key"), Some(pem));
    }

    #[test]
    fn xxe_is_never_loaded() {
        let parsed = parse_str(
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<!DOCTYPE foo [\n  <!ELEMENT foo ANY >\n  \
             <!ENTITY xxe SYSTEM \"file:///etc/passwd\" >]>\n<xml><value>&xxe;</value></xml>",
        );
        assert_eq!(parsed.to_json(), json!({"value": ""}));
        let parsed = parse_str(
            "<!DOCTYPE x [<!ENTITY net SYSTEM \"http://127.0.0.1:1/x\">]><xml><a>1&net;2</a></xml>",
        );
        assert_eq!(parsed.get_str("a"), Some("12"));
        // Without a DOCTYPE an unknown entity is an error.
        assert!(parse_err(b"<xml><value>&xxe;</value></xml>").contains("&xxe;"));
    }

    #[test]
    fn billion_laughs_is_not_expanded() {
        let mut doc =
            String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n");
        for level in 2..=9 {
            let previous = if level == 2 {
                "lol".to_owned()
            } else {
                format!("lol{}", level - 1)
            };
            let body = format!("&{previous};").repeat(10);
            doc.push_str(&format!(" <!ENTITY lol{level} \"{body}\">\n"));
        }
        doc.push_str("]>\n<xml><v>&lol9;</v><w>ok</w></xml>");
        let started = std::time::Instant::now();
        let parsed = parse_str(&doc);
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert_eq!(parsed.to_json(), json!({"v": "", "w": "ok"}));
    }

    #[test]
    fn malformed_documents_fail() {
        let cases: &[(&[u8], &str)] = &[
            (b"<xml><a>&bad</a></xml>", "not well-formed"),
            (b"<xml><a>a & b</a></xml>", "not well-formed"),
            (b"<xml><a>1</b></xml>", "not well-formed"),
            (b"<xml><a>1</a>", "ends before </xml>"),
            (b"<xml><a>1", "ends before </a>"),
            (b"<xml></xml></xml>", "not well-formed"),
            (b"<xml/><xml/>", "more than one root"),
            (b"text<xml/>", "outside its root"),
            (b"<xml/>text", "outside its root"),
            (b"<xml/>&amp;", "outside its root"),
            (b"<xml/><![CDATA[x]]>", "outside its root"),
            (b"<xml/><!DOCTYPE x>", "DOCTYPE"),
            (b"   ", "no root element"),
            (b"<!-- only a comment -->", "no root element"),
            (b"{\"code\":\"PARAM_ERROR\"}", "outside its root"),
            (b"<xml><a>\xB2\xE2</a></xml>", "not valid UTF-8"),
            (b"<xml><a>&#1;</a></xml>", "character XML cannot carry"),
            (b"<xml><a>&#0;</a></xml>", "character XML cannot carry"),
            (b"<xml><a>&#xFFFF;</a></xml>", "character XML cannot carry"),
            (
                b"<xml><a>&#x110000;</a></xml>",
                "character XML cannot carry",
            ),
            (b"<xml><a>&#xZZ;</a></xml>", "character XML cannot carry"),
            (b"<xml><a>&undefined;</a></xml>", "undefined entity"),
            (b"<xml><a b=1>x</a></xml>", "malformed attribute"),
            (b"<xml><1a>x</1a></xml>", "not an XML name"),
            (b"<xml><a\"b>x</a\"b></xml>", "not an XML name"),
            (
                b"<xml><a b=\"1\" b=\"2\">x</a></xml>",
                "malformed attribute",
            ),
            (b"<xml><!-- a -- b --></xml>", "not well-formed"),
            (b"<xml><![CDATA[x</xml>", "not well-formed"),
        ];
        for (xml, expected) in cases {
            let message = parse_err(xml);
            assert!(
                message.contains(expected),
                "{:?}: {message}",
                String::from_utf8_lossy(xml)
            );
        }
    }

    #[test]
    fn html_pages_fail() {
        let nginx = b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n\
            <center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
        parse_err(nginx);
        let mismatch =
            b"<!DOCTYPE html>\n<html>\n<head>\n<titles>Not Found</title>\n</head>\n</html>";
        assert!(parse_err(mismatch).contains("not well-formed"));
    }

    #[test]
    fn nesting_is_limited() {
        let nested = |depth: usize| format!("{}x{}", "<a>".repeat(depth), "</a>".repeat(depth));
        assert!(parse(nested(MAX_DEPTH).as_bytes()).is_ok());
        let many = format!("<xml>{}</xml>", "<a/>".repeat(MAX_ELEMENTS));
        assert!(parse_err(many.as_bytes()).contains("elements"));
        assert!(parse_err(nested(MAX_DEPTH + 1).as_bytes()).contains("deep"));
        assert!(parse_err(format!("<a>{}", "<a/>".repeat(10)).as_bytes()).contains("ends before"));
        let deep = "<a>".repeat(100_000);
        assert!(parse_err(deep.as_bytes()).contains("deep"));
    }

    #[test]
    fn truncated_documents_never_panic() {
        let doc = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"v\">]><xml a=\"1\"><b><![CDATA[<c>]]>\
                   &amp;&#x4E2D;&e;中</b><!-- c --><d><e/></d></xml>";
        assert_eq!(parse_str(doc).get_str("b"), Some("<c>&中中"));
        for end in 0..doc.len() {
            let _ = parse(&doc.as_bytes()[..end]);
        }
        for start in 0..doc.len() {
            let _ = parse(&doc.as_bytes()[start..]);
        }
    }

    const TRICKY: &[&str] = &[
        "",
        " ",
        "  leading and trailing  ",
        "]]>",
        "]]]]>",
        "x]]>y]]>z",
        "]",
        "]]",
        "<",
        ">",
        "&",
        "\"",
        "'",
        "&amp;",
        "&lt;b&gt;",
        "<![CDATA[",
        "<![CDATA[x]]>",
        "<a>&b</a>",
        "中文 华为手机",
        "emoji 🦀",
        "line1\nline2",
        "\ttab",
        "cr\r",
        "\r\n",
        "\r",
        "a<\r\nb]]>\r",
        "&#13;",
        "{\"a\":[1,2]}",
        "\u{FFFD}\u{10FFFF}",
    ];

    #[test]
    fn tricky_values_round_trip() {
        for value in TRICKY {
            let fields = map(&[("a", value), ("b", "after")]);
            let xml = to_xml_from(&fields).unwrap();
            assert_eq!(parse(xml.as_bytes()).unwrap(), fields, "{value:?} as {xml}");
        }
        // All at once, nested, repeated and from JSON.
        let mut nested = XmlMap::new();
        nested.insert(
            "list",
            XmlValue::List(TRICKY.iter().map(|&v| v.into()).collect()),
        );
        nested.insert("inner", map(&[("x", "]]><")]));
        let fields: XmlMap = [("outer", XmlValue::Map(nested)), ("z", "1".into())]
            .into_iter()
            .collect();
        let xml = to_xml_from(&fields).unwrap();
        assert_eq!(parse(xml.as_bytes()).unwrap(), fields);
        let object: Map<String, Value> = TRICKY
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("k{i}"), Value::from(*v)))
            .collect();
        let xml = to_xml(&object).unwrap();
        assert_eq!(
            parse(xml.as_bytes()).unwrap().to_json(),
            Value::Object(object)
        );
    }

    #[test]
    fn map_api() {
        let mut fields = map(&[("a", "1"), ("b", "2")]);
        assert_eq!(fields.insert("a", "3"), Some(XmlValue::from("1")));
        assert_eq!(fields.insert("c", "4"), None);
        assert_eq!(fields, map(&[("a", "3"), ("b", "2"), ("c", "4")]));
        assert_eq!(fields.remove("b"), Some(XmlValue::from("2")));
        assert_eq!(fields.remove("b"), None);
        assert_eq!(fields.len(), 2);
        assert!(!fields.is_empty());
        assert_eq!(fields.get("zz"), None);
        let collected: XmlMap = [("k", "1"), ("k", "2")].into_iter().collect();
        assert_eq!(collected, map(&[("k", "2")]));
        let keys: Vec<&str> = (&fields).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "c"]);
        let owned: Vec<(String, XmlValue)> = fields.into_iter().collect();
        assert_eq!(owned[0], ("a".to_owned(), XmlValue::from("3")));
        let list = XmlValue::List(vec!["1".into(), XmlValue::Map(XmlMap::new())]);
        assert_eq!(list.to_json(), json!(["1", {}]));
        assert_eq!(list.as_str(), None);
        // Lists write as repeated elements; empty lists write nothing; nested lists flatten.
        let fields: XmlMap = [
            ("a", list),
            ("e", XmlValue::List(Vec::new())),
            (
                "n",
                XmlValue::List(vec![XmlValue::List(vec!["x".into()]), "y".into()]),
            ),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            to_xml_from(&fields).unwrap(),
            "<xml><a>1</a><a/><n>x</n><n>y</n></xml>"
        );
    }
}
