//! The live client: the boundary's traits implemented with the official AWS SDK for Rust.
//!
//! AWS access follows the AWS CLI: the standard credential chain (environment, profiles, SSO,
//! container and instance roles), `--profile`, `--region`, `--endpoint-url` and
//! `AWS_ENDPOINT_URL`. Throttling and 5xx answers are retried by the SDK's standard retry
//! strategy with exponential backoff and jitter; what still fails comes back as an [`AwsError`]
//! carrying AWS's error code, never as an empty answer.

use crate::api::{
    decode_policy_document, AccessKeyMeta, AccountSummary, AwsError, AwsResult,
    CredentialReportBlob, IamRead, IamUser, IamWrite, KeyLastUsed, NewAccessKey, RemediationRead,
    ReportGeneration, SecretString, SecretWrite, TrailInfo, TrailRead, WhoAmI,
};
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use keywarden_core::model::{PasswordPolicy, Tag};
use keywarden_core::Timestamp;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How to reach AWS, as the user said it on the command line.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// Overrides every service's endpoint (a local server such as moto); `AWS_ENDPOINT_URL` is
    /// honoured by the SDK itself when this is not set.
    pub endpoint_url: Option<String>,
    /// Attempts per call, the first included (throttling and 5xx are retried).
    pub max_attempts: u32,
}

/// IAM is global and answers in us-east-1; it is also where CloudTrail sees every
/// multi-region trail, so it is the default when no region is configured.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The SDK clients keywarden uses, built once from the shared configuration.
#[derive(Debug, Clone)]
pub struct LiveClient {
    iam: aws_sdk_iam::Client,
    cloudtrail: aws_sdk_cloudtrail::Client,
    sts: aws_sdk_sts::Client,
    /// Path-style addressing (`endpoint/bucket/key`), which local servers such as moto need and
    /// bucket names with dots (common for CloudTrail buckets) need over TLS.
    s3: aws_sdk_s3::Client,
    secretsmanager: aws_sdk_secretsmanager::Client,
    /// Buckets S3 said live in another region than the configured one (see `logs`).
    bucket_regions: Arc<Mutex<HashMap<String, String>>>,
    region: String,
    requests: RequestCounter,
}

/// Counts every HTTP request the SDK sends (retries and pages included), by API action, so an
/// audit can say how many AWS calls it made.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter(Arc<Mutex<BTreeMap<String, u64>>>);

impl RequestCounter {
    /// Requests per action (`iam:ListAccessKeys`), sorted by action.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }

    pub fn total(&self) -> u64 {
        self.snapshot().values().sum()
    }
}

impl aws_sdk_iam::config::Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "keywarden-request-counter"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_iam::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &aws_sdk_iam::config::RuntimeComponents,
        _cfg: &mut aws_sdk_iam::config::ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let request = context.request();
        let host = request.uri().split("//").nth(1).unwrap_or_default();
        // JSON services name the action in X-Amz-Target (`CloudTrail_20131101.DescribeTrails`,
        // `secretsmanager.CreateSecret`), query services in the form body
        // (`Action=ListUsers&...`), S3 (REST) in the query string (`x-id=GetObject`,
        // `list-type=2` for ListObjectsV2).
        let action = match request.headers().get("x-amz-target") {
            Some(target) => json_target_action(target),
            None if s3_operation(request.uri()).is_some() => {
                format!("s3:{}", s3_operation(request.uri()).unwrap_or_default())
            }
            None => {
                let body = request.body().bytes().unwrap_or_default();
                let body = String::from_utf8_lossy(body);
                let operation = body
                    .split('&')
                    .find_map(|pair| pair.strip_prefix("Action="))
                    .unwrap_or("Unknown");
                let service = if body.contains("Version=2011-06-15") || host.starts_with("sts") {
                    "sts"
                } else {
                    "iam"
                };
                format!("{service}:{operation}")
            }
        };
        if let Ok(mut counts) = self.0.lock() {
            *counts.entry(action).or_default() += 1;
        }
        Ok(())
    }
}

/// `service:Operation` from a JSON protocol's X-Amz-Target: the operation after the last dot,
/// the service from the prefix without its API version (`CloudTrail_20131101` -> `cloudtrail`,
/// `secretsmanager` -> `secretsmanager`).
fn json_target_action(target: &str) -> String {
    let (prefix, operation) = target.rsplit_once('.').unwrap_or(("", target));
    let service = prefix.rsplit('.').next().unwrap_or(prefix);
    let service = service.split('_').next().unwrap_or(service);
    let service = if service.is_empty() {
        "unknown".to_owned()
    } else {
        service.to_ascii_lowercase()
    };
    format!("{service}:{operation}")
}

/// Captures the access key id a request was signed with, from its SigV4 `Authorization` header
/// (`AWS4-HMAC-SHA256 Credential=AKIA.../20250101/us-east-1/sts/aws4_request, ...`). This is the
/// key the client really uses, as resolved through the SDK's identity cache; asking the
/// credentials provider again would resolve a second time (a new assume-role session, a
/// `credential_process` run again) and could name another key.
#[derive(Debug, Clone, Default)]
struct SigningKey(Arc<Mutex<Option<String>>>);

impl SigningKey {
    fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|k| k.clone())
    }
}

impl aws_sdk_iam::config::Intercept for SigningKey {
    fn name(&self) -> &'static str {
        "keywarden-signing-key"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_iam::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &aws_sdk_iam::config::RuntimeComponents,
        _cfg: &mut aws_sdk_iam::config::ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let key = context
            .request()
            .headers()
            .get("authorization")
            .and_then(signing_key_id);
        if let (Some(key), Ok(mut slot)) = (key, self.0.lock()) {
            *slot = Some(key);
        }
        Ok(())
    }
}

/// The access key id of a SigV4 `Authorization` header's `Credential=` scope.
fn signing_key_id(authorization: &str) -> Option<String> {
    let scope = authorization.split("Credential=").nth(1)?;
    let key = scope.split('/').next()?.trim();
    (!key.is_empty()).then(|| key.to_owned())
}

/// The S3 operation a REST request is, from its query string.
fn s3_operation(uri: &str) -> Option<&str> {
    let query = uri.split_once('?')?.1;
    query
        .split('&')
        .find_map(|pair| match pair.split_once('=') {
            Some(("x-id", operation)) => Some(operation),
            Some(("list-type", "2")) => Some("ListObjectsV2"),
            _ => None,
        })
}

/// Who the credentials belong to; declared in [`crate::api`] (the fake reports one too).
pub use crate::api::CallerIdentity;

impl LiveClient {
    pub async fn connect(options: &ConnectOptions) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(
            RetryConfig::standard()
                .with_max_attempts(options.max_attempts.max(1))
                .with_initial_backoff(Duration::from_millis(200))
                .with_max_backoff(Duration::from_secs(20)),
        );
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &options.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let mut shared = loader.load().await;
        if shared.region().is_none() {
            shared = shared
                .into_builder()
                .region(Region::from_static(DEFAULT_REGION))
                .build();
        }
        let region = shared
            .region()
            .map_or(DEFAULT_REGION.to_owned(), |r| r.to_string());
        let requests = RequestCounter::default();
        LiveClient {
            iam: aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::config::Builder::from(&shared)
                    .interceptor(requests.clone())
                    .build(),
            ),
            cloudtrail: aws_sdk_cloudtrail::Client::from_conf(
                aws_sdk_cloudtrail::config::Builder::from(&shared)
                    .interceptor(requests.clone())
                    .build(),
            ),
            sts: aws_sdk_sts::Client::from_conf(
                aws_sdk_sts::config::Builder::from(&shared)
                    .interceptor(requests.clone())
                    .build(),
            ),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&shared)
                    .force_path_style(true)
                    .interceptor(requests.clone())
                    .build(),
            ),
            secretsmanager: aws_sdk_secretsmanager::Client::from_conf(
                aws_sdk_secretsmanager::config::Builder::from(&shared)
                    .interceptor(requests.clone())
                    .build(),
            ),
            bucket_regions: Arc::default(),
            region,
            requests,
        }
    }

    /// A client around ready-made SDK clients (tests use mocked ones). Its S3 and Secrets
    /// Manager clients have no credentials: replace them with [`LiveClient::with_s3`] and
    /// [`LiveClient::with_secretsmanager`] to call those services.
    pub fn from_clients(
        iam: aws_sdk_iam::Client,
        cloudtrail: aws_sdk_cloudtrail::Client,
        sts: aws_sdk_sts::Client,
    ) -> Self {
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::Config::builder()
                .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
                .region(Region::from_static(DEFAULT_REGION))
                .force_path_style(true)
                .build(),
        );
        let secretsmanager = aws_sdk_secretsmanager::Client::from_conf(
            aws_sdk_secretsmanager::Config::builder()
                .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
                .region(Region::from_static(DEFAULT_REGION))
                .build(),
        );
        LiveClient {
            iam,
            cloudtrail,
            sts,
            s3,
            secretsmanager,
            bucket_regions: Arc::default(),
            region: DEFAULT_REGION.to_owned(),
            requests: RequestCounter::default(),
        }
    }

    /// The same client with a ready-made S3 client (tests use a mocked one).
    pub fn with_s3(mut self, s3: aws_sdk_s3::Client) -> Self {
        self.s3 = s3;
        self
    }

    /// The same client with a ready-made Secrets Manager client (tests use a mocked one).
    pub fn with_secretsmanager(mut self, secretsmanager: aws_sdk_secretsmanager::Client) -> Self {
        self.secretsmanager = secretsmanager;
        self
    }

    pub(crate) fn s3(&self) -> &aws_sdk_s3::Client {
        &self.s3
    }

    pub(crate) fn cloudtrail(&self) -> &aws_sdk_cloudtrail::Client {
        &self.cloudtrail
    }

    /// The region S3 named for `bucket`, once it redirected a call.
    pub(crate) fn bucket_region(&self, bucket: &str) -> Option<String> {
        self.bucket_regions
            .lock()
            .ok()
            .and_then(|m| m.get(bucket).cloned())
    }

    pub(crate) fn remember_bucket_region(&self, bucket: &str, region: &str) {
        if let Ok(mut regions) = self.bucket_regions.lock() {
            regions.insert(bucket.to_owned(), region.to_owned());
        }
    }

    /// The requests sent so far (counted only for clients built by [`LiveClient::connect`]).
    pub fn requests(&self) -> &RequestCounter {
        &self.requests
    }

    pub fn region(&self) -> &str {
        &self.region
    }
}

impl WhoAmI for LiveClient {
    async fn caller_identity(&self) -> AwsResult<CallerIdentity> {
        const ACTION: &str = "sts:GetCallerIdentity";
        let signing_key = SigningKey::default();
        let out = self
            .sts
            .get_caller_identity()
            .customize()
            .interceptor(signing_key.clone())
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        let access_key_id = signing_key.get().ok_or_else(|| AwsError {
            action: ACTION,
            code: "UnsignedRequest".into(),
            message: "the request carried no SigV4 credential scope to read the access key id from"
                .into(),
        })?;
        Ok(CallerIdentity {
            account: out.account().unwrap_or_default().to_owned(),
            arn: out.arn().unwrap_or_default().to_owned(),
            access_key_id,
        })
    }
}

/// Turns an SDK error into the boundary's error: AWS's code when the service answered, the kind
/// of failure when it did not (no connection, timeout, unreadable response). An answer without
/// an error code (a proxy's HTML page, an empty 404) is said as what it is: its HTTP status and
/// the first bytes of its body ([`without_error_code`]).
pub(crate) fn aws_error<E>(action: &'static str, error: SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if let SdkError::ServiceError(e) = &error {
        if e.err().code().is_none_or(|code| code.trim().is_empty()) {
            let raw = e.raw();
            return without_error_code(
                action,
                raw.status().as_u16(),
                raw.body().bytes().unwrap_or_default(),
            );
        }
    }
    let code = match &error {
        SdkError::ServiceError(e) => e.err().code().unwrap_or_default().to_owned(),
        SdkError::ConstructionFailure(_) => "ConstructionFailure".to_owned(),
        SdkError::TimeoutError(_) => "Timeout".to_owned(),
        SdkError::DispatchFailure(_) => "DispatchFailure".to_owned(),
        SdkError::ResponseError(_) => "ResponseError".to_owned(),
        _ => "Unknown".to_owned(),
    };
    let message = match &error {
        SdkError::ServiceError(e) => e.err().message().unwrap_or_default().to_owned(),
        other => DisplayErrorContext(other).to_string(),
    };
    AwsError {
        action,
        code,
        message,
    }
}

/// How many bytes of a body without an error code an error quotes: enough to recognise a
/// proxy's page or a truncated answer, not a whole document.
const BODY_EXCERPT_BYTES: usize = 96;

/// The error for an answer that carries no AWS error code: `HTTP 404 with no error code` as its
/// code (never a made-up AWS code such as `UnknownServiceError`, which no one can look up), and
/// the body's first bytes, escaped (control characters, quotes and non-ASCII bytes as `\xNN`),
/// so a hostile or binary body cannot reach the terminal as it is.
pub(crate) fn without_error_code(action: &'static str, status: u16, body: &[u8]) -> AwsError {
    let message = if body.is_empty() {
        "the response body is empty".to_owned()
    } else {
        let excerpt = &body[..body.len().min(BODY_EXCERPT_BYTES)];
        let more = if body.len() > excerpt.len() {
            format!("… ({} bytes in all)", body.len())
        } else {
            String::new()
        };
        format!(
            "the response body starts `{}`{more}",
            excerpt.escape_ascii()
        )
    };
    AwsError {
        action,
        code: format!("HTTP {status} with no error code"),
        message,
    }
}

/// IAM answers NoSuchEntity for "there is none" (no login profile, no custom password policy):
/// that is an answer, not a failure.
fn none_if_not_found<T>(result: AwsResult<T>) -> AwsResult<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error),
    }
}

fn iam_user(user: &aws_sdk_iam::types::User) -> IamUser {
    IamUser {
        name: user.user_name().to_owned(),
        arn: user.arn().to_owned(),
        created: timestamp(user.create_date()).unwrap_or_default(),
        password_last_used: user.password_last_used().and_then(timestamp),
    }
}

fn timestamp(t: &aws_sdk_iam::primitives::DateTime) -> Option<Timestamp> {
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

fn required_time(
    action: &'static str,
    what: &str,
    t: Option<&aws_sdk_iam::primitives::DateTime>,
) -> AwsResult<Timestamp> {
    t.and_then(timestamp).ok_or_else(|| AwsError {
        action,
        code: "MalformedResponse".into(),
        message: format!("the response has no {what}"),
    })
}

impl IamRead for LiveClient {
    async fn generate_credential_report(&self) -> AwsResult<ReportGeneration> {
        const ACTION: &str = "iam:GenerateCredentialReport";
        let out = self
            .iam
            .generate_credential_report()
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        use aws_sdk_iam::types::ReportStateType;
        Ok(match out.state() {
            Some(ReportStateType::Complete) => ReportGeneration::Complete,
            Some(ReportStateType::Started) => ReportGeneration::Started,
            _ => ReportGeneration::InProgress,
        })
    }

    async fn get_credential_report(&self) -> AwsResult<CredentialReportBlob> {
        const ACTION: &str = "iam:GetCredentialReport";
        let out = self
            .iam
            .get_credential_report()
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        Ok(CredentialReportBlob {
            content: out
                .content()
                .map(|b| b.as_ref().to_vec())
                .unwrap_or_default(),
            generated_at: required_time(ACTION, "GeneratedTime", out.generated_time())?,
        })
    }

    async fn list_users(&self) -> AwsResult<Vec<IamUser>> {
        const ACTION: &str = "iam:ListUsers";
        let mut pages = self.iam.list_users().into_paginator().items().send();
        let mut users = Vec::new();
        while let Some(user) = pages.next().await {
            let user = user.map_err(|e| aws_error(ACTION, e))?;
            users.push(iam_user(&user));
        }
        Ok(users)
    }

    async fn list_user_tags(&self, user: &str) -> AwsResult<Vec<Tag>> {
        const ACTION: &str = "iam:ListUserTags";
        let mut pages = self
            .iam
            .list_user_tags()
            .user_name(user)
            .into_paginator()
            .items()
            .send();
        let mut tags = Vec::new();
        while let Some(tag) = pages.next().await {
            let tag = tag.map_err(|e| aws_error(ACTION, e))?;
            tags.push(Tag {
                key: tag.key().to_owned(),
                value: tag.value().to_owned(),
            });
        }
        Ok(tags)
    }

    async fn list_access_keys(&self, user: &str) -> AwsResult<Vec<AccessKeyMeta>> {
        const ACTION: &str = "iam:ListAccessKeys";
        let mut pages = self
            .iam
            .list_access_keys()
            .user_name(user)
            .into_paginator()
            .items()
            .send();
        let mut keys = Vec::new();
        while let Some(key) = pages.next().await {
            let key = key.map_err(|e| aws_error(ACTION, e))?;
            keys.push(AccessKeyMeta {
                id: key.access_key_id().unwrap_or_default().to_owned(),
                active: key.status() == Some(&aws_sdk_iam::types::StatusType::Active),
                created: required_time(ACTION, "CreateDate", key.create_date())?,
            });
        }
        Ok(keys)
    }

    async fn get_access_key_last_used(&self, key_id: &str) -> AwsResult<KeyLastUsed> {
        const ACTION: &str = "iam:GetAccessKeyLastUsed";
        let out = self
            .iam
            .get_access_key_last_used()
            .access_key_id(key_id)
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        let known = |s: &str| (!s.is_empty() && s != "N/A").then(|| s.to_owned());
        let user = out.user_name().filter(|u| !u.is_empty()).map(str::to_owned);
        Ok(match out.access_key_last_used() {
            Some(used) => KeyLastUsed {
                date: used.last_used_date().and_then(timestamp),
                service: known(used.service_name()),
                region: known(used.region()),
                user,
            },
            None => KeyLastUsed {
                date: None,
                service: None,
                region: None,
                user,
            },
        })
    }

    async fn get_login_profile(&self, user: &str) -> AwsResult<Option<Timestamp>> {
        const ACTION: &str = "iam:GetLoginProfile";
        let out = self.iam.get_login_profile().user_name(user).send().await;
        Ok(none_if_not_found(out.map_err(|e| aws_error(ACTION, e)))?
            .and_then(|out| out.login_profile().and_then(|p| timestamp(p.create_date()))))
    }

    async fn list_mfa_devices(&self, user: &str) -> AwsResult<usize> {
        const ACTION: &str = "iam:ListMFADevices";
        let mut pages = self
            .iam
            .list_mfa_devices()
            .user_name(user)
            .into_paginator()
            .items()
            .send();
        let mut count = 0;
        while let Some(device) = pages.next().await {
            device.map_err(|e| aws_error(ACTION, e))?;
            count += 1;
        }
        Ok(count)
    }

    async fn get_account_summary(&self) -> AwsResult<AccountSummary> {
        const ACTION: &str = "iam:GetAccountSummary";
        let out = self
            .iam
            .get_account_summary()
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        use aws_sdk_iam::types::SummaryKeyType;
        let map = out.summary_map();
        let get = |key: SummaryKeyType| map.and_then(|m| m.get(&key)).copied();
        match (
            get(SummaryKeyType::AccountAccessKeysPresent),
            get(SummaryKeyType::AccountMfaEnabled),
        ) {
            (Some(keys), Some(mfa)) => Ok(AccountSummary {
                root_access_keys_present: keys.max(0) as u32,
                root_mfa_enabled: mfa > 0,
            }),
            _ => Err(AwsError {
                action: ACTION,
                code: "MalformedResponse".into(),
                message: "the summary lacks AccountAccessKeysPresent or AccountMFAEnabled".into(),
            }),
        }
    }

    async fn get_account_password_policy(&self) -> AwsResult<Option<PasswordPolicy>> {
        const ACTION: &str = "iam:GetAccountPasswordPolicy";
        let out = self.iam.get_account_password_policy().send().await;
        let Some(out) = none_if_not_found(out.map_err(|e| aws_error(ACTION, e)))? else {
            return Ok(None);
        };
        Ok(out.password_policy().map(|p| PasswordPolicy {
            minimum_password_length: p.minimum_password_length().unwrap_or(6).max(0) as u32,
            require_uppercase_characters: p.require_uppercase_characters(),
            require_lowercase_characters: p.require_lowercase_characters(),
            require_numbers: p.require_numbers(),
            require_symbols: p.require_symbols(),
            password_reuse_prevention: p
                .password_reuse_prevention()
                .filter(|n| *n > 0)
                .map(|n| n as u32),
            max_password_age: p.max_password_age().filter(|n| *n > 0).map(|n| n as u32),
        }))
    }
}

impl TrailRead for LiveClient {
    async fn describe_trails(&self) -> AwsResult<Vec<TrailInfo>> {
        const ACTION: &str = "cloudtrail:DescribeTrails";
        let out = self
            .cloudtrail
            .describe_trails()
            .include_shadow_trails(true)
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        Ok(out
            .trail_list()
            .iter()
            .map(|t| TrailInfo {
                name: t.name().unwrap_or_default().to_owned(),
                arn: t.trail_arn().or(t.name()).unwrap_or_default().to_owned(),
                home_region: t.home_region().unwrap_or_default().to_owned(),
                is_multi_region: t.is_multi_region_trail().unwrap_or(false),
            })
            .collect())
    }

    async fn get_trail_status(&self, trail_arn: &str) -> AwsResult<bool> {
        const ACTION: &str = "cloudtrail:GetTrailStatus";
        let out = self
            .cloudtrail
            .get_trail_status()
            .name(trail_arn)
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        Ok(out.is_logging().unwrap_or(false))
    }

    async fn get_event_selectors(&self, trail_arn: &str) -> AwsResult<bool> {
        const ACTION: &str = "cloudtrail:GetEventSelectors";
        let out = self
            .cloudtrail
            .get_event_selectors()
            .trail_name(trail_arn)
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        use aws_sdk_cloudtrail::types::ReadWriteType;
        let basic = out.event_selectors().iter().any(|s| {
            s.include_management_events().unwrap_or(true)
                && !matches!(s.read_write_type(), Some(ReadWriteType::ReadOnly))
        });
        // Advanced selectors: a selector logs write management events when it selects the
        // Management category and does not restrict itself to read-only events.
        let advanced = out.advanced_event_selectors().iter().any(|s| {
            let fields = s.field_selectors();
            let equals = |field: &str, value: &str| {
                fields
                    .iter()
                    .any(|f| f.field() == field && f.equals().iter().any(|v| v == value))
            };
            equals("eventCategory", "Management") && !equals("readOnly", "true")
        });
        Ok(basic || advanced)
    }
}

impl RemediationRead for LiveClient {
    async fn get_user_policy(&self, user: &str, policy_name: &str) -> AwsResult<Option<String>> {
        const ACTION: &str = "iam:GetUserPolicy";
        let out = self
            .iam
            .get_user_policy()
            .user_name(user)
            .policy_name(policy_name)
            .send()
            .await;
        let Some(out) = none_if_not_found(out.map_err(|e| aws_error(ACTION, e)))? else {
            return Ok(None);
        };
        decode_policy_document(out.policy_document())
            .map(Some)
            .map_err(|message| AwsError {
                action: ACTION,
                code: "MalformedResponse".into(),
                message,
            })
    }

    async fn list_user_policies(&self, user: &str) -> AwsResult<Vec<String>> {
        const ACTION: &str = "iam:ListUserPolicies";
        let mut pages = self
            .iam
            .list_user_policies()
            .user_name(user)
            .into_paginator()
            .items()
            .send();
        let mut names = Vec::new();
        while let Some(name) = pages.next().await {
            names.push(name.map_err(|e| aws_error(ACTION, e))?);
        }
        Ok(names)
    }

    async fn get_user(&self, user: &str) -> AwsResult<Option<IamUser>> {
        const ACTION: &str = "iam:GetUser";
        let out = self.iam.get_user().user_name(user).send().await;
        Ok(none_if_not_found(out.map_err(|e| aws_error(ACTION, e)))?
            .and_then(|out| out.user().map(iam_user)))
    }
}

impl IamWrite for LiveClient {
    async fn set_access_key_status(&self, user: &str, key_id: &str, active: bool) -> AwsResult<()> {
        use aws_sdk_iam::types::StatusType;
        self.iam
            .update_access_key()
            .user_name(user)
            .access_key_id(key_id)
            .status(if active {
                StatusType::Active
            } else {
                StatusType::Inactive
            })
            .send()
            .await
            .map_err(|e| aws_error("iam:UpdateAccessKey", e))?;
        Ok(())
    }

    async fn delete_access_key(&self, user: &str, key_id: &str) -> AwsResult<()> {
        self.iam
            .delete_access_key()
            .user_name(user)
            .access_key_id(key_id)
            .send()
            .await
            .map_err(|e| aws_error("iam:DeleteAccessKey", e))?;
        Ok(())
    }

    async fn delete_login_profile(&self, user: &str) -> AwsResult<()> {
        self.iam
            .delete_login_profile()
            .user_name(user)
            .send()
            .await
            .map_err(|e| aws_error("iam:DeleteLoginProfile", e))?;
        Ok(())
    }

    async fn put_user_policy(
        &self,
        user: &str,
        policy_name: &str,
        document: &str,
    ) -> AwsResult<()> {
        self.iam
            .put_user_policy()
            .user_name(user)
            .policy_name(policy_name)
            .policy_document(document)
            .send()
            .await
            .map_err(|e| aws_error("iam:PutUserPolicy", e))?;
        Ok(())
    }

    async fn delete_user_policy(&self, user: &str, policy_name: &str) -> AwsResult<()> {
        self.iam
            .delete_user_policy()
            .user_name(user)
            .policy_name(policy_name)
            .send()
            .await
            .map_err(|e| aws_error("iam:DeleteUserPolicy", e))?;
        Ok(())
    }

    async fn create_access_key(&self, user: &str) -> AwsResult<NewAccessKey> {
        const ACTION: &str = "iam:CreateAccessKey";
        let out = self
            .iam
            .create_access_key()
            .user_name(user)
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        let key = out.access_key.ok_or_else(|| AwsError {
            action: ACTION,
            code: "MalformedResponse".into(),
            message: "the response has no AccessKey".into(),
        })?;
        Ok(NewAccessKey {
            id: key.access_key_id().to_owned(),
            created: required_time(ACTION, "CreateDate", key.create_date())?,
            // Moved, not copied: the only copy keywarden holds is zeroed on drop.
            secret: SecretString::new(key.secret_access_key),
        })
    }
}

impl SecretWrite for LiveClient {
    async fn create_secret(
        &self,
        name: &str,
        secret: &SecretString,
        description: &str,
    ) -> AwsResult<String> {
        const ACTION: &str = "secretsmanager:CreateSecret";
        let out = self
            .secretsmanager
            .create_secret()
            .name(name)
            .description(description)
            .secret_string(secret.expose())
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        out.arn().map(str::to_owned).ok_or_else(|| AwsError {
            action: ACTION,
            code: "MalformedResponse".into(),
            message: "the response has no ARN".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{json_target_action, signing_key_id};

    #[test]
    fn json_targets_name_their_service() {
        assert_eq!(
            json_target_action("CloudTrail_20131101.DescribeTrails"),
            "cloudtrail:DescribeTrails"
        );
        assert_eq!(
            json_target_action(
                "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
            ),
            "cloudtrail:LookupEvents"
        );
        assert_eq!(
            json_target_action("secretsmanager.CreateSecret"),
            "secretsmanager:CreateSecret"
        );
        assert_eq!(json_target_action("Odd"), "unknown:Odd");
    }

    #[test]
    fn the_signing_key_is_read_from_the_credential_scope() {
        assert_eq!(
            signing_key_id(
                "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20250101/us-east-1/sts/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature=abc"
            ),
            Some("AKIAEXAMPLE".to_owned())
        );
        assert_eq!(signing_key_id("Bearer token"), None);
        assert_eq!(signing_key_id("AWS4-HMAC-SHA256 Credential=/x"), None);
    }
}
