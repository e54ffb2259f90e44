//! Arbitrary bytes into the plan reader (`Plan::from_json`, what `apply` and a resume run on a
//! plan file): it may refuse anything, but never panic, and a plan it accepts keeps the guards
//! the reader promises: every action's safety is the one its kind and precondition earn, deletes
//! are two-phase and wait at least a day, the plan and each action name one 12-digit account,
//! and writing the plan back gives a file the reader accepts as the same plan. Run with
//! `FUZZ_TARGET=plan_reader scripts/fuzz.sh`.
#![no_main]

use keywarden_core::remediation::{is_account_id, ActionKind, KeyStatus, Plan, Safety};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A plan file is UTF-8 text (the CLI reads it with read_to_string).
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let plan = match Plan::from_json(text, "fuzz.json") {
        Ok(plan) => plan,
        Err(error) => {
            // Errors are rendered, as the CLI does.
            let _ = error.to_string();
            return;
        }
    };
    let account = plan
        .account
        .as_deref()
        .expect("an accepted plan has an account");
    assert!(is_account_id(account), "account {account:?}");
    for action in &plan.actions {
        assert_eq!(action.account.as_deref(), Some(account), "{}", action.id);
        assert_eq!(action.safety, action.derived_safety(), "{}", action.id);
        if action.kind == ActionKind::DeleteKey {
            assert_eq!(action.safety, Safety::TwoPhase);
            assert_eq!(action.precondition.key_status, Some(KeyStatus::Inactive));
            let days = action.precondition.inactive_for_days.unwrap_or(0);
            assert!(days >= 1 && days >= plan.delete_after_days, "{}", action.id);
        }
        let _ = action.target();
        let _ = action.precondition.describe();
    }
    let written = plan.to_json();
    let reread = Plan::from_json(&written, "fuzz-rewritten.json")
        .unwrap_or_else(|e| panic!("an accepted plan, written back, is refused: {e}"));
    assert_eq!(reread, plan, "the plan changed on a round trip");
});
