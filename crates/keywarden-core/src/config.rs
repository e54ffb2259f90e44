//! Audit configuration: thresholds, password-policy requirements, rule selection and exemptions.
//!
//! Layering, from weakest to strongest: keywarden's defaults, a named preset, the TOML config
//! file, command-line flags. This module parses the file's text (the caller reads the file) and
//! applies the layers; it never touches the filesystem.

use crate::finding::ExemptionNote;
use crate::model::{Known, Tag, UserCredentials};
use crate::rules::RuleMeta;
use crate::time::{parse_timestamp, Timestamp};
use chrono::NaiveDate;
use globset::{Glob, GlobMatcher};
use serde::Deserialize;
use std::fmt;

/// The ages the rules compare against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// KEY001, PWD001: an active credential unused for longer than this fails.
    pub max_unused_days: u32,
    /// KEY002: an active key created longer ago than this fails.
    pub max_key_age_days: u32,
    /// KEY004: an inactive key idle for longer than this fails.
    pub max_inactive_days: u32,
    /// KEY005: a key created within this many minutes of its user counts as set up with the user.
    pub setup_window_minutes: u32,
}

/// What PWD003 requires of the account password policy. `0` or `false` turns a check off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordRequirements {
    pub minimum_length: u32,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
    /// The policy must remember at least this many passwords.
    pub reuse_prevention: u32,
    /// Passwords must expire within this many days.
    pub max_age_days: u32,
}

/// Named presets: each standard's own numbers, so one run can answer to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Default,
    Cis,
    AwsConfig,
    Conformity,
    Pingsafe,
}

impl Preset {
    pub const ALL: [Preset; 5] = [
        Preset::Default,
        Preset::Cis,
        Preset::AwsConfig,
        Preset::Conformity,
        Preset::Pingsafe,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Preset::Default => "default",
            Preset::Cis => "cis",
            Preset::AwsConfig => "aws-config",
            Preset::Conformity => "conformity",
            Preset::Pingsafe => "pingsafe",
        }
    }

    pub fn from_name(name: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Where the preset's numbers come from.
    pub fn source(self) -> &'static str {
        match self {
            Preset::Default => "keywarden's defaults: CIS AWS Foundations ages, AWS Config's password policy, 30 days for inactive keys",
            Preset::Cis => "CIS AWS Foundations Benchmark v3.0.0: 1.12 credentials unused 45 days, 1.14 keys rotated every 90 days, 1.8 password length 14, 1.9 reuse prevention 24 (CIS no longer requires expiry or character classes)",
            Preset::AwsConfig => "AWS Config managed rules: iam-user-unused-credentials-check maxCredentialUsageAge 90, access-keys-rotated maxAccessKeyAge 90, iam-password-policy defaults (14 characters, all four classes, reuse 24, MaxPasswordAge 90)",
            Preset::Conformity => "Trend Micro Cloud One Conformity: IAM-003 unused access keys and passwords 90 days, access keys rotated every 90 days, password policy of 14 characters, four classes, reuse 24, expiry 90",
            Preset::Pingsafe => "PingSafe (SentinelOne CNS): Unused Access Keys 180 days, access key rotation 90 days",
        }
    }

    pub fn thresholds(self) -> Thresholds {
        let base = Thresholds {
            max_unused_days: 45,
            max_key_age_days: 90,
            max_inactive_days: 30,
            setup_window_minutes: 10,
        };
        match self {
            Preset::Default | Preset::Cis => base,
            Preset::AwsConfig | Preset::Conformity => Thresholds {
                max_unused_days: 90,
                ..base
            },
            Preset::Pingsafe => Thresholds {
                max_unused_days: 180,
                ..base
            },
        }
    }

    pub fn password_requirements(self) -> PasswordRequirements {
        let full = PasswordRequirements {
            minimum_length: 14,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: true,
            reuse_prevention: 24,
            max_age_days: 90,
        };
        match self {
            Preset::Cis => PasswordRequirements {
                require_uppercase: false,
                require_lowercase: false,
                require_numbers: false,
                require_symbols: false,
                max_age_days: 0,
                ..full
            },
            _ => full,
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which rules run: `select` (empty means all) minus `ignore`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSelection {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

impl RuleSelection {
    pub fn includes(&self, meta: &RuleMeta) -> bool {
        let listed = |codes: &[String]| codes.iter().any(|c| c.eq_ignore_ascii_case(meta.code));
        (self.select.is_empty() || listed(&self.select)) && !listed(&self.ignore)
    }
}

/// One exemption from the config file.
#[derive(Debug, Clone)]
pub struct Exemption {
    /// Glob on the user name (`ci-*`), if the exemption names users.
    pub user: Option<GlobMatcher>,
    pub access_key_id: Option<String>,
    /// Rule codes it covers; empty means every rule.
    pub rules: Vec<String>,
    pub reason: String,
    pub expires: Option<Timestamp>,
    /// `config:exemption[N]`, for the finding's note.
    pub source: String,
}

/// The fully layered configuration of one audit.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    pub preset: Preset,
    pub thresholds: Thresholds,
    pub password: PasswordRequirements,
    pub selection: RuleSelection,
    pub exemptions: Vec<Exemption>,
    /// IAM tag key that exempts a user from every rule; `<key>:<CODE>` exempts from one rule.
    pub exemption_tag: String,
}

pub const DEFAULT_EXEMPTION_TAG: &str = "keywarden:exempt";

impl AuditConfig {
    pub fn from_preset(preset: Preset) -> Self {
        AuditConfig {
            preset,
            thresholds: preset.thresholds(),
            password: preset.password_requirements(),
            selection: RuleSelection::default(),
            exemptions: Vec::new(),
            exemption_tag: DEFAULT_EXEMPTION_TAG.to_owned(),
        }
    }
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig::from_preset(Preset::Default)
    }
}

/// The config file as written (TOML). Every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub preset: Option<String>,
    #[serde(default)]
    pub thresholds: ThresholdOverrides,
    #[serde(default)]
    pub password_policy: PasswordOverrides,
    #[serde(default)]
    pub select: Vec<String>,
    #[serde(default)]
    pub ignore: Vec<String>,
    pub exemption_tag: Option<String>,
    #[serde(default, rename = "exemption")]
    pub exemptions: Vec<ExemptionEntry>,
}

/// Threshold values that override the preset (from the file or from flags).
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdOverrides {
    pub max_unused_days: Option<u32>,
    pub max_key_age_days: Option<u32>,
    pub max_inactive_days: Option<u32>,
    pub setup_window_minutes: Option<u32>,
}

impl ThresholdOverrides {
    pub fn apply(&self, t: &mut Thresholds) {
        let set = |slot: &mut u32, v: Option<u32>| {
            if let Some(v) = v {
                *slot = v;
            }
        };
        set(&mut t.max_unused_days, self.max_unused_days);
        set(&mut t.max_key_age_days, self.max_key_age_days);
        set(&mut t.max_inactive_days, self.max_inactive_days);
        set(&mut t.setup_window_minutes, self.setup_window_minutes);
    }
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordOverrides {
    pub minimum_length: Option<u32>,
    pub require_uppercase: Option<bool>,
    pub require_lowercase: Option<bool>,
    pub require_numbers: Option<bool>,
    pub require_symbols: Option<bool>,
    pub reuse_prevention: Option<u32>,
    pub max_age_days: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExemptionEntry {
    pub user: Option<String>,
    pub access_key_id: Option<String>,
    #[serde(default)]
    pub rules: Vec<String>,
    pub reason: String,
    /// `YYYY-MM-DD` (end of that day, UTC) or an RFC 3339 instant.
    pub expires: Option<String>,
}

/// A config file that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct ConfigError {
    /// The file name (or other origin) the text came from.
    pub origin: String,
    pub message: String,
}

impl ConfigFile {
    /// Parses the TOML text of a config file; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<ConfigFile, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError {
            origin: origin.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })
    }
}

/// Builds the layered configuration: `preset_flag` (or the file's preset, or the default), then
/// the file, then the flag overrides.
pub fn layer(
    preset_flag: Option<Preset>,
    file: Option<(&ConfigFile, &str)>,
    flags: &ThresholdOverrides,
    selection_flags: &RuleSelection,
) -> Result<AuditConfig, ConfigError> {
    let error = |origin: &str, message: String| ConfigError {
        origin: origin.to_owned(),
        message,
    };
    let file_preset = match file.and_then(|(f, origin)| f.preset.as_deref().map(|p| (p, origin))) {
        Some((name, origin)) => Some(Preset::from_name(name).ok_or_else(|| {
            error(
                origin,
                format!(
                    "field `preset`: unknown preset `{name}` (expected one of {})",
                    preset_names()
                ),
            )
        })?),
        None => None,
    };
    let mut config =
        AuditConfig::from_preset(preset_flag.or(file_preset).unwrap_or(Preset::Default));
    if let Some((file, origin)) = file {
        file.thresholds.apply(&mut config.thresholds);
        let p = &file.password_policy;
        let pw = &mut config.password;
        pw.minimum_length = p.minimum_length.unwrap_or(pw.minimum_length);
        pw.require_uppercase = p.require_uppercase.unwrap_or(pw.require_uppercase);
        pw.require_lowercase = p.require_lowercase.unwrap_or(pw.require_lowercase);
        pw.require_numbers = p.require_numbers.unwrap_or(pw.require_numbers);
        pw.require_symbols = p.require_symbols.unwrap_or(pw.require_symbols);
        pw.reuse_prevention = p.reuse_prevention.unwrap_or(pw.reuse_prevention);
        pw.max_age_days = p.max_age_days.unwrap_or(pw.max_age_days);
        config.selection.select = file.select.clone();
        config.selection.ignore = file.ignore.clone();
        if let Some(tag) = &file.exemption_tag {
            config.exemption_tag = tag.clone();
        }
        for (i, entry) in file.exemptions.iter().enumerate() {
            config.exemptions.push(build_exemption(entry, i, origin)?);
        }
        check_codes(&config.selection.select, origin, "select")?;
        check_codes(&config.selection.ignore, origin, "ignore")?;
    }
    flags.apply(&mut config.thresholds);
    if !selection_flags.select.is_empty() {
        config.selection.select = selection_flags.select.clone();
    }
    config
        .selection
        .ignore
        .extend(selection_flags.ignore.iter().cloned());
    check_codes(&config.selection.select, "--select", "select")?;
    check_codes(&config.selection.ignore, "--ignore", "ignore")?;
    Ok(config)
}

fn preset_names() -> String {
    Preset::ALL.map(Preset::name).join(", ")
}

fn check_codes(codes: &[String], origin: &str, field: &str) -> Result<(), ConfigError> {
    for code in codes {
        if crate::rules::meta_by_code(code).is_none() {
            return Err(ConfigError {
                origin: origin.to_owned(),
                message: format!(
                    "field `{field}`: unknown rule code `{code}` (see `keywarden rules`)"
                ),
            });
        }
    }
    Ok(())
}

fn build_exemption(
    entry: &ExemptionEntry,
    index: usize,
    origin: &str,
) -> Result<Exemption, ConfigError> {
    let source = format!("config:exemption[{index}]");
    let error = |message: String| ConfigError {
        origin: origin.to_owned(),
        message: format!("[[exemption]] #{}: {message}", index + 1),
    };
    if entry.user.is_none() && entry.access_key_id.is_none() {
        return Err(error(
            "needs `user` (a name or glob) or `access_key_id`".into(),
        ));
    }
    if entry.reason.trim().is_empty() {
        return Err(error(
            "`reason` is empty: say why the risk is accepted".into(),
        ));
    }
    check_codes(&entry.rules, origin, "rules")?;
    let user = match &entry.user {
        Some(pattern) => Some(
            Glob::new(pattern)
                .map_err(|e| error(format!("field `user`: bad pattern `{pattern}`: {e}")))?
                .compile_matcher(),
        ),
        None => None,
    };
    let expires = match &entry.expires {
        Some(text) => Some(parse_expiry(text).ok_or_else(|| {
            error(format!(
                "field `expires`: `{text}` is not a date (YYYY-MM-DD) or an RFC 3339 time"
            ))
        })?),
        None => None,
    };
    Ok(Exemption {
        user,
        access_key_id: entry.access_key_id.clone(),
        rules: entry.rules.clone(),
        reason: entry.reason.clone(),
        expires,
        source,
    })
}

/// `YYYY-MM-DD` means the end of that day in UTC; otherwise an RFC 3339 instant.
pub fn parse_expiry(text: &str) -> Option<Timestamp> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date.and_hms_opt(23, 59, 59)?.and_utc());
    }
    parse_timestamp(text)
}

/// The outcome of looking for an exemption that covers a finding.
#[derive(Debug, Clone, PartialEq)]
pub enum ExemptionMatch {
    None,
    Applies(ExemptionNote),
    /// Matched, but expired or malformed: the finding stands; the note says why.
    Ignored(ExemptionNote),
}

impl AuditConfig {
    /// Finds the exemption covering `rule` for this user or key, at `now`.
    pub fn exemption_for(
        &self,
        rule: &RuleMeta,
        user: Option<&UserCredentials>,
        user_name: Option<&str>,
        access_key_id: Option<&str>,
        now: Timestamp,
    ) -> ExemptionMatch {
        let mut ignored = None;
        let covers = |rules: &[String]| {
            rules.is_empty() || rules.iter().any(|r| r.eq_ignore_ascii_case(rule.code))
        };
        for e in &self.exemptions {
            // Every criterion the exemption names must match: naming a user and a key id
            // exempts that key only, never all of the user's keys.
            let user_matches = match (&e.user, user_name) {
                (None, _) => true,
                (Some(glob), Some(name)) => glob.is_match(name),
                (Some(_), None) => false,
            };
            let key_matches = match (&e.access_key_id, access_key_id) {
                (None, _) => true,
                (Some(want), Some(have)) => want == have,
                (Some(_), None) => false,
            };
            if !(user_matches && key_matches && covers(&e.rules)) {
                continue;
            }
            let note = ExemptionNote {
                reason: e.reason.clone(),
                source: e.source.clone(),
                expires: e.expires,
            };
            match e.expires {
                Some(expiry) if expiry < now => {
                    ignored = Some(ExemptionNote {
                        reason: format!("expired: {}", e.reason),
                        ..note
                    })
                }
                _ => return ExemptionMatch::Applies(note),
            }
        }
        if let Some(Known::Known(tags)) = user.map(|u| &u.tags) {
            match self.tag_exemption(rule, tags, now) {
                ExemptionMatch::None => {}
                ExemptionMatch::Ignored(note) => ignored = Some(note),
                applies => return applies,
            }
        }
        ignored.map_or(ExemptionMatch::None, ExemptionMatch::Ignored)
    }

    /// The `keywarden:exempt` / `keywarden:exempt:CODE` tag among a user's `tags` that covers
    /// `rule` at `now`. `apply` uses it to re-check exemptions on live tags.
    pub fn tag_exemption(&self, rule: &RuleMeta, tags: &[Tag], now: Timestamp) -> ExemptionMatch {
        let mut ignored = None;
        let rule_tag = format!("{}:{}", self.exemption_tag, rule.code);
        for tag in tags {
            // IAM tag keys are case-insensitive.
            if !tag.key.eq_ignore_ascii_case(&self.exemption_tag)
                && !tag.key.eq_ignore_ascii_case(&rule_tag)
            {
                continue;
            }
            let source = format!("tag:{}", tag.key);
            match parse_exemption_tag_value(&tag.value) {
                Some((expiry, reason)) if expiry >= now => {
                    return ExemptionMatch::Applies(ExemptionNote {
                        reason,
                        source,
                        expires: Some(expiry),
                    })
                }
                Some((expiry, reason)) => {
                    ignored = Some(ExemptionNote {
                        reason: format!("expired: {reason}"),
                        source,
                        expires: Some(expiry),
                    })
                }
                None => {
                    ignored = Some(ExemptionNote {
                        reason: format!(
                            "malformed tag value `{}`: expected `YYYY-MM-DD reason`",
                            tag.value
                        ),
                        source,
                        expires: None,
                    })
                }
            }
        }
        ignored.map_or(ExemptionMatch::None, ExemptionMatch::Ignored)
    }
}

/// An exemption tag's value: `YYYY-MM-DD reason...` (IAM tag values cannot hold `;` or `,`, so
/// the expiry comes first and the rest is the reason). Both parts are required.
pub fn parse_exemption_tag_value(value: &str) -> Option<(Timestamp, String)> {
    let (date, reason) = value.trim().split_once(char::is_whitespace)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return None;
    }
    let expiry = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    Some((expiry.and_hms_opt(23, 59, 59)?.and_utc(), reason.to_owned()))
}
