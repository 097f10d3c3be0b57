//! The request plan: the options of one call, decoded once into types.
//!
//! [`Plan::decode`] is the only reader of the raw options: every later stage (signing, the
//! APIv3 and APIv2 request builders, the transport) reads the plan. A key that is neither a
//! path variable nor a known option is refused here, before anything is signed or sent.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Result};
use crate::media::Media;
use crate::options::{Options, Sink};
use crate::protocol::{self, Api};
use crate::template;
use crate::uri::{BaseUri, build_query};

/// The options this SDK understands, in the order the suggestions prefer them.
pub(crate) const OPTION_NAMES: [&str; 13] = [
    "json",
    "query",
    "headers",
    "body",
    "base_uri",
    "timeout",
    "connect_timeout",
    "xml",
    "security",
    "nonceless",
    "retry",
    "sink",
    "allow_plaintext",
];

/// Guzzle request options that have no meaning here, and what to do instead.
const REFUSED_GUZZLE_OPTIONS: [(&str, &str); 23] = [
    (
        "allow_redirects",
        "WeChat Pay never redirects, and redirects are never followed: a 3xx answer is an error",
    ),
    (
        "auth",
        "every APIv3 request is signed with the merchant key, which sets `Authorization`",
    ),
    (
        "cert",
        "set the merchant certificate with ClientBuilder::merchant_identity and send the APIv2 \
         call with `security: true`",
    ),
    ("cookies", "WeChat Pay uses no cookies"),
    (
        "debug",
        "inspect the signed request with Chain::build_request, or wrap the transport \
         (ClientBuilder::transport) to log what is sent",
    ),
    (
        "decode_content",
        "answers are handed back exactly as received (a gzip bill stays gzip)",
    ),
    ("delay", "wait before calling instead"),
    ("expect", "the SDK never sends `Expect: 100-continue`"),
    (
        "force_ip_resolve",
        "the system resolver decides; pass an IP literal base URI if you must",
    ),
    (
        "form_params",
        "WeChat Pay takes JSON (`json`) or APIv2 XML (`xml`), never forms",
    ),
    (
        "handler",
        "replace the transport with ClientBuilder::transport",
    ),
    (
        "http_errors",
        "a status of 400 or more is always an `ErrorKind::Api` error; read the answer with \
         Error::response",
    ),
    ("idn_conversion", "WeChat Pay's host names are ASCII"),
    (
        "multipart",
        "upload files with Options::media (the `meta` JSON is signed for you)",
    ),
    (
        "on_headers",
        "read the headers of the verified answer (Response::headers)",
    ),
    ("on_stats", "time the call yourself"),
    ("progress", "time the call yourself"),
    (
        "proxy",
        "set the proxy for the whole client with ClientBuilder::proxy (HTTPS_PROXY, HTTP_PROXY, \
         ALL_PROXY and NO_PROXY are honoured by default), not per request",
    ),
    (
        "read_timeout",
        "use `timeout`, which bounds the whole request",
    ),
    (
        "ssl_key",
        "set the merchant key with ClientBuilder::merchant_identity and send the APIv2 call \
         with `security: true`",
    ),
    (
        "stream",
        "answers are read whole; stream a download into a file or a writer with the `sink` \
         option (Options::sink, Options::sink_to)",
    ),
    (
        "synchronous",
        "call the blocking verbs (`post`) or await the async ones (`post_async`)",
    ),
    (
        "verify",
        "TLS certificates are always verified; trust an extra CA with \
         ClientBuilder::tls_root_certificate",
    ),
];

/// One call's options, decoded.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The API the template asks for.
    pub api: Api,
    /// The expanded path, without the `v2/` prefix of an APIv2 call.
    pub path: String,
    pub body: Body,
    /// The `query` option, encoded; it replaces any query of the path.
    pub query: Option<String>,
    /// The `headers` option, checked; they replace defaults of the same name.
    pub headers: HeaderMap,
    pub base_uri: Option<BaseUri>,
    /// The `timeout` option: `Some(None)` for no limit, `None` for the client's.
    pub timeout: Option<Option<Duration>>,
    /// The `connect_timeout` option: `Some(None)` for no limit, `None` for the client's.
    pub connect_timeout: Option<Option<Duration>>,
    /// APIv2 `security: true`: mutual TLS with the merchant certificate.
    pub security: bool,
    /// APIv2 `nonceless`: no `nonce_str` is added.
    pub nonceless: bool,
    /// `retry: true`: safe to send again after it may have reached WeChat Pay.
    pub retry: bool,
    /// The request carries a documented-encrypted field: it names the key those are
    /// encrypted with in `Wechatpay-Serial` (set by the chain, [`plaintext::carries`]).
    pub encrypted: bool,
    /// `sink`: where the answer's body goes instead of memory.
    pub sink: Option<Sink>,
    /// The `hash_type` and `hash_value` the body must have.
    pub digest: Option<(String, String)>,
    /// The most bytes the sink may take.
    pub max_sink_size: Option<u64>,
}

/// What a request carries as its body.
#[derive(Debug)]
pub(crate) enum Body {
    None,
    /// APIv3 `json`, serialised.
    Json(Bytes),
    /// APIv2 `xml`: the fields, as given.
    Xml(Map<String, Value>),
    /// `body`, verbatim.
    Raw(Bytes),
    /// An APIv3 media upload.
    Media(Media),
}

impl Plan {
    /// Decodes `options` for a call of `template` (normalised, not yet expanded).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MissingPathVariable`] when a path variable is missing, null or empty
    /// (naming options that look like misspellings of it);
    /// [`ErrorKind::InvalidArgument`] for options that are not objects, unknown keys, Guzzle
    /// options without a meaning here, values of the wrong type, and options of the other API.
    pub(crate) fn decode(template: &str, options: &Options) -> Result<Plan> {
        Self::decode_guarded(template, options, None)
    }

    /// [`Plan::decode`], then the plain-text guard of `guard` ([`plaintext::guard`]), in
    /// place (a plan is large, and this is the path of every request).
    ///
    /// # Errors
    ///
    /// As [`Plan::decode`] and [`plaintext::guard`].
    pub(crate) fn decode_guarded(
        template: &str,
        options: &Options,
        guard: Option<plaintext::Guard<'_>>,
    ) -> Result<Plan> {
        if let Some(what) = options.not_an_object {
            return Err(Error::invalid(format!(
                "request options must be a JSON object like {{\"json\": {{…}}}}, not {what}"
            )));
        }
        let map = &options.map;
        let unknown: Vec<&str> = map
            .keys()
            .map(String::as_str)
            .filter(|key| !OPTION_NAMES.contains(key) && !template::uses_variable(template, key))
            .collect();
        let expanded = template::expand(template, map).map_err(|error| {
            with_misspelling_hint(error, &unknown, &template::variables(template))
        })?;
        if let Some(key) = unknown.first() {
            return Err(unknown_option(key, &template::variables(template)));
        }
        let (api, path) = protocol::route(&expanded);
        let path = if path.len() == expanded.len() {
            expanded
        } else {
            path.to_owned()
        };
        let mut plan = Plan {
            api,
            path,
            body: Body::None,
            query: None,
            headers: HeaderMap::new(),
            base_uri: None,
            timeout: None,
            connect_timeout: None,
            security: false,
            nonceless: false,
            retry: false,
            encrypted: false,
            sink: None,
            digest: None,
            max_sink_size: None,
        };
        plan.decode_body(options)?;
        plan.query = match given(map, "query") {
            Some(query) => Some(build_query(query)?),
            None => None,
        };
        if let Some(headers) = given(map, "headers") {
            plan.headers = decode_headers(headers)?;
        }
        if let Some(uri) = given(map, "base_uri") {
            let Value::String(uri) = uri else {
                return Err(Error::invalid(format!(
                    "the `base_uri` option must be a string like \
                     \"https://apihk.mch.weixin.qq.com/\", not {uri}"
                )));
            };
            plan.base_uri = Some(BaseUri::parse(uri)?);
        }
        plan.timeout = given(map, "timeout")
            .map(|v| seconds("timeout", v))
            .transpose()?;
        plan.connect_timeout = given(map, "connect_timeout")
            .map(|v| seconds("connect_timeout", v))
            .transpose()?;
        plan.decode_v2_flags(map)?;
        plan.decode_delivery(options)?;
        if let Some(guard) = guard {
            plan.encrypted = plaintext::guard(&guard, template, options)?;
        }
        Ok(plan)
    }

    /// `retry`, `sink` and the expected digest.
    fn decode_delivery(&mut self, options: &Options) -> Result<()> {
        let map = &options.map;
        self.retry = flag(map, "retry", "safe to send again: see Options::retry")?;

        self.sink = match (&options.sink, given(map, "sink")) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "give the `sink` option or Options::sink / Options::sink_to, not both",
                ));
            }
            (Some(sink), None) => Some(sink.clone()),
            (None, None) => None,
            (None, Some(Value::String(path))) if !path.trim().is_empty() => {
                Some(Sink::Path(path.into()))
            }
            (None, Some(other)) => {
                return Err(Error::invalid(format!(
                    "the `sink` option must be the path of the file to stream the answer into, \
                     like \"/var/bills/2019-06-11.csv\", not {other} (use Options::sink_to for a \
                     writer)"
                )));
            }
        };
        if let Some((hash_type, hash_value)) = &options.digest {
            // Checked now, so that a wrong hash type fails before anything is sent.
            crate::bill::Checker::new(hash_type, hash_value)?;
            self.digest = Some((hash_type.clone(), hash_value.clone()));
        }
        if options.max_sink_size.is_some() && self.sink.is_none() {
            return Err(Error::invalid(
                "Options::max_sink_size bounds a download streamed into a sink: give \
                 Options::sink or Options::sink_to too (an answer in memory is bounded by \
                 ClientBuilder::max_response_size)",
            ));
        }
        self.max_sink_size = options.max_sink_size;
        Ok(())
    }

    fn decode_body(&mut self, options: &Options) -> Result<()> {
        let map = &options.map;
        let json = given(map, "json");
        let raw = match (&options.body, given(map, "body")) {
            (Some(bytes), _) => Some(bytes.clone()),
            (None, None) => None,
            (None, Some(Value::String(text))) => Some(Bytes::from(text.clone())),
            (None, Some(other)) => {
                return Err(Error::invalid(format!(
                    "the `body` option must be a string (or use Options::body for bytes), not \
                     {other}; for a JSON body use the `json` option"
                )));
            }
        };
        let xml = given(map, "xml");
        match self.api {
            Api::V3 => {
                if xml.is_some() {
                    return Err(other_api_option("xml"));
                }
                let count = [json.is_some(), raw.is_some(), options.media.is_some()]
                    .into_iter()
                    .filter(|given| *given)
                    .count();
                if count > 1 {
                    return Err(Error::invalid(
                        "give only one of the `json`, `body` and media options: they all set \
                         the body",
                    ));
                }
                self.body = if let Some(media) = &options.media {
                    Body::Media(media.clone())
                } else if let Some(json) = json {
                    // Sized for a typical body: no growth on the way.
                    let mut bytes = Vec::with_capacity(512);
                    serde_json::to_writer(&mut bytes, json).map_err(|e| {
                        Error::invalid("the `json` option cannot be serialised").with_source(e)
                    })?;
                    Body::Json(Bytes::from(bytes))
                } else if let Some(raw) = raw {
                    Body::Raw(raw)
                } else {
                    Body::None
                };
            }
            Api::V2 => {
                let refused = if json.is_some() {
                    Some("json")
                } else if raw.is_some() || options.media.is_some() {
                    Some("body")
                } else {
                    None
                };
                if let Some(option) = refused {
                    return Err(Error::invalid(format!(
                        "APIv2 calls send their fields from the `xml` option, not `{option}`: \
                         write json!({{\"xml\": {{\"mch_id\": \"…\", …}}}})"
                    )));
                }
                self.body = match xml {
                    None => Body::None,
                    Some(Value::Object(fields)) => Body::Xml(fields.clone()),
                    Some(other) => {
                        return Err(Error::invalid(format!(
                            "the `xml` option must be an object of APIv2 fields like \
                             {{\"mch_id\": \"…\", …}}, not {other}"
                        )));
                    }
                };
            }
        }
        Ok(())
    }

    fn decode_v2_flags(&mut self, map: &Map<String, Value>) -> Result<()> {
        let security = given(map, "security");
        // As in PHP: `nonceless` counts when present and not null, whatever its value.
        let nonceless = given(map, "nonceless").is_some();
        if self.api == Api::V3 {
            if security.is_some() {
                return Err(other_api_option("security"));
            }
            if nonceless {
                return Err(other_api_option("nonceless"));
            }
            return Ok(());
        }
        self.security = match security {
            None => false,
            Some(Value::Bool(on)) => *on,
            Some(other) => {
                return Err(Error::invalid(format!(
                    "the `security` option must be `true` (mutual TLS) or `false`, not {other}"
                )));
            }
        };
        self.nonceless = nonceless;
        Ok(())
    }
}

/// A boolean option, `false` when absent; `meaning` says what `true` does.
pub(crate) fn flag(map: &Map<String, Value>, key: &str, meaning: &str) -> Result<bool> {
    match given(map, key) {
        None => Ok(false),
        Some(Value::Bool(on)) => Ok(*on),
        Some(other) => Err(Error::invalid(format!(
            "the `{key}` option must be `true` ({meaning}) or `false`, not {other}"
        ))),
    }
}

/// The option `key`, unless absent or `null`.
fn given<'m>(map: &'m Map<String, Value>, key: &str) -> Option<&'m Value> {
    map.get(key).filter(|value| !value.is_null())
}

fn other_api_option(option: &str) -> Error {
    Error::invalid(format!(
        "`{option}` is an APIv2 option, but this path is an APIv3 call (APIv2 paths start with \
         `v2/`); APIv3 calls take `json`, `query` and path variables"
    ))
}

/// A number of seconds, `0` (or more than a `Duration` holds) for no limit.
fn seconds(option: &str, value: &Value) -> Result<Option<Duration>> {
    let bad = || {
        Error::invalid(format!(
            "the `{option}` option must be a number of seconds, 0 or more (0: no limit), not \
             {value}"
        ))
    };
    let seconds = value
        .as_f64()
        .filter(|seconds| *seconds >= 0.0)
        .ok_or_else(bad)?;
    Ok(Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|limit| !limit.is_zero()))
}

/// Headers the `headers` option may not set: they decide where the request goes, how its
/// body is framed, or carry the signature, so a value there would send something other than
/// what was signed. (`User-Agent`, `Accept`, `Content-Type` and `Wechatpay-Serial` stay
/// overridable.)
const REFUSED_HEADERS: [&str; 10] = [
    "host",
    "content-length",
    "transfer-encoding",
    "authorization",
    "connection",
    "upgrade",
    "te",
    "trailer",
    "keep-alive",
    "expect",
];

/// Why the `headers` option may not set `name` (lower case), if it may not.
fn refused_header(name: &str) -> Option<&'static str> {
    if name == "authorization" {
        return Some("the SDK signs every APIv3 request and sets `Authorization` itself");
    }
    if name.starts_with("proxy-") {
        return Some("proxies are set for the whole client (ClientBuilder::proxy)");
    }
    REFUSED_HEADERS
        .contains(&name)
        .then_some("it frames or routes the request, which the SDK and the transport decide")
}

fn decode_headers(headers: &Value) -> Result<HeaderMap> {
    let Value::Object(headers) = headers else {
        return Err(Error::invalid(
            "the `headers` option must be an object like {\"Wechatpay-Serial\": \"PUB_KEY_ID_…\"}",
        ));
    };
    let mut map = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let text = match value {
            Value::Null => continue,
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            Value::Bool(flag) => if *flag { "1" } else { "" }.to_owned(),
            _ => {
                return Err(Error::invalid(format!(
                    "the header `{name}` must be a string, not {value}"
                )));
            }
        };
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|e| {
            Error::invalid(format!("`{name}` is not a valid header name")).with_source(e)
        })?;
        if let Some(why) = refused_header(header.as_str()) {
            return Err(Error::invalid(format!(
                "the `headers` option may not set `{name}`: {why}; a value of yours could send \
                 something other than what was signed. Nothing was sent"
            )));
        }
        map.insert(header, header_value(name, &text)?);
    }
    Ok(map)
}

/// A header value, or the error naming the header.
pub(crate) fn header_value(name: &str, value: &str) -> Result<HeaderValue> {
    HeaderValue::from_str(value).map_err(|e| {
        Error::invalid(format!(
            "the `{name}` header value cannot be sent (control characters or line breaks)"
        ))
        .with_source(e)
    })
}

/// The error for a key that is neither a path variable nor an option.
fn unknown_option(key: &str, variables: &[&str]) -> Error {
    if let Some((_, instead)) = REFUSED_GUZZLE_OPTIONS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(key))
    {
        return Error::invalid(format!(
            "the Guzzle option `{key}` has no meaning in this SDK: {instead}; nothing was sent"
        ));
    }
    let known = OPTION_NAMES.iter().chain(variables);
    let hint = match nearest(key, known) {
        Some(name) => format!("did you mean `{name}`? "),
        None => String::new(),
    };
    let variables = if variables.is_empty() {
        "this path has no variables".to_owned()
    } else {
        format!(
            "this path's variables are {}",
            variables
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Error::invalid(format!(
        "unknown option `{key}`: {hint}The options are {}, and {variables}; nothing was sent",
        OPTION_NAMES
            .iter()
            .map(|name| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// Adds to a missing-path-variable error the unknown keys that look like misspellings.
fn with_misspelling_hint(error: Error, unknown: &[&str], variables: &[&str]) -> Error {
    if error.kind() != ErrorKind::MissingPathVariable || unknown.is_empty() {
        return error;
    }
    let guesses: Vec<String> = error
        .variables()
        .iter()
        .filter_map(|missing| {
            let key = nearest(missing, unknown.iter())?;
            Some(format!("`{key}` for `{missing}`"))
        })
        .collect();
    let note = if guesses.is_empty() {
        format!(
            "; the options also hold {}, which is neither an option nor a variable of this \
             path ({})",
            unknown
                .iter()
                .map(|key| format!("`{key}`"))
                .collect::<Vec<_>>()
                .join(", "),
            variables.join(", ")
        )
    } else {
        format!("; misspelled? The options hold {}", guesses.join(", "))
    };
    error.with_note(note)
}

/// The candidate closest to `key`, if close enough to be a likely misspelling.
fn nearest<'c>(key: &str, candidates: impl Iterator<Item = &'c &'c str>) -> Option<&'c str> {
    let limit = (key.chars().count() / 3).max(1);
    candidates
        .map(|candidate| (strsim::damerau_levenshtein(key, candidate), *candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

pub(crate) mod plaintext;
#[cfg(test)]
mod tests;
