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

/// Runs `code` in Python with boto3 acting in `account`: the management account's own keys,
/// a member's through its keywarden-audit role (`kw`: the client keyword arguments).
fn in_account(moto: &Moto, account: &str, code: &str) -> String {
    moto.outside_change(&format!(
        "import json\n\
         acct = {account:?}\n\
         kw = dict(endpoint_url=os.environ['ENDPOINT'], region_name='us-east-1',\n\
         \x20   aws_access_key_id=os.environ['KEY'], aws_secret_access_key=os.environ['SECRET'])\n\
         if acct != '123456789012':\n\
         \x20   c = boto3.client('sts', **kw).assume_role(RoleArn=f'arn:aws:iam::{{acct}}:role/keywarden-audit', RoleSessionName='test')['Credentials']\n\
         \x20   kw = dict(endpoint_url=os.environ['ENDPOINT'], region_name='us-east-1', aws_access_key_id=c['AccessKeyId'],\n\
         \x20       aws_secret_access_key=c['SecretAccessKey'], aws_session_token=c['SessionToken'])\n\
         {code}"
    ))
}

/// Every finding in `account`'s Security Hub.
fn hub_findings(moto: &Moto, account: &str) -> Vec<Value> {
    let out = in_account(
        moto,
        account,
        "sh = boto3.client('securityhub', **kw)\n\
         print(json.dumps(sh.get_findings(MaxResults=100)['Findings']))",
    );
    serde_json::from_str(out.trim()).unwrap()
}

/// `web-idle` (two findings) leaves the web account.
fn delete_web_idle(moto: &Moto, web: &str) {
    in_account(
        moto,
        web,
        "iam = boto3.client('iam', **kw)\n\
         for k in iam.list_access_keys(UserName='web-idle')['AccessKeyMetadata']:\n\
         \x20   iam.delete_access_key(UserName='web-idle', AccessKeyId=k['AccessKeyId'])\n\
         iam.delete_user(UserName='web-idle')",
    );
}

fn ids(docs: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = docs
        .iter()
        .map(|d| d["Id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[test]
fn each_accounts_findings_go_into_its_own_security_hub_and_the_ones_gone_are_resolved_there() {
    let moto = Moto::start(&scenario());
    let state = fresh_dir("org-moto", "securityhub_each");
    let (web, shared, norole) = (
        account_id(&moto, "web"),
        account_id(&moto, "shared"),
        account_id(&moto, "norole"),
    );
    let accounts = format!("123456789012,{web},{shared},{norole}");
    let args = [
        "--format",
        "asff",
        "--to",
        "securityhub",
        "--accounts",
        &accounts,
    ];
    let first = org_audit(&moto, &state, &args);
    // norole could not be audited: its finding is not imported (it was not entered), exit 2.
    assert_eq!(first.code(), Some(2), "{}", first.context());
    assert!(
        first.stderr.contains(&format!(
            "account {norole}: 1 finding(s) not imported: the account was not audited (assume-role-denied)"
        )),
        "{}",
        first.context()
    );
    let printed = first.doc.as_array().expect("an ASFF array").clone();
    for account in ["123456789012", web.as_str(), shared.as_str()] {
        let own: Vec<Value> = printed
            .iter()
            .filter(|d| d["AwsAccountId"] == account)
            .cloned()
            .collect();
        assert!(!own.is_empty(), "{account}: {}", first.context());
        for doc in &own {
            assert_eq!(
                doc["ProductArn"],
                format!("arn:aws:securityhub:us-east-1:{account}:product/{account}/default")
            );
        }
        assert_eq!(ids(&hub_findings(&moto, account)), ids(&own), "{account}");
        assert!(
            first.stderr.contains(&format!(
                "account {account}: {} finding(s) imported into arn:aws:securityhub:us-east-1:{account}:product/{account}/default, 0 not imported, 0 resolved",
                own.len()
            )),
            "{}",
            first.context()
        );
    }

    // web-idle goes away: its findings are resolved in web's Security Hub, nowhere else.
    delete_web_idle(&moto, &web);
    let second = org_audit(&moto, &state, &args);
    let stored = hub_findings(&moto, &web);
    let gone: Vec<&Value> = stored
        .iter()
        .filter(|d| d["Title"].as_str().unwrap().contains("web-idle"))
        .collect();
    assert!(!gone.is_empty());
    for doc in &gone {
        assert_eq!(doc["RecordState"], "ARCHIVED", "{doc}");
        assert_eq!(doc["Workflow"]["Status"], "RESOLVED", "{doc}");
    }
    assert!(
        second
            .stderr
            .contains(&format!("0 not imported, {} resolved", gone.len())),
        "{}",
        second.context()
    );
    for account in ["123456789012", web.as_str(), shared.as_str()] {
        for doc in hub_findings(&moto, account)
            .iter()
            .filter(|d| !d["Title"].as_str().unwrap().contains("web-idle"))
        {
            assert_eq!(doc["RecordState"], "ACTIVE", "{doc}");
        }
    }
}

#[test]
fn with_securityhub_admin_every_finding_goes_into_the_callers_account_naming_its_member() {
    let moto = Moto::start(&scenario());
    let state = fresh_dir("org-moto", "securityhub_admin");
    let (web, shared, norole) = (
        account_id(&moto, "web"),
        account_id(&moto, "shared"),
        account_id(&moto, "norole"),
    );
    let accounts = format!("123456789012,{web},{shared},{norole}");
    let args = [
        "--format",
        "asff",
        "--to",
        "securityhub",
        "--securityhub-admin",
        "--accounts",
        &accounts,
    ];
    let first = org_audit(&moto, &state, &args);
    assert_eq!(first.code(), Some(2), "{}", first.context());
    let printed = first.doc.as_array().expect("an ASFF array").clone();
    let admin_arn = "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default";
    for doc in &printed {
        // The default product takes the caller's account only: the member is in the Id,
        // the resources and ProductFields.
        assert_eq!(doc["AwsAccountId"], "123456789012", "{doc}");
        assert_eq!(doc["ProductArn"], admin_arn, "{doc}");
    }
    let of = |member: &str| -> Vec<&Value> {
        printed
            .iter()
            .filter(|d| {
                d["Id"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("keywarden/{member}/"))
            })
            .collect()
    };
    let web_docs = of(&web);
    assert!(!web_docs.is_empty());
    for doc in &web_docs {
        assert_eq!(doc["ProductFields"]["keywarden/Account"], web.as_str());
        let resource = &doc["Resources"][0];
        let named = resource["Id"].as_str().unwrap().contains(&web)
            || resource["Details"]["AwsIamAccessKey"]["AccountId"] == web.as_str();
        assert!(named, "{doc}");
    }
    // The account that could not be audited is reported to the administrator too.
    let norole_docs = of(&norole);
    assert_eq!(norole_docs.len(), 1, "{}", first.context());
    assert_eq!(norole_docs[0]["Compliance"]["Status"], "WARNING");
    assert!(of("123456789012")
        .iter()
        .all(|d| d["ProductFields"].get("keywarden/Account").is_none()));
    assert_eq!(ids(&hub_findings(&moto, "123456789012")), ids(&printed));
    assert!(
        hub_findings(&moto, &web).is_empty(),
        "nothing in the member's own"
    );

    delete_web_idle(&moto, &web);
    let second = org_audit(&moto, &state, &args);
    let stored = hub_findings(&moto, "123456789012");
    assert_eq!(
        ids(&stored),
        ids(&printed),
        "nothing added, nothing removed"
    );
    let gone: Vec<&Value> = stored
        .iter()
        .filter(|d| d["Title"].as_str().unwrap().contains("web-idle"))
        .collect();
    assert!(!gone.is_empty());
    for doc in &stored {
        let resolved = gone.iter().any(|g| g["Id"] == doc["Id"]);
        let (state, workflow) = if resolved {
            ("ARCHIVED", Some("RESOLVED"))
        } else {
            ("ACTIVE", None)
        };
        assert_eq!(doc["RecordState"], state, "{doc}");
        if let Some(workflow) = workflow {
            assert_eq!(doc["Workflow"]["Status"], workflow, "{doc}");
        }
    }
    let web_line = second
        .stderr
        .lines()
        .find(|l| l.starts_with(&format!("keywarden: securityhub: account {web}: ")))
        .unwrap_or_else(|| panic!("no line for web\n{}", second.context()));
    assert!(
        web_line.contains(&format!(
            "imported into {admin_arn}, 0 not imported, {} resolved",
            gone.len()
        )),
        "{}",
        second.context()
    );
}

#[test]
fn an_organization_run_as_html_names_every_account_and_as_ocsf_is_valid_ocsf_1_8_0() {
    let moto = Moto::start(&scenario());
    let state = fresh_dir("org-moto", "html_ocsf");
    let json = org_audit(&moto, &state, &["--format", "json"]);
    let findings = json.doc["findings"].as_array().unwrap().len();

    let html = org_audit(&moto, &state, &["--format", "html"]);
    assert_eq!(html.code(), Some(2), "{}", html.context());
    let open = "<script type=\"application/json\" id=\"kw-data\">";
    let start = html.stdout.find(open).expect("data block") + open.len();
    let end = start + html.stdout[start..].find("</script>").unwrap();
    let data: Value = serde_json::from_str(&html.stdout[start..end]).unwrap();
    assert_eq!(data["rows"].as_array().unwrap().len(), findings);
    let mut accounts: Vec<(String, String, String)> = data["org"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a[1].as_str().unwrap().to_owned(),
                a[2].as_str().unwrap().to_owned(),
                a[3].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    accounts.sort();
    assert_eq!(
        accounts,
        [
            ("busy", "Root/Sandbox", "throttled"),
            ("master", "Root", "ok"),
            ("norole", "Root/Workloads", "assume-role-denied"),
            ("old", "Root/Sandbox", "skipped-suspended"),
            ("shared", "Root/Workloads", "ok"),
            ("web", "Root/Workloads/Prod", "ok"),
        ]
        .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    );
    // Every account in the org table is in the accounts rows point into, at the same index.
    for (k, a) in data["org"].as_array().unwrap().iter().enumerate() {
        assert_eq!(data["accounts"][k], a[0]);
    }

    let mut files = Vec::new();
    for (format, name) in [("ocsf", "org.jsonl"), ("ocsf-json", "org.json")] {
        let run = org_audit(&moto, &state, &["--format", format]);
        assert_eq!(run.code(), Some(2), "{}", run.context());
        let docs = if format == "ocsf" {
            run.stdout.lines().count()
        } else {
            run.doc.as_array().unwrap().len()
        };
        assert_eq!(docs, findings, "{format}: one document per finding");
        let path = state.join(name);
        std::fs::write(&path, &run.stdout).unwrap();
        files.push(path);
    }
    let out = std::process::Command::new(support::ocsf_python())
        .arg(support::repo_root().join("tests/ocsf/validate.py"))
        .arg(support::repo_root().join("tests/ocsf/schema-1.8.0"))
        .args(&files)
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "OCSF validation failed:\n{report}");
    assert_eq!(report.matches("documents valid").count(), 2, "{report}");
}
