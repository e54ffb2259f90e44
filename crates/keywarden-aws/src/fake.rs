//! An in-memory AWS account implementing the read traits, for fast tests of the application
//! layer. It records every call, so tests can assert how many calls an audit makes, and it can
//! fail any action with a given AWS error code.

use crate::api::{
    AccessKeyMeta, AccountSummary, AwsError, AwsResult, CredentialReportBlob, IamRead, IamUser,
    KeyLastUsed, ReportGeneration, TrailInfo, TrailRead,
};
use crate::logs::{
    record_matches, EventHistoryRead, LogBucketRead, LookupPage, LookupQuery, S3Object,
};
use keywarden_core::model::{PasswordPolicy, Tag};
use keywarden_core::time::parse_timestamp;
use keywarden_core::Timestamp;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

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
    /// Actions that fail, with the AWS error code they fail with.
    pub failures: HashMap<&'static str, String>,
    calls: Mutex<Vec<String>>,
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
        let entry = match argument {
            Some(arg) => format!("{action}({arg})"),
            None => action.to_owned(),
        };
        self.calls.lock().unwrap().push(entry);
        match self.failures.get(action) {
            Some(code) => Err(AwsError {
                action,
                code: code.clone(),
                message: format!("injected by the fake account for {action}"),
            }),
            None => Ok(()),
        }
    }

    fn not_found(action: &'static str, what: &str) -> AwsError {
        AwsError {
            action,
            code: "NoSuchEntity".into(),
            message: format!("{what} not found"),
        }
    }
}

impl IamRead for FakeAccount {
    async fn generate_credential_report(&self) -> AwsResult<ReportGeneration> {
        self.call("iam:GenerateCredentialReport", None)?;
        let mut polls = self.generation_polls.lock().unwrap();
        if *polls > 0 {
            *polls -= 1;
            return Ok(ReportGeneration::InProgress);
        }
        Ok(ReportGeneration::Complete)
    }

    async fn get_credential_report(&self) -> AwsResult<CredentialReportBlob> {
        const ACTION: &str = "iam:GetCredentialReport";
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
        self.call("iam:ListUsers", None)?;
        Ok(self.users.clone())
    }

    async fn list_user_tags(&self, user: &str) -> AwsResult<Vec<Tag>> {
        self.call("iam:ListUserTags", Some(user))?;
        Ok(self.tags.get(user).cloned().unwrap_or_default())
    }

    async fn list_access_keys(&self, user: &str) -> AwsResult<Vec<AccessKeyMeta>> {
        self.call("iam:ListAccessKeys", Some(user))?;
        Ok(self.keys.get(user).cloned().unwrap_or_default())
    }

    async fn get_access_key_last_used(&self, key_id: &str) -> AwsResult<KeyLastUsed> {
        const ACTION: &str = "iam:GetAccessKeyLastUsed";
        self.call(ACTION, Some(key_id))?;
        if !self.keys.values().flatten().any(|k| k.id == key_id) {
            return Err(Self::not_found(ACTION, key_id));
        }
        Ok(self.last_used.get(key_id).cloned().unwrap_or(KeyLastUsed {
            date: None,
            service: None,
            region: None,
        }))
    }

    async fn get_login_profile(&self, user: &str) -> AwsResult<Option<Timestamp>> {
        self.call("iam:GetLoginProfile", Some(user))?;
        Ok(self.login_profiles.get(user).copied())
    }

    async fn list_mfa_devices(&self, user: &str) -> AwsResult<usize> {
        self.call("iam:ListMFADevices", Some(user))?;
        Ok(self.mfa_devices.get(user).copied().unwrap_or(0))
    }

    async fn get_account_summary(&self) -> AwsResult<AccountSummary> {
        const ACTION: &str = "iam:GetAccountSummary";
        self.call(ACTION, None)?;
        Ok(self.summary.unwrap_or(AccountSummary {
            root_access_keys_present: 0,
            root_mfa_enabled: true,
        }))
    }

    async fn get_account_password_policy(&self) -> AwsResult<Option<PasswordPolicy>> {
        self.call("iam:GetAccountPasswordPolicy", None)?;
        Ok(self.password_policy.clone())
    }
}

impl TrailRead for FakeAccount {
    async fn describe_trails(&self) -> AwsResult<Vec<TrailInfo>> {
        self.call("cloudtrail:DescribeTrails", None)?;
        Ok(self.trails.iter().map(|(t, _, _)| t.clone()).collect())
    }

    async fn get_trail_status(&self, trail_arn: &str) -> AwsResult<bool> {
        const ACTION: &str = "cloudtrail:GetTrailStatus";
        self.call(ACTION, Some(trail_arn))?;
        self.trails
            .iter()
            .find(|(t, _, _)| t.arn == trail_arn)
            .map(|(_, logging, _)| *logging)
            .ok_or_else(|| Self::not_found(ACTION, trail_arn))
    }

    async fn get_event_selectors(&self, trail_arn: &str) -> AwsResult<bool> {
        const ACTION: &str = "cloudtrail:GetEventSelectors";
        self.call(ACTION, Some(trail_arn))?;
        self.trails
            .iter()
            .find(|(t, _, _)| t.arn == trail_arn)
            .map(|(_, _, management)| *management)
            .ok_or_else(|| Self::not_found(ACTION, trail_arn))
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
        const ACTION: &str = "s3:ListBucket";
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
        const ACTION: &str = "s3:ListBucket";
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
        const ACTION: &str = "s3:GetObject";
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
        const ACTION: &str = "cloudtrail:LookupEvents";
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
