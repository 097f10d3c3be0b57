//! The Callbacks panel (回调通知): every delivery to a merchant's notify_url with its attempts,
//! the merchant's status and latency, the next retry and a resend button; and the form that
//! fires any documented notification at any URL (what `wechatpay notify send` does).

use std::fmt::Write as _;

use serde_json::Value;

use super::html::{action, badge, badge_as, body, esc, text, time};
use crate::sandbox::{samples, views};

/// How many deliveries are shown (the newest).
const SHOWN: usize = 300;

/// The panel: the deliveries the control API gives, newest first.
pub(crate) fn panel(deliveries: &Value) -> String {
    let list = deliveries["data"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if list.is_empty() {
        return "<p class=\"empty\">No callback yet: each state change WeChat Pay notifies \
                (a payment, a refund, …) is POSTed to the order's notify_url and shows here, \
                with your handler's answer.</p>"
            .to_owned();
    }
    let mut out = String::from(
        "<div class=\"log\"><div class=\"log-head cb\"><span>时间 Time</span>\
         <span>事件 Event</span><span>通知地址 notify_url</span><span>次数 Attempts</span>\
         <span>商户应答 Answer</span><span>状态 State</span><span>下次重试 Next retry</span>\
         <span></span></div>",
    );
    for delivery in list.iter().rev().take(SHOWN) {
        row(&mut out, delivery);
    }
    out.push_str("</div>");
    out
}

fn row(out: &mut String, d: &Value) {
    let id = d["id"].as_u64().unwrap_or(0);
    let attempts = d["attempts"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let last = attempts.last();
    let genuine = d["genuine"] != false;
    let answer = match last {
        None if d["in_flight"] == true => "<span class=\"sub\">sending…</span>".to_owned(),
        None => "—".to_owned(),
        Some(a) => {
            let status = a["status"].as_u64();
            // A tampered notification must be refused: refusing it is the right answer.
            let right = (a["accepted"] == true) == genuine;
            let tone = if right { "ok" } else { "bad" };
            format!(
                "<span class=\"badge {tone} status\">{}</span> <span class=\"sub\">{} ms</span>",
                status.map_or_else(|| "no answer".to_owned(), |s| s.to_string()),
                a["latency_ms"].as_u64().unwrap_or(0)
            )
        }
    };
    let mut event = format!(
        "<span class=\"mono strong\">{}</span> <span class=\"sub\">{}</span>",
        text(&d["event_type"]),
        text(&d["api"])
    );
    if let Some(fault) = d["fault"].as_str() {
        let _ = write!(
            event,
            " <span class=\"badge bad\">tampered: {}</span>",
            esc(fault)
        );
    }
    let _ = write!(
        event,
        "<br><span class=\"sub\">{} · {} {}</span>",
        text(&d["summary"]),
        text(&d["subject"]["kind"]),
        text(&d["subject"]["number"])
    );
    let state = match (genuine, last.map(|a| a["accepted"] == true)) {
        // A tampered one is judged by whether the merchant refused it.
        (false, Some(false)) => badge_as("delivery", "refused", "ok"),
        (false, Some(true)) => badge("delivery", "accepted!"),
        _ => badge("delivery", d["state"].as_str().unwrap_or_default()),
    };
    let _ = write!(
        out,
        "<details class=\"delivery\" data-delivery=\"{id}\" data-event=\"{}\" \
         data-subject=\"{}\"><summary>\
         <span class=\"time\">{}</span><span>{event}</span><span class=\"mono url\">{}</span>\
         <span class=\"num\">{}</span><span class=\"answer\">{answer}</span>\
         <span class=\"state\">{}</span><span>{}</span><span>{}</span></summary>",
        esc(d["event_type"].as_str().unwrap_or_default()),
        esc(d["subject"]["number"].as_str().unwrap_or_default()),
        time(&d["create_time"]),
        text(&d["url"]),
        attempts.len(),
        state,
        time(&d["next_retry"]),
        action(
            &format!("notifications/{id}/resend"),
            "{}",
            "重发 Resend",
            "plain"
        ),
    );
    out.push_str("<div class=\"detail\"><div class=\"pair\"><div class=\"message\">");
    let _ = write!(
        out,
        "<h3>尝试 Attempts</h3><p class=\"sub\">notification id <span class=\"mono\">{}</span>{}</p>",
        text(&d["notification_id"]),
        if d["retries"] == true {
            " · retried on WeChat Pay's schedule until accepted"
        } else {
            " · sent once"
        }
    );
    out.push_str(
        "<table class=\"attempts\"><thead><tr><th>#</th><th>时间 Time</th><th>状态 Status</th>\
         <th>耗时 Latency</th><th>结论 Verdict</th></tr></thead><tbody>",
    );
    for a in attempts {
        let _ = write!(
            out,
            "<tr><td>{}{}</td><td>{}</td><td>{}</td><td class=\"num\">{} ms</td>\
             <td>{}{}</td></tr>",
            text(&a["number"]),
            if a["manual"] == true { " (resend)" } else { "" },
            time(&a["time"]),
            text(&a["status"]),
            a["latency_ms"].as_u64().unwrap_or(0),
            text(&a["verdict"]),
            match a["answer"].as_str() {
                Some(answer) if !answer.is_empty() => {
                    format!("<br><span class=\"sub mono\">{}</span>", esc(answer))
                }
                _ => String::new(),
            },
        );
    }
    out.push_str(
        "</tbody></table></div><div class=\"message\"><h3>解密后的资源 Resource (decrypted)</h3>",
    );
    let resource = serde_json::to_string_pretty(&d["resource"]).unwrap_or_default();
    let _ = write!(out, "<pre class=\"body\">{}</pre>", body(&resource));
    out.push_str("</div></div></div></details>");
}

/// The form that fires a notification: the documented events, the faults.
pub(crate) fn fire_form(default_url: &str) -> String {
    let mut events = String::new();
    for sample in samples::all() {
        let value = format!(
            "{}:{}",
            if sample.v2 { "v2" } else { "v3" },
            sample.event_type
        );
        let _ = write!(
            events,
            "<option value=\"{}\"{}>{}{} — {}</option>",
            esc(&value),
            if value == "v3:TRANSACTION.SUCCESS" {
                " selected"
            } else {
                ""
            },
            esc(&sample.event_type),
            if sample.v2 { " (APIv2)" } else { "" },
            esc(&sample.title),
        );
    }
    let mut faults = String::from("<option value=\"\">genuine 正常</option>");
    for (name, _) in views::FAULTS {
        let _ = write!(faults, "<option value=\"{name}\">tampered: {name}</option>");
    }
    format!(
        "<form id=\"fire\" class=\"fire\">\
         <label>通知地址 URL <input name=\"url\" type=\"url\" required value=\"{}\" \
         placeholder=\"http://127.0.0.1:8080/wechatpay/notify\"></label>\
         <label>事件 Event <select name=\"event\">{events}</select></label>\
         <label>篡改 Tamper <select name=\"fault\">{faults}</select></label>\
         <label class=\"wide\">资源 Resource (JSON; the event's sample unless changed) \
         <textarea name=\"resource\" rows=\"6\" spellcheck=\"false\"></textarea></label>\
         <div class=\"row\"><button type=\"submit\" class=\"act ok\">发送 Send</button>\
         <span class=\"sub\">Signed and encrypted with the sandbox's keys, sent once; the \
         delivery shows above with your handler's answer.</span></div></form>",
        esc(default_url)
    )
}
