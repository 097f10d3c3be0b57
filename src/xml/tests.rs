//! Tests of the APIv2 XML reader and writer.

use serde_json::{Map, Value, json};

use super::map::{MAX_DEPTH, MAX_ELEMENTS, element_name};
use super::*;
use crate::error::ErrorKind;

fn map(fields: &[(&str, &str)]) -> XmlMap {
    fields.iter().map(|&(k, v)| (k, v)).collect()
}

fn json_xml(value: Value) -> String {
    let Value::Object(fields) = value else {
        panic!("not an object: {value}")
    };
    to_xml(&fields).expect("writable")
}

fn parse_str(xml: &str) -> XmlMap {
    parse(xml.as_bytes()).expect("parses")
}

fn parse_err(xml: &[u8]) -> String {
    let err = parse(xml).expect_err("must fail");
    assert_eq!(err.kind(), ErrorKind::Decode);
    err.to_string()
}

const DETAIL: &str = r#"[{"goods_detail":"华为手机","url":"https://huawei.com"}]"#;

#[test]
fn php_vector_in_insertion_order() {
    let fields = map(&[
        ("appid", "wx2421b1c4370ec43b"),
        ("body", "dummybot"),
        ("mch_id", "10000100"),
        ("detail", DETAIL),
    ]);
    assert_eq!(
        to_xml_from(&fields).unwrap(),
        r#"<xml><appid>wx2421b1c4370ec43b</appid><body>dummybot</body><mch_id>10000100</mch_id><detail><![CDATA[[{"goods_detail":"华为手机","url":"https://huawei.com"}]]]></detail></xml>"#
    );
}

#[test]
fn php_vector_nested_detail() {
    let xml = json_xml(json!({
        "appid": "wx2421b1c4370ec43b",
        "detail": [{"goods_detail": "华为手机", "url": "https://huawei.com"}],
    }));
    assert_eq!(
        xml,
        "<xml><appid>wx2421b1c4370ec43b</appid><detail><item><goods_detail>华为手机</goods_detail>\
         <url>https://huawei.com</url></item></detail></xml>"
    );
}

#[test]
fn php_vector_scalars() {
    // PHP order is appid, finished, no, amount, f, n, e; serde_json sorts the keys.
    let xml = json_xml(json!({
        "appid": "wx2421b1c4370ec43b", "finished": true, "no": false, "amount": 100,
        "f": 1.5, "n": null, "e": "",
        "r": r#"{"type":"MERCHANT_ID","account":"190001001"}"#,
    }));
    assert_eq!(
        xml,
        r#"<xml><amount>100</amount><appid>wx2421b1c4370ec43b</appid><e></e><f>1.5</f><finished>1</finished><n></n><no></no><r><![CDATA[{"type":"MERCHANT_ID","account":"190001001"}]]></r></xml>"#
    );
}

#[test]
fn php_vector_names_and_cdata() {
    let fields = map(&[
        ("a b", "1"),
        ("1x", "2"),
        ("5", "3"),
        ("_ok", "4"),
        ("中文", "5"),
        ("a:b", "6"),
        ("q", "it's <b> & \"c\""),
        ("gt", "a>b"),
        ("amp", "a&b"),
        ("apos", "'"),
    ]);
    assert_eq!(
        to_xml_from(&fields).unwrap(),
        r#"<xml><item>1</item><item>2</item><item>3</item><_ok>4</_ok><中文>5</中文><a:b>6</a:b><q><![CDATA[it's <b> & "c"]]></q><gt><![CDATA[a>b]]></gt><amp><![CDATA[a&b]]></amp><apos>'</apos></xml>"#
    );
}

#[test]
fn element_names() {
    for good in ["a", "_", "中文", "a:b", "a.b-c_1", "Ünïcödé", "a:"] {
        assert_eq!(element_name(good), good);
    }
    for bad in [
        "", "a b", "1x", "5", "-a", ".a", ":a", "a/b", "a<b", "a\u{1}", "ª", "a\u{B7}",
    ] {
        assert_eq!(element_name(bad), "item", "{bad:?}");
    }
}

#[test]
fn php_vector_list_and_map() {
    assert_eq!(
        json_xml(json!({"list": ["a", "b"], "m": {"k": "v"}})),
        "<xml><list><item>a</item><item>b</item></list><m><k>v</k></m></xml>"
    );
    assert_eq!(
        json_xml(json!({"a": [["x", 1], []], "b": {}})),
        "<xml><a><item><item>x</item><item>1</item></item><item/></a><b/></xml>"
    );
}

#[test]
fn empty_documents() {
    assert_eq!(json_xml(json!({})), "<xml/>");
    assert_eq!(to_xml_from(&XmlMap::new()).unwrap(), "<xml/>");
    assert_eq!(
        json_xml(json!({"return_code": "SUCCESS", "return_msg": "OK"})),
        "<xml><return_code>SUCCESS</return_code><return_msg>OK</return_msg></xml>"
    );
}

#[test]
fn php_vector_carriage_return() {
    assert_eq!(
        json_xml(json!({"a": "line1\nline2\ttab\r"})),
        "<xml><a>line1\nline2\ttab&#13;</a></xml>"
    );
}

#[test]
fn php_vector_apiv2_request_body() {
    let fields = map(&[
        ("appid", "wxd930ea5d5a258f4f"),
        ("mch_id", "1230000109"),
        ("body", "test"),
        ("nonce_str", "ibuaiVcKdpRxkhJA"),
        ("device_info", "1000"),
        ("total_fee", "1"),
        ("detail", "<a&b>"),
        ("empty", ""),
        ("nul", ""),
        ("sign", "2A1DCB04779F27AF0EB5479E31D58E60"),
    ]);
    assert_eq!(
        to_xml_from(&fields).unwrap(),
        "<xml><appid>wxd930ea5d5a258f4f</appid><mch_id>1230000109</mch_id><body>test</body>\
         <nonce_str>ibuaiVcKdpRxkhJA</nonce_str><device_info>1000</device_info>\
         <total_fee>1</total_fee><detail><![CDATA[<a&b>]]></detail><empty></empty><nul></nul>\
         <sign>2A1DCB04779F27AF0EB5479E31D58E60</sign></xml>"
    );
    // The same from JSON, in sorted order, with a number and a null.
    assert_eq!(
        json_xml(json!({"total_fee": 1, "detail": "<a&b>", "nul": null, "empty": ""})),
        "<xml><detail><![CDATA[<a&b>]]></detail><empty></empty><nul></nul><total_fee>1</total_fee></xml>"
    );
}

#[test]
fn numbers_like_php() {
    let cases = [
        (json!(100), "100"),
        (json!(-7), "-7"),
        (json!(u64::MAX), "18446744073709551615"),
        (json!(1.5), "1.5"),
        (json!(2.0), "2"),
        (json!(-2.5), "-2.5"),
        (json!(0.1 + 0.2), "0.3"),
        (json!(1e20), "1.0E+20"),
        (json!(1.2345e20), "1.2345E+20"),
        (json!(-0.0), "-0"),
        (json!(0.0), "0"),
        (json!(1e13), "10000000000000"),
        (json!(1e14), "1.0E+14"),
        (json!(0.0001), "0.0001"),
        (json!(0.00001), "1.0E-5"),
        (json!(1.5e-7), "1.5E-7"),
        (json!(123456789.12345678), "123456789.12346"),
        (json!(99.99), "99.99"),
    ];
    for (value, expected) in cases {
        assert_eq!(
            json_xml(json!({ "n": value })),
            format!("<xml><n>{expected}</n></xml>"),
            "{value}"
        );
    }
}

#[test]
fn cdata_end_is_split() {
    assert_eq!(
        to_xml_from(&map(&[("c", "x]]>y")])).unwrap(),
        "<xml><c><![CDATA[x]]]]><![CDATA[>y]]></c></xml>"
    );
    assert_eq!(
        to_xml_from(&map(&[("c", "a<\r\nb")])).unwrap(),
        "<xml><c><![CDATA[a<]]>&#13;<![CDATA[\nb]]></c></xml>"
    );
}

#[test]
fn unrepresentable_characters_are_refused() {
    for bad in [
        "x\u{0}", "\u{1}", "a\u{8}", "\u{B}", "\u{C}", "\u{1F}", "\u{FFFE}", "\u{FFFF}",
    ] {
        let err = to_xml(json!({"a": {"b": [bad]}}).as_object().unwrap()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.to_string().contains("`a.b.0`"), "{err}");
        let err = to_xml_from(&map(&[("k", bad)])).unwrap_err();
        assert!(err.to_string().contains("`k`"), "{err}");
    }
    assert!(to_xml_from(&map(&[("k", "\t\n\r\u{D7FF}\u{E000}\u{FFFD}\u{10000}")])).is_ok());
}

#[test]
fn parses_fields_in_order() {
    let parsed = parse_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xml>\n  <return_code><![CDATA[SUCCESS]]></return_code>\n  \
         <return_msg>OK</return_msg>\n  <f> </f>\n  <g>\n 1 \n</g><e/><e2></e2></xml>\n",
    );
    let expected: XmlMap = [
        ("return_code", "SUCCESS"),
        ("return_msg", "OK"),
        ("f", " "),
        ("g", "\n 1 \n"),
        ("e", ""),
        ("e2", ""),
    ]
    .into_iter()
    .collect();
    assert_eq!(parsed, expected);
    assert_eq!(parsed.get_str("return_code"), Some("SUCCESS"));
    assert_eq!(parse_str("<xml/>"), XmlMap::new());
    assert_eq!(
        parse_str("<x:y><中文>1</中文><a.b-c·\u{300}>2</a.b-c·\u{300}></x:y>").len(),
        2
    );
    assert_eq!(parse(b"").unwrap(), XmlMap::new());
    assert_eq!(
        parse_str("\u{FEFF}<anything><a>1</a></anything>").get_str("a"),
        Some("1")
    );
}

#[test]
fn parses_text_like_php() {
    let parsed = parse_str(
        "<xml><a><![CDATA[<b>&amp;]]></a><b>&lt;&amp;&gt;&quot;&apos;&#x4E2D;&#25991;</b>\
         <c>x<![CDATA[<y>]]>z</c><d>1\r\n2\r3</d><e>&#13;</e><f>a\u{1}b\u{FFFE}c</f>\
         <g>1<!-- comment -->2<?pi x?>3</g></xml>",
    );
    assert_eq!(parsed.get_str("a"), Some("<b>&amp;"));
    assert_eq!(parsed.get_str("b"), Some("<&>\"'中文"));
    assert_eq!(parsed.get_str("c"), Some("x<y>z"));
    assert_eq!(parsed.get_str("d"), Some("1\n2\n3"));
    assert_eq!(parsed.get_str("e"), Some("\r"));
    assert_eq!(parsed.get_str("f"), Some("abc"));
    assert_eq!(parsed.get_str("g"), Some("123"));
}

#[test]
fn parses_nesting_lists_and_mixed_content() {
    let parsed = parse_str(
        "<xml><m>\n  <k>v</k>\n  <n><o/></n>\n</m><a>1</a><b/><a>2</a><a><x>3</x></a>\
         <mixed>x<b>1</b>y</mixed><attr id=\"1\" other='2'>t</attr></xml>",
    );
    let m = parsed.get("m").and_then(XmlValue::as_map).unwrap();
    assert_eq!(m.get_str("k"), Some("v"));
    assert_eq!(
        m.get("n").and_then(XmlValue::as_map).unwrap().get_str("o"),
        Some("")
    );
    let a = parsed.get("a").and_then(XmlValue::as_list).unwrap();
    assert_eq!(a.len(), 3);
    assert_eq!(a[0], XmlValue::from("1"));
    assert_eq!(a[1], XmlValue::from("2"));
    assert_eq!(a[2], XmlValue::Map(map(&[("x", "3")])));
    assert_eq!(parsed.get_str("mixed"), Some("xy"));
    assert_eq!(parsed.get_str("attr"), Some("t"));
    let keys: Vec<&str> = parsed.iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["m", "a", "b", "mixed", "attr"]);
    assert_eq!(
        parsed.to_json(),
        json!({"m": {"k": "v", "n": {"o": ""}}, "a": ["1", "2", {"x": "3"}], "b": "",
               "mixed": "xy", "attr": "t"})
    );
}

#[test]
fn fragment_injection_reads_as_a_list() {
    let parsed = parse_str(
        "<?xml version=\"1.0\"?>\n<transfer>\n\
         <payment><account>5678-attacker</account><rcpt>206-1234</rcpt><amount>100.00</amount>\
         <comment></comment></payment>\n\
         <payment><account>1234-victim</account><rcpt>206-1234</rcpt><amount>100.00</amount>\
         <comment>Hacked</comment></payment>\n</transfer>",
    );
    assert_eq!(
        parsed.to_json(),
        json!({"payment": [
            {"account": "5678-attacker", "rcpt": "206-1234", "amount": "100.00", "comment": ""},
            {"account": "1234-victim", "rcpt": "206-1234", "amount": "100.00", "comment": "Hacked"},
        ]})
    );
}

#[test]
fn getpublickey_answer() {
    let pem = "-----BEGIN RSA PUBLIC KEY-----\nMIIBCgKCAQEA\n-----END RSA PUBLIC KEY-----\n";
    let parsed = parse_str(&format!(
        "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg>\
         <result_code><![CDATA[SUCCESS]]></result_code><mch_id><![CDATA[1230000109]]></mch_id>\
         <pub_key><![CDATA[{pem}]]></pub_key></xml>"
    ));
    assert_eq!(parsed.len(), 5);
    assert_eq!(parsed.get_str("pub_key"), Some(pem));
}

#[test]
fn xxe_is_never_loaded() {
    let parsed = parse_str(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<!DOCTYPE foo [\n  <!ELEMENT foo ANY >\n  \
         <!ENTITY xxe SYSTEM \"file:///etc/passwd\" >]>\n<xml><value>&xxe;</value></xml>",
    );
    assert_eq!(parsed.to_json(), json!({"value": ""}));
    let parsed = parse_str(
        "<!DOCTYPE x [<!ENTITY net SYSTEM \"http://127.0.0.1:1/x\">]><xml><a>1&net;2</a></xml>",
    );
    assert_eq!(parsed.get_str("a"), Some("12"));
    // Without a DOCTYPE an unknown entity is an error.
    assert!(parse_err(b"<xml><value>&xxe;</value></xml>").contains("&xxe;"));
}

#[test]
fn billion_laughs_is_not_expanded() {
    let mut doc =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n");
    for level in 2..=9 {
        let previous = if level == 2 {
            "lol".to_owned()
        } else {
            format!("lol{}", level - 1)
        };
        let body = format!("&{previous};").repeat(10);
        doc.push_str(&format!(" <!ENTITY lol{level} \"{body}\">\n"));
    }
    doc.push_str("]>\n<xml><v>&lol9;</v><w>ok</w></xml>");
    let started = std::time::Instant::now();
    let parsed = parse_str(&doc);
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert_eq!(parsed.to_json(), json!({"v": "", "w": "ok"}));
}

#[test]
fn malformed_documents_fail() {
    let cases: &[(&[u8], &str)] = &[
        (b"<xml><a>&bad</a></xml>", "not well-formed"),
        (b"<xml><a>a & b</a></xml>", "not well-formed"),
        (b"<xml><a>1</b></xml>", "not well-formed"),
        (b"<xml><a>1</a>", "ends before </xml>"),
        (b"<xml><a>1", "ends before </a>"),
        (b"<xml></xml></xml>", "not well-formed"),
        (b"<xml/><xml/>", "more than one root"),
        (b"text<xml/>", "outside its root"),
        (b"<xml/>text", "outside its root"),
        (b"<xml/>&amp;", "outside its root"),
        (b"<xml/><![CDATA[x]]>", "outside its root"),
        (b"<xml/><!DOCTYPE x>", "DOCTYPE"),
        (b"   ", "no root element"),
        (b"<!-- only a comment -->", "no root element"),
        (b"{\"code\":\"PARAM_ERROR\"}", "outside its root"),
        (b"<xml><a>\xB2\xE2</a></xml>", "not valid UTF-8"),
        (b"<xml><a>&#1;</a></xml>", "character XML cannot carry"),
        (b"<xml><a>&#0;</a></xml>", "character XML cannot carry"),
        (b"<xml><a>&#xFFFF;</a></xml>", "character XML cannot carry"),
        (
            b"<xml><a>&#x110000;</a></xml>",
            "character XML cannot carry",
        ),
        (b"<xml><a>&#xZZ;</a></xml>", "character XML cannot carry"),
        (b"<xml><a>&undefined;</a></xml>", "undefined entity"),
        (b"<xml><a b=1>x</a></xml>", "malformed attribute"),
        (b"<xml><1a>x</1a></xml>", "not an XML name"),
        (b"<xml><a\"b>x</a\"b></xml>", "not an XML name"),
        (
            b"<xml><a b=\"1\" b=\"2\">x</a></xml>",
            "malformed attribute",
        ),
        (b"<xml><!-- a -- b --></xml>", "not well-formed"),
        (b"<xml><![CDATA[x</xml>", "not well-formed"),
    ];
    for (xml, expected) in cases {
        let message = parse_err(xml);
        assert!(
            message.contains(expected),
            "{:?}: {message}",
            String::from_utf8_lossy(xml)
        );
    }
}

#[test]
fn html_pages_fail() {
    let nginx = b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n\
        <center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    parse_err(nginx);
    let mismatch = b"<!DOCTYPE html>\n<html>\n<head>\n<titles>Not Found</title>\n</head>\n</html>";
    assert!(parse_err(mismatch).contains("not well-formed"));
}

#[test]
fn nesting_is_limited() {
    let nested = |depth: usize| format!("{}x{}", "<a>".repeat(depth), "</a>".repeat(depth));
    assert!(parse(nested(MAX_DEPTH).as_bytes()).is_ok());
    let many = format!("<xml>{}</xml>", "<a/>".repeat(MAX_ELEMENTS));
    assert!(parse_err(many.as_bytes()).contains("elements"));
    assert!(parse_err(nested(MAX_DEPTH + 1).as_bytes()).contains("deep"));
    assert!(parse_err(format!("<a>{}", "<a/>".repeat(10)).as_bytes()).contains("ends before"));
    let deep = "<a>".repeat(100_000);
    assert!(parse_err(deep.as_bytes()).contains("deep"));
}

#[test]
fn truncated_documents_never_panic() {
    let doc = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"v\">]><xml a=\"1\"><b><![CDATA[<c>]]>\
               &amp;&#x4E2D;&e;中</b><!-- c --><d><e/></d></xml>";
    assert_eq!(parse_str(doc).get_str("b"), Some("<c>&中中"));
    for end in 0..doc.len() {
        let _ = parse(&doc.as_bytes()[..end]);
    }
    for start in 0..doc.len() {
        let _ = parse(&doc.as_bytes()[start..]);
    }
}

const TRICKY: &[&str] = &[
    "",
    " ",
    "  leading and trailing  ",
    "]]>",
    "]]]]>",
    "x]]>y]]>z",
    "]",
    "]]",
    "<",
    ">",
    "&",
    "\"",
    "'",
    "&amp;",
    "&lt;b&gt;",
    "<![CDATA[",
    "<![CDATA[x]]>",
    "<a>&b</a>",
    "中文 华为手机",
    "emoji 🦀",
    "line1\nline2",
    "\ttab",
    "cr\r",
    "\r\n",
    "\r",
    "a<\r\nb]]>\r",
    "&#13;",
    "{\"a\":[1,2]}",
    "\u{FFFD}\u{10FFFF}",
];

#[test]
fn tricky_values_round_trip() {
    for value in TRICKY {
        let fields = map(&[("a", value), ("b", "after")]);
        let xml = to_xml_from(&fields).unwrap();
        assert_eq!(parse(xml.as_bytes()).unwrap(), fields, "{value:?} as {xml}");
    }
    // All at once, nested, repeated and from JSON.
    let mut nested = XmlMap::new();
    nested.insert(
        "list",
        XmlValue::List(TRICKY.iter().map(|&v| v.into()).collect()),
    );
    nested.insert("inner", map(&[("x", "]]><")]));
    let fields: XmlMap = [("outer", XmlValue::Map(nested)), ("z", "1".into())]
        .into_iter()
        .collect();
    let xml = to_xml_from(&fields).unwrap();
    assert_eq!(parse(xml.as_bytes()).unwrap(), fields);
    let object: Map<String, Value> = TRICKY
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("k{i}"), Value::from(*v)))
        .collect();
    let xml = to_xml(&object).unwrap();
    assert_eq!(
        parse(xml.as_bytes()).unwrap().to_json(),
        Value::Object(object)
    );
}

#[test]
fn map_api() {
    let mut fields = map(&[("a", "1"), ("b", "2")]);
    assert_eq!(fields.insert("a", "3"), Some(XmlValue::from("1")));
    assert_eq!(fields.insert("c", "4"), None);
    assert_eq!(fields, map(&[("a", "3"), ("b", "2"), ("c", "4")]));
    assert_eq!(fields.remove("b"), Some(XmlValue::from("2")));
    assert_eq!(fields.remove("b"), None);
    assert_eq!(fields.len(), 2);
    assert!(!fields.is_empty());
    assert_eq!(fields.get("zz"), None);
    let collected: XmlMap = [("k", "1"), ("k", "2")].into_iter().collect();
    assert_eq!(collected, map(&[("k", "2")]));
    let keys: Vec<&str> = (&fields).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["a", "c"]);
    let owned: Vec<(String, XmlValue)> = fields.into_iter().collect();
    assert_eq!(owned[0], ("a".to_owned(), XmlValue::from("3")));
    let list = XmlValue::List(vec!["1".into(), XmlValue::Map(XmlMap::new())]);
    assert_eq!(list.to_json(), json!(["1", {}]));
    assert_eq!(list.as_str(), None);
    // Lists write as repeated elements; empty lists write nothing; nested lists flatten.
    let fields: XmlMap = [
        ("a", list),
        ("e", XmlValue::List(Vec::new())),
        (
            "n",
            XmlValue::List(vec![XmlValue::List(vec!["x".into()]), "y".into()]),
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        to_xml_from(&fields).unwrap(),
        "<xml><a>1</a><a/><n>x</n><n>y</n></xml>"
    );
}

/// Best of three runs of `parse(xml)`.
fn best_parse_time(xml: &[u8]) -> std::time::Duration {
    (0..3)
        .map(|_| {
            let started = std::time::Instant::now();
            parse(xml).expect("parses");
            started.elapsed()
        })
        .min()
        .unwrap_or_default()
}

#[test]
fn distinct_sibling_names_parse_in_linear_time() {
    // 9,999 siblings: distinct names cost what repeated ones cost (a name index, not a scan
    // of the siblings read so far, which made this 60 times slower). The bound is generous.
    let siblings = 9_999;
    let distinct: String = (0..siblings).map(|i| format!("<f{i}>v</f{i}>")).collect();
    let repeated: String = (0..siblings)
        .map(|_| "<f0000>v</f0000>".to_owned())
        .collect();
    let distinct = format!("<xml>{distinct}</xml>");
    let repeated = format!("<xml>{repeated}</xml>");
    assert_eq!(parse(distinct.as_bytes()).unwrap().len(), siblings);
    let fast = best_parse_time(repeated.as_bytes());
    let slow = best_parse_time(distinct.as_bytes());
    assert!(
        slow < fast * 8 + std::time::Duration::from_millis(20),
        "distinct names: {slow:?}, repeated: {fast:?}"
    );
}
