//! The remediation side of the live client (`RemediationRead`, `IamWrite`, `SecretWrite`)
//! against mocked SDK clients (aws-smithy-mocks): no network, no credentials.
//!
//! What it pins down: policy documents come back URL-decoded; a missing policy or user is
//! `None`, any other error keeps AWS's code; ListUserPolicies follows `Marker`; CreateAccessKey
//! maps id, secret and CreateDate; each write sends what it is asked to; a Secrets Manager name
//! already in use keeps `ResourceExistsException`; the request counter names Secrets Manager's
//! calls `secretsmanager:...`.

mod support;

use aws_sdk_iam::operation::create_access_key::CreateAccessKeyOutput;
use aws_sdk_iam::operation::delete_access_key::DeleteAccessKeyOutput;
use aws_sdk_iam::operation::delete_login_profile::DeleteLoginProfileOutput;
use aws_sdk_iam::operation::delete_user_policy::DeleteUserPolicyOutput;
use aws_sdk_iam::operation::get_user::GetUserOutput;
use aws_sdk_iam::operation::list_user_policies::ListUserPoliciesOutput;
use aws_sdk_iam::operation::put_user_policy::PutUserPolicyOutput;
use aws_sdk_iam::operation::update_access_key::UpdateAccessKeyOutput;
use aws_sdk_iam::primitives::DateTime;
use aws_sdk_iam::types::{AccessKey, StatusType, User};
use aws_sdk_iam::Client as Iam;
use aws_smithy_mocks::{mock, mock_client};
use aws_smithy_mocks::{Rule, RuleMode};
use keywarden_aws::api::{IamWrite, RemediationRead, SecretString, SecretWrite};
use keywarden_aws::live::{LiveClient, RequestCounter};
use support::{iam_body, iam_error_body, mocked_client};

// --- clients ---------------------------------------------------------------------------------

fn iam_client(rules: &[&Rule]) -> Iam {
    mock_client!(aws_sdk_iam, RuleMode::Sequential, rules, |b| b
        .retry_config(aws_sdk_iam::config::retry::RetryConfig::disabled()))
}

/// A Secrets Manager client answering only `rules`, counting into `counter`.
fn secretsmanager_client(
    rules: &[&Rule],
    counter: &RequestCounter,
) -> aws_sdk_secretsmanager::Client {
    mocked_client!(aws_sdk_secretsmanager, rules, counter.clone())
}

/// The live client around IAM `rules` answered in order; other services answer nothing.
fn live(rules: &[&Rule]) -> LiveClient {
    LiveClient::from_clients(
        iam_client(rules),
        mocked_client!(aws_sdk_cloudtrail, &[]),
        mocked_client!(aws_sdk_sts, &[]),
    )
}

// --- wire bodies -----------------------------------------------------------------------------

const DOCUMENT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2025-01-01T00:00:00Z"}}}]}"#;

/// What AWS sends: the document percent-encoded (RFC 3986, as `urllib.parse.quote`).
fn url_encoded(document: &str) -> String {
    document
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

// --- RemediationRead -------------------------------------------------------------------------

#[tokio::test]
async fn get_user_policy_url_decodes_the_document() {
    let encoded = url_encoded(DOCUMENT);
    assert!(encoded.starts_with("%7B%22Version%22"), "{encoded}");
    let rule = mock!(Iam::get_user_policy)
        .match_requests(|r| r.user_name() == Some("alice") && r.policy_name() == Some("deny"))
        .sequence()
        .http_status(
            200,
            Some(iam_body(
                "GetUserPolicy",
                &format!(
                    "<UserName>alice</UserName><PolicyName>deny</PolicyName>\
                     <PolicyDocument>{encoded}</PolicyDocument>"
                ),
            )),
        )
        .build();
    let client = live(&[&rule]);
    assert_eq!(
        client.get_user_policy("alice", "deny").await,
        Ok(Some(DOCUMENT.to_owned()))
    );
}

#[tokio::test]
async fn get_user_policy_is_none_when_missing_and_an_error_when_denied() {
    let missing = mock!(Iam::get_user_policy)
        .sequence()
        .http_status(
            404,
            Some(iam_error_body(
                "NoSuchEntity",
                "The user policy with name deny cannot be found.",
            )),
        )
        .build();
    let denied = mock!(Iam::get_user_policy)
        .sequence()
        .http_status(403, Some(iam_error_body("AccessDenied", "not authorized")))
        .build();
    let client = live(&[&missing, &denied]);
    assert_eq!(client.get_user_policy("alice", "deny").await, Ok(None));
    let error = client.get_user_policy("alice", "deny").await.unwrap_err();
    assert_eq!(error.action, "iam:GetUserPolicy");
    assert_eq!(error.code, "AccessDenied");
}

#[tokio::test]
async fn list_user_policies_follows_every_page() {
    let page = |marker: Option<&'static str>,
                names: &'static [&'static str],
                next: Option<&'static str>| {
        mock!(Iam::list_user_policies)
            .match_requests(move |r| r.user_name() == Some("alice") && r.marker() == marker)
            .then_output(move || {
                ListUserPoliciesOutput::builder()
                    .set_policy_names(Some(names.iter().map(|n| (*n).to_owned()).collect()))
                    .is_truncated(next.is_some())
                    .set_marker(next.map(str::to_owned))
                    .build()
                    .unwrap()
            })
    };
    let p1 = page(None, &["a", "b"], Some("m2"));
    let p2 = page(Some("m2"), &["c"], Some("m3"));
    let p3 = page(Some("m3"), &["d"], None);
    let client = live(&[&p1, &p2, &p3]);
    assert_eq!(
        client.list_user_policies("alice").await.unwrap(),
        ["a", "b", "c", "d"]
    );
}

#[tokio::test]
async fn get_user_maps_the_user_and_is_none_when_missing() {
    let found = mock!(Iam::get_user)
        .match_requests(|r| r.user_name() == Some("alice"))
        .then_output(|| {
            GetUserOutput::builder()
                .user(
                    User::builder()
                        .path("/")
                        .user_name("alice")
                        .user_id("AIDAALICE")
                        .arn("arn:aws:iam::123456789012:user/alice")
                        .create_date(DateTime::from_secs(1_600_000_000))
                        .build()
                        .unwrap(),
                )
                .build()
        });
    let missing = mock!(Iam::get_user)
        .sequence()
        .http_status(
            404,
            Some(iam_error_body(
                "NoSuchEntity",
                "The user with name ghost cannot be found.",
            )),
        )
        .build();
    let client = live(&[&found, &missing]);
    let user = client.get_user("alice").await.unwrap().unwrap();
    assert_eq!(user.name, "alice");
    assert_eq!(user.arn, "arn:aws:iam::123456789012:user/alice");
    assert_eq!(user.created.timestamp(), 1_600_000_000);
    assert_eq!(client.get_user("ghost").await, Ok(None));
}

// --- IamWrite --------------------------------------------------------------------------------

#[tokio::test]
async fn update_access_key_sends_the_status_and_keeps_the_error_code() {
    let deactivate = mock!(Iam::update_access_key)
        .match_requests(|r| {
            r.user_name() == Some("alice")
                && r.access_key_id() == Some("AKIAOLD")
                && r.status() == Some(&StatusType::Inactive)
        })
        .then_output(|| UpdateAccessKeyOutput::builder().build());
    let activate = mock!(Iam::update_access_key)
        .match_requests(|r| r.status() == Some(&StatusType::Active))
        .then_output(|| UpdateAccessKeyOutput::builder().build());
    let missing = mock!(Iam::update_access_key)
        .sequence()
        .http_status(
            404,
            Some(iam_error_body(
                "NoSuchEntity",
                "The Access Key with id AKIAGONE cannot be found.",
            )),
        )
        .build();
    let throttled = mock!(Iam::update_access_key)
        .sequence()
        .http_status(400, Some(iam_error_body("Throttling", "Rate exceeded")))
        .build();
    let client = live(&[&deactivate, &activate, &missing, &throttled]);
    assert_eq!(
        client
            .set_access_key_status("alice", "AKIAOLD", false)
            .await,
        Ok(())
    );
    assert_eq!(
        client.set_access_key_status("alice", "AKIAOLD", true).await,
        Ok(())
    );
    // A write's NoSuchEntity is an error, not "nothing to do": the caller decides.
    let error = client
        .set_access_key_status("alice", "AKIAGONE", false)
        .await
        .unwrap_err();
    assert_eq!(
        (error.action, error.code.as_str()),
        ("iam:UpdateAccessKey", "NoSuchEntity")
    );
    let error = client
        .set_access_key_status("alice", "AKIAOLD", false)
        .await
        .unwrap_err();
    assert_eq!(
        (error.action, error.code.as_str()),
        ("iam:UpdateAccessKey", "Throttling")
    );
    assert_eq!(error.message, "Rate exceeded");
}

#[tokio::test]
async fn each_write_sends_what_it_is_asked_to() {
    let delete_key = mock!(Iam::delete_access_key)
        .match_requests(|r| r.user_name() == Some("alice") && r.access_key_id() == Some("AKIAOLD"))
        .then_output(|| DeleteAccessKeyOutput::builder().build());
    let delete_password = mock!(Iam::delete_login_profile)
        .match_requests(|r| r.user_name() == Some("alice"))
        .then_output(|| DeleteLoginProfileOutput::builder().build());
    let put = mock!(Iam::put_user_policy)
        .match_requests(|r| {
            r.user_name() == Some("alice")
                && r.policy_name() == Some("keywarden-revoke")
                && r.policy_document() == Some(DOCUMENT)
        })
        .then_output(|| PutUserPolicyOutput::builder().build());
    let delete_policy = mock!(Iam::delete_user_policy)
        .match_requests(|r| {
            r.user_name() == Some("alice") && r.policy_name() == Some("keywarden-revoke")
        })
        .then_output(|| DeleteUserPolicyOutput::builder().build());
    let client = live(&[&delete_key, &delete_password, &put, &delete_policy]);
    assert_eq!(client.delete_access_key("alice", "AKIAOLD").await, Ok(()));
    assert_eq!(client.delete_login_profile("alice").await, Ok(()));
    assert_eq!(
        client
            .put_user_policy("alice", "keywarden-revoke", DOCUMENT)
            .await,
        Ok(())
    );
    assert_eq!(
        client.delete_user_policy("alice", "keywarden-revoke").await,
        Ok(())
    );
}

#[tokio::test]
async fn create_access_key_maps_id_secret_and_creation_date() {
    let rule = mock!(Iam::create_access_key)
        .match_requests(|r| r.user_name() == Some("alice"))
        .then_output(|| {
            CreateAccessKeyOutput::builder()
                .access_key(
                    AccessKey::builder()
                        .user_name("alice")
                        .access_key_id("AKIANEW")
                        .status(StatusType::Active)
                        .secret_access_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
                        .create_date(DateTime::from_secs(1_700_000_000))
                        .build()
                        .unwrap(),
                )
                .build()
        });
    let limit = mock!(Iam::create_access_key)
        .sequence()
        .http_status(
            409,
            Some(iam_error_body(
                "LimitExceeded",
                "Cannot exceed quota for AccessKeysPerUser: 2",
            )),
        )
        .build();
    let client = live(&[&rule, &limit]);
    let key = client.create_access_key("alice").await.unwrap();
    assert_eq!(key.id, "AKIANEW");
    assert_eq!(key.created.timestamp(), 1_700_000_000);
    assert_eq!(
        key.secret.expose(),
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    );
    assert!(!format!("{key:?}").contains("wJalr"), "{key:?}");
    let error = client.create_access_key("alice").await.unwrap_err();
    assert_eq!(
        (error.action, error.code.as_str()),
        ("iam:CreateAccessKey", "LimitExceeded")
    );
}

// --- SecretWrite -----------------------------------------------------------------------------

#[tokio::test]
async fn create_secret_returns_the_arn_and_keeps_resource_exists() {
    const ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:keywarden/alice-AbCdEf";
    let created = mock!(aws_sdk_secretsmanager::Client::create_secret)
        .match_requests(|r| {
            r.name() == Some("keywarden/alice")
                && r.secret_string() == Some("the-secret-value")
                && r.description() == Some("alice's key AKIANEW")
        })
        .sequence()
        .http_status(
            200,
            Some(format!(
                r#"{{"ARN":"{ARN}","Name":"keywarden/alice","VersionId":"v1"}}"#
            )),
        )
        .build();
    let exists = mock!(aws_sdk_secretsmanager::Client::create_secret)
        .sequence()
        .http_status(
            400,
            Some(
                r#"{"__type":"ResourceExistsException","message":"The operation failed because the secret keywarden/alice already exists."}"#
                    .to_owned(),
            ),
        )
        .build();
    let counter = RequestCounter::default();
    let client =
        live(&[]).with_secretsmanager(secretsmanager_client(&[&created, &exists], &counter));
    let secret = SecretString::new("the-secret-value");
    assert_eq!(
        client
            .create_secret("keywarden/alice", &secret, "alice's key AKIANEW")
            .await,
        Ok(ARN.to_owned())
    );
    let error = client
        .create_secret("keywarden/alice", &secret, "alice's key AKIANEW")
        .await
        .unwrap_err();
    assert_eq!(error.action, "secretsmanager:CreateSecret");
    assert_eq!(error.code, "ResourceExistsException");
    assert!(error.is_already_exists());
    assert!(!error.reason().contains("the-secret-value"));
    // X-Amz-Target `secretsmanager.CreateSecret` is counted under its own service.
    assert_eq!(
        counter.snapshot().get("secretsmanager:CreateSecret"),
        Some(&2),
        "{:?}",
        counter.snapshot()
    );
}
