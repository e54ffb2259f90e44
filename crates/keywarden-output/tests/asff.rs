//! The ASFF documents: required fields and Security Hub's limits, a stable `Id` across runs,
//! the status mapping, and names an attacker chose.

mod common;

use common::*;
use keywarden_core::finding::{CredentialKind, EventContext, Finding, Status};
use keywarden_core::model::KeySlot;
use keywarden_core::rules::{catalogue, RuleMeta, Scope};
use keywarden_output::asff::{
    document, documents, finding_id, id_prefix, product_arn, resolved, truncate_units, AsffFinding,
    AsffTarget, DESCRIPTION_MAX, ID_MAX, PRODUCT_FIELDS_MAX, PRODUCT_FIELD_VALUE_MAX,
    RECOMMENDATION_MAX, TITLE_MAX,
};
use keywarden_output::{FindingsReport, Format};
use serde_json::Value;
use std::collections::HashSet;

const ACCOUNT: &str = "123456789012";

fn units(s: &str) -> usize {
    s.encode_utf16().count()
}

fn target() -> AsffTarget {
    AsffTarget {
        region: "eu-west-1".into(),
        account: Some(ACCOUNT.into()),
        administrator: false,
    }
}

fn a_rule(scope: Scope) -> &'static RuleMeta {
    catalogue().find(|m| m.scope == scope).unwrap()
}

fn key_finding(user: &str, key: &str, message: &str) -> Finding {
    Finding {
        rule: a_rule(Scope::User),
        status: Status::Fail,
        account: Some(ACCOUNT.into()),
        user: Some(user.into()),
        credential: CredentialKind::AccessKey(KeySlot::One),
        access_key_id: Some(key.into()),
        message: message.into(),
        evidence: vec![("days_unused", 400i64.into())],
        exemption: None,
        ignored_exemption: None,
        event: None,
        org_account: None,
    }
}

/// What BatchImportFindings requires of every finding, and the limits it enforces.
fn check_required(doc: &Value) {
    for field in [
        "SchemaVersion",
        "Id",
        "ProductArn",
        "GeneratorId",
        "AwsAccountId",
        "Types",
        "CreatedAt",
        "UpdatedAt",
        "Severity",
        "Title",
        "Description",
        "Resources",
    ] {
        assert!(!doc[field].is_null(), "{field} is required: {doc}");
    }
    assert_eq!(doc["SchemaVersion"], "2018-10-08");
    let title = doc["Title"].as_str().unwrap();
    assert!(units(title) <= TITLE_MAX && !title.is_empty());
    let description = doc["Description"].as_str().unwrap();
    assert!(units(description) <= DESCRIPTION_MAX && !description.is_empty());
    assert!(units(doc["Id"].as_str().unwrap()) <= ID_MAX);
    let resources = doc["Resources"].as_array().unwrap();
    assert!(!resources.is_empty());
    for r in resources {
        assert!(
            ["AwsIamAccessKey", "AwsIamUser", "AwsAccount"].contains(&r["Type"].as_str().unwrap())
        );
        assert!(!r["Id"].as_str().unwrap().is_empty());
    }
    let fields = doc["ProductFields"].as_object().unwrap();
    assert!(fields.len() <= PRODUCT_FIELDS_MAX);
    for value in fields.values() {
        assert!(units(value.as_str().unwrap()) <= PRODUCT_FIELD_VALUE_MAX);
    }
    if let Some(text) = doc["Remediation"]["Recommendation"]["Text"].as_str() {
        assert!(units(text) <= RECOMMENDATION_MAX);
    }
    assert!(
        ["CRITICAL", "HIGH", "MEDIUM", "LOW"].contains(&doc["Severity"]["Label"].as_str().unwrap())
    );
    // The document reads back as keywarden's own type: no field outside it.
    let _: AsffFinding = serde_json::from_value(doc.clone()).unwrap();
}

#[test]
fn the_fixture_becomes_one_valid_document_per_finding() {
    let outcome = outcome();
    let text = render(Format::Asff, &report(&outcome, file_source()));
    let docs: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(docs.len(), outcome.findings.len());
    let mut ids = HashSet::new();
    for (doc, finding) in docs.iter().zip(&outcome.findings) {
        check_required(doc);
        assert!(
            ids.insert(doc["Id"].as_str().unwrap().to_owned()),
            "duplicate Id"
        );
        assert_eq!(
            doc["ProductArn"],
            "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default"
        );
        assert_eq!(
            doc["GeneratorId"].as_str().unwrap(),
            format!("keywarden/{}", finding.rule.code)
        );
        assert_eq!(doc["AwsAccountId"], ACCOUNT);
        assert_eq!(doc["CreatedAt"], NOW);
        assert_eq!(doc["UpdatedAt"], NOW);
        assert_eq!(doc["RecordState"], "ACTIVE");
        let (compliance, workflow) = match finding.status {
            Status::Fail => ("FAILED", Value::Null),
            Status::Unknown => ("WARNING", Value::Null),
            Status::Exempted => ("FAILED", "SUPPRESSED".into()),
        };
        assert_eq!(doc["Compliance"]["Status"], compliance, "{doc}");
        assert_eq!(doc["Workflow"]["Status"], workflow, "{doc}");
        assert_eq!(
            doc["ProductFields"]["keywarden/Status"],
            finding.status.as_str()
        );
        assert!(doc["Types"][0]
            .as_str()
            .unwrap()
            .starts_with("Software and Configuration Checks/"));
    }
    // The fixture has all three statuses.
    for status in [Status::Fail, Status::Unknown, Status::Exempted] {
        assert!(outcome.findings.iter().any(|f| f.status == status));
    }
}

#[test]
fn the_id_is_the_same_on_every_run_and_differs_between_findings() {
    let a = key_finding("alice", "AKIAALICE", "unused for 400 days");
    let mut later = a.clone();
    later.message = "unused for 401 days".into();
    later.evidence = vec![("days_unused", 401i64.into())];
    let t1 = ts("2024-06-01T00:00:00Z");
    let t2 = ts("2024-07-01T00:00:00Z");
    let d1 = document(&a, t1, "0.1.0", &target()).unwrap();
    let d2 = document(&later, t2, "0.2.0", &target()).unwrap();
    assert_eq!(
        d1.id, d2.id,
        "neither time, message nor version changes the Id"
    );
    assert_ne!(d1.updated_at, d2.updated_at);
    assert!(d1.id.starts_with("keywarden/123456789012/"), "{}", d1.id);
    // Each identifying field changes it.
    let mut other_user = a.clone();
    other_user.user = Some("alice2".into());
    let mut other_key = a.clone();
    other_key.access_key_id = Some("AKIAOTHER".into());
    let mut other_slot = a.clone();
    other_slot.credential = CredentialKind::AccessKey(KeySlot::Two);
    let mut other_rule = a.clone();
    other_rule.rule = catalogue()
        .filter(|m| m.scope == Scope::User)
        .nth(1)
        .unwrap();
    let mut ids: HashSet<String> = HashSet::new();
    for f in [&a, &other_user, &other_key, &other_slot, &other_rule] {
        assert!(
            ids.insert(finding_id(f, ACCOUNT)),
            "Id not unique for {f:?}"
        );
    }
    assert_ne!(finding_id(&a, ACCOUNT), finding_id(&a, "210987654321"));
    // Splitting the same bytes differently between user and key does not collide.
    let mut split_a = a.clone();
    split_a.user = Some("ab".into());
    split_a.access_key_id = Some("c".into());
    let mut split_b = a.clone();
    split_b.user = Some("a".into());
    split_b.access_key_id = Some("bc".into());
    assert_ne!(finding_id(&split_a, ACCOUNT), finding_id(&split_b, ACCOUNT));
}

#[test]
fn a_detection_has_its_event_in_the_id_its_tactic_and_its_event_time() {
    let rule = a_rule(Scope::Event);
    let event = |id: &str| {
        Some(Box::new(EventContext {
            event_id: id.into(),
            event_time: ts("2024-05-01T10:00:00Z"),
            event_name: "CreateAccessKey".into(),
            region: Some("us-east-1".into()),
            source_ip: Some("203.0.113.9".into()),
            user_agent: None,
            actor: Some("arn:aws:iam::123456789012:user/mallory".into()),
        }))
    };
    let mut f = key_finding("victim", "AKIAVICTIM", "created by another user");
    f.rule = rule;
    f.event = event("e-1");
    let mut g = f.clone();
    g.event = event("e-2");
    let d = document(&f, ts(NOW), "0.1.0", &target()).unwrap();
    assert_ne!(d.id, document(&g, ts(NOW), "0.1.0", &target()).unwrap().id);
    assert_eq!(d.first_observed_at.as_deref(), Some("2024-05-01T10:00:00Z"));
    assert_eq!(d.created_at, NOW);
    assert!(
        d.types
            .iter()
            .all(|t| t.starts_with("TTPs/") || t.starts_with("Unusual Behaviors/")),
        "{:?}",
        d.types
    );
    assert_eq!(d.product_fields["keywarden/EventId"], "e-1");
    assert_eq!(d.product_fields["keywarden/SourceIp"], "203.0.113.9");
    // Every detection in the catalogue gets a detection type, every rule a posture type.
    for meta in catalogue() {
        let t = keywarden_output::asff::types(meta);
        let detection = meta.scope == Scope::Event;
        assert_eq!(
            t.iter()
                .any(|t| t.starts_with("TTPs/") || t.starts_with("Unusual Behaviors/")),
            detection,
            "{}: {t:?}",
            meta.code
        );
    }
}

#[test]
fn resources_are_the_key_the_user_or_the_account() {
    let key = document(
        &key_finding("alice", "AKIAALICE", "m"),
        ts(NOW),
        "v",
        &target(),
    )
    .unwrap();
    let r = &key.resources[0];
    assert_eq!(
        (r.kind.as_str(), r.id.as_str()),
        ("AwsIamAccessKey", "AKIAALICE")
    );
    assert_eq!(
        (r.partition.as_str(), r.region.as_str()),
        ("aws", "eu-west-1")
    );
    let details = r.details.as_ref().unwrap().access_key.as_ref().unwrap();
    assert_eq!(details.access_key_id, "AKIAALICE");
    assert_eq!(details.principal_name.as_deref(), Some("alice"));
    assert_eq!(details.principal_type.as_deref(), Some("IAMUser"));

    let mut no_key = key_finding("alice", "", "m");
    no_key.access_key_id = None;
    let user = document(&no_key, ts(NOW), "v", &target()).unwrap();
    assert_eq!(user.resources[0].kind, "AwsIamUser");
    assert_eq!(user.resources[0].id, "arn:aws:iam::123456789012:user/alice");

    let account = Finding::for_account(a_rule(Scope::Account), Status::Unknown, Some(ACCOUNT), "m");
    let doc = document(&account, ts(NOW), "v", &target()).unwrap();
    assert_eq!(doc.resources[0].kind, "AwsAccount");
    assert_eq!(doc.resources[0].id, "AWS::::Account:123456789012");
    assert_eq!(doc.compliance.status, "WARNING");

    let china = AsffTarget {
        region: "cn-north-1".into(),
        account: Some(ACCOUNT.into()),
        administrator: false,
    };
    let doc = document(&account, ts(NOW), "v", &china).unwrap();
    assert_eq!(
        doc.product_arn,
        "arn:aws-cn:securityhub:cn-north-1:123456789012:product/123456789012/default"
    );
    assert_eq!(
        product_arn("us-gov-west-1", ACCOUNT).split(':').nth(1),
        Some("aws-us-gov")
    );
}

#[test]
fn hostile_names_stay_data_and_long_ones_are_cut_on_character_boundaries() {
    let hostile = format!(
        "<img src=x onerror=alert(1)>\u{202e}\"}}]\n\u{1b}[31m{}",
        "é😀".repeat(2000)
    );
    let mut f = key_finding(&hostile, &format!("AKIA/{hostile}"), &hostile.repeat(3));
    f.evidence = vec![("note", hostile.clone().into())];
    let doc = document(&f, ts(NOW), "v", &target()).unwrap();
    let value = serde_json::to_value(&doc).unwrap();
    check_required(&value);
    // The Id and GeneratorId carry no byte of the name: only safe characters.
    let id_ok = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
    };
    assert!(id_ok(&doc.id) && id_ok(&doc.generator_id), "{}", doc.id);
    assert!(doc.title.ends_with('…'));
    assert!(doc.description.ends_with('…'));
    // The text kept is the name's own start, exactly.
    assert!(doc.title.contains("<img src=x onerror=alert(1)>\u{202e}"));
    // The JSON text parses back to the same strings.
    let back: AsffFinding = serde_json::from_str(&serde_json::to_string(&doc).unwrap()).unwrap();
    assert_eq!(back, doc);
    // An account id that is not one is refused, not written.
    let mut bad = key_finding("a", "AKIA", "m");
    bad.account = Some("12345\"6789012".into());
    let offline = AsffTarget::default();
    assert!(document(&bad, ts(NOW), "v", &offline)
        .unwrap_err()
        .contains("12-digit"));
}

#[test]
fn truncation_counts_utf16_units_and_never_splits_a_character() {
    assert_eq!(truncate_units("abc", 3, "…"), "abc");
    assert_eq!(truncate_units("abcd", 3, "…"), "ab…");
    // 😀 is two UTF-16 units: it fits whole or not at all.
    assert_eq!(truncate_units("a😀b", 3, ""), "a😀");
    assert_eq!(truncate_units("a😀b", 2, ""), "a");
    assert_eq!(truncate_units("😀😀", 3, "…"), "😀…");
    for max in 0..12 {
        let cut = truncate_units("é😀xyz😀😀", max, "…");
        assert!(cut.encode_utf16().count() <= max.max(1), "{max}: {cut}");
    }
}

#[test]
fn another_accounts_finding_or_one_without_account_is_not_converted() {
    let mut other = key_finding("a", "AKIA", "m");
    other.account = Some("210987654321".into());
    let mut none = key_finding("b", "AKIB", "m");
    none.account = None;
    let ok = key_finding("c", "AKIC", "m");
    let findings = vec![other.clone(), none.clone(), ok];
    let outcome = outcome();
    let mut r: FindingsReport<'_> = report(&outcome, file_source());
    r.findings = &findings;
    let batch = documents(&r, &target());
    assert_eq!(
        batch.findings.len(),
        2,
        "the account-less one takes the target's account"
    );
    assert_eq!(batch.unconvertible.len(), 1);
    assert_eq!(batch.unconvertible[0].index, 0);
    assert!(batch.unconvertible[0].reason.contains("210987654321"));
    // Offline (no target account), the one without an account cannot be written, and the
    // printer says which.
    let offline = documents(&r, &AsffTarget::default());
    assert_eq!(offline.unconvertible.len(), 1);
    assert_eq!(offline.unconvertible[0].index, 1);
    let mut out = Vec::new();
    let err = Format::Asff
        .printer()
        .print_findings(&r, &mut out)
        .unwrap_err();
    assert!(err.to_string().contains("finding 2"), "{err}");
    assert!(out.is_empty(), "nothing half-written");
}

#[test]
fn a_resolved_record_is_archived_passed_and_resolved() {
    let doc = document(&key_finding("alice", "AKIA1", "m"), ts(NOW), "v", &target()).unwrap();
    let value = serde_json::to_value(&doc).unwrap();
    let r = resolved(value, ts("2024-07-01T00:00:00Z"));
    assert_eq!(r["RecordState"], "ARCHIVED");
    assert_eq!(r["Compliance"]["Status"], "PASSED");
    assert_eq!(r["Workflow"]["Status"], "RESOLVED");
    assert_eq!(r["UpdatedAt"], "2024-07-01T00:00:00Z");
    assert_eq!(r["Id"], doc.id.as_str());
    assert_eq!(r["CreatedAt"], NOW);
}

#[test]
fn an_administrator_imports_a_members_finding_as_its_own_naming_the_member() {
    let mut member = key_finding("alice", "AKIA1", "m");
    member.account = Some("210987654321".into());
    let admin = AsffTarget {
        administrator: true,
        ..target()
    };
    let doc = document(&member, ts(NOW), "v", &admin).unwrap();
    // The default product takes only the caller's account as AwsAccountId.
    assert_eq!(doc.aws_account_id, ACCOUNT);
    assert_eq!(
        doc.product_arn,
        "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default"
    );
    // The member is in the Id (so its findings never collide with the admin's own), the
    // resource and ProductFields.
    assert!(doc.id.starts_with(&id_prefix("210987654321")), "{}", doc.id);
    assert_eq!(doc.id, finding_id(&member, "210987654321"));
    assert_eq!(
        doc.product_fields
            .get("keywarden/Account")
            .map(String::as_str),
        Some("210987654321")
    );
    let key = doc.resources[0]
        .details
        .as_ref()
        .unwrap()
        .access_key
        .as_ref()
        .unwrap();
    assert_eq!(key.account_id.as_deref(), Some("210987654321"));
    // The admin's own finding is written as a single account's is: no keywarden/Account.
    let own = key_finding("bob", "AKIA2", "m");
    let doc = document(&own, ts(NOW), "v", &admin).unwrap();
    assert_eq!(doc, document(&own, ts(NOW), "v", &target()).unwrap());
    // Not an administrator: the member's finding is refused, as before.
    assert!(document(&member, ts(NOW), "v", &target()).is_err());
    // A member that is not an account id is refused even for an administrator.
    member.account = Some("not-an-account".into());
    assert!(document(&member, ts(NOW), "v", &admin)
        .unwrap_err()
        .contains("not-an-account"));
}
