//! The console's HTML pieces. Everything shown that came from a merchant (or anyone else)
//! passes through [`esc`] or [`text`]: no value the sandbox was sent can become markup.

use serde_json::Value;

/// `raw` with the five characters that are markup in text and in quoted attributes escaped.
pub(crate) fn esc(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 8);
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A JSON value as escaped text: a string as is, `null` as a dash, anything else as JSON.
pub(crate) fn text(value: &Value) -> String {
    match value {
        Value::Null => "—".to_owned(),
        Value::String(s) if s.is_empty() => "—".to_owned(),
        Value::String(s) => esc(s),
        other => esc(&other.to_string()),
    }
}

/// A JSON value's text, unescaped (for building a path or a title, escaped by the caller).
pub(crate) fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// An amount in fen as yuan: `¥1.00` (or `1.00 USD`).
pub(crate) fn money(fen: &Value, currency: &Value) -> String {
    let fen = fen.as_i64().unwrap_or(0);
    let sign = if fen < 0 { "-" } else { "" };
    let yuan = format!(
        "{sign}{}.{:02}",
        fen.unsigned_abs() / 100,
        fen.unsigned_abs() % 100
    );
    match currency.as_str() {
        None | Some("CNY") | Some("") => format!("¥{yuan}"),
        Some(other) => format!("{yuan} {}", esc(other)),
    }
}

/// An RFC 3339 time, short (`12-07 16:05:09`), with the whole of it as a tooltip.
pub(crate) fn time(value: &Value) -> String {
    let Some(full) = value.as_str() else {
        return "—".to_owned();
    };
    let short = match (full.get(5..10), full.get(11..19)) {
        (Some(date), Some(clock)) => format!("{date} {clock}"),
        _ => full.to_owned(),
    };
    format!(
        "<time datetime=\"{}\" title=\"{}\">{}</time>",
        esc(full),
        esc(full),
        esc(&short)
    )
}

/// The colour class of a state: `ok`, `wait`, `bad`, `off` or `info`.
pub(crate) fn tone(state: &str) -> &'static str {
    match state {
        "SUCCESS" | "DONE" | "delivered" | "accepted" | "USER_PAID" => "ok",
        "PAYERROR" | "ABNORMAL" | "FAIL" | "failed" | "refused" | "accepted!" => "bad",
        "CLOSED" | "REVOKED" | "CANCELLED" | "CANCELING" | "EXPIRED" => "off",
        "REFUND" => "info",
        _ => "wait",
    }
}

/// WeChat Pay's Chinese name of a state, where it has one.
pub(crate) fn state_zh(kind: &str, state: &str) -> &'static str {
    match (kind, state) {
        ("refund", "SUCCESS") => "退款成功",
        ("refund", "PROCESSING") => "退款处理中",
        ("refund", "ABNORMAL") => "退款异常",
        ("refund", "CLOSED") => "退款关闭",
        ("transfer_bill", "SUCCESS") => "转账成功",
        ("transfer_bill", "FAIL") => "转账失败",
        ("transfer_bill", "WAIT_USER_CONFIRM") => "待收款用户确认",
        ("transfer_bill", "ACCEPTED") => "转账已受理",
        ("transfer_bill", "PROCESSING" | "TRANSFERING") => "转账中",
        ("transfer_bill", "CANCELING") => "撤销中",
        ("transfer_bill", "CANCELLED") => "已撤销",
        ("payscore_order", "CREATED") => "商户已创建服务订单",
        ("payscore_order", "DOING") => "服务订单进行中",
        ("payscore_order", "DONE") => "服务订单完成",
        ("payscore_order", "REVOKED") => "商户取消服务订单",
        ("payscore_order", "EXPIRED") => "服务订单已失效",
        (_, "SUCCESS") => "支付成功",
        (_, "NOTPAY") => "未支付",
        (_, "CLOSED") => "已关闭",
        (_, "REFUND") => "转入退款",
        (_, "PAYERROR") => "支付失败",
        (_, "USERPAYING") => "用户支付中",
        (_, "REVOKED") => "已撤销",
        (_, "pending") => "待发送",
        (_, "retrying") => "重试中",
        (_, "delivered") => "已送达",
        (_, "failed") => "已放弃",
        ("delivery", "refused") => "已拒绝，正确",
        ("delivery", "accepted!") => "不应接受",
        _ => "",
    }
}

/// A coloured state badge, with WeChat Pay's Chinese name beside it.
pub(crate) fn badge(kind: &str, state: &str) -> String {
    badge_as(kind, state, tone(state))
}

/// A state badge of the colour `tone` (`ok`, `wait`, `bad`, `off`, `info`).
pub(crate) fn badge_as(kind: &str, state: &str, tone: &str) -> String {
    let zh = state_zh(kind, state);
    let zh = if zh.is_empty() {
        String::new()
    } else {
        format!("<span class=\"zh\">{zh}</span>")
    };
    format!("<span class=\"badge {tone}\">{}</span>{zh}", esc(state))
}

/// A button that calls the control API: `POST /_sandbox/{path}` with `body` (a constant
/// JSON text), confirming nothing (every action is one a payer or WeChat Pay could take).
pub(crate) fn action(path: &str, body: &str, label: &str, tone: &str) -> String {
    format!(
        "<button type=\"button\" class=\"act {tone}\" data-path=\"{}\" data-body=\"{}\">{}</button>",
        esc(path),
        esc(body),
        esc(label)
    )
}

/// A button that copies the text of the element `target` (its id).
pub(crate) fn copy(target: &str) -> String {
    format!(
        "<button type=\"button\" class=\"copy\" data-copy=\"{}\" title=\"复制 Copy\">Copy</button>",
        esc(target)
    )
}

/// A body shown as text: JSON pretty-printed, anything else as it came, escaped.
pub(crate) fn body(raw: &str) -> String {
    let pretty = serde_json::from_str::<Value>(raw)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
        .and_then(|v| serde_json::to_string_pretty(&v).ok());
    esc(pretty.as_deref().unwrap_or(raw))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn markup_is_escaped_everywhere() {
        let evil = "<script>alert(\"x\")</script>'&";
        assert_eq!(
            esc(evil),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;"
        );
        assert!(!text(&json!(evil)).contains('<'));
        assert!(!body(&json!({"d": evil}).to_string()).contains('<'));
        assert!(!time(&json!(evil)).contains("<script"));
        assert!(!action(evil, evil, evil, "ok").contains("<script"));
    }

    #[test]
    fn amounts_are_yuan() {
        assert_eq!(money(&json!(100), &json!("CNY")), "¥1.00");
        assert_eq!(money(&json!(7), &Value::Null), "¥0.07");
        assert_eq!(money(&json!(-1250), &json!("USD")), "-12.50 USD");
    }

    #[test]
    fn times_are_short_with_the_whole_as_a_tooltip() {
        let shown = time(&json!("2026-12-07T16:05:09+08:00"));
        assert!(shown.contains(">12-07 16:05:09<"), "{shown}");
        assert!(
            shown.contains("title=\"2026-12-07T16:05:09+08:00\""),
            "{shown}"
        );
    }
}
