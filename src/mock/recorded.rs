//! What the mock received: requests, their verdicts, and the parts of media uploads.

use bytes::Bytes;
use http::{HeaderMap, Method};
use serde_json::Value;

use super::ring::Weigh;
use crate::uri;
use crate::xml::{self, XmlMap};

/// A request the mock received, with its verdict.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The method.
    pub method: Method,
    /// The request target as received: percent-encoded path and `?query`.
    pub target: String,
    /// The HTTP version it came over (`HTTP/1.1`; `HTTP/2` over TLS with ALPN `h2`).
    pub version: http::Version,
    /// The headers.
    pub headers: HeaderMap,
    /// The body as received.
    pub body: Bytes,
    /// `Ok` when the request passed WeChat Pay's checks, else why not.
    pub verdict: std::result::Result<(), String>,
    /// For a multipart media upload: the parts.
    pub media: Option<RecordedMedia>,
    /// For a request to the TLS port ([`MockServer::tls_uri`](super::MockServer::tls_uri)): the DER of the client
    /// certificate it presented.
    pub client_certificate: Option<Bytes>,
}

/// The parts of a media upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedMedia {
    /// The `meta` part, as sent.
    pub meta: String,
    /// The `file` part's file name.
    pub filename: String,
    /// The `file` part's content type.
    pub content_type: String,
    /// The file's bytes.
    pub content: Bytes,
}

impl Weigh for RecordedRequest {
    fn weight(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        let media = self.media.as_ref().map_or(0, |media| {
            media.meta.len() + media.filename.len() + media.content.len()
        });
        let certificate = self.client_certificate.as_ref().map_or(0, Bytes::len);
        self.target.len() + headers + self.body.len() + media + certificate
    }
}

impl RecordedRequest {
    /// The percent-encoded path.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The query, percent-decoded into pairs (a `+` stays a `+`).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        query_pairs(&self.target)
            .map(|(key, value)| (lossy(key), lossy(value)))
            .collect()
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The fields of an APIv2 request, in the order sent: the query for `GET`, else the XML
    /// body; `None` when the body is not XML.
    pub fn v2_fields(&self) -> Option<XmlMap> {
        if self.method == Method::GET {
            return Some(self.query_pairs().into_iter().collect());
        }
        xml::parse(&self.body).ok()
    }
}

fn lossy(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The query pairs of a request target, decoded the way WeChat Pay (and the conformance
/// corpus) reads them: a `+` stays a `+`.
pub(super) fn query_pairs(target: &str) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> + '_ {
    uri::query_pairs(target, false)
}

/// Splits a `multipart/form-data` body into its `meta` and `file` parts.
pub(super) fn multipart_media(headers: &HeaderMap, body: &[u8]) -> Option<RecordedMedia> {
    let content_type = headers.get(http::header::CONTENT_TYPE)?.to_str().ok()?;
    let boundary = content_type
        .strip_prefix("multipart/form-data")?
        .split(';')
        .filter_map(|param| param.trim().strip_prefix("boundary="))
        .next()?
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let mut media = RecordedMedia {
        meta: String::new(),
        filename: String::new(),
        content_type: String::new(),
        content: Bytes::new(),
    };
    for part in split_bytes(body, delimiter.as_bytes()).skip(1) {
        if part.starts_with(b"--") {
            break;
        }
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let header_end = find(part, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&part[..header_end]).ok()?;
        let content = &part[header_end + 4..];
        let disposition = head
            .lines()
            .find(|line| line.to_ascii_lowercase().starts_with("content-disposition"))?;
        if disposition.contains("name=\"meta\"") {
            media.meta = String::from_utf8_lossy(content).into_owned();
        } else if disposition.contains("name=\"file\"") {
            media.filename = disposition
                .split("filename=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_default()
                .to_owned();
            media.content_type = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-type")
                        .then(|| value.trim().to_owned())
                })
                .unwrap_or_default();
            media.content = Bytes::copy_from_slice(content);
        }
    }
    Some(media)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn split_bytes<'a>(body: &'a [u8], delimiter: &'a [u8]) -> impl Iterator<Item = &'a [u8]> {
    let mut rest = Some(body);
    std::iter::from_fn(move || {
        let current = rest?;
        match find(current, delimiter) {
            Some(at) => {
                rest = Some(&current[at + delimiter.len()..]);
                Some(&current[..at])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}
