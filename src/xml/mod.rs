//! The XML of APIv2: building request bodies and reading answers and notifications.
//!
//! [`to_xml`] and [`to_xml_from`] write what the PHP SDK's `Transformer::toXml` writes (headless,
//! no indentation, root `<xml>`, list items as `<item>`), except where PHP would write broken
//! XML. [`parse`] reads what `Transformer::toArray` reads, but fails with an [`Error`](crate::Error) where PHP
//! quietly returns an empty array. Nothing here touches files or the network: a `<!DOCTYPE>` is
//! skipped, and its entities are never loaded or expanded.

mod map;
mod reader;
#[cfg(test)]
mod tests;
mod writer;

pub(crate) use map::is_xml_char;
pub use map::{Iter, XmlMap, XmlValue};
pub use reader::parse;
pub use writer::{to_xml, to_xml_from};
