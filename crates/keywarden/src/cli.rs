//! Command-line definitions (clap). Parsing only: the commands live in their own modules.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "keywarden",
    version,
    about = "Guards the life of AWS access keys: audits IAM credentials against a stable rule catalogue.",
    after_help = "Exit status: 0 nothing failing, 1 failing findings, 2 error or incomplete data (unknown findings)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit IAM credentials from a credential-report CSV.
    Audit(AuditArgs),
    /// Run the audit on a sample account bundled in the binary (no AWS account needed).
    Demo(DemoArgs),
    /// List the rule catalogue.
    Rules(RulesArgs),
    /// Print one rule's documentation.
    Rule {
        /// The rule code, e.g. KEY001.
        code: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
    Csv,
    Sarif,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PresetArg {
    Cis,
    AwsConfig,
    Conformity,
    Pingsafe,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format; default: table on a terminal, json otherwise.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,

    /// The time every age is computed against (RFC 3339); default: the current time.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
}

#[derive(Debug, Args)]
pub struct ThresholdArgs {
    /// Named thresholds of a standard (overridden by --config values, then by flags).
    #[arg(long, value_enum)]
    pub preset: Option<PresetArg>,

    /// TOML config file: preset, thresholds, password policy, rule selection, exemptions.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// KEY001, PWD001: days an active credential may go unused.
    #[arg(long, value_name = "DAYS")]
    pub max_unused_days: Option<u32>,

    /// KEY002: days before an active key must be rotated.
    #[arg(long, value_name = "DAYS")]
    pub max_key_age_days: Option<u32>,

    /// KEY004: days an inactive key may be kept idle.
    #[arg(long, value_name = "DAYS")]
    pub max_inactive_days: Option<u32>,

    /// Run only these rules (comma-separated codes).
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub select: Vec<String>,

    /// Skip these rules (comma-separated codes).
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub ignore: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// A credential-report CSV file, or `-` for standard input.
    #[arg(long, value_name = "FILE")]
    pub report: PathBuf,

    /// When the report was generated (its GeneratedTime, RFC 3339); default: the file's
    /// modification time, unknown for standard input.
    #[arg(long, value_name = "RFC3339")]
    pub report_time: Option<String>,

    #[command(flatten)]
    pub thresholds: ThresholdArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub thresholds: ThresholdArgs,

    /// Output format; default: table on a terminal, json otherwise.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// `table` (default) or `json`.
    #[arg(long, value_enum, default_value = "table")]
    pub format: RulesFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RulesFormat {
    Table,
    Json,
}
