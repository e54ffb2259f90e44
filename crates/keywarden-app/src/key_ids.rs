//! `plan --from audit.json --resolve-key-ids`: a credential report names a user's keys by slot
//! (`access_key_1`, `access_key_2`), never by id, so an audit of a report file plans no key
//! action. This reads ListAccessKeys (read-only) for the users whose key findings lack an id,
//! and gives each finding the id of the key created in the same second as the finding's key
//! (the report has second precision; CreateDate is the report's `last_rotated`), preferring the
//! same status when two keys share that second. A key that cannot be told (none created then,
//! or two alike) keeps no id, and [`Unresolved`] says why.

use crate::bounded::for_each_bounded;
use keywarden_aws::api::{AccessKeyMeta, AwsError, IamRead};
use keywarden_core::remediation::PlanFinding;
use keywarden_core::time::parse_timestamp;
use keywarden_core::Timestamp;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The evidence fields that hold the finding's key's creation time, by rule: `created` (KEY001,
/// KEY002, KEY004), `key_created` (KEY005), `older_key_created` (KEY003 is about the older key).
const CREATED_FIELDS: [&str; 3] = ["created", "key_created", "older_key_created"];

/// ListAccessKeys calls in flight at once.
const CONCURRENCY: usize = 8;

/// A key finding left without an id, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    pub rule: String,
    pub user: String,
    pub reason: String,
}

/// What [`resolve_key_ids`] did.
#[derive(Debug, Default)]
pub struct Resolution {
    /// Key findings that had no id, of the account.
    pub wanted: usize,
    /// Findings that got their key's id.
    pub resolved: usize,
    /// The users whose keys were listed, in order.
    pub users: Vec<String>,
    pub unresolved: Vec<Unresolved>,
    /// ListAccessKeys refused (AccessDenied, NoSuchEntity...): the user's findings keep no id.
    pub failed: Vec<(String, AwsError)>,
}

/// The creation time of the key a finding is about, when it is of `account` (or names none),
/// names a user (not root) and has no key id yet.
fn wants_id<'f>(finding: &'f PlanFinding, account: &str) -> Option<(&'f str, Timestamp)> {
    if finding.access_key_id.is_some() || finding.account.as_deref().is_some_and(|a| a != account) {
        return None;
    }
    let user = finding.user.as_deref().filter(|u| *u != "<root_account>")?;
    let created = CREATED_FIELDS.iter().find_map(|field| {
        finding
            .evidence
            .iter()
            .find(|(k, _)| k == field)
            .and_then(|(_, v)| v.as_deref())
            .and_then(parse_timestamp)
    })?;
    Some((user, created))
}

/// The finding's `active` evidence, when it has one.
fn evidence_active(finding: &PlanFinding) -> Option<bool> {
    finding
        .evidence
        .iter()
        .find(|(k, _)| k == "active")
        .and_then(|(_, v)| v.as_deref())
        .and_then(|v| v.parse().ok())
}

/// Fills in the key ids of `findings` of `account` (the client's) that lack one, reading
/// ListAccessKeys once per user concerned (nothing else, and nothing for a finding that has its
/// id, names no key, or is another account's).
pub async fn resolve_key_ids<C>(
    client: Arc<C>,
    account: &str,
    findings: &mut [PlanFinding],
) -> Resolution
where
    C: IamRead + 'static,
{
    let wanted: Vec<(&str, Timestamp)> = findings
        .iter()
        .filter_map(|f| wants_id(f, account))
        .collect();
    let mut users: Vec<String> = wanted.iter().map(|(user, _)| (*user).to_owned()).collect();
    users.sort();
    users.dedup();
    let mut listed: BTreeMap<String, Result<Vec<AccessKeyMeta>, AwsError>> = BTreeMap::new();
    for_each_bounded(
        users.clone(),
        CONCURRENCY,
        |user| {
            let client = Arc::clone(&client);
            async move {
                let keys = client.list_access_keys(&user).await;
                (user, keys)
            }
        },
        |(user, keys)| {
            listed.insert(user, keys);
        },
    )
    .await;
    let mut resolution = Resolution {
        wanted: wanted.len(),
        users,
        ..Resolution::default()
    };
    for (user, result) in &listed {
        if let Err(e) = result {
            resolution.failed.push((user.clone(), e.clone()));
        }
    }
    for finding in findings.iter_mut() {
        let Some((user, created)) = wants_id(finding, account) else {
            continue;
        };
        let Some(Ok(keys)) = listed.get(user) else {
            continue;
        };
        let same_second: Vec<&AccessKeyMeta> = keys
            .iter()
            .filter(|k| k.created.timestamp() == created.timestamp())
            .collect();
        let chosen: Vec<&AccessKeyMeta> = match evidence_active(finding) {
            Some(active) if same_second.len() > 1 => same_second
                .iter()
                .copied()
                .filter(|k| k.active == active)
                .collect(),
            _ => same_second.clone(),
        };
        let reason = match chosen.as_slice() {
            [key] => {
                finding.access_key_id = Some(key.id.clone());
                resolution.resolved += 1;
                continue;
            }
            [] if same_second.is_empty() => format!(
                "{user} has no access key created at {} any more: deleted or replaced since the audit",
                created.format("%Y-%m-%dT%H:%M:%SZ")
            ),
            _ => format!(
                "{user} has {} access keys created in the same second ({}) with the same status: \
                 the report cannot tell which one the finding is about",
                same_second.len(),
                created.format("%Y-%m-%dT%H:%M:%SZ")
            ),
        };
        resolution.unresolved.push(Unresolved {
            rule: finding.rule.clone(),
            user: user.to_owned(),
            reason,
        });
    }
    resolution
}

#[cfg(test)]
mod tests {
    use super::*;
    use keywarden_aws::fake::FakeAccount;
    use keywarden_core::finding::Status;

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
}
