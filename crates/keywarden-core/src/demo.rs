//! The sample account `keywarden demo` audits: a credential report and account facts for the
//! fictional account 111122223333, bundled in the binary so the whole pipeline runs without an
//! AWS account. The files and the story behind them live in `demo/` (see demo/README.md);
//! tests/demo.rs holds them to their promise that every rule fires.

/// The demo account's credential report (22-column CSV with a `<root_account>` row).
pub const DEMO_REPORT: &str = include_str!("../demo/credential-report.csv");

/// The demo account's password policy and trails, in the shape of
/// [`crate::account_file::parse_account_file`].
pub const DEMO_ACCOUNT: &str = include_str!("../demo/account.toml");

/// The instant the demo's dates are written against; the demo passes it as `now`, so its
/// findings do not drift as the real clock moves on.
pub const DEMO_NOW: &str = "2026-11-20T12:00:00Z";
