//! keywarden's binary: parses the command line, reads the clock and the files, and hands them to
//! the library crates. Exit status is a contract: 0 nothing failing, 1 failing findings,
//! 2 error or incomplete data.
//!
//! Everything the binary says on standard error goes through [`diag!`], which escapes control and
//! Bidi characters for the terminal: messages quote file contents, log fields and AWS replies.

/// `eprintln!` for keywarden's diagnostics: the message is escaped by
/// [`keywarden_output::escape::terminal_lines`] (its own line breaks kept), so a value it quotes
/// (`invalid date `...``, a bad record, an AWS error) cannot drive the terminal.
macro_rules! diag {
    ($($arg:tt)*) => {
        $crate::write_diagnostic(&format!($($arg)*))
    };
}

// Standard output is keywarden-output's (the workspace's clippy.toml disallows `print!`,
// `println!` and `std::io::stdout`): the modules below that open it say why.
#[allow(
    clippy::disallowed_methods,
    reason = "hands standard output to a keywarden-output Printer"
)]
mod audit_cmd;
mod cli;
#[allow(
    clippy::disallowed_methods,
    reason = "hands standard output to keywarden-output's contain summary"
)]
mod contain_cmd;
mod core_dumps;
#[allow(
    clippy::disallowed_methods,
    reason = "hands standard output to a Printer, and `permissions`' policy to `write_json`"
)]
mod live_cmd;
mod logging;
mod org_cmd;
#[allow(
    clippy::disallowed_methods,
    reason = "hands standard output to keywarden-output's plan, run and run-list printers"
)]
mod remediate_cmd;
#[allow(
    clippy::disallowed_methods,
    reason = "the secret's hand-over to stdout when asked, and keywarden-output's rotation summary"
)]
mod rotate_cmd;
#[allow(
    clippy::disallowed_methods,
    reason = "hands standard output to keywarden-output's catalogue printers"
)]
mod rules_cmd;
mod securityhub_cmd;
mod state;
#[allow(
    clippy::disallowed_methods,
    reason = "asks whether standard output is a terminal (colour, width); writes nothing"
)]
mod terminal;
#[cfg(feature = "test-hooks")]
mod test_hooks;
#[allow(
    clippy::disallowed_methods,
    reason = "hands standard output to a Printer and to the key timeline's printer"
)]
mod trail_cmd;

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

/// The exit statuses keywarden promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Clean = 0,
    Failing = 1,
    ErrorOrIncomplete = 2,
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    logging::init(cli.verbose);
    terminal::init(cli.color);
    let result = match cli.command {
        cli::Command::Audit(args) => audit_cmd::run_audit(args),
        cli::Command::Demo(args) => audit_cmd::run_demo(args),
        cli::Command::Rules(args) => rules_cmd::list(args),
        cli::Command::Rule { code } => rules_cmd::show(&code),
        cli::Command::Permissions { command, org } => live_cmd::permissions(command, &org),
        cli::Command::Trail(args) => trail_cmd::run_trail(args),
        cli::Command::Key(args) => trail_cmd::run_key(args),
        cli::Command::Plan(args) => remediate_cmd::plan(args),
        cli::Command::Apply(args) => remediate_cmd::apply(args),
        cli::Command::Runs(args) => remediate_cmd::runs(args),
        cli::Command::Undo(args) => remediate_cmd::undo(args),
        // Before any secret exists: no core file may hold one.
        cli::Command::Rotate(args) => core_dumps::forbid().and_then(|()| rotate_cmd::rotate(args)),
        cli::Command::Contain(args) => {
            core_dumps::forbid().and_then(|()| contain_cmd::contain(args))
        }
    };
    match result {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(error) => {
            if is_broken_pipe(&error) {
                return ExitCode::from(Exit::Clean as u8);
            }
            diag!("keywarden: error: {error:#}");
            ExitCode::from(Exit::ErrorOrIncomplete as u8)
        }
    }
}

/// Writes one diagnostic to standard error, escaped for the terminal (see [`diag!`]). A failed
/// write is ignored: there is nowhere left to report it.
pub(crate) fn write_diagnostic(text: &str) {
    let escaped = keywarden_output::escape::terminal_lines(text);
    let _ = writeln!(std::io::stderr().lock(), "{escaped}");
}

/// `keywarden ... | head` closing the pipe early is not an error worth reporting.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
