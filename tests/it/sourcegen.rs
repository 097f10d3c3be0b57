//! The generator of the endpoint catalog, run as a test ("sourcegen").
//!
//! It reads the documented operations from the corpus — the file named by
//! `WECHATPAY_ENDPOINTS`, else `shared/corpus/endpoints.jsonl` in a folder above this
//! repository (`../shared/corpus/endpoints.jsonl` next to it) — and generates:
//!
//! | file | used by |
//! |---|---|
//! | `generated/endpoints.rs` | `wechatpay::endpoints` (`include!`): one `Endpoint` per operation |
//! | `generated/products.rs` | `wechatpay::endpoints::Product` (`include!`), from [`PRODUCTS`] |
//! | `generated/templates.txt` | the `chain!` macro (`macros/src/templates.txt` is a symlink) |
//! | `generated/reference.md` | the docs of `wechatpay::endpoints::reference` |
//! | `generated/schema.json` | `src/schema/` (feature `sandbox`, `include_str!`): the request and response fields of every operation, and the notifications ([`schema`]) |
//! | `generated/encrypted.rs` | `src/schema/encrypted.rs` (`include!`): the request fields the docs mark encrypted |
//!
//! The last two also read `schema.jsonl` and `webhooks.jsonl`, next to `endpoints.jsonl`.
//!
//! The test fails when a committed file differs from what the corpus gives; run
//! `WECHATPAY_REGENERATE=1 cargo test --test sourcegen` to rewrite them, and commit.
//! Without a corpus it says so on stderr and passes, unless `CI` is set.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

use serde::Deserialize;

mod schema;

/// A product group: the path prefixes (whole segments) it takes. The longest prefix that
/// matches a template wins; a template that none matches is `Other`, which the catalog tests
/// refuse, so extend this table when the corpus grows.
struct Group {
    variant: &'static str,
    name: &'static str,
    title: &'static str,
    prefixes: &'static [&'static str],
}

const PRODUCTS: &[Group] = &[
    Group {
        variant: "Payments",
        name: "Payments",
        title: "基础支付",
        prefixes: &["v3/pay", "v3/combine-transactions"],
    },
    Group {
        variant: "Refunds",
        name: "Refunds",
        title: "退款",
        prefixes: &["v3/refund", "v3/ecommerce/refunds"],
    },
    Group {
        variant: "Bills",
        name: "Bills",
        title: "账单",
        prefixes: &["v3/bill", "v3/billdownload", "v3/ecommerce/bill"],
    },
    Group {
        variant: "PayScore",
        name: "PayScore",
        title: "微信支付分",
        prefixes: &["v3/payscore", "v3/discount-card"],
    },
    Group {
        variant: "Papay",
        name: "Recurring deductions",
        title: "委托代扣",
        prefixes: &[
            "v3/papay",
            "v3/partner-papay",
            "v3/ecommerce/combine-papay",
            "v3/password-exempt-contract",
            "v3/credit-repayment",
            "v3/edu-papay",
            "v3/eduschoolpay",
        ],
    },
    Group {
        variant: "Marketing",
        name: "Marketing",
        title: "营销",
        prefixes: &[
            "v3/marketing",
            "v3/brand",
            "v3/brand-basic",
            "v3/multiuse",
            "v3/industry-coupon",
            "v3/businesscircle",
            "v3/goldplan",
            "v3/fund-app/brand-redpacket",
            "v3/smartguide",
        ],
    },
    Group {
        variant: "Onboarding",
        name: "Merchant onboarding",
        title: "商户进件与管理",
        prefixes: &[
            "v3/applyment4sub",
            "v3/apply4subject",
            "v3/apply4sub",
            "v3/ecommerce/applyments",
            "v3/brand/applyments",
            "v3/mchalterapply",
            "v3/merchant-settlement",
            "v3/rate-activity",
            "v3/mch-manage",
            "v3/merchant-store",
            "v3/aggracct-bc",
            "v3/ecommerce/subject-sub-merchants",
        ],
    },
    Group {
        variant: "Complaints",
        name: "Complaints",
        title: "消费者投诉",
        prefixes: &["v3/merchant-service"],
    },
    Group {
        variant: "Transfers",
        name: "Transfers",
        title: "商家转账",
        prefixes: &[
            "v3/transfer",
            "v3/transfer-detail",
            "v3/transferdownload",
            "v3/fund-app/mch-transfer",
            "v3/partner-transfer",
            "v3/bank-transfer",
            "v3/bank-batch-transfer",
            "v3/platsolution/mch-transfer",
            "v3/platsolution/insurance/mch-transfer",
            "v3/ecommerce/mch-transfer",
            "v3/payroll-card",
        ],
    },
    Group {
        variant: "ProfitSharing",
        name: "Profit sharing",
        title: "分账",
        prefixes: &[
            "v3/profitsharing",
            "v3/ecommerce/profitsharing",
            "v3/brand/profitsharing",
        ],
    },
    Group {
        variant: "Ecommerce",
        name: "E-commerce and platforms",
        title: "电商收付通与平台解决方案",
        prefixes: &["v3/ecommerce", "v3/platsolution"],
    },
    Group {
        variant: "Funds",
        name: "Funds",
        title: "资金管理",
        prefixes: &[
            "v3/merchant/fund",
            "v3/ecommerce/fund",
            "v3/merchantfund",
            "v3/recharge",
            "v3/abnormal-fund-processing",
            "v3/mch_operate",
        ],
    },
    Group {
        variant: "Risk",
        name: "Risk and compliance",
        title: "风险与合规",
        prefixes: &[
            "v3/merchant-risk-manage",
            "v3/compliance",
            "v3/mch-operation-manage",
            "v3/transaction-block",
        ],
    },
    Group {
        variant: "Global",
        name: "Global and cross-border",
        title: "境外与跨境",
        prefixes: &[
            "v3/global",
            "v3/transactions",
            "v3/refunds",
            "v3/statements",
            "v3/settle",
            "v3/merchants",
            "v3/customs",
            "v3/funds-to-oversea",
            "v3/payscore/oversea",
        ],
    },
    Group {
        variant: "Invoices",
        name: "Invoices",
        title: "电子发票",
        prefixes: &["v3/new-tax-control-fapiao", "v3/taxi-invoice"],
    },
    Group {
        variant: "Industry",
        name: "Industry solutions",
        title: "行业方案",
        prefixes: &[
            "v3/vehicle",
            "v3/parking",
            "v3/ebike",
            "v3/edu-star",
            "v3/med-ins",
            "v3/hire-power-bank",
            "v3/catering",
            "v3/lovefeast",
            "v3/iotmanage",
            "v3/pay-devices",
            "v3/offlineface",
            "v3/offlinefacemch",
            "v3/palmservice",
            "v3/facemch",
            "v3/express",
            "v3/gov",
            "v3/inspolicymgr",
            "v3/industry-rebate",
            "v3/webizpay",
            "v3/qrcode",
            "v3/repayment",
        ],
    },
    Group {
        variant: "Basics",
        name: "Basics",
        title: "基础能力",
        prefixes: &[
            "v3/certificates",
            "v3/merchant/media",
            "v3/security",
            "v3/capital",
            "v3/realname",
        ],
    },
    Group {
        variant: "ApiV2",
        name: "APIv2",
        title: "APIv2",
        prefixes: &["v2"],
    },
    Group {
        variant: "Other",
        name: "Other",
        title: "其他",
        prefixes: &[],
    },
];

/// One line of `endpoints.jsonl`.
#[derive(Deserialize)]
struct Row {
    api: String,
    method: String,
    template: String,
    title: String,
    description: Option<String>,
    page: String,
    docs: Vec<String>,
    request_fields: Vec<String>,
    response_fields: Vec<String>,
}

/// A row ready to print.
struct Entry {
    row: Row,
    /// Index into [`PRODUCTS`].
    product: usize,
}

const HEADER: &str = "@generated by tests/it/sourcegen.rs from endpoints.jsonl: do not edit; \
                      regenerate with `WECHATPAY_REGENERATE=1 cargo test --test sourcegen`";

const SCHEMA_HEADER: &str = "@generated by tests/it/sourcegen/schema.rs from schema.jsonl: do not \
                             edit; regenerate with `WECHATPAY_REGENERATE=1 cargo test --test it \
                             sourcegen`";

#[test]
fn generated_files_are_current() {
    let Some(corpus) = corpus_path() else {
        assert!(
            env::var_os("CI").is_none(),
            "sourcegen: no endpoint corpus (set WECHATPAY_ENDPOINTS or put shared/corpus/\
             endpoints.jsonl next to this repository); CI must check the generated files"
        );
        eprintln!(
            "sourcegen: no endpoint corpus found (set WECHATPAY_ENDPOINTS); generated/ not checked"
        );
        return;
    };
    let text = fs::read_to_string(&corpus)
        .unwrap_or_else(|e| panic!("sourcegen: cannot read {}: {e}", corpus.display()));
    let entries = entries(&text);
    let sibling = |name: &str| {
        let path = corpus.with_file_name(name);
        fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("sourcegen: cannot read {}: {e}", path.display()))
    };
    let (schema_text, webhooks_text) = (sibling("schema.jsonl"), sibling("webhooks.jsonl"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("generated");
    let regenerate = env::var_os("WECHATPAY_REGENERATE").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (name, content) in [
        ("endpoints.rs", endpoints_rs(&entries)),
        ("products.rs", products_rs()),
        ("templates.txt", templates_txt(&entries)),
        ("reference.md", reference_md(&entries)),
        (
            "schema.json",
            schema::schema_json(&schema_text, &text, &webhooks_text),
        ),
        (
            "encrypted.rs",
            schema::encrypted_rs(&schema_text, &text, SCHEMA_HEADER),
        ),
    ] {
        let path = root.join(name);
        let committed = fs::read_to_string(&path).unwrap_or_default();
        if committed.replace("\r\n", "\n") == content {
            continue;
        }
        if regenerate {
            fs::create_dir_all(&root).expect("sourcegen: create generated/");
            fs::write(&path, content).expect("sourcegen: write a generated file");
            eprintln!("sourcegen: rewrote {}", path.display());
        } else {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "sourcegen: {} out of date with {}:\n  {}\nrun `WECHATPAY_REGENERATE=1 cargo test \
         --test sourcegen` and commit the result",
        if stale.len() == 1 {
            "this file is"
        } else {
            "these files are"
        },
        corpus.display(),
        stale.join("\n  "),
    );
}

/// The corpus: `WECHATPAY_ENDPOINTS`, else the first `shared/corpus/endpoints.jsonl` in a
/// folder above the repository.
fn corpus_path() -> Option<PathBuf> {
    if let Some(path) = env::var_os("WECHATPAY_ENDPOINTS") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "sourcegen: WECHATPAY_ENDPOINTS names {}, which is not a file",
            path.display()
        );
        return Some(path);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .skip(1)
        .map(|dir| dir.join("shared/corpus/endpoints.jsonl"))
        .find(|path| path.is_file())
}

/// The rows of the corpus, as the SDK writes them, sorted by template then method.
fn entries(text: &str) -> Vec<Entry> {
    let mut entries: Vec<Entry> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(number, line)| {
            let mut row: Row = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("sourcegen: line {}: {e}", number + 1));
            row.template = sdk_template(&row.template);
            let product = product_of(&row.template);
            Entry { row, product }
        })
        .collect();
    entries.sort_by(|a, b| (&a.row.template, &a.row.method).cmp(&(&b.row.template, &b.row.method)));
    entries
}

/// A template as the SDK writes it: the docs' `_empty_` trick for a trailing slash
/// (`{empty}`) is the literal slash, since this SDK refuses an empty variable.
fn sdk_template(template: &str) -> String {
    template
        .split('/')
        .map(|s| if s == "{empty}" { "" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// The index in [`PRODUCTS`] of the longest prefix (in whole segments) of `template`.
fn product_of(template: &str) -> usize {
    let segments: Vec<&str> = template.split('/').collect();
    let mut best = (0, PRODUCTS.len() - 1);
    for (index, group) in PRODUCTS.iter().enumerate() {
        for prefix in group.prefixes {
            let prefix: Vec<&str> = prefix.split('/').collect();
            if segments.starts_with(&prefix) && prefix.len() > best.0 {
                best = (prefix.len(), index);
            }
        }
    }
    best.1
}

/// A Rust string literal.
fn lit(text: &str) -> String {
    format!("{text:?}")
}

fn list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|item| lit(item)).collect();
    format!("&[{}]", items.join(", "))
}

fn endpoints_rs(entries: &[Entry]) -> String {
    let mut out = format!("// {HEADER}\n[\n");
    for Entry { row, product } in entries {
        let api = if row.api == "v2" { "V2" } else { "V3" };
        let description = match &row.description {
            Some(text) => format!("Some({})", lit(text)),
            None => "None".to_owned(),
        };
        let _ = write!(
            out,
            "    Endpoint {{\n        api: Api::{api},\n        method: Method::{},\n        \
             template: {},\n        title: {},\n        description: {description},\n        \
             docs: {},\n        request_fields: {},\n        response_fields: {},\n        \
             product: Product::{},\n    }},\n",
            row.method,
            lit(&row.template),
            lit(&row.title),
            list(&row.docs),
            list(&row.request_fields),
            list(&row.response_fields),
            PRODUCTS[*product].variant,
        );
    }
    out.push_str("]\n");
    out
}

fn products_rs() -> String {
    let mut out = format!(
        "// {HEADER}\n\n/// A product group of WeChat Pay operations, derived from the path: the longest \
         prefix\n/// in the generator's table decides.\n\
         #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]\n\
         #[non_exhaustive]\npub enum Product {{\n"
    );
    let prefixes = |group: &Group| {
        let list: Vec<String> = group.prefixes.iter().map(|p| format!("`{p}`")).collect();
        if list.is_empty() {
            "no documented operation today".to_owned()
        } else {
            list.join(", ")
        }
    };
    for group in PRODUCTS {
        let _ = write!(
            out,
            "    /// {} ({}): {}.\n    {},\n",
            group.name,
            group.title,
            prefixes(group),
            group.variant
        );
    }
    out.push_str("}\n\nimpl Product {\n    /// Every product, in the order of the reference.\n");
    out.push_str("    pub const ALL: &'static [Product] = &[\n");
    for group in PRODUCTS {
        let _ = writeln!(out, "        Product::{},", group.variant);
    }
    out.push_str("    ];\n");
    let mut accessor = |doc: &str, name: &str, value: &dyn Fn(&Group) -> String, ty: &str| {
        let _ = write!(
            out,
            "\n    /// {doc}\n    pub const fn {name}(self) -> {ty} {{\n        match self {{\n"
        );
        for group in PRODUCTS {
            let _ = writeln!(
                out,
                "            Product::{} => {},",
                group.variant,
                value(group)
            );
        }
        out.push_str("        }\n    }\n");
    };
    accessor(
        "The English name, e.g. `\"Profit sharing\"`.",
        "name",
        &|g| lit(g.name),
        "&'static str",
    );
    accessor(
        "The Chinese name, e.g. `\"分账\"`.",
        "title",
        &|g| lit(g.title),
        "&'static str",
    );
    accessor(
        "The path prefixes (whole segments) that make an operation this product's.",
        "prefixes",
        &|g| {
            let items: Vec<String> = g.prefixes.iter().map(|p| lit(p)).collect();
            format!("&[{}]", items.join(", "))
        },
        "&'static [&'static str]",
    );
    out.push_str("}\n");
    out
}

fn templates_txt(entries: &[Entry]) -> String {
    let mut out = String::new();
    let mut last = None;
    for Entry { row, .. } in entries {
        if last != Some(&row.template) {
            out.push_str(&row.template);
            out.push('\n');
            last = Some(&row.template);
        }
    }
    out
}

fn reference_md(entries: &[Entry]) -> String {
    let v2 = entries.iter().filter(|e| e.row.api == "v2").count();
    let mut out = format!(
        "<!-- {HEADER} -->\n\nEvery documented WeChat Pay operation: {} ({} APIv3, {v2} APIv2), \
         grouped by product.\n\nEach entry gives the method, the path template, the title and \
         the official documentation, then the call in the declarative style: `json!` is \
         `serde_json::json!`, `…` stands for your values, and a path variable such as \
         `{{transaction_id}}` is filled from the option of that name. The same data is \
         available at run time through [`all`](crate::endpoints::all), \
         [`find`](crate::endpoints::find) and [`search`](crate::endpoints::search).\n\n",
        entries.len(),
        entries.len() - v2,
    );
    let mut groups: BTreeMap<usize, Vec<&Entry>> = BTreeMap::new();
    for entry in entries {
        groups.entry(entry.product).or_default().push(entry);
    }
    let contents: Vec<String> = groups
        .iter()
        .map(|(&p, list)| format!("{} ({})", PRODUCTS[p].name, list.len()))
        .collect();
    let _ = writeln!(out, "Products: {}.", contents.join(", "));
    for (product, list) in groups {
        let group = &PRODUCTS[product];
        let _ = write!(out, "\n## {} — {}\n\n", group.name, group.title);
        for Entry { row, .. } in list {
            let _ = write!(
                out,
                "- `{}` `{}` — {}{}\\\n  `{}`\n",
                row.method,
                row.template,
                escape_markdown(&row.title),
                doc_links(&row.docs),
                call(row),
            );
        }
    }
    out
}

fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' => {
                out.push('\\');
                out.push(ch);
            }
            _ => out.push(ch),
        }
    }
    out
}

/// ` · [merchant](…) · [partner](…)`: the first official link of each kind, at most three.
fn doc_links(docs: &[String]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = String::new();
    for url in docs {
        let label = if url.contains("/partner/") {
            "partner"
        } else if url.contains("/merchant/") {
            "merchant"
        } else if url.contains("/institution/") {
            "institution"
        } else if url.contains("/global/") {
            "global"
        } else {
            "docs"
        };
        if seen.contains(&label) || seen.len() == 3 {
            continue;
        }
        seen.push(label);
        let _ = write!(out, " · [{label}]({url})");
    }
    out
}

/// The declarative call for `row`, e.g.
/// `client["v3/pay/transactions/id/{transaction_id}"].get(json!({"transaction_id": "…", "query": {…}}))`.
fn call(row: &Row) -> String {
    let verb = row.method.to_ascii_lowercase();
    let segments: Vec<&str> = row.template.split('/').collect();
    let pages: Vec<&str> = row
        .page
        .trim_start_matches("openapi/")
        .trim_end_matches(".md")
        .split('/')
        .collect();
    // Path variables, in template order, with the docs' value where the page names one
    // (`{addinstitutionsub}` is `addInstitutionsub`).
    let variables: Vec<(&str, String)> = segments
        .iter()
        .enumerate()
        .filter(|(_, s)| s.len() > 2 && s.starts_with('{') && s.ends_with('}'))
        .map(|(i, s)| {
            let name = &s[1..s.len() - 1];
            let value = match pages.get(i) {
                Some(page) if !page.starts_with('{') && page.eq_ignore_ascii_case(name) => {
                    (*page).to_owned()
                }
                _ => "…".to_owned(),
            };
            (name, value)
        })
        .collect();
    let has = |field: &str| row.request_fields.iter().any(|f| f == field);
    let target = format!("client[\"{}\"].{verb}", row.template);
    if row.api == "v3" && has("body") {
        // A multipart upload: `Media` signs the `meta` part.
        let mut options = String::from("Options::new()");
        for (name, value) in &variables {
            let _ = write!(options, ".var(\"{name}\", \"{value}\")");
        }
        if has("headers") {
            options.push_str(".header(\"…\", \"…\")");
        }
        if has("base_uri") {
            options.push_str(".base_uri(\"…\")");
        }
        return if options == "Options::new()" {
            format!("{target}(Media::from_file(\"…\")?)")
        } else {
            format!("{target}({options}.media(Media::from_file(\"…\")?))")
        };
    }
    let mut fields: Vec<String> = variables
        .iter()
        .map(|(name, value)| format!("\"{name}\": \"{value}\""))
        .collect();
    for field in &row.request_fields {
        let value = match field.as_str() {
            "json" | "query" | "headers" | "xml" => "{…}",
            "body" | "base_uri" => "\"…\"",
            "security" | "nonceless" => "true",
            _ => continue, // path variables (above) and what is not an option
        };
        fields.push(format!("\"{field}\": {value}"));
    }
    if fields.is_empty() {
        format!("{target}(())")
    } else {
        format!("{target}(json!({{{}}}))", fields.join(", "))
    }
}
