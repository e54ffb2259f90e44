//! `--verbose` and `RUST_LOG`: the log lines of keywarden's crates and of the AWS SDK, on
//! standard error. Without either, nothing is logged: the user reads the one-line messages the
//! commands print, and the full chain of an AWS failure stays out of their way.

use tracing_subscriber::EnvFilter;

/// What `--verbose` shows when `RUST_LOG` does not say: keywarden's own debug lines (an AWS call
/// that got no answer, with the SDK's whole error) and the SDK's warnings.
const VERBOSE_FILTER: &str = "warn,keywarden=debug,keywarden_aws=debug,keywarden_app=debug";

pub fn init(verbose: bool) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::new(spec),
        _ if verbose => EnvFilter::new(VERBOSE_FILTER),
        _ => return,
    };
    // A second subscriber cannot be installed; there is never a first one before this.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
