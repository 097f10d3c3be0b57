//! Reading APIv2 XML answers and notifications, strictly and without entity expansion.

use std::borrow::Cow;
use std::collections::HashMap;

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::reader::Reader;

use super::map::{MAX_DEPTH, MAX_ELEMENTS, XmlMap, XmlValue, is_xml_char, is_xml_name};
use crate::error::{Error, Result};

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
    /// Where each child name sits in `children`.
    index: HashMap<String, usize>,
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
            index: HashMap::new(),
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
                parent.children.append(&mut parent.index, name, value);
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
