//! The log readers of the live client (`logs`: S3 log files, LookupEvents) against mocked SDK
//! clients (aws-smithy-mocks): no network, no credentials.
//!
//! - S3 listings follow `ContinuationToken` across pages, each follow-up carrying the previous
//!   page's token; folder listings ask for the delimiter `/` and return the common prefixes;
//! - GetObject returns the object's bytes as stored (a gzipped log stays gzipped);
//! - S3 errors come back with S3's code and the IAM action (`NoSuchBucket` on `s3:ListBucket`,
//!   `AccessDenied` on `s3:GetObject`), a failure on page 2 included, never as an empty answer;
//! - a bucket in another region: S3's redirect names the region (`x-amz-bucket-region`), the call
//!   is repeated there once, and the bucket's later calls go straight to it;
//! - LookupEvents sends one attribute, the page size, the time range and the token, in the region
//!   asked (SigV4 credential scope), and returns each event's `CloudTrailEvent`;
//! - `RequestCounter` names S3 and LookupEvents requests (`s3:ListObjectsV2`, `s3:GetObject`,
//!   `cloudtrail:LookupEvents`).
//!
//! Error answers are real S3 (XML) and CloudTrail (JSON) wire bodies sent through the SDK's own
//! deserializers.

mod support;

use aws_sdk_cloudtrail::operation::lookup_events::LookupEventsOutput;
use aws_sdk_cloudtrail::types::{Event, LookupAttributeKey};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
use aws_sdk_s3::primitives::{ByteStream, SdkBody};
use aws_sdk_s3::types::{CommonPrefix, Object};
use aws_smithy_mocks::{mock, mock_client};
use aws_smithy_mocks::{Rule, RuleMode};
use aws_smithy_runtime_api::http::StatusCode;
use keywarden_aws::live::{LiveClient, RequestCounter};
use keywarden_aws::logs::{
    EventHistoryRead, LogBucketRead, LookupAttribute, LookupKey, LookupQuery, S3Object,
};
use keywarden_core::time::parse_timestamp;
use std::sync::{Arc, Mutex};
use support::mocked_client;

// --- clients ---------------------------------------------------------------------------------

/// Records the region of every request's SigV4 credential scope.
#[derive(Debug, Clone, Default)]
struct SignedRegions(Arc<Mutex<Vec<String>>>);

impl SignedRegions {
    fn seen(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl aws_sdk_s3::config::Intercept for SignedRegions {
    fn name(&self) -> &'static str {
        "signed-regions"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &aws_sdk_s3::config::RuntimeComponents,
        _cfg: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let authorization = context
            .request()
            .headers()
            .get("authorization")
            .unwrap_or_default();
        // Credential=AKID/20240730/eu-west-1/s3/aws4_request
        let region = authorization
            .split("Credential=")
            .nth(1)
            .and_then(|scope| scope.split('/').nth(2))
            .unwrap_or("unsigned");
        self.0.lock().unwrap().push(region.to_owned());
        Ok(())
    }
}

fn s3_client(
    rules: &[&Rule],
    regions: &SignedRegions,
    counter: &RequestCounter,
) -> aws_sdk_s3::Client {
    mocked_client!(aws_sdk_s3, rules, regions.clone(), counter.clone(); |b| b.force_path_style(true))
}

fn cloudtrail_client(
    rules: &[&Rule],
    regions: &SignedRegions,
    counter: &RequestCounter,
) -> aws_sdk_cloudtrail::Client {
    mocked_client!(aws_sdk_cloudtrail, rules, regions.clone(), counter.clone())
}

/// The live client with S3 answering `rules` in order (IAM, CloudTrail and STS answer nothing).
fn s3_live(rules: &[&Rule]) -> (LiveClient, SignedRegions, RequestCounter) {
    let regions = SignedRegions::default();
    let counter = RequestCounter::default();
    let iam = mock_client!(aws_sdk_iam, RuleMode::Sequential, &[]);
    let client = LiveClient::from_clients(
        iam,
        cloudtrail_client(&[], &regions, &counter),
        mocked_client!(aws_sdk_sts, &[]),
    )
    .with_s3(s3_client(rules, &regions, &counter));
    (client, regions, counter)
}

/// The live client with CloudTrail answering `rules` in order.
fn cloudtrail_live(rules: &[&Rule]) -> (LiveClient, SignedRegions, RequestCounter) {
    let regions = SignedRegions::default();
    let counter = RequestCounter::default();
    let iam = mock_client!(aws_sdk_iam, RuleMode::Sequential, &[]);
    let client = LiveClient::from_clients(
        iam,
        cloudtrail_client(rules, &regions, &counter),
        mocked_client!(aws_sdk_sts, &[]),
    );
    (client, regions, counter)
}

// --- wire bodies -----------------------------------------------------------------------------

fn s3_error(code: &str, message: &str) -> Option<String> {
    Some(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <Error><Code>{code}</Code><Message>{message}</Message>\
         <RequestId>0000000000000000</RequestId><HostId>host</HostId></Error>"
    ))
}

fn object(key: &str, size: i64) -> Object {
    Object::builder().key(key).size(size).build()
}

fn list_page(keys: &[&str], next: Option<&str>) -> ListObjectsV2Output {
    ListObjectsV2Output::builder()
        .set_contents(Some(keys.iter().map(|k| object(k, 10)).collect()))
        .is_truncated(next.is_some())
        .set_next_continuation_token(next.map(str::to_owned))
        .build()
}

// --- S3 ----------------------------------------------------------------------------------------

#[tokio::test]
async fn list_objects_follows_continuation_tokens_and_keeps_every_key_in_order() {
    let page =
        |token: Option<&'static str>, keys: &'static [&'static str], next: Option<&'static str>| {
            mock!(aws_sdk_s3::Client::list_objects_v2)
                .match_requests(move |r| {
                    r.bucket() == Some("trail")
                        && r.prefix() == Some("AWSLogs/")
                        && r.delimiter().is_none()
                        && r.continuation_token() == token
                })
                .then_output(move || list_page(keys, next))
        };
    let p1 = page(
        None,
        &["AWSLogs/a.json.gz", "AWSLogs/b.json.gz"],
        Some("t2"),
    );
    let p2 = page(Some("t2"), &["AWSLogs/c.json.gz"], Some("t3"));
    let p3 = page(Some("t3"), &["AWSLogs/d.json.gz"], None);
    let (client, _, counter) = s3_live(&[&p1, &p2, &p3]);

    let objects = client.list_objects("trail", "AWSLogs/").await.unwrap();

    let keys: Vec<&str> = objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "AWSLogs/a.json.gz",
            "AWSLogs/b.json.gz",
            "AWSLogs/c.json.gz",
            "AWSLogs/d.json.gz"
        ]
    );
    assert_eq!(
        objects[0],
        S3Object {
            key: "AWSLogs/a.json.gz".into(),
            size: 10
        }
    );
    assert_eq!(counter.snapshot().get("s3:ListObjectsV2"), Some(&3));
}

#[tokio::test]
async fn list_folders_asks_for_the_delimiter_and_returns_common_prefixes() {
    let page = |token: Option<&'static str>,
                folders: &'static [&'static str],
                next: Option<&'static str>| {
        mock!(aws_sdk_s3::Client::list_objects_v2)
            .match_requests(move |r| r.delimiter() == Some("/") && r.continuation_token() == token)
            .then_output(move || {
                ListObjectsV2Output::builder()
                    .set_common_prefixes(Some(
                        folders
                            .iter()
                            .map(|f| CommonPrefix::builder().prefix(*f).build())
                            .collect(),
                    ))
                    .is_truncated(next.is_some())
                    .set_next_continuation_token(next.map(str::to_owned))
                    .build()
            })
    };
    let p1 = page(None, &["AWSLogs/1/CloudTrail/eu-west-1/"], Some("t2"));
    let p2 = page(Some("t2"), &["AWSLogs/1/CloudTrail/us-east-1/"], None);
    let (client, _, _) = s3_live(&[&p1, &p2]);

    let folders = client
        .list_folders("trail", "AWSLogs/1/CloudTrail/")
        .await
        .unwrap();

    assert_eq!(
        folders,
        [
            "AWSLogs/1/CloudTrail/eu-west-1/",
            "AWSLogs/1/CloudTrail/us-east-1/"
        ]
    );
}

#[tokio::test]
async fn a_missing_bucket_is_an_error_with_s3s_code() {
    let rule = mock!(aws_sdk_s3::Client::list_objects_v2)
        .sequence()
        .http_status(
            404,
            s3_error("NoSuchBucket", "The specified bucket does not exist"),
        )
        .build();
    let (client, _, _) = s3_live(&[&rule]);

    let error = client.list_objects("nope", "").await.unwrap_err();

    assert_eq!(error.action, "s3:ListBucket");
    assert_eq!(error.code, "NoSuchBucket");
    assert_eq!(error.message, "The specified bucket does not exist");
}

#[tokio::test]
async fn a_failure_on_page_two_is_an_error_not_page_one_alone() {
    let p1 = mock!(aws_sdk_s3::Client::list_objects_v2)
        .then_output(|| list_page(&["AWSLogs/a.json.gz"], Some("t2")));
    let p2 = mock!(aws_sdk_s3::Client::list_objects_v2)
        .sequence()
        .http_status(403, s3_error("AccessDenied", "Access Denied"))
        .build();
    let (client, _, _) = s3_live(&[&p1, &p2]);

    let error = client.list_objects("trail", "AWSLogs/").await.unwrap_err();

    assert_eq!(error.code, "AccessDenied");
    assert_eq!(p2.num_calls(), 1);
}

#[tokio::test]
async fn get_object_returns_the_bytes_as_stored() {
    let gzipped: &'static [u8] = &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3];
    let rule = mock!(aws_sdk_s3::Client::get_object)
        .match_requests(|r| r.bucket() == Some("trail") && r.key() == Some("AWSLogs/a.json.gz"))
        .then_output(move || {
            GetObjectOutput::builder()
                .body(ByteStream::from_static(gzipped))
                .build()
        });
    let (client, _, counter) = s3_live(&[&rule]);

    let data = client
        .get_object("trail", "AWSLogs/a.json.gz")
        .await
        .unwrap();

    assert_eq!(data, gzipped);
    assert_eq!(counter.snapshot().get("s3:GetObject"), Some(&1));
}

#[tokio::test]
async fn get_object_access_denied_names_the_action() {
    let rule = mock!(aws_sdk_s3::Client::get_object)
        .sequence()
        .http_status(403, s3_error("AccessDenied", "Access Denied"))
        .build();
    let (client, _, _) = s3_live(&[&rule]);

    let error = client.get_object("trail", "k.json.gz").await.unwrap_err();

    assert_eq!(error.action, "s3:GetObject");
    assert_eq!(error.code, "AccessDenied");
    assert!(error.reason().contains("s3:GetObject failed: AccessDenied"));
}

#[tokio::test]
async fn a_bucket_in_another_region_is_followed_and_remembered() {
    let redirect = mock!(aws_sdk_s3::Client::list_objects_v2)
        .sequence()
        .http_response(|| {
            let mut response = HttpResponse::new(
                StatusCode::try_from(301).unwrap(),
                SdkBody::from(
                    s3_error(
                        "PermanentRedirect",
                        "The bucket you are attempting to access must be addressed using the specified endpoint.",
                    )
                    .unwrap(),
                ),
            );
            response
                .headers_mut()
                .insert("x-amz-bucket-region", "eu-west-1");
            response
        })
        .build();
    let listed = mock!(aws_sdk_s3::Client::list_objects_v2)
        .then_output(|| list_page(&["AWSLogs/a.json.gz"], None));
    let fetched = mock!(aws_sdk_s3::Client::get_object).then_output(|| {
        GetObjectOutput::builder()
            .body(ByteStream::from_static(b"{}"))
            .build()
    });
    let (client, regions, _) = s3_live(&[&redirect, &listed, &fetched]);

    let objects = client.list_objects("trail", "AWSLogs/").await.unwrap();
    assert_eq!(objects.len(), 1);
    client
        .get_object("trail", "AWSLogs/a.json.gz")
        .await
        .unwrap();

    // The first call in the configured region, then the bucket's own region for good.
    assert_eq!(regions.seen(), ["us-east-1", "eu-west-1", "eu-west-1"]);
}

#[tokio::test]
async fn a_redirect_without_a_region_is_an_error() {
    let redirect = mock!(aws_sdk_s3::Client::list_objects_v2)
        .sequence()
        .http_status(301, s3_error("PermanentRedirect", "use the right endpoint"))
        .build();
    let (client, _, _) = s3_live(&[&redirect]);

    let error = client.list_objects("trail", "").await.unwrap_err();

    assert_eq!(error.code, "PermanentRedirect");
}

// --- LookupEvents --------------------------------------------------------------------------------

fn event(id: &str, record: Option<&str>) -> Event {
    Event::builder()
        .event_id(id)
        .event_name("CreateAccessKey")
        .set_cloud_trail_event(record.map(str::to_owned))
        .build()
}

#[tokio::test]
async fn lookup_events_sends_one_attribute_the_range_and_the_token_in_the_region_asked() {
    let start = parse_timestamp("2024-07-30T00:00:00Z").unwrap();
    let end = parse_timestamp("2024-08-02T12:30:00Z").unwrap();
    let rule = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .match_requests(move |r| {
            let attributes = r.lookup_attributes();
            attributes.len() == 1
                && attributes[0].attribute_key() == &LookupAttributeKey::AccessKeyId
                && attributes[0].attribute_value() == "AKIA1"
                && r.max_results() == Some(50)
                && r.start_time().map(|t| t.secs()) == Some(start.timestamp())
                && r.end_time().map(|t| t.secs()) == Some(end.timestamp())
                && r.next_token() == Some("page-2")
        })
        .then_output(|| {
            LookupEventsOutput::builder()
                .events(event("e1", Some(r#"{"eventID":"e1"}"#)))
                .events(event("e2", None))
                .events(event("e3", Some(r#"{"eventID":"e3"}"#)))
                .next_token("page-3")
                .build()
        });
    let (client, regions, counter) = cloudtrail_live(&[&rule]);
    let query = LookupQuery {
        attribute: Some(LookupAttribute {
            key: LookupKey::AccessKeyId,
            value: "AKIA1".into(),
        }),
        start: Some(start),
        end: Some(end),
        max_results: 50,
    };

    let page = client
        .lookup_events("eu-central-1", &query, Some("page-2"))
        .await
        .unwrap();

    assert_eq!(page.events, [r#"{"eventID":"e1"}"#, r#"{"eventID":"e3"}"#]);
    assert_eq!(page.without_record, 1);
    assert_eq!(page.next_token.as_deref(), Some("page-3"));
    assert_eq!(regions.seen(), ["eu-central-1"]);
    assert_eq!(counter.snapshot().get("cloudtrail:LookupEvents"), Some(&1));
}

#[tokio::test]
async fn lookup_events_without_attribute_or_range_sends_none_and_ends_without_a_token() {
    let rule = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .match_requests(|r| {
            r.lookup_attributes().is_empty()
                && r.start_time().is_none()
                && r.end_time().is_none()
                && r.next_token().is_none()
        })
        .then_output(|| LookupEventsOutput::builder().build());
    let (client, _, _) = cloudtrail_live(&[&rule]);
    let query = LookupQuery {
        attribute: None,
        start: None,
        end: None,
        max_results: 50,
    };

    let page = client
        .lookup_events("us-east-1", &query, None)
        .await
        .unwrap();

    assert!(page.events.is_empty());
    assert_eq!(page.next_token, None);
}

#[tokio::test]
async fn lookup_events_errors_carry_cloudtrails_code() {
    let rule = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .sequence()
        .http_status(
            400,
            Some(
                r#"{"__type":"InvalidLookupAttributesException","message":"You can specify only one lookup attribute."}"#
                    .to_owned(),
            ),
        )
        .build();
    let (client, _, _) = cloudtrail_live(&[&rule]);
    let query = LookupQuery {
        attribute: None,
        start: None,
        end: None,
        max_results: 50,
    };

    let error = client
        .lookup_events("us-east-1", &query, None)
        .await
        .unwrap_err();

    assert_eq!(error.action, "cloudtrail:LookupEvents");
    assert_eq!(error.code, "InvalidLookupAttributesException");
}

#[test]
fn lookup_attributes_parse_case_insensitively_and_refuse_unknown_keys() {
    let attribute: LookupAttribute = "eventname=CreateAccessKey".parse().unwrap();
    assert_eq!(attribute.key, LookupKey::EventName);
    assert_eq!(attribute.to_string(), "EventName=CreateAccessKey");
    // The value keeps its `=`: only the first one splits.
    let attribute: LookupAttribute = "ResourceName=a=b".parse().unwrap();
    assert_eq!(attribute.value, "a=b");
    let error = "Region=us-east-1".parse::<LookupAttribute>().unwrap_err();
    assert!(error.contains("AccessKeyId"), "{error}");
    assert!("AccessKeyId".parse::<LookupAttribute>().is_err());
}
