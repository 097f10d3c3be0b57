//! The library's errors retold in this command's terms: where a message names a Rust call
//! (`ClientBuilder::platform_key`, `Options::allow_plaintext`, `json!({…})`), the user of the
//! command gets the flag to pass or the variable to set instead.

/// Library phrases and what they mean on the command line, longest first where one contains
/// another.
const PHRASES: [(&str, &str); 9] = [
    (
        "ClientBuilder::platform_key (a `PUB_KEY_ID_…` and its pub_key.pem from the merchant \
         platform) or ClientBuilder::platform_certificate",
        "--platform-key-id and --platform-key (a `PUB_KEY_ID_…` and its pub_key.pem from the \
         merchant platform; WECHATPAY_PLATFORM_KEY_ID, WECHATPAY_PLATFORM_KEY) or \
         --platform-certificate",
    ),
    (
        "ClientBuilder::platform_key",
        "--platform-key-id and --platform-key",
    ),
    (
        "ClientBuilder::platform_certificate",
        "--platform-certificate",
    ),
    (
        "(ClientBuilder::auto_certificates)",
        "(no platform key was given, so the command downloads them)",
    ),
    (
        "set it with ClientBuilder::merchant_identity (apiclient_cert.pem and apiclient_key.pem)",
        "pass --merchant-cert apiclient_cert.pem (or set WECHATPAY_MERCHANT_CERT) beside the \
         private key",
    ),
    (
        "set it with ClientBuilder::apiv2_key",
        "pass --secret-file FILE or set WECHATPAY_SECRET",
    ),
    (
        "the APIv2 key (ClientBuilder::apiv2_key)",
        "the APIv2 key (--secret-file, WECHATPAY_SECRET)",
    ),
    (
        "ClientBuilder::pool_idle_timeout is 7 s",
        "connections are kept idle 7 s at most",
    ),
    (
        "or ClientBuilder::danger_allow_http for a trusted test network",
        "(--base-uri, WECHATPAY_BASE_URI)",
    ),
];

/// `message` with the library's Rust advice replaced by the command's flags.
pub fn in_command_terms(message: String) -> String {
    if let Some(refusal) = plaintext_refusal(&message) {
        return refusal;
    }
    PHRASES
        .iter()
        .fold(message, |text, (phrase, flags)| text.replace(phrase, flags))
}

/// The refusal of a plain-text field that travels encrypted, with `--allow-plaintext`.
fn plaintext_refusal(message: &str) -> Option<String> {
    let (field, _) = message.split_once(" holds plain text, but ")?;
    message.contains("allow_plaintext").then(|| {
        format!(
            "{field} holds plain text, but WeChat Pay's docs say it travels encrypted \
             (RSA-OAEP with the platform key, base64): give the encrypted value, or pass \
             --allow-plaintext if plain text is meant here. Nothing was sent"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_calls_become_flags() {
        let told = in_command_terms(
            "the answer is signed by `PUB_KEY_ID_1`, which is not a configured platform key; add \
             it with ClientBuilder::platform_key (a `PUB_KEY_ID_…` and its pub_key.pem from the \
             merchant platform) or ClientBuilder::platform_certificate"
                .to_owned(),
        );
        assert!(
            told.contains("--platform-key-id and --platform-key"),
            "{told}"
        );
        assert!(!told.contains("ClientBuilder"), "{told}");
    }

    #[test]
    fn a_plaintext_refusal_names_the_flag() {
        let told = in_command_terms(
            "`json.name` of POST v3/x holds plain text, but WeChat Pay's docs say it is sent \
             encrypted; encrypt it with `client.encrypt(value)`, e.g. json!({\"name\": \
             client.encrypt(\"…\")?}). If plain text is meant here, opt out with \
             Options::allow_plaintext(). Nothing was sent"
                .to_owned(),
        );
        assert!(
            told.starts_with("`json.name` of POST v3/x holds plain text"),
            "{told}"
        );
        assert!(told.contains("--allow-plaintext"), "{told}");
        assert!(
            !told.contains("json!") && !told.contains("Options::"),
            "{told}"
        );
    }

    #[test]
    fn other_messages_stay() {
        let message = "WeChat Pay answered 404 Not Found".to_owned();
        assert_eq!(in_command_terms(message.clone()), message);
    }
}
