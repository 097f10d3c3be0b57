//! `wechatpay doctor`: checks the setup one step at a time and explains each failure with its
//! fix: the private key (and that it belongs to the merchant certificate), the platform keys,
//! DNS/TCP/TLS to the main and backup domains (through the proxy in use), the clock against
//! WeChat Pay's, a signed request (mchid + serial + key), the APIv3 key, the certificates that
//! expire within 30 days, and which platform key verified the answers.

use std::time::{SystemTime, UNIX_EPOCH};

use wechatpay::{Certificate, Client, ErrorKind, PrivateKey, Verification, toolkit};

use crate::settings::{Args as SettingsArgs, Settings};
use crate::{Failure, Outcome, output};

/// The arguments of `doctor`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// How far the clock may be from WeChat Pay's before the doctor warns.
const CLOCK_WARNING: u64 = 60;
/// How far it may be before WeChat Pay refuses every request.
const CLOCK_LIMIT: u64 = 300;

/// The checks, counting failures.
#[derive(Default)]
struct Doctor {
    failures: usize,
}

impl Doctor {
    fn pass(&mut self, text: impl std::fmt::Display) {
        output::pass(text);
    }

    fn fail(&mut self, text: impl std::fmt::Display, fix: impl std::fmt::Display) {
        self.failures += 1;
        output::fail(text);
        output::note(format!("  fix: {fix}"));
    }
}

pub fn run(settings: &SettingsArgs, _args: Args) -> Outcome {
    let settings = settings.resolve()?;
    let mut doctor = Doctor::default();
    let key = private_key(&mut doctor, &settings);
    if let Some(key) = &key {
        merchant_certificate(&mut doctor, &settings, key);
    }
    platform_keys(&mut doctor, &settings);
    let client = match settings.client_for_certificates() {
        Ok(client) => Some(client),
        Err(error) => {
            doctor.fail(
                format!("configuration: {}", error.0),
                "complete the settings (wechatpay --help lists them)",
            );
            None
        }
    };
    if let Some(client) = client {
        reach(&mut doctor, &client);
        clock_and_signature(&mut doctor, &client);
        apiv3_key(&mut doctor, &settings, &client);
        expiry(&mut doctor, &client);
        for usage in client.key_usage() {
            output::note(format!(
                "platform key {} verified {} answer(s) and {} notification(s)",
                usage.id, usage.responses, usage.notifications
            ));
        }
    }
    match doctor.failures {
        0 => Ok(()),
        1 => Err(Failure("1 check failed".into())),
        n => Err(Failure(format!("{n} checks failed"))),
    }
}

fn private_key(doctor: &mut Doctor, settings: &Settings) -> Option<PrivateKey> {
    let Some(path) = &settings.private_key else {
        doctor.fail(
            "private key: not given",
            "pass --private-key apiclient_key.pem (or WECHATPAY_PRIVATE_KEY)",
        );
        return None;
    };
    match PrivateKey::from_pem_file(path) {
        Ok(key) => {
            doctor.pass(format!(
                "private key {} parses ({:?})",
                path.display(),
                key.backend()
            ));
            Some(key)
        }
        Err(error) => {
            doctor.fail(
                format!("private key {}: {error}", path.display()),
                "use apiclient_key.pem from the merchant certificate download",
            );
            None
        }
    }
}

/// When the merchant certificate is given: its serial is the configured one, and it is the
/// certificate of the private key.
fn merchant_certificate(doctor: &mut Doctor, settings: &Settings, key: &PrivateKey) {
    let Some(path) = &settings.merchant_cert else {
        return;
    };
    let certificate = match Certificate::from_pem_file(path) {
        Ok(certificate) => certificate,
        Err(error) => {
            doctor.fail(
                format!("merchant certificate {}: {error}", path.display()),
                "use apiclient_cert.pem from the merchant certificate download",
            );
            return;
        }
    };
    let message = b"wechatpay doctor";
    let belongs = key
        .sign(message)
        .and_then(|signature| certificate.public_key().verify(message, &signature))
        .is_ok();
    if !belongs {
        doctor.fail(
            format!(
                "merchant certificate {} (serial {}) is not the certificate of the private key",
                path.display(),
                certificate.serial()
            ),
            "give the apiclient_key.pem and apiclient_cert.pem downloaded together",
        );
        return;
    }
    match settings.serial.as_deref() {
        Some(serial) if serial.eq_ignore_ascii_case(certificate.serial()) => doctor.pass(format!(
            "merchant certificate serial {serial} is the certificate of the private key"
        )),
        Some(serial) => doctor.fail(
            format!(
                "--serial is {serial}, but the merchant certificate's serial is {}",
                certificate.serial()
            ),
            format!("set the serial to {}", certificate.serial()),
        ),
        None => doctor.fail(
            "no merchant serial given",
            format!("set --serial {}", certificate.serial()),
        ),
    }
}

fn platform_keys(doctor: &mut Doctor, settings: &Settings) {
    match settings.platform_keys() {
        Ok(keys) if keys.is_empty() => {
            if settings.apiv3_key().ok().flatten().is_some() {
                output::note(
                    "no platform key given: the platform certificates will be downloaded \
                     (automatic mode)",
                );
            } else {
                doctor.fail(
                    "no platform key given",
                    "pass --platform-key-id PUB_KEY_ID_… --platform-key pub_key.pem (public-key \
                     mode), or the APIv3 key to download the platform certificates",
                );
            }
        }
        Ok(keys) => {
            let ids: Vec<&str> = keys.ids().collect();
            doctor.pass(format!("platform keys load: {}", ids.join(", ")));
        }
        Err(error) => doctor.fail(
            format!("platform keys: {}", error.0),
            "give WeChat Pay's pub_key.pem with its PUB_KEY_ID_…, or a platform certificate",
        ),
    }
}

/// DNS, TCP and TLS to the main domain and the backup, through the proxy in use.
fn reach(doctor: &mut Doctor, client: &Client) {
    let network = client.network();
    let via = match &network.proxy {
        Some(proxy) => format!(" through the proxy {proxy}"),
        None => " (no proxy)".to_owned(),
    };
    let domains = std::iter::once(("main", network.base_uri.as_str())).chain(
        network
            .backup_base_uri
            .as_deref()
            .map(|backup| ("backup", backup)),
    );
    for (which, uri) in domains {
        match client.probe(uri) {
            Ok(()) => doctor.pass(format!(
                "{which} domain {uri} reachable (DNS, TCP, TLS){via}"
            )),
            Err(error) => doctor.fail(
                format!("{which} domain {uri} unreachable{via}: {error}"),
                "check DNS, the firewall and the proxy (HTTPS_PROXY, NO_PROXY); WeChat Pay \
                 needs outbound HTTPS to api.mch.weixin.qq.com and api2.mch.weixin.qq.com",
            ),
        }
    }
    if network.on_backup {
        output::note("requests go to the backup domain now; the main one is probed meanwhile");
    }
}

/// One signed request (`GET v3/certificates`): its `Date` header against the local clock, and
/// whether WeChat Pay accepted the signature.
fn clock_and_signature(doctor: &mut Doctor, client: &Client) {
    let sent = SystemTime::now();
    let answer = client["v3/certificates"].get(());
    let exchange = (sent, SystemTime::now());
    let headers = match &answer {
        Ok(response) => Some(response.headers()),
        Err(error) => error.response().map(|response| response.headers()),
    };
    let date = headers
        .and_then(|headers| headers.get("date"))
        .and_then(|value| value.to_str().ok())
        .and_then(|text| httpdate::parse_http_date(text).ok());
    if let Some(date) = date {
        clock(doctor, date, exchange);
    }
    match &answer {
        Ok(response) => doctor.pass(format!(
            "signed request accepted (mchid, serial and private key match); answer verified by {}",
            response.verified_by()
        )),
        Err(error) if error.code() == Some("RESOURCE_NOT_EXISTS") => {
            doctor.pass("signed request accepted (mchid, serial and private key match)");
            output::note(
                "public-key mode: this merchant has no platform certificates; use its \
                 PUB_KEY_ID_… and pub_key.pem (商户平台 → API安全 → 微信支付公钥)",
            );
        }
        Err(error) if error.status().map(|status| status.as_u16()) == Some(401) => doctor.fail(
            format!("WeChat Pay refused the request signature: {error}"),
            "check that --serial is the serial of the certificate of --private-key \
             (openssl x509 -in apiclient_cert.pem -noout -serial), that --mchid is its \
             merchant, and the clock",
        ),
        Err(error) if error.kind() == ErrorKind::Verification(Verification::Timestamp) => {
            doctor.pass("signed request accepted (mchid, serial and private key match)");
        }
        Err(error) if error.kind() == ErrorKind::Crypto => {
            doctor.pass("signed request accepted (mchid, serial and private key match)");
        }
        Err(error) if error.is_connect() => doctor.fail(
            format!("cannot reach WeChat Pay: {error}"),
            "check the network, the proxy and the base URI",
        ),
        Err(error) => doctor.fail(
            format!("the signed request failed: {error}"),
            "see the error",
        ),
    }
}

/// Compares WeChat Pay's `Date` (`theirs`) with this machine's clock during the exchange
/// (`sent`, `received`).
fn clock(doctor: &mut Doctor, theirs: SystemTime, (sent, received): (SystemTime, SystemTime)) {
    let unix = |time: SystemTime| {
        time.duration_since(UNIX_EPOCH)
            .map_or(0.0, |since| since.as_secs_f64())
    };
    // An HTTP date is the whole second WeChat Pay stamped, somewhere between `sent` and
    // `received`: its middle (`+ 0.5`) against the middle of the exchange (as NTP does). A
    // clock exactly 600 s off reads 600 unless a second of this machine's clock ends during the
    // exchange; then it may read one second more or less (the date says no more).
    let offset = unix(theirs) + 0.5 - (unix(sent) + unix(received)) / 2.0;
    let direction = if offset >= 0.0 { "ahead of" } else { "behind" };
    // Whole seconds, far below u64::MAX: the cast cannot truncate.
    let seconds = offset.abs().round() as u64;
    if seconds <= CLOCK_WARNING {
        doctor.pass(format!("clock within {} s of WeChat Pay's", seconds.max(1)));
    } else if seconds <= CLOCK_LIMIT {
        output::note(format!(
            "clock: WeChat Pay's is {seconds} s {direction} this machine's; over {CLOCK_LIMIT} s \
             every request fails: set the clock with NTP"
        ));
    } else {
        doctor.fail(
            format!("clock: WeChat Pay's is {seconds} s {direction} this machine's (limit {CLOCK_LIMIT} s)"),
            "set the clock with NTP (timedatectl set-ntp true); WeChat Pay refuses requests and \
             the client refuses answers signed more than 5 minutes apart",
        );
    }
}

/// The merchant certificate (when given) and the newest platform certificate: a line for each
/// that expires within 30 days (a warning, not a failure, until it has expired).
fn expiry(doctor: &mut Doctor, client: &Client) {
    let expiring = client.expiring();
    if expiring.is_empty() {
        doctor.pass(format!(
            "no certificate expires within {} days",
            wechatpay::crypto::DEFAULT_EXPIRY_WARNING_DAYS
        ));
    }
    for certificate in expiring {
        if certificate.days_left < 0 {
            doctor.fail(
                format!("expired: {certificate}"),
                "replace the certificate (see above)",
            );
        } else {
            output::note(format!("! expiry: {certificate}"));
        }
    }
}

/// The APIv3 key opens the platform certificates (certificate mode).
fn apiv3_key(doctor: &mut Doctor, settings: &Settings, client: &Client) {
    match settings.apiv3_key() {
        Ok(Some(_)) => {}
        Ok(None) => {
            output::note("no APIv3 key given: callbacks cannot be decrypted (--apiv3-key-file)");
            return;
        }
        Err(error) => {
            doctor.fail(
                error.0,
                "copy it again from 账户中心 → API安全 → APIv3密钥 (32 characters)",
            );
            return;
        }
    }
    match client.download_certificates() {
        Ok(certificates) => doctor.pass(format!(
            "APIv3 key decrypts the platform certificates ({}, valid until {})",
            certificates
                .iter()
                .map(|certificate| certificate.serial())
                .collect::<Vec<_>>()
                .join(", "),
            certificates
                .iter()
                .map(|certificate| certificate.validity().not_after)
                .max()
                .map(|until| toolkit::format_rfc3339(until, 8))
                .unwrap_or_default()
        )),
        Err(error) if error.code() == Some("RESOURCE_NOT_EXISTS") => output::note(
            "the APIv3 key cannot be checked here (public-key mode has no certificates to \
             decrypt); a callback will check it",
        ),
        Err(error) if error.kind() == ErrorKind::Crypto => doctor.fail(
            format!("the APIv3 key does not decrypt the platform certificates: {error}"),
            "copy the APIv3 key again from 账户中心 → API安全 → APIv3密钥 (it is not the APIv2 key)",
        ),
        Err(error) => doctor.fail(
            format!("the platform certificates could not be downloaded: {error}"),
            "see the error",
        ),
    }
}
