//! keywarden's application layer: it drives the AWS boundary's read traits to build the same
//! model a report file gives, runs the core's audit on it, and owns everything that waits:
//! polling, concurrency, progress. It never names an SDK type.

pub mod bounded;
pub mod files;
pub mod journal;
pub mod key_ids;
pub mod live_audit;
pub mod org;
pub mod remediate;
pub mod report_fetch;
pub mod securityhub;
pub mod trail;

pub use live_audit::{
    run_live_audit, LiveAudit, LiveAuditError, LiveAuditOptions, NoProgress, Progress,
};
