//! The organization run against the fake organization: discovery and OU paths, narrowing,
//! statuses, the per-account files and `--resume`.

use super::*;
use crate::report_fetch::PollPolicy;
use keywarden_aws::api::{
    CredentialReportBlob, OrgUnit, IAM_GET_CREDENTIAL_REPORT, ORGANIZATIONS_LIST_ROOTS,
};
use keywarden_aws::fake::{FakeAccount, FakeOrganization};
use keywarden_output::OrgFindings;

fn now() -> Timestamp {
    "2026-12-01T00:00:00Z".parse().unwrap()
}

fn unit(id: &str, name: &str) -> OrgUnit {
    OrgUnit {
        id: id.into(),
        name: name.into(),
    }
}

fn member(id: &str, name: &str, state: &str) -> OrgAccount {
    OrgAccount {
        id: id.into(),
        name: name.into(),
        state: state.into(),
    }
}

/// An account whose report has one user, `alice`, with an active key created in 2024 and never
/// rotated (KEY002 fails).
fn account(id: &str) -> FakeAccount {
    let header = keywarden_core::report::COLUMNS.join(",");
    let row = format!(
        "alice,arn:aws:iam::{id}:user/alice,2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,\
         true,2024-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
    );
    let mut fake = FakeAccount::default();
    fake.report = Some(CredentialReportBlob {
        content: format!("{header}\n{row}\n").into_bytes(),
        generated_at: now() - chrono::Duration::hours(1),
    });
    fake
}

/// Root `r-1` holds the management account 111111111111 and OU Workloads (`ou-w`), which holds
/// 222222222222 and OU Prod (`ou-p`: 333333333333, 444444444444 suspended); OU Sandbox
/// (`ou-s`) under the root holds 555555555555.
fn organization() -> FakeOrganization {
    let mut org = FakeOrganization::default();
    org.roots = vec![unit("r-1", "Root")];
    org.units.insert(
        "r-1".into(),
        vec![unit("ou-w", "Workloads"), unit("ou-s", "Sandbox")],
    );
    org.units.insert("ou-w".into(), vec![unit("ou-p", "Prod")]);
    org.accounts.insert(
        "r-1".into(),
        vec![member("111111111111", "management", "ACTIVE")],
    );
    org.accounts.insert(
        "ou-w".into(),
        vec![member("222222222222", "shared", "ACTIVE")],
    );
    org.accounts.insert(
        "ou-p".into(),
        vec![
            member("333333333333", "prod-web", "ACTIVE"),
            member("444444444444", "old", "SUSPENDED"),
        ],
    );
    org.accounts.insert(
        "ou-s".into(),
        vec![member("555555555555", "sandbox", "ACTIVE")],
    );
    for id in [
        "111111111111",
        "222222222222",
        "333333333333",
        "555555555555",
    ] {
        org.members.insert(id.into(), Arc::new(account(id)));
    }
    org
}

fn options() -> OrgAuditOptions {
    OrgAuditOptions {
        ous: Vec::new(),
        accounts: Vec::new(),
        exclude_accounts: Vec::new(),
        account_concurrency: 3,
        live: LiveAuditOptions {
            enrich: false,
            poll: PollPolicy {
                first_delay: std::time::Duration::from_millis(1),
                max_delay: std::time::Duration::from_millis(2),
                bound: std::time::Duration::from_secs(5),
            },
            ..LiveAuditOptions::default()
        },
    }
}

fn ids(targets: &[OrgTarget]) -> Vec<(&str, &str)> {
    targets
        .iter()
        .map(|t| (t.account.id.as_str(), t.ou_path.as_str()))
        .collect()
}

#[tokio::test]
async fn discovery_walks_nested_ous_and_names_each_accounts_path() {
    let org = organization();
    let targets = discover(&org, &[]).await.unwrap();
    assert_eq!(
        ids(&targets),
        [
            ("111111111111", "Root"),
            ("222222222222", "Root/Workloads"),
            ("333333333333", "Root/Workloads/Prod"),
            ("444444444444", "Root/Workloads/Prod"),
            ("555555555555", "Root/Sandbox"),
        ]
    );
}

#[tokio::test]
async fn an_ou_keeps_its_subtree_and_an_unknown_ou_is_an_error() {
    let org = organization();
    let targets = discover(&org, &["ou-w".into()]).await.unwrap();
    assert_eq!(
        ids(&targets),
        [
            ("222222222222", "Root/Workloads"),
            ("333333333333", "Root/Workloads/Prod"),
            ("444444444444", "Root/Workloads/Prod"),
        ]
    );
    let error = discover(&org, &["ou-nope".into()]).await.unwrap_err();
    assert!(matches!(error, OrgError::NoSuchOu(ou) if ou == "ou-nope"));
}

#[tokio::test]
async fn a_failed_listing_is_the_runs_error_with_the_aws_code() {
    let mut org = organization();
    org.failures.insert(
        ORGANIZATIONS_LIST_ROOTS,
        "AWSOrganizationsNotInUseException".into(),
    );
    let error = discover(&org, &[]).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("AWSOrganizationsNotInUseException"),
        "{error}"
    );
}

#[tokio::test]
async fn accounts_and_exclude_accounts_narrow_and_an_unknown_account_is_an_error() {
    let org = organization();
    let all = discover(&org, &[]).await.unwrap();
    let only = narrow(
        all.clone(),
        &["222222222222".into(), "555555555555".into()],
        &[],
    )
    .unwrap();
    assert_eq!(
        ids(&only),
        [
            ("222222222222", "Root/Workloads"),
            ("555555555555", "Root/Sandbox")
        ]
    );
    let without = narrow(all.clone(), &[], &["111111111111".into()]).unwrap();
    assert_eq!(without.len(), 4);
    assert!(without.iter().all(|t| t.account.id != "111111111111"));
    let error = narrow(all, &["999999999999".into()], &[]).unwrap_err();
    assert!(matches!(error, OrgError::NoSuchAccount(id) if id == "999999999999"));
}

async fn run(org: Arc<FakeOrganization>, store: Arc<RunStore>) -> OrgReport {
    let targets = discover(&*org, &[]).await.unwrap();
    let config = Arc::new(AuditConfig::default());
    run_org_audit(
        org,
        targets,
        store,
        config,
        now(),
        &options(),
        &NoOrgProgress,
    )
    .await
    .unwrap()
}

fn status_of<'a>(report: &'a OrgReport, id: &str) -> &'a AccountSummary {
    report.accounts.iter().find(|a| a.id == id).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_account_gets_its_status_and_a_failed_one_an_unknown_finding() {
    let mut org = organization();
    org.enter_failures
        .insert("222222222222".into(), "AccessDenied".into());
    // The report call of 555555555555 is throttled past the SDK's retries.
    let mut throttled = account("555555555555");
    throttled
        .failures
        .insert(IAM_GET_CREDENTIAL_REPORT, "Throttling".into());
    org.members
        .insert("555555555555".into(), Arc::new(throttled));
    let state = tempfile::tempdir().unwrap();
    let store = Arc::new(RunStore::create(state.path(), "run-1").unwrap());
    let report = run(Arc::new(org), store).await;

    let statuses: Vec<(&str, &str, Option<&str>)> = report
        .accounts
        .iter()
        .map(|a| (a.id.as_str(), a.status.as_str(), a.error_code.as_deref()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("111111111111", "ok", None),
            ("222222222222", "assume-role-denied", Some("AccessDenied")),
            ("333333333333", "ok", None),
            ("444444444444", "skipped-suspended", None),
            ("555555555555", "throttled", Some("Throttling")),
        ]
    );
    let web = status_of(&report, "333333333333");
    assert_eq!(web.users_evaluated, 1);
    assert!(web.fail >= 1, "{web:?}");
    assert_eq!(
        web.report_generated_at,
        Some(now() - chrono::Duration::hours(1))
    );

    let mut seen = Vec::new();
    report
        .for_each_account(&mut |account, findings| {
            for f in findings {
                let label = f.org_account.as_deref().unwrap();
                assert_eq!(label.name, account.name);
                assert_eq!(label.ou_path, account.ou_path);
                seen.push((account.id.clone(), f.rule.code, f.status));
            }
            Ok(())
        })
        .unwrap();
    assert!(seen.contains(&("222222222222".into(), "ORG-NOT-AUDITED", Status::Unknown)));
    assert!(seen.contains(&("555555555555".into(), "ORG-NOT-AUDITED", Status::Unknown)));
    // alice's never-rotated key fails in the audited account (a catalogue rule's finding).
    assert!(seen.iter().any(|(id, code, status)| id == "333333333333"
        && *code != ACCOUNT_NOT_AUDITED.code
        && *status == Status::Fail));
    assert!(
        !seen.iter().any(|(id, _, _)| id == "444444444444"),
        "a suspended account is not audited"
    );
    let denied: Vec<_> = seen
        .iter()
        .filter(|(id, _, _)| id == "222222222222")
        .collect();
    assert_eq!(denied.len(), 1, "one unknown finding for a failed account");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_audits_only_the_accounts_not_finished() {
    let state = tempfile::tempdir().unwrap();
    let mut first = organization();
    first
        .enter_failures
        .insert("333333333333".into(), "Throttling".into());
    let first = Arc::new(first);
    let report = run(
        Arc::clone(&first),
        Arc::new(RunStore::create(state.path(), "run-2").unwrap()),
    )
    .await;
    assert_eq!(status_of(&report, "333333333333").status, "throttled");

    let second = Arc::new(organization());
    let store = Arc::new(RunStore::open(state.path(), "run-2").unwrap());
    let report = run(Arc::clone(&second), store).await;
    let entered: Vec<String> = second
        .calls()
        .into_iter()
        .filter(|c| c.starts_with(keywarden_aws::api::STS_ASSUME_ROLE))
        .collect();
    assert_eq!(
        entered,
        [format!(
            "{}(333333333333)",
            keywarden_aws::api::STS_ASSUME_ROLE
        )]
    );
    assert!(report
        .accounts
        .iter()
        .all(|a| a.is_ok() || a.status == "skipped-suspended"));
    assert_eq!(report.accounts.len(), 5);
    assert!(
        RunStore::create(state.path(), "run-2").is_err(),
        "a run id is used once"
    );
    assert!(RunStore::open(state.path(), "../etc").is_err());
    assert!(RunStore::open(state.path(), "run-never").is_err());
}

#[test]
fn run_ids_are_safe_folder_names() {
    let id = new_run_id(now());
    assert!(valid_run_id(&id), "{id}");
    assert!(id.starts_with("20261201T000000Z-"), "{id}");
    for bad in ["", "..", "a/b", "a b", &"x".repeat(65)] {
        assert!(!valid_run_id(bad), "{bad}");
    }
}
