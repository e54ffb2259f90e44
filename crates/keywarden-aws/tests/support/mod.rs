//! What the live client's tests share: SDK clients answered by aws-smithy-mocks rules (no
//! network, no credentials of anyone's), and IAM's wire bodies.

// Each test binary that declares `mod support;` uses its own subset of these helpers.
#![allow(dead_code, unused_macros, unused_imports)]

use keywarden_core::Timestamp;

/// A client of the SDK crate `$service` answering only `$rules` in order (a request no rule
/// answers panics), signed with test credentials, never retried, with the extra interceptors
/// given after the rules; `; |builder| ...` adjusts the configuration (S3's path style). Built
/// by hand because only IAM's crate is compiled with `test-util`.
macro_rules! mocked_client {
    ($service:ident, $rules:expr $(, $interceptor:expr)* $(; |$b:ident| $adjust:expr)?) => {{
        let mut mock = aws_smithy_mocks::MockResponseInterceptor::new()
            .rule_mode(aws_smithy_mocks::RuleMode::Sequential);
        for rule in $rules {
            mock = mock.with_rule(rule);
        }
        let builder = $service::Config::builder()
            .behavior_version($service::config::BehaviorVersion::latest())
            .region($service::config::Region::new("us-east-1"))
            .credentials_provider($service::config::Credentials::new(
                "AKIDTEST", "secret", None, None, "test",
            ))
            .retry_config($service::config::retry::RetryConfig::disabled())
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .interceptor(mock)
            $(.interceptor($interceptor))*;
        $(let builder = {
            let $b = builder;
            $adjust
        };)?
        $service::Client::from_conf(builder.build())
    }};
}
pub(crate) use mocked_client;

/// An IAM (awsQuery) error body, as AWS sends it.
pub fn iam_error_body(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
         <Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
         <RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
    )
}

/// An IAM success body for `action` with `result` inside `<{action}Result>`.
pub fn iam_body(action: &str, result: &str) -> String {
    format!(
        "<{action}Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
         <{action}Result>{result}</{action}Result>\
         <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>\
         </{action}Response>"
    )
}

/// The timestamp `s` seconds after the epoch.
pub fn ts(s: i64) -> Timestamp {
    chrono::DateTime::from_timestamp(s, 0).unwrap()
}
