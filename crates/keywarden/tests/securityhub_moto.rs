//! `--to securityhub` end to end: the real binary and the real AWS SDK against moto's Security
//! Hub. moto 5.2 stores BatchImportFindings' documents and answers GetFindings (ignoring its
//! filters: keywarden filters the answer again); it has no BatchUpdateFindings, which the
//! launcher serves on moto's stored findings (tests/moto/README.md).

mod support;

use serde_json::{json, Value};
use support::scenario::{stale_user, NOW};
use support::Moto;

fn hub_findings(moto: &Moto) -> Vec<Value> {
    let out = moto.outside_change(
        "import json\n\
         sh = boto3.client('securityhub', endpoint_url=os.environ['ENDPOINT'], region_name='us-east-1',\n\
             aws_access_key_id=os.environ['KEY'], aws_secret_access_key=os.environ['SECRET'])\n\
         print(json.dumps(sh.get_findings(MaxResults=100)['Findings']))",
    );
    serde_json::from_str(out.trim()).unwrap()
}

fn push(moto: &Moto) -> support::Audit {
    let mut command = moto.keywarden(&moto.admin());
    command.args([
        "audit",
        "--now",
        moto.now(),
        "--format",
        "asff",
        "--max-report-age",
        "0s",
        "--to",
        "securityhub",
    ]);
    support::Audit::run(command)
}

#[test]
fn findings_are_imported_once_and_the_ones_gone_are_archived_and_resolved() {
    let moto = Moto::start(&json!({
        "now": NOW,
        "users": [
            stale_user(),
            {"name": "nomfa", "created": "-30d", "password": {"created": "-30d", "last_used": "-1d"}}
        ]
    }));
    let first = push(&moto);
    assert_eq!(first.status.code(), Some(1), "{}", first.stderr);
    let printed = first.doc.as_array().expect("an ASFF array").clone();
    assert!(!printed.is_empty());
    assert!(
        first
            .stderr
            .contains(&format!("{} finding(s) imported", printed.len())),
        "{}",
        first.stderr
    );
    let ids = |docs: &[Value]| -> Vec<String> {
        let mut ids: Vec<String> = docs
            .iter()
            .map(|d| d["Id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let stored = hub_findings(&moto);
    assert_eq!(ids(&stored), ids(&printed));

    // Again: the same Ids, updated, no duplicate.
    let second = push(&moto);
    assert_eq!(second.status.code(), Some(1), "{}", second.stderr);
    assert_eq!(ids(second.doc.as_array().unwrap()), ids(&printed));
    assert_eq!(ids(&hub_findings(&moto)), ids(&printed));

    // The console user goes away: its finding is no longer produced.
    moto.outside_change(
        "iam.delete_login_profile(UserName='nomfa')\niam.delete_user(UserName='nomfa')",
    );
    let third = push(&moto);
    assert!(third.stderr.contains("1 resolved"), "{}", third.stderr);
    let now_printed = third.doc.as_array().unwrap();
    let stored = hub_findings(&moto);
    assert_eq!(
        ids(&stored),
        ids(&printed),
        "nothing added, nothing removed"
    );
    let gone: Vec<&Value> = stored
        .iter()
        .filter(|d| !now_printed.iter().any(|p| p["Id"] == d["Id"]))
        .collect();
    assert_eq!(gone.len(), 1, "{stored:?}");
    assert_eq!(gone[0]["RecordState"], "ARCHIVED");
    assert_eq!(gone[0]["Workflow"]["Status"], "RESOLVED");
    assert_eq!(gone[0]["Compliance"]["Status"], "PASSED");
    assert!(gone[0]["Title"].as_str().unwrap().contains("nomfa"));
    for doc in stored.iter().filter(|d| d["Id"] != gone[0]["Id"]) {
        assert_eq!(doc["RecordState"], "ACTIVE", "{doc}");
    }
}

#[test]
fn the_permissions_command_prints_the_security_hub_policy() {
    let output = support::cli::keywarden(&["permissions", "--command", "securityhub"]);
    assert!(output.status.success());
    let policy = support::cli::stdout_json(&output);
    assert_eq!(
        policy["Statement"][0]["Action"],
        json!([
            "securityhub:BatchImportFindings",
            "securityhub:BatchUpdateFindings",
            "securityhub:GetFindings"
        ])
    );
}

/// `keywarden permissions --command COMMAND`, parsed.
fn policy_of(command: &str) -> Value {
    let output = support::cli::keywarden(&["permissions", "--command", command]);
    assert!(output.status.success());
    support::cli::stdout_json(&output)
}

/// The audit's policy and the Security Hub policy in one document, without `missing`.
fn audit_and_securityhub_policy(missing: Option<&str>) -> Value {
    let mut policy = policy_of("audit");
    let mut hub = policy_of("securityhub");
    if let Some(missing) = missing {
        let actions = hub["Statement"][0]["Action"].as_array_mut().unwrap();
        let before = actions.len();
        actions.retain(|a| a != missing);
        assert_eq!(actions.len(), before - 1, "{missing} is in the policy");
    }
    let statements = policy["Statement"].as_array_mut().unwrap();
    statements.extend(hub["Statement"].as_array().unwrap().iter().cloned());
    policy
}

/// `--to securityhub` as the scenario's principal, whose only permissions are `policy`, with
/// moto's authorization enforced (the launcher's BatchUpdateFindings included).
fn push_under_auth(missing: Option<&str>) -> (Moto, support::Audit, support::Audit) {
    let moto = Moto::start(&json!({
        "now": NOW,
        "users": [
            stale_user(),
            {"name": "nomfa", "created": "-30d", "password": {"created": "-30d", "last_used": "-1d"}}
        ],
        "auth": {"principal": {"name": "reporter", "policy": audit_and_securityhub_policy(missing)}}
    }));
    assert_eq!(moto.info["auth_enforced"], true);
    let run = |moto: &Moto| {
        let mut command = moto.keywarden(&moto.principal());
        command.args([
            "audit",
            "--now",
            moto.now(),
            "--format",
            "json",
            "--max-report-age",
            "0s",
            "--to",
            "securityhub",
        ]);
        support::Audit::run(command)
    };
    let first = run(&moto);
    moto_auth(&moto, false);
    moto.outside_change(
        "iam.delete_login_profile(UserName='nomfa')\niam.delete_user(UserName='nomfa')",
    );
    moto_auth(&moto, true);
    let second = run(&moto);
    moto_auth(&moto, false);
    (moto, first, second)
}

/// Turns moto's authorization off (`false`) or on again (its /moto-api/reset-auth): the
/// outside changes and reads are made as the launcher's admin, whom moto's IAM does not know.
fn moto_auth(moto: &Moto, on: bool) {
    moto.outside_change(&format!(
        "import requests\n\
         requests.post(os.environ['ENDPOINT'] + '/moto-api/reset-auth', data={:?},\n\
         \x20   headers={{'Content-Type': 'text/plain'}}, timeout=10).raise_for_status()",
        if on { "0" } else { "inf" }
    ));
}

#[test]
fn the_securityhub_policy_is_enough_under_enforced_auth() {
    let (moto, first, second) = push_under_auth(None);
    assert_eq!(first.code(), Some(1), "{}", first.context());
    assert!(
        !first.stderr.contains("AccessDenied"),
        "{}",
        first.context()
    );
    assert!(
        first.stderr.contains("0 not imported, 0 resolved"),
        "{}",
        first.context()
    );
    assert_eq!(second.code(), Some(1), "{}", second.context());
    assert!(
        second.stderr.contains("0 not imported, 1 resolved"),
        "{}",
        second.context()
    );
    let resolved: Vec<Value> = hub_findings(&moto)
        .into_iter()
        .filter(|d| d["Workflow"]["Status"] == "RESOLVED")
        .collect();
    assert_eq!(resolved.len(), 1);
}

#[test]
fn without_each_securityhub_action_the_push_is_refused_and_incomplete() {
    for (action, says) in [
        (
            "securityhub:BatchImportFindings",
            "not imported: AccessDeniedException",
        ),
        (
            "securityhub:GetFindings",
            "findings imported earlier not looked up",
        ),
        (
            "securityhub:BatchUpdateFindings",
            "not resolved: AccessDeniedException",
        ),
    ] {
        let (_moto, first, second) = push_under_auth(Some(action));
        // The resolution needs an earlier import: the second run is the one that shows it.
        let run = if action == "securityhub:BatchUpdateFindings" {
            &second
        } else {
            &first
        };
        assert_eq!(run.code(), Some(2), "without {action}: {}", run.context());
        assert!(
            run.stderr.contains(says),
            "without {action}: {}",
            run.context()
        );
    }
}
