//! The generator of the documented schema: `generated/schema.json` (feature `sandbox`) and
//! `generated/encrypted.rs` (the default build), from `schema.jsonl`, `webhooks.jsonl` and
//! `endpoints.jsonl` (for the four operations whose schema row has no template).
//!
//! `schema.json` is read at run time by `src/schema/` (`include_str!`, parsed on first use,
//! its strings borrowed): one operation or notification per line, short keys, descriptions
//! dropped but for a short label per request field (the name in WeChat Pay's `PARAM_ERROR`
//! messages). Its format is documented in `src/schema/data.rs`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde_json::{Map, Value, json};

/// One field of the docs' tables, as the generator reads it.
struct Row<'a> {
    /// The dotted path, `[]` marking an array's items.
    path: &'a str,
    field: &'a Value,
}

/// `schema.json`: the operations, then the notifications.
pub(super) fn schema_json(schema: &str, endpoints: &str, webhooks: &str) -> String {
    let mut out = String::from("{\"operations\":[\n");
    let operations = operations(schema, endpoints);
    for (index, operation) in operations.iter().enumerate() {
        let separator = if index + 1 == operations.len() {
            ""
        } else {
            ","
        };
        let _ = writeln!(out, "{}{separator}", line(operation));
    }
    out.push_str("],\"webhooks\":[\n");
    let webhooks = notifications(webhooks);
    for (index, webhook) in webhooks.iter().enumerate() {
        let separator = if index + 1 == webhooks.len() { "" } else { "," };
        let _ = writeln!(out, "{}{separator}", line(webhook));
    }
    out.push_str("]}\n");
    out
}

/// `encrypted.rs`: the request fields the docs mark encrypted, per operation.
pub(super) fn encrypted_rs(schema: &str, endpoints: &str, header: &str) -> String {
    let mut table: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for row in rows(schema) {
        let template = template_of(&row, endpoints);
        let method = text(&row["method"]).to_owned();
        for field in list(&row["request"]) {
            if field["encrypted"] == Value::Bool(true) {
                let paths = table.entry((template.clone(), method.clone())).or_default();
                let path = text(&field["path"]).to_owned();
                if !paths.contains(&path) {
                    paths.push(path);
                }
            }
        }
    }
    let mut out = format!("// {header}\n[\n");
    for ((template, method), paths) in table {
        let paths: Vec<String> = paths.iter().map(|p| format!("{p:?}")).collect();
        let _ = writeln!(
            out,
            "    Encrypted {{\n        method: Method::{method},\n        template: {template:?},\n        \
             fields: &[{}],\n    }},",
            paths.join(", ")
        );
    }
    out.push_str("]\n");
    out
}

/// A JSON value on one line, checked to need no escape: the runtime borrows its strings.
fn line(value: &Value) -> String {
    let text = serde_json::to_string(value).expect("sourcegen: serialise a schema line");
    assert!(
        !text.contains('\\'),
        "sourcegen: a schema string needs an escape, which the runtime cannot borrow: {text}"
    );
    text
}

fn rows(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(number, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("sourcegen: schema line {}: {e}", number + 1))
        })
        .collect()
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

fn list(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// The template as the SDK writes it (the catalog's: `{empty}` is the literal trailing
/// slash), from `endpoints.jsonl` where the schema row has none.
fn template_of(row: &Value, endpoints: &str) -> String {
    let template = match row["template"].as_str() {
        Some(template) => template.to_owned(),
        None => {
            let page = text(&row["page"]);
            rows(endpoints)
                .into_iter()
                .find(|e| e["page"] == page && e["method"] == row["method"])
                .and_then(|e| e["template"].as_str().map(str::to_owned))
                .unwrap_or_else(|| panic!("sourcegen: no template for {page}"))
        }
    };
    super::sdk_template(&template)
}

/// The path on the wire, as a template: a variable the docs name after the page's own
/// segment (`v2/secapi/mch/{addinstitutionsub}` on page `…/addInstitutionsub.md`) is that
/// literal, as the catalog's reference writes the call.
fn wire_template(template: &str, page: &str) -> String {
    let pages: Vec<&str> = page
        .trim_start_matches("openapi/")
        .trim_end_matches(".md")
        .split('/')
        .collect();
    template
        .split('/')
        .enumerate()
        .map(|(i, segment)| match pages.get(i) {
            Some(page)
                if is_variable(segment)
                    && !page.starts_with('{')
                    && page.eq_ignore_ascii_case(&segment[1..segment.len() - 1]) =>
            {
                (*page).to_owned()
            }
            _ => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn is_variable(segment: &str) -> bool {
    segment.len() > 2 && segment.starts_with('{') && segment.ends_with('}')
}

/// The operations, sorted by template then method.
fn operations(schema: &str, endpoints: &str) -> Vec<Value> {
    let mut operations: Vec<(String, String, Value)> = rows(schema)
        .iter()
        .map(|row| {
            let template = template_of(row, endpoints);
            let method = text(&row["method"]).to_owned();
            let operation = operation(row, &method, &template);
            (template, method, operation)
        })
        .collect();
    operations.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    operations.into_iter().map(|(_, _, op)| op).collect()
}

fn operation(row: &Value, method: &str, template: &str) -> Value {
    let wire = wire_template(template, text(&row["page"]));
    let variables: Vec<&str> = wire
        .split('/')
        .filter(|s| is_variable(s))
        .map(|s| &s[1..s.len() - 1])
        .collect();
    let request: Vec<Row> = list(&row["request"])
        .iter()
        .map(|field| Row {
            path: text(&field["path"]),
            field,
        })
        .collect();
    let mut op = Map::new();
    op.insert("m".into(), json!(method));
    op.insert("t".into(), json!(template));
    if wire != template {
        op.insert("w".into(), json!(wire));
    }
    let prefixes: Vec<String> = request
        .iter()
        .filter(|r| r.path == "base_uri")
        .filter_map(|r| base_path(text(&r.field["description"])))
        .collect();
    if !prefixes.is_empty() {
        op.insert("p".into(), json!(prefixes));
    }
    let top = |name: &str| request.iter().find(|r| r.path == name);
    if let Some(json_root) = top("json") {
        op.insert("j".into(), Value::Array(tree(&request, "json", true)));
        if json_root.field["required"] == Value::Bool(true) {
            op.insert("jr".into(), json!(1));
        }
    }
    for (option, key) in [("query", "q"), ("xml", "x")] {
        // APIv2 fields travel as text; the docs' nesting under them is JSON inside one
        // field's text, which the check does not open: their top level only.
        let mut fields = tree(&request, option, true);
        if option == "xml" {
            for field in &mut fields {
                if let Some(object) = field.as_object_mut() {
                    object.remove("c");
                }
            }
        }
        if !fields.is_empty() {
            op.insert(key.into(), Value::Array(fields));
        }
    }
    // A top-level field that is neither an option nor a variable of this template (the docs
    // of `GET v3/global/papay/transactions/out-trade-no/{out_trade_no}` list
    // `transaction_id`, the variable of its sibling page) cannot be on the wire: dropped.
    let path_fields: Vec<Value> = request
        .iter()
        .filter(|r| variables.contains(&r.path))
        .map(|r| field(r, r.path, true, Vec::new()))
        .collect();
    if !path_fields.is_empty() {
        op.insert("v".into(), Value::Array(path_fields));
    }
    if top("body").is_some() {
        op.insert("u".into(), json!(1));
    }
    let response: Vec<Row> = list(&row["response"])
        .iter()
        .map(|field| Row {
            path: text(&field["path"]),
            field,
        })
        .collect();
    let response = tree(&response, "", false);
    if !response.is_empty() {
        op.insert("r".into(), Value::Array(response));
    }
    Value::Object(op)
}

/// The path of a documented access point below its host: `hk` for
/// `https://api.mch.weixin.qq.com/hk/`, none for `https://apihk.mch.weixin.qq.com/`.
fn base_path(description: &str) -> Option<String> {
    let start = description.find("`https://")? + "`https://".len();
    let url = &description[start..];
    let url = &url[..url.find('`')?];
    let path = url.split_once('/')?.1.trim_matches('/');
    (!path.is_empty()).then(|| path.to_owned())
}

/// The fields under `root` (`json`, `query`, `xml`; `""` for the whole list) as a tree: an
/// object's children under `c`, an array's items' fields under `c` too.
fn tree(rows: &[Row], root: &str, request: bool) -> Vec<Value> {
    // Children of each parent path (without `[]`), in the docs' order; a repeated path
    // (a few APIv2 tables list a nested group twice) counts once.
    let mut children: HashMap<String, Vec<&Row>> = HashMap::new();
    let mut seen: Vec<&str> = Vec::new();
    for row in rows {
        let relative = if root.is_empty() {
            row.path
        } else {
            match row
                .path
                .strip_prefix(root)
                .and_then(|p| p.strip_prefix('.'))
            {
                Some(relative) => relative,
                None => continue,
            }
        };
        if seen.contains(&row.path) {
            continue;
        }
        seen.push(row.path);
        let parent = match relative.rsplit_once('.') {
            Some((parent, _)) => parent.replace("[]", ""),
            None => String::new(),
        };
        children.entry(parent).or_default().push(row);
    }
    build(&children, "", request)
}

fn build(children: &HashMap<String, Vec<&Row>>, parent: &str, request: bool) -> Vec<Value> {
    let Some(rows) = children.get(parent) else {
        return Vec::new();
    };
    rows.iter()
        .map(|row| {
            let name = row.path.rsplit('.').next().unwrap_or_default();
            let name = name.trim_end_matches("[]");
            let key = if parent.is_empty() {
                name.to_owned()
            } else {
                format!("{parent}.{name}")
            };
            field(row, name, request, build(children, &key, request))
        })
        .collect()
}

fn field(row: &Row, name: &str, request: bool, children: Vec<Value>) -> Value {
    let mut out = Map::new();
    out.insert("n".into(), json!(name));
    let ty = text(&row.field["type"]);
    if ty != "string" {
        out.insert("t".into(), json!(ty));
    }
    if row.field["required"] == Value::Bool(true) {
        out.insert("r".into(), json!(1));
    }
    if request {
        let label = label(text(&row.field["description"]), name);
        if label != name {
            out.insert("l".into(), json!(label));
        }
    }
    if let Some(values) = row.field["enum"].as_array().filter(|v| !v.is_empty()) {
        out.insert("e".into(), Value::Array(values.clone()));
    }
    if !children.is_empty() {
        out.insert("c".into(), Value::Array(children));
    }
    Value::Object(out)
}

/// The field's name in the docs' words, as WeChat Pay's messages quote it (`“用户标识”`):
/// the description up to its first break or punctuation, at most 20 characters; the field's
/// own name when the description starts with markup.
fn label(description: &str, name: &str) -> String {
    let first = description.split("<br/>").next().unwrap_or_default();
    let cut = first
        .find([
            '，', '。', '（', '(', '；', ';', ',', ' ', '：', ':', '、', '`', '*', '[',
        ])
        .unwrap_or(first.len());
    let label: String = first[..cut]
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\\' | '“' | '”'))
        .take(20)
        .collect();
    if label.trim().is_empty() {
        name.to_owned()
    } else {
        label.trim().to_owned()
    }
}

/// The documented notifications: one per page, plus each further event type a page lists
/// (`event_type_enum`) that no page of its own documents; sorted by protocol then type.
fn notifications(corpus: &str) -> Vec<Value> {
    let pages = rows(corpus);
    let by_page: HashMap<&str, &Value> = pages
        .iter()
        .map(|p| (text_of(&p["page"]).trim_end_matches(".md"), p))
        .collect();
    let own: Vec<(String, String)> = pages.iter().map(|p| (api(p), event_of(p))).collect();
    let mut out: BTreeMap<(String, String), Value> = BTreeMap::new();
    for page in &pages {
        // A page that moved ("Moved to /webhook/v3/…") keeps its event type, with the
        // fields of the page it moved to.
        let source = page["redirect"]
            .as_str()
            .and_then(|target| by_page.get(target.trim_start_matches('/')).copied())
            .unwrap_or(page);
        let mut events = vec![event_of(page)];
        for extra in list(&page["event_type_enum"]) {
            let extra = text(extra).to_owned();
            if !events.contains(&extra) && !own.contains(&(api(page), extra.clone())) {
                events.push(extra);
            }
        }
        for event in events {
            let key = (api(page), event.clone());
            if out.contains_key(&key) {
                continue;
            }
            let mut webhook = Map::new();
            webhook.insert("e".into(), json!(event));
            if api(page) == "v2" {
                webhook.insert("v2".into(), json!(1));
            }
            webhook.insert("t".into(), json!(text(&page["title"])));
            let (fields, encrypted) = sample_fields(source);
            if let Some(encrypted) = encrypted {
                webhook.insert("x".into(), json!(encrypted));
            }
            webhook.insert("f".into(), Value::Array(fields));
            out.insert(key, Value::Object(webhook));
        }
    }
    out.into_values().collect()
}

fn text_of(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

fn api(page: &Value) -> String {
    text(&page["api"]).to_owned()
}

/// The page's event type; for the APIv2 pages that name none, the page's own name
/// (`refund-processed`).
fn event_of(page: &Value) -> String {
    page["event_type"]
        .as_str()
        .or_else(|| page["event_slug"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// The fields a sample is made of: APIv3, the decrypted resource (or, where the page gives
/// none, the resource's plain `original_data`); APIv2, the body's fields, with the encrypted
/// one's decrypted fields as its children (and its name).
fn sample_fields(page: &Value) -> (Vec<Value>, Option<String>) {
    let decrypted = by_indent(list(&page["decrypted_resource"]));
    if api(page) == "v3" {
        if !decrypted.is_empty() {
            return (decrypted, None);
        }
        let body = by_indent(list(&page["body"]));
        return (find_children(&body, "original_data"), None);
    }
    let mut body = by_indent(list(&page["body"]));
    let encrypted = list(&page["encrypted_fields"])
        .first()
        .and_then(|e| e["name"].as_str())
        .map(str::to_owned);
    if let Some(name) = &encrypted {
        for field in &mut body {
            if field["n"] == name.as_str() {
                field["t"] = json!("object");
                field["c"] = Value::Array(decrypted.clone());
            }
        }
    }
    (body, encrypted)
}

fn find_children(fields: &[Value], name: &str) -> Vec<Value> {
    for field in fields {
        if field["n"] == name {
            return list(&field["c"]).to_vec();
        }
        let found = find_children(list(&field["c"]), name);
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
}

/// A notification page's field rows (`name`, `type`, `required`, `enum`, nesting by
/// `indent`) as a tree; the shallowest rows are the top level.
fn by_indent(rows: &[Value]) -> Vec<Value> {
    let fields: Vec<(u64, Value)> = rows
        .iter()
        .filter(|r| r["kind"] == "field" && r["name"].is_string())
        .map(|r| {
            let path = text(&r["name"]);
            let row = Row { path, field: r };
            (
                r["indent"].as_u64().unwrap_or(0),
                field(&row, path, false, Vec::new()),
            )
        })
        .collect();
    let top = fields.iter().map(|(indent, _)| *indent).min().unwrap_or(0);
    nest(&fields, top).0
}

/// The fields from the start of `fields` at `indent`, each with the deeper ones that follow
/// it as children; and how many rows they took.
fn nest(fields: &[(u64, Value)], indent: u64) -> (Vec<Value>, usize) {
    let mut out = Vec::new();
    let mut i = 0;
    while i < fields.len() && fields[i].0 >= indent {
        if fields[i].0 > indent {
            // Deeper than its level with no parent: lift it.
            let (lifted, used) = nest(&fields[i..], fields[i].0);
            out.extend(lifted);
            i += used;
            continue;
        }
        let mut field = fields[i].1.clone();
        i += 1;
        if i < fields.len() && fields[i].0 > indent {
            let (children, used) = nest(&fields[i..], fields[i].0);
            field["c"] = Value::Array(children);
            i += used;
        }
        out.push(field);
    }
    (out, i)
}
