//! [`XmlMap`] and [`XmlValue`], the fields of an APIv2 message, and the XML naming rules the
//! reader and the writer share.

use std::collections::HashMap;

use serde_json::Value;

/// How deep elements may nest in a parsed document, the root included.
pub(crate) const MAX_DEPTH: usize = 64;

/// The most elements a document may hold. APIv2 messages have a few dozen; the bound keeps
/// an untrusted body (a notification is parsed before its `sign` is checked) from costing
/// more than a few milliseconds.
pub(crate) const MAX_ELEMENTS: usize = 10_000;

/// The element name used where a key cannot be one, as in PHP.
pub(crate) const ITEM: &str = "item";

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

    /// Adds a parsed child: a name seen before (its position in `index`) turns into (or
    /// grows) a [`XmlValue::List`]. The index makes this constant time, so a document with
    /// many distinct sibling names parses in linear time.
    pub(super) fn append(
        &mut self,
        index: &mut HashMap<String, usize>,
        key: String,
        value: XmlValue,
    ) {
        let Some(&at) = index.get(&key) else {
            index.insert(key.clone(), self.0.len());
            self.0.push((key, value));
            return;
        };
        let old = &mut self.0[at].1;
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

/// `key` when PHP would use it as an element name, else `item`.
///
/// PHP accepts `^[\pL_][\pL0-9._:-]*$`. Here a letter is what [`char::is_alphabetic`] says,
/// limited to the characters XML allows in names, so the output is always well-formed.
pub(crate) fn element_name(key: &str) -> &str {
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
pub(crate) fn is_name_start_char(c: char) -> bool {
    matches!(c,
        ':' | 'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

/// XML 1.0 `Name`.
pub(crate) fn is_xml_name(name: &str) -> bool {
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
