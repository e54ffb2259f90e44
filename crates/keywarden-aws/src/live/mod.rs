//! The live client: the boundary's traits implemented with the official AWS SDK for Rust.
//!
//! AWS access follows the AWS CLI: the standard credential chain (environment, profiles, SSO,
//! container and instance roles), `--profile`, `--region`, `--endpoint-url` and
//! `AWS_ENDPOINT_URL`. Throttling and 5xx answers are retried by the SDK's standard retry
//! strategy with exponential backoff and jitter; what still fails comes back as an [`AwsError`]
//! carrying AWS's error code, never as an empty answer.
//!
//! This module holds the client, its connection and what every service shares (errors, times,
//! [`all_items!`]: the one way a paginated listing is read); one submodule per service
//! implements that service's traits: [`iam`], [`sts`], [`cloudtrail`] (trails and the event
//! history), [`s3`] (a trail's log files), [`secretsmanager`] (rotation's hand-over) and
//! [`organizations`] (an organization's accounts and OUs). [`accounts`] enters the other
//! accounts of an organization ([`AccountClients`]: sts:AssumeRole, per account).
//! [`securityhub`] (`--to securityhub`).

mod accounts;
mod cloudtrail;
mod iam;
mod organizations;
mod s3;
mod secretsmanager;
mod securityhub;
mod sts;

use crate::api::{AwsError, AwsResult};
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
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
    /// The SDK's adaptive retry mode: a client-side rate limiter that slows every call down
    /// once AWS throttles (an organization's accounts audited at once), on top of the standard
    /// retries' backoff.
    pub adaptive_retry: bool,
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
    organizations: aws_sdk_organizations::Client,
    securityhub: aws_sdk_securityhub::Client,
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
        let action = match (
            request.headers().get("x-amz-target"),
            s3_operation(request.uri()),
            securityhub_operation(request.uri()),
        ) {
            (Some(target), _, _) => json_target_action(target),
            (None, Some(operation), _) => format!("s3:{operation}"),
            (None, None, Some(operation)) => format!("securityhub:{operation}"),
            (None, None, None) => {
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
    } else if service.starts_with("AWSOrganizations") {
        // `AWSOrganizationsV20161128.ListRoots`: the API version is glued to the name.
        "organizations".to_owned()
    } else {
        service.to_ascii_lowercase()
    };
    format!("{service}:{operation}")
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

/// The AWS connection cannot be set up as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    #[error("AWS profile `{name}` does not exist in ~/.aws/config or ~/.aws/credentials (or AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE); {}", available_profiles(.available))]
    ProfileNotFound {
        name: String,
        available: Vec<String>,
    },
    #[error("cannot read the AWS config files: {0}")]
    ConfigFiles(String),
}

fn available_profiles(names: &[String]) -> String {
    if names.is_empty() {
        "no profile is defined there".to_owned()
    } else {
        format!("profiles there: {}", names.join(", "))
    }
}

/// The profile `--profile` names, else `AWS_PROFILE`, must be in the shared config files.
async fn check_profile(flag: Option<&str>) -> Result<(), ConnectError> {
    use aws_types::os_shim_internal::{Env, Fs};
    let env = Env::real();
    let from_env = env.get("AWS_PROFILE").ok().filter(|p| !p.is_empty());
    let Some(name) = flag.map(str::to_owned).or(from_env) else {
        return Ok(());
    };
    let files = aws_runtime::env_config::file::EnvConfigFiles::default();
    let set = aws_config::profile::load(&Fs::real(), &env, &files, None)
        .await
        .map_err(|e| ConnectError::ConfigFiles(e.to_string()))?;
    if set.get_profile(&name).is_some() {
        return Ok(());
    }
    let mut available: Vec<String> = set.profiles().map(str::to_owned).collect();
    available.sort();
    Err(ConnectError::ProfileNotFound { name, available })
}

/// The SDK configuration `options` ask for: the credential chain (or the profile), the region
/// (us-east-1 when none is configured), the endpoint override, and the retry strategy.
pub(crate) async fn shared_config(options: &ConnectOptions) -> aws_config::SdkConfig {
    let retry = if options.adaptive_retry {
        RetryConfig::adaptive()
    } else {
        RetryConfig::standard()
    };
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(
        retry
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
    let shared = loader.load().await;
    if shared.region().is_none() {
        return shared
            .into_builder()
            .region(Region::from_static(DEFAULT_REGION))
            .build();
    }
    shared
}

/// The Security Hub operation a REST request is, from its path (Security Hub's paths are not
/// S3's or any other service's keywarden calls).
fn securityhub_operation(uri: &str) -> Option<&'static str> {
    let after_scheme = uri.split_once("//").map_or(uri, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("", |at| &after_scheme[at..]);
    let path = path.split('?').next().unwrap_or(path);
    match path {
        "/findings/import" => Some("BatchImportFindings"),
        "/findings/batchupdate" => Some("BatchUpdateFindings"),
        "/findings" => Some("GetFindings"),
        _ => None,
    }
}

/// Who the credentials belong to; declared in [`crate::api`] (the fake reports one too).
pub use crate::api::CallerIdentity;
pub use accounts::{AccountClients, RoleSpec};

impl LiveClient {
    /// The clients for `options`. A profile named with `--profile` or `AWS_PROFILE` must exist:
    /// the SDK would otherwise fail each call with a message that never names it.
    pub async fn connect(options: &ConnectOptions) -> Result<Self, ConnectError> {
        check_profile(options.profile.as_deref()).await?;
        let shared = shared_config(options).await;
        Ok(LiveClient::from_shared(&shared, RequestCounter::default()))
    }

    /// The clients of one configuration (its credentials, region, endpoint and retries), their
    /// requests counted by `requests`.
    pub(crate) fn from_shared(shared: &aws_config::SdkConfig, requests: RequestCounter) -> Self {
        let region = shared
            .region()
            .map_or(DEFAULT_REGION.to_owned(), |r| r.to_string());
        LiveClient {
            iam: aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::config::Builder::from(shared)
                    .interceptor(requests.clone())
                    .build(),
            ),
            cloudtrail: aws_sdk_cloudtrail::Client::from_conf(
                aws_sdk_cloudtrail::config::Builder::from(shared)
                    .interceptor(requests.clone())
                    .build(),
            ),
            sts: aws_sdk_sts::Client::from_conf(
                aws_sdk_sts::config::Builder::from(shared)
                    .interceptor(requests.clone())
                    .build(),
            ),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(shared)
                    .force_path_style(true)
                    .interceptor(requests.clone())
                    .build(),
            ),
            secretsmanager: aws_sdk_secretsmanager::Client::from_conf(
                aws_sdk_secretsmanager::config::Builder::from(shared)
                    .interceptor(requests.clone())
                    .build(),
            ),
            organizations: aws_sdk_organizations::Client::from_conf(
                aws_sdk_organizations::config::Builder::from(shared)
                    .interceptor(requests.clone())
                    .build(),
            ),
            securityhub: aws_sdk_securityhub::Client::from_conf(
                aws_sdk_securityhub::config::Builder::from(shared)
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
        let organizations = aws_sdk_organizations::Client::from_conf(
            aws_sdk_organizations::Config::builder()
                .behavior_version(aws_sdk_organizations::config::BehaviorVersion::latest())
                .region(Region::from_static(DEFAULT_REGION))
                .build(),
        );
        let securityhub = aws_sdk_securityhub::Client::from_conf(
            aws_sdk_securityhub::Config::builder()
                .behavior_version(aws_sdk_securityhub::config::BehaviorVersion::latest())
                .region(Region::from_static(DEFAULT_REGION))
                .build(),
        );
        LiveClient {
            iam,
            cloudtrail,
            sts,
            s3,
            secretsmanager,
            organizations,
            securityhub,
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

    /// The same client with a ready-made Security Hub client (tests use a mocked one).
    pub fn with_securityhub(mut self, securityhub: aws_sdk_securityhub::Client) -> Self {
        self.securityhub = securityhub;
        self
    }

    pub(crate) fn s3(&self) -> &aws_sdk_s3::Client {
        &self.s3
    }

    /// The same client with a ready-made Organizations client (tests use a mocked one).
    pub fn with_organizations(mut self, organizations: aws_sdk_organizations::Client) -> Self {
        self.organizations = organizations;
        self
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
    let (code, message) = match &error {
        SdkError::ServiceError(e) => (code, e.err().message().unwrap_or_default().to_owned()),
        other => {
            // The SDK's own rendering ends with a debug dump of the whole error (kilobytes):
            // only `--verbose` shows it, people read what `no_answer` makes of the chain.
            // Debug-quoted: control and Bidi characters escaped on their way to the terminal.
            tracing::debug!(action, error = ?DisplayErrorContext(other).to_string(), "AWS call failed without an answer");
            no_answer(code, other)
        }
    };
    AwsError {
        action,
        code,
        message,
    }
}

/// A call that got no answer from AWS, in a sentence a person can act on: which of the usual
/// causes it is (no credentials, credentials that cannot be loaded, no connection, a timeout)
/// and what to do, from the error's chain of causes (never its debug form).
fn no_answer(code: String, error: &(dyn std::error::Error + 'static)) -> (String, String) {
    use aws_credential_types::provider::error::CredentialsError;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    let mut innermost = String::new();
    let mut credentials = None;
    let mut connector = None;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        credentials = credentials.or_else(|| e.downcast_ref::<CredentialsError>());
        connector = connector.or_else(|| e.downcast_ref::<ConnectorError>());
        innermost = first_line(&e.to_string());
        cause = e.source();
    }
    match credentials {
        Some(CredentialsError::CredentialsNotLoaded(_)) => (
            "NoCredentials".to_owned(),
            "no AWS credentials were found (environment, profiles, web identity, container and instance roles were tried): set AWS_PROFILE or pass --profile NAME (profiles live in ~/.aws/config and ~/.aws/credentials), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".to_owned(),
        ),
        Some(CredentialsError::ProviderTimedOut(_)) => (
            "CredentialsTimeout".to_owned(),
            "loading the AWS credentials timed out (an instance or container role that did not answer?): pass --profile NAME or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".to_owned(),
        ),
        Some(_) => (
            "CredentialsError".to_owned(),
            format!("the AWS credentials could not be loaded: {innermost}; check the profile (--profile, AWS_PROFILE) and ~/.aws/config"),
        ),
        None if connector.is_some_and(|c| c.is_timeout()) => (
            "Timeout".to_owned(),
            format!("no answer from AWS in time: {innermost}; check the network or proxy (HTTPS_PROXY), or --endpoint-url"),
        ),
        None if connector.is_some_and(|c| c.is_io()) => (
            "ConnectionFailed".to_owned(),
            format!("cannot connect to AWS: {innermost}; check the network or proxy (HTTPS_PROXY), the region, or --endpoint-url"),
        ),
        None => (code, innermost),
    }
}

/// The first line of an error's text: a few providers list their attempts on further lines.
fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_owned()
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

/// Every item of every page of a paginated SDK listing (`$request` is the operation's fluent
/// builder), each turned into the boundary's type by `$convert` (which may use `?`); the first
/// page that fails is the listing's error, with `$action`. An empty listing is an empty `Vec`,
/// never a failure taken for "none".
macro_rules! all_items {
    ($action:expr, $request:expr, |$item:ident| $convert:expr) => {{
        let mut pages = $request.into_paginator().items().send();
        let mut items = Vec::new();
        while let Some($item) = pages.next().await {
            let $item = $item.map_err(|e| $crate::live::aws_error($action, e))?;
            items.push($convert);
        }
        items
    }};
    // Services whose paginators have no item stream (Organizations): every page's `$items`.
    ($action:expr, $request:expr, pages |$page:ident| $items:expr, |$item:ident| $convert:expr) => {{
        let mut pages = $request.into_paginator().send();
        let mut items = Vec::new();
        while let Some($page) = pages.next().await {
            let $page = $page.map_err(|e| $crate::live::aws_error($action, e))?;
            for $item in $items {
                items.push($convert);
            }
        }
        items
    }};
}
use all_items;

/// IAM answers NoSuchEntity for "there is none" (no login profile, no custom password policy):
/// that is an answer, not a failure.
fn none_if_not_found<T>(result: AwsResult<T>) -> AwsResult<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error),
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

#[cfg(test)]
mod tests {
    use super::json_target_action;

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
        assert_eq!(
            json_target_action("AWSOrganizationsV20161128.ListAccountsForParent"),
            "organizations:ListAccountsForParent"
        );
    }

    #[test]
    fn security_hub_paths_name_their_operation() {
        use super::securityhub_operation as op;
        assert_eq!(
            op("http://127.0.0.1:5000/findings/import"),
            Some("BatchImportFindings")
        );
        assert_eq!(
            op("https://securityhub.us-east-1.amazonaws.com/findings"),
            Some("GetFindings")
        );
        assert_eq!(
            op("https://securityhub.eu-west-1.amazonaws.com/findings/batchupdate"),
            Some("BatchUpdateFindings")
        );
        assert_eq!(op("https://iam.amazonaws.com/"), None);
        assert_eq!(op("http://127.0.0.1:5000/bucket/findings/import/x"), None);
    }
}
