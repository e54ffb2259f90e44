//! The Sigma rules of `tests/data/sigma` (copied from the project's shared data: 20 SigmaHQ
//! CloudTrail rules and 45 Suzaku rules, DRL 1.1) over every real event of
//! `tests/data/cloudtrail` (awsdocs, OTRF, Stratus Red Team; their licenses beside them), read
//! by keywarden's own reader, as `keywarden trail --sigma` does.

use keywarden_core::cloudtrail::analyzer::TrailAnalyzer;
use keywarden_core::cloudtrail::event::parse_event;
use keywarden_core::cloudtrail::reader::{read_document, Record};
use keywarden_core::config::RuleSelection;
use keywarden_core::finding::{CredentialKind, Finding, Severity, Status};
use keywarden_sigma::{load_dir, load_str, Loaded, SigmaRules};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn load_shared() -> Loaded {
    load_dir(&data().join("sigma")).expect("the rules folder is readable")
}

/// Every event of the shared CloudTrail data, as (raw JSON text, origin).
fn shared_events() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path
                .extension()
                .is_some_and(|e| e == "json" || e == "jsonl")
            {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&data().join("cloudtrail"), &mut files);
    files.sort();
    let mut raws = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        read_document(
            &bytes,
            &file.display().to_string(),
            &mut |item| match item {
                Ok(record) => raws.push(record.raw.to_owned()),
                Err(bad) => panic!("the shared data has no bad record, got {bad}"),
            },
        );
    }
    raws
}

/// Runs the rules over one event's JSON text the way the trail workers do.
fn check(rules: &SigmaRules, raw: &str) -> Vec<Finding> {
    let record = Record {
        event: parse_event(raw).expect("a usable event"),
        raw,
    };
    let mut out = Vec::new();
    rules.check(&record, &mut out);
    out
}

/// Hits per rule file over the 441 shared events: one hit is one event the rule matches.
/// Every loaded rule is listed, zeros included, so a rule that starts or stops matching fails
/// the test.
const HITS: &[(&str, usize)] = &[
    ("aws_cloudtrail_console_login_failed_authentication.yml", 3),
    ("aws_cloudtrail_console_login_success_without_mfa.yml", 4),
    ("aws_cloudtrail_imds_malicious_usage.yml", 0),
    ("aws_cloudtrail_pua_trufflehog.yml", 0),
    ("aws_console_getsignintoken.yml", 0),
    ("aws_delete_saml_provider.yml", 0),
    ("aws_enum_buckets.yml", 0),
    // Defective as written: fires on every CreateAccessKey (both shared ones are for another user).
    ("aws_iam_backdoor_users_keys.yml", 2),
    ("aws_iam_s3browser_loginprofile_creation.yml", 0),
    (
        "aws_iam_s3browser_templated_s3_bucket_policy_creation.yml",
        0,
    ),
    ("aws_iam_s3browser_user_or_accesskey_creation.yml", 0),
    ("aws_root_account_usage.yml", 5),
    ("aws_sso_idp_change.yml", 0),
    ("aws_sts_assumerole_misuse.yml", 81),
    ("aws_sts_getcalleridentity_trufflehog.yml", 0),
    ("aws_sts_getsessiontoken_misuse.yml", 0),
    ("aws_susp_saml_activity.yml", 1),
    // Defective as written: fires on every UpdateLoginProfile.
    ("aws_update_login_profile.yml", 1),
    ("suzaku/aws_cloudtrail_assume_role.yml", 17),
    ("suzaku/aws_cloudtrail_assume_role_attempt.yml", 4),
    ("suzaku/aws_cloudtrail_assume_role_with_web_identity.yml", 1),
    (
        "suzaku/aws_cloudtrail_assume_role_with_web_identity_attempt.yml",
        0,
    ),
    ("suzaku/aws_cloudtrail_attach_user_policy.yml", 1),
    ("suzaku/aws_cloudtrail_attach_user_policy_attempt.yml", 0),
    (
        "suzaku/aws_cloudtrail_attempt_to_create_iam_access_key.yml",
        0,
    ),
    (
        "suzaku/aws_cloudtrail_attempt_to_get_federation_token.yml",
        0,
    ),
    ("suzaku/aws_cloudtrail_attempt_to_get_signin_token.yml", 0),
    ("suzaku/aws_cloudtrail_change_password.yml", 0),
    ("suzaku/aws_cloudtrail_change_password_attempt.yml", 0),
    ("suzaku/aws_cloudtrail_console_login_with_mfa.yml", 3),
    ("suzaku/aws_cloudtrail_console_login_without_mfa.yml", 7),
    ("suzaku/aws_cloudtrail_create_login_profile.yml", 1),
    ("suzaku/aws_cloudtrail_create_login_profile_attempt.yml", 0),
    ("suzaku/aws_cloudtrail_deactivate_mfa_device.yml", 0),
    ("suzaku/aws_cloudtrail_deactivate_mfa_device_attempt.yml", 0),
    ("suzaku/aws_cloudtrail_delete_access_key.yml", 0),
    ("suzaku/aws_cloudtrail_delete_access_key_attempt.yml", 0),
    ("suzaku/aws_cloudtrail_delete_login_profile.yml", 0),
    ("suzaku/aws_cloudtrail_delete_login_profile_attempt.yml", 1),
    ("suzaku/aws_cloudtrail_delete_user.yml", 0),
    ("suzaku/aws_cloudtrail_delete_user_attempt.yml", 0),
    (
        "suzaku/aws_cloudtrail_delete_user_permissions_boundary.yml",
        0,
    ),
    (
        "suzaku/aws_cloudtrail_delete_user_permissions_boundary_attempt.yml",
        0,
    ),
    ("suzaku/aws_cloudtrail_delete_user_policy.yml", 0),
    ("suzaku/aws_cloudtrail_delete_user_policy_attempt.yml", 0),
    ("suzaku/aws_cloudtrail_get_caller_identity.yml", 3),
    ("suzaku/aws_cloudtrail_get_federation_token.yml", 1),
    ("suzaku/aws_cloudtrail_get_login_profile.yml", 0),
    ("suzaku/aws_cloudtrail_get_login_profile_attempt.yml", 0),
    ("suzaku/aws_cloudtrail_get_signin_token.yml", 0),
    ("suzaku/aws_cloudtrail_iam_access_key_created.yml", 2),
    ("suzaku/aws_cloudtrail_iam_login_profile_created.yml", 1),
    ("suzaku/aws_cloudtrail_iam_login_profile_deleted.yml", 1),
    ("suzaku/aws_cloudtrail_list_access_keys.yml", 0),
    ("suzaku/aws_cloudtrail_list_access_keys_attempt.yml", 0),
    ("suzaku/aws_cloudtrail_password_recovery_requested.yml", 0),
    (
        "suzaku/aws_cloudtrail_password_recovery_requested_attempt.yml",
        0,
    ),
    ("suzaku/aws_cloudtrail_sts_get_caller_identity.yml", 3),
    (
        "suzaku/aws_cloudtrail_sts_get_caller_identity_attempt.yml",
        0,
    ),
    ("suzaku/aws_cloudtrail_update_access_key.yml", 0),
    ("suzaku/aws_cloudtrail_update_access_key_attempt.yml", 0),
    ("suzaku/aws_cloudtrail_update_assume_role_policy.yml", 1),
    (
        "suzaku/aws_cloudtrail_update_assume_role_policy_attempt.yml",
        0,
    ),
];

#[test]
fn every_shared_rule_loads_but_the_placeholder_and_the_aggregation_rule() {
    let loaded = load_shared();
    assert_eq!(loaded.files, 65);
    assert_eq!(loaded.rules.len(), 63);
    assert!(loaded.other_log_source.is_empty());
    let refused: Vec<(String, String)> = loaded
        .not_loaded
        .iter()
        .map(|n| (n.file.display().to_string(), n.reason.clone()))
        .collect();
    assert_eq!(refused.len(), 2, "{refused:#?}");
    let (file, reason) = &refused[0];
    assert_eq!(
        file,
        "placeholder_aws_cloudtrail_console_login_success_from_susp_locations.yml"
    );
    assert_eq!(
        reason,
        "placeholder rule: `src_country|expand: %Legitimate_Countries%`, `src_ip|expand: %Legitimate_IP_Ranges%` need values from a processing pipeline, and keywarden has none"
    );
    assert_eq!(
        loaded.not_loaded[0].title.as_deref(),
        Some("AWS Console Login Monitoring")
    );
    let (file, reason) = &refused[1];
    assert_eq!(file, "unsupported_aws_enum_listing.yml");
    assert_eq!(
        reason,
        "Condition parse error at 1:21: expected EOI, or_op, or and_op (`condition: selection_eventname | count() > 50` is the old aggregation syntax, replaced by correlation rules in Sigma 2; keywarden runs single-event rules)"
    );
    // Each report names the file and stays on one line.
    for not_loaded in &loaded.not_loaded {
        let line = not_loaded.to_string();
        assert!(line.starts_with(&not_loaded.file.display().to_string()));
        assert!(!line.contains('\n'), "{line}");
    }
}

#[test]
fn hits_per_rule_over_the_shared_events_are_pinned() {
    let loaded = load_shared();
    let rules = &loaded.rules;
    let events = shared_events();
    assert_eq!(events.len(), 441);
    let mut hits: BTreeMap<String, usize> = rules
        .rules()
        .iter()
        .map(|r| (r.file.display().to_string(), 0))
        .collect();
    for raw in &events {
        for finding in check(rules, raw) {
            let rule = rules
                .rules()
                .iter()
                .find(|r| r.meta.code == finding.rule.code)
                .unwrap();
            *hits.get_mut(&rule.file.display().to_string()).unwrap() += 1;
        }
    }
    let expected: BTreeMap<String, usize> = HITS.iter().map(|(f, n)| (f.to_string(), *n)).collect();
    if hits != expected {
        let table: Vec<String> = hits
            .iter()
            .map(|(f, n)| format!("    (\"{f}\", {n}),"))
            .collect();
        panic!("hits per rule changed; now:\n{}", table.join("\n"));
    }
    assert_eq!(hits.values().sum::<usize>(), 144);
}

/// Finds the real event with this `eventID` in the shared data.
fn real_event(event_id: &str) -> Value {
    shared_events()
        .iter()
        .map(|raw| serde_json::from_str::<Value>(raw).unwrap())
        .find(|v| v["eventID"] == event_id)
        .unwrap_or_else(|| panic!("no event {event_id} in the shared data"))
}

/// A copy of `base` with a new `eventID` and the given top-level fields replaced.
fn derive(base: &Value, suffix: &str, changes: &[(&str, Value)]) -> String {
    let mut event = base.clone();
    event["eventID"] = json!(format!("{}-{suffix}", base["eventID"].as_str().unwrap()));
    for (key, value) in changes {
        event[*key] = value.clone();
    }
    event.to_string()
}

fn codes(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.rule.code).collect()
}

const BACKDOOR_USERS_KEYS: &str = "0a5177f4-6ca9-44c2-aacf-d3f3d8b6e4d2";
const UPDATE_LOGIN_PROFILE: &str = "055fb148-60f8-462d-ad16-26926ce050f1";

/// `aws_iam_backdoor_users_keys` filters with `userIdentity.arn|contains:
/// responseElements.accessKey.userName`, a literal string and not a field reference: the
/// filter never excludes anything, so the rule fires on every CreateAccessKey.
#[test]
fn the_backdoor_users_keys_rule_fires_on_every_create_access_key_as_written() {
    let loaded = load_shared();
    // Stratus Red Team aws.persistence.iam-backdoor-user: christophe creates a key for
    // stratus-red-team-backdoor-u-user. The shared data has no other kind of CreateAccessKey,
    // so the others are derived from this one.
    let real = real_event("c64c4ded-ef03-4e5c-81eb-153b118d72f2");
    let key_for = |user: &str| json!({"accessKey": {"accessKeyId": "AKIAL80DWDVKKM0UXEER", "createDate": "Jul 30, 2024 9:53:13 PM", "status": "Active", "userName": user}});
    let events = [
        ("another user (real)", real.to_string()),
        // Derived from c64c4ded: christophe creates a key for himself, naming himself.
        (
            "self, named",
            derive(
                &real,
                "self-named",
                &[
                    ("requestParameters", json!({"userName": "christophe"})),
                    ("responseElements", key_for("christophe")),
                ],
            ),
        ),
        // Derived from c64c4ded: christophe creates a key for himself without --user-name
        // (CloudTrail logs no request parameters; the response names the caller).
        (
            "self, unnamed",
            derive(
                &real,
                "self-unnamed",
                &[
                    ("requestParameters", Value::Null),
                    ("responseElements", key_for("christophe")),
                ],
            ),
        ),
        // Derived from c64c4ded: the same call refused (no key created, no response).
        (
            "failed",
            derive(
                &real,
                "denied",
                &[
                    ("errorCode", json!("AccessDenied")),
                    ("errorMessage", json!("User: arn:aws:iam::946986569305:user/christophe is not authorized to perform: iam:CreateAccessKey on resource: user stratus-red-team-backdoor-u-user")),
                    ("responseElements", Value::Null),
                ],
            ),
        ),
    ];
    let mut evt001 = Vec::new();
    for (what, raw) in &events {
        let findings = check(&loaded.rules, raw);
        assert!(
            codes(&findings).contains(&BACKDOOR_USERS_KEYS),
            "{what}: {:?}",
            codes(&findings)
        );
        // keywarden's own EVT001 does not copy the defect: only the key made for another user.
        let mut analyzer = TrailAnalyzer::new(&RuleSelection::default());
        analyzer.observe(&parse_event(raw).unwrap());
        let outcome = analyzer.finish();
        evt001.push(outcome.findings.iter().any(|f| f.rule.code == "EVT001"));
    }
    assert_eq!(evt001, [true, false, false, false]);
}

/// `aws_update_login_profile` filters with `userIdentity.arn|fieldref:
/// requestParameters.userName`: a full ARN is never equal to a bare user name, so the filter
/// never excludes anything and the rule fires on every UpdateLoginProfile.
#[test]
fn the_update_login_profile_rule_fires_on_every_update_login_profile_as_written() {
    let loaded = load_shared();
    // Stratus Red Team aws.privilege-escalation.iam-update-user-login-profile: christophe
    // resets the password of stratus-red-team-update-login-profile-user.
    let real = real_event("a46a1a42-9ef1-48d4-9c61-507eb6d4019f");
    let events = [
        ("another user (real)", real.to_string()),
        // Derived from a46a1a42: christophe changes his own password.
        (
            "self",
            derive(
                &real,
                "self",
                &[("requestParameters", json!({"userName": "christophe"}))],
            ),
        ),
        // Derived from a46a1a42: christophe's change of his own password, refused.
        (
            "self, failed",
            derive(
                &real,
                "self-denied",
                &[
                    ("requestParameters", json!({"userName": "christophe"})),
                    ("errorCode", json!("AccessDenied")),
                ],
            ),
        ),
    ];
    let mut evt004 = Vec::new();
    for (what, raw) in &events {
        let findings = check(&loaded.rules, raw);
        assert!(
            codes(&findings).contains(&UPDATE_LOGIN_PROFILE),
            "{what}: {:?}",
            codes(&findings)
        );
        let mut analyzer = TrailAnalyzer::new(&RuleSelection::default());
        analyzer.observe(&parse_event(raw).unwrap());
        evt004.push(
            analyzer
                .finish()
                .findings
                .iter()
                .any(|f| f.rule.code == "EVT004"),
        );
    }
    assert_eq!(evt004, [true, false, false]);
}

/// The defects are the rules', not the engine's: the same rules with the field the authors
/// meant (`userIdentity.userName|fieldref: ...`) stop firing on a user's own key or password.
#[test]
fn the_engine_runs_fieldref_and_contains_as_written() {
    let backdoor =
        std::fs::read_to_string(data().join("sigma/aws_iam_backdoor_users_keys.yml")).unwrap();
    let login = std::fs::read_to_string(data().join("sigma/aws_update_login_profile.yml")).unwrap();
    let fixed_backdoor = backdoor
        .replace("0a5177f4-6ca9-44c2-aacf-d3f3d8b6e4d2", "fixed-backdoor")
        .replace(
            "userIdentity.arn|contains: responseElements.accessKey.userName",
            "userIdentity.userName|fieldref: responseElements.accessKey.userName",
        );
    let fixed_login = login
        .replace("055fb148-60f8-462d-ad16-26926ce050f1", "fixed-login")
        .replace(
            "userIdentity.arn|fieldref",
            "userIdentity.userName|fieldref",
        );
    // The literal `contains` does match an ARN that holds the literal text.
    let literal = load_str(&backdoor, Path::new("backdoor.yml")).rules;
    let fixed_backdoor = load_str(&fixed_backdoor, Path::new("fixed_backdoor.yml")).rules;
    let fixed_login = load_str(&fixed_login, Path::new("fixed_login.yml")).rules;

    let key = real_event("c64c4ded-ef03-4e5c-81eb-153b118d72f2");
    let own_key = derive(
        &key,
        "self",
        &[(
            "responseElements",
            json!({"accessKey": {"userName": "christophe"}}),
        )],
    );
    assert_eq!(check(&fixed_backdoor, &key.to_string()).len(), 1);
    assert_eq!(check(&fixed_backdoor, &own_key).len(), 0);
    let odd_arn = derive(
        &key,
        "odd-arn",
        &[(
            "userIdentity",
            json!({"type": "IAMUser", "arn": "arn:aws:iam::946986569305:user/responseElements.accessKey.userName", "userName": "x"}),
        )],
    );
    assert_eq!(check(&literal, &odd_arn).len(), 0);
    assert_eq!(check(&literal, &own_key).len(), 1);

    let login = real_event("a46a1a42-9ef1-48d4-9c61-507eb6d4019f");
    let own_password = derive(
        &login,
        "self",
        &[("requestParameters", json!({"userName": "christophe"}))],
    );
    assert_eq!(check(&fixed_login, &login.to_string()).len(), 1);
    assert_eq!(check(&fixed_login, &own_password).len(), 0);
}

#[test]
fn a_match_is_a_finding_with_the_rules_id_title_and_level() {
    let loaded = load_shared();
    let raw = real_event("a46a1a42-9ef1-48d4-9c61-507eb6d4019f").to_string();
    let findings = check(&loaded.rules, &raw);
    let finding = findings
        .iter()
        .find(|f| f.rule.code == UPDATE_LOGIN_PROFILE)
        .unwrap();
    assert_eq!(finding.rule.name, "AWS User Login Profile Was Modified");
    assert_eq!(finding.severity(), Severity::High);
    assert_eq!(finding.status, Status::Fail);
    assert_eq!(finding.account.as_deref(), Some("763751499319"));
    assert_eq!(finding.user.as_deref(), Some("christophe"));
    assert_eq!(finding.credential, CredentialKind::AccessKeyId);
    assert_eq!(
        finding.access_key_id.as_deref(),
        Some("AKIAV1MIS7NGMDMR83FC")
    );
    let event = finding.event.as_ref().unwrap();
    assert_eq!(event.event_id, "a46a1a42-9ef1-48d4-9c61-507eb6d4019f");
    assert_eq!(event.event_name, "UpdateLoginProfile");
    assert_eq!(
        event.actor.as_deref(),
        Some("arn:aws:iam::763751499319:user/christophe")
    );
    let evidence: Vec<(&str, String)> = finding
        .evidence
        .iter()
        .map(|(k, v)| (*k, v.to_string()))
        .collect();
    assert_eq!(
        evidence[..3],
        [
            ("sigma_id", UPDATE_LOGIN_PROFILE.to_owned()),
            ("sigma_level", "high".to_owned()),
            ("sigma_file", "aws_update_login_profile.yml".to_owned()),
        ]
    );
    // The documentation has keywarden's five sections, built from the rule.
    for section in keywarden_core::rules::DOC_SECTIONS {
        assert!(finding.rule.section(section).is_some(), "{section}");
    }
    assert!(finding
        .rule
        .section("How it decides")
        .unwrap()
        .contains("userIdentity.arn|fieldref: requestParameters.userName"));
    assert!(finding
        .rule
        .section("Standards")
        .unwrap()
        .contains("attack.t1098"));
    // Levels map onto severities; informational is low.
    let levels: BTreeMap<&str, Severity> = loaded
        .rules
        .rules()
        .iter()
        .map(|r| (r.level.unwrap_or("none"), r.meta.severity))
        .collect();
    for (level, severity) in levels {
        let expected = match level {
            "critical" => Severity::Critical,
            "high" => Severity::High,
            "medium" => Severity::Medium,
            _ => Severity::Low,
        };
        assert_eq!(severity, expected, "{level}");
    }
}

#[test]
fn a_rule_that_cannot_load_is_reported_by_name_and_the_others_still_run() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sigma-partial");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("nested/.hidden")).unwrap();
    let rule = |id: &str, title: &str, extra: &str| {
        format!(
            "title: {title}\nid: {id}\nlogsource:\n    product: aws\n    service: cloudtrail\ndetection:\n    selection:\n        eventName: UpdateLoginProfile\n{extra}    condition: selection\nlevel: informational\n"
        )
    };
    std::fs::write(dir.join("good.yml"), rule("good-1", "Good", "")).unwrap();
    std::fs::write(
        dir.join("nested/also_good.yaml"),
        rule("good-2", "Also good", ""),
    )
    .unwrap();
    std::fs::write(dir.join("nested/.hidden/skipped.yml"), "not: [yaml").unwrap();
    std::fs::write(dir.join("broken.yml"), "title: [unclosed\n").unwrap();
    std::fs::write(
        dir.join("bad_modifier.yml"),
        rule(
            "bad-1",
            "Bad modifier",
            "    other:\n        eventName|nosuchmodifier: x\n",
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("catalogue_code.yml"),
        rule("EVT001", "Squatter", ""),
    )
    .unwrap();
    std::fs::write(dir.join("later_copy.yml"), rule("good-1", "Copy", "")).unwrap();
    std::fs::write(
        dir.join("windows.yml"),
        "title: Whoami\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    selection:\n        CommandLine|contains: whoami\n    condition: selection\n",
    )
    .unwrap();
    let loaded = load_dir(&dir).unwrap();
    let names: Vec<String> = loaded
        .not_loaded
        .iter()
        .map(|n| n.file.display().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "bad_modifier.yml",
            "broken.yml",
            "catalogue_code.yml",
            "later_copy.yml"
        ]
    );
    let reasons: Vec<&str> = loaded
        .not_loaded
        .iter()
        .map(|n| n.reason.as_str())
        .collect();
    assert!(reasons[0].contains("nosuchmodifier"), "{}", reasons[0]);
    assert!(
        reasons[2].contains("keywarden's own rule code"),
        "{}",
        reasons[2]
    );
    assert!(
        reasons[3].contains("already used by a rule loaded from good.yml"),
        "{}",
        reasons[3]
    );
    assert_eq!(loaded.other_log_source, [PathBuf::from("windows.yml")]);
    let loaded_codes: Vec<&str> = loaded.rules.metas().map(|m| m.code).collect();
    assert_eq!(loaded_codes, ["good-1", "good-2"]);

    let raw = real_event("a46a1a42-9ef1-48d4-9c61-507eb6d4019f").to_string();
    let findings = check(&loaded.rules, &raw);
    assert_eq!(codes(&findings), ["good-1", "good-2"]);
    assert_eq!(findings[0].severity(), Severity::Low);
    assert!(load_dir(&dir.join("missing")).is_err());
}

#[test]
fn an_exported_event_is_matched_inside_its_wrapper() {
    let loaded = load_shared();
    let real = real_event("a46a1a42-9ef1-48d4-9c61-507eb6d4019f");
    let wrapped = json!({"version": "0", "source": "aws.iam", "detail": real}).to_string();
    assert!(codes(&check(&loaded.rules, &wrapped)).contains(&UPDATE_LOGIN_PROFILE));
}
