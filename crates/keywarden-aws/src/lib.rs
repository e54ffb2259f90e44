//! keywarden's AWS boundary: the only crate that knows the AWS SDK.
//!
//! [`api`] holds the traits (reads, and remediation's separate write traits) and plain data
//! types; [`live`] implements them with the SDK;
//! [`fake`] implements them in memory for tests. [`logs`] holds the traits that read CloudTrail
//! logs (S3 log files, LookupEvents) and their live implementation. The application layer depends on the traits,
//! so the same code runs against real AWS, the fake, and moto through an endpoint override.

pub mod api;
pub mod fake;
pub mod live;
pub mod logs;
pub mod permissions;
