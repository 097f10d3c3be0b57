//! The documented schema the sandbox checks requests against (`generated/schema.json`, read by
//! `src/schema/`) agrees with the public endpoint catalog (`wechatpay::endpoints`, generated
//! from another file of the same corpus): the same operations, each request option and path
//! variable the catalog lists has its fields, the same top-level answer fields; and every
//! field `generated/encrypted.rs` marks encrypted is a request field of its operation.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use wechatpay::endpoints::{self, Api};

fn generated(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("generated")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn schema() -> Value {
    serde_json::from_str(&generated("schema.json")).expect("schema.json is JSON")
}

fn operation<'a>(schema: &'a Value, method: &str, template: &str) -> Option<&'a Value> {
    schema["operations"]
        .as_array()?
        .iter()
        .find(|op| op["m"] == method && op["t"] == template)
}

fn names(fields: &Value) -> BTreeSet<String> {
    let list = fields.as_array().map(Vec::as_slice).unwrap_or_default();
    list.iter()
        .filter_map(|f| f["n"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn the_schema_has_every_operation_of_the_catalog_and_no_other() {
    let schema = schema();
    assert_eq!(
        schema["operations"].as_array().map(Vec::len),
        Some(endpoints::all().len())
    );
    for endpoint in endpoints::all() {
        let op = operation(&schema, endpoint.method().as_str(), endpoint.template());
        assert!(op.is_some(), "{endpoint} has no schema");
    }
}

#[test]
fn each_option_the_catalog_lists_has_its_fields() {
    let schema = schema();
    let mut json_bodies = 0;
    for endpoint in endpoints::all() {
        let op = operation(&schema, endpoint.method().as_str(), endpoint.template())
            .expect("in the schema");
        let takes = |option: &str| endpoint.request_fields().contains(&option);
        assert_eq!(takes("json"), op.get("j").is_some(), "{endpoint}: json");
        assert_eq!(
            takes("body"),
            op.get("u").is_some(),
            "{endpoint}: a multipart body"
        );
        if takes("json") {
            json_bodies += 1;
        }
        if op.get("x").is_some() {
            assert!(takes("xml") && endpoint.api() == Api::V2, "{endpoint}: xml");
        }
        if op.get("q").is_some() {
            assert!(takes("query"), "{endpoint}: query");
        }
        // A variable the docs describe is checked; the page's own literal
        // (`{addinstitutionsub}`) is no variable on the wire.
        let described = names(&op["v"]);
        for variable in endpoint.variables() {
            let literal = op.get("w").is_some_and(|w| {
                !w.as_str()
                    .unwrap_or_default()
                    .contains(&format!("{{{variable}}}"))
            });
            if endpoint.request_fields().contains(&variable) && !literal {
                assert!(described.contains(variable), "{endpoint}: {{{variable}}}");
            }
        }
    }
    assert!(json_bodies > 500, "{json_bodies} JSON bodies");
}

#[test]
fn the_answers_have_the_top_level_fields_the_catalog_lists() {
    let schema = schema();
    for endpoint in endpoints::all() {
        let op = operation(&schema, endpoint.method().as_str(), endpoint.template())
            .expect("in the schema");
        let catalog: BTreeSet<String> = endpoint
            .response_fields()
            .iter()
            .map(|f| f.trim_end_matches("[]").to_owned())
            .collect();
        assert_eq!(names(&op["r"]), catalog, "{endpoint}");
    }
}

#[test]
fn every_encrypted_field_is_a_documented_request_field() {
    let schema = schema();
    let table = generated("encrypted.rs");
    let mut entries = 0;
    let mut lines = table.lines();
    while let Some(line) = lines.next() {
        let Some(method) = line.trim().strip_prefix("method: Method::") else {
            continue;
        };
        let method = method.trim_end_matches(',');
        let value = |line: Option<&str>, key: &str| -> Value {
            let text = line.and_then(|l| l.trim().strip_prefix(key)).expect(key);
            let text = text.trim_end_matches(',').replace("&[", "[");
            serde_json::from_str(&text).expect("a literal")
        };
        let template = value(lines.next(), "template: ");
        let fields = value(lines.next(), "fields: ");
        let op = operation(&schema, method, template.as_str().expect("a template"))
            .unwrap_or_else(|| panic!("{method} {template}"));
        for path in fields.as_array().expect("a list") {
            let path = path.as_str().expect("a path");
            assert!(
                resolves(op, path),
                "{method} {template}: {path} is no request field"
            );
        }
        entries += 1;
    }
    assert!(entries > 100, "{entries} operations with encrypted fields");
}

/// Whether a documented dotted path (`json.payer.identity.number`, `xml.enc_bank_no`,
/// `query.card_no`, `[]` for array items) names a request field of `op`; one in a multipart
/// upload's `meta` (`body.meta.…`), whose fields the schema does not keep, names its upload.
fn resolves(op: &Value, path: &str) -> bool {
    let (option, rest) = path.split_once('.').unwrap_or((path, ""));
    let key = match option {
        "json" => "j",
        "query" => "q",
        "xml" => "x",
        "body" => return op.get("u").is_some(),
        _ => return false,
    };
    let mut fields = &op[key];
    for name in rest.split('.') {
        let name = name.trim_end_matches("[]");
        let list = fields.as_array().map(Vec::as_slice).unwrap_or_default();
        match list.iter().find(|f| f["n"] == name) {
            Some(field) => fields = &field["c"],
            None => return false,
        }
    }
    true
}
