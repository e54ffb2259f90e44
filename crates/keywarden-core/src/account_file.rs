//! Account facts from a TOML file: the password policy and CloudTrail trails that a credential
//! report does not carry, for offline audits, the bundled demo account and the rule test cases.
//!
//! The shape mirrors what GetAccountPasswordPolicy and DescribeTrails/GetTrailStatus say:
//!
//! ```toml
//! # Either a policy...
//! [password_policy]
//! minimum_password_length = 14
//! require_uppercase_characters = true   # the four require_* default to false, as in AWS
//! require_lowercase_characters = true
//! require_numbers = true
//! require_symbols = true
//! password_reuse_prevention = 24        # omit: no reuse prevention
//! max_password_age = 90                 # omit: passwords never expire
//! # ...or `no_password_policy = true`: no custom policy is set, AWS's defaults apply.
//!
//! [[trail]]                             # or `no_trails = true`: the account has no trail
//! name = "org-trail"
//! home_region = "us-east-1"
//! is_multi_region = true
//! is_logging = true
//! logs_management_write_events = true
//! ```
//!
//! A fact the file leaves out stays unknown, so the rule that needs it says `unknown` rather than
//! pass: an account file is a statement about the account, and silence is not a statement.
//! Like the config file, the text is handed in; this module never touches the filesystem.

use crate::audit::AccountExtras;
use crate::config::ConfigError;
use crate::model::{Known, PasswordPolicy, Trail};
use serde::Deserialize;

/// An account file as written. [`parse_account_file`] is the usual entry point; the struct is
/// public so that a larger TOML document (a rule test case) can embed it as a table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountFile {
    /// The account has no custom password policy (GetAccountPasswordPolicy: NoSuchEntity).
    #[serde(default)]
    pub no_password_policy: bool,
    pub password_policy: Option<PasswordPolicyEntry>,
    /// The account has no trail at all (DescribeTrails returned an empty list).
    #[serde(default)]
    pub no_trails: bool,
    #[serde(default, rename = "trail")]
    pub trails: Vec<TrailEntry>,
}

/// `[password_policy]`: the field names of [`PasswordPolicy`], AWS's defaults for omitted ones.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicyEntry {
    pub minimum_password_length: u32,
    #[serde(default)]
    pub require_uppercase_characters: bool,
    #[serde(default)]
    pub require_lowercase_characters: bool,
    #[serde(default)]
    pub require_numbers: bool,
    #[serde(default)]
    pub require_symbols: bool,
    pub password_reuse_prevention: Option<u32>,
    pub max_password_age: Option<u32>,
}

/// `[[trail]]`: every field is required, since a guessed default would decide TRAIL001.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrailEntry {
    pub name: String,
    pub home_region: String,
    pub is_multi_region: bool,
    pub is_logging: bool,
    pub logs_management_write_events: bool,
}

impl AccountFile {
    /// The account facts the file states; `origin` names the file in errors.
    pub fn into_extras(self, origin: &str) -> Result<AccountExtras, ConfigError> {
        let error = |message: &str| ConfigError {
            origin: origin.to_owned(),
            message: message.to_owned(),
        };
        let password_policy = match (self.no_password_policy, self.password_policy) {
            (true, Some(_)) => return Err(error(
                "`no_password_policy = true` and a `[password_policy]` table contradict each other",
            )),
            (true, None) => Known::Known(None),
            (false, Some(p)) => {
                // AWS never reports 0 for these; accepting it would leave "0 means none" or
                // "0 means expire at once" to whoever reads the file.
                if p.password_reuse_prevention == Some(0) {
                    return Err(error(
                        "[password_policy] `password_reuse_prevention = 0`: omit the field when the policy does not prevent reuse",
                    ));
                }
                if p.max_password_age == Some(0) {
                    return Err(error(
                        "[password_policy] `max_password_age = 0`: omit the field when passwords never expire",
                    ));
                }
                Known::Known(Some(PasswordPolicy {
                    minimum_password_length: p.minimum_password_length,
                    require_uppercase_characters: p.require_uppercase_characters,
                    require_lowercase_characters: p.require_lowercase_characters,
                    require_numbers: p.require_numbers,
                    require_symbols: p.require_symbols,
                    password_reuse_prevention: p.password_reuse_prevention,
                    max_password_age: p.max_password_age,
                }))
            }
            (false, None) => Known::Unknown(format!(
                "{origin} does not describe the account password policy"
            )),
        };
        let trails = match (self.no_trails, self.trails.is_empty()) {
            (true, false) => {
                return Err(error(
                    "`no_trails = true` and `[[trail]]` entries contradict each other",
                ))
            }
            (true, true) => Known::Known(Vec::new()),
            (false, false) => Known::Known(
                self.trails
                    .into_iter()
                    .map(|t| Trail {
                        name: t.name,
                        home_region: t.home_region,
                        is_multi_region: t.is_multi_region,
                        is_logging: t.is_logging,
                        logs_management_write_events: t.logs_management_write_events,
                    })
                    .collect(),
            ),
            (false, true) => Known::Unknown(format!(
                "{origin} does not describe the account's CloudTrail trails"
            )),
        };
        Ok(AccountExtras {
            password_policy,
            trails,
            root_summary: None,
        })
    }
}

/// Parses the TOML text of an account file; `origin` names it in errors.
pub fn parse_account_file(text: &str, origin: &str) -> Result<AccountExtras, ConfigError> {
    let file: AccountFile = toml::from_str(text).map_err(|e| ConfigError {
        origin: origin.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    file.into_extras(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_states_nothing() {
        let extras = parse_account_file("", "a.toml").unwrap();
        assert!(matches!(extras.password_policy, Known::Unknown(r) if r.contains("a.toml")));
        assert!(matches!(extras.trails, Known::Unknown(r) if r.contains("a.toml")));
    }

    #[test]
    fn no_policy_and_no_trails_are_facts() {
        let extras =
            parse_account_file("no_password_policy = true\nno_trails = true\n", "a.toml").unwrap();
        assert_eq!(extras.password_policy, Known::Known(None));
        assert_eq!(extras.trails, Known::Known(Vec::new()));
    }

    #[test]
    fn omitted_policy_fields_take_aws_defaults() {
        let extras =
            parse_account_file("[password_policy]\nminimum_password_length = 8\n", "a.toml")
                .unwrap();
        assert_eq!(
            extras.password_policy,
            Known::Known(Some(PasswordPolicy::aws_default()))
        );
    }

    #[test]
    fn errors_name_the_origin() {
        for text in [
            "no_password_policy = true\n[password_policy]\nminimum_password_length = 8\n",
            "no_trails = true\n[[trail]]\nname = \"t\"\nhome_region = \"us-east-1\"\nis_multi_region = true\nis_logging = true\nlogs_management_write_events = true\n",
            "[password_policy]\nminimum_password_length = 8\nmax_password_age = 0\n",
            "[password_policy]\nminimum_length = 14\n",
            "[[trail]]\nname = \"t\"\n",
            "colour = \"blue\"\n",
        ] {
            let error = parse_account_file(text, "acct.toml").unwrap_err();
            assert_eq!(error.origin, "acct.toml", "{text}");
            assert!(error.to_string().starts_with("acct.toml: "), "{error}");
        }
    }
}
