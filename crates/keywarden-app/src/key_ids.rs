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
