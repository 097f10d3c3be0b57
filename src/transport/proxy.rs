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
                let any = key[..8].iter().any(Option::is_some);
                Ok(Self {
                    matcher: any.then(|| Arc::new(Matcher::from_env())),
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

/// `uri` without its user information: `http://user:secret@proxy:3128` →
/// `http://***@proxy:3128`.
pub(crate) fn redact(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return match uri.rsplit_once('@') {
            Some((_, host)) => format!("***@{host}"),
            None => uri.to_owned(),
        };
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{}", &rest[authority_end..]),
        None => uri.to_owned(),
    }
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
            "http://proxy.example:3128/"
        );
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
