//! The JSON wire contract, read back both as untyped JSON (what a `jq` user sees) and through the
//! crate's reading side, `SavedAudit` (what `plan --from` and a Rust consumer see).

mod common;

use common::*;
use keywarden_core::AccountExtras;
use keywarden_output::json::{
    Credential, EvidenceValue, SavedAudit, Severity, Status, SCHEMA_VERSION,
};
use keywarden_output::{DataSource, Format};
use serde_json::{json, Value};

fn document() -> (String, Value) {
    let outcome = outcome();
    let text = render(Format::Json, &report(&outcome, file_source()));
    let value = serde_json::from_str(&text).unwrap();
    (text, value)
}

#[test]
fn top_level_fields() {
    let (text, doc) = document();
    assert!(
        text.ends_with("}\n") && !text.ends_with("\n\n"),
        "pretty, one trailing newline"
    );
    assert!(
        text.starts_with("{\n  \"schema_version\": \"1.1\",\n"),
        "pretty-printed, version first"
    );
    assert_eq!(doc["schema_version"], SCHEMA_VERSION);
    assert_eq!(
        doc["tool"],
        json!({"name": "keywarden", "version": "0.1.0"})
    );
    assert_eq!(doc["generated_at"], "2024-06-01T00:00:00Z");
    assert_eq!(doc["data_as_of"], "2024-05-31T21:00:00Z");
    assert_eq!(
        doc["data_source"],
        json!({
            "kind": "credential-report-file",
            "location": "./r.csv",
            "as_of_basis": "--report-time",
            "age_seconds": 10800,
        })
    );
    assert_eq!(doc["preset"], "default");
    assert_eq!(
        doc["summary"],
        json!({
            "users_evaluated": 4,
            "root_row_seen": true,
            "rules_run": ["KEY001", "KEY002", "KEY003", "KEY004", "KEY005", "PWD001", "PWD002",
                          "PWD003", "ROOT001", "ROOT002", "TRAIL001"],
            "fail": 4,
            "unknown": 2,
            "exempted": 1,
        })
    );
}

#[test]
fn findings_are_sorted_worst_first() {
    let (_, doc) = document();
    let order: Vec<(String, String, Value)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_owned(),
                f["rule"].as_str().unwrap().to_owned(),
                f["user"].clone(),
            )
        })
        .collect();
    let expected = [
        ("high", "PWD002", json!("bob")),
        ("high", "TRAIL001", Value::Null),
        ("medium", "KEY001", json!("alice")),
        ("medium", "KEY001", json!("ci-bot")),
        ("medium", "KEY002", json!("alice")),
        ("medium", "KEY002", json!("ci-bot")),
        ("medium", "PWD003", Value::Null),
    ];
    let expected: Vec<(String, String, Value)> = expected
        .into_iter()
        .map(|(s, r, u)| (s.to_owned(), r.to_owned(), u))
        .collect();
    assert_eq!(order, expected);
}

#[test]
fn every_finding_has_every_field_with_nulls_not_omissions() {
    let (_, doc) = document();
    let fields = [
        "rule",
        "name",
        "severity",
        "status",
        "account",
        "user",
        "credential",
        "access_key_id",
        "message",
        "evidence",
        "exemption",
        "ignored_exemption",
    ];
    for finding in doc["findings"].as_array().unwrap() {
        let object = finding.as_object().unwrap();
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut want = fields.to_vec();
        want.sort_unstable();
        assert_eq!(keys, want, "exactly the documented fields");
        assert!(finding["evidence"].is_object());
        // A report file has no key ids.
        assert_eq!(finding["access_key_id"], Value::Null);
    }
}

#[test]
fn failing_finding_with_typed_evidence() {
    let (text, doc) = document();
    let alice = &doc["findings"][2];
    assert_eq!(alice["rule"], "KEY001");
    assert_eq!(alice["name"], "unused-access-key");
    assert_eq!(alice["severity"], "medium");
    assert_eq!(alice["status"], "fail");
    assert_eq!(alice["account"], "123456789012");
    assert_eq!(alice["credential"], "access_key_1");
    assert_eq!(
        alice["message"],
        "active access key unused for 121 days (limit 45)"
    );
    assert_eq!(alice["exemption"], Value::Null);
    assert_eq!(alice["ignored_exemption"], Value::Null);
    let evidence = &alice["evidence"];
    assert_eq!(evidence["active"], json!(true), "Bool is a boolean");
    assert_eq!(
        evidence["created"],
        json!("2024-01-01T00:00:00Z"),
        "Time is RFC 3339"
    );
    assert_eq!(evidence["last_used"], json!("2024-02-01T00:00:00Z"));
    assert_eq!(
        evidence["last_used_service"],
        json!("s3"),
        "Text is a string"
    );
    assert_eq!(evidence["days_unused"], json!(121), "Integer is a number");
    assert!(evidence["days_unused"].is_i64());
    // Evidence keeps the rule's order in the text itself, not just in some map.
    let at = |key: &str| text.find(&format!("\"{key}\": ")).unwrap();
    assert!(
        at("active") < at("created")
            && at("created") < at("last_used")
            && at("last_used") < at("days_unused")
    );

    let ci_bot = &doc["findings"][3];
    assert_eq!(
        ci_bot["evidence"]["last_used"],
        Value::Null,
        "a never-used key's last use is null"
    );
}

#[test]
fn exempted_and_ignored_exemptions() {
    let (_, doc) = document();
    let ci_bot = &doc["findings"][3];
    assert_eq!(ci_bot["status"], "exempted");
    assert_eq!(
        ci_bot["exemption"],
        json!({
            "reason": "CI migration, see \"OPS-12\"",
            "source": "config:exemption[0]",
            "expires": "2024-12-31T23:59:59Z",
        })
    );
    let bob = &doc["findings"][0];
    assert_eq!(bob["status"], "fail", "an expired exemption does not apply");
    assert_eq!(bob["exemption"], Value::Null);
    assert_eq!(
        bob["ignored_exemption"],
        json!({
            "reason": "expired: MFA rollout",
            "source": "config:exemption[1]",
            "expires": "2024-03-31T23:59:59Z",
        })
    );
}

#[test]
fn unknown_account_wide_finding() {
    let (_, doc) = document();
    let trail = &doc["findings"][1];
    assert_eq!(trail["rule"], "TRAIL001");
    assert_eq!(trail["status"], "unknown");
    assert_eq!(trail["user"], Value::Null);
    assert_eq!(trail["credential"], "account");
    assert_eq!(
        trail["evidence"]["unknown_reason"],
        "a credential report does not include CloudTrail trails; audit the live account"
    );
}

#[test]
fn unknown_age_and_account_are_null() {
    // No account id in the ARN (a filtered export): the account is null, not "".
    let rows = ["dave,N/A,2023-01-01T00:00:00+00:00,true,2024-05-30T00:00:00+00:00,2024-01-01T00:00:00+00:00,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"];
    let outcome = audit(
        &rows,
        &Default::default(),
        AccountExtras::unknown_from_report_file(),
    );
    let source = DataSource {
        kind: "credential-report-file",
        location: "-".into(),
        as_of: None,
        as_of_basis: "unknown for standard input (pass --report-time)".into(),
    };
    let doc: Value =
        serde_json::from_str(&render(Format::Json, &report(&outcome, source))).unwrap();
    assert_eq!(doc["data_as_of"], Value::Null);
    assert_eq!(doc["data_source"]["age_seconds"], Value::Null);
    assert_eq!(
        doc["data_source"]["as_of_basis"],
        "unknown for standard input (pass --report-time)"
    );
    assert_eq!(doc["summary"]["root_row_seen"], false);
    let dave = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["user"] == "dave")
        .unwrap();
    assert_eq!(dave["account"], Value::Null);
}

#[test]
fn reads_back_through_the_reading_side() {
    let (text, _) = document();
    let doc = SavedAudit::from_json(&text).unwrap();
    assert_eq!(doc.schema_version, "1.1");
    assert_eq!(doc.findings.len(), 7);
    let alice = &doc.findings[2];
    assert_eq!(
        (alice.severity, alice.status, alice.credential),
        (Severity::Medium, Status::Fail, Credential::AccessKey1)
    );
    assert_eq!(
        alice.evidence.keys().collect::<Vec<_>>(),
        [
            "active",
            "created",
            "last_used",
            "last_used_service",
            "days_unused",
            "max_unused_days"
        ]
    );
    assert_eq!(
        alice.evidence.get("days_unused"),
        Some(&EvidenceValue::Integer(121))
    );
    assert_eq!(
        alice.evidence.get("active"),
        Some(&EvidenceValue::Bool(true))
    );
    assert_eq!(
        doc.findings[3].evidence.get("last_used"),
        Some(&EvidenceValue::Null)
    );
    assert_eq!(doc.data_as_of, Some(ts("2024-05-31T21:00:00Z")));
}

#[test]
fn readers_accept_newer_minors_and_refuse_other_majors() {
    let (text, _) = document();
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    doc["schema_version"] = json!("1.7");
    doc["a_field_from_1_7"] = json!({"x": 1});
    doc["findings"][0]["credential"] = json!("signing_certificate_1");
    let read = SavedAudit::from_json(&doc.to_string()).unwrap();
    assert_eq!(read.findings[0].credential, Credential::Other);

    doc["schema_version"] = json!("2.0");
    let err = SavedAudit::from_json(&doc.to_string()).unwrap_err();
    assert!(
        err.to_string()
            .contains("schema_version `2.0` is not supported"),
        "{err}"
    );
}

/// docs/json-output.md is the contract: its example must be a valid document in the printer's own
/// layout, and every field the printer writes must be documented there.
#[test]
fn the_documentation_matches_the_wire_types() {
    let doc = include_str!("../../../docs/json-output.md");
    let example = doc
        .split("```json\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/json-output.md has a json example");
    SavedAudit::from_json(example).expect("the example is a valid document");
    let ordered: Ordered = serde_json::from_str(example).unwrap();
    assert_eq!(
        serde_json::to_string_pretty(&ordered).unwrap() + "\n",
        example,
        "the example is laid out as printed"
    );

    fn documented(doc: &str, field: &str) -> bool {
        doc.contains(&format!("| `{field}` |"))
    }
    let (_, value) = document();
    let mut missing = Vec::new();
    let mut check_object = |object: &Value| {
        for key in object.as_object().unwrap().keys() {
            if !documented(doc, key) {
                missing.push(key.clone());
            }
        }
    };
    check_object(&value);
    check_object(&value["data_source"]);
    check_object(&value["summary"]);
    check_object(&value["findings"][0]);
    check_object(&value["findings"][0]["ignored_exemption"]);
    assert!(missing.is_empty(), "undocumented fields: {missing:?}");
    // `tool` is documented in one row with its two fields.
    assert!(doc.contains("`name`: always `\"keywarden\"`; `version`"));
}

/// Any JSON value with its objects' keys in the order read, to lay a text out again as the
/// printer would (a `serde_json::Value` may sort them).
enum Ordered {
    Scalar(Value),
    Array(Vec<Ordered>),
    Object(Vec<(String, Ordered)>),
}

impl serde::Serialize for Ordered {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Ordered::Scalar(value) => value.serialize(serializer),
            Ordered::Array(items) => serializer.collect_seq(items),
            Ordered::Object(entries) => serializer.collect_map(entries.iter().map(|(k, v)| (k, v))),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Any;

        impl<'de> serde::de::Visitor<'de> for Any {
            type Value = Ordered;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::Null))
            }

            fn visit_bool<E>(self, v: bool) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(v.into()))
            }

            fn visit_i64<E>(self, v: i64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(v.into()))
            }

            fn visit_u64<E>(self, v: u64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(v.into()))
            }

            fn visit_f64<E>(self, v: f64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(v.into()))
            }

            fn visit_str<E>(self, v: &str) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(v.into()))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Ordered, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Ordered::Array(items))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Ordered, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Ordered::Object(entries))
            }
        }

        deserializer.deserialize_any(Any)
    }
}
