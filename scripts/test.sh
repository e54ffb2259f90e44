#!/usr/bin/env bash
# The whole test suite, from a clean clone: formatting, lints, every test.
# Installs what the tests need by itself; a missing tool is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "test.sh: cargo is not installed (https://rustup.rs)" >&2; exit 2; }

echo "== moto (the AWS API server the integration tests run against)"
scripts/ensure-moto.sh >/dev/null
scripts/ensure-cfn-lint.sh >/dev/null # cfn-lint, for the StackSet templates of `permissions --org`
scripts/ensure-ocsf.sh >/dev/null # the OCSF validator (crates/keywarden/tests/formats_cli.rs)
echo "== chromium (the HTML report's browser test drives it)"
scripts/ensure-chromium.sh >/dev/null

echo "== cargo fmt --check"
cargo fmt --all -- --check

# The keywarden crate's test hooks (crates/keywarden/src/test_hooks.rs: crash points, a fixed
# clock for the commands that write): the remediation tests need them, a release build never has
# them. The feature changes only the keywarden crate, so the AWS SDK and every other crate are
# built once, in the one dev profile.
features=(--features keywarden/test-hooks)

echo "== cargo clippy (as released, then with the test hooks)"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy --workspace --all-targets --locked "${features[@]}" -- -D warnings

# The test runner's own summary is the last thing printed: the doc tests and the browser test
# run first, so a run never ends on the doc tests' "0 passed".
echo "== the HTML report in headless Chromium"
scripts/test-browser.sh

echo "== tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo test --workspace --doc --locked "${features[@]}"
  cargo nextest run --workspace --locked --no-fail-fast "${features[@]}"
else
  cargo test --workspace --locked --no-fail-fast "${features[@]}"
fi
