//! Percent-encoding, query strings and base URI resolution, matching what the PHP SDK puts
//! on the wire (PHP `rawurlencode`, `http_build_query(…, PHP_QUERY_RFC3986)`, RFC 3986 §5.2).

use std::sync::Arc;

use serde_json::{Number, Value};

use crate::error::{Error, Result};

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

fn is_reserved(byte: u8) -> bool {
    matches!(
        byte,
        b':' | b'/'
            | b'?'
            | b'#'
            | b'['
            | b']'
            | b'@'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
    )
}

fn push_escaped(byte: u8, out: &mut String) {
    out.push('%');
    out.push(char::from(HEX[usize::from(byte >> 4)]));
    out.push(char::from(HEX[usize::from(byte & 0x0f)]));
}

/// Appends `value` percent-encoded like PHP's `rawurlencode`: everything but
/// `A-Z a-z 0-9 - . _ ~` becomes `%XX`; with `allow_reserved`, the RFC 3986 reserved
/// characters stay too (but `%` is still encoded).
pub(crate) fn encode_value(value: &str, allow_reserved: bool, out: &mut String) {
    encode_with(value, out, |byte| {
        is_unreserved(byte) || (allow_reserved && is_reserved(byte))
    });
}

/// Appends literal template text, percent-encoding only what cannot appear in a URI.
pub(crate) fn encode_literal(text: &str, out: &mut String) {
    encode_with(text, out, |byte| {
        is_unreserved(byte) || is_reserved(byte) || byte == b'%'
    });
}

/// Appends `text`, percent-encoding the bytes that `keep` refuses; runs of kept bytes are
/// copied whole.
fn encode_with(text: &str, out: &mut String, keep: impl Fn(u8) -> bool) {
    let mut rest = text;
    while !rest.is_empty() {
        let kept = rest
            .bytes()
            .position(|byte| !keep(byte))
            .unwrap_or(rest.len());
        out.push_str(&rest[..kept]);
        let Some(&byte) = rest.as_bytes().get(kept) else {
            return;
        };
        push_escaped(byte, out);
        // An escaped byte may be the first of a multi-byte character: escape the rest of it
        // too, so that `rest` always starts on a character boundary.
        let mut next = kept + 1;
        while let Some(&continuation) = rest.as_bytes().get(next)
            && !rest.is_char_boundary(next)
        {
            push_escaped(continuation, out);
            next += 1;
        }
        rest = &rest[next..];
    }
}

/// Percent-encodes like PHP's `rawurlencode`.
pub fn rawurlencode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    encode_value(value, false, &mut out);
    out
}

/// Decodes `%XX` escapes (an invalid escape is kept as it is); with `plus_as_space`, a `+` is a
/// space first, as in form encoding (PHP's `parse_str`, Guzzle's `Query::parse`).
pub(crate) fn percent_decode_bytes(text: &str, plus_as_space: bool) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (bytes[index], escaped) {
            (_, Some(decoded)) => {
                out.push(decoded);
                index += 3;
            }
            (b'+', None) if plus_as_space => {
                out.push(b' ');
                index += 1;
            }
            (other, None) => {
                out.push(other);
                index += 1;
            }
        }
    }
    out
}

/// The `key=value` pairs of the query of `target` (everything after the first `?`),
/// percent-decoded in order; empty pairs are skipped and a pair without `=` has an empty
/// value. With `plus_as_space`, a `+` is a space (form encoding, Guzzle's `Query::parse`);
/// without, it stays a `+` (RFC 3986, what the conformance corpus compares).
pub(crate) fn query_pairs(
    target: &str,
    plus_as_space: bool,
) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> + '_ {
    let query = target.split_once('?').map_or("", |(_, query)| query);
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(move |pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode_bytes(key, plus_as_space),
                percent_decode_bytes(value, plus_as_space),
            )
        })
}

/// A JSON number as PHP's `(string)` cast writes it: integers in decimal, floats with 14
/// significant digits (`2.0` → `2`, `0.1 + 0.2` → `0.3`, `1e20` → `1.0E+20`).
pub(crate) fn number_text(number: &Number) -> String {
    if number.is_i64() || number.is_u64() {
        return number.to_string();
    }
    number.as_f64().map(php_float).unwrap_or_default()
}

/// A float as PHP's `(string)` cast writes it: 14 significant digits (`precision` = 14),
/// exponent form below `1e-4` or from `1e14` on (`1.0E+20`, `1.5E-7`).
fn php_float(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let formatted = format!("{:.13e}", f.abs());
    let (mantissa, exponent) = formatted.split_once('e').unwrap_or((&formatted, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let sign = if f < 0.0 { "-" } else { "" };
    if !(-4..14).contains(&exponent) {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let rest = if rest.is_empty() { "0" } else { rest };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{first}.{rest}E{exp_sign}{}", exponent.unsigned_abs())
    } else if exponent < 0 {
        let zeros = "0".repeat(exponent.unsigned_abs() as usize - 1);
        format!("{sign}0.{zeros}{digits}")
    } else {
        let point = exponent as usize + 1;
        if digits.len() <= point {
            format!("{sign}{digits}{}", "0".repeat(point - digits.len()))
        } else {
            format!("{sign}{}.{}", &digits[..point], &digits[point..])
        }
    }
}

/// Builds a query string from the `query` option like PHP's
/// `http_build_query($query, '', '&', PHP_QUERY_RFC3986)`: keys and values
/// `rawurlencode`d, nested arrays as `d%5B0%5D=x`, nested objects as `a%5Bb%5D=c`, booleans
/// as `1`/`0`, `null` skipped. A string is used as it is.
///
/// ```
/// use serde_json::json;
/// assert_eq!(
///     wechatpay::toolkit::build_query(&json!({"a": "b c", "d": ["x", "y"], "e": true})).unwrap(),
///     "a=b%20c&d%5B0%5D=x&d%5B1%5D=y&e=1"
/// );
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) when `query` is neither
/// an object, an array nor a string.
pub fn build_query(query: &Value) -> Result<String> {
    let mut out = String::new();
    match query {
        Value::String(text) => out.push_str(text),
        Value::Object(map) => {
            for (key, value) in map {
                push_pair(&mut out, key, value);
            }
        }
        Value::Array(items) => {
            for (index, value) in items.iter().enumerate() {
                push_pair(&mut out, &index.to_string(), value);
            }
        }
        Value::Null => {}
        other => {
            return Err(Error::invalid(format!(
                "the `query` option must be an object like {{\"limit\": 10}} or a string, not {other}"
            )));
        }
    }
    Ok(out)
}

fn push_pair(out: &mut String, key: &str, value: &Value) {
    let scalar = match value {
        Value::Null => return,
        Value::Object(map) => {
            for (sub, item) in map {
                push_pair(out, &format!("{key}[{sub}]"), item);
            }
            return;
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                push_pair(out, &format!("{key}[{index}]"), item);
            }
            return;
        }
        Value::Bool(flag) => if *flag { "1" } else { "0" }.to_string(),
        Value::Number(number) => number_text(number),
        Value::String(text) => text.clone(),
    };
    if !out.is_empty() {
        out.push('&');
    }
    encode_value(key, false, out);
    out.push('=');
    encode_value(&scalar, false, out);
}

/// An absolute `http`/`https` base URI, split once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BaseUri {
    /// `scheme://authority`, without a trailing slash (shared with every destination).
    origin: Arc<str>,
    /// The path, `/` when empty.
    path: String,
}

impl BaseUri {
    /// Parses `uri`, which must be absolute `http(s)://host[:port][/path]`.
    pub(crate) fn parse(uri: &str) -> Result<Self> {
        let bad = || {
            Error::invalid(format!(
                "the base URI `{uri}` is not an absolute http(s) URI such as \
                 `https://api.mch.weixin.qq.com/`"
            ))
        };
        let (scheme, rest) = uri.split_once("://").ok_or_else(bad)?;
        if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
            return Err(bad());
        }
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, "/"),
        };
        if authority.is_empty() || authority.contains(char::is_whitespace) {
            return Err(bad());
        }
        if authority.contains(['@', '\\']) {
            return Err(Error::invalid(
                "the base URI holds user information (`user:password@` before the host) or a \
                 backslash; WeChat Pay takes none, and `https://api.mch.weixin.qq.com@other/` \
                 would send the request to `other`: write the host alone",
            ));
        }
        if authority.parse::<http::uri::Authority>().is_err() {
            return Err(bad());
        }
        Ok(Self {
            origin: format!("{}://{authority}", scheme.to_ascii_lowercase()).into(),
            path: path.to_string(),
        })
    }

    /// `scheme://authority`, without a trailing slash.
    pub(crate) fn origin(&self) -> &str {
        &self.origin
    }

    /// The whole base URI, `scheme://authority/path`.
    pub(crate) fn to_uri_string(&self) -> String {
        format!("{}{}", self.origin, self.path)
    }

    /// Refuses plain `http://` unless the host is this machine (see [`is_secure_origin`]).
    pub(crate) fn check_secure(&self) -> Result<()> {
        check_secure_origin(&self.origin)
    }

    /// Resolves `reference` (an expanded path template) against this base, RFC 3986 §5.2:
    /// `v3/x` is appended to the base path's directory, `/v3/x` replaces the path, an
    /// absolute URI wins, dot segments are removed. Returns the origin and the request
    /// target (`path[?query]`).
    pub(crate) fn resolve(&self, reference: &str) -> Result<(Arc<str>, String)> {
        let reference = reference.split('#').next().unwrap_or_default();
        if has_scheme(reference) {
            let absolute = BaseUri::parse(reference)?;
            let (path, query) = split_query(reference_path_and_query(reference));
            return Ok((absolute.origin, target(&remove_dot_segments(path), query)));
        }
        if let Some(network) = reference.strip_prefix("//") {
            let scheme = self.origin.split("://").next().unwrap_or("https");
            let absolute = BaseUri::parse(&format!("{scheme}://{network}"))?;
            let (path, query) = split_query(reference_path_and_query(reference));
            return Ok((absolute.origin, target(&remove_dot_segments(path), query)));
        }
        let (path, query) = split_query(reference);
        let directory = if path.is_empty() || path.starts_with('/') {
            ""
        } else {
            &self.path[..self.path.rfind('/').map_or(0, |slash| slash + 1)]
        };
        let from_reference = !path.is_empty();
        let path = if from_reference { path } else { &*self.path };
        // One allocation: the directory, the path and the query, joined in place.
        let query_len = query.map_or(0, |query| query.len() + 1);
        let mut target = String::with_capacity(directory.len() + path.len() + query_len + 1);
        target.push_str(directory);
        target.push_str(path);
        if from_reference && has_dot_segment(&target) {
            target = remove_dot_segments(&target);
        }
        if target.is_empty() {
            target.push('/');
        }
        if let Some(query) = query.filter(|query| !query.is_empty()) {
            target.push('?');
            target.push_str(query);
        }
        Ok((self.origin.clone(), target))
    }
}

/// Where a request goes: `scheme://authority` and the request target (`path[?query]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Destination {
    pub origin: Arc<str>,
    pub target: String,
}

impl Destination {
    /// Resolves `path` (an expanded template) against `base`; a `query` (the `query` option,
    /// already encoded) replaces any query the path carries, and an empty one removes it.
    pub(crate) fn resolve(base: &BaseUri, path: &str, query: Option<&str>) -> Result<Self> {
        let (origin, mut target) = base.resolve(path)?;
        if let Some(query) = query {
            target.truncate(target.find('?').unwrap_or(target.len()));
            if !query.is_empty() {
                target.push('?');
                target.push_str(query);
            }
        }
        Ok(Self { origin, target })
    }

    /// The path part of the target.
    pub(crate) fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// A request to this destination.
    pub(crate) fn request(
        &self,
        method: http::Method,
        headers: http::HeaderMap,
        body: bytes::Bytes,
    ) -> Result<http::Request<bytes::Bytes>> {
        let mut request = http::Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = self.uri()?;
        *request.headers_mut() = headers;
        Ok(request)
    }

    /// The whole URI.
    pub(crate) fn uri(&self) -> Result<http::Uri> {
        let mut uri = String::with_capacity(self.origin.len() + self.target.len());
        uri.push_str(&self.origin);
        uri.push_str(&self.target);
        // From the `String` itself: parsed in place, not copied.
        http::Uri::try_from(uri).map_err(|e| {
            Error::invalid(format!(
                "`{}{}` is not a valid request URI",
                self.origin, self.target
            ))
            .with_source(e)
        })
    }
}

/// Whether requests to `origin` (`scheme://authority`) stay encrypted or on this machine:
/// `https`, or plain `http` to `localhost`, `127.0.0.0/8` or `[::1]` (the mock server in tests).
pub(crate) fn is_secure_origin(origin: &str) -> bool {
    let Some(authority) = origin
        .get(..7)
        .filter(|scheme| scheme.eq_ignore_ascii_case("http://"))
        .map(|_| &origin[7..])
    else {
        return true;
    };
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
        || host == "[::1]"
}

/// [`is_secure_origin`], as the error that says what to do.
pub(crate) fn check_secure_origin(origin: &str) -> Result<()> {
    if is_secure_origin(origin) {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "`{origin}` is plain http to another machine: the request and the answer would cross \
         the network unencrypted; use https (only 127.0.0.1, [::1] and localhost may use http), \
         or ClientBuilder::danger_allow_http for a trusted test network"
    )))
}

/// Whether `reference` starts with an RFC 3986 scheme (`ALPHA *( ALPHA / DIGIT / "+" / "-" /
/// "." ) ":"`), i.e. is an absolute URI rather than a path that merely holds `://` later on
/// (`v3/x?notify_url=https://…`).
fn has_scheme(reference: &str) -> bool {
    let Some((scheme, _)) = reference.split_once(':') else {
        return false;
    };
    let mut bytes = scheme.bytes();
    bytes
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// The path-and-query part of an absolute or network-path reference.
fn reference_path_and_query(reference: &str) -> &str {
    let after_scheme = reference
        .split_once("//")
        .map_or(reference, |(_, rest)| rest);
    after_scheme
        .find(['/', '?'])
        .map_or("", |start| &after_scheme[start..])
}

fn split_query(reference: &str) -> (&str, Option<&str>) {
    match reference.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (reference, None),
    }
}

fn target(path: &str, query: Option<&str>) -> String {
    let path = if path.is_empty() { "/" } else { path };
    match query {
        Some(query) if !query.is_empty() => format!("{path}?{query}"),
        _ => path.to_string(),
    }
}

/// Whether `path` has a `.` or `..` segment.
fn has_dot_segment(path: &str) -> bool {
    // Most paths have no dot at all.
    path.contains('.')
        && path
            .split('/')
            .any(|segment| segment == "." || segment == "..")
}

/// RFC 3986 §5.2.4.
fn remove_dot_segments(path: &str) -> String {
    if !has_dot_segment(path) {
        return path.to_string();
    }
    let mut output: Vec<&str> = Vec::new();
    let absolute = path.starts_with('/');
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let last = segments.len().saturating_sub(1);
    let mut trailing_slash = false;
    for (index, segment) in segments.iter().enumerate() {
        match *segment {
            "." => trailing_slash = index == last,
            ".." => {
                output.pop();
                trailing_slash = index == last;
            }
            other => {
                output.push(other);
                trailing_slash = false;
            }
        }
    }
    let mut joined = String::with_capacity(path.len());
    if absolute {
        joined.push('/');
    }
    joined.push_str(&output.join("/"));
    if trailing_slash && !joined.ends_with('/') {
        joined.push('/');
    }
    joined
}

#[cfg(test)]
mod tests;
