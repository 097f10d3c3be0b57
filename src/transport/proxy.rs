//! Which proxy a request goes through: the environment (`HTTPS_PROXY`, `HTTP_PROXY`,
//! `ALL_PROXY`, `NO_PROXY`, as curl and reqwest read them), one proxy for everything, or
//! none. The rules are hyper-util's [`Matcher`]; this module decides where it comes from and
//! how a proxy is shown without its credentials.

use std::fmt;
use std::sync::Arc;

use http::HeaderValue;
use hyper_util::client::proxy::matcher::{Intercept, Matcher};

use crate::error::{Error, Result};

/// The variables a proxy from the environment is read from, in curl's order (upper case
/// first), and `REQUEST_METHOD`, under which (a CGI script) they are ignored: a request's
/// `Proxy:` header would otherwise become `HTTP_PROXY` (httpoxy).
const VARIABLES: [&str; 9] = [
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUEST_METHOD",
];

/// Where a client's proxy comes from.
#[derive(Clone, PartialEq, Eq, Default)]
pub(crate) enum ProxySetting {
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`, read when the client is built.
    #[default]
    Environment,
    /// This proxy for every request, whatever the environment says.
    Uri(String),
    /// No proxy, whatever the environment says.
    None,
}

impl fmt::Debug for ProxySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxySetting::Environment => f.write_str("Environment"),
            ProxySetting::Uri(uri) => f.debug_tuple("Uri").field(&redact(uri)).finish(),
            ProxySetting::None => f.write_str("None"),
        }
    }
}

/// The proxy rules of a transport, resolved once.
#[derive(Clone)]
pub(crate) struct Proxies {
    matcher: Option<Arc<Matcher>>,
    /// What the rules were made from (credentials included): equal keys, equal rules. Never
    /// shown.
    key: Vec<Option<String>>,
}

impl Proxies {
    /// Resolves `setting`: reads the environment, or checks the proxy URI.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for a proxy URI that is not
    /// `http://[user:password@]host:port`.
    pub(crate) fn resolve(setting: &ProxySetting) -> Result<Self> {
        match setting {
            ProxySetting::None => Ok(Self {
                matcher: None,
                key: vec![Some("none".to_owned())],
            }),
            ProxySetting::Uri(uri) => {
                check_proxy_uri(uri)?;
                Ok(Self {
                    matcher: Some(Arc::new(Matcher::builder().all(uri.clone()).build())),
                    key: vec![Some("uri".to_owned()), Some(uri.clone())],
                })
            }
            ProxySetting::Environment => {
                let key: Vec<Option<String>> = VARIABLES
                    .iter()
                    .map(|name| std::env::var(name).ok())
                    .collect();
                Ok(Self {
                    matcher: from_environment(&key)?.map(Arc::new),
                    key,
                })
            }
        }
    }

    /// The key two transports compare to share a pool.
    pub(crate) fn key(&self) -> &[Option<String>] {
        &self.key
    }

    /// The proxy a request to `uri` goes through, if any.
    pub(crate) fn intercept(&self, uri: &http::Uri) -> Option<Intercept> {
        self.matcher.as_ref()?.intercept(uri)
    }

    /// The proxy for `uri` as `http://host:port`, never with credentials.
    pub(crate) fn shown_for(&self, uri: &http::Uri) -> Option<String> {
        self.intercept(uri).map(|intercept| shown(&intercept))
    }
}

impl fmt::Debug for Proxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // hyper-util's `Matcher` shows proxy URIs without their credentials.
        f.debug_struct("Proxies")
            .field("matcher", &self.matcher)
            .finish()
    }
}

/// A proxy as `scheme://host:port`: hyper-util keeps the credentials apart from the URI.
pub(crate) fn shown(intercept: &Intercept) -> String {
    let uri = intercept.uri();
    match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(authority)) => format!("{scheme}://{authority}"),
        _ => "(a proxy)".to_owned(),
    }
}

/// The `Proxy-Authorization` value for `intercept`, marked sensitive.
pub(crate) fn authorization(intercept: &Intercept) -> Option<HeaderValue> {
    intercept.basic_auth().map(|value| {
        let mut value = value.clone();
        value.set_sensitive(true);
        value
    })
}

/// `uri` as it may be shown: its scheme and `host:port`, with `***@` where it has user
/// information, and never its path or query. Everything before the last `@` is hidden,
/// however the rest would parse: `http://user:pa/ss@proxy:3128` →
/// `http://***@proxy:3128`.
pub(crate) fn redact(uri: &str) -> String {
    let (scheme, rest) = match uri.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, uri),
    };
    let (hidden, host) = match rest.rsplit_once('@') {
        Some((_, host)) => ("***@", host),
        None => ("", rest),
    };
    let host = &host[..host.find(['/', '?', '#']).unwrap_or(host.len())];
    match scheme {
        Some(scheme) => format!("{scheme}://{hidden}{host}"),
        None => format!("{hidden}{host}"),
    }
}

/// The proxy rules of the environment, read from the values of [`VARIABLES`] (in its order):
/// `None` when no proxy is set, under CGI (`REQUEST_METHOD`; httpoxy), or when `NO_PROXY`
/// holds `*` (every host, IP literals included, goes direct).
fn from_environment(values: &[Option<String>]) -> Result<Option<Matcher>> {
    let first = |at: usize| {
        values[at]
            .as_deref()
            .or(values[at + 1].as_deref())
            .filter(|value| !value.trim().is_empty())
    };
    let (all, https, http, no) = (first(0), first(2), first(4), first(6));
    if values[8].is_some() || (all, https, http) == (None, None, None) {
        return Ok(None);
    }
    for (name, value) in [
        ("ALL_PROXY", all),
        ("HTTPS_PROXY", https),
        ("HTTP_PROXY", http),
    ] {
        if let Some(value) = value {
            check_user_info(value).map_err(|why| {
                Error::config(format!(
                    "the proxy in {name} (or its lower-case form), `{}`: {why}",
                    redact(value)
                ))
            })?;
        }
    }
    let no = no.unwrap_or_default();
    if no.split(',').any(|entry| entry.trim() == "*") {
        return Ok(None);
    }
    let mut builder = Matcher::builder().no(no.to_owned());
    if let Some(all) = all {
        builder = builder.all(all.to_owned());
    }
    if let Some(https) = https {
        builder = builder.https(https.to_owned());
    }
    if let Some(http) = http {
        builder = builder.http(http.to_owned());
    }
    Ok(Some(builder.build()))
}

/// The user information of a proxy URI (before its last `@`, after `scheme://`) may hold
/// only what RFC 3986 allows there: letters, digits, `-._~`, `!$&'()*+,;=`, `:` and `%XX`.
/// Anything else (an unencoded `/`, `?`, `#`, `@`, …) would end the authority early, so that
/// the start of the password became the host (looked up in DNS, shown in errors): refused,
/// saying how to encode it.
fn check_user_info(uri: &str) -> std::result::Result<(), String> {
    let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let Some((user_info, _)) = rest.rsplit_once('@') else {
        return Ok(());
    };
    let bytes = user_info.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        if byte == b'%' {
            let escaped = bytes.get(at + 1..at + 3);
            if escaped.is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) {
                at += 3;
                continue;
            }
            return Err(
                "its user information holds a `%` that does not start a `%XX` escape; \
                        write a literal `%` as `%25`"
                    .to_owned(),
            );
        }
        let allowed = byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:".contains(&byte);
        if !allowed {
            let shown = match byte {
                b' '..=b'~' => format!("`{}`", byte as char),
                _ => "a control or non-ASCII character".to_owned(),
            };
            return Err(format!(
                "its user information (user name or password) holds {shown} unencoded, which \
                 would end the host part early (and show or look up part of the password); \
                 percent-encode it (`/` is `%2F`, `?` `%3F`, `#` `%23`, `@` `%40`, a space \
                 `%20`; any byte as `%XX`)"
            ));
        }
        at += 1;
    }
    Ok(())
}

/// A proxy given to the builder must be `http://[user:password@]host[:port]`: the client
/// speaks plain HTTP to the proxy (and TLS to WeChat Pay through its tunnel).
fn check_proxy_uri(uri: &str) -> Result<()> {
    let bad = |why: &str| {
        Error::config(format!(
            "proxy `{}`: {why}; write it as `http://host:port`, with `user:password@` before \
             the host when the proxy asks for basic authentication",
            redact(uri)
        ))
    };
    check_user_info(uri).map_err(|why| bad(&why))?;
    let parsed: http::Uri = uri.parse().map_err(|_| bad("not a URI"))?;
    match parsed.scheme_str() {
        Some(scheme) if scheme.eq_ignore_ascii_case("http") => {}
        Some(other) => {
            return Err(bad(&format!(
                "the `{other}` scheme is not supported (only plain-HTTP proxies, which tunnel \
                 https with CONNECT)"
            )));
        }
        None => return Err(bad("no scheme")),
    }
    if parsed.host().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    Ok(())
}

/// The error for a proxy that cannot be used for a request, sending nothing.
pub(crate) fn unsupported(intercept: &Intercept) -> Error {
    Error::config(format!(
        "the proxy `{}` (from HTTPS_PROXY, HTTP_PROXY or ALL_PROXY) is not a plain-HTTP proxy; \
         this client speaks HTTP to its proxy and tunnels https through it with CONNECT: set \
         an `http://host:port` proxy, or ClientBuilder::no_proxy",
        shown(intercept)
    ))
    .nothing_sent()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_never_shown() {
        assert_eq!(
            redact("http://user:secret@proxy.example:3128"),
            "http://***@proxy.example:3128"
        );
        assert_eq!(
            redact("http://proxy.example:3128/"),
            "http://proxy.example:3128"
        );
        // However the rest parses, nothing before the last `@` shows.
        for fooling in [
            "http://user:pa/ss@proxy:3128",
            "http://user:pa?ss@proxy:3128",
            "http://user:pa#ss@proxy:3128",
            "http://user:p@ss@proxy:3128/path?q=secret",
            "http://user:pass@word/more@proxy:3128",
        ] {
            let shown = redact(fooling);
            assert_eq!(shown, "http://***@proxy:3128", "{fooling}");
        }
        assert_eq!(redact("user:secret@proxy:1"), "***@proxy:1");
        let setting = ProxySetting::Uri("http://user:secret@proxy.example:3128".into());
        assert!(!format!("{setting:?}").contains("secret"));
        let proxies = Proxies::resolve(&setting).unwrap();
        let uri: http::Uri = "https://api.mch.weixin.qq.com/v3/x".parse().unwrap();
        let intercept = proxies.intercept(&uri).unwrap();
        assert_eq!(shown(&intercept), "http://proxy.example:3128");
        assert!(!format!("{proxies:?}").contains("secret"));
        assert!(authorization(&intercept).unwrap().is_sensitive());
    }

    #[test]
    fn user_information_must_be_encoded() {
        for good in [
            "http://proxy:3128",
            "http://user@proxy:3128",
            "http://user:p%2Fss%40x:y@proxy:3128",
            "proxy:3128",
            "http://u-._~!$&'()*+,;=:@proxy:1",
        ] {
            assert_eq!(check_user_info(good), Ok(()), "{good}");
        }
        for bad in [
            "http://user:pa/ss@proxy:3128",
            "http://user:pa?ss@proxy:3128",
            "http://user:pa#ss@proxy:3128",
            "http://user:p@ss@proxy:3128",
            "http://user:p%zzss@proxy:3128",
            "http://us\u{e9}r:x@proxy:3128",
        ] {
            assert!(check_user_info(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_environment_follows_the_same_rules() {
        let values = |pairs: &[(usize, &str)]| {
            let mut values = vec![None; VARIABLES.len()];
            for (at, value) in pairs {
                values[*at] = Some((*value).to_owned());
            }
            values
        };
        let uri: http::Uri = "http://127.0.0.1:8080/v3/x".parse().unwrap();
        let matcher = from_environment(&values(&[(4, "http://proxy:3128")])).unwrap();
        assert!(matcher.unwrap().intercept(&uri).is_some());
        // NO_PROXY=* covers IP literals too.
        for star in ["*", " * ", "a.example,*"] {
            let set = values(&[(4, "http://proxy:3128"), (6, star)]);
            assert!(from_environment(&set).unwrap().is_none(), "{star}");
        }
        // The upper-case name wins over the lower-case one; a bad password is refused.
        let set = values(&[(4, "http://proxy:3128"), (5, "http://u:p/w@other:1")]);
        assert!(from_environment(&set).is_ok());
        let error = from_environment(&values(&[(5, "http://u:8080/s3cret@p:1")])).unwrap_err();
        assert!(!error.to_string().contains("s3cret"), "{error}");
        assert!(error.to_string().contains("HTTP_PROXY"), "{error}");
        // Under CGI, or with nothing set, no proxy.
        let cgi = values(&[(4, "http://proxy:3128"), (8, "GET")]);
        assert!(from_environment(&cgi).unwrap().is_none());
        assert!(from_environment(&values(&[])).unwrap().is_none());
    }

    #[test]
    fn only_plain_http_proxies_are_accepted() {
        for bad in [
            "socks5://proxy:1080",
            "https://proxy:3128",
            "proxy:3128",
            "http://",
        ] {
            let error = Proxies::resolve(&ProxySetting::Uri(bad.into())).unwrap_err();
            assert!(error.to_string().contains("http://host:port"), "{error}");
        }
        assert!(Proxies::resolve(&ProxySetting::Uri("http://proxy:3128".into())).is_ok());
        let none = Proxies::resolve(&ProxySetting::None).unwrap();
        assert!(
            none.intercept(&"https://api.mch.weixin.qq.com/".parse().unwrap())
                .is_none()
        );
    }
}
