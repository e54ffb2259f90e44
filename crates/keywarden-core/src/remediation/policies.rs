//! The two inline policies keywarden attaches to a user, built exactly as AWS reads them.
//!
//! - Session revocation: deny everything to credentials issued before `now`. Only temporary
//!   credentials carry `aws:TokenIssueTime`; a condition on a missing key does not match, so the
//!   user's long-term keys and any session issued after `now` are untouched. This is the
//!   document the IAM console attaches for "Revoke active sessions" on a role.
//! - Quarantine: deny everything until `now + hours`. `aws:CurrentTime` is checked on every
//!   request, so the policy lifts itself at the deadline; 36 hours is the longest a
//!   GetSessionToken or GetFederationToken credential lives.
//!
//! Times are written as AWS's policy grammar documents them: ISO 8601 in UTC with a `Z` and
//! whole seconds (`2024-01-01T00:00:00Z`).

use crate::time::Timestamp;
use chrono::SecondsFormat;
use serde_json::{json, Value};

/// The inline policy name of the session revocation.
pub const REVOKE_SESSIONS_POLICY_NAME: &str = "keywarden-revoke-sessions";
/// The inline policy name of the quarantine.
pub const QUARANTINE_POLICY_NAME: &str = "keywarden-quarantine";

/// A timestamp in the form IAM condition operators accept.
pub fn aws_policy_time(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Denies every action to credentials issued before `issued_before`.
pub fn revoke_sessions_policy(issued_before: Timestamp) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "KeywardenRevokeOlderSessions",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": aws_policy_time(issued_before)}},
        }],
    })
}

/// Denies every action to every credential of the user until `until`.
pub fn quarantine_policy(until: Timestamp) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "KeywardenQuarantine",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"DateLessThan": {"aws:CurrentTime": aws_policy_time(until)}},
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_timestamp;

    #[test]
    fn policy_times_are_whole_seconds_with_z() {
        let t = parse_timestamp("2026-12-06T15:30:00.123456+00:00").unwrap();
        assert_eq!(aws_policy_time(t), "2026-12-06T15:30:00Z");
    }
}
