//! Firing a notification at a merchant's `notify_url` without a sandbox running
//! (`wechatpay notify send`): any documented event with a sample resource (or yours), genuine
//! or broken on purpose, signed with the mock's test keys.

use bytes::Bytes;
use http::HeaderMap;
use serde_json::{Map, Value};

use super::deliver::{Delivered, deliver};
use super::samples;
use crate::error::{Error, Result};
use crate::mock::{
    Envelope, Fault, Signing, standalone_notification, v2_notification, v2_refund_notification,
};
use crate::toolkit::SignType;

/// A notification to fire: an event type, APIv3 (the default) or APIv2, its resource (a
/// sample of the documented fields unless given), a fault, and which of the mock's platform
/// keys signs it (the public key [`PLATFORM_KEY_ID`](crate::mock::PLATFORM_KEY_ID) unless
/// set). The APIv3 resource is encrypted with [`APIV3_KEY`](crate::mock::APIV3_KEY), the
/// APIv2 fields signed with [`SECRET`](crate::mock::SECRET): the merchant's handler must be
/// set up with the mock's keys, as against a sandbox.
///
/// ```no_run
/// use wechatpay::mock::Fault;
/// use wechatpay::sandbox::Firing;
///
/// # async fn run() -> wechatpay::Result<()> {
/// let answer = Firing::new("TRANSACTION.SUCCESS").send("http://127.0.0.1:8080/notify").await?;
/// assert!(answer.accepted(), "{}", answer.verdict(true));
/// let probe = Firing::new("TRANSACTION.SUCCESS").fault(Fault::Probe);
/// let answer = probe.send("http://127.0.0.1:8080/notify").await?;
/// assert!(!answer.accepted(), "{}", answer.verdict(probe.is_genuine()));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Firing {
    event_type: String,
    v2: bool,
    resource: Option<Value>,
    fault: Option<Fault>,
    signing: Signing,
}

impl Firing {
    /// The notification `event_type` (`TRANSACTION.SUCCESS`, any documented one), APIv3.
    pub fn new(event_type: &str) -> Self {
        Self {
            event_type: event_type.to_owned(),
            v2: false,
            resource: None,
            fault: None,
            signing: Signing::PublicKey,
        }
    }

    /// The APIv2 (XML) notification of that name instead.
    pub fn v2(mut self) -> Self {
        self.v2 = true;
        self
    }

    /// The decrypted resource (APIv3) or the fields (APIv2) to send, instead of the sample. An
    /// APIv2 refund result takes its refund's fields in an object `req_info`, encrypted when
    /// sent.
    pub fn resource(mut self, resource: Value) -> Self {
        self.resource = Some(resource);
        self
    }

    /// Sends it broken: see [`MockServer::notification_with`](crate::mock::MockServer::notification_with)
    /// for the faults of APIv3 notifications and
    /// [`MockServer::v2_notification_with`](crate::mock::MockServer::v2_notification_with) for
    /// APIv2's.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.fault = Some(fault);
        self
    }

    /// Sends it broken in the way `how` names: `signature` (a signature that does not match),
    /// `stale` (signed ten minutes ago), `future` (ten minutes ahead), `serial` (a key id the
    /// merchant does not know), `signature-type` (another algorithm named), `probe` (a
    /// `WECHATPAY/SIGNTEST/` signature), `unsigned`, `wrong-key` (encrypted, or signed for
    /// APIv2, with another key), `ciphertext` (the ciphertext altered).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) for another name.
    pub fn tamper(self, how: &str) -> Result<Self> {
        let fault = super::views::fault_named(how).ok_or_else(|| {
            let names: Vec<&str> = super::views::FAULTS.iter().map(|(name, _)| *name).collect();
            Error::invalid(format!(
                "`{how}` is no way to tamper with a notification: {}",
                names.join(", ")
            ))
        })?;
        Ok(self.fault(fault))
    }

    /// Which of the mock's platform keys signs it ([`Signing::Migrating`] signs a notification
    /// with the public key, as WeChat Pay does).
    pub fn signing(mut self, signing: Signing) -> Self {
        self.signing = signing;
        self
    }

    /// Whether it is sent genuine, which a merchant must accept; a broken one must be refused.
    pub fn is_genuine(&self) -> bool {
        self.fault.is_none()
    }

    /// The resource (or fields) it carries: the one given, else the event's sample; an error
    /// for an event type with no sample (none documented) and no resource given.
    fn payload(&self) -> Result<Value> {
        if let Some(resource) = &self.resource {
            return Ok(resource.clone());
        }
        samples::find(&self.event_type, self.v2)
            .map(|sample| sample.resource)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "no {} notification `{}` is documented: give its resource, or pick one of \
                     `wechatpay notify send --list`",
                    if self.v2 { "APIv2" } else { "APIv3" },
                    self.event_type
                ))
            })
    }

    /// The notification as it would be POSTed now: its headers and body.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) for an event type
    /// with no sample (none documented) and no resource given, or APIv2 fields that are not
    /// a JSON object.
    pub fn build(&self) -> Result<(HeaderMap, Bytes)> {
        let payload = self.payload()?;
        if !self.v2 {
            let original_type = samples::original_type(&self.event_type);
            let envelope = Envelope {
                id: None,
                create_time: None,
                summary: None,
                event_type: &self.event_type,
                resource_type: "encrypt-resource",
                original_type: &original_type,
            };
            return standalone_notification(self.signing, &envelope, &payload, self.fault);
        }
        let mut fields: Map<String, Value> = payload
            .as_object()
            .cloned()
            .ok_or_else(|| Error::invalid("APIv2 notification fields must be a JSON object"))?;
        match fields.remove("req_info") {
            Some(refund @ Value::Object(_)) => {
                v2_refund_notification(&Value::Object(fields), &refund, self.fault)
            }
            other => {
                if let Some(other) = other {
                    fields.insert("req_info".into(), other);
                }
                v2_notification(&Value::Object(fields), SignType::Md5, self.fault)
            }
        }
    }

    /// Builds it and POSTs it to `url` (see [`deliver`]).
    ///
    /// # Errors
    ///
    /// As [`Firing::build`] and [`deliver`].
    pub async fn send(&self, url: &str) -> Result<Delivered> {
        let (headers, body) = self.build()?;
        deliver(url, &headers, body).await
    }
}

/// The notifications that can be fired: each event type, whether it is APIv2, and its
/// title (the documented ones, then those the sandbox sends).
pub fn events() -> Vec<(String, bool, String)> {
    samples::all()
        .into_iter()
        .map(|sample| (sample.event_type, sample.v2, sample.title))
        .collect()
}
