//! Where the credentials come from: flags, then `WECHATPAY_*` environment variables, then a
//! profile of the config file. Secrets are read from files or the environment, never from a
//! flag's value, and never printed.
//!
//! ```toml
//! # ~/.config/wechatpay/config.toml
//! [profile.default]
//! mchid = "1900000109"
//! serial = "3775B6A45ACD588826D15E583A95F5DD00000000"
//! private_key = "apiclient_key.pem"            # paths are relative to this file
//! platform_key_id = "PUB_KEY_ID_0114232134912410000000000000"
//! platform_key = "pub_key.pem"
//! apiv3_key_file = "apiv3.key"                 # or apiv3_key_env = "SHOP_APIV3_KEY"
//!
//! [profile.shop-b]
//! mchid = "1900000110"
//! # …
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use wechatpay::crypto::PlatformKeys;
use wechatpay::{Certificate, Client, ClientBuilder, PrivateKey, PublicKey};

use crate::Failure;

/// Credentials and connection flags, accepted before or after the subcommand.
#[derive(Debug, Default, clap::Args)]
#[command(next_help_heading = "Credentials and connection (global: before or after the command)")]
pub struct Args {
    /// The config file [env: WECHATPAY_CONFIG] [default: ~/.config/wechatpay/config.toml].
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The profile of the config file [env: WECHATPAY_PROFILE] [default: default].
    #[arg(long, global = true, value_name = "NAME")]
    profile: Option<String>,
    /// Merchant id, 商户号 [env: WECHATPAY_MCHID].
    #[arg(long, global = true)]
    mchid: Option<String>,
    /// Merchant API certificate serial, 商户API证书序列号 [env: WECHATPAY_SERIAL].
    #[arg(long, global = true)]
    serial: Option<String>,
    /// Path of apiclient_key.pem [env: WECHATPAY_PRIVATE_KEY].
    #[arg(long, global = true, value_name = "FILE")]
    private_key: Option<PathBuf>,
    /// WeChat Pay public key id, PUB_KEY_ID_… [env: WECHATPAY_PLATFORM_KEY_ID].
    #[arg(long, global = true, value_name = "ID")]
    platform_key_id: Option<String>,
    /// Path of pub_key.pem, or of a platform certificate [env: WECHATPAY_PLATFORM_KEY].
    #[arg(long, global = true, value_name = "FILE")]
    platform_key: Option<PathBuf>,
    /// Path of a platform certificate (wechatpay_SERIAL.pem); repeatable.
    #[arg(long, global = true, value_name = "FILE")]
    platform_certificate: Vec<PathBuf>,
    /// Path of a file holding the APIv3 key [env: WECHATPAY_APIV3_KEY holds the key itself].
    #[arg(long, global = true, value_name = "FILE")]
    apiv3_key_file: Option<PathBuf>,
    /// Path of a file holding the APIv2 key [env: WECHATPAY_SECRET holds the key itself].
    #[arg(long, global = true, value_name = "FILE")]
    secret_file: Option<PathBuf>,
    /// Path of apiclient_cert.pem, for APIv2 `security: true` [env: WECHATPAY_MERCHANT_CERT].
    #[arg(long, global = true, value_name = "FILE")]
    merchant_cert: Option<PathBuf>,
    /// Base URI, e.g. https://api2.mch.weixin.qq.com/ [env: WECHATPAY_BASE_URI].
    #[arg(long, global = true, value_name = "URI")]
    base_uri: Option<String>,
    /// An extra trusted TLS root (a test server's CA) [env: WECHATPAY_TLS_ROOT].
    #[arg(long, global = true, value_name = "FILE")]
    tls_root: Option<PathBuf>,
}

/// One profile of the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    mchid: Option<String>,
    serial: Option<String>,
    private_key: Option<PathBuf>,
    platform_key_id: Option<String>,
    platform_key: Option<PathBuf>,
    #[serde(default)]
    platform_certificates: Vec<PathBuf>,
    apiv3_key_file: Option<PathBuf>,
    apiv3_key_env: Option<String>,
    secret_file: Option<PathBuf>,
    secret_env: Option<String>,
    merchant_cert: Option<PathBuf>,
    base_uri: Option<String>,
    tls_root: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    profile: BTreeMap<String, Profile>,
}

/// The resolved settings.
#[derive(Debug, Default)]
pub struct Settings {
    pub mchid: Option<String>,
    pub serial: Option<String>,
    pub private_key: Option<PathBuf>,
    pub platform_key_id: Option<String>,
    pub platform_key: Option<PathBuf>,
    pub platform_certificates: Vec<PathBuf>,
    apiv3_key: Option<Secret>,
    secret: Option<Secret>,
    pub merchant_cert: Option<PathBuf>,
    pub base_uri: Option<String>,
    pub tls_root: Option<PathBuf>,
}

/// A secret and where it came from (for messages, which never show the value).
struct Secret {
    value: String,
    from: String,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<secret from {}>", self.from)
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

fn env_path(name: &str) -> Option<PathBuf> {
    env(name).map(PathBuf::from)
}

impl Args {
    /// The credential flags given.
    pub fn given(&self) -> Vec<&'static str> {
        let flags = [
            ("config", self.config.is_some()),
            ("profile", self.profile.is_some()),
            ("mchid", self.mchid.is_some()),
            ("serial", self.serial.is_some()),
            ("private-key", self.private_key.is_some()),
            ("platform-key-id", self.platform_key_id.is_some()),
            ("platform-key", self.platform_key.is_some()),
            (
                "platform-certificate",
                !self.platform_certificate.is_empty(),
            ),
            ("apiv3-key-file", self.apiv3_key_file.is_some()),
            ("secret-file", self.secret_file.is_some()),
            ("merchant-cert", self.merchant_cert.is_some()),
            ("base-uri", self.base_uri.is_some()),
            ("tls-root", self.tls_root.is_some()),
        ];
        flags
            .into_iter()
            .filter_map(|(flag, given)| given.then_some(flag))
            .collect()
    }

    /// Flags, then the environment, then the profile.
    pub fn resolve(&self) -> Result<Settings, Failure> {
        let profile = self.profile()?;
        let (profile, dir) = match profile {
            Some((profile, dir)) => (profile, dir),
            None => (Profile::default(), PathBuf::new()),
        };
        let relative = |path: Option<PathBuf>| path.map(|path| dir.join(path));
        Ok(Settings {
            mchid: self
                .mchid
                .clone()
                .or_else(|| env("WECHATPAY_MCHID"))
                .or(profile.mchid),
            serial: self
                .serial
                .clone()
                .or_else(|| env("WECHATPAY_SERIAL"))
                .or(profile.serial),
            private_key: self
                .private_key
                .clone()
                .or_else(|| env_path("WECHATPAY_PRIVATE_KEY"))
                .or_else(|| relative(profile.private_key)),
            platform_key_id: self
                .platform_key_id
                .clone()
                .or_else(|| env("WECHATPAY_PLATFORM_KEY_ID"))
                .or(profile.platform_key_id),
            platform_key: self
                .platform_key
                .clone()
                .or_else(|| env_path("WECHATPAY_PLATFORM_KEY"))
                .or_else(|| relative(profile.platform_key)),
            platform_certificates: if self.platform_certificate.is_empty() {
                profile
                    .platform_certificates
                    .into_iter()
                    .map(|path| dir.join(path))
                    .collect()
            } else {
                self.platform_certificate.clone()
            },
            apiv3_key: secret(
                self.apiv3_key_file.as_deref(),
                "WECHATPAY_APIV3_KEY",
                relative(profile.apiv3_key_file).as_deref(),
                profile.apiv3_key_env.as_deref(),
            )?,
            secret: secret(
                self.secret_file.as_deref(),
                "WECHATPAY_SECRET",
                relative(profile.secret_file).as_deref(),
                profile.secret_env.as_deref(),
            )?,
            merchant_cert: self
                .merchant_cert
                .clone()
                .or_else(|| env_path("WECHATPAY_MERCHANT_CERT"))
                .or_else(|| relative(profile.merchant_cert)),
            base_uri: self
                .base_uri
                .clone()
                .or_else(|| env("WECHATPAY_BASE_URI"))
                .or(profile.base_uri),
            tls_root: self
                .tls_root
                .clone()
                .or_else(|| env_path("WECHATPAY_TLS_ROOT"))
                .or_else(|| relative(profile.tls_root)),
        })
    }

    /// The chosen profile and its file's directory; `None` when there is no config file and
    /// no profile was asked for.
    fn profile(&self) -> Result<Option<(Profile, PathBuf)>, Failure> {
        let explicit_file = self.config.clone().or_else(|| env_path("WECHATPAY_CONFIG"));
        let asked = self.profile.clone().or_else(|| env("WECHATPAY_PROFILE"));
        let file = match &explicit_file {
            Some(file) => file.clone(),
            None => match default_config_file() {
                Some(file) if file.exists() => file,
                _ if asked.is_some() => {
                    return Err(Failure(
                        "a profile was asked for but there is no config file: pass --config \
                         FILE or set WECHATPAY_CONFIG"
                            .into(),
                    ));
                }
                _ => return Ok(None),
            },
        };
        let text = std::fs::read_to_string(&file).map_err(|e| {
            Failure(format!(
                "cannot read the config file {}: {e}",
                file.display()
            ))
        })?;
        let mut config: ConfigFile = toml::from_str(&text).map_err(|e| {
            Failure(format!(
                "the config file {} is not valid: {e}",
                file.display()
            ))
        })?;
        let name = asked.unwrap_or_else(|| "default".to_owned());
        let profile = config.profile.remove(&name).ok_or_else(|| {
            let known: Vec<&String> = config.profile.keys().collect();
            Failure(format!(
                "the config file {} has no [profile.{name}] (it has: {known:?})",
                file.display()
            ))
        })?;
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(Some((profile, dir)))
    }
}

fn default_config_file() -> Option<PathBuf> {
    let base = env_path("XDG_CONFIG_HOME")
        .or_else(|| env_path("HOME").map(|home| home.join(".config")))?;
    Some(base.join("wechatpay").join("config.toml"))
}

/// A secret from a file (flag or profile) or an environment variable.
fn secret(
    flag_file: Option<&Path>,
    env_name: &str,
    profile_file: Option<&Path>,
    profile_env: Option<&str>,
) -> Result<Option<Secret>, Failure> {
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map(|text| Secret {
                value: text.trim_end_matches(['\r', '\n']).to_owned(),
                from: path.display().to_string(),
            })
            .map_err(|e| Failure(format!("cannot read the key file {}: {e}", path.display())))
    };
    if let Some(path) = flag_file {
        return read(path).map(Some);
    }
    if let Some(value) = env(env_name) {
        return Ok(Some(Secret {
            value,
            from: format!("${env_name}"),
        }));
    }
    if let Some(path) = profile_file {
        return read(path).map(Some);
    }
    if let Some(name) = profile_env {
        return match env(name) {
            Some(value) => Ok(Some(Secret {
                value,
                from: format!("${name}"),
            })),
            None => Err(Failure(format!(
                "the profile reads a key from ${name}, which is not set"
            ))),
        };
    }
    Ok(None)
}

fn missing(what: &str, flag: &str, env: &str) -> Failure {
    Failure(format!(
        "{what} is missing: pass --{flag}, set {env}, or add it to the profile"
    ))
}

impl Settings {
    /// The platform keys given (public key and certificates).
    pub fn platform_keys(&self) -> Result<PlatformKeys, Failure> {
        let mut keys = PlatformKeys::new();
        if let Some(path) = &self.platform_key {
            match &self.platform_key_id {
                Some(id) => keys.insert(id.clone(), PublicKey::from_pem_file(path)?),
                None => {
                    let certificate = Certificate::from_pem_file(path).map_err(|e| {
                        Failure(format!(
                            "{} is not a certificate ({e}); a public key needs its id: pass \
                             --platform-key-id PUB_KEY_ID_…",
                            path.display()
                        ))
                    })?;
                    keys.insert(certificate.serial(), certificate.public_key().clone());
                }
            }
        }
        for path in &self.platform_certificates {
            let certificate = Certificate::from_pem_file(path)?;
            keys.insert(certificate.serial(), certificate.public_key().clone());
        }
        Ok(keys)
    }

    /// The APIv3 key, if given.
    pub fn apiv3_key(&self) -> Result<Option<wechatpay::config::ApiV3Key>, Failure> {
        self.apiv3_key
            .as_ref()
            .map(|secret| {
                wechatpay::config::ApiV3Key::new(&secret.value)
                    .map_err(|e| Failure(format!("the APIv3 key from {}: {e}", secret.from)))
            })
            .transpose()
    }

    /// A client builder with everything given but the merchant TLS identity, which only
    /// APIv2 `security: true` calls need ([`Settings::with_identity`]).
    pub fn builder(&self) -> Result<ClientBuilder, Failure> {
        let mchid = self
            .mchid
            .as_deref()
            .ok_or_else(|| missing("the merchant id", "mchid", "WECHATPAY_MCHID"))?;
        let serial = self
            .serial
            .as_deref()
            .ok_or_else(|| missing("the merchant serial", "serial", "WECHATPAY_SERIAL"))?;
        let key_path = self.private_key.as_deref().ok_or_else(|| {
            missing(
                "the merchant private key",
                "private-key",
                "WECHATPAY_PRIVATE_KEY",
            )
        })?;
        let mut builder = Client::builder()
            .mchid(mchid)
            .serial(serial)
            .private_key(PrivateKey::from_pem_file(key_path)?);
        if let Some(path) = &self.platform_key {
            builder = match &self.platform_key_id {
                Some(id) => builder.platform_key(id, PublicKey::from_pem_file(path)?),
                None => builder.platform_certificate(Certificate::from_pem_file(path)?),
            };
        }
        for path in &self.platform_certificates {
            builder = builder.platform_certificate(Certificate::from_pem_file(path)?);
        }
        if let Some(secret) = &self.apiv3_key {
            builder = builder.apiv3_key(&secret.value);
        }
        // Its expiry is watched (`doctor` reports a file that does not parse).
        let merchant = self
            .merchant_cert
            .as_deref()
            .map(Certificate::from_pem_file);
        if let Some(Ok(certificate)) = merchant {
            builder = builder.merchant_certificate(&certificate);
        }
        if let Some(secret) = &self.secret {
            builder = builder.apiv2_key(&secret.value);
        }
        if let Some(uri) = &self.base_uri {
            builder = builder.base_uri(uri);
        }
        if let Some(path) = &self.tls_root {
            let pem = std::fs::read_to_string(path)
                .map_err(|e| Failure(format!("cannot read {}: {e}", path.display())))?;
            builder = builder.tls_root_certificate(&pem);
        }
        Ok(builder)
    }

    /// `builder` with the merchant TLS identity (apiclient_cert.pem and the private key), for
    /// APIv2 `security: true` calls. Loaded only then: checking the pair costs a few tenths of a
    /// millisecond that every other command would pay for nothing.
    pub fn with_identity(&self, builder: ClientBuilder) -> Result<ClientBuilder, Failure> {
        let cert = self.merchant_cert.as_deref().ok_or_else(|| {
            missing(
                "the merchant certificate (for `security: true`)",
                "merchant-cert",
                "WECHATPAY_MERCHANT_CERT",
            )
        })?;
        let key = self.private_key.as_deref().ok_or_else(|| {
            missing(
                "the merchant private key",
                "private-key",
                "WECHATPAY_PRIVATE_KEY",
            )
        })?;
        Ok(builder.merchant_identity_files(cert, key))
    }

    /// A client that may have no platform key yet: in automatic mode (downloading the
    /// platform certificates) when none is given and the APIv3 key is.
    pub fn client_for_certificates(&self) -> Result<Client, Failure> {
        Ok(self.verifying_builder()?.build()?)
    }

    /// [`Settings::builder`] with a way to verify WeChat Pay's answers: the platform keys
    /// given, else automatic mode when the APIv3 key is given, else an error naming the flags.
    pub fn verifying_builder(&self) -> Result<ClientBuilder, Failure> {
        let builder = self.builder()?;
        if self.platform_key.is_some() || !self.platform_certificates.is_empty() {
            return Ok(builder);
        }
        if self.apiv3_key.is_some() {
            return Ok(builder.auto_certificates());
        }
        Err(Failure(
            "no key to verify WeChat Pay's answers with: pass --platform-key-id PUB_KEY_ID_… \
             --platform-key pub_key.pem (or set WECHATPAY_PLATFORM_KEY_ID and \
             WECHATPAY_PLATFORM_KEY), or --platform-certificate FILE, or the APIv3 key \
             (--apiv3-key-file FILE or WECHATPAY_APIV3_KEY) to download the platform certificates"
                .to_owned(),
        ))
    }

    /// Fails, naming the flag and the variable, when the APIv2 key is missing.
    pub fn require_apiv2_key(&self) -> Result<(), Failure> {
        match self.secret {
            Some(_) => Ok(()),
            None => Err(Failure(
                "APIv2 calls are signed with the APIv2 key (API密钥): pass --secret-file FILE, \
                 set WECHATPAY_SECRET, or add secret_file to the profile"
                    .to_owned(),
            )),
        }
    }
}
