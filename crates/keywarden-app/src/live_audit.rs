//! The live audit: the credential report and a fixed number of account-level calls, then
//! per-user calls only where a verdict or a key id depends on them, then the core's audit.
//!
//! The report can be hours old, so every user the report makes fail is re-read: ListAccessKeys
//! attaches real key ids (matching the report's `last_rotated` to `CreateDate`) and fresh
//! statuses, GetAccessKeyLastUsed replaces stale last-use dates, GetLoginProfile and
//! ListMFADevices confirm the password and MFA findings (which rule needs which read is the
//! rule's own `live_data`, declared in its file); when the report was generated minutes ago,
//! the freshness reads are skipped and only key ids are read. The tags that exemptions read
//! come for every user at once from GetAccountAuthorizationDetails (a few pages, where the
//! per-user ListUserTags made one call per failing user); when AWS refuses it, each user's tags
//! are read on their own and the run says so. ListUsers (users created or deleted since the
//! report, fresher console sign-ins) is asked only when the directory cannot tell as much. A call that fails turns the findings that needed it into `unknown`, with the
//! AWS error code; it never turns them into passes. Users that pass on the report are not
//! re-read: calls grow with findings, not with users.

use crate::bounded::for_each_bounded;
use crate::report_fetch::{fetch_report, FetchError, PollPolicy, ReportBasis};
use keywarden_aws::api::{
    trail_from, AccessKeyMeta, AwsError, AwsResult, IamRead, IamUser, TaggedUser, TrailRead,
};
use keywarden_core::audit::{AccountExtras, AuditOutcome, AuditRun};
use keywarden_core::finding::{CredentialKind, EvidenceValue, Finding, Status};
use keywarden_core::model::{AccessKey, Cell, KeySlot, Known, RootSummary, Tag, UserCredentials};
use keywarden_core::report::{ReportError, ReportReader};
use keywarden_core::rules::LiveData;
use keywarden_core::{AuditConfig, Timestamp};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct LiveAuditOptions {
    /// A report older than this is regenerated.
    pub max_report_age: chrono::Duration,
    /// Re-read the users the report makes fail (`--no-enrich` turns this off).
    pub enrich: bool,
    /// Per-user calls in flight at once.
    pub concurrency: usize,
    /// A report at most this old is as fresh as a per-user read would be: its last uses,
    /// passwords and MFA are not read again (key ids and tags still are).
    pub fresh_report: chrono::Duration,
    pub poll: PollPolicy,
}

impl Default for LiveAuditOptions {
    fn default() -> Self {
        LiveAuditOptions {
            max_report_age: chrono::Duration::hours(4),
            enrich: true,
            concurrency: 8,
            fresh_report: chrono::Duration::minutes(15),
            poll: PollPolicy::default(),
        }
    }
}

/// Progress of the per-user stage, for a progress bar on a terminal.
pub trait Progress: Send + Sync {
    fn start(&self, total: u64);
    fn advance(&self);
    fn finish(&self);
}

pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _total: u64) {}
    fn advance(&self) {}
    fn finish(&self) {}
}

#[derive(Debug)]
pub struct LiveAudit {
    pub outcome: AuditOutcome,
    /// The credential report's GeneratedTime: how old the data is.
    pub report_generated_at: Timestamp,
    /// Why the run read that report (reused, generated for it, served again).
    pub report_basis: ReportBasis,
    /// Users re-read with per-user calls.
    pub users_enriched: usize,
    /// Things the user should know about the data (users deleted or created since the report).
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LiveAuditError {
    #[error(transparent)]
    Report(#[from] FetchError),
    // Not #[from]: the binary prints the error chain, and the message already holds the cause.
    #[error("the credential report AWS returned cannot be read: {0}")]
    Parse(ReportError),
}

impl From<ReportError> for LiveAuditError {
    fn from(error: ReportError) -> Self {
        LiveAuditError::Parse(error)
    }
}

/// What one user needs re-read, decided from the findings the report alone gives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Needs {
    keys: bool,
    last_used: [bool; 2],
    login: bool,
    mfa: bool,
    tags: bool,
}

impl Needs {
    fn everything() -> Self {
        Needs {
            keys: true,
            last_used: [true, true],
            login: true,
            mfa: true,
            tags: true,
        }
    }

    /// The data each finding's rule reads (its `live_data`), for the credential it is about;
    /// key ids and tags for every finding (plans and exemptions need them).
    fn from_findings(findings: &[Finding]) -> Self {
        let mut needs = Needs::default();
        for f in findings {
            let reads = |data| f.rule.live_data.contains(&data);
            needs.tags = true;
            if let CredentialKind::AccessKey(slot) = f.credential {
                needs.keys = true;
                if reads(LiveData::KeyLastUse) {
                    needs.last_used[slot as usize] = true;
                }
            }
            needs.login |= reads(LiveData::LoginProfile);
            needs.mfa |= reads(LiveData::MfaDevices);
        }
        needs
    }
}

/// A per-user call that failed, and the findings it leaves undecided.
#[derive(Debug, Clone)]
struct Failure {
    /// `None`: every credential of the user.
    slot: Option<KeySlot>,
    /// The data the call was to read: the findings of rules that read it are undecided. `None`:
    /// every rule's.
    data: Option<LiveData>,
    error: AwsError,
}

/// Runs the whole live audit against `client`.
pub async fn run_live_audit<C>(
    client: Arc<C>,
    config: &AuditConfig,
    now: Timestamp,
    options: &LiveAuditOptions,
    progress: &dyn Progress,
) -> Result<LiveAudit, LiveAuditError>
where
    C: IamRead + TrailRead + 'static,
{
    let preview = AuditRun::new(config, now);
    let wants_root = preview.reads(LiveData::AccountSummary);
    let (fetched, extras, directory) = tokio::join!(
        fetch_report(&*client, now, options.max_report_age, options.poll),
        account_extras(&*client, &preview, wants_root),
        async {
            if options.enrich {
                Some(client.list_users_with_tags().await)
            } else {
                None
            }
        },
    );
    let fetched = fetched?;
    let generated_at = fetched.blob.generated_at;
    let mut notes: Vec<String> = fetched
        .basis
        .note(now, generated_at, options.max_report_age)
        .into_iter()
        .collect();
    // The report rows are judged as of the report's GeneratedTime: a date after it cannot be
    // true, and the unknown finding it gives makes the user's credential re-read below.
    let report_preview = AuditRun::new(config, now).generated_at(Some(generated_at));
    let mut users: Vec<UserCredentials> = ReportReader::new(
        fetched.blob.content.as_slice(),
        "the credential report from AWS",
    )?
    .collect::<Result<_, _>>()?;
    let mut failures: HashMap<String, Vec<Failure>> = HashMap::new();
    let mut users_enriched = 0;

    // `directory` is there exactly when the run enriches.
    if let Some(directory) = directory {
        // Re-reading what a report generated minutes ago already says only costs calls: keep
        // the reads a report can never give (key ids, tags) and skip the freshness ones.
        let report_is_fresh =
            keywarden_core::time::age(now, fetched.blob.generated_at) <= options.fresh_report;
        let (mut tags_of, listed_users) =
            list_users(&*client, directory, &users, report_is_fresh, &mut notes).await;
        let mut jobs: Vec<(UserCredentials, bool, Needs)> = Vec::new();
        match listed_users {
            Ok(listed) => {
                // ListUsers is fresher than the report about console sign-ins.
                let last_sign_in: HashMap<&str, Timestamp> = listed
                    .iter()
                    .filter_map(|u| u.password_last_used.map(|t| (u.name.as_str(), t)))
                    .collect();
                for user in &mut users {
                    if let Some(&fresh) = last_sign_in.get(user.name.as_str()) {
                        if user
                            .password_last_used
                            .value()
                            .is_none_or(|&old| fresh > old)
                        {
                            user.password_last_used = Cell::Value(fresh);
                        }
                    }
                }
                let listed_names: HashSet<&str> = listed.iter().map(|u| u.name.as_str()).collect();
                let before = users.len();
                users.retain(|u| u.is_root || listed_names.contains(u.name.as_str()));
                if users.len() < before {
                    notes.push(format!(
                        "{} user(s) in the credential report no longer exist and were left out",
                        before - users.len()
                    ));
                }
                let reported: HashSet<&str> = users.iter().map(|u| u.name.as_str()).collect();
                let new_users: Vec<IamUser> = listed
                    .iter()
                    .filter(|u| !reported.contains(u.name.as_str()))
                    .cloned()
                    .collect();
                if !new_users.is_empty() {
                    notes.push(format!(
                        "{} user(s) created since the credential report were read with per-user calls",
                        new_users.len()
                    ));
                }
                for listed in &new_users {
                    let mut user = user_from_listing(listed);
                    let mut needs = Needs::everything();
                    take_tags(&mut tags_of, &mut user, &mut needs);
                    jobs.push((user, true, needs));
                }
            }
            Err(error) => notes.push(format!(
                "{}; users created or deleted since the credential report could not be detected",
                error.reason()
            )),
        }
        let mut kept = Vec::with_capacity(users.len());
        for mut user in users {
            let mut needs = Needs::from_findings(&report_preview.preview_user(&user));
            if report_is_fresh {
                needs.last_used = [false, false];
                needs.login = false;
                needs.mfa = false;
            }
            take_tags(&mut tags_of, &mut user, &mut needs);
            if needs == Needs::default() {
                kept.push(user);
            } else {
                jobs.push((user, false, needs));
            }
        }
        users = kept;
        users_enriched = jobs.len();
        progress.start(jobs.len() as u64);
        for_each_bounded(
            jobs,
            options.concurrency,
            |(user, user_is_new, needs)| {
                let client = Arc::clone(&client);
                async move { enrich_user(&*client, user, user_is_new, needs).await }
            },
            |(user, user_failures)| {
                collect(user, user_failures, &mut users, &mut failures, progress)
            },
        )
        .await;
        progress.finish();
    }

    // Re-read values are as of `now` (a last use after the report was generated is real), so
    // the data's own time is `now` once users were re-read; a report-only run keeps the
    // report's GeneratedTime.
    let data_time = (!options.enrich).then_some(generated_at);
    let mut run = AuditRun::new(config, now).generated_at(data_time);
    for user in &users {
        run.add_user(user);
    }
    let mut outcome = run.finish(extras);
    for finding in &mut outcome.findings {
        if let Some(failure) = finding
            .user
            .as_ref()
            .and_then(|name| failures.get(name))
            .and_then(|list| list.iter().find(|f| failure_applies(f, finding)))
        {
            mark_unknown(finding, &failure.error);
        }
    }
    Ok(LiveAudit {
        outcome,
        report_generated_at: generated_at,
        report_basis: fetched.basis,
        users_enriched,
        notes,
    })
}

fn collect(
    user: UserCredentials,
    user_failures: Vec<Failure>,
    users: &mut Vec<UserCredentials>,
    failures: &mut HashMap<String, Vec<Failure>>,
    progress: &dyn Progress,
) {
    if !user_failures.is_empty() {
        failures.insert(user.name.clone(), user_failures);
    }
    users.push(user);
    progress.advance();
}

fn failure_applies(failure: &Failure, finding: &Finding) -> bool {
    let rule_matches = failure
        .data
        .is_none_or(|data| finding.rule.live_data.contains(&data));
    let slot_matches = match failure.slot {
        None => true,
        Some(slot) => finding.credential == CredentialKind::AccessKey(slot),
    };
    // An unknown the rule already gave (a cell left missing because the call failed) gets the
    // AWS error as its reason too, so the user sees why, not a "missing column".
    matches!(finding.status, Status::Fail | Status::Unknown) && rule_matches && slot_matches
}

fn mark_unknown(finding: &mut Finding, error: &AwsError) {
    finding.status = Status::Unknown;
    finding.message = format!(
        "cannot confirm: {} (without it: {})",
        error.reason(),
        finding.message
    );
    finding
        .evidence
        .push(("unknown_reason", EvidenceValue::Text(error.reason())));
    finding
        .evidence
        .push(("aws_error_code", EvidenceValue::Text(error.code.clone())));
}

fn not_asked<T>() -> Known<T> {
    Known::Unknown("not asked: the rule does not run".to_owned())
}

/// Account-level facts, asked only for the rules that run.
async fn account_extras<C: IamRead + TrailRead>(
    client: &C,
    preview: &AuditRun<'_>,
    wants_root: bool,
) -> AccountExtras {
    let (policy, trails, summary) = tokio::join!(
        async {
            if !preview.reads(LiveData::PasswordPolicy) {
                return not_asked();
            }
            match client.get_account_password_policy().await {
                Ok(policy) => Known::Known(policy),
                Err(e) => Known::Unknown(e.reason()),
            }
        },
        async {
            if !preview.reads(LiveData::Trails) {
                return not_asked();
            }
            read_trails(client).await
        },
        async {
            if !wants_root {
                return None;
            }
            Some(match client.get_account_summary().await {
                Ok(s) => Known::Known(RootSummary {
                    access_keys_present: s.root_access_keys_present,
                    mfa_enabled: s.root_mfa_enabled,
                }),
                Err(e) => Known::Unknown(e.reason()),
            })
        },
    );
    AccountExtras {
        password_policy: policy,
        trails,
        root_summary: summary,
    }
}

async fn read_trails<C: TrailRead>(client: &C) -> Known<Vec<keywarden_core::model::Trail>> {
    let infos = match client.describe_trails().await {
        Ok(infos) => infos,
        Err(e) => return Known::Unknown(e.reason()),
    };
    let mut trails = Vec::with_capacity(infos.len());
    for info in &infos {
        let (logging, selectors) = tokio::join!(
            client.get_trail_status(&info.arn),
            client.get_event_selectors(&info.arn)
        );
        match (logging, selectors) {
            (Ok(logging), Ok(management)) => trails.push(trail_from(info, logging, management)),
            (Err(e), _) | (_, Err(e)) => return Known::Unknown(e.reason()),
        }
    }
    Known::Known(trails)
}

/// Every user's tags (from GetAccountAuthorizationDetails, or `None` when AWS refused it and
/// each user's tags are read on their own), and the account's users now: ListUsers when it can
/// tell more than the directory (console sign-ins fresher than a report that is not itself
/// fresh, and the sign-ins of users created since the report), else the directory's names.
async fn list_users<C: IamRead>(
    client: &C,
    directory: AwsResult<Vec<TaggedUser>>,
    report_users: &[UserCredentials],
    report_is_fresh: bool,
    notes: &mut Vec<String>,
) -> (Option<HashMap<String, Vec<Tag>>>, AwsResult<Vec<IamUser>>) {
    match directory {
        Ok(directory) => {
            let reported: HashSet<&str> = report_users.iter().map(|u| u.name.as_str()).collect();
            let someone_new = directory
                .iter()
                .any(|u| !reported.contains(u.name.as_str()));
            let listed = if report_is_fresh && !someone_new {
                Ok(directory
                    .iter()
                    .map(|u| IamUser {
                        name: u.name.clone(),
                        arn: u.arn.clone(),
                        created: u.created,
                        password_last_used: None,
                    })
                    .collect())
            } else {
                client.list_users().await
            };
            let tags = directory.into_iter().map(|u| (u.name, u.tags)).collect();
            (Some(tags), listed)
        }
        Err(error) => {
            notes.push(format!(
                "{}; each user's tags were read on their own (iam:ListUserTags)",
                error.reason()
            ));
            (None, client.list_users().await)
        }
    }
}

/// Gives `user` its tags from the account-wide read, so no ListUserTags is needed for it.
fn take_tags(
    tags_of: &mut Option<HashMap<String, Vec<Tag>>>,
    user: &mut UserCredentials,
    needs: &mut Needs,
) {
    if let Some(tags) = tags_of.as_mut().and_then(|all| all.remove(&user.name)) {
        if needs.tags {
            user.tags = Known::Known(tags);
            needs.tags = false;
        }
    }
}

/// Re-reads one user: a report row made fresh, or a user the report does not have yet.
async fn enrich_user<C: IamRead>(
    client: &C,
    mut user: UserCredentials,
    user_is_new: bool,
    needs: Needs,
) -> (UserCredentials, Vec<Failure>) {
    let mut failures = Vec::new();
    let name = user.name.clone();
    let (keys, login, mfa, tags) = tokio::join!(
        async {
            if needs.keys {
                Some(client.list_access_keys(&name).await)
            } else {
                None
            }
        },
        async {
            if needs.login {
                Some(client.get_login_profile(&name).await)
            } else {
                None
            }
        },
        async {
            if needs.mfa {
                Some(client.list_mfa_devices(&name).await)
            } else {
                None
            }
        },
        async {
            if needs.tags {
                Some(client.list_user_tags(&name).await)
            } else {
                None
            }
        },
    );
    let mut last_used_needed = needs.last_used;
    match keys {
        Some(Ok(keys)) => {
            for slot in attach_keys(&mut user, &keys) {
                // Its last use in the report, if any, may belong to another key.
                last_used_needed[slot as usize] = true;
            }
        }
        Some(Err(error)) => {
            if user_is_new {
                // Nothing at all is known about this user's keys: not "no keys".
                for key in &mut user.access_keys {
                    key.active = Cell::Missing;
                    key.last_rotated = Cell::Missing;
                }
            }
            failures.push(Failure {
                slot: None,
                data: Some(LiveData::AccessKeys),
                error,
            })
        }
        None => {}
    }
    for slot in KeySlot::BOTH {
        let key = &mut user.access_keys[slot as usize];
        let (true, Some(id)) = (last_used_needed[slot as usize], key.id.clone()) else {
            continue;
        };
        match client.get_access_key_last_used(&id).await {
            Ok(used) => {
                key.last_used = used.date.map_or(Cell::NotApplicable, Cell::Value);
                key.last_used_service = used.service.map_or(Cell::NotApplicable, Cell::Value);
                key.last_used_region = used.region.map_or(Cell::NotApplicable, Cell::Value);
            }
            Err(error) => failures.push(Failure {
                slot: Some(slot),
                data: Some(LiveData::KeyLastUse),
                error,
            }),
        }
    }
    match login {
        Some(Ok(Some(created))) => {
            user.password_enabled = Cell::Value(true);
            if user.password_last_changed.value().is_none() {
                user.password_last_changed = Cell::Value(created);
            }
        }
        Some(Ok(None)) => {
            user.password_enabled = Cell::Value(false);
            user.password_last_used = Cell::NotApplicable;
        }
        Some(Err(error)) => failures.push(Failure {
            slot: None,
            data: Some(LiveData::LoginProfile),
            error,
        }),
        None => {}
    }
    match mfa {
        Some(Ok(devices)) => user.mfa_active = Cell::Value(devices > 0),
        Some(Err(error)) => failures.push(Failure {
            slot: None,
            data: Some(LiveData::MfaDevices),
            error,
        }),
        None => {}
    }
    match tags {
        Some(Ok(tags)) => user.tags = Known::Known(tags),
        // Without the tags, a tag exemption cannot be checked: every failing finding of the
        // user becomes unknown rather than silently failing or passing.
        Some(Err(error)) => failures.push(Failure {
            slot: None,
            data: None,
            error,
        }),
        None => {}
    }
    (user, failures)
}

/// A user the credential report does not list yet (created since), before per-user calls.
fn user_from_listing(listed: &IamUser) -> UserCredentials {
    UserCredentials {
        name: listed.name.clone(),
        arn: listed.arn.clone(),
        is_root: false,
        created: Cell::Value(listed.created),
        password_enabled: Cell::Missing,
        password_last_used: listed
            .password_last_used
            .map_or(Cell::NoInformation, Cell::Value),
        password_last_changed: Cell::Missing,
        mfa_active: Cell::Missing,
        access_keys: [
            AccessKey::absent(KeySlot::One),
            AccessKey::absent(KeySlot::Two),
        ],
        tags: Known::Unknown("not read".into()),
    }
}

/// Puts ListAccessKeys' answer into the report's slots: a slot's key is the one created in the
/// same second as the slot's `last_rotated` (the report has second precision), preferring the
/// same status when two keys share that second. A slot whose key is gone was deleted since the
/// report; a key no slot claims was created since and takes a free slot. Returns the slots whose
/// last use must be read fresh: keys the report did not know, and same-second twins.
fn attach_keys(user: &mut UserCredentials, keys: &[AccessKeyMeta]) -> Vec<KeySlot> {
    let mut refetch = Vec::new();
    let mut unclaimed: Vec<&AccessKeyMeta> = keys.iter().collect();
    unclaimed.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    let mut emptied = Vec::new();
    for slot in KeySlot::BOTH {
        let key = &mut user.access_keys[slot as usize];
        let Cell::Value(created) = key.last_rotated else {
            emptied.push(slot);
            continue;
        };
        let report_active = key.active == Cell::Value(true);
        let same_second = |k: &&AccessKeyMeta| k.created.timestamp() == created.timestamp();
        // Counted over every key, claimed or not: both slots of a pair are ambiguous.
        let twins = keys
            .iter()
            .filter(|k| same_second(k) && k.active == report_active)
            .count();
        let position = unclaimed
            .iter()
            .position(|k| same_second(k) && k.active == report_active)
            .or_else(|| unclaimed.iter().position(same_second));
        match position {
            Some(index) => {
                let fresh = unclaimed.remove(index);
                key.id = Some(fresh.id.clone());
                key.active = Cell::Value(fresh.active);
                if twins > 1 {
                    // Two keys created in the same second with the same status cannot be told
                    // apart from the report: keep the id, drop the report's use columns, and
                    // read this key's own last use, so id and use belong to the same key.
                    key.last_used = Cell::Missing;
                    key.last_used_region = Cell::Missing;
                    key.last_used_service = Cell::Missing;
                    refetch.push(slot);
                }
            }
            None => {
                *key = AccessKey::absent(slot);
                emptied.push(slot);
            }
        }
    }
    for (slot, fresh) in emptied.into_iter().zip(unclaimed) {
        user.access_keys[slot as usize] = AccessKey {
            slot,
            active: Cell::Value(fresh.active),
            last_rotated: Cell::Value(fresh.created),
            last_used: Cell::Missing,
            last_used_region: Cell::Missing,
            last_used_service: Cell::Missing,
            id: Some(fresh.id.clone()),
        };
        refetch.push(slot);
    }
    refetch
}
