//! The Requests panel (请求日志): the request log, newest first, each request's verdict in
//! words, opened to its signed headers and bodies (request and answer).

use std::fmt::Write as _;

use serde_json::Value;

use super::html::{body, esc, text, time};

/// The panel: the summaries the control API gives, newest first.
pub(crate) fn panel(log: &Value, filtered: bool) -> String {
    let entries = log["data"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut out = String::new();
    if entries.is_empty() {
        out.push_str(if filtered {
            "<p class=\"empty\">No request matches the filter.</p>"
        } else {
            "<p class=\"empty\">No request yet: point your backend at the base URI (Settings) \
             and every request to WeChat Pay's API shows here, with why it was accepted or \
             refused.</p>"
        });
        return out;
    }
    out.push_str(
        "<div class=\"log\"><div class=\"log-head\"><span>时间 Time</span><span>方法 Method</span>\
         <span>路径 Path</span><span>状态 Status</span><span>结论 Verdict</span>\
         <span class=\"num\">耗时 ms</span></div>",
    );
    for entry in entries.iter().rev() {
        summary(&mut out, entry);
    }
    out.push_str("</div>");
    let dropped = log["dropped"].as_u64().unwrap_or(0);
    if dropped > 0 {
        let _ = write!(
            out,
            "<p class=\"note\">{dropped} older requests were dropped (the log keeps the newest \
             1,000 within 8 MiB).</p>"
        );
    }
    out
}

fn summary(out: &mut String, entry: &Value) {
    let id = entry["id"].as_u64().unwrap_or(0);
    let accepted = entry["accepted"].as_bool().unwrap_or(false);
    let status = entry["status"].as_u64().unwrap_or(0);
    let class = if !accepted {
        "refused"
    } else if status >= 400 {
        "error"
    } else {
        "fine"
    };
    let query = match entry["query"].as_str() {
        Some(query) if !query.is_empty() => format!("<span class=\"query\">?{}</span>", esc(query)),
        _ => String::new(),
    };
    let ms = entry["duration_ms"].as_f64().unwrap_or(0.0);
    let _ = write!(
        out,
        "<details class=\"req {class}\" data-request=\"{id}\"><summary>\
         <span class=\"time\">{}</span><span class=\"method\">{}</span>\
         <span class=\"path mono\">{}{query}</span><span class=\"status s{}\">{status}</span>\
         <span class=\"verdict\">{}{}</span><span class=\"num\">{ms:.1}</span></summary>\
         <div class=\"detail\">加载中 Loading…</div></details>",
        time(&entry["time"]),
        text(&entry["method"]),
        text(&entry["path"]),
        status / 100,
        if accepted {
            "<span class=\"badge ok\">verified</span>"
        } else {
            "<span class=\"badge bad\">refused 拒绝</span>"
        },
        text(&entry["verdict"]),
    );
}

/// One request opened: its verdict, then the request and the answer, headers and body.
pub(crate) fn detail(entry: &Value) -> String {
    let mut out = format!(
        "<p class=\"verdict-line {}\">{}</p><div class=\"pair\">",
        if entry["accepted"] == true {
            "fine"
        } else {
            "refused"
        },
        text(&entry["verdict"])
    );
    message(&mut out, "请求 Request", &entry["request"]);
    message(&mut out, "应答 Answer", &entry["response"]);
    out.push_str("</div>");
    out
}

fn message(out: &mut String, title: &str, message: &Value) {
    let _ = write!(
        out,
        "<div class=\"message\"><h3>{title}</h3><table class=\"headers\">"
    );
    if let Some(headers) = message["headers"].as_object() {
        for (name, value) in headers {
            let _ = write!(
                out,
                "<tr><th>{}</th><td class=\"mono\">{}</td></tr>",
                esc(name),
                text(value)
            );
        }
    }
    out.push_str("</table>");
    match (message["body"].as_str(), message["body_base64"].as_str()) {
        (Some(""), _) | (None, None) => out.push_str("<p class=\"sub\">(no body)</p>"),
        (Some(text), _) => {
            let _ = write!(out, "<pre class=\"body\">{}</pre>", body(text));
        }
        (None, Some(base64)) => {
            let _ = write!(
                out,
                "<p class=\"sub\">binary body, base64:</p><pre class=\"body\">{}</pre>",
                esc(base64)
            );
        }
    }
    out.push_str("</div>");
}
