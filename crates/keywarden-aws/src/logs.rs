//! Where CloudTrail logs are read from, besides local files: the S3 bucket a trail delivers to,
//! and CloudTrail's event history (LookupEvents). The read traits, their plain data types, and
//! their implementation on the live SDK client.
//!
//! Like [`crate::api`], each trait method is declared with the IAM action it needs, so
//! `keywarden permissions --command trail` prints a policy generated from what the code calls.
//!
//! S3 buckets answer only in their own region. The live client sends S3 calls to the
//! configured region and, when S3 answers that the bucket lives elsewhere (a redirect naming the
//! bucket's region in `x-amz-bucket-region`), repeats the call once in that region and remembers
//! it for the bucket's later calls.

use crate::api::{declare_calls, AwsError, AwsResult};
use crate::live::{aws_error, LiveClient};
use keywarden_core::Timestamp;
use std::fmt;
use std::future::Future;
use std::str::FromStr;

/// A ListObjectsV2 entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    pub key: String,
    pub size: u64,
}

/// LookupEvents' lookup attributes (AWS allows one per call).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LookupKey {
    AccessKeyId,
    EventId,
    EventName,
    EventSource,
    ReadOnly,
    ResourceName,
    ResourceType,
    Username,
}

impl LookupKey {
    pub const ALL: [LookupKey; 8] = [
        LookupKey::AccessKeyId,
        LookupKey::EventId,
        LookupKey::EventName,
        LookupKey::EventSource,
        LookupKey::ReadOnly,
        LookupKey::ResourceName,
        LookupKey::ResourceType,
        LookupKey::Username,
    ];

    /// The name AWS uses (`AttributeKey`).
    pub fn as_str(self) -> &'static str {
        match self {
            LookupKey::AccessKeyId => "AccessKeyId",
            LookupKey::EventId => "EventId",
            LookupKey::EventName => "EventName",
            LookupKey::EventSource => "EventSource",
            LookupKey::ReadOnly => "ReadOnly",
            LookupKey::ResourceName => "ResourceName",
            LookupKey::ResourceType => "ResourceType",
            LookupKey::Username => "Username",
        }
    }
}

impl fmt::Display for LookupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LookupKey {
    type Err = String;

    /// Case-insensitive: `accesskeyid` and `AccessKeyId` are the same key.
    fn from_str(text: &str) -> Result<Self, String> {
        LookupKey::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                let names: Vec<&str> = LookupKey::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "`{text}` is not a LookupEvents attribute (one of {})",
                    names.join(", ")
                )
            })
    }
}

/// One lookup attribute: `AccessKeyId=AKIA...`, `EventName=CreateAccessKey`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LookupAttribute {
    pub key: LookupKey,
    pub value: String,
}

impl fmt::Display for LookupAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

impl FromStr for LookupAttribute {
    type Err = String;

    /// `Key=Value`; the value is taken as written (AWS compares it exactly).
    fn from_str(text: &str) -> Result<Self, String> {
        let (key, value) = text
            .split_once('=')
            .ok_or_else(|| format!("`{text}` is not Key=Value (e.g. AccessKeyId=AKIA...)"))?;
        if value.is_empty() {
            return Err(format!("`{text}`: the value is empty"));
        }
        Ok(LookupAttribute {
            key: key.parse()?,
            value: value.to_owned(),
        })
    }
}

/// What one LookupEvents call asks for (the page token aside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupQuery {
    /// At most one: AWS refuses more than one attribute per call.
    pub attribute: Option<LookupAttribute>,
    /// `StartTime`; AWS's default is 90 days ago, as far back as event history goes.
    pub start: Option<Timestamp>,
    /// `EndTime`; AWS's default is now.
    pub end: Option<Timestamp>,
    /// Events per page, at most 50.
    pub max_results: u32,
}

/// The most events LookupEvents returns in one page.
pub const LOOKUP_MAX_RESULTS: u32 = 50;

/// One LookupEvents page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LookupPage {
    /// Each event's `CloudTrailEvent`: the event's CloudTrail JSON record, as a string.
    pub events: Vec<String>,
    /// Events of the page that came without a `CloudTrailEvent` (they cannot be analysed).
    pub without_record: usize,
    pub next_token: Option<String>,
}

declare_calls! {
    /// Read-only S3 calls for the log files a trail delivers to its bucket.
    pub trait LogBucketRead {
        /// Every object whose key starts with `prefix`, all pages, in key order.
        ["s3:ListBucket"] fn list_objects(&self, bucket: &str, prefix: &str) -> Vec<S3Object>;
        /// The "folders" directly under `prefix`: the common prefixes of a listing with the
        /// delimiter `/`, all pages, each ending with `/`.
        ["s3:ListBucket"] fn list_folders(&self, bucket: &str, prefix: &str) -> Vec<String>;
        /// The object's bytes, as stored (a `.json.gz` log file stays gzipped).
        ["s3:GetObject"] fn get_object(&self, bucket: &str, key: &str) -> Vec<u8>;
    }
    actions: LOG_BUCKET_READ_ACTIONS
}

declare_calls! {
    /// CloudTrail's event history: the last 90 days of management events, one region per call.
    pub trait EventHistoryRead {
        /// One page of events in `region`, newest first; `next_token` continues a previous page.
        ["cloudtrail:LookupEvents"] fn lookup_events(&self, region: &str, query: &LookupQuery, next_token: Option<&str>) -> LookupPage;
    }
    actions: EVENT_HISTORY_READ_ACTIONS
}

/// Whether a CloudTrail record matches a lookup attribute, as LookupEvents decides it. For the
/// in-memory fake; AWS derives `Username` and the resources itself, this reads them from the
/// record (`userIdentity.userName`, else the session issuer's; `resources[].ARN` / `.type`).
pub fn record_matches(record: &serde_json::Value, attribute: &LookupAttribute) -> bool {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let field = |pointer: &str| record.pointer(pointer).and_then(text);
    let want = Some(attribute.value.clone());
    let resources = || {
        record
            .get("resources")
            .and_then(|r| r.as_array())
            .cloned()
            .unwrap_or_default()
    };
    match attribute.key {
        LookupKey::AccessKeyId => field("/userIdentity/accessKeyId") == want,
        LookupKey::EventId => field("/eventID") == want,
        LookupKey::EventName => field("/eventName") == want,
        LookupKey::EventSource => field("/eventSource") == want,
        LookupKey::ReadOnly => field("/readOnly") == want,
        LookupKey::Username => {
            field("/userIdentity/userName")
                .or_else(|| field("/userIdentity/sessionContext/sessionIssuer/userName"))
                == want
        }
        LookupKey::ResourceName => resources()
            .iter()
            .any(|r| r.get("ARN").and_then(text) == want),
        LookupKey::ResourceType => resources()
            .iter()
            .any(|r| r.get("type").and_then(text) == want),
    }
}

// --- the live client ---------------------------------------------------------------------------

type S3Error<E> = aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>;

/// The region S3 names in a redirect or wrong-region answer, when it differs from `current`.
fn redirect_region<E>(error: &S3Error<E>, current: Option<&str>) -> Option<String> {
    let region = error
        .raw_response()?
        .headers()
        .get("x-amz-bucket-region")?
        .trim();
    (!region.is_empty() && Some(region) != current).then(|| region.to_owned())
}

impl LiveClient {
    /// Runs an S3 call in the bucket's region: the configured one until S3 says otherwise.
    async fn in_bucket_region<T, E, F, Fut>(
        &self,
        action: &'static str,
        bucket: &str,
        call: F,
    ) -> AwsResult<T>
    where
        F: Fn(Option<aws_sdk_s3::config::Builder>) -> Fut,
        Fut: Future<Output = Result<T, S3Error<E>>>,
        E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let known = self.bucket_region(bucket);
        let config = |region: &Option<String>| {
            region.as_ref().map(|r| {
                aws_sdk_s3::config::Builder::default()
                    .region(aws_sdk_s3::config::Region::new(r.clone()))
            })
        };
        match call(config(&known)).await {
            Ok(out) => Ok(out),
            Err(error) => {
                let current = known.as_deref().or(Some(self.region()));
                match redirect_region(&error, current) {
                    Some(region) => {
                        self.remember_bucket_region(bucket, &region);
                        call(config(&Some(region)))
                            .await
                            .map_err(|e| aws_error(action, e))
                    }
                    None => Err(aws_error(action, error)),
                }
            }
        }
    }

    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        token: Option<&str>,
    ) -> AwsResult<aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output> {
        self.in_bucket_region("s3:ListBucket", bucket, |config| {
            let request = self
                .s3()
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_delimiter(delimiter.map(str::to_owned))
                .set_continuation_token(token.map(str::to_owned));
            async move {
                match config {
                    Some(config) => request.customize().config_override(config).send().await,
                    None => request.send().await,
                }
            }
        })
        .await
    }

    /// Every page of one listing, each handed to `take`.
    async fn list_all(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        mut take: impl FnMut(&aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output),
    ) -> AwsResult<()> {
        let mut token: Option<String> = None;
        loop {
            let page = self
                .list_page(bucket, prefix, delimiter, token.as_deref())
                .await?;
            take(&page);
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => {
                    if token.as_deref() == Some(next) {
                        return Err(AwsError {
                            action: "s3:ListBucket",
                            code: "MalformedResponse".into(),
                            message: format!(
                                "s3://{bucket}/{prefix}: the listing repeats its continuation token"
                            ),
                        });
                    }
                    token = Some(next.to_owned());
                }
                _ => return Ok(()),
            }
        }
    }
}

impl LogBucketRead for LiveClient {
    async fn list_objects(&self, bucket: &str, prefix: &str) -> AwsResult<Vec<S3Object>> {
        let mut objects = Vec::new();
        self.list_all(bucket, prefix, None, |page| {
            objects.extend(page.contents().iter().filter_map(|o| {
                Some(S3Object {
                    key: o.key()?.to_owned(),
                    size: o.size().unwrap_or(0).max(0) as u64,
                })
            }))
        })
        .await?;
        Ok(objects)
    }

    async fn list_folders(&self, bucket: &str, prefix: &str) -> AwsResult<Vec<String>> {
        let mut folders = Vec::new();
        self.list_all(bucket, prefix, Some("/"), |page| {
            folders.extend(
                page.common_prefixes()
                    .iter()
                    .filter_map(|p| p.prefix().map(str::to_owned)),
            )
        })
        .await?;
        Ok(folders)
    }

    async fn get_object(&self, bucket: &str, key: &str) -> AwsResult<Vec<u8>> {
        const ACTION: &str = "s3:GetObject";
        let out = self
            .in_bucket_region(ACTION, bucket, |config| {
                let request = self.s3().get_object().bucket(bucket).key(key);
                async move {
                    match config {
                        Some(config) => request.customize().config_override(config).send().await,
                        None => request.send().await,
                    }
                }
            })
            .await?;
        let body = out.body.collect().await.map_err(|e| AwsError {
            action: ACTION,
            code: "ResponseError".into(),
            message: format!("s3://{bucket}/{key}: the body could not be read: {e}"),
        })?;
        Ok(body.into_bytes().to_vec())
    }
}

impl EventHistoryRead for LiveClient {
    async fn lookup_events(
        &self,
        region: &str,
        query: &LookupQuery,
        next_token: Option<&str>,
    ) -> AwsResult<LookupPage> {
        const ACTION: &str = "cloudtrail:LookupEvents";
        use aws_sdk_cloudtrail::primitives::DateTime;
        use aws_sdk_cloudtrail::types::{LookupAttribute as SdkAttribute, LookupAttributeKey};
        let time =
            |t: Timestamp| DateTime::from_secs_and_nanos(t.timestamp(), t.timestamp_subsec_nanos());
        let mut request = self
            .cloudtrail()
            .lookup_events()
            .max_results(query.max_results.clamp(1, LOOKUP_MAX_RESULTS) as i32)
            .set_start_time(query.start.map(time))
            .set_end_time(query.end.map(time))
            .set_next_token(next_token.map(str::to_owned));
        if let Some(attribute) = &query.attribute {
            let attribute = SdkAttribute::builder()
                .attribute_key(LookupAttributeKey::from(attribute.key.as_str()))
                .attribute_value(&attribute.value)
                .build()
                .map_err(|e| AwsError {
                    action: ACTION,
                    code: "ConstructionFailure".into(),
                    message: e.to_string(),
                })?;
            request = request.lookup_attributes(attribute);
        }
        let out = request
            .customize()
            .config_override(
                aws_sdk_cloudtrail::config::Builder::default()
                    .region(aws_sdk_cloudtrail::config::Region::new(region.to_owned())),
            )
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        let mut page = LookupPage {
            next_token: out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
            ..LookupPage::default()
        };
        for event in out.events() {
            match event.cloud_trail_event() {
                Some(record) if !record.trim().is_empty() => page.events.push(record.to_owned()),
                _ => page.without_record += 1,
            }
        }
        Ok(page)
    }
}
