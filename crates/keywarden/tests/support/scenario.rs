//! The launcher scenarios (`tests/moto/README.md`) the binary's moto tests share.

use serde_json::{json, Value};

/// The scenarios' fixed time.
pub const NOW: &str = "2025-06-01T12:00:00Z";

/// A password policy that meets every PWD003 requirement.
pub fn strong_policy() -> Value {
    json!({
        "MinimumPasswordLength": 14,
        "RequireSymbols": true,
        "RequireNumbers": true,
        "RequireUppercaseCharacters": true,
        "RequireLowercaseCharacters": true,
        "PasswordReusePrevention": 24,
        "MaxPasswordAge": 90
    })
}

/// A scenario at [`NOW`] whose account-level rules all pass (root with MFA and no keys, a strong
/// password policy, a logging multi-region trail, the report in AWS's shape generated two hours
/// earlier), with `users`.
pub fn clean_account(users: Value) -> Value {
    json!({
        "now": NOW,
        "users": users,
        "root": {"mfa": true, "password_last_used": "-5d"},
        "password_policy": strong_policy(),
        "trails": [{"name": "org-trail"}],
        "credential_report": {"aws_shape": true, "generated": "-2h"}
    })
}

/// A user whose only active key is 400 days old and was last used 100 days ago: KEY001 and KEY002.
pub fn stale_user() -> Value {
    json!({"name": "stale", "created": "-400d",
           "access_keys": [{"created": "-400d", "last_used": "-100d"}]})
}
