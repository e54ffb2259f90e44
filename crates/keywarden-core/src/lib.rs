//! keywarden's pure core.
//!
//! The credential model, the credential-report parser, the rule catalogue, configuration and the
//! audit engine. Invariants: nothing here does IO (readers are handed in), reads the clock (`now`
//! is an argument) or knows the AWS SDK. See ARCHITECTURE.md.

pub mod account_file;
pub mod audit;
pub mod cloudtrail;
pub mod config;
pub mod demo;
pub mod finding;
pub mod model;
pub mod remediation;
pub mod report;
pub mod rules;
pub mod time;

pub use audit::{audit_report, audit_report_at, AccountExtras, AuditOutcome, AuditRun};
pub use config::AuditConfig;
pub use finding::{CredentialKind, Finding, Severity, Status};
pub use time::Timestamp;
