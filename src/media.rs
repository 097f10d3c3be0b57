//! Media uploads (PHP's `MediaUtil`): a multipart body with a `meta` JSON part and the file,
//! where the request signature covers the `meta` JSON only.

use std::fmt;
use std::path::Path;

use bytes::{BufMut, Bytes, BytesMut};

use crate::crypto::hash::sha256_hex;
use crate::error::{Error, Result};

/// A file to upload to an APIv3 media endpoint (`v3/merchant/media/upload`,
/// `v3/marketing/favor/media/image-upload`, …).
///
/// ```
/// use wechatpay::{Media, Options};
///
/// let media = Media::from_bytes("logo.png", b"\x89PNG".to_vec());
/// assert!(media.meta().starts_with(r#"{"filename":"logo.png","sha256":""#));
/// // client["v3/merchant/media/upload"].post(media)?;
/// let options = Options::new().media(media);
/// # let _ = options;
/// ```
#[derive(Clone)]
pub struct Media {
    filename: String,
    content: Bytes,
    meta: String,
}

impl Media {
    /// Reads the file at `path`; the file name sent is its last path component.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) when the file cannot
    /// be read.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let content = std::fs::read(path).map_err(|e| {
            Error::invalid(format!(
                "cannot read the file to upload `{}`: {e}",
                path.display()
            ))
            .with_source(e)
        })?;
        let filename = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Self::from_bytes(filename, content))
    }

    /// A file held in memory, sent as `filename`.
    pub fn from_bytes(filename: impl Into<String>, content: impl Into<Bytes>) -> Self {
        let filename = filename.into();
        let content = content.into();
        let meta = format!(
            "{{\"filename\":{},\"sha256\":\"{}\"}}",
            php_json_string(&filename),
            sha256_hex(&content)
        );
        Self {
            filename,
            content,
            meta,
        }
    }

    /// Replaces the `meta` JSON, for endpoints that want more fields (e.g.
    /// `{"bank_type":"LQT","filename":"…","sha256":"…"}`). It is sent and signed verbatim.
    pub fn with_meta(mut self, meta: impl Into<String>) -> Self {
        self.meta = meta.into();
        self
    }

    /// The `meta` JSON: what the request signature covers.
    pub fn meta(&self) -> &str {
        &self.meta
    }

    /// The file name sent in the `file` part.
    pub fn filename(&self) -> &str {
        &self.filename
    }

    /// The file's bytes.
    pub fn content(&self) -> &Bytes {
        &self.content
    }

    /// The file part's content type, from the file name's extension.
    pub fn content_type(&self) -> &'static str {
        content_type_for(&self.filename)
    }

    /// The multipart body for `boundary`: the `meta` part, then the `file` part.
    pub(crate) fn multipart_body(&self, boundary: &str) -> Bytes {
        let mut body = BytesMut::with_capacity(self.content.len() + self.meta.len() + 400);
        let mut put = |text: &str| body.put_slice(text.as_bytes());
        put(&format!(
            "--{boundary}\r\nContent-Type: application/json\r\nContent-Disposition: form-data; name=\"meta\"\r\n\r\n"
        ));
        put(&self.meta);
        put(&format!(
            "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Length: {}\r\nContent-Type: {}\r\n\r\n",
            self.filename.replace(['"', '\r', '\n'], "_"),
            self.content.len(),
            self.content_type()
        ));
        body.put_slice(&self.content);
        body.put_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        body.freeze()
    }
}

impl fmt::Debug for Media {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Media")
            .field("filename", &self.filename)
            .field("len", &self.content.len())
            .field("meta", &self.meta)
            .finish()
    }
}

/// A fresh multipart boundary: 40 lower-case hex characters, like Guzzle's.
pub(crate) fn boundary() -> Result<String> {
    let mut bytes = [0u8; 20];
    crate::crypto::random::fill(&mut bytes)?;
    Ok(crate::crypto::hash::hex_lower(&bytes))
}

/// A JSON string the way PHP's `json_encode` writes it with no flags: `/` as `\/` and every
/// non-ASCII character as `\uXXXX`.
fn php_json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ch if ch.is_ascii() && !ch.is_ascii_control() => out.push(ch),
            ch => {
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

fn content_type_for(filename: &str) -> &'static str {
    let extension = filename
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "jpg" | "jpeg" | "jpe" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "bmp" => "image/bmp",
        "webp" => "image/webp",
        "tif" | "tiff" => "image/tiff",
        "mp4" => "video/mp4",
        "avi" => "video/x-msvideo",
        "mov" => "video/quicktime",
        "wmv" => "video/x-ms-wmv",
        "flv" => "video/x-flv",
        "mkv" => "video/x-matroska",
        "3gp" => "video/3gpp",
        "csv" => "text/csv",
        "txt" => "text/plain",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_is_php_json() {
        let media = Media::from_bytes("测试 file.JPG", "abc");
        assert_eq!(
            media.meta(),
            r#"{"filename":"\u6d4b\u8bd5 file.JPG","sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}"#
        );
        assert_eq!(media.content_type(), "image/jpeg");
        assert_eq!(php_json_string("a/b"), r#""a\/b""#);
    }

    #[test]
    fn replaced_meta_is_kept_verbatim() {
        let media = Media::from_bytes("a.csv", "x").with_meta(r#"{"bank_type":"LQT"}"#);
        assert_eq!(media.meta(), r#"{"bank_type":"LQT"}"#);
        assert_eq!(media.content_type(), "text/csv");
    }

    #[test]
    fn multipart_has_meta_then_file() {
        let media = Media::from_bytes("logo.png", "PNG");
        let body = media.multipart_body("b0");
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with("--b0\r\nContent-Type: application/json\r\nContent-Disposition: form-data; name=\"meta\"\r\n\r\n{\"filename\":\"logo.png\""));
        assert!(text.contains("name=\"file\"; filename=\"logo.png\"\r\nContent-Length: 3\r\nContent-Type: image/png\r\n\r\nPNG\r\n--b0--\r\n"));
        assert_eq!(boundary().expect("boundary").len(), 40);
        assert_eq!(content_type_for("noext"), "application/octet-stream");
    }
}
