//! `plan --from ... --resolve-key-ids` against the fake account: each report-file key finding
//! gets the id of the key created in the second its evidence names (status breaks a same-second
//! tie); a key that cannot be told keeps no id and says why. Rule codes are written here, in a
//! test, as the findings of a report-file audit carry them.

use keywarden_app::key_ids::*;
use keywarden_aws::api::AccessKeyMeta;
use keywarden_aws::fake::FakeAccount;
use keywarden_core::finding::Status;
use keywarden_core::remediation::PlanFinding;
use keywarden_core::time::parse_timestamp;
use keywarden_core::Timestamp;
use std::sync::Arc;

fn at(text: &str) -> Timestamp {
    parse_timestamp(text).unwrap()
}

fn key(id: &str, created: &str, active: bool) -> AccessKeyMeta {
    AccessKeyMeta {
        id: id.into(),
        active,
        created: at(created),
    }
}

/// A report file's key finding: the key by its creation time, no id.
fn finding(rule: &str, user: &str, field: &str, created: &str, active: bool) -> PlanFinding {
    PlanFinding {
        rule: rule.into(),
        status: Status::Fail,
        account: Some("123456789012".into()),
        user: Some(user.into()),
        access_key_id: None,
        message: String::new(),
        evidence: vec![
            ("active".into(), Some(active.to_string())),
            (field.into(), Some(created.into())),
        ],
    }
}

fn account() -> Arc<FakeAccount> {
    let mut fake = FakeAccount::default();
    fake.keys.insert(
        "alice".into(),
        vec![
            key("AKIAALICE1", "2024-01-01T10:00:00.400Z", true),
            key("AKIAALICE2", "2024-03-01T10:00:00Z", false),
        ],
    );
    // Two keys made in the same second, one active, one not.
    fake.keys.insert(
        "twins".into(),
        vec![
            key("AKIATWIN1", "2024-05-01T10:00:00Z", true),
            key("AKIATWIN2", "2024-05-01T10:00:00.900Z", false),
        ],
    );
    Arc::new(fake)
}

#[tokio::test]
async fn each_key_is_told_by_its_creation_second_and_status() {
    let fake = account();
    let mut findings = vec![
        finding("KEY001", "alice", "created", "2024-01-01T10:00:00Z", true),
        finding("KEY004", "alice", "created", "2024-03-01T10:00:00Z", false),
        finding(
            "KEY005",
            "alice",
            "key_created",
            "2024-01-01T10:00:00Z",
            true,
        ),
        finding(
            "KEY003",
            "alice",
            "older_key_created",
            "2024-01-01T10:00:00Z",
            true,
        ),
        finding("KEY001", "twins", "created", "2024-05-01T10:00:00Z", true),
        finding("KEY004", "twins", "created", "2024-05-01T10:00:00Z", false),
    ];
    let resolution = resolve_key_ids(Arc::clone(&fake), "123456789012", &mut findings).await;
    let ids: Vec<Option<&str>> = findings
        .iter()
        .map(|f| f.access_key_id.as_deref())
        .collect();
    assert_eq!(
        ids,
        [
            Some("AKIAALICE1"),
            Some("AKIAALICE2"),
            Some("AKIAALICE1"),
            Some("AKIAALICE1"),
            Some("AKIATWIN1"),
            Some("AKIATWIN2"),
        ]
    );
    assert_eq!((resolution.wanted, resolution.resolved), (6, 6));
    assert_eq!(resolution.users, ["alice", "twins"]);
    // One ListAccessKeys per user, and nothing else.
    let mut calls = fake.calls();
    calls.sort();
    assert_eq!(
        calls,
        ["iam:ListAccessKeys(alice)", "iam:ListAccessKeys(twins)"]
    );
}

#[tokio::test]
async fn a_key_that_cannot_be_told_keeps_no_id_and_says_why() {
    let mut fake = FakeAccount::default();
    fake.keys.insert(
        "same".into(),
        vec![
            key("AKIASAME1", "2024-05-01T10:00:00Z", true),
            key("AKIASAME2", "2024-05-01T10:00:00Z", true),
        ],
    );
    fake.failures.insert(
        keywarden_aws::api::IAM_LIST_ACCESS_KEYS,
        "AccessDenied".into(),
    );
    let denied = Arc::new(fake);
    let mut findings = vec![finding(
        "KEY001",
        "same",
        "created",
        "2024-05-01T10:00:00Z",
        true,
    )];
    let resolution = resolve_key_ids(Arc::clone(&denied), "123456789012", &mut findings).await;
    assert_eq!(findings[0].access_key_id, None);
    assert_eq!(resolution.failed.len(), 1);
    assert_eq!(resolution.failed[0].1.code, "AccessDenied");

    let mut fake = FakeAccount::default();
    fake.keys.insert(
        "same".into(),
        vec![
            key("AKIASAME1", "2024-05-01T10:00:00Z", true),
            key("AKIASAME2", "2024-05-01T10:00:00Z", true),
        ],
    );
    let fake = Arc::new(fake);
    let mut findings = vec![
        finding("KEY001", "same", "created", "2024-05-01T10:00:00Z", true),
        finding("KEY002", "same", "created", "2023-05-01T10:00:00Z", true),
    ];
    let resolution = resolve_key_ids(fake, "123456789012", &mut findings).await;
    assert!(findings.iter().all(|f| f.access_key_id.is_none()));
    let reasons: Vec<&str> = resolution
        .unresolved
        .iter()
        .map(|u| u.reason.as_str())
        .collect();
    assert_eq!(
        reasons,
        [
            "same has 2 access keys created in the same second (2024-05-01T10:00:00Z) with \
             the same status: the report cannot tell which one the finding is about",
            "same has no access key created at 2023-05-01T10:00:00Z any more: deleted or \
             replaced since the audit",
        ]
    );
}

#[tokio::test]
async fn root_other_accounts_and_known_ids_are_left_alone() {
    let fake = account();
    let mut root = finding(
        "ROOT001",
        "<root_account>",
        "created",
        "2024-01-01T10:00:00Z",
        true,
    );
    root.user = Some("<root_account>".into());
    let mut other = finding("KEY001", "alice", "created", "2024-01-01T10:00:00Z", true);
    other.account = Some("111122223333".into());
    let mut known = finding("KEY001", "alice", "created", "2024-01-01T10:00:00Z", true);
    known.access_key_id = Some("AKIAKNOWN".into());
    let mut no_key = finding(
        "PWD001",
        "alice",
        "password_last_used",
        "2024-01-01T10:00:00Z",
        true,
    );
    no_key.evidence.retain(|(k, _)| k != "active");
    let mut findings = vec![root, other, known, no_key];
    let resolution = resolve_key_ids(Arc::clone(&fake), "123456789012", &mut findings).await;
    assert_eq!(resolution.wanted, 0);
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
    assert_eq!(findings[2].access_key_id.as_deref(), Some("AKIAKNOWN"));
    assert_eq!(findings[1].access_key_id, None);
}
