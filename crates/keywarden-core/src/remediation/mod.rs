//! Remediation, pure: the plan a reviewer reads, how findings become actions, the preconditions
//! `apply` re-checks against live state, and the IAM policy documents that revoke sessions and
//! quarantine a user.
//!
//! Nothing here calls AWS or reads the clock: the application layer reads the live state and
//! the journal, hands them in as [`ObservedState`], and acts on the [`Verdict`].
//!
//! Safety is an ordered enum, after ruff's fix safety: `safe` actions run by default, the others
//! only when asked for, and `manual` ones never (they are steps for a person).

mod plan;
mod planner;
mod policies;
mod precondition;

pub use plan::{
    is_account_id, Action, ActionKind, KeyIdle, KeyStatus, NotPlanned, Plan, PlanError, PlanSource,
    Precondition, Reason, Safety, UseBound, PLAN_FORMAT, PLAN_VERSION,
};
pub use planner::{build_plan, PlanFinding, PlanSettings, NO_KEY_ID};
pub use policies::{
    aws_policy_time, quarantine_policy, revoke_sessions_policy, QUARANTINE_POLICY_NAME,
    REVOKE_SESSIONS_POLICY_NAME,
};
pub use precondition::{check, ObservedKey, ObservedState, Verdict};
