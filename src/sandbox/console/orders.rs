//! The Orders panel (订单): every payment, combined payment, refund, PayScore service order and
//! transfer bill, newest first, with the actions the payer or WeChat Pay can take on each.

use std::fmt::Write as _;

use serde_json::Value;

use super::html::{action, badge, esc, money, plain, text, time};
use crate::sandbox::feed::Entities;
use crate::uri::rawurlencode;

/// How many of each kind are shown (the newest).
const SHOWN: usize = 500;

/// The panel.
pub(crate) fn panel(entities: &Entities) -> String {
    let mut out = String::new();
    section(
        &mut out,
        "transactions",
        ("订单", "Payments"),
        &[
            ("状态", "State"),
            ("金额", "Amount"),
            (
                "商户订单号 · 微信支付订单号",
                "out_trade_no · transaction_id",
            ),
            ("商户", "Merchant"),
            ("商品描述", "Description"),
            ("类型", "Type"),
            ("创建 · 更新", "Created · Updated"),
            ("操作", "Actions"),
        ],
        &entities.transactions,
        transaction,
        "No payment yet: your backend creates one with <code>POST v3/pay/transactions/jsapi</code> \
         (or app, h5, native).",
    );
    if !entities.combines.is_empty() {
        section(
            &mut out,
            "combine-transactions",
            ("合单", "Combined payments"),
            &[
                ("状态", "State"),
                ("金额", "Amount"),
                ("合单商户订单号", "combine_out_trade_no"),
                ("子单", "Sub-orders"),
                ("类型", "Type"),
                ("创建 · 更新", "Created · Updated"),
                ("操作", "Actions"),
            ],
            &entities.combines,
            combine,
            "",
        );
    }
    section(
        &mut out,
        "refunds",
        ("退款", "Refunds"),
        &[
            ("状态", "State"),
            ("退款金额", "Refund"),
            (
                "商户退款单号 · 微信支付退款单号",
                "out_refund_no · refund_id",
            ),
            ("商户订单号", "out_trade_no"),
            ("商户", "Merchant"),
            ("退款原因", "Reason"),
            ("创建 · 成功", "Created · Succeeded"),
            ("操作", "Actions"),
        ],
        &entities.refunds,
        refund,
        "No refund yet: <code>POST v3/refund/domestic/refunds</code>.",
    );
    section(
        &mut out,
        "payscore-orders",
        ("支付分", "PayScore service orders"),
        &[
            ("状态", "State"),
            ("金额", "Amount"),
            ("商户服务订单号", "out_order_no · order_id"),
            ("服务", "service_id"),
            ("商户", "Merchant"),
            ("收款", "Collection"),
            ("创建 · 更新", "Created · Updated"),
            ("操作", "Actions"),
        ],
        &entities.service_orders,
        service_order,
        "No service order yet: <code>POST v3/payscore/serviceorder</code>.",
    );
    section(
        &mut out,
        "transfer-bills",
        ("转账", "Transfer bills"),
        &[
            ("状态", "State"),
            ("金额", "Amount"),
            ("商户单号 · 微信转账单号", "out_bill_no · transfer_bill_no"),
            ("收款用户", "openid"),
            ("转账备注", "Remark"),
            ("商户", "Merchant"),
            ("创建 · 更新", "Created · Updated"),
            ("操作", "Actions"),
        ],
        &entities.transfers,
        transfer,
        "No transfer yet: <code>POST v3/fund-app/mch-transfer/transfer-bills</code>.",
    );
    out
}

/// A titled table of entities, newest first; `empty` (trusted markup) when there is none.
fn section(
    out: &mut String,
    id: &str,
    (zh, en): (&str, &str),
    columns: &[(&str, &str)],
    rows: &[Value],
    row: fn(&Value) -> String,
    empty: &str,
) {
    let _ = write!(
        out,
        "<section class=\"card\" id=\"{id}\"><h2>{zh} <span class=\"en\">{en}</span> \
         <span class=\"count\">{}</span></h2>",
        rows.len()
    );
    if rows.is_empty() {
        let _ = write!(out, "<p class=\"empty\">{empty}</p></section>");
        return;
    }
    out.push_str("<div class=\"scroll\"><table><thead><tr>");
    for (zh, en) in columns {
        let class = if *en == "Actions" {
            " class=\"actions\""
        } else {
            ""
        };
        let _ = write!(out, "<th{class}>{zh}<span class=\"en\">{en}</span></th>");
    }
    out.push_str("</tr></thead><tbody>");
    for entity in rows.iter().rev().take(SHOWN) {
        out.push_str(&row(entity));
    }
    out.push_str("</tbody></table></div>");
    if rows.len() > SHOWN {
        let _ = write!(
            out,
            "<p class=\"note\">The newest {SHOWN} of {} are shown.</p>",
            rows.len()
        );
    }
    out.push_str("</section>");
}

/// The `tr` of an entity: `kind:number` as its key, for tests and scripts.
fn open_row(kind: &str, number: &Value) -> String {
    format!("<tr data-key=\"{}:{}\">", esc(kind), esc(&plain(number)))
}

fn merchant(e: &Value) -> String {
    let mut shown = format!("<span class=\"mono\">{}</span>", text(&e["mchid"]));
    if !e["sub_mchid"].is_null() {
        let _ = write!(
            shown,
            "<br><span class=\"sub\">子商户 sub <span class=\"mono\">{}</span></span>",
            text(&e["sub_mchid"])
        );
    }
    shown
}

fn ids(ours: &Value, theirs: &Value) -> String {
    format!(
        "<span class=\"mono strong\">{}</span><br><span class=\"mono sub\">{}</span>",
        text(ours),
        text(theirs)
    )
}

fn times(first: &Value, second: &Value) -> String {
    format!(
        "{}<br><span class=\"sub\">{}</span>",
        time(first),
        time(second)
    )
}

/// `?mchid=` of an action on an entity (the number may be the same at two merchants).
fn path(resource: &str, number: &Value, verb: &str, e: &Value) -> String {
    let mut path = format!("{resource}/{}/{verb}", rawurlencode(&plain(number)));
    if let Some(mchid) = e["sub_mchid"].as_str().or(e["mchid"].as_str()) {
        let _ = write!(path, "?mchid={}", rawurlencode(mchid));
    }
    path
}

fn actions(buttons: &[String]) -> String {
    format!("<td class=\"actions\">{}</td>", buttons.concat())
}

fn transaction(t: &Value) -> String {
    let state = t["state"].as_str().unwrap_or_default();
    let number = &t["out_trade_no"];
    let buttons = if matches!(state, "NOTPAY" | "USERPAYING") && t["combine_out_trade_no"].is_null()
    {
        let path = path("transactions", number, "pay", t);
        vec![
            action(&path, r#"{"result":"SUCCESS"}"#, "支付 Pay", "ok"),
            action(&path, r#"{"result":"PAYERROR"}"#, "失败 Fail", "bad"),
            action(&path, r#"{"result":"CLOSED"}"#, "关闭 Close", "off"),
        ]
    } else {
        Vec::new()
    };
    let mut description = text(&t["description"]);
    if !t["refunded"].is_null() && t["refunded"].as_i64() != Some(0) {
        let _ = write!(
            description,
            "<br><span class=\"sub\">已退款 refunded {}</span>",
            money(&t["refunded"], &t["currency"])
        );
    }
    format!(
        "{}<td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"desc\">{description}</td>\
         <td>{} <span class=\"sub\">{}</span></td><td>{}</td>{}</tr>",
        open_row("transaction", number),
        badge("transaction", state),
        money(&t["amount"], &t["currency"]),
        ids(number, &t["transaction_id"]),
        merchant(t),
        text(&t["trade_type"]),
        text(&t["api"]),
        times(&t["create_time"], &t["update_time"]),
        actions(&buttons),
    )
}

fn combine(c: &Value) -> String {
    let state = c["state"].as_str().unwrap_or_default();
    let number = &c["combine_out_trade_no"];
    let buttons = if state == "NOTPAY" {
        let path = format!("transactions/{}/pay", rawurlencode(&plain(number)));
        vec![
            action(&path, r#"{"result":"SUCCESS"}"#, "支付 Pay", "ok"),
            action(&path, r#"{"result":"PAYERROR"}"#, "失败 Fail", "bad"),
            action(&path, r#"{"result":"CLOSED"}"#, "关闭 Close", "off"),
        ]
    } else {
        Vec::new()
    };
    let subs: Vec<String> = c["sub_orders"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            format!(
                "<span class=\"mono\">{}</span> {} {}",
                text(&s["out_trade_no"]),
                money(&s["amount"], &Value::Null),
                badge("transaction", s["state"].as_str().unwrap_or_default())
            )
        })
        .collect();
    format!(
        "{}<td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{}</tr>",
        open_row("combine_transaction", number),
        badge("transaction", state),
        money(&c["amount"], &c["currency"]),
        ids(number, &c["combine_transaction_id"]),
        subs.join("<br>"),
        text(&c["trade_type"]),
        times(&c["create_time"], &c["update_time"]),
        actions(&buttons),
    )
}

fn refund(r: &Value) -> String {
    let state = r["state"].as_str().unwrap_or_default();
    let number = &r["out_refund_no"];
    let buttons = if state == "PROCESSING" {
        let path = path("refunds", number, "complete", r);
        vec![
            action(&path, r#"{"result":"SUCCESS"}"#, "退款成功 Complete", "ok"),
            action(&path, r#"{"result":"ABNORMAL"}"#, "异常 Fail", "bad"),
            action(&path, r#"{"result":"CLOSED"}"#, "关闭 Close", "off"),
        ]
    } else {
        Vec::new()
    };
    format!(
        "{}<td>{}</td><td class=\"num\">{}<br><span class=\"sub\">of {}</span></td><td>{}</td>\
         <td class=\"mono\">{}</td><td>{}</td><td class=\"desc\">{}</td><td>{}</td>{}</tr>",
        open_row("refund", number),
        badge("refund", state),
        money(&r["amount"], &r["currency"]),
        money(&r["total"], &r["currency"]),
        ids(number, &r["refund_id"]),
        text(&r["out_trade_no"]),
        merchant(r),
        text(&r["reason"]),
        times(&r["create_time"], &r["success_time"]),
        actions(&buttons),
    )
}

fn service_order(o: &Value) -> String {
    let state = o["state"].as_str().unwrap_or_default();
    let number = &o["out_order_no"];
    let mut buttons = Vec::new();
    if state == "CREATED" {
        let path = path("payscore-orders", number, "confirm", o);
        buttons.push(action(&path, "{}", "用户确认 Confirm", "ok"));
    }
    if o["collection"] == "USER_PAYING" {
        let path = path("payscore-orders", number, "pay", o);
        buttons.push(action(&path, "{}", "用户付款 Pay", "ok"));
    }
    let mut shown_state = badge("payscore_order", state);
    if let Some(description) = o["state_description"].as_str() {
        let _ = write!(
            shown_state,
            "<br><span class=\"sub\">{}</span>",
            esc(description)
        );
    }
    format!(
        "{}<td>{shown_state}</td><td class=\"num\">{}</td><td>{}</td><td class=\"mono\">{}</td>\
         <td>{}</td><td>{}</td><td>{}</td>{}</tr>",
        open_row("payscore_order", number),
        money(&o["amount"], &o["currency"]),
        ids(number, &o["order_id"]),
        text(&o["service_id"]),
        merchant(o),
        text(&o["collection"]),
        times(&o["create_time"], &o["update_time"]),
        actions(&buttons),
    )
}

fn transfer(b: &Value) -> String {
    let state = b["state"].as_str().unwrap_or_default();
    let number = &b["out_bill_no"];
    let buttons = if state == "WAIT_USER_CONFIRM" {
        let path = path("transfer-bills", number, "confirm", b);
        vec![
            action(&path, r#"{"result":"SUCCESS"}"#, "确认收款 Confirm", "ok"),
            action(&path, r#"{"result":"FAIL"}"#, "拒绝 Refuse", "bad"),
        ]
    } else {
        Vec::new()
    };
    let mut shown_state = badge("transfer_bill", state);
    if let Some(reason) = b["fail_reason"].as_str() {
        let _ = write!(
            shown_state,
            "<br><span class=\"sub\">{}</span>",
            esc(reason)
        );
    }
    format!(
        "{}<td>{shown_state}</td><td class=\"num\">{}</td><td>{}</td><td class=\"mono\">{}</td>\
         <td class=\"desc\">{}</td><td>{}</td><td>{}</td>{}</tr>",
        open_row("transfer_bill", number),
        money(&b["amount"], &b["currency"]),
        ids(number, &b["transfer_bill_no"]),
        text(&b["openid"]),
        text(&b["remark"]),
        merchant(b),
        times(&b["create_time"], &b["update_time"]),
        actions(&buttons),
    )
}
