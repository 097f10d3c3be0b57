//! Bills (账单): `GET v3/bill/tradebill` and `v3/bill/fundflowbill` make the day's bill from
//! the sandbox's own payments and refunds (the day in its clock, Beijing time), gzipped on
//! `tar_type=GZIP`, and answer where to download it with the SHA-1 of the original bill;
//! `GET v3/billdownload/file?token=…` serves it, unsigned, as WeChat Pay does.

use std::io::Write as _;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::json;

use super::call::{Call, error, ok};
use super::clock::rfc3339;
use super::core::{BILLS_KEPT, Core, Store};
use crate::crypto::sha1_hex;
use crate::mock::Reply;
use crate::toolkit;

/// Yuan with two decimals, from fen.
fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, (fen % 100).abs())
}

/// `yyyy-MM-dd HH:mm:ss` (Beijing time) and the day `yyyy-MM-dd` of a virtual time.
fn times(ms: u64) -> (String, String) {
    let text = rfc3339(ms).replace('T', " ");
    (text[..19].to_owned(), text[..10].to_owned())
}

/// Fields as a bill line: each prefixed with a backtick, as WeChat Pay writes them.
fn line(fields: &[String]) -> String {
    let mut out = String::new();
    for (n, field) in fields.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push('`');
        out.push_str(field);
    }
    out.push_str("\r\n");
    out
}

/// The trade bill of `day` for `owner`: payments succeeded that day, refunds succeeded that
/// day; `None` when there is none.
fn trade_bill(store: &Store, owner: &str, day: &str, kind: &str) -> Option<String> {
    let mut bill = String::from(
        "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,\
         交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,\
         充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,\
         费率备注\r\n",
    );
    let (mut count, mut settled, mut refunded, mut fees, mut ordered) = (0, 0, 0, 0, 0);
    let openid = |payer: &serde_json::Value| {
        ["openid", "sub_openid", "sp_openid"]
            .iter()
            .find_map(|key| payer.get(key).and_then(|id| id.as_str()))
            .unwrap_or_default()
            .to_owned()
    };
    if kind != "REFUND" {
        for t in store.transactions.iter().filter(|t| t.owner() == owner) {
            let Some((time, date)) = t.success_ms.map(times) else {
                continue;
            };
            if date != day {
                continue;
            }
            let fee = t.total * 6 / 1000;
            count += 1;
            settled += t.total;
            ordered += t.total;
            fees += fee;
            bill += &line(&[
                time,
                t.appid.clone(),
                t.mchid.clone(),
                t.sub_mchid.clone().unwrap_or_else(|| "0".into()),
                String::new(),
                t.transaction_id.clone().unwrap_or_default(),
                t.out_trade_no.clone(),
                openid(&t.payer),
                t.trade_type.clone(),
                "SUCCESS".into(),
                "OTHERS".into(),
                t.currency.clone(),
                yuan(t.total),
                "0.00".into(),
                "0".into(),
                "0".into(),
                "0.00".into(),
                "0.00".into(),
                String::new(),
                String::new(),
                t.description.clone(),
                t.attach.clone().unwrap_or_default(),
                format!("{:.5}", fee as f64 / 100.0),
                "0.60%".into(),
                yuan(t.total),
                "0.00".into(),
                String::new(),
            ]);
        }
    }
    if kind != "SUCCESS" {
        for r in store
            .refunds
            .iter()
            .filter(|r| r.sub_mchid.as_deref().unwrap_or(&r.mchid) == owner && r.state == "SUCCESS")
        {
            let Some((time, date)) = r.success_ms.map(times) else {
                continue;
            };
            if date != day {
                continue;
            }
            count += 1;
            refunded += r.refund;
            bill += &line(&[
                time,
                r.appid.clone(),
                r.mchid.clone(),
                r.sub_mchid.clone().unwrap_or_else(|| "0".into()),
                String::new(),
                r.transaction_id.clone(),
                r.out_trade_no.clone(),
                String::new(),
                String::new(),
                "REFUND".into(),
                "OTHERS".into(),
                r.currency.clone(),
                "0.00".into(),
                "0.00".into(),
                r.refund_id.clone(),
                r.out_refund_no.clone(),
                yuan(r.refund),
                "0.00".into(),
                "ORIGINAL".into(),
                "SUCCESS".into(),
                String::new(),
                String::new(),
                "0.00000".into(),
                "0.60%".into(),
                yuan(r.total),
                yuan(r.refund),
                String::new(),
            ]);
        }
    }
    if count == 0 {
        return None;
    }
    bill += "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n";
    bill += &line(&[
        count.to_string(),
        yuan(settled),
        yuan(refunded),
        "0.00".into(),
        format!("{:.5}", fees as f64 / 100.0),
        yuan(ordered),
        yuan(refunded),
    ]);
    Some(bill)
}

/// The fund-flow bill of `day` for `owner`: income from payments, expense of refunds.
fn fund_flow_bill(store: &Store, owner: &str, day: &str) -> Option<String> {
    let mut entries: Vec<(u64, String, String, &str, i64)> = Vec::new();
    for t in store.transactions.iter().filter(|t| t.owner() == owner) {
        if let (Some(ms), Some(id)) = (t.success_ms, &t.transaction_id) {
            entries.push((ms, id.clone(), t.out_trade_no.clone(), "收入", t.total));
        }
    }
    for r in store
        .refunds
        .iter()
        .filter(|r| r.sub_mchid.as_deref().unwrap_or(&r.mchid) == owner)
    {
        if let Some(ms) = r.success_ms {
            entries.push((
                ms,
                r.refund_id.clone(),
                r.out_refund_no.clone(),
                "支出",
                r.refund,
            ));
        }
    }
    entries.sort_by_key(|entry| entry.0);
    let mut bill = String::from(
        "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,\
         账户结余（元）,资金变更提交申请人,备注,业务凭证号\r\n",
    );
    let (mut balance, mut count, mut income, mut incomes, mut expense, mut expenses) =
        (0, 0, 0, 0, 0, 0);
    for (ms, id, number, direction, amount) in entries {
        let signed = if direction == "收入" {
            amount
        } else {
            -amount
        };
        balance += signed;
        let (time, date) = times(ms);
        if date != day {
            continue;
        }
        count += 1;
        if signed >= 0 {
            incomes += 1;
            income += amount;
        } else {
            expenses += 1;
            expense += amount;
        }
        let business = if signed >= 0 { "交易" } else { "退款" };
        bill += &line(&[
            time,
            id.clone(),
            format!("{id}{count:04}"),
            business.into(),
            business.into(),
            direction.into(),
            yuan(amount),
            yuan(balance),
            "system".into(),
            number,
            id,
        ]);
    }
    if count == 0 {
        return None;
    }
    bill += "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\r\n";
    bill += &line(&[
        count.to_string(),
        incomes.to_string(),
        yuan(income),
        expenses.to_string(),
        yuan(expense),
    ]);
    Some(bill)
}

/// `GET v3/bill/tradebill` or `v3/bill/fundflowbill`.
pub(crate) fn apply(core: &Core, call: &Call, kind: &str) -> Reply {
    let Some(day) = call.query("bill_date").map(str::to_owned) else {
        return super::call::missing("/bill_date").reply();
    };
    let today = times(core.now_ms()).1;
    if day.len() != 10 || day.as_str() > today.as_str() {
        return error(
            400,
            "INVALID_REQUEST",
            &format!("账单日期不正确: bill_date `{day}` must be yyyy-MM-dd and not after {today}"),
        );
    }
    let owner = call.query("sub_mchid").unwrap_or(&call.mchid).to_owned();
    let mut store = core.store();
    let bill = match kind {
        "tradebill" => trade_bill(
            &store,
            &owner,
            &day,
            call.query("bill_type").unwrap_or("ALL"),
        ),
        _ => fund_flow_bill(&store, &owner, &day),
    };
    let Some(bill) = bill else {
        return error(
            400,
            "NO_STATEMENT_EXIST",
            &format!("账单文件不存在: merchant {owner} has nothing on {day}"),
        );
    };
    let hash = sha1_hex(bill.as_bytes());
    let file = match call.query("tar_type") {
        Some("GZIP") => {
            let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
            let _ = gzip.write_all(bill.as_bytes());
            Bytes::from(gzip.finish().unwrap_or_default())
        }
        _ => Bytes::from(bill),
    };
    let token = toolkit::nonce(48).unwrap_or_default();
    store.bills.push_back((token.clone(), file));
    while store.bills.len() > BILLS_KEPT {
        store.bills.pop_front();
    }
    ok(json!({
        "hash_type": "SHA1",
        "hash_value": hash,
        "download_url": format!("{}/v3/billdownload/file?token={token}", call.origin),
    }))
}

/// `GET v3/billdownload/file?token=…`: the file, unsigned.
pub(crate) fn download(core: &Core, call: &Call) -> Reply {
    let token = call.query("token").unwrap_or_default();
    let store = core.store();
    match store.bills.iter().find(|(kept, _)| kept == token) {
        Some((_, file)) => Reply::status(200)
            .header("Content-Type", "application/octet-stream")
            .body(file.clone())
            .unsigned(),
        None => error(
            400,
            "INVALID_REQUEST",
            "下载链接已失效: no bill has this token (the sandbox keeps the newest 16)",
        ),
    }
}
