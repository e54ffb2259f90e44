//! Data-driven rule tests: every `tests/cases/**/*.toml` is a small credential report, a fixed
//! `now`, optional configuration and account facts, and the exact findings expected.
//!
//! A case file:
//!
//! ```toml
//! description = "what the case proves"
//! now = "2024-06-01T12:00:00Z"
//! report_time = "2024-06-01T10:00:00Z"      # optional: the report's GeneratedTime, the data's
//!                                           # own time (default: `now`)
//! rules = ["KEY001"]                        # optional: the rules whose findings are compared
//!                                           # (default: all)
//! thresholds = { max_unused_days = 90 }     # optional: any key of a keywarden config file
//! exemption = [{ user = "ci-*", reason = "..." }]   # (ConfigFile), with the same checks
//! tag = [{ user = "alice", key = "keywarden:exempt", value = "2030-01-01 reason" }]
//!                                           # optional: IAM user tags, which a report lacks
//! report = '''
//! user,arn,...
//! alice,arn:aws:iam::123456789012:user/alice,...
//! '''
//! expected = ["KEY001 fail alice access_key_1"]
//!
//! [account.password_policy]                 # optional: account facts, the tables of an
//! minimum_password_length = 14              # account file (keywarden_core::account_file)
//! [[account.trail]]                         # under `account`; without them the account is
//! name = "org-trail"                        # what a report file says: unknown
//! # ...
//! ```
//!
//! TOML puts every key after a `[table]` header into that table, so tables come last and small
//! ones are written inline at the top. The `account` tables go through
//! `AccountFile::into_extras`, the same code `parse_account_file` (and so demo/account.toml and
//! `keywarden`'s account files) uses, so a case cannot state facts the real format could not.
//!
//! Each expected string is `CODE status user credential`, with `-` as the user of an
//! account-wide finding. An exemption is part of the outcome, so a finding that carries one
//! says which: `... by SOURCE` when it applied (status `exempted`), `... ignoring SOURCE` when it
//! matched but was expired or malformed. The lists are compared as sorted multisets.
//!
//! All rules run on every case, whatever `rules` says, so a panic in any rule on any fixture
//! fails the suite; `rules` only narrows what is compared, which keeps each case about one thing.

#![allow(clippy::disallowed_methods, reason = "a test reads its fixture files")]

mod common;

use keywarden_core::account_file::AccountFile;
use keywarden_core::config::{layer, ConfigFile, RuleSelection, ThresholdOverrides};
use keywarden_core::finding::{CredentialKind, Finding, Status};
use keywarden_core::model::{Known, Tag};
use keywarden_core::remediation::{build_plan, PlanFinding, PlanSettings, PlanSource};
use keywarden_core::report::ReportReader;
use keywarden_core::rules::{rule_by_code, ALL_RULES};
use keywarden_core::time::parse_timestamp;
use keywarden_core::{AccountExtras, AuditRun};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
struct Case {
    description: String,
    now: String,
    /// The report's generation time: no date in the data may lie after it.
    report_time: Option<String>,
    #[serde(default)]
    rules: Vec<String>,
    account: Option<AccountFile>,
    #[serde(default, rename = "tag")]
    tags: Vec<TagEntry>,
    report: String,
    expected: Vec<String>,
    /// Everything else is configuration. It is checked by ConfigFile's own
    /// `deny_unknown_fields`, so a misspelt key fails the case instead of being ignored.
    #[serde(flatten)]
    config: toml::Table,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TagEntry {
    user: String,
    key: String,
    value: String,
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases")
}

fn case_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            case_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
}

/// Every case file, by its name relative to the cases folder, parsed or with its parse error.
fn load_cases() -> Vec<(String, Result<Case, String>)> {
    let root = cases_dir();
    let mut paths = Vec::new();
    case_files(&root, &mut paths);
    paths.sort();
    assert!(!paths.is_empty(), "no case files under {}", root.display());
    paths
        .into_iter()
        .map(|path| {
            let name = path.strip_prefix(&root).unwrap().display().to_string();
            let case = std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|text| toml::from_str::<Case>(&text).map_err(|e| e.to_string()));
            (name, case)
        })
        .collect()
}

/// The rule codes a case compares, upper-cased; all of them when the case names none.
fn selected_codes(case: &Case) -> Result<Vec<String>, String> {
    if case.rules.is_empty() {
        return Ok(ALL_RULES.iter().map(|r| r.meta().code.to_owned()).collect());
    }
    case.rules
        .iter()
        .map(|code| match rule_by_code(code) {
            Some(rule) => Ok(rule.meta().code.to_owned()),
            None => Err(format!("`rules` names unknown rule `{code}`")),
        })
        .collect()
}

/// Runs one case and returns the rendered findings of its selected rules, sorted.
fn run_case(name: &str, case: Case) -> Result<Vec<String>, String> {
    let codes = selected_codes(&case)?;
    let mut actual: Vec<String> = case_findings(name, case)?
        .iter()
        .filter(|f| codes.iter().any(|c| c == f.rule.code))
        .map(common::render)
        .collect();
    actual.sort();
    Ok(actual)
}

/// Runs one case: every rule's findings.
fn case_findings(name: &str, case: Case) -> Result<Vec<Finding>, String> {
    if case.description.trim().is_empty() {
        return Err("`description` is empty: say what the case proves".into());
    }
    let now = parse_timestamp(&case.now)
        .ok_or_else(|| format!("`now` is not RFC 3339: `{}`", case.now))?;
    let report_time = match &case.report_time {
        Some(text) => Some(
            parse_timestamp(text)
                .ok_or_else(|| format!("`report_time` is not RFC 3339: `{text}`"))?,
        ),
        None => None,
    };
    let file: ConfigFile = toml::Value::Table(case.config)
        .try_into()
        .map_err(|e| format!("configuration: {e}"))?;
    let config = layer(
        None,
        Some((&file, name)),
        &ThresholdOverrides::default(),
        &RuleSelection::default(),
    )
    .map_err(|e| e.to_string())?;
    let extras = match case.account {
        Some(account) => account.into_extras(name).map_err(|e| e.to_string())?,
        None => AccountExtras::unknown_from_report_file(),
    };
    let mut tags: BTreeMap<&str, Vec<Tag>> = BTreeMap::new();
    for tag in &case.tags {
        tags.entry(&tag.user).or_default().push(Tag {
            key: tag.key.clone(),
            value: tag.value.clone(),
        });
    }

    let reader = ReportReader::new(case.report.as_bytes(), name).map_err(|e| e.to_string())?;
    let mut run = AuditRun::new(&config, now).generated_at(report_time);
    for user in reader {
        let mut user = user.map_err(|e| e.to_string())?;
        if let Some(user_tags) = tags.remove(user.name.as_str()) {
            user.tags = Known::Known(user_tags);
        }
        run.add_user(&user);
    }
    if let Some(user) = tags.keys().next() {
        return Err(format!(
            "[[tag]] names user `{user}`, who is not in the report"
        ));
    }
    Ok(run.finish(extras).findings)
}

/// Checks the shape of each expected string so a typo reads as a typo, not as a rule bug.
fn normalised_expected(case: &Case) -> Result<Vec<String>, String> {
    let mut expected = Vec::with_capacity(case.expected.len());
    for line in &case.expected {
        let words: Vec<&str> = line.split_whitespace().collect();
        let well_formed = match words.as_slice() {
            [code, status, _, _, rest @ ..] => {
                rule_by_code(code).is_some_and(|r| r.meta().code == *code)
                    && ["fail", "unknown", "exempted"].contains(status)
                    && matches!(rest, [] | ["by" | "ignoring", _] | ["by", _, "ignoring", _])
            }
            _ => false,
        };
        if !well_formed {
            return Err(format!(
                "expected entry `{line}` is not `CODE fail|unknown|exempted USER CREDENTIAL [by SOURCE] [ignoring SOURCE]`"
            ));
        }
        expected.push(words.join(" "));
    }
    expected.sort();
    Ok(expected)
}

fn check_case(name: &str, case: Case) -> Result<(), String> {
    let expected = normalised_expected(&case)?;
    let description = case.description.clone();
    let actual = run_case(name, case)?;
    if actual == expected {
        return Ok(());
    }
    let missing: Vec<&String> = expected.iter().filter(|e| !actual.contains(e)).collect();
    let unexpected: Vec<&String> = actual.iter().filter(|a| !expected.contains(a)).collect();
    Err(format!(
        "{}\n    expected:   {expected:?}\n    actual:     {actual:?}\n    missing:    {missing:?}\n    unexpected: {unexpected:?}",
        description.trim().replace('\n', "\n    ")
    ))
}

#[test]
fn every_case_gives_exactly_its_expected_findings() {
    let cases = load_cases();
    let total = cases.len();
    let mut failures = Vec::new();
    for (name, case) in cases {
        let result = case
            .map_err(|e| format!("cannot parse the case file: {e}"))
            .and_then(|case| check_case(&name, case));
        if let Err(message) = result {
            failures.push(format!("{name}: {message}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} rule cases failed:\n\n{}\n",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Each rule needs a case where it fails and a case that selects it and expects nothing from
/// it; otherwise a rule that always fails, or never does, would go unnoticed.
#[test]
fn every_rule_has_a_positive_and_a_negative_case() {
    let cases: Vec<(String, Case)> = load_cases()
        .into_iter()
        .map(|(name, case)| {
            let case = case.unwrap_or_else(|e| panic!("{name}: cannot parse the case file: {e}"));
            (name, case)
        })
        .collect();
    let mut gaps = Vec::new();
    for rule in ALL_RULES {
        let code = rule.meta().code;
        let expects = |case: &Case, status: &str| {
            case.expected
                .iter()
                .any(|e| e.split_whitespace().take(2).eq([code, status]))
        };
        let positive = cases.iter().any(|(_, case)| expects(case, "fail"));
        let negative = cases.iter().any(|(_, case)| {
            case.rules.iter().any(|r| r.eq_ignore_ascii_case(code))
                && !case
                    .expected
                    .iter()
                    .any(|e| e.split_whitespace().next() == Some(code))
        });
        if !positive {
            gaps.push(format!("{code}: no case expects it to fail"));
        }
        if !negative {
            gaps.push(format!(
                "{code}: no case selects it and expects no finding from it"
            ));
        }
    }
    assert!(gaps.is_empty(), "rule coverage gaps:\n{}", gaps.join("\n"));
}

/// A rule's declared fix is what the planner does: every failing finding of every case, given a
/// key id as a live audit would, plans exactly the actions of its rule's `fix`, at the levels
/// `Fix::actions` (and so the rule's Fix safety section) states; every rule is seen.
#[test]
fn every_failing_finding_plans_the_actions_and_levels_its_rule_declares() {
    let mut seen = std::collections::BTreeSet::new();
    let mut problems = Vec::new();
    for (name, case) in load_cases() {
        let case = case.unwrap_or_else(|e| panic!("{name}: cannot parse the case file: {e}"));
        let now = parse_timestamp(&case.now).unwrap();
        let findings = case_findings(&name, case).unwrap_or_else(|e| panic!("{name}: {e}"));
        for (index, finding) in findings.iter().enumerate() {
            if finding.status != Status::Fail {
                continue;
            }
            let mut planned = PlanFinding::from_finding(finding);
            if let CredentialKind::AccessKey(_) = finding.credential {
                planned.access_key_id = Some(format!("AKIA{index:016}"));
            }
            let account = planned
                .account
                .clone()
                .or_else(|| Some("123456789012".to_owned()));
            let source = PlanSource {
                kind: "test".to_owned(),
                location: name.clone(),
                data_as_of: None,
            };
            let plan = build_plan(&[planned], &PlanSettings::new(now), source, account)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let actual: Vec<_> = plan.actions.iter().map(|a| (a.kind, a.safety)).collect();
            let meta = finding.rule;
            seen.insert(meta.code);
            if actual != meta.fix.actions() {
                problems.push(format!(
                    "{name}: {} on {:?} planned {actual:?}, its fix declares {:?}",
                    meta.code,
                    finding.user,
                    meta.fix.actions()
                ));
            }
        }
    }
    for rule in ALL_RULES {
        if !seen.contains(rule.meta().code) {
            problems.push(format!(
                "{}: no failing finding was planned",
                rule.meta().code
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
