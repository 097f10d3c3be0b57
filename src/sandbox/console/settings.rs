//! The Settings panel (设置): what a client needs (the settings `wechatpay sandbox` prints,
//! with copy buttons), the signing mode, the platform certificates and their rotation, and
//! the business clock; and the header's status line.

use std::fmt::Write as _;

use serde_json::Value;

use super::html::{action, copy, esc, text, time};

/// The header's status: the business clock, the signing mode, the counts of each tab.
pub(crate) fn status(clock: &Value, settings: &Value, counts: [(usize, usize); 3]) -> String {
    let [(orders, _), (requests, refused), (callbacks, failing)] = counts;
    let ahead = clock["ahead_seconds"].as_i64().unwrap_or(0);
    let scale = clock["time_scale"].as_f64().unwrap_or(1.0);
    let mut clock_note = String::new();
    if ahead != 0 {
        let _ = write!(
            clock_note,
            " <span class=\"sub\">+{}</span>",
            duration(ahead)
        );
    }
    if (scale - 1.0).abs() > f64::EPSILON {
        let _ = write!(clock_note, " <span class=\"sub\">×{scale}</span>");
    }
    let flag = |count: usize, tone: &str| {
        if count == 0 {
            String::new()
        } else {
            format!(" <span class=\"pill {tone}\">{count}</span>")
        }
    };
    format!(
        "<nav class=\"tabs\" role=\"tablist\">\
         <a href=\"#orders\" role=\"tab\" data-tab=\"orders\">订单 Orders <span class=\"n\">{orders}</span></a>\
         <a href=\"#requests\" role=\"tab\" data-tab=\"requests\">请求 Requests <span class=\"n\">{requests}</span>{}</a>\
         <a href=\"#callbacks\" role=\"tab\" data-tab=\"callbacks\">回调 Callbacks <span class=\"n\">{callbacks}</span>{}</a>\
         <a href=\"#settings\" role=\"tab\" data-tab=\"settings\">设置 Settings</a></nav>\
         <div class=\"facts\"><span title=\"业务时间: the sandbox's business clock\">\
         <span class=\"label\">业务时间 Clock</span> {}{clock_note}</span>\
         <span><span class=\"label\">签名 Signing</span> {}</span></div>",
        flag(refused, "bad"),
        flag(failing, "bad"),
        time(&clock["time"]),
        text(&settings["signing"]),
    )
}

/// `1 d 2 h`, `3 min`, `15 s`.
fn duration(seconds: i64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds % 86_400 / 3_600,
        seconds % 3_600 / 60,
        seconds % 60,
    );
    let parts: Vec<String> = [(d, "d"), (h, "h"), (m, "min"), (s, "s")]
        .iter()
        .filter(|(n, _)| *n != 0)
        .map(|(n, unit)| format!("{n} {unit}"))
        .collect();
    if parts.is_empty() {
        "0 s".to_owned()
    } else {
        parts.join(" ")
    }
}

/// The panel.
pub(crate) fn panel(settings: &Value, clock: &Value) -> String {
    let mut out = String::from("<div class=\"grid\">");
    client(&mut out, settings);
    out.push_str("<div class=\"stack\">");
    clock_card(&mut out, clock);
    signing(&mut out, settings);
    out.push_str("</div></div>");
    out
}

fn client(out: &mut String, settings: &Value) {
    out.push_str(
        "<section class=\"card\"><h2>客户端设置 <span class=\"en\">Client settings</span></h2>\
         <p class=\"sub\">What <code>wechatpay sandbox</code> prints: <code>source</code> it, or \
         give these to your SDK. The keys are public test keys (the command writes them to \
         files; copy them below).</p>",
    );
    let mut lines = String::new();
    if let Some(env) = settings["env"].as_object() {
        for (name, value) in env {
            let _ = writeln!(lines, "export {}={}", esc(name), text(value));
        }
    }
    let _ = writeln!(
        lines,
        "export WECHATPAY_SANDBOX={}",
        text(&settings["control_uri"])
    );
    let _ = write!(
        out,
        "<div class=\"copyable\"><pre id=\"env\" class=\"body\">{lines}</pre>{}</div>",
        copy("env")
    );
    out.push_str("<table class=\"kv\">");
    for (key, label) in [
        ("base_uri", "基础地址 Base URI"),
        ("tls_base_uri", "TLS base URI (mutual TLS, APIv2 security)"),
        ("control_uri", "控制 API Control API"),
        ("mchid", "商户号 mchid"),
        ("serial", "商户证书序列号 Merchant serial"),
        ("platform_key_id", "微信支付公钥 ID Platform key id"),
        (
            "platform_certificate_serial",
            "平台证书序列号 Platform certificate",
        ),
        ("apiv3_key", "APIv3 密钥 APIv3 key"),
        ("secret", "APIv2 密钥 APIv2 key"),
    ] {
        let id = format!("setting-{key}");
        let _ = write!(
            out,
            "<tr><th>{label}</th><td><code id=\"{id}\">{}</code></td><td>{}</td></tr>",
            text(&settings[key]),
            copy(&id)
        );
    }
    out.push_str("</table>");
    if let Some(pems) = settings["pem"].as_object() {
        for (name, label) in [
            (
                "merchant_private_key",
                "商户私钥 Merchant private key (apiclient_key.pem)",
            ),
            (
                "merchant_certificate",
                "商户证书 Merchant certificate (apiclient_cert.pem)",
            ),
            (
                "platform_public_key",
                "微信支付公钥 Platform public key (pub_key.pem)",
            ),
            ("platform_certificate", "平台证书 Platform certificate"),
            ("tls_root", "TLS root (trust it for the TLS port)"),
        ] {
            let id = format!("pem-{name}");
            let _ = write!(
                out,
                "<details class=\"pem\"><summary>{label}</summary><div class=\"copyable\">\
                 <pre id=\"{id}\" class=\"body\">{}</pre>{}</div></details>",
                text(&pems.get(name).cloned().unwrap_or_default()),
                copy(&id)
            );
        }
    }
    out.push_str("</section>");
}

fn clock_card(out: &mut String, clock: &Value) {
    let ahead = clock["ahead_seconds"].as_i64().unwrap_or(0);
    let _ = write!(
        out,
        "<section class=\"card\"><h2>业务时钟 <span class=\"en\">Business clock</span></h2>\
         <p class=\"big\">{}</p><p class=\"sub\">{} ahead of the real clock, running ×{}. \
         Expiries and callback retries follow it; signatures stay on the real clock.</p>\
         <div class=\"row\">",
        time(&clock["time"]),
        duration(ahead),
        clock["time_scale"].as_f64().unwrap_or(1.0),
    );
    for (seconds, label) in [
        (15, "+15 s"),
        (300, "+5 min"),
        (3_600, "+1 h"),
        (86_400, "+1 day"),
    ] {
        out.push_str(&action(
            "clock",
            &format!("{{\"advance_seconds\":{seconds}}}"),
            label,
            "plain",
        ));
    }
    out.push_str(
        "</div><form id=\"clock\" class=\"row\"><label>快进 Advance (s) \
         <input name=\"advance\" type=\"number\" min=\"0\" step=\"1\" placeholder=\"900\"></label>\
         <label>倍速 Time scale <input name=\"scale\" type=\"number\" min=\"0.001\" step=\"any\" \
         placeholder=\"1\"></label><button type=\"submit\" class=\"act plain\">Apply</button></form>\
         </section>",
    );
}

fn signing(out: &mut String, settings: &Value) {
    let mode = settings["signing"].as_str().unwrap_or_default();
    out.push_str(
        "<section class=\"card\"><h2>签名模式 <span class=\"en\">Signing</span></h2>\
         <p class=\"sub\">Which platform key signs the answers: 微信支付公钥 the public key, \
         平台证书 the platform certificate, or both while migrating.</p><div class=\"row seg\">",
    );
    for (name, label) in [
        ("public-key", "公钥 public-key"),
        ("certificate", "证书 certificate"),
        ("migrating", "迁移 migrating"),
    ] {
        out.push_str(&action(
            "platform/signing",
            &format!("{{\"mode\":\"{name}\"}}"),
            label,
            if name == mode { "on" } else { "plain" },
        ));
    }
    out.push_str("</div><h3>平台证书 Platform certificates</h3><table class=\"kv\">");
    let in_use = settings["platform_certificate_serial"]
        .as_str()
        .unwrap_or_default();
    for serial in settings["listed_certificates"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let listed = serial.as_str().unwrap_or_default();
        let _ = write!(
            out,
            "<tr><td class=\"mono\">{}</td><td>{}</td></tr>",
            esc(listed),
            if listed == in_use {
                "<span class=\"badge ok\">signing 使用中</span>"
            } else {
                "<span class=\"badge off\">listed</span>"
            }
        );
    }
    let _ = write!(
        out,
        "</table><div class=\"row\">{}<span class=\"sub\">A new certificate signs from now \
         on; the old one stays listed in <code>v3/certificates</code>.</span></div></section>",
        action("platform/rotate", "{}", "轮换 Rotate", "plain")
    );
}
