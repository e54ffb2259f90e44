//! An in-memory AWS account implementing the boundary's traits, for fast tests of the
//! application layer. It records every call, so tests can assert how many calls an audit makes,
//! and it can fail any action, read or write, with a given AWS error code.
//!
//! Writes (`IamWrite`, `SecretWrite`) change an overlay over the account's public fields, which
//! every read consults: a test can apply a change, then read it back through the read traits.
//! The public fields themselves are never changed, so they keep describing the starting state.

use crate::api::{
    AccessKeyMeta, AccountSummary, AwsError, AwsResult, CallerIdentity, CredentialReportBlob,
    IamRead, IamUser, IamWrite, KeyLastUsed, NewAccessKey, RemediationRead, ReportGeneration,
    SecretInfo, SecretRead, SecretString, SecretWrite, TaggedUser, TrailInfo, TrailRead, WhoAmI,
    CLOUDTRAIL_DESCRIBE_TRAILS, CLOUDTRAIL_GET_EVENT_SELECTORS, CLOUDTRAIL_GET_TRAIL_STATUS,
    IAM_CREATE_ACCESS_KEY, IAM_DELETE_ACCESS_KEY, IAM_DELETE_LOGIN_PROFILE, IAM_DELETE_USER_POLICY,
    IAM_GENERATE_CREDENTIAL_REPORT, IAM_GET_ACCESS_KEY_LAST_USED,
    IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS, IAM_GET_ACCOUNT_PASSWORD_POLICY,
    IAM_GET_ACCOUNT_SUMMARY, IAM_GET_CREDENTIAL_REPORT, IAM_GET_LOGIN_PROFILE, IAM_GET_USER,
    IAM_GET_USER_POLICY, IAM_LIST_ACCESS_KEYS, IAM_LIST_MFA_DEVICES, IAM_LIST_USERS,
    IAM_LIST_USER_POLICIES, IAM_LIST_USER_TAGS, IAM_PUT_USER_POLICY, IAM_UPDATE_ACCESS_KEY,
    SECRETSMANAGER_CREATE_SECRET, SECRETSMANAGER_DESCRIBE_SECRET, STS_GET_CALLER_IDENTITY,
};
use crate::logs::{
    record_matches, EventHistoryRead, LogBucketRead, LookupPage, LookupQuery, S3Object,
    CLOUDTRAIL_LOOKUP_EVENTS, S3_GET_OBJECT, S3_LIST_FOLDERS, S3_LIST_OBJECTS,
};
use keywarden_core::model::{PasswordPolicy, Tag};
use keywarden_core::time::parse_timestamp;
use keywarden_core::Timestamp;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

#[derive(Debug, Default)]
pub struct FakeAccount {
    /// The report GetCredentialReport returns; `None` answers ReportNotPresent.
    pub report: Option<CredentialReportBlob>,
    /// How many GenerateCredentialReport calls answer INPROGRESS before COMPLETE.
    pub generation_polls: Mutex<u32>,
    pub users: Vec<IamUser>,
    pub tags: HashMap<String, Vec<Tag>>,
    pub keys: HashMap<String, Vec<AccessKeyMeta>>,
    pub last_used: HashMap<String, KeyLastUsed>,
    pub login_profiles: HashMap<String, Timestamp>,
    pub mfa_devices: HashMap<String, usize>,
    pub summary: Option<AccountSummary>,
    pub password_policy: Option<PasswordPolicy>,
    /// Each trail with whether it is logging and whether it logs write management events.
    pub trails: Vec<(TrailInfo, bool, bool)>,
    /// S3 buckets, bucket -> key -> bytes. A bucket not listed answers `NoSuchBucket`.
    pub buckets: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    /// CloudTrail's event history for LookupEvents: (region, the CloudTrail record as JSON).
    pub event_history: Vec<(String, String)>,
    /// Inline user policies at the start: user -> policy name -> document (plain JSON).
    pub user_policies: HashMap<String, BTreeMap<String, String>>,
    /// Who the fake says the caller is; `None` reports [`FakeAccount::DEFAULT_CALLER`]'s
    /// identity (account 123456789012, key `AKIAFAKECALLER000000`).
    pub caller: Option<CallerIdentity>,
    /// The time the fake stamps on what it creates (CreateAccessKey's CreateDate).
    pub now: Timestamp,
    /// Actions that fail, with the AWS error code they fail with. Writes too: a failed write
    /// changes nothing.
    pub failures: HashMap<&'static str, String>,
    /// Writes that take effect but answer `InternalFailure`, as when AWS's reply is lost on the
    /// way back: only reading the state back tells that they happened.
    pub lost_replies: BTreeSet<&'static str>,
    calls: Mutex<Vec<String>>,
    changes: Mutex<Changes>,
}

/// What the writes changed, over the account's public fields.
#[derive(Debug, Default)]
struct Changes {
    /// Keys whose status was set: key id -> active.
    status: HashMap<String, bool>,
    deleted_keys: BTreeSet<String>,
    /// Keys created, in order: (user, key).
    created_keys: Vec<(String, AccessKeyMeta)>,
    deleted_login_profiles: BTreeSet<String>,
    /// Inline policies put: (user, name) -> document, and deleted: (user, name).
    put_policies: BTreeMap<(String, String), String>,
    deleted_policies: BTreeSet<(String, String)>,
    /// Secrets Manager secrets: name -> (ARN, value, description).
    secrets: BTreeMap<String, (String, SecretString, String)>,
}

/// A secret stored in the fake's Secrets Manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeSecret {
    pub name: String,
    pub arn: String,
    pub value: SecretString,
    pub description: String,
}

impl FakeAccount {
    /// Every call made so far, as `action` or `action(argument)`.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    pub fn count(&self, action: &str) -> usize {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.split('(').next() == Some(action))
            .count()
    }

    fn call(&self, action: &'static str, argument: Option<&str>) -> AwsResult<()> {
        record_call(
            &self.calls,
            &self.failures,
            "the fake account",
            action,
            argument,
        )
    }

    /// A write's answer once it took effect: `value`, or the error of a lost reply.
    fn replied<T>(&self, action: &'static str, value: T) -> AwsResult<T> {
        if self.lost_replies.contains(action) {
            Err(AwsError {
                action,
                code: "InternalFailure".into(),
                message: format!("the reply to {action} was lost (injected by the fake account)"),
            })
        } else {
            Ok(value)
        }
    }

    fn not_found(action: &'static str, what: &str) -> AwsError {
        AwsError {
            action,
            code: "NoSuchEntity".into(),
            message: format!("{what} not found"),
        }
    }

    /// The caller the fake reports when [`FakeAccount::caller`] is `None`.
    pub const DEFAULT_CALLER: (&'static str, &'static str, &'static str) = (
        "123456789012",
        "arn:aws:iam::123456789012:user/keywarden-fake-caller",
        "AKIAFAKECALLER000000",
    );

    /// The secrets created so far, by name.
    pub fn secrets(&self) -> Vec<FakeSecret> {
        self.changes
            .lock()
            .unwrap()
            .secrets
            .iter()
            .map(|(name, (arn, value, description))| FakeSecret {
                name: name.clone(),
                arn: arn.clone(),
                value: value.clone(),
                description: description.clone(),
            })
            .collect()
    }

    /// The user's keys as they are now: the starting keys with the writes applied.
    fn current_keys(&self, user: &str) -> Vec<AccessKeyMeta> {
        let changes = self.changes.lock().unwrap();
        self.keys
            .get(user)
            .into_iter()
            .flatten()
            .cloned()
            .chain(
                changes
                    .created_keys
                    .iter()
                    .filter(|(owner, _)| owner == user)
                    .map(|(_, key)| key.clone()),
            )
            .filter(|key| !changes.deleted_keys.contains(&key.id))
            .map(|mut key| {
                if let Some(active) = changes.status.get(&key.id) {
                    key.active = *active;
                }
                key
            })
            .collect()
    }

    /// The owner of an existing (not deleted) key.
    fn key_owner(&self, key_id: &str) -> Option<String> {
        let changes = self.changes.lock().unwrap();
        if changes.deleted_keys.contains(key_id) {
            return None;
        }
        self.keys
            .iter()
            .find(|(_, keys)| keys.iter().any(|k| k.id == key_id))
            .map(|(user, _)| user.clone())
            .or_else(|| {
                changes
                    .created_keys
                    .iter()
                    .find(|(_, k)| k.id == key_id)
                    .map(|(user, _)| user.clone())
            })
    }

    /// Whether the user exists: listed in `users`, or given keys, a password or policies.
    fn user_exists(&self, user: &str) -> bool {
        self.users.iter().any(|u| u.name == user)
            || self.keys.contains_key(user)
            || self.login_profiles.contains_key(user)
            || self.user_policies.contains_key(user)
    }

    fn current_policies(&self, user: &str) -> BTreeMap<String, String> {
        let changes = self.changes.lock().unwrap();
        let mut policies = self.user_policies.get(user).cloned().unwrap_or_default();
        for (owner, name) in &changes.deleted_policies {
            if owner == user {
                policies.remove(name);
            }
        }
        for ((owner, name), document) in &changes.put_policies {
            if owner == user {
                policies.insert(name.clone(), document.clone());
            }
        }
        policies
    }

    /// The key `key_id` of `user`, or AWS's NoSuchEntity.
    fn owned_key(&self, action: &'static str, user: &str, key_id: &str) -> AwsResult<()> {
        if self.key_owner(key_id).as_deref() == Some(user) {
            Ok(())
        } else {
            Err(Self::not_found(
                action,
                &format!("The Access Key with id {key_id} of user {user}"),
            ))
        }
    }
}

impl IamRead for FakeAccount {
    async fn generate_credential_report(&self) -> AwsResult<ReportGeneration> {
        self.call(IAM_GENERATE_CREDENTIAL_REPORT, None)?;
        let mut polls = self.generation_polls.lock().unwrap();
        if *polls > 0 {
            *polls -= 1;
            return Ok(ReportGeneration::InProgress);
        }
        Ok(ReportGeneration::Complete)
    }

    async fn get_credential_report(&self) -> AwsResult<CredentialReportBlob> {
        const ACTION: &str = IAM_GET_CREDENTIAL_REPORT;
        self.call(ACTION, None)?;
        if *self.generation_polls.lock().unwrap() > 0 {
            return Err(AwsError {
                action: ACTION,
                code: "ReportInProgress".into(),
                message: "the report is being generated".into(),
            });
        }
        self.report.clone().ok_or_else(|| AwsError {
            action: ACTION,
            code: "ReportNotPresent".into(),
            message: "no report has been generated".into(),
        })
    }

    async fn list_users(&self) -> AwsResult<Vec<IamUser>> {
        self.call(IAM_LIST_USERS, None)?;
        Ok(self.users.clone())
    }

    async fn list_user_tags(&self, user: &str) -> AwsResult<Vec<Tag>> {
        self.call(IAM_LIST_USER_TAGS, Some(user))?;
        Ok(self.tags.get(user).cloned().unwrap_or_default())
    }

    async fn list_users_with_tags(&self) -> AwsResult<Vec<TaggedUser>> {
        self.call(IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS, None)?;
        Ok(self
            .users
            .iter()
            .map(|user| TaggedUser {
                name: user.name.clone(),
                arn: user.arn.clone(),
                created: user.created,
                tags: self.tags.get(&user.name).cloned().unwrap_or_default(),
            })
            .collect())
    }

    async fn list_access_keys(&self, user: &str) -> AwsResult<Vec<AccessKeyMeta>> {
        self.call(IAM_LIST_ACCESS_KEYS, Some(user))?;
        Ok(self.current_keys(user))
    }

    /// The owner (`user`) is the key's owner in `keys` unless `last_used` names one.
    async fn get_access_key_last_used(&self, key_id: &str) -> AwsResult<KeyLastUsed> {
        const ACTION: &str = IAM_GET_ACCESS_KEY_LAST_USED;
        self.call(ACTION, Some(key_id))?;
        let Some(owner) = self.key_owner(key_id) else {
            return Err(Self::not_found(ACTION, key_id));
        };
        let mut used = self.last_used.get(key_id).cloned().unwrap_or(KeyLastUsed {
            date: None,
            service: None,
            region: None,
            user: None,
        });
        used.user.get_or_insert(owner);
        Ok(used)
    }

    async fn get_login_profile(&self, user: &str) -> AwsResult<Option<Timestamp>> {
        self.call(IAM_GET_LOGIN_PROFILE, Some(user))?;
        if self
            .changes
            .lock()
            .unwrap()
            .deleted_login_profiles
            .contains(user)
        {
            return Ok(None);
        }
        Ok(self.login_profiles.get(user).copied())
    }

    async fn list_mfa_devices(&self, user: &str) -> AwsResult<usize> {
        self.call(IAM_LIST_MFA_DEVICES, Some(user))?;
        Ok(self.mfa_devices.get(user).copied().unwrap_or(0))
    }

    async fn get_account_summary(&self) -> AwsResult<AccountSummary> {
        const ACTION: &str = IAM_GET_ACCOUNT_SUMMARY;
        self.call(ACTION, None)?;
        Ok(self.summary.unwrap_or(AccountSummary {
            root_access_keys_present: 0,
            root_mfa_enabled: true,
        }))
    }

    async fn get_account_password_policy(&self) -> AwsResult<Option<PasswordPolicy>> {
        self.call(IAM_GET_ACCOUNT_PASSWORD_POLICY, None)?;
        Ok(self.password_policy.clone())
    }
}

impl TrailRead for FakeAccount {
    async fn describe_trails(&self) -> AwsResult<Vec<TrailInfo>> {
        self.call(CLOUDTRAIL_DESCRIBE_TRAILS, None)?;
        Ok(self.trails.iter().map(|(t, _, _)| t.clone()).collect())
    }

    async fn get_trail_status(&self, trail_arn: &str) -> AwsResult<bool> {
        const ACTION: &str = CLOUDTRAIL_GET_TRAIL_STATUS;
        self.call(ACTION, Some(trail_arn))?;
        self.trails
            .iter()
            .find(|(t, _, _)| t.arn == trail_arn)
            .map(|(_, logging, _)| *logging)
            .ok_or_else(|| Self::not_found(ACTION, trail_arn))
    }

    async fn get_event_selectors(&self, trail_arn: &str) -> AwsResult<bool> {
        const ACTION: &str = CLOUDTRAIL_GET_EVENT_SELECTORS;
        self.call(ACTION, Some(trail_arn))?;
        self.trails
            .iter()
            .find(|(t, _, _)| t.arn == trail_arn)
            .map(|(_, _, management)| *management)
            .ok_or_else(|| Self::not_found(ACTION, trail_arn))
    }
}

impl RemediationRead for FakeAccount {
    async fn get_user_policy(&self, user: &str, policy_name: &str) -> AwsResult<Option<String>> {
        const ACTION: &str = IAM_GET_USER_POLICY;
        self.call(ACTION, Some(&format!("{user}/{policy_name}")))?;
        Ok(self.current_policies(user).remove(policy_name))
    }

    async fn list_user_policies(&self, user: &str) -> AwsResult<Vec<String>> {
        const ACTION: &str = IAM_LIST_USER_POLICIES;
        self.call(ACTION, Some(user))?;
        if !self.user_exists(user) {
            return Err(Self::not_found(ACTION, &format!("The user {user}")));
        }
        Ok(self.current_policies(user).into_keys().collect())
    }

    async fn get_user(&self, user: &str) -> AwsResult<Option<IamUser>> {
        self.call(IAM_GET_USER, Some(user))?;
        Ok(self.users.iter().find(|u| u.name == user).cloned())
    }
}

impl IamWrite for FakeAccount {
    async fn set_access_key_status(&self, user: &str, key_id: &str, active: bool) -> AwsResult<()> {
        const ACTION: &str = IAM_UPDATE_ACCESS_KEY;
        let status = if active { "Active" } else { "Inactive" };
        self.call(ACTION, Some(&format!("{user}/{key_id}:{status}")))?;
        self.owned_key(ACTION, user, key_id)?;
        let mut changes = self.changes.lock().unwrap();
        changes.status.insert(key_id.to_owned(), active);
        drop(changes);
        self.replied(ACTION, ())
    }

    async fn delete_access_key(&self, user: &str, key_id: &str) -> AwsResult<()> {
        const ACTION: &str = IAM_DELETE_ACCESS_KEY;
        self.call(ACTION, Some(&format!("{user}/{key_id}")))?;
        self.owned_key(ACTION, user, key_id)?;
        let mut changes = self.changes.lock().unwrap();
        changes.deleted_keys.insert(key_id.to_owned());
        drop(changes);
        self.replied(ACTION, ())
    }

    async fn delete_login_profile(&self, user: &str) -> AwsResult<()> {
        const ACTION: &str = IAM_DELETE_LOGIN_PROFILE;
        self.call(ACTION, Some(user))?;
        let mut changes = self.changes.lock().unwrap();
        if !self.login_profiles.contains_key(user) || changes.deleted_login_profiles.contains(user)
        {
            return Err(Self::not_found(
                ACTION,
                &format!("Login profile for user {user}"),
            ));
        }
        changes.deleted_login_profiles.insert(user.to_owned());
        drop(changes);
        self.replied(ACTION, ())
    }

    /// Records `iam:PutUserPolicy(user/name)`: the document is read back with GetUserPolicy.
    async fn put_user_policy(
        &self,
        user: &str,
        policy_name: &str,
        document: &str,
    ) -> AwsResult<()> {
        const ACTION: &str = IAM_PUT_USER_POLICY;
        self.call(ACTION, Some(&format!("{user}/{policy_name}")))?;
        if !self.user_exists(user) {
            return Err(Self::not_found(ACTION, &format!("The user {user}")));
        }
        if serde_json::from_str::<serde_json::Value>(document).is_err() {
            return Err(AwsError {
                action: ACTION,
                code: "MalformedPolicyDocument".into(),
                message: "Syntax errors in policy.".into(),
            });
        }
        let key = (user.to_owned(), policy_name.to_owned());
        let mut changes = self.changes.lock().unwrap();
        changes.deleted_policies.remove(&key);
        changes.put_policies.insert(key, document.to_owned());
        drop(changes);
        self.replied(ACTION, ())
    }

    async fn delete_user_policy(&self, user: &str, policy_name: &str) -> AwsResult<()> {
        const ACTION: &str = IAM_DELETE_USER_POLICY;
        self.call(ACTION, Some(&format!("{user}/{policy_name}")))?;
        if !self.current_policies(user).contains_key(policy_name) {
            return Err(Self::not_found(
                ACTION,
                &format!("The user policy with name {policy_name}"),
            ));
        }
        let key = (user.to_owned(), policy_name.to_owned());
        let mut changes = self.changes.lock().unwrap();
        changes.put_policies.remove(&key);
        changes.deleted_policies.insert(key);
        drop(changes);
        self.replied(ACTION, ())
    }

    /// Ids `AKIAFAKE000000000001`, `...002`..., secrets `fake-secret-000000000001...` (40
    /// characters), created at [`FakeAccount::now`]. A third key fails with `LimitExceeded`.
    async fn create_access_key(&self, user: &str) -> AwsResult<NewAccessKey> {
        const ACTION: &str = IAM_CREATE_ACCESS_KEY;
        self.call(ACTION, Some(user))?;
        if !self.user_exists(user) {
            return Err(Self::not_found(ACTION, &format!("The user {user}")));
        }
        if self.current_keys(user).len() >= 2 {
            return Err(AwsError {
                action: ACTION,
                code: "LimitExceeded".into(),
                message: "Cannot exceed quota for AccessKeysPerUser: 2".into(),
            });
        }
        let mut changes = self.changes.lock().unwrap();
        let n = changes.created_keys.len() + 1;
        let key = AccessKeyMeta {
            id: format!("AKIAFAKE{n:012}"),
            active: true,
            created: self.now,
        };
        changes.created_keys.push((user.to_owned(), key.clone()));
        drop(changes);
        self.replied(
            ACTION,
            NewAccessKey {
                id: key.id,
                created: key.created,
                secret: SecretString::new(format!("fake-secret-{n:012}{}", "x".repeat(16))),
            },
        )
    }
}

impl SecretWrite for FakeAccount {
    /// Records `secretsmanager:CreateSecret(name)`, never the value. ARNs are
    /// `arn:aws:secretsmanager:us-east-1:ACCOUNT:secret:NAME-fake`.
    async fn create_secret(
        &self,
        name: &str,
        secret: &SecretString,
        description: &str,
    ) -> AwsResult<String> {
        const ACTION: &str = SECRETSMANAGER_CREATE_SECRET;
        self.call(ACTION, Some(name))?;
        let mut changes = self.changes.lock().unwrap();
        if changes.secrets.contains_key(name) {
            return Err(AwsError {
                action: ACTION,
                code: "ResourceExistsException".into(),
                message: format!("The operation failed because the secret {name} already exists."),
            });
        }
        let account = self
            .caller
            .as_ref()
            .map_or(Self::DEFAULT_CALLER.0, |c| c.account.as_str());
        let arn = format!("arn:aws:secretsmanager:us-east-1:{account}:secret:{name}-fake");
        changes.secrets.insert(
            name.to_owned(),
            (arn.clone(), secret.clone(), description.to_owned()),
        );
        drop(changes);
        self.replied(ACTION, arn)
    }
}

impl SecretRead for FakeAccount {
    /// Records `secretsmanager:DescribeSecret(name)`; a name never created answers `None`.
    async fn describe_secret(&self, name: &str) -> AwsResult<Option<SecretInfo>> {
        self.call(SECRETSMANAGER_DESCRIBE_SECRET, Some(name))?;
        let changes = self.changes.lock().unwrap();
        Ok(changes
            .secrets
            .get(name)
            .map(|(arn, _, description)| SecretInfo {
                arn: arn.clone(),
                description: description.clone(),
            }))
    }
}

impl WhoAmI for FakeAccount {
    async fn caller_identity(&self) -> AwsResult<CallerIdentity> {
        self.call(STS_GET_CALLER_IDENTITY, None)?;
        Ok(self.caller.clone().unwrap_or_else(|| {
            let (account, arn, key) = Self::DEFAULT_CALLER;
            CallerIdentity {
                account: account.into(),
                arn: arn.into(),
                access_key_id: key.into(),
            }
        }))
    }
}

impl FakeAccount {
    fn bucket(&self, action: &'static str, bucket: &str) -> AwsResult<&BTreeMap<String, Vec<u8>>> {
        self.buckets.get(bucket).ok_or_else(|| AwsError {
            action,
            code: "NoSuchBucket".into(),
            message: format!("The specified bucket does not exist: {bucket}"),
        })
    }
}

impl LogBucketRead for FakeAccount {
    async fn list_objects(&self, bucket: &str, prefix: &str) -> AwsResult<Vec<S3Object>> {
        const ACTION: &str = S3_LIST_OBJECTS;
        self.call(ACTION, Some(&format!("{bucket}/{prefix}")))?;
        Ok(self
            .bucket(ACTION, bucket)?
            .range(prefix.to_owned()..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(key, data)| S3Object {
                key: key.clone(),
                size: data.len() as u64,
            })
            .collect())
    }

    async fn list_folders(&self, bucket: &str, prefix: &str) -> AwsResult<Vec<String>> {
        const ACTION: &str = S3_LIST_FOLDERS;
        self.call(ACTION, Some(&format!("{bucket}/{prefix} folders")))?;
        let folders: BTreeSet<String> = self
            .bucket(ACTION, bucket)?
            .range(prefix.to_owned()..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .filter_map(|(key, _)| {
                let rest = &key[prefix.len()..];
                rest.find('/')
                    .map(|end| format!("{prefix}{}", &rest[..=end]))
            })
            .collect();
        Ok(folders.into_iter().collect())
    }

    async fn get_object(&self, bucket: &str, key: &str) -> AwsResult<Vec<u8>> {
        const ACTION: &str = S3_GET_OBJECT;
        self.call(ACTION, Some(&format!("{bucket}/{key}")))?;
        self.bucket(ACTION, bucket)?
            .get(key)
            .cloned()
            .ok_or_else(|| AwsError {
                action: ACTION,
                code: "NoSuchKey".into(),
                message: format!("The specified key does not exist: {key}"),
            })
    }
}

impl EventHistoryRead for FakeAccount {
    /// Filters `event_history` like LookupEvents: the region, the attribute, the time range;
    /// newest first; the page token is the offset of the next page.
    async fn lookup_events(
        &self,
        region: &str,
        query: &LookupQuery,
        next_token: Option<&str>,
    ) -> AwsResult<LookupPage> {
        const ACTION: &str = CLOUDTRAIL_LOOKUP_EVENTS;
        let attribute = query
            .attribute
            .as_ref()
            .map_or("-".to_owned(), |a| a.to_string());
        self.call(
            ACTION,
            Some(&format!(
                "{region},{attribute},{}",
                next_token.unwrap_or("-")
            )),
        )?;
        let mut matching: Vec<(Timestamp, &String)> = self
            .event_history
            .iter()
            .filter(|(r, _)| r == region)
            .filter_map(|(_, record)| {
                let value: serde_json::Value = serde_json::from_str(record).ok()?;
                let time = parse_timestamp(value.get("eventTime")?.as_str()?)?;
                let wanted = query
                    .attribute
                    .as_ref()
                    .is_none_or(|a| record_matches(&value, a))
                    && query.start.is_none_or(|s| time >= s)
                    && query.end.is_none_or(|e| time <= e);
                wanted.then_some((time, record))
            })
            .collect();
        matching.sort_by_key(|(time, _)| std::cmp::Reverse(*time));
        let start = match next_token {
            None => 0,
            Some(token) => token.parse::<usize>().map_err(|_| AwsError {
                action: ACTION,
                code: "InvalidNextTokenException".into(),
                message: format!("invalid token {token}"),
            })?,
        };
        let size = query.max_results.clamp(1, crate::logs::LOOKUP_MAX_RESULTS) as usize;
        let end = (start + size).min(matching.len());
        Ok(LookupPage {
            events: matching[start.min(end)..end]
                .iter()
                .map(|(_, r)| (*r).clone())
                .collect(),
            without_record: 0,
            next_token: (end < matching.len()).then(|| end.to_string()),
        })
    }
}

/// An in-memory organization for tests of `audit --org`: a root, organizational units and
/// accounts under parents, a [`FakeAccount`] per member account, and AssumeRole failures on
/// demand per account.
#[derive(Debug, Default)]
pub struct FakeOrganization {
    pub roots: Vec<crate::api::OrgUnit>,
    /// Parent id (a root or an OU) -> the OUs directly under it.
    pub units: BTreeMap<String, Vec<crate::api::OrgUnit>>,
    /// Parent id -> the accounts directly under it.
    pub accounts: BTreeMap<String, Vec<crate::api::OrgAccount>>,
    /// Account id -> the account entered there.
    pub members: HashMap<String, Arc<FakeAccount>>,
    /// Account id -> the AWS error code its AssumeRole fails with (`AccessDenied`).
    pub enter_failures: HashMap<String, String>,
    /// Organizations actions that fail, with their AWS error code.
    pub failures: HashMap<&'static str, String>,
    calls: Mutex<Vec<String>>,
}

impl FakeOrganization {
    /// Every call made so far, as `action` or `action(argument)`.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    fn call(&self, action: &'static str, argument: Option<&str>) -> AwsResult<()> {
        record_call(
            &self.calls,
            &self.failures,
            "the fake organization",
            action,
            argument,
        )
    }
}

/// Records a call (`action` or `action(argument)`) and fails it when `failures` names its
/// action: the fake account's and the fake organization's calls alike.
fn record_call(
    calls: &Mutex<Vec<String>>,
    failures: &HashMap<&'static str, String>,
    who: &str,
    action: &'static str,
    argument: Option<&str>,
) -> AwsResult<()> {
    let entry = match argument {
        Some(arg) => format!("{action}({arg})"),
        None => action.to_owned(),
    };
    calls.lock().unwrap().push(entry);
    match failures.get(action) {
        Some(code) => Err(AwsError {
            action,
            code: code.clone(),
            message: format!("injected by {who} for {action}"),
        }),
        None => Ok(()),
    }
}

impl crate::api::OrgRead for FakeOrganization {
    async fn list_roots(&self) -> AwsResult<Vec<crate::api::OrgUnit>> {
        self.call(crate::api::ORGANIZATIONS_LIST_ROOTS, None)?;
        Ok(self.roots.clone())
    }

    async fn list_organizational_units_for_parent(
        &self,
        parent_id: &str,
    ) -> AwsResult<Vec<crate::api::OrgUnit>> {
        self.call(
            crate::api::ORGANIZATIONS_LIST_ORGANIZATIONAL_UNITS_FOR_PARENT,
            Some(parent_id),
        )?;
        Ok(self.units.get(parent_id).cloned().unwrap_or_default())
    }

    async fn list_accounts_for_parent(
        &self,
        parent_id: &str,
    ) -> AwsResult<Vec<crate::api::OrgAccount>> {
        self.call(
            crate::api::ORGANIZATIONS_LIST_ACCOUNTS_FOR_PARENT,
            Some(parent_id),
        )?;
        Ok(self.accounts.get(parent_id).cloned().unwrap_or_default())
    }
}

impl crate::api::EnterAccount for FakeOrganization {
    type Client = FakeAccount;

    async fn enter(&self, account_id: &str) -> AwsResult<Arc<FakeAccount>> {
        const ACTION: &str = crate::api::STS_ASSUME_ROLE;
        self.calls
            .lock()
            .unwrap()
            .push(format!("{ACTION}({account_id})"));
        if let Some(code) = self.enter_failures.get(account_id) {
            return Err(AwsError {
                action: ACTION,
                code: code.clone(),
                message: format!("injected by the fake organization for {account_id}"),
            });
        }
        self.members
            .get(account_id)
            .cloned()
            .ok_or_else(|| AwsError {
                action: ACTION,
                code: "AccessDenied".into(),
                message: format!("the fake organization has no account {account_id}"),
            })
    }
}
