//! The live client against mocked SDK clients (aws-smithy-mocks): no network, no credentials.
//!
//! These tests pin down what `LiveClient` does between the SDK and the read traits:
//!
//! - every list call follows `Marker` across pages and returns every item, in order, and each
//!   follow-up request carries the previous page's marker (checked by `match_requests` in
//!   `RuleMode::Sequential`, where a request that does not match the next rule panics);
//! - AWS's "not found" answers that mean "nothing configured" become `Ok(None)`
//!   (GetLoginProfile, GetAccountPasswordPolicy), while every other service error comes back as
//!   an `AwsError` carrying AWS's code and the IAM action, never as an empty answer (a failure
//!   on page 2 is an error, not page 1 alone);
//! - answers are mapped field by field (`N/A` last-use markers, the account summary keys, the
//!   credential report state, the password policy, trails and event selectors);
//! - `RequestCounter` names each request's action, one count per page.
//!
//! Error answers are real IAM / CloudTrail wire bodies (XML or JSON) sent through the SDK's own
//! deserializers, so the error codes are the ones AWS would produce, not hand-set metadata.

mod support;

use aws_sdk_iam::operation::generate_credential_report::GenerateCredentialReportOutput;
use aws_sdk_iam::operation::get_access_key_last_used::GetAccessKeyLastUsedOutput;
use aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;
use aws_sdk_iam::operation::get_account_password_policy::GetAccountPasswordPolicyOutput;
use aws_sdk_iam::operation::get_credential_report::GetCredentialReportOutput;
use aws_sdk_iam::operation::get_login_profile::GetLoginProfileOutput;
use aws_sdk_iam::operation::list_access_keys::ListAccessKeysOutput;
use aws_sdk_iam::operation::list_mfa_devices::ListMfaDevicesOutput;
use aws_sdk_iam::operation::list_user_tags::ListUserTagsOutput;
use aws_sdk_iam::operation::list_users::ListUsersOutput;
use aws_sdk_iam::primitives::{Blob, DateTime};
use aws_sdk_iam::types::{
    AccessKeyLastUsed, AccessKeyMetadata, EntityType, LoginProfile, MfaDevice,
    PasswordPolicy as SdkPolicy, ReportStateType, StatusType, Tag as SdkTag, User, UserDetail,
};
use aws_sdk_iam::Client as Iam;
use aws_smithy_mocks::{mock, mock_client};
use aws_smithy_mocks::{Rule, RuleMode};
use keywarden_aws::api::{
    AccessKeyMeta, AccountSummary, AwsError, IamRead, KeyLastUsed, ReportGeneration, TrailInfo,
    TrailRead, WhoAmI,
};
use keywarden_aws::live::{LiveClient, RequestCounter};
use keywarden_core::model::{PasswordPolicy, Tag};
use support::{iam_body, iam_error_body, mocked_client, ts};

// --- clients ---------------------------------------------------------------------------------

fn iam_client(mode: RuleMode, rules: &[&Rule]) -> Iam {
    mock_client!(aws_sdk_iam, mode, rules)
}

/// A CloudTrail client answering only `rules` (any other request panics).
fn cloudtrail_client(rules: &[&Rule]) -> aws_sdk_cloudtrail::Client {
    mocked_client!(aws_sdk_cloudtrail, rules)
}

/// An STS client answering only `rules` (any other request panics).
fn sts_client(rules: &[&Rule]) -> aws_sdk_sts::Client {
    mocked_client!(aws_sdk_sts, rules)
}

/// The live client around `iam`; CloudTrail and STS answer nothing (a call would panic).
fn live(iam: Iam) -> LiveClient {
    LiveClient::from_clients(iam, cloudtrail_client(&[]), sts_client(&[]))
}

/// The live client around `rules` answered in order.
fn live_sequential(rules: &[&Rule]) -> LiveClient {
    live(iam_client(RuleMode::Sequential, rules))
}

// --- wire bodies -----------------------------------------------------------------------------

const ACCESS_DENIED: &str =
    "User: arn:aws:iam::123456789012:user/auditor is not authorized to perform this action";

fn secs(s: i64) -> DateTime {
    DateTime::from_secs(s)
}

fn sdk_user(name: &str, created: i64) -> User {
    User::builder()
        .path("/")
        .user_name(name)
        .user_id(format!("AIDA{}", name.to_uppercase()))
        .arn(format!("arn:aws:iam::123456789012:user/{name}"))
        .create_date(secs(created))
        .build()
        .unwrap()
}

fn sdk_key(id: &str, status: StatusType, created: i64) -> AccessKeyMetadata {
    AccessKeyMetadata::builder()
        .user_name("alice")
        .access_key_id(id)
        .status(status)
        .create_date(secs(created))
        .build()
}

// --- pagination ------------------------------------------------------------------------------

#[tokio::test]
async fn users_with_tags_follow_the_marker_ask_only_for_users_and_keep_the_tags() {
    // GetAccountAuthorizationDetails filtered on users: every user with its tags, all pages,
    // 1,000 to a page (IAM's largest), each follow-up carrying the previous page's marker.
    let detail = |name: &str, tags: &[(&str, &str)]| {
        let mut user = UserDetail::builder()
            .user_name(name)
            .arn(format!("arn:aws:iam::123456789012:user/{name}"))
            .create_date(secs(1_600_000_000));
        for (key, value) in tags {
            user = user.tags(SdkTag::builder().key(*key).value(*value).build().unwrap());
        }
        user.build()
    };
    let page1 = mock!(Iam::get_account_authorization_details)
        .match_requests(|r| {
            r.marker().is_none() && r.filter() == [EntityType::User] && r.max_items() == Some(1000)
        })
        .then_output(move || {
            GetAccountAuthorizationDetailsOutput::builder()
                .user_detail_list(detail("alice", &[("keywarden:exempt", "2099-01-01 owned")]))
                .is_truncated(true)
                .marker("page-2")
                .build()
        });
    let page2 = mock!(Iam::get_account_authorization_details)
        .match_requests(|r| r.marker() == Some("page-2"))
        .then_output(move || {
            GetAccountAuthorizationDetailsOutput::builder()
                .user_detail_list(detail("bob", &[]))
                .is_truncated(false)
                .build()
        });
    let client = live_sequential(&[&page1, &page2]);

    let users = client.list_users_with_tags().await.unwrap();

    let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["alice", "bob"]);
    assert_eq!(
        users[0].tags,
        [Tag {
            key: "keywarden:exempt".into(),
            value: "2099-01-01 owned".into()
        }]
    );
    assert!(users[1].tags.is_empty());
    assert_eq!(users[1].created, ts(1_600_000_000));
}

#[tokio::test]
async fn a_user_detail_without_a_name_is_a_malformed_answer_not_a_user_dropped() {
    let page = mock!(Iam::get_account_authorization_details).then_output(|| {
        GetAccountAuthorizationDetailsOutput::builder()
            .user_detail_list(
                UserDetail::builder()
                    .arn("arn:aws:iam::123456789012:user/x")
                    .build(),
            )
            .is_truncated(false)
            .build()
    });
    let client = live_sequential(&[&page]);

    let error = client.list_users_with_tags().await.unwrap_err();

    assert_eq!(error.action, "iam:GetAccountAuthorizationDetails");
    assert_eq!(error.code, "MalformedResponse");
    assert!(error.message.contains("UserName"), "{}", error.message);
}

#[tokio::test]
async fn list_users_follows_the_marker_and_keeps_every_user_in_order() {
    let page1 = mock!(Iam::list_users)
        .match_requests(|r| r.marker().is_none())
        .then_output(|| {
            ListUsersOutput::builder()
                .users(sdk_user("alice", 1_600_000_000))
                .users(
                    User::builder()
                        .path("/")
                        .user_name("bob")
                        .user_id("AIDABOB")
                        .arn("arn:aws:iam::123456789012:user/bob")
                        .create_date(secs(1_600_000_100))
                        .password_last_used(secs(1_700_000_000))
                        .build()
                        .unwrap(),
                )
                .is_truncated(true)
                .marker("page-2")
                .build()
                .unwrap()
        });
    let page2 = mock!(Iam::list_users)
        .match_requests(|r| r.marker() == Some("page-2"))
        .then_output(|| {
            ListUsersOutput::builder()
                .users(sdk_user("carol", 1_600_000_200))
                .is_truncated(true)
                .marker("page-3")
                .build()
                .unwrap()
        });
    let page3 = mock!(Iam::list_users)
        .match_requests(|r| r.marker() == Some("page-3"))
        .then_output(|| {
            ListUsersOutput::builder()
                .users(sdk_user("dave", 1_600_000_300))
                .users(sdk_user("erin", 1_600_000_400))
                .is_truncated(false)
                .build()
                .unwrap()
        });
    let client = live_sequential(&[&page1, &page2, &page3]);

    let users = client.list_users().await.unwrap();

    let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["alice", "bob", "carol", "dave", "erin"]);
    assert_eq!(
        (page1.num_calls(), page2.num_calls(), page3.num_calls()),
        (1, 1, 1)
    );
    assert_eq!(users[0].arn, "arn:aws:iam::123456789012:user/alice");
    assert_eq!(users[0].created, ts(1_600_000_000));
    assert_eq!(users[0].password_last_used, None);
    assert_eq!(users[1].password_last_used, Some(ts(1_700_000_000)));
    assert_eq!(users[4].created, ts(1_600_000_400));
}

#[tokio::test]
async fn list_access_keys_follows_the_marker_for_the_same_user() {
    let page1 = mock!(Iam::list_access_keys)
        .match_requests(|r| r.user_name() == Some("alice") && r.marker().is_none())
        .then_output(|| {
            ListAccessKeysOutput::builder()
                .access_key_metadata(sdk_key("AKIAFIRST", StatusType::Active, 1_600_000_000))
                .is_truncated(true)
                .marker("k2")
                .build()
                .unwrap()
        });
    let page2 = mock!(Iam::list_access_keys)
        .match_requests(|r| r.user_name() == Some("alice") && r.marker() == Some("k2"))
        .then_output(|| {
            ListAccessKeysOutput::builder()
                .access_key_metadata(sdk_key("AKIASECOND", StatusType::Inactive, 1_650_000_000))
                .is_truncated(false)
                .build()
                .unwrap()
        });
    let client = live_sequential(&[&page1, &page2]);

    let keys = client.list_access_keys("alice").await.unwrap();

    assert_eq!(
        keys,
        [
            AccessKeyMeta {
                id: "AKIAFIRST".into(),
                active: true,
                created: ts(1_600_000_000),
            },
            AccessKeyMeta {
                id: "AKIASECOND".into(),
                active: false,
                created: ts(1_650_000_000),
            },
        ]
    );
    assert_eq!((page1.num_calls(), page2.num_calls()), (1, 1));
}

#[tokio::test]
async fn list_user_tags_follows_the_marker() {
    let tag = |k: &str, v: &str| SdkTag::builder().key(k).value(v).build().unwrap();
    let page1 = mock!(Iam::list_user_tags)
        .match_requests(|r| r.user_name() == Some("alice") && r.marker().is_none())
        .then_output(move || {
            ListUserTagsOutput::builder()
                .tags(tag("team", "payments"))
                .is_truncated(true)
                .marker("t2")
                .build()
                .unwrap()
        });
    let page2 = mock!(Iam::list_user_tags)
        .match_requests(|r| r.user_name() == Some("alice") && r.marker() == Some("t2"))
        .then_output(move || {
            ListUserTagsOutput::builder()
                .tags(tag("keywarden:exempt:KEY002", "2099-01-01 vendor key"))
                .tags(tag("owner", "alice@example.com"))
                .is_truncated(false)
                .build()
                .unwrap()
        });
    let client = live_sequential(&[&page1, &page2]);

    let tags = client.list_user_tags("alice").await.unwrap();

    let tag = |k: &str, v: &str| Tag {
        key: k.into(),
        value: v.into(),
    };
    assert_eq!(
        tags,
        [
            tag("team", "payments"),
            tag("keywarden:exempt:KEY002", "2099-01-01 vendor key"),
            tag("owner", "alice@example.com"),
        ]
    );
}

#[tokio::test]
async fn list_mfa_devices_counts_devices_on_every_page() {
    let device = |serial: &str| {
        MfaDevice::builder()
            .user_name("alice")
            .serial_number(serial)
            .enable_date(secs(1_600_000_000))
            .build()
            .unwrap()
    };
    let page1 = mock!(Iam::list_mfa_devices)
        .match_requests(|r| r.user_name() == Some("alice") && r.marker().is_none())
        .then_output(move || {
            ListMfaDevicesOutput::builder()
                .mfa_devices(device("arn:aws:iam::123456789012:mfa/one"))
                .is_truncated(true)
                .marker("m2")
                .build()
                .unwrap()
        });
    let page2 = mock!(Iam::list_mfa_devices)
        .match_requests(|r| r.user_name() == Some("alice") && r.marker() == Some("m2"))
        .then_output(move || {
            ListMfaDevicesOutput::builder()
                .mfa_devices(device("arn:aws:iam::123456789012:mfa/two"))
                .mfa_devices(device("arn:aws:iam::123456789012:mfa/three"))
                .is_truncated(false)
                .build()
                .unwrap()
        });
    let client = live_sequential(&[&page1, &page2]);

    assert_eq!(client.list_mfa_devices("alice").await.unwrap(), 3);
    assert_eq!((page1.num_calls(), page2.num_calls()), (1, 1));
}

#[tokio::test]
async fn list_mfa_devices_with_no_device_is_zero() {
    let empty = mock!(Iam::list_mfa_devices).then_output(|| {
        ListMfaDevicesOutput::builder()
            .set_mfa_devices(Some(Vec::new()))
            .is_truncated(false)
            .build()
            .unwrap()
    });
    let client = live_sequential(&[&empty]);
    assert_eq!(client.list_mfa_devices("alice").await.unwrap(), 0);
}

#[tokio::test]
async fn a_failure_on_a_later_page_is_an_error_not_a_shorter_list() {
    let page1 = mock!(Iam::list_users)
        .match_requests(|r| r.marker().is_none())
        .then_output(|| {
            ListUsersOutput::builder()
                .users(sdk_user("alice", 1_600_000_000))
                .is_truncated(true)
                .marker("page-2")
                .build()
                .unwrap()
        });
    let page2 = mock!(Iam::list_users)
        .match_requests(|r| r.marker() == Some("page-2"))
        .sequence()
        .http_status(403, Some(iam_error_body("AccessDenied", ACCESS_DENIED)))
        .build();
    let client = live_sequential(&[&page1, &page2]);

    let error = client.list_users().await.unwrap_err();

    assert_eq!(error.action, "iam:ListUsers");
    assert_eq!(error.code, "AccessDenied");
    assert_eq!(page2.num_calls(), 1);
}

// --- errors ----------------------------------------------------------------------------------

#[tokio::test]
async fn get_login_profile_no_such_entity_means_no_password() {
    let rule = mock!(Iam::get_login_profile)
        .match_requests(|r| r.user_name() == Some("bob"))
        .sequence()
        .http_status(
            404,
            Some(iam_error_body(
                "NoSuchEntity",
                "Login Profile for User bob cannot be found.",
            )),
        )
        .build();
    let client = live_sequential(&[&rule]);
    assert_eq!(client.get_login_profile("bob").await, Ok(None));
}

#[tokio::test]
async fn get_login_profile_returns_the_password_creation_date() {
    let rule = mock!(Iam::get_login_profile)
        .match_requests(|r| r.user_name() == Some("alice"))
        .then_output(|| {
            GetLoginProfileOutput::builder()
                .login_profile(
                    LoginProfile::builder()
                        .user_name("alice")
                        .create_date(secs(1_650_000_000))
                        .build()
                        .unwrap(),
                )
                .build()
        });
    let client = live_sequential(&[&rule]);
    assert_eq!(
        client.get_login_profile("alice").await,
        Ok(Some(ts(1_650_000_000)))
    );
}

#[tokio::test]
async fn get_login_profile_access_denied_is_an_error_not_no_password() {
    let rule = mock!(Iam::get_login_profile)
        .sequence()
        .http_status(403, Some(iam_error_body("AccessDenied", ACCESS_DENIED)))
        .build();
    let client = live_sequential(&[&rule]);
    let error = client.get_login_profile("alice").await.unwrap_err();
    assert_eq!(
        error,
        AwsError {
            action: "iam:GetLoginProfile",
            code: "AccessDenied".into(),
            message: ACCESS_DENIED.into(),
        }
    );
    assert!(error
        .reason()
        .contains("iam:GetLoginProfile failed: AccessDenied"));
}

#[tokio::test]
async fn an_answer_without_an_error_code_says_its_status_and_body() {
    // A proxy, a captive portal or a misrouted endpoint answers 404 with its own page, or with
    // nothing (moto's CloudTrail once did): there is no AWS error code. The error says what came
    // back, the status and the body's first bytes escaped (an ESC must not reach a terminal),
    // where it used to read `UnknownServiceError ()`, a code no one can look up.
    let page = "<html><title>\u{1b}[31mNot Found</title></html>";
    let long = format!("<html>{}</html>", "x".repeat(200));
    let rule = mock!(Iam::get_credential_report)
        .sequence()
        .http_status(404, Some(page.into()))
        .http_status(404, Some(String::new()))
        .http_status(400, Some(long.clone()))
        .build();
    let client = live_sequential(&[&rule]);

    let error = client.get_credential_report().await.unwrap_err();
    assert_eq!(error.code, "HTTP 404 with no error code");
    assert_eq!(
        error.reason(),
        "iam:GetCredentialReport failed: HTTP 404 with no error code \
         (the response body starts `<html><title>\\x1b[31mNot Found</title></html>`)"
    );
    assert!(!error.reason().contains('\u{1b}'));

    let error = client.get_credential_report().await.unwrap_err();
    assert_eq!(
        error.reason(),
        "iam:GetCredentialReport failed: HTTP 404 with no error code (the response body is empty)"
    );

    let error = client.get_credential_report().await.unwrap_err();
    assert_eq!(error.code, "HTTP 400 with no error code");
    assert!(
        error
            .message
            .ends_with(&format!("`… ({} bytes in all)", long.len())),
        "{error}"
    );
}

#[tokio::test]
async fn get_account_password_policy_no_such_entity_means_no_custom_policy() {
    let rule = mock!(Iam::get_account_password_policy)
        .sequence()
        .http_status(
            404,
            Some(iam_error_body(
                "NoSuchEntity",
                "The Password Policy with domain name 123456789012 cannot be found.",
            )),
        )
        .build();
    let client = live_sequential(&[&rule]);
    assert_eq!(client.get_account_password_policy().await, Ok(None));
}

#[tokio::test]
async fn get_account_password_policy_maps_every_field() {
    let rule = mock!(Iam::get_account_password_policy).then_output(|| {
        GetAccountPasswordPolicyOutput::builder()
            .password_policy(
                SdkPolicy::builder()
                    .minimum_password_length(14)
                    .require_uppercase_characters(true)
                    .require_lowercase_characters(true)
                    .require_numbers(false)
                    .require_symbols(true)
                    .password_reuse_prevention(24)
                    .expire_passwords(true)
                    .max_password_age(90)
                    .build(),
            )
            .build()
    });
    let client = live_sequential(&[&rule]);
    assert_eq!(
        client.get_account_password_policy().await,
        Ok(Some(PasswordPolicy {
            minimum_password_length: 14,
            require_uppercase_characters: true,
            require_lowercase_characters: true,
            require_numbers: false,
            require_symbols: true,
            password_reuse_prevention: Some(24),
            max_password_age: Some(90),
        }))
    );
}

#[tokio::test]
async fn get_account_password_policy_without_reuse_or_expiry_maps_to_none() {
    let rule = mock!(Iam::get_account_password_policy).then_output(|| {
        GetAccountPasswordPolicyOutput::builder()
            .password_policy(SdkPolicy::builder().minimum_password_length(8).build())
            .build()
    });
    let client = live_sequential(&[&rule]);
    let policy = client.get_account_password_policy().await.unwrap().unwrap();
    assert_eq!(policy.minimum_password_length, 8);
    assert_eq!(policy.password_reuse_prevention, None);
    assert_eq!(policy.max_password_age, None);
    assert!(!policy.require_symbols);
}

#[tokio::test]
async fn get_credential_report_not_present_is_an_error_with_its_code() {
    let rule = mock!(Iam::get_credential_report)
        .sequence()
        .http_status(
            410,
            Some(iam_error_body(
                "ReportNotPresent",
                "Credential report does not exist. Use GenerateCredentialReport to generate a credential report.",
            )),
        )
        .build();
    let client = live_sequential(&[&rule]);
    let error = client.get_credential_report().await.unwrap_err();
    assert_eq!(error.code, "ReportNotPresent");
    assert_eq!(error.action, "iam:GetCredentialReport");
}

#[tokio::test]
async fn get_credential_report_in_progress_and_expired_keep_their_codes() {
    for (status, code) in [(404, "ReportInProgress"), (410, "ReportExpired")] {
        let rule = mock!(Iam::get_credential_report)
            .sequence()
            .http_status(status, Some(iam_error_body(code, "not now")))
            .build();
        let client = live_sequential(&[&rule]);
        let error = client.get_credential_report().await.unwrap_err();
        assert_eq!(error.code, code);
    }
}

#[tokio::test]
async fn get_credential_report_returns_content_and_generated_time() {
    let rule = mock!(Iam::get_credential_report).then_output(|| {
        GetCredentialReportOutput::builder()
            .content(Blob::new(b"user,arn\n".to_vec()))
            .generated_time(secs(1_700_000_000))
            .build()
    });
    let client = live_sequential(&[&rule]);
    let blob = client.get_credential_report().await.unwrap();
    assert_eq!(blob.content, b"user,arn\n");
    assert_eq!(blob.generated_at, ts(1_700_000_000));
}

#[tokio::test]
async fn get_credential_report_without_generated_time_is_malformed() {
    let rule = mock!(Iam::get_credential_report).then_output(|| {
        GetCredentialReportOutput::builder()
            .content(Blob::new(b"user,arn\n".to_vec()))
            .build()
    });
    let client = live_sequential(&[&rule]);
    let error = client.get_credential_report().await.unwrap_err();
    assert_eq!(error.code, "MalformedResponse");
    assert_eq!(error.action, "iam:GetCredentialReport");
}

#[tokio::test]
async fn access_denied_names_the_action_of_every_read() {
    let (status, body) = (403, iam_error_body("AccessDenied", ACCESS_DENIED));
    let rules = [
        mock!(Iam::generate_credential_report)
            .sequence()
            .http_status(status, Some(body.clone()))
            .build(),
        mock!(Iam::list_user_tags)
            .sequence()
            .http_status(status, Some(body.clone()))
            .build(),
        mock!(Iam::list_access_keys)
            .sequence()
            .http_status(status, Some(body.clone()))
            .build(),
        mock!(Iam::get_access_key_last_used)
            .sequence()
            .http_status(status, Some(body.clone()))
            .build(),
        mock!(Iam::list_mfa_devices)
            .sequence()
            .http_status(status, Some(body.clone()))
            .build(),
        mock!(Iam::get_account_summary)
            .sequence()
            .http_status(status, Some(body.clone()))
            .build(),
        mock!(Iam::get_account_password_policy)
            .sequence()
            .http_status(status, Some(body.clone()))
            .build(),
    ];
    let rule_refs: Vec<&Rule> = rules.iter().collect();
    let client = live_sequential(&rule_refs);

    let expected = |action: &'static str| AwsError {
        action,
        code: "AccessDenied".into(),
        message: ACCESS_DENIED.into(),
    };
    assert_eq!(
        client.generate_credential_report().await,
        Err(expected("iam:GenerateCredentialReport"))
    );
    assert_eq!(
        client.list_user_tags("alice").await,
        Err(expected("iam:ListUserTags"))
    );
    assert_eq!(
        client.list_access_keys("alice").await,
        Err(expected("iam:ListAccessKeys"))
    );
    assert_eq!(
        client.get_access_key_last_used("AKIAFIRST").await,
        Err(expected("iam:GetAccessKeyLastUsed"))
    );
    assert_eq!(
        client.list_mfa_devices("alice").await,
        Err(expected("iam:ListMFADevices"))
    );
    assert_eq!(
        client.get_account_summary().await,
        Err(expected("iam:GetAccountSummary"))
    );
    assert_eq!(
        client.get_account_password_policy().await,
        Err(expected("iam:GetAccountPasswordPolicy"))
    );
}

#[tokio::test]
async fn throttling_that_outlasts_retries_keeps_its_code() {
    // Retries are the SDK's business (off in this mock); what still fails must carry the code.
    let rule = mock!(Iam::list_access_keys)
        .sequence()
        .http_status(400, Some(iam_error_body("Throttling", "Rate exceeded")))
        .build();
    let iam = mock_client!(aws_sdk_iam, RuleMode::Sequential, &[&rule], |b| b
        .retry_config(aws_sdk_iam::config::retry::RetryConfig::disabled()));
    let error = live(iam).list_access_keys("alice").await.unwrap_err();
    assert_eq!(error.code, "Throttling");
    assert_eq!(error.message, "Rate exceeded");
}

// --- field mapping ---------------------------------------------------------------------------

#[tokio::test]
async fn a_never_used_key_has_no_date_service_or_region() {
    // The wire answer for a key never used: N/A service and region, no LastUsedDate.
    let rule = mock!(Iam::get_access_key_last_used)
        .match_requests(|r| r.access_key_id() == Some("AKIANEVERUSED"))
        .sequence()
        .http_status(
            200,
            Some(iam_body(
                "GetAccessKeyLastUsed",
                "<AccessKeyLastUsed><Region>N/A</Region><ServiceName>N/A</ServiceName>\
                 </AccessKeyLastUsed><UserName>bob</UserName>",
            )),
        )
        .build();
    let client = live_sequential(&[&rule]);
    assert_eq!(
        client.get_access_key_last_used("AKIANEVERUSED").await,
        Ok(KeyLastUsed {
            date: None,
            service: None,
            region: None,
            user: Some("bob".into()),
        })
    );
}

#[tokio::test]
async fn a_used_key_has_its_date_service_and_region() {
    let rule = mock!(Iam::get_access_key_last_used)
        .match_requests(|r| r.access_key_id() == Some("AKIAUSED"))
        .then_output(|| {
            GetAccessKeyLastUsedOutput::builder()
                .user_name("alice")
                .access_key_last_used(
                    AccessKeyLastUsed::builder()
                        .last_used_date(secs(1_700_000_000))
                        .service_name("s3")
                        .region("eu-west-1")
                        .build()
                        .unwrap(),
                )
                .build()
        });
    let client = live_sequential(&[&rule]);
    assert_eq!(
        client.get_access_key_last_used("AKIAUSED").await,
        Ok(KeyLastUsed {
            date: Some(ts(1_700_000_000)),
            service: Some("s3".into()),
            region: Some("eu-west-1".into()),
            user: Some("alice".into()),
        })
    );
}

#[tokio::test]
async fn the_account_summary_maps_root_keys_and_mfa() {
    let summary = |keys: u32, mfa: u32| {
        iam_body(
            "GetAccountSummary",
            &format!(
                "<SummaryMap>\
                 <entry><key>Users</key><value>27</value></entry>\
                 <entry><key>AccountAccessKeysPresent</key><value>{keys}</value></entry>\
                 <entry><key>AccountMFAEnabled</key><value>{mfa}</value></entry>\
                 </SummaryMap>"
            ),
        )
    };
    let with_key_no_mfa = mock!(Iam::get_account_summary)
        .sequence()
        .http_status(200, Some(summary(1, 0)))
        .build();
    let clean = mock!(Iam::get_account_summary)
        .sequence()
        .http_status(200, Some(summary(0, 1)))
        .build();
    let client = live_sequential(&[&with_key_no_mfa, &clean]);
    assert_eq!(
        client.get_account_summary().await,
        Ok(AccountSummary {
            root_access_keys_present: 1,
            root_mfa_enabled: false,
        })
    );
    assert_eq!(
        client.get_account_summary().await,
        Ok(AccountSummary {
            root_access_keys_present: 0,
            root_mfa_enabled: true,
        })
    );
}

#[tokio::test]
async fn an_account_summary_without_the_root_keys_is_malformed_not_clean() {
    let rule = mock!(Iam::get_account_summary)
        .sequence()
        .http_status(
            200,
            Some(iam_body(
                "GetAccountSummary",
                "<SummaryMap><entry><key>Users</key><value>3</value></entry></SummaryMap>",
            )),
        )
        .build();
    let client = live_sequential(&[&rule]);
    let error = client.get_account_summary().await.unwrap_err();
    assert_eq!(error.code, "MalformedResponse");
    assert_eq!(error.action, "iam:GetAccountSummary");
}

#[tokio::test]
async fn generate_credential_report_maps_the_state() {
    let state = |s: ReportStateType| {
        mock!(Iam::generate_credential_report).then_output(move || {
            GenerateCredentialReportOutput::builder()
                .state(s.clone())
                .build()
        })
    };
    let started = state(ReportStateType::Started);
    let in_progress = state(ReportStateType::Inprogress);
    let complete = state(ReportStateType::Complete);
    let client = live_sequential(&[&started, &in_progress, &complete]);
    assert_eq!(
        client.generate_credential_report().await,
        Ok(ReportGeneration::Started)
    );
    assert_eq!(
        client.generate_credential_report().await,
        Ok(ReportGeneration::InProgress)
    );
    assert_eq!(
        client.generate_credential_report().await,
        Ok(ReportGeneration::Complete)
    );
}

#[tokio::test]
async fn a_key_without_a_creation_date_is_malformed_not_dropped() {
    let rule = mock!(Iam::list_access_keys).then_output(|| {
        ListAccessKeysOutput::builder()
            .access_key_metadata(
                AccessKeyMetadata::builder()
                    .user_name("alice")
                    .access_key_id("AKIANODATE")
                    .status(StatusType::Active)
                    .build(),
            )
            .is_truncated(false)
            .build()
            .unwrap()
    });
    let client = live_sequential(&[&rule]);
    let error = client.list_access_keys("alice").await.unwrap_err();
    assert_eq!(error.code, "MalformedResponse");
    assert_eq!(error.action, "iam:ListAccessKeys");
}

// --- CloudTrail and STS ----------------------------------------------------------------------

fn cloudtrail_json(body: &str) -> Option<String> {
    Some(body.to_owned())
}

#[tokio::test]
async fn describe_trails_asks_for_shadow_trails_and_maps_them() {
    let rule = mock!(aws_sdk_cloudtrail::Client::describe_trails)
        .match_requests(|r| r.include_shadow_trails() == Some(true))
        .sequence()
        .http_status(
            200,
            cloudtrail_json(
                r#"{"trailList":[
                    {"Name":"org","TrailARN":"arn:aws:cloudtrail:us-east-1:123456789012:trail/org",
                     "HomeRegion":"us-east-1","IsMultiRegionTrail":true},
                    {"Name":"local","HomeRegion":"eu-west-1"}
                ]}"#,
            ),
        )
        .build();
    let client = LiveClient::from_clients(
        iam_client(RuleMode::Sequential, &[]),
        cloudtrail_client(&[&rule]),
        sts_client(&[]),
    );
    assert_eq!(
        client.describe_trails().await.unwrap(),
        [
            TrailInfo {
                name: "org".into(),
                arn: "arn:aws:cloudtrail:us-east-1:123456789012:trail/org".into(),
                home_region: "us-east-1".into(),
                is_multi_region: true,
            },
            TrailInfo {
                name: "local".into(),
                // No ARN in the answer: the name is used to address the trail.
                arn: "local".into(),
                home_region: "eu-west-1".into(),
                is_multi_region: false,
            },
        ]
    );
}

#[tokio::test]
async fn cloudtrail_access_denied_keeps_the_code_and_action() {
    let rule = mock!(aws_sdk_cloudtrail::Client::describe_trails)
        .sequence()
        .http_status(
            400,
            cloudtrail_json(
                r#"{"__type":"AccessDeniedException","message":"not authorized to perform cloudtrail:DescribeTrails"}"#,
            ),
        )
        .build();
    let client = LiveClient::from_clients(
        iam_client(RuleMode::Sequential, &[]),
        cloudtrail_client(&[&rule]),
        sts_client(&[]),
    );
    let error = client.describe_trails().await.unwrap_err();
    assert_eq!(error.action, "cloudtrail:DescribeTrails");
    assert_eq!(error.code, "AccessDeniedException");
}

#[tokio::test]
async fn trail_status_and_event_selectors_are_read_by_arn() {
    const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/org";
    let status = mock!(aws_sdk_cloudtrail::Client::get_trail_status)
        .match_requests(|r| r.name() == Some(ARN))
        .sequence()
        .http_status(200, cloudtrail_json(r#"{"IsLogging":true}"#))
        .build();
    let selectors = |body: &'static str| {
        mock!(aws_sdk_cloudtrail::Client::get_event_selectors)
            .match_requests(|r| r.trail_name() == Some(ARN))
            .sequence()
            .http_status(200, cloudtrail_json(body))
            .build()
    };
    // Basic selectors: defaults (All, management events included) log writes.
    let basic_all = selectors(r#"{"EventSelectors":[{"ReadWriteType":"All"}]}"#);
    let basic_read_only = selectors(
        r#"{"EventSelectors":[{"ReadWriteType":"ReadOnly","IncludeManagementEvents":true}]}"#,
    );
    let basic_no_management = selectors(
        r#"{"EventSelectors":[{"ReadWriteType":"All","IncludeManagementEvents":false}]}"#,
    );
    let advanced_management = selectors(
        r#"{"AdvancedEventSelectors":[{"Name":"mgmt","FieldSelectors":[
            {"Field":"eventCategory","Equals":["Management"]}]}]}"#,
    );
    let advanced_read_only = selectors(
        r#"{"AdvancedEventSelectors":[{"Name":"reads","FieldSelectors":[
            {"Field":"eventCategory","Equals":["Management"]},
            {"Field":"readOnly","Equals":["true"]}]}]}"#,
    );
    let advanced_data_only = selectors(
        r#"{"AdvancedEventSelectors":[{"Name":"s3","FieldSelectors":[
            {"Field":"eventCategory","Equals":["Data"]},
            {"Field":"resources.type","Equals":["AWS::S3::Object"]}]}]}"#,
    );
    let client = LiveClient::from_clients(
        iam_client(RuleMode::Sequential, &[]),
        cloudtrail_client(&[
            &status,
            &basic_all,
            &basic_read_only,
            &basic_no_management,
            &advanced_management,
            &advanced_read_only,
            &advanced_data_only,
        ]),
        sts_client(&[]),
    );
    assert_eq!(client.get_trail_status(ARN).await, Ok(true));
    let mut answers = Vec::new();
    for _ in 0..6 {
        answers.push(client.get_event_selectors(ARN).await.unwrap());
    }
    assert_eq!(answers, [true, false, false, true, false, false]);
}

#[tokio::test]
async fn caller_identity_reads_account_and_arn() {
    let rule = mock!(aws_sdk_sts::Client::get_caller_identity)
        .sequence()
        .http_status(
            200,
            Some(
                "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
                 <GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/auditor</Arn>\
                 <UserId>AIDAAUDITOR</UserId><Account>123456789012</Account>\
                 </GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId>\
                 </ResponseMetadata></GetCallerIdentityResponse>"
                    .to_owned(),
            ),
        )
        .build();
    let client = LiveClient::from_clients(
        iam_client(RuleMode::Sequential, &[]),
        cloudtrail_client(&[]),
        sts_client(&[&rule]),
    );
    let identity = client.caller_identity().await.unwrap();
    assert_eq!(identity.account, "123456789012");
    assert_eq!(identity.arn, "arn:aws:iam::123456789012:user/auditor");
    // The key the client signed GetCallerIdentity with (the mocked client's credentials).
    assert_eq!(identity.access_key_id, "AKIDTEST");
}

// --- request counting ------------------------------------------------------------------------

#[tokio::test]
async fn the_request_counter_counts_each_page_under_its_action() {
    let counter = RequestCounter::default();
    let page = |marker: Option<&'static str>, next: Option<&'static str>| {
        mock!(Iam::list_users)
            .match_requests(move |r| r.marker() == marker)
            .then_output(move || {
                ListUsersOutput::builder()
                    .users(sdk_user("alice", 1_600_000_000))
                    .is_truncated(next.is_some())
                    .set_marker(next.map(str::to_owned))
                    .build()
                    .unwrap()
            })
    };
    let p1 = page(None, Some("2"));
    let p2 = page(Some("2"), Some("3"));
    let p3 = page(Some("3"), None);
    let tags = mock!(Iam::list_user_tags).then_output(|| {
        ListUserTagsOutput::builder()
            .set_tags(Some(Vec::new()))
            .is_truncated(false)
            .build()
            .unwrap()
    });
    let counting = counter.clone();
    let iam = mock_client!(
        aws_sdk_iam,
        RuleMode::Sequential,
        &[&p1, &p2, &p3, &tags],
        move |b| b.interceptor(counting.clone())
    );
    let trails = mock!(aws_sdk_cloudtrail::Client::describe_trails)
        .sequence()
        .http_status(200, cloudtrail_json(r#"{"trailList":[]}"#))
        .build();
    let cloudtrail = mocked_client!(aws_sdk_cloudtrail, [&trails], counter.clone());
    let client = LiveClient::from_clients(iam, cloudtrail, sts_client(&[]));

    assert_eq!(client.list_users().await.unwrap().len(), 3);
    assert!(client.list_user_tags("alice").await.unwrap().is_empty());
    assert!(client.describe_trails().await.unwrap().is_empty());

    let counts = counter.snapshot();
    assert_eq!(counts.get("iam:ListUsers"), Some(&3), "{counts:?}");
    assert_eq!(counts.get("iam:ListUserTags"), Some(&1), "{counts:?}");
    assert_eq!(
        counts.get("cloudtrail:DescribeTrails"),
        Some(&1),
        "{counts:?}"
    );
    assert_eq!(counter.total(), 5, "{counts:?}");
}
