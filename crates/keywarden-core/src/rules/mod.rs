//! The audit rule catalogue.
//!
//! One file per rule. Each rule is declared with [`declare_rule!`], which keeps the rule's doc
//! comment as its user-facing documentation (`keywarden rule CODE` prints it), so the text and
//! the code cannot drift apart. Codes are a public contract: never reuse or renumber one.
//!
//! Rules are pure functions of the model, the thresholds and `now`; they never read the clock.
//! A rule reports only what does not pass: `fail`, or `unknown` when its input is missing or
//! cannot be true (a date after the data's own time, see [`Context::data_time`]).

use crate::config::AuditConfig;
use crate::finding::{CredentialKind, Finding, Severity, Status};
use crate::model::{AccessKey, AccountFacts, Cell, KeyField, UserCredentials};
use crate::remediation::{ActionKind, Safety};
use crate::time::{format_timestamp, Timestamp};

mod key001_unused_access_key;
mod key002_access_key_not_rotated;
mod key003_multiple_active_access_keys;
mod key004_stale_inactive_access_key;
mod key005_access_key_created_at_user_setup;
mod pwd001_unused_console_password;
mod pwd002_console_user_without_mfa;
mod pwd003_weak_password_policy;
mod root001_root_access_key_present;
mod root002_root_without_mfa;
mod trail001_management_events_not_logged;

pub use key001_unused_access_key::UnusedAccessKey;
pub use key002_access_key_not_rotated::AccessKeyNotRotated;
pub use key003_multiple_active_access_keys::MultipleActiveAccessKeys;
pub use key004_stale_inactive_access_key::StaleInactiveAccessKey;
pub use key005_access_key_created_at_user_setup::AccessKeyCreatedAtUserSetup;
pub use pwd001_unused_console_password::UnusedConsolePassword;
pub use pwd002_console_user_without_mfa::ConsoleUserWithoutMfa;
pub use pwd003_weak_password_policy::WeakPasswordPolicy;
pub use root001_root_access_key_present::{RootAccessKeyPresent, ROOT_KEY_STEPS};
pub use root002_root_without_mfa::RootWithoutMfa;
pub use trail001_management_events_not_logged::ManagementEventsNotLogged;

/// What a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every IAM user except root.
    User,
    /// The account: its root user, password policy and trails.
    Account,
    /// CloudTrail events (the EVT detections in `cloudtrail::detect`).
    Event,
}

/// A rule's public identity and documentation.
#[derive(Debug, PartialEq, Eq)]
pub struct RuleMeta {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub scope: Scope,
    /// One line: when the rule fails.
    pub summary: &'static str,
    /// The rule's doc comment, Markdown, with sections What it does / Why it matters /
    /// How it decides / How to fix / Fix safety / Standards.
    pub documentation: &'static str,
    /// What a live audit must read, beyond the credential report, to confirm a finding of the
    /// rule; the live audit derives its per-user and account-level calls from it.
    pub live_data: &'static [LiveData],
    /// What a plan does about a failing finding of the rule.
    pub fix: Fix,
    /// The controls of published standards the rule checks, the structured form of its
    /// `## Standards` section (a test holds the two together); empty for a rule that checks
    /// none (detections, Sigma rules).
    pub standards: &'static [StandardControl],
}

/// A published standard a rule's controls come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Standard {
    /// CIS Amazon Web Services Foundations Benchmark v3.0.0 (section 1 numbered as in v1.4.0 to
    /// v3.0.0; v5.0.0 and later renumber it).
    CisAwsFoundationsV3,
    /// AWS Foundational Security Best Practices v1.0.0 (Security Hub control ids).
    AwsFsbp,
    /// A Security Hub control in no FSBP version, only in the CIS standards Security Hub runs
    /// (IAM.9, IAM.22).
    AwsSecurityHubCis,
}

impl Standard {
    /// The standard's full name, as OCSF's `compliance.standards` and a reader expect it.
    pub fn name(self) -> &'static str {
        match self {
            Standard::CisAwsFoundationsV3 => "CIS AWS Foundations Benchmark v3.0.0",
            Standard::AwsFsbp => "AWS Foundational Security Best Practices v1.0.0",
            Standard::AwsSecurityHubCis => {
                "AWS Security Hub (CIS AWS Foundations Benchmark controls)"
            }
        }
    }
}

/// One control of a standard: `CIS AWS Foundations Benchmark v3.0.0` `1.12`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StandardControl {
    pub standard: Standard,
    /// The control's id in the standard: `1.12`, `IAM.8`.
    pub control: &'static str,
}

/// The documentation sections every finding's rule has (the catalogue's and Sigma's), in order.
pub const DOC_SECTIONS: [&str; 5] = [
    "What it does",
    "Why it matters",
    "How it decides",
    "How to fix",
    "Standards",
];

/// The sections of a catalogue rule or detection, in order: [`DOC_SECTIONS`] and, after How to
/// fix, `Fix safety`, which names each action of the rule's [`Fix`] and the safety level it earns.
pub const CATALOGUE_DOC_SECTIONS: [&str; 6] = [
    "What it does",
    "Why it matters",
    "How it decides",
    "How to fix",
    "Fix safety",
    "Standards",
];

/// Data a live audit reads besides the credential report, each with the calls that read it.
/// A rule lists what its verdict depends on; a call that fails makes that rule's findings
/// `unknown`, and only the rule's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveData {
    /// ListAccessKeys: the user's key ids and their current statuses.
    AccessKeys,
    /// GetAccessKeyLastUsed: a key's last use, fresher than the report's.
    KeyLastUse,
    /// GetLoginProfile: whether the user has a console password now.
    LoginProfile,
    /// ListMFADevices: whether the user has an MFA device now.
    MfaDevices,
    /// GetAccountPasswordPolicy.
    PasswordPolicy,
    /// DescribeTrails, GetTrailStatus, GetEventSelectors.
    Trails,
    /// GetAccountSummary: root's access keys and MFA.
    AccountSummary,
}

/// What a plan does about a failing finding: the rule's fix, declared in the rule's file and
/// carried out by `remediation::planner`. [`Fix::actions`] names the actions and the safety
/// level each earns when the finding carries its proof; the rule's `## Fix safety` section says
/// why, and tests hold the declaration, the documentation and the planner together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix {
    /// Deactivate the key, then delete it `delete_after_days` later. `proves_idle`: the finding
    /// proves the key idle for `max_unused_days`, which makes the deactivation safe; without
    /// that proof the key may be new and about to be used, and the deactivation is unsafe.
    RetireKey { proves_idle: bool },
    /// Deactivate a key that may be in use, once it is rotated (unsafe). `last_used` is the
    /// evidence holding the key's last use.
    DeactivateAfterRotation { last_used: &'static str },
    /// Delete an inactive key once keywarden has known it inactive for `delete_after_days`.
    DeleteInactiveKey,
    /// Delete the user's console password.
    DeleteLoginProfile,
    /// Steps for a person, `{user}` standing for the finding's user; with none, the first
    /// paragraph of the rule's How to fix.
    Manual(&'static [&'static str]),
    /// A CloudTrail detection: if the event was not expected, contain the long-term key behind
    /// it (`keywarden contain`), then the first paragraph of How to fix. Steps for a person.
    ContainKey,
}

impl Fix {
    /// The actions a failing finding becomes, in order, with the safety level each earns
    /// (`Action::derived_safety`) when the finding carries the evidence the rule gives.
    pub fn actions(self) -> &'static [(ActionKind, Safety)] {
        match self {
            Fix::RetireKey { proves_idle: true } => &[
                (ActionKind::DeactivateKey, Safety::Safe),
                (ActionKind::DeleteKey, Safety::TwoPhase),
            ],
            Fix::RetireKey { proves_idle: false } => &[
                (ActionKind::DeactivateKey, Safety::Unsafe),
                (ActionKind::DeleteKey, Safety::TwoPhase),
            ],
            Fix::DeactivateAfterRotation { .. } => &[(ActionKind::DeactivateKey, Safety::Unsafe)],
            Fix::DeleteInactiveKey => &[(ActionKind::DeleteKey, Safety::TwoPhase)],
            Fix::DeleteLoginProfile => &[(ActionKind::DeleteLoginProfile, Safety::Unsafe)],
            Fix::Manual(_) | Fix::ContainKey => &[(ActionKind::Manual, Safety::Manual)],
        }
    }

    /// Whether the fix acts on an access key (root's keys are left to root: manual steps).
    pub fn acts_on_key(self) -> bool {
        matches!(
            self,
            Fix::RetireKey { .. } | Fix::DeactivateAfterRotation { .. } | Fix::DeleteInactiveKey
        )
    }
}

impl RuleMeta {
    /// The documentation with the one space rustdoc leaves after `///` removed.
    pub fn documentation_text(&self) -> String {
        let mut text = String::with_capacity(self.documentation.len());
        for line in self.documentation.lines() {
            text.push_str(line.strip_prefix(' ').unwrap_or(line));
            text.push('\n');
        }
        text.trim().to_owned() + "\n"
    }

    /// The body of one `## Title` section, trimmed; `None` when the section is absent.
    pub fn section(&self, title: &str) -> Option<String> {
        let text = self.documentation_text();
        let heading = format!("## {title}");
        let start = text.lines().position(|l| l.trim() == heading)?;
        let body: Vec<&str> = text
            .lines()
            .skip(start + 1)
            .take_while(|l| !l.starts_with("## "))
            .collect();
        let body = body.join("\n").trim().to_owned();
        (!body.is_empty()).then_some(body)
    }

    /// The first paragraph of "How to fix", flattened to one line, for table output.
    pub fn fix_hint(&self) -> String {
        let fix = self.section("How to fix").unwrap_or_default();
        let first = fix.split("\n\n").next().unwrap_or_default();
        first.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// Declares a rule type whose doc comment is its documentation.
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        pub struct $ty:ident {
            code: $code:literal,
            name: $name:literal,
            severity: $severity:ident,
            scope: $scope:ident,
            summary: $summary:literal,
            live_data: [$($data:ident),* $(,)?],
            fix: $fix:expr
            $(, standards: [$(($standard:ident, $control:literal)),* $(,)?])? $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $ty;

        impl $ty {
            pub const META: $crate::rules::RuleMeta = $crate::rules::RuleMeta {
                code: $code,
                name: $name,
                severity: $crate::finding::Severity::$severity,
                scope: $crate::rules::Scope::$scope,
                summary: $summary,
                documentation: concat!($($doc, "\n"),*),
                live_data: &[$($crate::rules::LiveData::$data),*],
                fix: {
                    #[allow(unused_imports)]
                    use $crate::rules::Fix::*;
                    $fix
                },
                standards: &[$($($crate::rules::StandardControl {
                    standard: $crate::rules::Standard::$standard,
                    control: $control,
                }),*)?],
            };
        }
    };
}
pub(crate) use declare_rule;

/// What every rule may read besides the model.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub now: Timestamp,
    /// The data's own time: no date in the data can lie after it. The credential report's
    /// generation time when the source knows it, else `now`; never later than `now` (a date
    /// after `now` has no age to judge either). Built by [`data_time`].
    pub data_time: Timestamp,
    pub config: &'a AuditConfig,
}

/// The data's own time for a run at `now` whose data was produced at `generated` (when known):
/// the earlier of the two.
pub fn data_time(now: Timestamp, generated: Option<Timestamp>) -> Timestamp {
    generated.map_or(now, |generated| generated.min(now))
}

pub trait Rule: Send + Sync {
    fn meta(&self) -> &'static RuleMeta;

    /// Called once per IAM user (never root) for [`Scope::User`] rules.
    fn check_user(&self, _user: &UserCredentials, _ctx: &Context<'_>, _out: &mut Vec<Finding>) {}

    /// Called once per account for [`Scope::Account`] rules.
    fn check_account(&self, _account: &AccountFacts, _ctx: &Context<'_>, _out: &mut Vec<Finding>) {}
}

macro_rules! impl_meta {
    ($($ty:ident),* $(,)?) => {
        /// Every rule, in catalogue order.
        pub static ALL_RULES: &[&dyn Rule] = &[$(&$ty),*];
    };
}
impl_meta!(
    UnusedAccessKey,
    AccessKeyNotRotated,
    MultipleActiveAccessKeys,
    StaleInactiveAccessKey,
    AccessKeyCreatedAtUserSetup,
    UnusedConsolePassword,
    ConsoleUserWithoutMfa,
    WeakPasswordPolicy,
    RootAccessKeyPresent,
    RootWithoutMfa,
    ManagementEventsNotLogged,
);

/// The rule with this code (case-insensitive), if any.
pub fn rule_by_code(code: &str) -> Option<&'static dyn Rule> {
    ALL_RULES
        .iter()
        .copied()
        .find(|r| r.meta().code.eq_ignore_ascii_case(code))
}

/// The whole public catalogue: audit rules, then CloudTrail detections.
pub fn catalogue() -> impl Iterator<Item = &'static RuleMeta> {
    ALL_RULES.iter().map(|r| r.meta()).chain(
        crate::cloudtrail::detect::ALL_DETECTORS
            .iter()
            .map(|d| d.meta()),
    )
}

/// Any catalogue entry (rule or detection) by code, case-insensitive.
pub fn meta_by_code(code: &str) -> Option<&'static RuleMeta> {
    catalogue().find(|m| m.code.eq_ignore_ascii_case(code))
}

// Helpers shared by the key rules, so key 1 and key 2 go through one piece of code.

/// A finding about one access key of a user.
pub(crate) fn key_finding(
    meta: &'static RuleMeta,
    status: Status,
    user: &UserCredentials,
    key: &AccessKey,
    message: impl Into<String>,
) -> Finding {
    Finding::for_user(
        meta,
        status,
        user,
        CredentialKind::AccessKey(key.slot),
        message,
    )
}

/// An `unknown` finding for a key whose `field` value the source did not give in a usable form
/// (the column is missing, or holds a marker such as `not_supported` where a value is needed).
pub(crate) fn unreadable_key_column(
    meta: &'static RuleMeta,
    user: &UserCredentials,
    key: &AccessKey,
    field: KeyField,
) -> Finding {
    let column = key.slot.column(field);
    let value = match field {
        KeyField::Active => key.active.describe(),
        KeyField::LastRotated => key.last_rotated.describe(),
        KeyField::LastUsedDate => key.last_used.describe(),
        KeyField::LastUsedRegion => key.last_used_region.describe(),
        KeyField::LastUsedService => key.last_used_service.describe(),
    };
    key_finding(
        meta,
        Status::Unknown,
        user,
        key,
        format!("cannot decide: `{column}` is {value}"),
    )
    .with("column", column)
}

/// Whether `t` lies after the data's own time: a date the data cannot hold (a key created in
/// 2099, a last use after the report was generated). Its age would be negative, and a rule that
/// compared it would pass; it makes the finding `unknown` instead ([`date_after_data_time`]).
pub(crate) fn after_data_time(ctx: &Context<'_>, t: Timestamp) -> bool {
    t > ctx.data_time
}

/// The `unknown` finding for one credential whose `column` holds a date after the data's own
/// time. Only that credential is undecided: the user's other credentials and the run go on.
pub(crate) fn date_after_data_time(
    meta: &'static RuleMeta,
    user: &UserCredentials,
    credential: CredentialKind,
    column: &'static str,
    value: Timestamp,
    ctx: &Context<'_>,
) -> Finding {
    Finding::for_user(
        meta,
        Status::Unknown,
        user,
        credential,
        format!(
            "cannot decide: `{column}` is {}, after the data's own time {}",
            format_timestamp(value),
            format_timestamp(ctx.data_time)
        ),
    )
    .with("column", column)
    .with("value", value)
    .with("data_time", ctx.data_time)
}

/// A key's last use, as far as the source can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LastUse {
    Used(Timestamp),
    /// `N/A`: never used (or not since tracking began in April 2015).
    Never,
    /// The column is missing or holds an unexpected marker.
    Unreadable,
}

impl LastUse {
    pub(crate) fn date(self) -> Option<Timestamp> {
        match self {
            LastUse::Used(t) => Some(t),
            _ => None,
        }
    }
}

/// What a key rule needs to know about a key besides its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Needs {
    /// Status and creation only.
    Creation,
    /// Also a readable last use (a missing or odd last-used column makes the key `unknown`).
    LastUse,
}

/// A key in the state a rule looks at, read once.
pub(crate) struct KeyFacts<'k> {
    pub key: &'k AccessKey,
    pub created: Timestamp,
    /// `None`: never used (only `Needs::LastUse` guarantees it was readable).
    pub last_used: Option<Timestamp>,
}

impl KeyFacts<'_> {
    /// The later of creation and last use: when the key last showed any activity. A report
    /// can show a creation after the last use (a key's `last_rotated` moves on some changes).
    pub fn last_activity(&self) -> Timestamp {
        self.last_used
            .map_or(self.created, |used| used.max(self.created))
    }
}

/// The loop every key rule shares, so key 1 and key 2, and every rule, read a slot the same
/// way: each key whose status is `active` is passed to `judge`; a slot that cannot be read, or
/// whose creation (or, with `Needs::LastUse`, last use) lies after the data's own time, becomes
/// an `unknown` finding of `meta` instead.
pub(crate) fn for_each_key<'u>(
    meta: &'static RuleMeta,
    user: &'u UserCredentials,
    active: bool,
    needs: Needs,
    ctx: &Context<'_>,
    out: &mut Vec<Finding>,
    mut judge: impl FnMut(KeyFacts<'u>, &mut Vec<Finding>),
) {
    for key in &user.access_keys {
        match key_state(key) {
            KeyState::Unreadable(field) => out.push(unreadable_key_column(meta, user, key, field)),
            KeyState::Present {
                active: state,
                created,
                last_use,
                key,
            } if state == active => {
                if needs == Needs::LastUse && last_use == LastUse::Unreadable {
                    out.push(unreadable_key_column(
                        meta,
                        user,
                        key,
                        KeyField::LastUsedDate,
                    ));
                    continue;
                }
                let used = last_use.date().filter(|_| needs == Needs::LastUse);
                let impossible = [
                    (KeyField::LastRotated, Some(created)),
                    (KeyField::LastUsedDate, used),
                ]
                .into_iter()
                .find_map(|(field, t)| t.filter(|&t| after_data_time(ctx, t)).map(|t| (field, t)));
                if let Some((field, t)) = impossible {
                    out.push(date_after_data_time(
                        meta,
                        user,
                        CredentialKind::AccessKey(key.slot),
                        key.slot.column(field),
                        t,
                        ctx,
                    ));
                    continue;
                }
                judge(
                    KeyFacts {
                        key,
                        created,
                        last_used: last_use.date(),
                    },
                    out,
                );
            }
            _ => {}
        }
    }
}

/// The key's state as the key rules need it. Only `active` and the creation date are needed to
/// know whether a key exists; rules that also need its last use check `last_use` themselves, so a
/// missing last-used column does not make a rotation verdict unknown.
pub(crate) enum KeyState<'k> {
    /// No key in this slot.
    Absent,
    Present {
        active: bool,
        created: Timestamp,
        last_use: LastUse,
        key: &'k AccessKey,
    },
    /// The field cannot be read, so nothing about this slot can be decided.
    Unreadable(KeyField),
}

/// Reads a key slot once, the same way for every key rule.
pub(crate) fn key_state(key: &AccessKey) -> KeyState<'_> {
    let active = match &key.active {
        Cell::Value(b) => *b,
        _ => return KeyState::Unreadable(KeyField::Active),
    };
    let created = match &key.last_rotated {
        Cell::Value(t) => *t,
        Cell::NotApplicable if !active => return KeyState::Absent,
        // An active key always has a creation date; without one, the row cannot be judged.
        _ => return KeyState::Unreadable(KeyField::LastRotated),
    };
    let last_use = match &key.last_used {
        Cell::Value(t) => LastUse::Used(*t),
        Cell::NotApplicable | Cell::NoInformation => LastUse::Never,
        Cell::NotSupported | Cell::Missing => LastUse::Unreadable,
    };
    KeyState::Present {
        active,
        created,
        last_use,
        key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique() {
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for rule in ALL_RULES {
            assert!(
                codes.insert(rule.meta().code),
                "duplicate code {}",
                rule.meta().code
            );
            assert!(
                names.insert(rule.meta().name),
                "duplicate name {}",
                rule.meta().name
            );
        }
    }

    #[test]
    fn every_declared_standard_control_is_named_in_the_rules_standards_section() {
        let mut declared = 0;
        for meta in catalogue() {
            let section = meta.section("Standards").unwrap_or_default();
            let words: Vec<&str> = section
                .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '/'))
                .collect();
            for control in meta.standards {
                declared += 1;
                let family = match control.standard {
                    Standard::CisAwsFoundationsV3 => "CIS AWS Foundations",
                    Standard::AwsFsbp | Standard::AwsSecurityHubCis => "Security Hub",
                };
                assert!(
                    section.contains(family),
                    "{}: the Standards section names no {family} control",
                    meta.code
                );
                assert!(
                    words.contains(&control.control),
                    "{}: {} {} is declared but not in the Standards section: {section}",
                    meta.code,
                    control.standard.name(),
                    control.control
                );
            }
            let mut seen = HashSet::new();
            assert!(
                meta.standards.iter().all(|c| seen.insert(*c)),
                "{}: a control declared twice",
                meta.code
            );
        }
        // The audit rules check CIS and FSBP controls; a macro that dropped them would leave
        // every rule with none.
        assert!(declared >= 20, "{declared}");
        assert!(AccessKeyNotRotated::META
            .standards
            .contains(&StandardControl {
                standard: Standard::AwsFsbp,
                control: "IAM.3"
            }));
    }

    #[test]
    fn every_rule_and_detection_documents_every_section_in_order() {
        for meta in catalogue() {
            let text = format!("\n{}", meta.documentation_text());
            let mut last = 0;
            for title in CATALOGUE_DOC_SECTIONS {
                let heading = format!("\n## {title}\n");
                let at = text
                    .find(&heading)
                    .unwrap_or_else(|| panic!("{} lacks section `{title}`", meta.code));
                assert!(at >= last, "{}: section `{title}` out of order", meta.code);
                assert!(
                    meta.section(title).is_some(),
                    "{}: section `{title}` is empty",
                    meta.code
                );
                last = at;
            }
            assert!(!meta.fix_hint().is_empty(), "{}", meta.code);
        }
    }

    #[test]
    fn fix_safety_names_each_action_of_the_fix_and_its_level() {
        for meta in catalogue() {
            let section = meta.section("Fix safety").unwrap_or_default();
            for (kind, safety) in meta.fix.actions() {
                for word in [kind.as_str(), safety.as_str()] {
                    let word = format!("`{word}`");
                    assert!(
                        section.contains(&word),
                        "{}: `## Fix safety` does not name {word}",
                        meta.code
                    );
                }
            }
            for other in [Safety::Safe, Safety::TwoPhase, Safety::Unsafe] {
                let named = section.contains(&format!("`{}`", other.as_str()));
                let earned = meta.fix.actions().iter().any(|(_, s)| *s == other);
                assert!(
                    !named || earned,
                    "{}: `## Fix safety` names `{other}`, which no action of its fix earns",
                    meta.code
                );
            }
        }
    }

    #[test]
    fn detections_fix_by_containment_and_read_no_live_data() {
        for meta in catalogue() {
            let detection = meta.scope == Scope::Event;
            assert_eq!(meta.fix == Fix::ContainKey, detection, "{}", meta.code);
            assert!(!detection || meta.live_data.is_empty(), "{}", meta.code);
        }
    }

    #[test]
    fn codes_follow_the_catalogue_shape() {
        for rule in ALL_RULES {
            let code = rule.meta().code;
            let (prefix, number) = code.split_at(code.len() - 3);
            assert!(["KEY", "PWD", "ROOT", "TRAIL"].contains(&prefix), "{code}");
            assert!(number.chars().all(|c| c.is_ascii_digit()), "{code}");
            assert!(rule
                .meta()
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit()));
        }
    }

    #[test]
    fn lookup_by_code_ignores_case() {
        assert_eq!(rule_by_code("key001").unwrap().meta().code, "KEY001");
        assert!(rule_by_code("KEY999").is_none());
    }
}
