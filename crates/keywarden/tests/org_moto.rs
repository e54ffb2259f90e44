//! `keywarden audit --org` end to end: the real binary and the real AWS SDK against moto's
//! Organizations, STS and multi-account IAM (`tests/moto/launcher.py`'s `organization`
//! section): accounts discovered with their OU paths, entered by sts:AssumeRole, audited, their
//! failures reported per account, the run resumed, the accounts narrowed.

mod support;

use serde_json::{json, Value};
use support::{assert_matches_schema, fresh_dir, Audit, Moto};

const NOW: &str = "2026-12-01T00:00:00Z";

/// An organization: the management account (123456789012, moto's `master`) with one user;
/// OUs Workloads > Prod and Sandbox; `web` (Prod, two users), `shared` (Workloads, one user),
/// `norole` (Workloads, no audit role: AssumeRole is AccessDenied), `old` (Sandbox,
/// suspended) and `busy` (Sandbox, every AssumeRole throttled).
fn scenario() -> Value {
    json!({
        "now": NOW,
        "users": [{"name": "mgmt-user", "access_keys": [{"created": "-400d"}]}],
        "organization": {
            "ous": [
                {"name": "Workloads"},
                {"name": "Prod", "parent": "Workloads"},
                {"name": "Sandbox"}
            ],
            "accounts": [
                {"name": "web", "ou": "Prod", "users": [
                    {"name": "web-old", "access_keys": [{"created": "-300d", "last_used": "-1d"}]},
                    {"name": "web-idle", "access_keys": [{"created": "-200d"}]}
                ]},
                {"name": "shared", "ou": "Workloads", "users": [
                    {"name": "shared-user", "access_keys": [{"created": "-120d", "last_used": "-2d"}]}
                ]},
                {"name": "norole", "ou": "Workloads", "role": false},
                {"name": "old", "ou": "Sandbox", "state": "SUSPENDED"},
                {"name": "busy", "ou": "Sandbox", "assume_role_fault": {"code": "Throttling"}}
            ]
        }
    })
}

fn account_id(moto: &Moto, name: &str) -> String {
    moto.info["organization"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no account {name}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn ou_id(moto: &Moto, name: &str) -> String {
    moto.info["organization"]["ous"][name]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `keywarden audit --org --state-dir STATE --now NOW --max-attempts 2 --stats ARGS`.
fn org_audit(moto: &Moto, state: &std::path::Path, args: &[&str]) -> Audit {
    let mut command = moto.keywarden(&moto.admin());
    command
        .args([
            "audit",
            "--org",
            "--now",
            NOW,
            "--stats",
            "--max-attempts",
            "2",
        ])
        .arg("--state-dir")
        .arg(state)
        .args(args);
    Audit::run(command)
}

/// The run id the run names on stderr.
fn run_id(audit: &Audit) -> String {
    let line = audit
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("keywarden: organization run "))
        .unwrap_or_else(|| panic!("no run line\n{}", audit.context()));
    line.split(':').next().unwrap().to_owned()
}

fn statuses(doc: &Value) -> Vec<(String, String, Option<String>)> {
    doc["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_owned(),
                a["status"].as_str().unwrap().to_owned(),
                a["error_code"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[test]
fn every_account_is_audited_with_its_id_name_and_ou_path_and_failures_are_honest() {
    let moto = Moto::start(&scenario());
    let state = fresh_dir("org-moto", "every_account");
    let audit = org_audit(&moto, &state, &["--format", "json"]);
    assert_eq!(audit.code(), Some(2), "{}", audit.context());
    let doc = &audit.doc;
    assert_eq!(doc["schema_version"], "1.2");
    assert_matches_schema("findings", doc);

    let mut got = statuses(doc);
    got.sort();
    assert_eq!(
        got,
        vec![
            ("busy".into(), "throttled".into(), Some("Throttling".into())),
            ("master".into(), "ok".into(), None),
            (
                "norole".into(),
                "assume-role-denied".into(),
                Some("AccessDenied".into())
            ),
            ("old".into(), "skipped-suspended".into(), None),
            ("shared".into(), "ok".into(), None),
            ("web".into(), "ok".into(), None),
        ]
    );

    // Every finding names its account, the account's name and its OU path.
    let expected_place = |name: &str| -> (String, &'static str) {
        match name {
            "web" => (account_id(&moto, "web"), "Root/Workloads/Prod"),
            "shared" => (account_id(&moto, "shared"), "Root/Workloads"),
            "norole" => (account_id(&moto, "norole"), "Root/Workloads"),
            "busy" => (account_id(&moto, "busy"), "Root/Sandbox"),
            "master" => ("123456789012".into(), "Root"),
            other => panic!("a finding of {other}"),
        }
    };
    let findings = audit.findings();
    for f in findings {
        let name = f["account_name"].as_str().expect("account_name");
        let (id, path) = expected_place(name);
        assert_eq!(f["account"], json!(id), "{f}");
        assert_eq!(f["ou_path"], json!(path), "{f}");
    }
    let of = |user: &str, rule: &str| {
        findings
            .iter()
            .find(|f| f["user"] == user && f["rule"] == rule)
            .unwrap_or_else(|| panic!("no {rule} for {user}\n{}", audit.context()))
    };
    // Each member's users are audited in their own account, through the assumed role.
    assert_eq!(of("web-old", "KEY002")["account_name"], "web");
    assert_eq!(of("web-idle", "KEY001")["account_name"], "web");
    assert_eq!(of("shared-user", "KEY002")["account_name"], "shared");
    assert_eq!(of("mgmt-user", "KEY001")["account"], "123456789012");
    assert!(!findings
        .iter()
        .any(|f| f["user"] == "web-old" && f["account_name"] != "web"));

    // A failed account: one unknown finding, with the AWS code; the suspended one: none.
    let not_audited: Vec<&Value> = findings
        .iter()
        .filter(|f| f["rule"] == "ORG-NOT-AUDITED")
        .collect();
    assert_eq!(not_audited.len(), 2, "{}", audit.context());
    for (name, code) in [("norole", "AccessDenied"), ("busy", "Throttling")] {
        let f = not_audited
            .iter()
            .find(|f| f["account_name"] == name)
            .unwrap();
        assert_eq!(f["status"], "unknown");
        assert_eq!(f["evidence"]["aws_error_code"], code);
    }
    assert!(!findings.iter().any(|f| f["account_name"] == "old"));

    // The caller's own account with its own credentials: AssumeRole only into the members
    // (web, shared, norole, busy: busy's throttled AssumeRole twice with --max-attempts 2).
    assert_eq!(audit.requests("sts:AssumeRole"), 5, "{}", audit.context());
    assert!(audit.requests("organizations:ListAccountsForParent") >= 4);

    // Each account's result is a private file of the run's folder.
    let run = state.join("org-runs").join(run_id(&audit));
    let files = std::fs::read_dir(&run).unwrap().count();
    assert_eq!(files, 6, "one file per account in {}", run.display());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let file = run.join(format!("{}.json", account_id(&moto, "web")));
        let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn every_format_carries_the_account_name_and_ou_path_and_the_table_starts_with_the_accounts() {
    let moto = Moto::start(&scenario());
    let state = fresh_dir("org-moto", "formats");
    let web = account_id(&moto, "web");
    let table = org_audit(
        &moto,
        &state,
        &[
            "--format",
            "table",
            "--accounts",
            &web,
            "--exclude-accounts",
            "123456789012",
        ],
    );
    assert_eq!(table.code(), Some(1), "{}", table.context());
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert!(
        lines[3].starts_with("1 account: 1 audited, 0 not"),
        "{}",
        table.stdout
    );
    assert!(
        lines[4].contains("ACCOUNT") && lines[4].contains("REPORT AGE"),
        "{}",
        table.stdout
    );
    assert!(
        lines[5].contains(&web)
            && lines[5].contains("web")
            && lines[5].contains("Root/Workloads/Prod")
            && lines[5].contains("ok"),
        "{}",
        table.stdout
    );
    assert!(table
        .stdout
        .contains(&format!("== account {web} web (Root/Workloads/Prod): ok")));

    let csv = org_audit(&moto, &state, &["--format", "csv", "--accounts", &web]);
    let mut rows = csv.stdout.lines();
    assert!(
        rows.next()
            .unwrap()
            .ends_with(",data_as_of,account_name,ou_path"),
        "{}",
        csv.stdout
    );
    let web_rows: Vec<&str> = rows.filter(|r| r.contains("web-old")).collect();
    assert!(!web_rows.is_empty());
    assert!(
        web_rows
            .iter()
            .all(|r| r.ends_with(",web,Root/Workloads/Prod")),
        "{web_rows:?}"
    );

    let sarif = org_audit(&moto, &state, &["--format", "sarif", "--accounts", &web]);
    let doc: Value = serde_json::from_str(&sarif.stdout).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for result in results {
        assert_eq!(result["properties"]["account_name"], "web");
        assert_eq!(result["properties"]["ou_path"], "Root/Workloads/Prod");
    }
    assert_eq!(
        doc["runs"][0]["properties"]["accounts"][0]["id"],
        json!(web)
    );
}

#[test]
fn resume_audits_only_the_accounts_not_finished_and_merges_the_rest() {
    let moto = Moto::start(&scenario());
    let state = fresh_dir("org-moto", "resume");
    let first = org_audit(&moto, &state, &["--format", "json"]);
    assert_eq!(first.code(), Some(2), "{}", first.context());
    let run = run_id(&first);

    let second = org_audit(&moto, &state, &["--format", "json", "--resume", &run]);
    assert_eq!(second.code(), Some(2), "{}", second.context());
    // Only norole (once) and busy (twice, throttled) are entered again; web, shared, the
    // management account and the suspended one are read back.
    assert_eq!(second.requests("sts:AssumeRole"), 3, "{}", second.context());
    assert_eq!(
        second.requests("iam:GetCredentialReport"),
        0,
        "{}",
        second.context()
    );
    assert_eq!(run_id(&second), run);
    assert_eq!(statuses(&second.doc), statuses(&first.doc));
    assert_eq!(second.findings(), first.findings());

    // A run id that names no run, or leaves the state folder, is refused.
    let missing = org_audit(&moto, &state, &["--resume", "20200101T000000Z-0000"]);
    assert_eq!(missing.code(), Some(2));
    assert!(
        missing.stderr.contains("no organization run"),
        "{}",
        missing.context()
    );
    let escape = org_audit(&moto, &state, &["--resume", "../x"]);
    assert_eq!(escape.code(), Some(2));
    assert!(
        escape.stderr.contains("is not a run id"),
        "{}",
        escape.context()
    );
}

#[test]
fn ou_accounts_and_exclude_accounts_narrow_the_run() {
    let moto = Moto::start(&scenario());
    let state = fresh_dir("org-moto", "narrow");
    let names = |audit: &Audit| {
        let mut names: Vec<String> = statuses(&audit.doc)
            .into_iter()
            .map(|(n, _, _)| n)
            .collect();
        names.sort();
        names
    };
    let workloads = org_audit(
        &moto,
        &state,
        &["--format", "json", "--ou", &ou_id(&moto, "Workloads")],
    );
    assert_eq!(
        names(&workloads),
        ["norole", "shared", "web"],
        "{}",
        workloads.context()
    );

    let (web, shared) = (account_id(&moto, "web"), account_id(&moto, "shared"));
    let only = org_audit(
        &moto,
        &state,
        &["--format", "json", "--accounts", &format!("{web},{shared}")],
    );
    assert_eq!(only.code(), Some(1), "{}", only.context());
    assert_eq!(names(&only), ["shared", "web"]);

    let excluded = org_audit(
        &moto,
        &state,
        &[
            "--format",
            "json",
            "--exclude-accounts",
            &format!(
                "{},{}",
                account_id(&moto, "norole"),
                account_id(&moto, "busy")
            ),
        ],
    );
    assert_eq!(names(&excluded), ["master", "old", "shared", "web"]);
    assert_eq!(
        excluded.code(),
        Some(1),
        "no account failed: {}",
        excluded.context()
    );

    let unknown = org_audit(&moto, &state, &["--accounts", "999999999999"]);
    assert_eq!(unknown.code(), Some(2));
    assert!(
        unknown.stderr.contains("999999999999"),
        "{}",
        unknown.context()
    );
    let bad_ou = org_audit(&moto, &state, &["--ou", "ou-none-00000000"]);
    assert_eq!(bad_ou.code(), Some(2));
    assert!(
        bad_ou.stderr.contains("no such organizational unit"),
        "{}",
        bad_ou.context()
    );
}

#[test]
fn org_flags_need_org_and_org_refuses_a_report_file() {
    let moto = Moto::start(&json!({"now": NOW}));
    let mut command = moto.keywarden(&moto.admin());
    command.args(["audit", "--accounts", "111111111111"]);
    let audit = Audit::run(command);
    assert_eq!(audit.code(), Some(2));
    assert!(audit.stderr.contains("--org"), "{}", audit.context());
    let mut command = moto.keywarden(&moto.admin());
    command.args(["audit", "--org", "--report", "x.csv"]);
    let audit = Audit::run(command);
    assert_eq!(audit.code(), Some(2));
    assert!(
        audit.stderr.contains("cannot be used with"),
        "{}",
        audit.context()
    );
}

#[test]
fn via_role_enters_the_accounts_from_a_role_chain() {
    let moto = Moto::start(&json!({
        "now": NOW,
        "organization": {"accounts": [
            {"name": "one", "users": [{"name": "u1", "access_keys": [{"created": "-100d"}]}]},
            {"name": "two"}
        ]}
    }));
    let state = fresh_dir("org-moto", "via_role");
    let hub = "arn:aws:iam::123456789012:role/keywarden-hub";
    let audit = org_audit(
        &moto,
        &state,
        &[
            "--format",
            "json",
            "--via-role",
            hub,
            "--external-id",
            "ext-1",
        ],
    );
    assert_eq!(audit.code(), Some(1), "{}", audit.context());
    let mut got = statuses(&audit.doc);
    got.sort();
    assert!(got.iter().all(|(_, status, _)| status == "ok"), "{got:?}");
    assert_eq!(got.len(), 3);
    // The hub role once, then each member's role from the hub's session.
    assert_eq!(audit.requests("sts:AssumeRole"), 3, "{}", audit.context());
    let u1 = audit
        .findings()
        .iter()
        .find(|f| f["user"] == "u1")
        .expect("u1's findings, read in account one");
    assert_eq!(u1["account"], json!(account_id(&moto, "one")));

    // A via role that cannot be assumed stops the run before any account.
    let refused = org_audit(
        &moto,
        &state,
        &[
            "--via-role",
            &format!("arn:aws:iam::{}:role/missing", account_id(&moto, "two")),
        ],
    );
    assert_eq!(refused.code(), Some(2), "{}", refused.context());
    assert!(
        refused.stderr.contains("AccessDenied"),
        "{}",
        refused.context()
    );
}
