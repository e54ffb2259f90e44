//! Remediation end to end: the real `keywarden` binary (`plan`, `apply`, `runs`, `undo`) and the
//! real AWS SDK against moto's server on 127.0.0.1, seeded by `tests/moto/launcher.py`.
//!
//! Each test starts its own launcher and uses its own state folder (the journal), with fixed
//! `--now` values, so tests are independent and deterministic. What AWS holds afterwards is read
//! back through the binary (`keywarden audit`); what happened, through the journal
//! (`keywarden runs RUN_ID --format json`). moto cannot count calls, so "exactly once" is
//! asserted through the journal's steps.

mod support;

/// In a module of its own, so `-E 'test(/remediate/)'` selects these tests.
mod remediate {
    use super::support;
    use serde_json::{json, Value};
    use std::os::unix::process::ExitStatusExt;
    use std::path::{Path, PathBuf};
    use support::scenario::{clean_account, stale_user, NOW};
    use support::{scratch_file, test_path, Audit, Credentials, Moto};

    // Plans are made at the scenarios' NOW, applies a few minutes later.
    const APPLY_AT: &str = "2025-06-01T12:05:00Z";
    const RESUME_AT: &str = "2025-06-01T12:06:00Z";
    const UNDO_AT: &str = "2025-06-01T13:00:00Z";

    /// Never used, 200 days old: KEY001 and KEY002.
    fn idle_user() -> Value {
        json!({"name": "idle", "created": "-300d", "access_keys": [{"created": "-200d"}]})
    }

    /// Everything fresh and used: no finding.
    fn tidy_user() -> Value {
        json!({"name": "tidy", "created": "-100d", "mfa": true,
           "access_keys": [{"created": "-30d", "last_used": "-1d"}]})
    }

    /// A console password unused for 200 days: PWD001 (unsafe: delete the login profile).
    fn dormant_user() -> Value {
        json!({"name": "dormant", "created": "-300d", "mfa": true,
           "password": {"created": "-300d", "last_used": "-200d"}})
    }

    /// A keywarden run with the state folder and `--now` of this test.
    struct Kw<'m> {
        moto: &'m Moto,
        state: PathBuf,
        credentials: Credentials,
    }

    impl<'m> Kw<'m> {
        fn new(moto: &'m Moto, name: &str) -> Kw<'m> {
            Kw {
                moto,
                state: test_path(name),
                credentials: moto.admin(),
            }
        }

        fn as_(mut self, credentials: Credentials) -> Self {
            self.credentials = credentials;
            self
        }

        /// `keywarden SUBCOMMAND --state-dir DIR ARGS` at `AT` (`--now AT` for a read-only
        /// command, the test clock for one that writes), with `env` set.
        fn run_env(
            &self,
            subcommand: &str,
            at: &str,
            args: &[&str],
            env: &[(&str, &str)],
        ) -> Audit {
            // Commands that write refuse `--now`: they act at `at` through the test clock.
            let writes = matches!(subcommand, "apply" | "undo" | "rotate" | "contain");
            let mut command = if writes {
                self.moto.keywarden_at(&self.credentials, at)
            } else {
                self.moto.keywarden(&self.credentials)
            };
            command.arg(subcommand).arg("--state-dir").arg(&self.state);
            if !writes {
                command.args(["--now", at]);
            }
            command.args(args);
            for (k, v) in env {
                command.env(k, v);
            }
            Audit::run(command)
        }

        fn run(&self, subcommand: &str, at: &str, args: &[&str]) -> Audit {
            self.run_env(subcommand, at, args, &[])
        }

        /// `keywarden plan --out FILE --format json` at NOW; returns the file and the plan,
        /// checked against docs/schemas/plan.schema.json.
        fn plan(&self, args: &[&str]) -> (PathBuf, Value) {
            let out = self.state.with_extension("plan.json");
            // --force: a test may plan again, and a rerun finds the last run's file.
            let mut all = vec![
                "--out",
                out.to_str().unwrap(),
                "--force",
                "--format",
                "json",
            ];
            all.extend_from_slice(args);
            let run = self.run("plan", NOW, &all);
            assert_eq!(run.code(), Some(0), "plan\n{}", run.context());
            let file: Value =
                serde_json::from_str(&std::fs::read_to_string(&out).expect("the plan file"))
                    .unwrap();
            assert_eq!(file, run.doc, "the file and stdout hold the same plan");
            support::assert_matches_schema("plan", &file);
            (out, file)
        }

        fn apply(&self, plan: &Path, at: &str, args: &[&str]) -> Audit {
            self.apply_env(plan, at, args, &[])
        }

        fn apply_env(&self, plan: &Path, at: &str, args: &[&str], env: &[(&str, &str)]) -> Audit {
            let mut all = vec![plan.to_str().unwrap(), "--format", "json"];
            all.extend_from_slice(args);
            let run = self.run_env("apply", at, &all, env);
            if !run.doc.is_null() {
                support::assert_matches_schema("run-report", &run.doc);
            }
            run
        }

        /// `keywarden runs RUN_ID --format json`: the run and its steps.
        fn journal(&self, run: &str) -> Value {
            let out = self.run("runs", UNDO_AT, &[run, "--format", "json"]);
            assert_eq!(out.code(), Some(0), "runs {run}\n{}", out.context());
            support::assert_matches_schema("run-steps", &out.doc);
            out.doc
        }

        /// `keywarden runs --format json`: every run, newest first.
        fn runs(&self) -> Vec<Value> {
            let out = self.run("runs", UNDO_AT, &["--format", "json"]);
            assert_eq!(out.code(), Some(0), "runs\n{}", out.context());
            support::assert_matches_schema("run-list", &out.doc);
            out.doc.as_array().expect("a list of runs").clone()
        }

        /// `keywarden audit --format json` at NOW, with the admin credentials (which are not an IAM
        /// key, so reading leaves every key's last use alone).
        fn audit(&self) -> Audit {
            self.moto.audit(&[])
        }
    }

    /// The id of the action of `kind` on `user` in a plan.
    fn action_id(plan: &Value, kind: &str, user: &str) -> String {
        plan["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["kind"] == kind && a["user"] == user)
            .unwrap_or_else(|| panic!("no {kind} action for {user} in {plan:#}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// An action's line in a run report (`apply`/`undo --format json`).
    fn report_action<'a>(report: &'a Audit, id: &str) -> &'a Value {
        report.doc["actions"]
            .as_array()
            .unwrap_or_else(|| panic!("no run report\n{}", report.context()))
            .iter()
            .find(|a| a["action_id"] == id)
            .unwrap_or_else(|| panic!("no {id} in the report\n{}", report.context()))
    }

    fn result_of(report: &Audit, id: &str) -> String {
        report_action(report, id)["result"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The journal's steps of one action.
    fn steps_of(journal: &Value, id: &str) -> Vec<Value> {
        journal["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["action_id"] == id)
            .cloned()
            .collect()
    }

    fn outcomes(journal: &Value, id: &str) -> Vec<String> {
        steps_of(journal, id)
            .iter()
            .map(|s| s["outcome"].as_str().unwrap_or("skipped").to_owned())
            .collect()
    }

    /// Whether the audit has a `rule` finding on `key`.
    fn has_finding(audit: &Audit, rule: &str, key: &str) -> bool {
        audit
            .findings()
            .iter()
            .any(|f| f["rule"] == rule && f["access_key_id"] == key)
    }

    // ----- 1. plan -> apply -> runs -> undo -----

    #[test]
    fn plan_apply_runs_and_undo_against_moto() {
        let moto = Moto::start(&clean_account(json!([
            stale_user(),
            idle_user(),
            tidy_user(),
            dormant_user()
        ])));
        let kw = Kw::new(&moto, "round-trip");
        let stale = moto.key_id("stale", 0);
        let idle = moto.key_id("idle", 0);
        let tidy = moto.key_id("tidy", 0);

        // The plan file: versioned, every action with a kind, a safety level, a target, a
        // precondition and its reasons.
        let (plan_file, plan) = kw.plan(&[]);
        assert_eq!(plan["format"], "keywarden-plan");
        assert_eq!(plan["version"], 1);
        assert_eq!(plan["created_at"], NOW);
        assert_eq!(plan["source"]["kind"], "live");
        assert_eq!(plan["delete_after_days"], 14);
        let mut kinds: Vec<(String, String, String)> = plan["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                assert!(a["id"].as_str().unwrap().starts_with('A'), "{a:#}");
                assert!(!a["reasons"].as_array().unwrap().is_empty(), "{a:#}");
                (
                    a["kind"].as_str().unwrap().to_owned(),
                    a["safety"].as_str().unwrap().to_owned(),
                    a["user"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        kinds.sort();
        let k = |kind: &str, safety: &str, user: &str| (kind.into(), safety.into(), user.into());
        assert_eq!(
            kinds,
            vec![
                k("deactivate-key", "safe", "idle"),
                k("deactivate-key", "safe", "stale"),
                k("delete-key", "two-phase", "idle"),
                k("delete-key", "two-phase", "stale"),
                k("delete-login-profile", "unsafe", "dormant"),
            ],
            "{plan:#}"
        );
        let deactivate_stale = action_id(&plan, "deactivate-key", "stale");
        let deactivate_idle = action_id(&plan, "deactivate-key", "idle");
        let stale_action = plan["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == deactivate_stale.as_str())
            .unwrap();
        assert_eq!(stale_action["access_key_id"], stale.as_str());
        assert_eq!(stale_action["precondition"]["key_status"], "active");
        assert_eq!(
            stale_action["precondition"]["key_unused_since"]["last_used"], "2025-02-21T12:00:00Z",
            "the last use the live audit read, 100 days before now"
        );
        let delete_stale = plan["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["kind"] == "delete-key" && a["user"] == "stale")
            .unwrap();
        assert_eq!(
            delete_stale["not_before"], "2025-06-15T12:00:00Z",
            "14 days after the plan"
        );
        assert_eq!(delete_stale["precondition"]["key_status"], "inactive");
        assert_eq!(delete_stale["precondition"]["inactive_for_days"], 14);

        // Planning wrote nothing to AWS.
        let before = kw.audit();
        assert!(has_finding(&before, "KEY001", &stale) && has_finding(&before, "KEY001", &idle));

        // apply: the safe actions only.
        let applied = kw.apply(&plan_file, APPLY_AT, &[]);
        assert_eq!(applied.code(), Some(0), "apply\n{}", applied.context());
        assert_eq!(result_of(&applied, &deactivate_stale), "done");
        assert_eq!(result_of(&applied, &deactivate_idle), "done");
        assert!(report_action(&applied, &deactivate_stale)["detail"]
            .as_str()
            .unwrap()
            .contains("Inactive"));
        let delete_id = action_id(&plan, "delete-key", "stale");
        assert_eq!(result_of(&applied, &delete_id), "not-attempted");
        let password_id = action_id(&plan, "delete-login-profile", "dormant");
        assert_eq!(result_of(&applied, &password_id), "not-attempted");
        let run = applied.doc["run_id"].as_str().unwrap().to_owned();

        // Read back through the binary: the two keys are inactive (KEY001 is about active keys),
        // the used one untouched, the password still there.
        let after = kw.audit();
        assert!(
            !has_finding(&after, "KEY001", &stale),
            "{}",
            after.context()
        );
        assert!(!has_finding(&after, "KEY001", &idle), "{}", after.context());
        assert!(!has_finding(&after, "KEY001", &tidy));
        assert!(after
            .findings()
            .iter()
            .any(|f| f["rule"] == "PWD001" && f["user"] == "dormant"));

        // `runs` lists the run, and its steps: intent, outcome and verification per key.
        let runs = kw.runs();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0]["run_id"], run.as_str());
        assert_eq!(runs[0]["kind"], "apply");
        assert_eq!(runs[0]["status"], "completed");
        assert_eq!(runs[0]["counts"]["done"], 2);
        let journal = kw.journal(&run);
        for id in [&deactivate_stale, &deactivate_idle] {
            let steps = steps_of(&journal, id);
            assert_eq!(steps.len(), 1, "{journal:#}");
            assert_eq!(steps[0]["call"], "iam:UpdateAccessKey");
            assert_eq!(steps[0]["outcome"], "succeeded");
            assert_eq!(steps[0]["verified"], true);
        }
        let table = kw.run("runs", UNDO_AT, &["--format", "table"]);
        assert!(table.stdout.contains(&run), "{}", table.context());

        // undo reactivates both keys.
        let undone = kw.run("undo", UNDO_AT, &[&run, "--format", "json"]);
        assert_eq!(undone.code(), Some(0), "undo\n{}", undone.context());
        assert_eq!(undone.doc["kind"], "undo");
        assert_eq!(
            result_of(&undone, &format!("undo-{deactivate_stale}")),
            "done"
        );
        assert_eq!(
            result_of(&undone, &format!("undo-{deactivate_idle}")),
            "done"
        );
        assert_eq!(undone.doc["irreversible"], json!([]));
        let restored = kw.audit();
        assert!(
            has_finding(&restored, "KEY001", &stale),
            "{}",
            restored.context()
        );
        assert!(
            has_finding(&restored, "KEY001", &idle),
            "{}",
            restored.context()
        );
        let runs = kw.runs();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0]["kind"], "undo");
        assert_eq!(runs[0]["parent"], run.as_str());
    }

    #[test]
    fn plan_from_a_saved_audit_applies_the_same() {
        let moto = Moto::start(&clean_account(json!([stale_user(), tidy_user()])));
        let kw = Kw::new(&moto, "from-file");
        let stale = moto.key_id("stale", 0);
        let audit = kw.audit();
        assert_eq!(audit.code(), Some(1), "{}", audit.context());
        let saved = scratch_file("audit.json", &audit.stdout);

        let (plan_file, plan) = kw.plan(&["--from", saved.to_str().unwrap()]);
        assert_eq!(plan["source"]["kind"], "audit-file");
        assert_eq!(plan["source"]["data_as_of"], "2025-06-01T10:00:00Z");
        let id = action_id(&plan, "deactivate-key", "stale");

        // The table shows the plan as a reviewer reads it: safety levels, preconditions, reasons.
        let table = kw.run(
            "plan",
            NOW,
            &["--from", saved.to_str().unwrap(), "--format", "table"],
        );
        assert_eq!(table.code(), Some(0), "{}", table.context());
        for needle in [
            "Remediation plan: 2 actions (1 safe, 1 two-phase, 0 unsafe, 0 manual)",
            "safe",
            "two-phase",
            "deactivate-key",
            "only if: key is Active",
            "why:   KEY001",
            "--unsafe",
        ] {
            assert!(
                table.stdout.contains(needle),
                "`{needle}`\n{}",
                table.context()
            );
        }

        let applied = kw.apply(&plan_file, APPLY_AT, &[]);
        assert_eq!(applied.code(), Some(0), "{}", applied.context());
        assert_eq!(result_of(&applied, &id), "done");
        assert!(!has_finding(&kw.audit(), "KEY001", &stale));
    }

    // ----- a hand-edited plan cannot lower its own guards (issue 9, point 2) -----

    /// The reviewed plan for `stale`'s key, edited by hand before `apply`: each edit that
    /// lowers a guard is refused before any AWS call, naming the action and the field, and the
    /// key is still there and active. Today the first edit deletes the key on a plain `apply`
    /// (A001 deactivates it, then the "safe" delete with a 0-day wait runs at once).
    #[test]
    fn a_hand_edited_plan_that_lowers_its_guards_is_refused_by_apply() {
        let moto = Moto::start(&clean_account(json!([stale_user()])));
        let kw = Kw::new(&moto, "edited-plan");
        let stale = moto.key_id("stale", 0);
        let (_, plan) = kw.plan(&[]);
        let actions = plan["actions"].as_array().unwrap();
        let delete = actions
            .iter()
            .position(|a| a["kind"] == "delete-key")
            .unwrap();
        let deactivate = actions
            .iter()
            .position(|a| a["kind"] == "deactivate-key")
            .unwrap();
        let at = |i: usize| format!("actions[{i}] ({})", actions[i]["id"].as_str().unwrap());
        type Edit = Box<dyn Fn(&mut Value)>;
        let edits: Vec<(&str, Edit, String)> = vec![
            (
                "delete made safe, no wait",
                Box::new(move |p| {
                    p["actions"][delete]["safety"] = json!("safe");
                    p["actions"][delete]["precondition"] =
                        json!({"key_status": "inactive", "inactive_for_days": 0});
                }),
                format!(
                    "{}: precondition.inactive_for_days: 0 is below 14",
                    at(delete)
                ),
            ),
            (
                "misspelled use bound",
                Box::new(move |p| {
                    let pre = p["actions"][deactivate]["precondition"]
                        .as_object_mut()
                        .unwrap();
                    let bound = pre.remove("key_unused_since").unwrap();
                    pre.insert("key_unused_snice".into(), bound);
                }),
                format!(
                    "{}: precondition: unknown field `key_unused_snice`",
                    at(deactivate)
                ),
            ),
            (
                "empty account",
                Box::new(|p| p["account"] = json!("")),
                "account: `` is not an AWS account id".to_owned(),
            ),
            (
                "null account",
                Box::new(|p| p["account"] = json!(null)),
                "account: missing".to_owned(),
            ),
        ];
        for (name, edit, message) in edits {
            let mut edited = plan.clone();
            edit(&mut edited);
            let file = scratch_file(
                &format!("edited-plan-{}.json", name.replace(' ', "-")),
                &edited.to_string(),
            );
            let applied = kw.apply(&file, APPLY_AT, &[]);
            assert_eq!(applied.code(), Some(2), "{name}\n{}", applied.context());
            assert!(
                applied.stderr.contains(&message),
                "{name}: `{message}`\n{}",
                applied.context()
            );
        }
        // Nothing ran: no run in the journal, and the key is still there and active.
        assert!(kw.runs().is_empty());
        let after = kw.audit();
        assert!(has_finding(&after, "KEY001", &stale), "{}", after.context());
    }

    /// A saved audit whose findings carry no account (a credential report whose ARNs have
    /// none) makes no plan: `apply` could not refuse another account's credentials with it.
    #[test]
    fn a_plan_from_findings_without_an_account_is_refused() {
        let moto = Moto::start(&clean_account(json!([stale_user()])));
        let kw = Kw::new(&moto, "no-account");
        let audit = kw.audit();
        let mut doc = audit.doc.clone();
        for finding in doc["findings"].as_array_mut().unwrap() {
            finding["account"] = json!(null);
        }
        let saved = scratch_file("audit-no-account.json", &doc.to_string());
        let out = kw.state.with_extension("no-account-plan.json");
        let planned = kw.run(
            "plan",
            NOW,
            &[
                "--from",
                saved.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--force",
                "--format",
                "json",
            ],
        );
        assert_eq!(planned.code(), Some(2), "{}", planned.context());
        assert!(
            planned
                .stderr
                .contains("the findings carry no AWS account (their ARNs have none)"),
            "{}",
            planned.context()
        );
        assert!(!out.exists(), "no plan file is written");
    }

    // ----- 2. precondition changed between plan and apply -----

    #[test]
    fn a_key_used_after_the_plan_is_skipped() {
        let moto = Moto::start(&clean_account(json!([stale_user(), idle_user()])));
        let kw = Kw::new(&moto, "precondition");
        let (plan_file, plan) = kw.plan(&[]);
        let stale_id = action_id(&plan, "deactivate-key", "stale");
        let idle_id = action_id(&plan, "deactivate-key", "idle");

        // The stale key signs a request: moto moves its last use to the wall clock, after the plan.
        let user = &moto.info["users"]["stale"][0];
        let stale_credentials = Credentials {
            access_key_id: user["access_key_id"].as_str().unwrap().to_owned(),
            secret_access_key: user["secret_access_key"].as_str().unwrap().to_owned(),
        };
        let signed = moto.audit_as(&stale_credentials, &[]);
        assert!(signed.code().is_some(), "{}", signed.context());

        let applied = kw.apply(&plan_file, APPLY_AT, &[]);
        assert_eq!(
            applied.code(),
            Some(0),
            "a changed world is a skip, not an error\n{}",
            applied.context()
        );
        assert_eq!(result_of(&applied, &stale_id), "skipped");
        let why = report_action(&applied, &stale_id)["detail"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            why.contains("after the plan saw its last use (2025-02-21T12:00:00"),
            "{why}"
        );
        assert_eq!(result_of(&applied, &idle_id), "done");

        // Nothing was written for the skipped key: the journal has its skip and no intent.
        let run = applied.doc["run_id"].as_str().unwrap();
        let journal = kw.journal(run);
        let steps = steps_of(&journal, &stale_id);
        assert_eq!(steps.len(), 1, "{journal:#}");
        assert_eq!(steps[0]["skipped"], why.as_str());
        assert!(steps[0].get("call").is_none());
        assert_eq!(journal["run"]["counts"]["skipped"], 1);
        assert_eq!(journal["run"]["counts"]["done"], 1);
        let after = kw.audit();
        assert!(
            has_finding(&after, "KEY002", &moto.key_id("stale", 0)),
            "still active"
        );
    }

    // ----- 3. crash safety -----

    /// What a crashed-then-resumed run left: the first action's id, the resume's report and the
    /// run's journal.
    struct Resumed {
        first: String,
        report: Value,
        journal: Value,
    }

    fn crash_then_resume(point: &str) -> Resumed {
        let moto = Moto::start(&clean_account(json!([stale_user(), idle_user()])));
        let kw = Kw::new(&moto, &format!("crash-{point}"));
        let (plan_file, plan) = kw.plan(&[]);
        // The first action of the plan is the one the process dies in.
        let first = plan["actions"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(plan["actions"][0]["kind"], "deactivate-key");
        let crash = format!("{point}:{first}");
        let crashed = kw.apply_env(
            &plan_file,
            APPLY_AT,
            &[],
            &[(support::TEST_CRASH_VAR, &crash)],
        );
        assert_eq!(
            crashed.status.signal(),
            Some(6),
            "aborted at {crash}\n{}",
            crashed.context()
        );
        let runs = kw.runs();
        assert_eq!(runs.len(), 1);
        let run = runs[0]["run_id"].as_str().unwrap().to_owned();
        assert_eq!(runs[0]["status"], "unfinished");
        assert_eq!(runs[0]["counts"]["in_doubt"], 1);
        let resumed = kw.run("apply", RESUME_AT, &["--resume", &run, "--format", "json"]);
        assert_eq!(resumed.code(), Some(0), "resume\n{}", resumed.context());
        assert_eq!(resumed.doc["settled_in_doubt"].as_array().unwrap().len(), 1);
        let second = plan["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["kind"] == "deactivate-key" && a["id"] != first.as_str())
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(result_of(&resumed, &second), "done");

        let journal = kw.journal(&run);
        assert_eq!(journal["run"]["status"], "completed");
        assert_eq!(journal["run"]["resumes"], 1);
        assert_eq!(journal["run"]["counts"]["done"], 2, "{journal:#}");
        assert_eq!(journal["run"]["counts"]["in_doubt"], 0);
        assert_eq!(outcomes(&journal, &second), ["succeeded"]);

        // Both keys are inactive now, whichever way the first was settled.
        let after = kw.audit();
        assert!(!has_finding(&after, "KEY001", &moto.key_id("stale", 0)));
        assert!(!has_finding(&after, "KEY001", &moto.key_id("idle", 0)));
        Resumed {
            first,
            report: resumed.doc,
            journal,
        }
    }

    #[test]
    fn killed_after_the_intent_resume_does_the_action_exactly_once() {
        let state = crash_then_resume("after-intent");
        let first = state.first.as_str();
        let journal = &state.journal;
        // The intent without an outcome was abandoned (the key was still active), then done once.
        assert_eq!(
            outcomes(journal, first),
            ["abandoned", "succeeded"],
            "{journal:#}"
        );
        let steps = steps_of(journal, first);
        assert!(steps[0]["detail"]
            .as_str()
            .unwrap()
            .contains("did not take effect"));
        assert_eq!(steps[1]["verified"], true);
        let resumed = &state.report;
        assert!(resumed["settled_in_doubt"][0]
            .as_str()
            .unwrap()
            .contains("abandoned"));
        let line = resumed["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["action_id"] == first)
            .unwrap();
        assert_eq!(line["result"], "done");
    }

    #[test]
    fn killed_after_the_call_resume_records_already_done_without_calling_again() {
        let state = crash_then_resume("after-call");
        let first = state.first.as_str();
        let journal = &state.journal;
        // The key was already inactive: one step, settled as already done; no second
        // UpdateAccessKey intent (the only way a second call could have been made).
        assert_eq!(outcomes(journal, first), ["already_done"], "{journal:#}");
        assert!(steps_of(journal, first)[0]["detail"]
            .as_str()
            .unwrap()
            .contains("is Inactive"));
        let resumed = &state.report;
        assert!(resumed["settled_in_doubt"][0]
            .as_str()
            .unwrap()
            .contains("already_done"));
        let line = resumed["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["action_id"] == first)
            .unwrap();
        assert_eq!(line["result"], "settled-earlier");
    }

    // ----- 4. AWS errors -----

    fn faulted_apply(name: &str, fault: Value, args: &[&str]) {
        let moto = Moto::start(&with_faults(
            clean_account(json!([stale_user(), idle_user()])),
            fault.clone(),
        ));
        let kw = Kw::new(&moto, name);
        let (plan_file, plan) = kw.plan(&[]);
        let ids: Vec<String> = plan["actions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["kind"] == "deactivate-key")
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids.len(), 2);
        let code = fault[0]["code"].as_str().unwrap();

        let applied = kw.apply(&plan_file, APPLY_AT, args);
        assert_eq!(applied.code(), Some(2), "{}", applied.context());
        // The first UpdateAccessKey is refused; the run goes on with the other key.
        assert_eq!(
            result_of(&applied, &ids[0]),
            "failed",
            "{}",
            applied.context()
        );
        assert!(report_action(&applied, &ids[0])["detail"]
            .as_str()
            .unwrap()
            .starts_with(code));
        assert_eq!(
            result_of(&applied, &ids[1]),
            "done",
            "{}",
            applied.context()
        );

        let run = applied.doc["run_id"].as_str().unwrap();
        let journal = kw.journal(run);
        assert_eq!(journal["run"]["status"], "completed_with_errors");
        assert_eq!(journal["run"]["counts"]["failed"], 1);
        assert_eq!(journal["run"]["counts"]["done"], 1);
        let failed = steps_of(&journal, &ids[0]);
        assert_eq!(failed.len(), 1, "{journal:#}");
        assert_eq!(failed[0]["call"], "iam:UpdateAccessKey");
        assert_eq!(failed[0]["outcome"], "failed");
        assert_eq!(failed[0]["code"], code);
        assert_eq!(outcomes(&journal, &ids[1]), ["succeeded"]);
    }

    fn with_faults(mut scenario: Value, faults: Value) -> Value {
        scenario["faults"] = faults;
        scenario
    }

    #[test]
    fn access_denied_is_recorded_and_the_run_goes_on() {
        faulted_apply(
            "access-denied",
            json!([{"action": "UpdateAccessKey", "status": 403, "code": "AccessDenied",
                "message": "not allowed", "times": 1}]),
            &[],
        );
    }

    #[test]
    fn throttling_past_the_retries_is_recorded_and_the_run_goes_on() {
        // Two attempts per call, both throttled; the next call goes through.
        faulted_apply(
            "throttled",
            json!([{"action": "UpdateAccessKey", "code": "Throttling", "times": 2}]),
            &["--max-attempts", "2"],
        );
    }

    // ----- 5. with moto's authorization enforced -----

    /// `keywarden permissions --command apply`, parsed.
    fn apply_policy() -> Value {
        let out = Audit::run({
            let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_keywarden"));
            c.args(["permissions", "--command", "apply"]).env_clear();
            c
        });
        assert_eq!(out.code(), Some(0), "{}", out.context());
        out.doc
    }

    /// A plan written by hand (the principal may apply, not audit): deactivate stale's key, and
    /// remove dormant's console password.
    fn hand_plan(moto: &Moto) -> String {
        json!({
        "format": "keywarden-plan",
        "version": 1,
        "created_at": NOW,
        "account": "123456789012",
        "source": {"kind": "test", "location": "hand-written", "data_as_of": NOW},
        "delete_after_days": 14,
        "actions": [
            {"id": "A001", "kind": "deactivate-key", "safety": "safe", "account": "123456789012",
             "user": "stale", "access_key_id": moto.key_id("stale", 0), "not_before": null,
             "precondition": {"key_status": "active",
                              "key_unused_since": {"last_used": "2025-02-21T12:00:00Z"},
                              "key_idle": {"since": "2025-02-21T12:00:00Z", "days": 90},
                              "not_exempt_from": ["KEY001"]},
             "reasons": [{"rule": "KEY001", "message": "unused for 100 days"}]},
            {"id": "A002", "kind": "delete-login-profile", "safety": "unsafe",
             "account": "123456789012", "user": "dormant",
             "access_key_id": null, "not_before": null,
             "precondition": {"password_present": true,
                              "password_unused_since": {"last_used": "2024-11-13T12:00:00Z"},
                              "not_exempt_from": ["PWD001"]},
             "reasons": [{"rule": "PWD001", "message": "unused for 200 days"}]}
        ],
        "not_planned": []
    })
    .to_string()
    }

    fn apply_under_auth(name: &str, policy: Value) -> (Audit, Value) {
        let moto = Moto::start(&with_auth(
            clean_account(json!([stale_user(), dormant_user()])),
            policy,
        ));
        assert_eq!(moto.info["auth_enforced"], true);
        let kw = Kw::new(&moto, name).as_(moto.principal());
        let plan = scratch_file(&format!("{name}-plan.json"), &hand_plan(&moto));
        let applied = kw.apply(&plan, APPLY_AT, &["--unsafe"]);
        let run = applied.doc["run_id"].as_str().map(str::to_owned);
        let journal = run.map_or(Value::Null, |run| kw.journal(&run));
        (applied, journal)
    }

    fn with_auth(mut scenario: Value, policy: Value) -> Value {
        scenario["auth"] = json!({"principal": {"name": "remediator", "policy": policy}});
        scenario
    }

    #[test]
    fn the_apply_policy_is_enough_under_enforced_auth() {
        let (applied, journal) = apply_under_auth("auth-ok", apply_policy());
        assert_eq!(applied.code(), Some(0), "{}", applied.context());
        assert_eq!(result_of(&applied, "A001"), "done");
        assert_eq!(result_of(&applied, "A002"), "done");
        assert!(!applied.stdout.contains("AccessDenied"));
        assert_eq!(journal["run"]["counts"]["done"], 2);
    }

    #[test]
    fn without_update_access_key_the_deactivation_is_access_denied() {
        let mut policy = apply_policy();
        let actions = policy["Statement"][0]["Action"].as_array_mut().unwrap();
        let before = actions.len();
        actions.retain(|a| a != "iam:UpdateAccessKey");
        assert_eq!(
            actions.len(),
            before - 1,
            "the apply policy names iam:UpdateAccessKey"
        );
        let (applied, journal) = apply_under_auth("auth-denied", policy);
        assert_eq!(applied.code(), Some(2), "{}", applied.context());
        assert_eq!(result_of(&applied, "A001"), "failed");
        assert!(report_action(&applied, "A001")["detail"]
            .as_str()
            .unwrap()
            .starts_with("AccessDenied"));
        assert_eq!(result_of(&applied, "A002"), "done", "the run goes on");
        let steps = steps_of(&journal, "A001");
        assert_eq!(steps.len(), 1, "{journal:#}");
        assert_eq!(steps[0]["outcome"], "failed");
        assert_eq!(steps[0]["code"], "AccessDenied");
    }

    // ----- 6. hostile conditions (issue 9) -----

    /// The status of `key` of `user` as AWS holds it (`None`: deleted), read outside keywarden.
    fn status_of(moto: &Moto, user: &str, key: &str) -> Option<String> {
        moto.key_statuses(user)
            .into_iter()
            .find(|(id, _)| id == key)
            .map(|(_, status)| status)
    }

    #[test]
    fn a_hand_deactivation_after_an_undo_waits_the_whole_grace_period() {
        // plan, `apply --two-phase` (deactivated, the delete not due), `undo` (Active again);
        // 30 days later someone deactivates the key by hand. Inactive means inactive since
        // keywarden last saw it active: the delete waits 14 days from the next sighting.
        let moto = Moto::start(&clean_account(json!([stale_user()])));
        let kw = Kw::new(&moto, "inactive-clock");
        let stale = moto.key_id("stale", 0);
        let (plan_file, plan) = kw.plan(&[]);
        let deactivate = action_id(&plan, "deactivate-key", "stale");
        let delete = action_id(&plan, "delete-key", "stale");

        let first = kw.apply(&plan_file, APPLY_AT, &["--two-phase"]);
        assert_eq!(first.code(), Some(0), "{}", first.context());
        assert_eq!(result_of(&first, &deactivate), "done");
        assert_eq!(result_of(&first, &delete), "not-due");
        let run = first.doc["run_id"].as_str().unwrap();
        let undone = kw.run("undo", UNDO_AT, &[run, "--format", "json"]);
        assert_eq!(undone.code(), Some(0), "{}", undone.context());
        assert_eq!(result_of(&undone, &format!("undo-{deactivate}")), "done");
        assert_eq!(status_of(&moto, "stale", &stale).as_deref(), Some("Active"));

        moto.outside_change(&format!(
            "iam.update_access_key(UserName='stale', AccessKeyId='{stale}', Status='Inactive')"
        ));
        let later = kw.apply(&plan_file, "2025-07-01T13:00:00Z", &["--two-phase"]);
        assert_eq!(later.code(), Some(0), "{}", later.context());
        assert_eq!(
            result_of(&later, &delete),
            "not-due",
            "the key was Active a month ago: {}",
            later.context()
        );
        let detail = report_action(&later, &delete)["detail"].as_str().unwrap();
        assert!(detail.contains("2025-07-15T13:00:00"), "{detail}");
        assert_eq!(
            status_of(&moto, "stale", &stale).as_deref(),
            Some("Inactive")
        );

        // 14 days of inactivity by keywarden's own record: now it is due.
        let due = kw.apply(&plan_file, "2025-07-15T13:00:01Z", &["--two-phase"]);
        assert_eq!(due.code(), Some(0), "{}", due.context());
        assert_eq!(result_of(&due, &delete), "done");
        assert_eq!(status_of(&moto, "stale", &stale), None);
    }

    #[test]
    fn a_write_whose_reply_is_lost_is_settled_by_reading_aws() {
        // DeleteAccessKey and DeleteLoginProfile go through, their replies are lost (a 500
        // after the write); the SDK's retry gets NoSuchEntity. Reading back says they are done,
        // and undo says plainly that neither can be reversed.
        let lost = |action: &str| {
            json!({"action": action, "status": 500, "code": "InternalFailure",
                   "message": "the reply was lost", "after": true})
        };
        let moto = Moto::start(&with_faults(
            clean_account(json!([stale_user(), dormant_user()])),
            json!([lost("DeleteAccessKey"), lost("DeleteLoginProfile")]),
        ));
        let kw = Kw::new(&moto, "lost-reply");
        let stale = moto.key_id("stale", 0);
        let (plan_file, plan) = kw.plan(&[]);
        let delete = action_id(&plan, "delete-key", "stale");
        let password = action_id(&plan, "delete-login-profile", "dormant");
        let first = kw.apply(&plan_file, APPLY_AT, &[]);
        assert_eq!(first.code(), Some(0), "phase one\n{}", first.context());

        let due = kw.apply(&plan_file, "2025-06-16T12:05:00Z", &["--unsafe"]);
        assert_eq!(due.code(), Some(0), "{}", due.context());
        for id in [&delete, &password] {
            assert_eq!(result_of(&due, id), "done", "{}", due.context());
            let detail = report_action(&due, id)["detail"].as_str().unwrap();
            assert!(
                detail.contains("took effect") && detail.contains("cannot be undone"),
                "{detail}"
            );
        }
        assert_eq!(status_of(&moto, "stale", &stale), None);
        let run = due.doc["run_id"].as_str().unwrap();
        let journal = kw.journal(run);
        assert_eq!(outcomes(&journal, &delete), ["succeeded"], "{journal:#}");
        assert_eq!(outcomes(&journal, &password), ["succeeded"], "{journal:#}");
        assert_eq!(journal["run"]["status"], "completed");

        let undone = kw.run("undo", UNDO_AT, &[run, "--format", "json"]);
        assert_eq!(undone.code(), Some(0), "{}", undone.context());
        let irreversible = undone.doc["irreversible"].as_array().unwrap();
        assert_eq!(irreversible.len(), 2, "{}", undone.context());
        assert!(irreversible
            .iter()
            .any(|l| l.as_str().unwrap().contains(&stale)));
        assert!(irreversible
            .iter()
            .any(|l| l.as_str().unwrap().contains("console password of dormant")));
    }

    #[test]
    fn undo_is_refused_while_the_run_is_applying_then_settles_its_calls_in_doubt() {
        let moto = Moto::start(&clean_account(json!([stale_user(), idle_user()])));
        let kw = Kw::new(&moto, "undo-one-process");
        let (plan_file, plan) = kw.plan(&[]);
        let first = plan["actions"][0]["id"].as_str().unwrap().to_owned();
        let user = plan["actions"][0]["user"].as_str().unwrap().to_owned();
        let key = plan["actions"][0]["access_key_id"]
            .as_str()
            .unwrap()
            .to_owned();
        // The apply dies after its UpdateAccessKey reached AWS, before the outcome.
        let crash = format!("after-call:{first}");
        let crashed = kw.apply_env(
            &plan_file,
            APPLY_AT,
            &[],
            &[("KEYWARDEN_TEST_CRASH", &crash)],
        );
        assert_eq!(crashed.status.signal(), Some(6), "{}", crashed.context());
        let run = kw.runs()[0]["run_id"].as_str().unwrap().to_owned();

        // While a live process holds the run (an apply still applying), undo is refused.
        let mut applying = std::process::Command::new("sleep")
            .arg("120")
            .spawn()
            .expect("spawn sleep");
        {
            let mut journal = keywarden_app::journal::Journal::open(&kw.state).unwrap();
            let id = keywarden_app::journal::RunId::parse(&run).unwrap();
            journal
                .claim_run(&id, applying.id(), APPLY_AT.parse().unwrap())
                .unwrap();
        }
        let refused = kw.run("undo", UNDO_AT, &[&run, "--format", "json"]);
        let _ = applying.kill();
        let _ = applying.wait();
        assert_eq!(refused.code(), Some(2), "{}", refused.context());
        assert!(
            refused
                .stderr
                .contains(&format!("being run by process {}", applying.id())),
            "{}",
            refused.context()
        );
        assert_eq!(kw.runs().len(), 1, "no undo run was started");
        assert_eq!(status_of(&moto, &user, &key).as_deref(), Some("Inactive"));

        // That process is gone: undo settles the call in doubt by reading AWS, then reverses it.
        let undone = kw.run("undo", UNDO_AT, &[&run, "--format", "json"]);
        assert_eq!(undone.code(), Some(0), "{}", undone.context());
        let settled = undone.doc["settled_in_doubt"].as_array().unwrap();
        assert_eq!(settled.len(), 1, "{}", undone.context());
        assert!(settled[0].as_str().unwrap().contains("already_done"));
        assert_eq!(result_of(&undone, &format!("undo-{first}")), "done");
        assert_eq!(status_of(&moto, &user, &key).as_deref(), Some("Active"));
        let journal = kw.journal(&run);
        assert_eq!(journal["run"]["status"], "interrupted", "{journal:#}");
        assert_eq!(journal["run"]["counts"]["in_doubt"], 0);
        assert_eq!(outcomes(&journal, &first), ["already_done"]);
    }

    // ----- plan --from a report file's audit: --resolve-key-ids (issue 10, point 4) -----

    /// A live audit's document as an audit of the account's credential report file reads: the
    /// same findings, but no key named by id (a report names keys by slot).
    fn as_report_file_audit(audit: &str) -> Value {
        let mut doc: Value = serde_json::from_str(audit).unwrap();
        for finding in doc["findings"].as_array_mut().unwrap() {
            finding["access_key_id"] = Value::Null;
        }
        doc
    }

    /// `keywarden permissions --command plan`, parsed.
    fn plan_policy() -> Value {
        let out = Audit::run({
            let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_keywarden"));
            c.args(["permissions", "--command", "plan"]).env_clear();
            c
        });
        assert_eq!(out.code(), Some(0), "{}", out.context());
        out.doc
    }

    /// The key actions of a plan: (kind, user, key id).
    fn key_actions(plan: &Value) -> Vec<(String, String, String)> {
        let mut found: Vec<(String, String, String)> = plan["actions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["access_key_id"].is_string())
            .map(|a| {
                (
                    a["kind"].as_str().unwrap().to_owned(),
                    a["user"].as_str().unwrap().to_owned(),
                    a["access_key_id"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        found.sort();
        found
    }

    fn resolve_users() -> Value {
        json!([stale_user(), idle_user(), tidy_user()])
    }

    #[test]
    fn a_report_file_audit_plans_its_key_actions_with_resolve_key_ids() {
        let moto = Moto::start(&clean_account(resolve_users()));
        let kw = Kw::new(&moto, "resolve");
        let live = kw.audit();
        assert_eq!(live.code(), Some(1), "{}", live.context());
        let live_file = scratch_file("live-audit.json", &live.stdout);
        let from_report = as_report_file_audit(&live.stdout);
        let saved = scratch_file("report-audit.json", &from_report.to_string());
        let saved = saved.to_str().unwrap();

        // Without the flag: no key action, and the table says why and how.
        let table = kw.run("plan", NOW, &["--from", saved, "--format", "table"]);
        assert_eq!(table.code(), Some(0), "{}", table.context());
        assert!(
            table.stdout.contains(
                "key findings not planned: a credential report names a user's keys by slot"
            ),
            "{}",
            table.context()
        );
        assert!(
            table
                .stdout
                .contains(&format!("keywarden plan --from {saved} --resolve-key-ids")),
            "{}",
            table.context()
        );
        assert!(table
            .stdout
            .contains("keywarden permissions --command plan"));
        let (_, plain) = kw.plan(&["--from", saved]);
        assert!(key_actions(&plain).is_empty(), "{plain:#}");
        assert!(plain["not_planned"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["why"].as_str().unwrap().contains("--resolve-key-ids")));

        // With it: the same key actions as a plan from the live audit, on moto's own key ids.
        let (_, resolved) = kw.plan(&["--from", saved, "--resolve-key-ids"]);
        let (_, reference) = kw.plan(&["--from", live_file.to_str().unwrap()]);
        assert!(!key_actions(&reference).is_empty());
        assert_eq!(key_actions(&resolved), key_actions(&reference));
        let keys: Vec<String> = key_actions(&resolved).into_iter().map(|a| a.2).collect();
        assert!(keys.contains(&moto.key_id("stale", 0)), "{resolved:#}");
        assert!(keys.contains(&moto.key_id("idle", 0)), "{resolved:#}");
        assert!(!resolved["not_planned"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["why"].as_str().unwrap().starts_with("no access key id")));
        let table = kw.run(
            "plan",
            NOW,
            &["--from", saved, "--resolve-key-ids", "--format", "table"],
        );
        assert_eq!(table.code(), Some(0), "{}", table.context());
        assert!(!table.stdout.contains("not planned: a credential report"));
        let wanted = from_report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["credential"].as_str().unwrap().starts_with("access_key"))
            .count();
        assert!(
            table.stderr.contains(&format!(
                "the access keys of 2 users read (ListAccessKeys); {wanted} of {wanted} key \
                 findings without an id got one"
            )),
            "{}",
            table.context()
        );

        // The policy `permissions --command plan` prints is enough, under moto's enforced auth:
        // the same users in another server, the saved audit's keys told by creation time alone.
        let policy = plan_policy();
        assert_eq!(
            policy["Statement"][0]["Action"],
            json!(["iam:ListAccessKeys"]),
            "read-only, and only what it needs"
        );
        let enforced = Moto::start(&with_auth(clean_account(resolve_users()), policy));
        assert_eq!(enforced.info["auth_enforced"], true);
        let kw = Kw::new(&enforced, "resolve-auth").as_(enforced.principal());
        let (_, under_auth) = kw.plan(&["--from", saved, "--resolve-key-ids"]);
        let keys: Vec<String> = key_actions(&under_auth).into_iter().map(|a| a.2).collect();
        assert!(
            keys.contains(&enforced.key_id("stale", 0)),
            "{under_auth:#}"
        );
        assert!(keys.contains(&enforced.key_id("idle", 0)), "{under_auth:#}");
        assert_eq!(
            key_actions(&under_auth).len(),
            key_actions(&reference).len()
        );
    }

    #[test]
    fn resolve_key_ids_says_why_a_key_cannot_be_told() {
        let moto = Moto::start(&clean_account(json!([stale_user()])));
        let kw = Kw::new(&moto, "resolve-gone");
        let live = kw.audit();
        let mut doc = as_report_file_audit(&live.stdout);
        // The report's key was replaced since: no key of stale was created in that second now.
        for finding in doc["findings"].as_array_mut().unwrap() {
            if finding["evidence"]["created"].is_string() {
                finding["evidence"]["created"] = json!("2024-01-01T00:00:00Z");
            }
        }
        let saved = scratch_file("replaced.json", &doc.to_string());
        let (_, plan) = kw.plan(&["--from", saved.to_str().unwrap(), "--resolve-key-ids"]);
        assert!(key_actions(&plan).is_empty(), "{plan:#}");
        let whys: Vec<&str> = plan["not_planned"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["why"].as_str().unwrap())
            .collect();
        assert!(
            whys.contains(
                &"no access key id: stale has no access key created at 2024-01-01T00:00:00Z any \
                  more: deleted or replaced since the audit"
            ),
            "{whys:?}"
        );

        // Another account's audit: refused before any ListAccessKeys.
        for finding in doc["findings"].as_array_mut().unwrap() {
            finding["account"] = json!("111122223333");
        }
        let other = scratch_file("other-account.json", &doc.to_string());
        let refused = kw.run(
            "plan",
            NOW,
            &["--from", other.to_str().unwrap(), "--resolve-key-ids"],
        );
        assert_eq!(refused.code(), Some(2), "{}", refused.context());
        assert!(
            refused.stderr.contains(
                "--resolve-key-ids: the audit is of account 111122223333, the credentials are \
                 of account 123456789012"
            ),
            "{}",
            refused.context()
        );
        assert!(refused.stdout.is_empty());
    }

    #[test]
    fn resolve_key_ids_without_list_access_keys_is_incomplete() {
        // A principal whose policy lacks iam:ListAccessKeys: the findings stay unplanned with
        // AWS's error code, and the exit status is 2.
        let open = Moto::start(&clean_account(json!([stale_user()])));
        let live = Kw::new(&open, "resolve-denied-audit").audit();
        let saved = scratch_file(
            "denied.json",
            &as_report_file_audit(&live.stdout).to_string(),
        );
        let moto = Moto::start(&with_auth(
            clean_account(json!([stale_user()])),
            json!({"Version": "2012-10-17", "Statement": [{"Sid": "Other", "Effect": "Allow",
                   "Action": ["iam:GetUser"], "Resource": "*"}]}),
        ));
        let kw = Kw::new(&moto, "resolve-denied").as_(moto.principal());
        let run = kw.run(
            "plan",
            NOW,
            &[
                "--from",
                saved.to_str().unwrap(),
                "--resolve-key-ids",
                "--format",
                "json",
            ],
        );
        assert_eq!(run.code(), Some(2), "{}", run.context());
        assert!(key_actions(&run.doc).is_empty());
        assert!(
            run.doc["not_planned"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["why"]
                    .as_str()
                    .unwrap()
                    .starts_with("no access key id: iam:ListAccessKeys failed: AccessDenied")),
            "{}",
            run.context()
        );
        assert!(
            run.stderr
                .contains("--resolve-key-ids: stale: iam:ListAccessKeys failed: AccessDenied"),
            "{}",
            run.context()
        );
    }
}
