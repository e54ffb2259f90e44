//! The remediation engine (`apply_plan`, `resume_run`, `undo_run`) against the in-memory
//! account, with the journal in a temporary folder: every action kind with its verification
//! and its undo, preconditions re-checked at apply time, safety levels, `--max-actions`, the
//! caller's own key, AWS errors, and crash safety (a run left with an intent and no outcome,
//! settled on resume by reading the account).

mod support;

/// In a module of its own, so `-E 'test(/remediate/)'` selects these tests.
mod remediate {
    use keywarden_app::journal::{
        Intent, Journal, KeyChange, KeyEffect, NewRun, Outcome, RunId, RunKind, RunStatus,
        StepEntry, StepRecord,
    };
    use keywarden_app::remediate::{
        apply_plan, resume_run, undo_run, ActionResult, ApplyOptions, Effect, RunReport,
    };
    use keywarden_aws::api::{CallerIdentity, IamRead, IamWrite, KeyLastUsed, RemediationRead};
    use keywarden_aws::fake::FakeAccount;
    use keywarden_core::config::AuditConfig;
    use keywarden_core::model::Tag;
    use keywarden_core::remediation::{
        quarantine_policy, revoke_sessions_policy, Action, ActionKind, KeyIdle, KeyStatus, Plan,
        PlanSource, Precondition, Reason, Safety, UseBound, PLAN_FORMAT, PLAN_VERSION,
        QUARANTINE_POLICY_NAME, REVOKE_SESSIONS_POLICY_NAME,
    };
    use keywarden_core::Timestamp;
    use std::collections::{BTreeMap, HashMap};
    use tempfile::TempDir;

    use super::support::{iam_user as user, key, t};

    /// When the plans are made and (unless a test says otherwise) applied.
    const NOW: &str = "2025-06-01T12:00:00Z";

    const ALICE_KEY: &str = "AKIAALICE00000000001";
    const BOB_KEY: &str = "AKIABOB0000000000001";
    const CAROL_KEY: &str = "AKIACAROL00000000001";
    /// Dave's key is already inactive at the start (a two-phase delete's target).
    const DAVE_KEY: &str = "AKIADAVE000000000001";

    fn now() -> Timestamp {
        t(NOW)
    }

    fn days_after(days: i64) -> Timestamp {
        now() + chrono::Duration::days(days)
    }

    fn used(at: &str) -> KeyLastUsed {
        KeyLastUsed {
            date: Some(t(at)),
            service: Some("s3".into()),
            region: Some("us-east-1".into()),
            user: None,
        }
    }

    /// alice, bob and carol with one active key each (alice's and bob's used months ago, carol's
    /// never), dave with an inactive key, and erin with a console password last used long ago.
    fn account() -> FakeAccount {
        let mut fake = FakeAccount::default();
        fake.now = now();
        let mut erin = user("erin");
        erin.password_last_used = Some(t("2024-10-01T00:00:00Z"));
        fake.users = vec![
            user("alice"),
            user("bob"),
            user("carol"),
            user("dave"),
            erin,
        ];
        fake.keys = HashMap::from([
            ("alice".to_owned(), vec![key(ALICE_KEY, true)]),
            ("bob".to_owned(), vec![key(BOB_KEY, true)]),
            ("carol".to_owned(), vec![key(CAROL_KEY, true)]),
            ("dave".to_owned(), vec![key(DAVE_KEY, false)]),
        ]);
        fake.last_used = HashMap::from([
            (ALICE_KEY.to_owned(), used("2025-01-01T00:00:00Z")),
            (BOB_KEY.to_owned(), used("2025-02-01T00:00:00Z")),
            (DAVE_KEY.to_owned(), used("2024-12-01T00:00:00Z")),
        ]);
        fake.login_profiles = HashMap::from([("erin".to_owned(), t("2023-02-01T00:00:00Z"))]);
        fake
    }

    // ----- hand-built plans, as `keywarden plan` (or contain) would write them -----

    fn reason(rule: &str) -> Vec<Reason> {
        vec![Reason {
            rule: rule.into(),
            message: format!("{rule} fired"),
        }]
    }

    fn action(id: &str, kind: ActionKind, safety: Safety, user: &str, key: Option<&str>) -> Action {
        Action {
            id: id.into(),
            kind,
            safety,
            account: Some("123456789012".into()),
            user: Some(user.into()),
            access_key_id: key.map(str::to_owned),
            not_before: None,
            policy_time: None,
            precondition: Precondition::default(),
            reasons: reason("KEY001"),
            steps: Vec::new(),
        }
    }

    /// Deactivate `key` of `user`, safe, as long as it is active and not used after `last_used`.
    fn deactivate(id: &str, user: &str, key: &str, last_used: Option<&str>) -> Action {
        Action {
            precondition: Precondition {
                key_status: Some(KeyStatus::Active),
                key_unused_since: Some(UseBound {
                    last_used: last_used.map(t),
                }),
                // What makes it safe: idle since its last use (or, never used, long before).
                key_idle: Some(KeyIdle {
                    since: t(last_used.unwrap_or("2024-01-01T00:00:00Z")),
                    days: 1,
                }),
                not_exempt_from: vec!["KEY001".into()],
                ..Precondition::default()
            },
            ..action(id, ActionKind::DeactivateKey, Safety::Safe, user, Some(key))
        }
    }

    /// Delete `key`, two-phase: only once inactive (and unused) for 14 days.
    fn delete_key(id: &str, user: &str, key: &str, last_used: Option<&str>) -> Action {
        Action {
            precondition: Precondition {
                key_status: Some(KeyStatus::Inactive),
                key_unused_since: Some(UseBound {
                    last_used: last_used.map(t),
                }),
                inactive_for_days: Some(14),
                not_exempt_from: vec!["KEY004".into()],
                ..Precondition::default()
            },
            reasons: reason("KEY004"),
            ..action(id, ActionKind::DeleteKey, Safety::TwoPhase, user, Some(key))
        }
    }

    /// Remove `user`'s console password, unsafe, if it was not used after `last_used`.
    fn delete_password(id: &str, user: &str, last_used: &str) -> Action {
        Action {
            precondition: Precondition {
                password_present: true,
                password_unused_since: Some(UseBound {
                    last_used: Some(t(last_used)),
                }),
                not_exempt_from: vec!["PWD001".into()],
                ..Precondition::default()
            },
            reasons: reason("PWD001"),
            ..action(
                id,
                ActionKind::DeleteLoginProfile,
                Safety::Unsafe,
                user,
                None,
            )
        }
    }

    /// Attach the revocation (`RevokeSessions`) or quarantine policy fixed at `policy_time`.
    fn policy_action(id: &str, kind: ActionKind, user: &str, policy_time: Timestamp) -> Action {
        Action {
            policy_time: Some(policy_time),
            reasons: reason("EVT001"),
            ..action(id, kind, Safety::Unsafe, user, None)
        }
    }

    fn plan(actions: Vec<Action>) -> Plan {
        Plan {
            format: PLAN_FORMAT.into(),
            version: PLAN_VERSION,
            created_at: now(),
            account: Some("123456789012".into()),
            source: PlanSource {
                kind: "test".into(),
                location: "hand-built".into(),
                data_as_of: Some(now()),
            },
            delete_after_days: 14,
            actions,
            not_planned: Vec::new(),
        }
    }

    // ----- running -----

    struct Fixture {
        _dir: TempDir,
        journal: Journal,
    }

    fn fixture() -> Fixture {
        let dir = TempDir::new().expect("temporary state folder");
        let journal = Journal::open(dir.path()).expect("open the journal");
        Fixture { _dir: dir, journal }
    }

    fn unsafe_too() -> ApplyOptions {
        ApplyOptions {
            allow_unsafe: true,
            ..ApplyOptions::default()
        }
    }

    async fn apply_at(
        fake: &FakeAccount,
        fx: &mut Fixture,
        at: Timestamp,
        plan: &Plan,
        options: &ApplyOptions,
    ) -> RunReport {
        apply_with(fake, fx, at, plan, options, &AuditConfig::default()).await
    }

    async fn apply_with(
        fake: &FakeAccount,
        fx: &mut Fixture,
        at: Timestamp,
        plan: &Plan,
        options: &ApplyOptions,
        config: &AuditConfig,
    ) -> RunReport {
        let clock = move || at;
        apply_plan(
            fake,
            &mut fx.journal,
            &clock,
            plan,
            RunKind::Apply,
            options,
            config,
            None,
        )
        .await
        .expect("the run proceeds")
    }

    async fn undo_at(
        fake: &FakeAccount,
        fx: &mut Fixture,
        at: Timestamp,
        run: &RunId,
    ) -> RunReport {
        let clock = move || at;
        undo_run(fake, &mut fx.journal, &clock, run, None)
            .await
            .expect("the undo proceeds")
    }

    async fn resume_at(
        fake: &FakeAccount,
        fx: &mut Fixture,
        at: Timestamp,
        run: &RunId,
    ) -> RunReport {
        let clock = move || at;
        resume_run(
            fake,
            &mut fx.journal,
            &clock,
            run,
            &AuditConfig::default(),
            None,
        )
        .await
        .expect("the resume proceeds")
    }

    fn result<'r>(report: &'r RunReport, id: &str) -> &'r ActionResult {
        &report
            .actions
            .iter()
            .find(|a| a.action_id == id)
            .unwrap_or_else(|| panic!("no {id} in {report:#?}"))
            .result
    }

    fn assert_done(report: &RunReport, id: &str) {
        match result(report, id) {
            ActionResult::Done { verified: true, .. } => {}
            other => panic!("{id}: expected done and verified, got {other:?}\n{report:#?}"),
        }
    }

    fn assert_not_attempted(report: &RunReport, id: &str, containing: &str) {
        match result(report, id) {
            ActionResult::NotAttempted(why) if why.contains(containing) => {}
            other => panic!("{id}: expected not attempted ({containing}), got {other:?}"),
        }
    }

    fn skip_reason(report: &RunReport, id: &str) -> String {
        match result(report, id) {
            ActionResult::Skipped(why) => why.clone(),
            other => panic!("{id}: expected skipped, got {other:?}\n{report:#?}"),
        }
    }

    async fn key_active(fake: &FakeAccount, user: &str, key: &str) -> Option<bool> {
        fake.list_access_keys(user)
            .await
            .unwrap()
            .iter()
            .find(|k| k.id == key)
            .map(|k| k.active)
    }

    /// The run's steps for one action, in order.
    fn steps_of(journal: &Journal, run: &RunId, id: &str) -> Vec<StepRecord> {
        journal
            .steps(run)
            .unwrap()
            .into_iter()
            .filter(|s| s.action_id == id)
            .collect()
    }

    /// The outcome names of an action's call steps (`succeeded`, `abandoned`...).
    fn outcomes(journal: &Journal, run: &RunId, id: &str) -> Vec<&'static str> {
        steps_of(journal, run, id)
            .iter()
            .filter_map(|s| {
                s.call()
                    .map(|c| c.outcome.as_ref().map_or("in-doubt", |o| o.outcome.name()))
            })
            .collect()
    }

    fn updates(fake: &FakeAccount) -> usize {
        fake.count("iam:UpdateAccessKey")
    }

    // ----- each action kind, verified, and undone -----

    #[tokio::test]
    async fn deactivate_is_journaled_verified_and_undone() {
        let fake = account();
        let mut fx = fixture();
        let plan = plan(vec![deactivate(
            "A001",
            "alice",
            ALICE_KEY,
            Some("2025-01-01T00:00:00Z"),
        )]);
        let report = apply_at(&fake, &mut fx, now(), &plan, &ApplyOptions::default()).await;
        assert_done(&report, "A001");
        assert!(!report.has_errors());
        assert_eq!(key_active(&fake, "alice", ALICE_KEY).await, Some(false));
        assert_eq!(
            fake.calls()
                .iter()
                .filter(|c| c.starts_with("iam:UpdateAccessKey"))
                .collect::<Vec<_>>(),
            [&format!("iam:UpdateAccessKey(alice/{ALICE_KEY}:Inactive)")]
        );

        // Intent, outcome and verification are in the journal; the run is complete.
        let steps = steps_of(&fx.journal, &report.run, "A001");
        assert_eq!(steps.len(), 1);
        let call = steps[0].call().expect("a call step");
        assert_eq!(call.call, "iam:UpdateAccessKey");
        assert_eq!(
            call.key,
            Some(KeyEffect {
                key_id: ALICE_KEY.into(),
                change: KeyChange::Deactivated
            })
        );
        assert_eq!(call.outcome.as_ref().unwrap().outcome, Outcome::Succeeded);
        assert!(call.verification.as_ref().unwrap().verified);
        let info = fx.journal.run(&report.run).unwrap().unwrap();
        assert_eq!(info.status, Some(RunStatus::Completed));
        assert_eq!(info.counts.done, 1);
        assert_eq!(
            fx.journal.last_deactivation(ALICE_KEY).unwrap(),
            Some(now()),
            "the journal dates the deactivation for the two-phase delete"
        );

        // Undo reactivates it, as a run of its own.
        let undo = undo_at(&fake, &mut fx, days_after(1), &report.run).await;
        assert_eq!(undo.kind, RunKind::Undo);
        assert_done(&undo, "undo-A001");
        assert_eq!(undo.actions[0].kind, "reactivate-key");
        assert!(undo.irreversible.is_empty(), "{undo:#?}");
        assert_eq!(key_active(&fake, "alice", ALICE_KEY).await, Some(true));
        assert_eq!(updates(&fake), 2);
        assert_eq!(fx.journal.last_deactivation(ALICE_KEY).unwrap(), None);
        let info = fx.journal.run(&undo.run).unwrap().unwrap();
        assert_eq!(info.parent.as_ref(), Some(&report.run));

        // Undoing again does no harm: the key is already active.
        let again = undo_at(&fake, &mut fx, days_after(2), &report.run).await;
        assert!(matches!(
            result(&again, "undo-A001"),
            ActionResult::AlreadyDone(_)
        ));
        assert_eq!(updates(&fake), 2);
    }

    #[tokio::test]
    async fn two_phase_delete_waits_for_its_grace_period_then_is_irreversible() {
        let fake = account();
        let mut fx = fixture();
        // Phase one: deactivate alice's key; the plan's delete is due 14 days later.
        let mut delete = delete_key("A002", "alice", ALICE_KEY, Some("2025-01-01T00:00:00Z"));
        delete.not_before = Some(days_after(14));
        let plan = plan(vec![
            deactivate("A001", "alice", ALICE_KEY, Some("2025-01-01T00:00:00Z")),
            delete,
        ]);
        let first = apply_at(&fake, &mut fx, now(), &plan, &ApplyOptions::default()).await;
        assert_done(&first, "A001");
        assert_not_attempted(&first, "A002", "--two-phase");

        // Asked for, but not due yet.
        let two_phase = ApplyOptions {
            allow_two_phase: true,
            ..ApplyOptions::default()
        };
        let early = apply_at(&fake, &mut fx, days_after(5), &plan, &two_phase).await;
        assert!(
            matches!(result(&early, "A002"), ActionResult::NotDue(t) if *t == days_after(14)),
            "{early:#?}"
        );
        assert!(
            steps_of(&fx.journal, &early.run, "A002").is_empty(),
            "a delete not yet due is not settled: a later run may find it due"
        );
        assert_eq!(fake.count("iam:DeleteAccessKey"), 0);

        // Due: the key has been inactive (by the journal's own record) and unused for 15 days.
        let due = apply_at(&fake, &mut fx, days_after(15), &plan, &two_phase).await;
        assert!(
            matches!(result(&due, "A001"), ActionResult::AlreadyDone(d) if d.contains("Inactive")),
            "phase one is not repeated: {due:#?}"
        );
        assert_done(&due, "A002");
        assert_eq!(key_active(&fake, "alice", ALICE_KEY).await, None, "deleted");
        assert_eq!(fake.count("iam:DeleteAccessKey"), 1);
        let call = steps_of(&fx.journal, &due.run, "A002")[0]
            .call()
            .unwrap()
            .clone();
        assert_eq!(call.call, "iam:DeleteAccessKey");
        assert_eq!(call.undo_json, None, "nothing can reverse a delete");

        // Undo says plainly that it cannot bring the key back, and calls nothing.
        let undo = undo_at(&fake, &mut fx, days_after(16), &due.run).await;
        assert!(undo.actions.is_empty(), "{undo:#?}");
        assert_eq!(undo.irreversible.len(), 1, "{undo:#?}");
        assert!(
            undo.irreversible[0].contains(ALICE_KEY) && undo.irreversible[0].contains("deleted"),
            "{:?}",
            undo.irreversible
        );
        assert!(!undo.has_errors());

        // Undoing phase one now: the key is gone, so it cannot be reactivated either.
        let undo_first = undo_at(&fake, &mut fx, days_after(16), &first.run).await;
        assert!(skip_reason(&undo_first, "undo-A001").contains("no longer exists"));
        assert!(undo_first
            .irreversible
            .iter()
            .any(|l| l.contains(ALICE_KEY)));
    }

    #[tokio::test]
    async fn a_key_inactive_without_a_journal_record_is_dated_first() {
        // Dave's key was made inactive outside keywarden: the first run only records when it saw
        // it inactive; the delete becomes due 14 days after that sighting.
        let fake = account();
        let mut fx = fixture();
        let plan = plan(vec![delete_key(
            "A001",
            "dave",
            DAVE_KEY,
            Some("2024-12-01T00:00:00Z"),
        )]);
        let two_phase = ApplyOptions {
            allow_two_phase: true,
            ..ApplyOptions::default()
        };
        let first = apply_at(&fake, &mut fx, now(), &plan, &two_phase).await;
        assert!(
            matches!(result(&first, "A001"), ActionResult::NotDue(t) if *t == days_after(14)),
            "{first:#?}"
        );
        assert_eq!(fx.journal.inactive_since(DAVE_KEY).unwrap(), Some(now()));
        assert_eq!(fake.count("iam:DeleteAccessKey"), 0);

        let later = apply_at(&fake, &mut fx, days_after(10), &plan, &two_phase).await;
        assert!(matches!(result(&later, "A001"), ActionResult::NotDue(_)));

        let due = apply_at(&fake, &mut fx, days_after(14), &plan, &two_phase).await;
        assert_done(&due, "A001");
        assert_eq!(key_active(&fake, "dave", DAVE_KEY).await, None);
    }

    #[tokio::test]
    async fn an_undo_restarts_the_inactive_clock_so_a_later_hand_deactivation_waits_again() {
        // Plan, `apply --two-phase` (deactivated, the delete not due), `undo` (Active again);
        // a month later someone deactivates the key by hand. The delete must wait 14 days from
        // that sighting: the first deactivation was reversed, its clock with it.
        let fake = account();
        let mut fx = fixture();
        let plan = plan(vec![
            deactivate("A001", "alice", ALICE_KEY, Some("2025-01-01T00:00:00Z")),
            delete_key("A002", "alice", ALICE_KEY, Some("2025-01-01T00:00:00Z")),
        ]);
        let two_phase = ApplyOptions {
            allow_two_phase: true,
            ..ApplyOptions::default()
        };
        let first = apply_at(&fake, &mut fx, now(), &plan, &two_phase).await;
        assert_done(&first, "A001");
        assert!(matches!(result(&first, "A002"), ActionResult::NotDue(t) if *t == days_after(14)));

        let undo = undo_at(&fake, &mut fx, days_after(1), &first.run).await;
        assert_done(&undo, "undo-A001");

        fake.set_access_key_status("alice", ALICE_KEY, false)
            .await
            .unwrap();
        let later = apply_at(&fake, &mut fx, days_after(31), &plan, &two_phase).await;
        assert!(
            matches!(result(&later, "A002"), ActionResult::NotDue(t) if *t == days_after(45)),
            "inactive since it was seen so at day 31, not since day 0: {later:#?}"
        );
        assert_eq!(fake.count("iam:DeleteAccessKey"), 0);
        assert_eq!(key_active(&fake, "alice", ALICE_KEY).await, Some(false));
    }

    #[tokio::test]
    async fn any_read_that_sees_the_key_active_restarts_its_clock() {
        // Dave's inactive key is seen inactive, then someone reactivates it and keywarden's next
        // run sees it Active (the plan expected Inactive: a skip), then it is deactivated again.
        let fake = account();
        let mut fx = fixture();
        let plan = plan(vec![delete_key(
            "A001",
            "dave",
            DAVE_KEY,
            Some("2024-12-01T00:00:00Z"),
        )]);
        let two_phase = ApplyOptions {
            allow_two_phase: true,
            ..ApplyOptions::default()
        };
        let first = apply_at(&fake, &mut fx, now(), &plan, &two_phase).await;
        assert!(matches!(result(&first, "A001"), ActionResult::NotDue(_)));
        fake.set_access_key_status("dave", DAVE_KEY, true)
            .await
            .unwrap();
        let seen_active = apply_at(&fake, &mut fx, days_after(5), &plan, &two_phase).await;
        assert!(skip_reason(&seen_active, "A001").contains("Active"));
        fake.set_access_key_status("dave", DAVE_KEY, false)
            .await
            .unwrap();
        let again = apply_at(&fake, &mut fx, days_after(20), &plan, &two_phase).await;
        assert!(
            matches!(result(&again, "A001"), ActionResult::NotDue(t) if *t == days_after(34)),
            "{again:#?}"
        );
        assert_eq!(key_active(&fake, "dave", DAVE_KEY).await, Some(false));
    }

    #[tokio::test]
    async fn delete_login_profile_is_unsafe_verified_and_irreversible() {
        let fake = account();
        let mut fx = fixture();
        let plan = plan(vec![delete_password(
            "A001",
            "erin",
            "2024-10-01T00:00:00Z",
        )]);
        let safe_only = apply_at(&fake, &mut fx, now(), &plan, &ApplyOptions::default()).await;
        assert_not_attempted(&safe_only, "A001", "--unsafe");
        assert_eq!(fake.count("iam:DeleteLoginProfile"), 0);

        let report = apply_at(&fake, &mut fx, now(), &plan, &unsafe_too()).await;
        assert_done(&report, "A001");
        assert_eq!(fake.get_login_profile("erin").await.unwrap(), None);
        assert_eq!(fake.count("iam:DeleteLoginProfile"), 1);

        let undo = undo_at(&fake, &mut fx, days_after(1), &report.run).await;
        assert!(undo.actions.is_empty());
        assert_eq!(undo.irreversible.len(), 1);
        assert!(
            undo.irreversible[0].contains("console password of erin"),
            "{:?}",
            undo.irreversible
        );
        assert_eq!(fake.count("iam:DeleteLoginProfile"), 1);
    }

    #[tokio::test]
    async fn revoke_and_quarantine_attach_the_planned_documents_and_undo_removes_them() {
        let mut fake = account();
        // bob already has a quarantine policy (an earlier incident's): undo must restore it.
        let earlier = quarantine_policy(t("2025-05-01T00:00:00Z")).to_string();
        fake.user_policies = HashMap::from([(
            "bob".to_owned(),
            BTreeMap::from([(QUARANTINE_POLICY_NAME.to_owned(), earlier.clone())]),
        )]);
        let mut fx = fixture();
        let issued_before = t("2025-06-01T11:59:30Z");
        let until = issued_before + chrono::Duration::hours(36);
        let plan = plan(vec![
            policy_action("A001", ActionKind::RevokeSessions, "alice", issued_before),
            policy_action("A002", ActionKind::Quarantine, "alice", until),
            policy_action("A003", ActionKind::Quarantine, "bob", until),
        ]);
        // Applied later than planned: the documents carry the plan's time, not the clock's.
        let report = apply_at(&fake, &mut fx, days_after(1), &plan, &unsafe_too()).await;
        for id in ["A001", "A002", "A003"] {
            assert_done(&report, id);
        }
        let revoke = fake
            .get_user_policy("alice", REVOKE_SESSIONS_POLICY_NAME)
            .await
            .unwrap()
            .expect("the revocation policy");
        let revoke: serde_json::Value = serde_json::from_str(&revoke).unwrap();
        assert_eq!(revoke, revoke_sessions_policy(issued_before));
        assert_eq!(
            revoke["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"],
            "2025-06-01T11:59:30Z"
        );
        let quarantine = fake
            .get_user_policy("alice", QUARANTINE_POLICY_NAME)
            .await
            .unwrap()
            .expect("the quarantine policy");
        let quarantine: serde_json::Value = serde_json::from_str(&quarantine).unwrap();
        assert_eq!(quarantine, quarantine_policy(until));

        let undo = undo_at(&fake, &mut fx, days_after(2), &report.run).await;
        assert!(!undo.has_errors(), "{undo:#?}");
        assert!(undo.irreversible.is_empty());
        // Newest first.
        let order: Vec<_> = undo
            .actions
            .iter()
            .map(|a| (a.action_id.as_str(), a.kind.as_str()))
            .collect();
        assert_eq!(
            order,
            [
                ("undo-A003", "restore-policy"),
                ("undo-A002", "remove-policy"),
                ("undo-A001", "remove-policy"),
            ]
        );
        assert_eq!(
            fake.list_user_policies("alice").await.unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            fake.get_user_policy("bob", QUARANTINE_POLICY_NAME)
                .await
                .unwrap(),
            Some(earlier),
            "the policy that was there before is put back"
        );
    }

    #[tokio::test]
    async fn a_policy_already_in_place_is_not_put_again() {
        // `contain` run twice attaches the same document: the second run calls nothing.
        let fake = account();
        let mut fx = fixture();
        let plan = plan(vec![policy_action(
            "A001",
            ActionKind::Quarantine,
            "alice",
            days_after(1),
        )]);
        let first = apply_at(&fake, &mut fx, now(), &plan, &unsafe_too()).await;
        assert_done(&first, "A001");
        let second = apply_at(&fake, &mut fx, now(), &plan, &unsafe_too()).await;
        assert!(matches!(
            result(&second, "A001"),
            ActionResult::AlreadyDone(_)
        ));
        assert_eq!(fake.count("iam:PutUserPolicy"), 1);
        assert!(!second.has_errors());
    }

    // ----- preconditions -----

    #[tokio::test]
    async fn a_key_used_after_the_plan_is_skipped_with_the_reason() {
        let mut fake = account();
        let plan = plan(vec![
            deactivate("A001", "alice", ALICE_KEY, Some("2025-01-01T00:00:00Z")),
            deactivate("A002", "carol", CAROL_KEY, None),
            deactivate("A003", "bob", BOB_KEY, Some("2025-02-01T00:00:00Z")),
        ]);
        // Between plan and apply: alice's key is used again, carol's (never used) is used for the
        // first time; bob's is untouched.
        fake.last_used
            .insert(ALICE_KEY.into(), used("2025-06-01T11:00:00Z"));
        fake.last_used
            .insert(CAROL_KEY.into(), used("2025-06-01T11:30:00Z"));
        let mut fx = fixture();
        let report = apply_at(&fake, &mut fx, now(), &plan, &ApplyOptions::default()).await;

        let alice = skip_reason(&report, "A001");
        assert!(
            alice.contains("2025-06-01T11:00:00")
                && alice.contains("after the plan saw its last use"),
            "{alice}"
        );
        assert!(skip_reason(&report, "A002").contains("never used"));
        assert_done(&report, "A003");
        assert!(
            !report.has_errors(),
            "a changed world is a skip, not an error"
        );
        assert_eq!(
            fake.calls()
                .iter()
                .filter(|c| c.starts_with("iam:UpdateAccessKey"))
                .collect::<Vec<_>>(),
            [&format!("iam:UpdateAccessKey(bob/{BOB_KEY}:Inactive)")],
            "nothing written for the skipped keys"
        );
        assert_eq!(key_active(&fake, "alice", ALICE_KEY).await, Some(true));

        // The journal holds the skip and its reason, and no intent.
        let steps = steps_of(&fx.journal, &report.run, "A001");
        assert_eq!(steps.len(), 1);
        assert!(matches!(&steps[0].entry, StepEntry::Skipped { reason } if *reason == alice));
        let counts = fx.journal.run(&report.run).unwrap().unwrap().counts;
        assert_eq!((counts.done, counts.skipped), (1, 2));
    }

    #[tokio::test]
    async fn a_changed_status_password_or_exemption_is_skipped() {
        let mut fake = account();
        let plan = plan(vec![
            deactivate("A001", "alice", ALICE_KEY, Some("2025-01-01T00:00:00Z")),
            deactivate("A002", "bob", BOB_KEY, Some("2025-02-01T00:00:00Z")),
            deactivate("A003", "carol", CAROL_KEY, None),
            delete_password("A004", "erin", "2024-10-01T00:00:00Z"),
            delete_key("A005", "dave", DAVE_KEY, Some("2024-12-01T00:00:00Z")),
        ]);
        // Someone deactivated alice's key by hand (the effect is in place: nothing to do),
        // deleted carol's, reactivated dave's, tagged bob exempt, and erin signed in to the console.
        fake.keys
            .insert("alice".into(), vec![key(ALICE_KEY, false)]);
        fake.keys.insert("dave".into(), vec![key(DAVE_KEY, true)]);
        fake.keys.insert("carol".into(), Vec::new());
        fake.tags.insert(
            "bob".into(),
            vec![Tag {
                key: "keywarden:exempt:KEY001".into(),
                value: "2025-12-31 migration in progress".into(),
            }],
        );
        fake.users[4].password_last_used = Some(t("2025-05-30T08:00:00Z"));
        let mut fx = fixture();
        let report = apply_at(&fake, &mut fx, now(), &plan, &unsafe_too()).await;
        assert!(
            matches!(result(&report, "A001"), ActionResult::AlreadyDone(d) if d.contains("Inactive")),
            "{report:#?}"
        );
        assert!(skip_reason(&report, "A005").contains("the key is now Active"));
        assert_eq!(fake.count("iam:DeleteAccessKey"), 0);
        let bob = skip_reason(&report, "A002");
        assert!(
            bob.contains("exempted") && bob.contains("migration in progress"),
            "{bob}"
        );
        assert!(skip_reason(&report, "A003").contains("no longer exists"));
        assert!(skip_reason(&report, "A004").contains("password was used at"));
        assert_eq!(updates(&fake), 0);
        assert_eq!(fake.count("iam:DeleteLoginProfile"), 0);

        // An exemption in the config file counts too.
        let fake = account();
        let config_file = keywarden_core::config::ConfigFile::parse(
        "[[exemption]]\nrules = [\"KEY001\"]\nuser = \"alice\"\nreason = \"break-glass key\"\nexpires = \"2026-01-01\"\n",
        "test.toml",
    )
    .expect("config");
        let config = keywarden_core::config::layer(
            None,
            Some((&config_file, "test.toml")),
            &Default::default(),
            &Default::default(),
        )
        .expect("layered config");
        let plan = self::plan(vec![deactivate(
            "A001",
            "alice",
            ALICE_KEY,
            Some("2025-01-01T00:00:00Z"),
        )]);
        let mut fx = fixture();
        let report = apply_with(
            &fake,
            &mut fx,
            now(),
            &plan,
            &ApplyOptions::default(),
            &config,
        )
        .await;
        assert!(skip_reason(&report, "A001").contains("break-glass key"));
        assert_eq!(updates(&fake), 0);
    }

    // ----- what a run may do -----

    #[tokio::test]
    async fn safe_only_by_default_and_the_flags_widen() {
        let plan = plan(vec![
            deactivate("A001", "alice", ALICE_KEY, Some("2025-01-01T00:00:00Z")),
            delete_key("A002", "dave", DAVE_KEY, Some("2024-12-01T00:00:00Z")),
            delete_password("A003", "erin", "2024-10-01T00:00:00Z"),
            Action {
                steps: vec!["sign in as root".into()],
                precondition: Precondition::default(),
                user: Some("<root_account>".into()),
                ..action("A004", ActionKind::Manual, Safety::Manual, "x", None)
            },
        ]);
        // Dave's key has been known inactive for 20 days (an earlier sighting), so the delete is due.
        let prepare = |fx: &mut Fixture| {
            fx.journal
                .observe_inactive(DAVE_KEY, now() - chrono::Duration::days(20))
                .unwrap();
        };
        let run = |options: ApplyOptions| {
            let plan = plan.clone();
            async move {
                let fake = account();
                let mut fx = fixture();
                prepare(&mut fx);
                let report = apply_at(&fake, &mut fx, now(), &plan, &options).await;
                (report, fake)
            }
        };

        let (report, fake) = run(ApplyOptions::default()).await;
        assert_done(&report, "A001");
        assert_not_attempted(&report, "A002", "two-phase");
        assert_not_attempted(&report, "A003", "unsafe");
        assert_not_attempted(&report, "A004", "sign in as root");
        assert_eq!(
            fake.count("iam:DeleteAccessKey") + fake.count("iam:DeleteLoginProfile"),
            0
        );

        let (report, fake) = run(ApplyOptions {
            allow_two_phase: true,
            ..ApplyOptions::default()
        })
        .await;
        assert_done(&report, "A001");
        assert_done(&report, "A002");
        assert_not_attempted(&report, "A003", "--unsafe");
        assert_eq!(fake.count("iam:DeleteLoginProfile"), 0);

        let (report, fake) = run(unsafe_too()).await;
        for id in ["A001", "A002", "A003"] {
            assert_done(&report, id);
        }
        assert_not_attempted(&report, "A004", "manual");
        assert_eq!(fake.count("iam:DeleteAccessKey"), 1);
        assert_eq!(fake.count("iam:DeleteLoginProfile"), 1);
    }

    #[tokio::test]
    async fn max_actions_caps_the_writes_of_a_run() {
        let fake = account();
        let mut fx = fixture();
        let plan = plan(vec![
            deactivate("A001", "alice", ALICE_KEY, Some("2025-01-01T00:00:00Z")),
            deactivate("A002", "bob", BOB_KEY, Some("2025-02-01T00:00:00Z")),
            deactivate("A003", "carol", CAROL_KEY, None),
        ]);
        let options = ApplyOptions {
            max_actions: Some(2),
            ..ApplyOptions::default()
        };
        let report = apply_at(&fake, &mut fx, now(), &plan, &options).await;
        assert_done(&report, "A001");
        assert_done(&report, "A002");
        assert_not_attempted(&report, "A003", "--max-actions 2");
        assert_eq!(updates(&fake), 2);
        assert_eq!(key_active(&fake, "carol", CAROL_KEY).await, Some(true));
        assert!(!report.has_errors());
    }

    #[tokio::test]
    async fn the_key_keywarden_runs_with_is_refused() {
        let mut fake = account();
        fake.caller = Some(CallerIdentity {
            account: "123456789012".into(),
            arn: "arn:aws:iam::123456789012:user/alice".into(),
            access_key_id: ALICE_KEY.into(),
        });
        let mut fx = fixture();
        let plan = plan(vec![
            deactivate("A001", "alice", ALICE_KEY, Some("2025-01-01T00:00:00Z")),
            policy_action("A002", ActionKind::Quarantine, "alice", days_after(1)),
            deactivate("A003", "bob", BOB_KEY, Some("2025-02-01T00:00:00Z")),
        ]);
        let report = apply_at(&fake, &mut fx, now(), &plan, &unsafe_too()).await;
        assert_not_attempted(&report, "A001", "running with this key");
        assert_not_attempted(&report, "A002", "lock itself out");
        assert_done(&report, "A003");
        assert_eq!(key_active(&fake, "alice", ALICE_KEY).await, Some(true));
        assert_eq!(fake.count("iam:PutUserPolicy"), 0);
        assert!(matches!(
            &steps_of(&fx.journal, &report.run, "A001")[0].entry,
            StepEntry::Skipped { reason } if reason.contains("refused")
        ));
    }

    // ----- AWS errors -----

    #[tokio::test]
    async fn aws_errors_are_failed_outcomes_and_the_run_goes_on() {
        for (action, code) in [
            ("iam:UpdateAccessKey", "Throttling"),
            ("iam:UpdateAccessKey", "AccessDenied"),
            ("iam:UpdateAccessKey", "NoSuchEntity"),
        ] {
            let mut fake = account();
            fake.failures.insert(action, code.into());
            let mut fx = fixture();
            let plan = plan(vec![
                deactivate("A001", "alice", ALICE_KEY, Some("2025-01-01T00:00:00Z")),
                delete_password("A002", "erin", "2024-10-01T00:00:00Z"),
                policy_action("A003", ActionKind::RevokeSessions, "bob", now()),
            ]);
            let report = apply_at(&fake, &mut fx, now(), &plan, &unsafe_too()).await;
            match result(&report, "A001") {
                ActionResult::Failed { code: got, .. } => assert_eq!(got, code),
                other => panic!("{code}: expected failed, got {other:?}"),
            }
            assert_done(&report, "A002");
            assert_done(&report, "A003");
            assert!(report.has_errors(), "{code}: the run exits 2");

            let steps = steps_of(&fx.journal, &report.run, "A001");
            assert_eq!(steps.len(), 1, "{code}: one intent, one failed outcome");
            match &steps[0].call().unwrap().outcome.as_ref().unwrap().outcome {
                Outcome::Failed { code: got, .. } => assert_eq!(got, code),
                other => panic!("{code}: journal outcome {other:?}"),
            }
            let info = fx.journal.run(&report.run).unwrap().unwrap();
            assert_eq!(info.status, Some(RunStatus::CompletedWithErrors));
            assert_eq!((info.counts.failed, info.counts.done), (1, 2));
            assert_eq!(key_active(&fake, "alice", ALICE_KEY).await, Some(true));
        }

        // A failed write to another action kind, for good measure.
        let mut fake = account();
        fake.failures
            .insert("iam:DeleteLoginProfile", "AccessDenied".into());
        let mut fx = fixture();
        let plan = plan(vec![
            delete_password("A001", "erin", "2024-10-01T00:00:00Z"),
            deactivate("A002", "alice", ALICE_KEY, Some("2025-01-01T00:00:00Z")),
        ]);
        let report = apply_at(&fake, &mut fx, now(), &plan, &unsafe_too()).await;
        assert!(
            matches!(result(&report, "A001"), ActionResult::Failed { code, .. } if code == "AccessDenied")
        );
        assert_done(&report, "A002");
        assert!(report.has_errors());
    }

    #[tokio::test]
    async fn a_failed_read_fails_the_action_and_the_run_goes_on() {
        let mut fake = account();
        fake.failures
            .insert("iam:GetAccessKeyLastUsed", "Throttling".into());
        let mut fx = fixture();
        let plan = plan(vec![
            deactivate("A001", "alice", ALICE_KEY, Some("2025-01-01T00:00:00Z")),
            delete_password("A002", "erin", "2024-10-01T00:00:00Z"),
        ]);
        let report = apply_at(&fake, &mut fx, now(), &plan, &unsafe_too()).await;
        match result(&report, "A001") {
            ActionResult::Failed { code, message } => {
                assert_eq!(code, "Throttling");
                assert!(message.contains("precondition"), "{message}");
            }
            other => panic!("expected failed, got {other:?}"),
        }
        assert_eq!(
            updates(&fake),
            0,
            "never act on a state that could not be read"
        );
        assert_done(&report, "A002");
        assert!(report.has_errors());
    }

    // ----- crash safety, simulated in-process -----

    /// Starts a run of `plan` and writes the intent of its first action (deactivate alice's key),
    /// then stops, as a process killed between the intent and the call (or the call and the
    /// outcome) leaves the journal.
    fn interrupted_run(fx: &mut Fixture, plan: &Plan) -> RunId {
        let run = fx
            .journal
            .start_run(NewRun {
                kind: RunKind::Apply,
                started_at: now(),
                plan_json: plan.to_json(),
                options_json: serde_json::to_string(&ApplyOptions::default()).unwrap(),
                parent_run: None,
            })
            .unwrap();
        // A process id that is surely gone: the claim is taken over on resume.
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let dead = child.id();
        child.wait().unwrap();
        fx.journal.claim_run(&run, dead, now()).unwrap();
        let effect = Effect::SetKeyStatus {
            user: "alice".into(),
            key_id: ALICE_KEY.into(),
            active: false,
        };
        let undo = Effect::SetKeyStatus {
            user: "alice".into(),
            key_id: ALICE_KEY.into(),
            active: true,
        };
        fx.journal
            .record_intent(Intent {
                run: run.clone(),
                action_id: "A001".into(),
                call: effect.call().into(),
                target: effect.describe(),
                params_json: effect.to_json(),
                undo_json: Some(undo.to_json()),
                key: Some(KeyEffect {
                    key_id: ALICE_KEY.into(),
                    change: KeyChange::Deactivated,
                }),
                at: now(),
            })
            .unwrap();
        run
    }

    fn two_keys() -> Plan {
        plan(vec![
            deactivate("A001", "alice", ALICE_KEY, Some("2025-01-01T00:00:00Z")),
            deactivate("A002", "bob", BOB_KEY, Some("2025-02-01T00:00:00Z")),
        ])
    }

    #[tokio::test]
    async fn killed_before_the_call_resume_abandons_and_does_it_exactly_once() {
        let fake = account();
        let mut fx = fixture();
        let plan = two_keys();
        let run = interrupted_run(&mut fx, &plan);
        assert_eq!(fx.journal.in_doubt(&run).unwrap().len(), 1);
        // The call never reached AWS.
        assert_eq!(updates(&fake), 0);

        let report = resume_at(&fake, &mut fx, now(), &run).await;
        assert_eq!(report.settled_in_doubt.len(), 1);
        assert!(
            report.settled_in_doubt[0].contains("abandoned"),
            "{report:#?}"
        );
        assert_done(&report, "A001");
        assert_done(&report, "A002");
        assert_eq!(
            fake.count("iam:UpdateAccessKey"),
            2,
            "each key deactivated exactly once: {:?}",
            fake.calls()
        );
        assert_eq!(
            fake.calls()
                .iter()
                .filter(|c| c.contains(ALICE_KEY) && c.starts_with("iam:UpdateAccessKey"))
                .count(),
            1
        );
        assert_eq!(
            outcomes(&fx.journal, &run, "A001"),
            ["abandoned", "succeeded"]
        );
        let info = fx.journal.run(&run).unwrap().unwrap();
        assert_eq!(info.status, Some(RunStatus::Completed));
        assert_eq!(info.resumes, 1);
        assert_eq!(info.counts.done, 2);
        assert_eq!(info.counts.in_doubt, 0);
        assert_eq!(info.claim, None, "the claim is released");

        // Resuming a finished run does nothing more.
        let again = resume_at(&fake, &mut fx, now(), &run).await;
        assert!(again.settled_in_doubt.is_empty());
        assert!(matches!(result(&again, "A001"), ActionResult::Settled));
        assert!(matches!(result(&again, "A002"), ActionResult::Settled));
        assert_eq!(updates(&fake), 2);

        // And the run undoes cleanly: both keys back.
        let undo = undo_at(&fake, &mut fx, days_after(1), &run).await;
        assert_done(&undo, "undo-A001");
        assert_done(&undo, "undo-A002");
        assert_eq!(key_active(&fake, "alice", ALICE_KEY).await, Some(true));
    }

    #[tokio::test]
    async fn killed_after_the_call_resume_records_already_done_and_does_not_call_again() {
        let fake = account();
        let mut fx = fixture();
        let plan = two_keys();
        let run = interrupted_run(&mut fx, &plan);
        // The call reached AWS; the process died before the outcome was written.
        fake.set_access_key_status("alice", ALICE_KEY, false)
            .await
            .unwrap();
        assert_eq!(updates(&fake), 1);

        let report = resume_at(&fake, &mut fx, now(), &run).await;
        assert_eq!(report.settled_in_doubt.len(), 1);
        assert!(
            report.settled_in_doubt[0].contains("already_done"),
            "{report:#?}"
        );
        assert!(matches!(result(&report, "A001"), ActionResult::Settled));
        assert_done(&report, "A002");
        assert_eq!(
            fake.calls()
                .iter()
                .filter(|c| c.contains(ALICE_KEY) && c.starts_with("iam:UpdateAccessKey"))
                .count(),
            1,
            "no second UpdateAccessKey for alice: {:?}",
            fake.calls()
        );
        assert_eq!(updates(&fake), 2);
        assert_eq!(outcomes(&fx.journal, &run, "A001"), ["already_done"]);
        let counts = fx.journal.run(&run).unwrap().unwrap().counts;
        assert_eq!((counts.done, counts.in_doubt), (2, 0));
        // The journal dates the deactivation it found done, for the two-phase delete.
        assert_eq!(
            fx.journal.last_deactivation(ALICE_KEY).unwrap(),
            Some(now())
        );

        // Undo treats an already-done step like a succeeded one.
        let undo = undo_at(&fake, &mut fx, days_after(1), &run).await;
        assert_done(&undo, "undo-A001");
        assert_eq!(key_active(&fake, "alice", ALICE_KEY).await, Some(true));
    }

    /// A process that stays alive until killed, holding a run's claim as an `apply` still
    /// applying would.
    struct LiveHolder(std::process::Child);

    impl LiveHolder {
        fn start() -> LiveHolder {
            LiveHolder(
                std::process::Command::new("sleep")
                    .arg("60")
                    .spawn()
                    .expect("spawn sleep"),
            )
        }

        fn pid(&self) -> u32 {
            self.0.id()
        }
    }

    impl Drop for LiveHolder {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[tokio::test]
    async fn undo_is_refused_while_a_live_process_applies_the_run() {
        let fake = account();
        let mut fx = fixture();
        let run = interrupted_run(&mut fx, &two_keys());
        let applying = LiveHolder::start();
        fx.journal.claim_run(&run, applying.pid(), now()).unwrap();

        let clock = || now();
        let refused = undo_run(&fake, &mut fx.journal, &clock, &run, None).await;
        let message = refused
            .as_ref()
            .map(|_| String::new())
            .unwrap_or_else(|e| e.to_string());
        assert!(
            message.contains(&format!("process {}", applying.pid())),
            "refused with the reason: {refused:?}"
        );
        assert_eq!(
            updates(&fake),
            0,
            "nothing read as settled, nothing written"
        );
        assert_eq!(fx.journal.in_doubt(&run).unwrap().len(), 1);
        assert_eq!(fx.journal.runs().unwrap().len(), 1, "no undo run started");
        assert_eq!(
            fx.journal.run(&run).unwrap().unwrap().claim.map(|c| c.pid),
            Some(applying.pid()),
            "the applying process keeps its claim"
        );
    }

    #[tokio::test]
    async fn undo_after_the_applying_process_died_settles_its_calls_in_doubt_first() {
        let fake = account();
        let mut fx = fixture();
        // The process died after its call reached AWS: alice's key is inactive, the journal
        // has only the intent.
        let run = interrupted_run(&mut fx, &two_keys());
        fake.set_access_key_status("alice", ALICE_KEY, false)
            .await
            .unwrap();

        let undo = undo_at(&fake, &mut fx, days_after(1), &run).await;
        assert_eq!(undo.settled_in_doubt.len(), 1, "{undo:#?}");
        assert!(
            undo.settled_in_doubt[0].contains("already_done"),
            "{undo:#?}"
        );
        assert_done(&undo, "undo-A001");
        assert_eq!(key_active(&fake, "alice", ALICE_KEY).await, Some(true));
        assert_eq!(outcomes(&fx.journal, &run, "A001"), ["already_done"]);
        let info = fx.journal.run(&run).unwrap().unwrap();
        assert_eq!(info.status, Some(RunStatus::Interrupted));
        assert_eq!(info.counts.in_doubt, 0);
        assert_eq!(info.claim, None, "the undo released the run it undid");
    }

    #[tokio::test]
    async fn undo_reverses_a_deactivation_that_landed_after_the_resume_abandoned_it() {
        // Killed after the intent of A001; on resume the settle step reads alice's key Active
        // (the write still in flight, or IAM's eventual consistency) and abandons the intent;
        // then the deactivation lands, and the resumed run finds it already in place.
        let fake = account();
        let mut fx = fixture();
        let run = interrupted_run(&mut fx, &two_keys());
        let step = fx.journal.in_doubt(&run).unwrap()[0].id;
        fx.journal
            .record_outcome(
                step,
                Outcome::Abandoned {
                    reason: "the call did not take effect (key is Active); attempted again".into(),
                },
                now(),
            )
            .unwrap();
        fake.set_access_key_status("alice", ALICE_KEY, false)
            .await
            .unwrap();
        let resumed = resume_at(&fake, &mut fx, now(), &run).await;
        assert!(
            matches!(result(&resumed, "A001"), ActionResult::AlreadyDone(_)),
            "{resumed:#?}"
        );
        assert_done(&resumed, "A002");

        let undo = undo_at(&fake, &mut fx, days_after(1), &run).await;
        assert_done(&undo, "undo-A001");
        assert_done(&undo, "undo-A002");
        assert!(!undo.has_errors());
        assert_eq!(key_active(&fake, "alice", ALICE_KEY).await, Some(true));
        assert_eq!(key_active(&fake, "bob", BOB_KEY).await, Some(true));
    }

    #[tokio::test]
    async fn undo_leaves_what_was_changed_after_keywarden_and_says_why() {
        let fake = account();
        let mut fx = fixture();
        let plan = plan(vec![
            deactivate("A001", "alice", ALICE_KEY, Some("2025-01-01T00:00:00Z")),
            policy_action("A002", ActionKind::Quarantine, "bob", now()),
        ]);
        let first = apply_at(&fake, &mut fx, now(), &plan, &unsafe_too()).await;
        assert_done(&first, "A001");
        assert_done(&first, "A002");
        // Someone replaces bob's quarantine policy with their own document.
        let theirs = r#"{"Version":"2012-10-17","Statement":[]}"#;
        fake.put_user_policy("bob", QUARANTINE_POLICY_NAME, theirs)
            .await
            .unwrap();
        // A later run deactivates alice's key again, after someone had reactivated it.
        fake.set_access_key_status("alice", ALICE_KEY, true)
            .await
            .unwrap();
        let second = apply_at(
            &fake,
            &mut fx,
            days_after(1),
            &plan_again(&plan),
            &ApplyOptions::default(),
        )
        .await;
        assert_done(&second, "A001");

        let undo = undo_at(&fake, &mut fx, days_after(2), &first.run).await;
        assert!(
            skip_reason(&undo, "undo-A002").contains("another document"),
            "{undo:#?}"
        );
        let why = skip_reason(&undo, "undo-A001");
        assert!(why.contains(second.run.as_str()), "{why}");
        assert_eq!(
            fake.get_user_policy("bob", QUARANTINE_POLICY_NAME)
                .await
                .unwrap()
                .as_deref(),
            Some(theirs),
            "their policy is left alone"
        );
        assert_eq!(key_active(&fake, "alice", ALICE_KEY).await, Some(false));
        assert!(!undo.has_errors());
    }

    /// The deactivation of `plan` alone, planned again a day later (as a new `keywarden plan`).
    fn plan_again(plan: &Plan) -> Plan {
        let mut again = plan.clone();
        again
            .actions
            .retain(|a| a.kind == ActionKind::DeactivateKey);
        again.actions[0].precondition.key_unused_since = None;
        again
    }

    // ----- the account -----

    #[tokio::test]
    async fn a_plan_for_another_account_is_refused_and_so_is_its_undo() {
        let fake = account();
        let mut fx = fixture();
        let mut other = plan(vec![delete_password(
            "A001",
            "erin",
            "2024-10-01T00:00:00Z",
        )]);
        other.account = Some("999999999999".into());
        let clock = || now();
        let refused = apply_plan(
            &fake,
            &mut fx.journal,
            &clock,
            &other,
            RunKind::Apply,
            &unsafe_too(),
            &AuditConfig::default(),
            None,
        )
        .await;
        let error = refused.expect_err("another account's plan").to_string();
        assert!(
            error.contains("999999999999") && error.contains("123456789012"),
            "{error}"
        );
        assert!(fx.journal.runs().unwrap().is_empty(), "no run started");
        assert_eq!(fake.count("iam:DeleteLoginProfile"), 0);

        // A run made in this account cannot be undone with another account's credentials.
        let here = plan(vec![deactivate(
            "A001",
            "alice",
            ALICE_KEY,
            Some("2025-01-01T00:00:00Z"),
        )]);
        let report = apply_at(&fake, &mut fx, now(), &here, &ApplyOptions::default()).await;
        assert_done(&report, "A001");
        let mut elsewhere = account();
        elsewhere.caller = Some(CallerIdentity {
            account: "999999999999".into(),
            arn: "arn:aws:iam::999999999999:user/admin".into(),
            access_key_id: "AKIAOTHERACCOUNT0001".into(),
        });
        let undo = undo_run(&elsewhere, &mut fx.journal, &clock, &report.run, None).await;
        assert!(undo.is_err(), "{undo:?}");
        assert_eq!(elsewhere.count("iam:UpdateAccessKey"), 0);
    }
}
