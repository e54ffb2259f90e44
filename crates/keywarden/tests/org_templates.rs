//! `keywarden permissions --org`: the management-side policy it prints, and the two StackSet
//! templates it writes with `--template-out`, through the real binary. The templates are run
//! through `cfn-lint` (pinned, installed by `scripts/ensure-cfn-lint.sh` into its own venv; when
//! the script fails, the tests that need it fail: cfn-lint is required, never skipped).

use serde_json::Value;
use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const AUDIT_TEMPLATE: &str = "keywarden-audit-role.json";
const REMEDIATION_TEMPLATE: &str = "keywarden-remediation-role.json";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh folder for one test (removed first if a previous run left it).
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("org-templates")
        .join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn keywarden(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keywarden"))
        .args(args)
        .env_clear()
        .output()
        .expect("run keywarden")
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("JSON")
}

/// The pinned cfn-lint, installed once per test binary.
fn cfn_lint() -> &'static Path {
    static TOOL: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let tool = TOOL.get_or_init(|| {
        let out = Command::new(repo_root().join("scripts/ensure-cfn-lint.sh"))
            .output()
            .map_err(|e| format!("cannot run scripts/ensure-cfn-lint.sh: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "scripts/ensure-cfn-lint.sh failed ({}); cfn-lint is required, this test does not skip:\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(PathBuf::from(String::from_utf8(out.stdout).unwrap().trim()))
    });
    match tool {
        Ok(path) => path,
        Err(why) => panic!("{why}"),
    }
}

/// cfn-lint's verdict on `template`: its exit status and what it printed.
fn lint(template: &Path) -> (bool, String) {
    let out = Command::new(cfn_lint())
        .arg("--")
        .arg(template)
        .output()
        .expect("run cfn-lint");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `permissions --org --template-out DIR ARGS...`: the printed policy and the two templates.
fn generate(dir: &Path, args: &[&str]) -> (Value, Value, Value) {
    let mut all = vec![
        "permissions",
        "--org",
        "--template-out",
        dir.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let out = keywarden(&all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |file: &str| json_of(&std::fs::read(dir.join(file)).unwrap());
    (
        json_of(&out.stdout),
        read(AUDIT_TEMPLATE),
        read(REMEDIATION_TEMPLATE),
    )
}

/// Every action of every statement of a policy document.
fn actions(policy: &Value) -> BTreeSet<String> {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().iter())
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

/// The policy document of a template's one role.
fn role_policy(template: &Value) -> &Value {
    let resources = template["Resources"].as_object().unwrap();
    let role = resources.values().next().unwrap();
    &role["Properties"]["Policies"][0]["PolicyDocument"]
}

#[test]
fn the_templates_pass_cfn_lint() {
    let dir = scratch("lint");
    generate(&dir, &[]);
    for file in [AUDIT_TEMPLATE, REMEDIATION_TEMPLATE] {
        let (ok, said) = lint(&dir.join(file));
        assert!(ok, "cfn-lint refuses {file}:\n{said}");
    }
}

#[test]
fn cfn_lint_refuses_a_broken_template() {
    // The check above can fail: a template with a property IAM roles do not have, and one whose
    // trust policy names a parameter that does not exist, are refused.
    let dir = scratch("broken");
    let (_, audit, _) = generate(&dir, &[]);
    let mut unknown_property = audit.clone();
    unknown_property["Resources"]["KeywardenAuditRole"]["Properties"]["ExternalIdentifier"] =
        "x".into();
    let mut dangling_ref = audit;
    dangling_ref["Resources"]["KeywardenAuditRole"]["Properties"]["AssumeRolePolicyDocument"]
        ["Statement"][0]["Principal"]["AWS"]["Ref"] = "NoSuchParameter".into();
    for (name, template) in [
        ("unknown-property.json", unknown_property),
        ("dangling-ref.json", dangling_ref),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(&template).unwrap()).unwrap();
        let (ok, said) = lint(&path);
        assert!(!ok, "cfn-lint accepted {name}:\n{said}");
    }
}

#[test]
fn the_audit_role_s_policy_is_the_one_permissions_prints() {
    let dir = scratch("same-policy");
    let (_, audit, remediation) = generate(&dir, &[]);
    let printed = json_of(&keywarden(&["permissions"]).stdout);
    assert_eq!(role_policy(&audit), &printed);
    assert_eq!(actions(role_policy(&audit)), actions(&printed));
    // The remediation role: exactly what apply, contain and rotate print, together.
    let mut wanted = BTreeSet::new();
    for command in ["apply", "contain", "rotate"] {
        let out = keywarden(&["permissions", "--command", command]);
        assert_eq!(out.status.code(), Some(0));
        wanted.extend(actions(&json_of(&out.stdout)));
    }
    assert_eq!(actions(role_policy(&remediation)), wanted);
    assert!(actions(role_policy(&audit)).is_disjoint(&BTreeSet::from([
        "iam:UpdateAccessKey".to_owned(),
        "iam:DeleteAccessKey".to_owned(),
        "iam:PutUserPolicy".to_owned(),
    ])));
}

#[test]
fn the_trust_policies_need_the_external_id_and_the_auditing_principal() {
    let dir = scratch("trust");
    let (_, audit, remediation) = generate(&dir, &[]);
    for template in [&audit, &remediation] {
        let role = template["Resources"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap();
        let trust = &role["Properties"]["AssumeRolePolicyDocument"];
        let statements = trust["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1, "{trust:#}");
        let statement = &statements[0];
        assert_eq!(statement["Effect"], "Allow");
        assert_eq!(statement["Action"], "sts:AssumeRole");
        assert_eq!(
            statement["Principal"],
            serde_json::json!({"AWS": {"Ref": "AuditingPrincipalArn"}})
        );
        assert_eq!(
            statement["Condition"],
            serde_json::json!({"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}})
        );
        assert!(template["Parameters"]["ExternalId"].is_object());
        assert!(template["Parameters"]["AuditingPrincipalArn"].is_object());
    }
}

#[test]
fn the_management_policy_assumes_the_named_role_and_the_templates_create_it() {
    let dir = scratch("names");
    let (policy, audit, remediation) = generate(
        &dir,
        &[
            "--role-name",
            "sec-audit",
            "--remediation-role-name",
            "sec-fix",
        ],
    );
    assert_eq!(
        actions(&policy),
        BTreeSet::from(
            [
                "organizations:ListRoots",
                "organizations:ListAccountsForParent",
                "organizations:ListOrganizationalUnitsForParent",
                "sts:AssumeRole",
            ]
            .map(str::to_owned)
        )
    );
    assert_eq!(
        policy["Statement"][1]["Resource"],
        "arn:aws:iam::*:role/sec-audit"
    );
    assert_eq!(
        audit["Resources"]["KeywardenAuditRole"]["Properties"]["RoleName"],
        "sec-audit"
    );
    assert_eq!(
        remediation["Resources"]["KeywardenRemediationRole"]["Properties"]["RoleName"],
        "sec-fix"
    );
    // Private files: the templates say which role may act on every account.
    for file in [AUDIT_TEMPLATE, REMEDIATION_TEMPLATE] {
        let mode = std::fs::metadata(dir.join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    // Without --template-out, only the policy.
    let out = keywarden(&["permissions", "--org"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        json_of(&out.stdout)["Statement"][1]["Resource"],
        "arn:aws:iam::*:role/keywarden-audit"
    );
}

#[test]
fn a_bad_role_name_or_a_lone_org_flag_is_refused() {
    let dir = scratch("refused");
    for name in ["a/b", "x*", "", &"r".repeat(65)] {
        let out = keywarden(&[
            "permissions",
            "--org",
            "--role-name",
            name,
            "--template-out",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{name:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("not an IAM role name"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing written"
    );
    // --template-out and --role-name belong to --org; --org does not take --command.
    for args in [
        &["permissions", "--template-out", "x"][..],
        &["permissions", "--role-name", "x"][..],
        &["permissions", "--org", "--command", "apply"][..],
    ] {
        let out = keywarden(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
