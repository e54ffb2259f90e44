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

    /// Log what happens underneath on standard error, AWS errors with their whole chain of
    /// causes (`RUST_LOG` chooses the targets and levels, as `RUST_LOG=debug`).
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,

    /// Colour in findings tables: `auto` on a terminal unless NO_COLOR is set (or TERM=dumb),
    /// `always`, `never`. Long lines wrap at the terminal's width (COLUMNS overrides it).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit IAM credentials: the account the AWS credentials point at, or a credential-report CSV.
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
    /// Read CloudTrail logs and report key events and abuse (EVT001-EVT009).
    Trail(TrailArgs),
    /// Everything the logs say about one access key: creation, status changes, deletion, the
    /// sessions it minted and their use.
    ///
    /// With --lookup, CloudTrail's event history is asked for AccessKeyId=<the key> (always, as
    /// the first query; --lookup-attribute adds more): the calls signed with that key, including
    /// the GetSessionToken, GetFederationToken and AssumeRole calls that minted its sessions. The
    /// sessions sign with their own temporary keys (ASIA...), so keywarden then looks up
    /// AccessKeyId=<ASIA...> for every session the key minted, and again for the sessions those
    /// minted by role chaining (at most --max-session-lookups keys, one query per key and region,
    /// 2 calls a second per region). The key's creation, status changes and deletion are signed
    /// by whoever made them, not by the key: add --lookup-attribute EventName=CreateAccessKey,
    /// EventName=UpdateAccessKey and EventName=DeleteAccessKey (IAM events are in us-east-1's
    /// history), or read the trail's files, to see them.
    Key(KeyArgs),
    /// Turn audit findings into a reviewed remediation plan (a JSON file). Never writes to AWS.
    Plan(PlanArgs),
    /// Run a plan's safe actions (more with --unsafe / --two-phase), journaled, each re-checked
    /// against live state first and read back after.
    Apply(ApplyArgs),
    /// List past remediation runs from the journal.
    Runs(RunsArgs),
    /// Reverse what a run changed, where AWS allows (reactivate keys, remove keywarden's
    /// policies); says plainly what cannot be reversed.
    Undo(UndoArgs),
    /// Create a new access key for a user, hand over its secret, and plan the old key's
    /// deactivation and deletion after grace periods.
    Rotate(RotateArgs),
    /// Contain a leaked access key: deactivate it, revoke the sessions issued before now,
    /// quarantine its user, and write an incident report.
    Contain(ContainArgs),
    /// Print the least-privilege IAM policy a command needs.
    Permissions {
        /// The command whose policy to print.
        #[arg(long, value_enum, default_value = "audit")]
        command: PermissionsFor,
        #[command(flatten)]
        org: OrgPermissionsArgs,
    },
}

#[derive(Debug, Args)]
pub struct OrgPermissionsArgs {
    /// An organization: print the management-side policy (Organizations reads, sts:AssumeRole on
    /// --role-name in any account) instead of a command's.
    #[arg(long, conflicts_with = "command")]
    pub org: bool,

    /// The audit role in each member account.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "keywarden-audit",
        requires = "org"
    )]
    pub role_name: String,

    /// The remediation role the second template creates.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "keywarden-remediation",
        requires = "org"
    )]
    pub remediation_role_name: String,

    /// Also write the StackSet templates into DIR (created 0700 if missing, files 0600):
    /// keywarden-audit-role.json (the read-only audit role) and keywarden-remediation-role.json
    /// (the remediation role, deployable separately).
    #[arg(long, value_name = "DIR", requires = "org")]
    pub template_out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PermissionsFor {
    Audit,
    /// `trail` and `key` reading S3 log files (`s3://...`) or LookupEvents (`--lookup`).
    Trail,
    /// `plan --from FILE --resolve-key-ids`: ListAccessKeys only (a live `plan` needs audit's).
    Plan,
    /// `apply` and `undo`: re-reads, key status, key and password deletion, inline policies.
    Apply,
    /// `contain AKIA...`: find the owner, deactivate the key, revoke sessions, quarantine.
    Contain,
    /// `rotate USER`: a new key (Secrets Manager's statement only for `--secrets-manager`).
    Rotate,
    /// `--to securityhub` (beside audit's or trail's): import, look up and resolve findings.
    Securityhub,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
    Csv,
    Sarif,
    /// OCSF 1.8.0 findings, one JSON document per line.
    Ocsf,
    /// OCSF 1.8.0 findings as one JSON array.
    OcsfJson,
    /// A Markdown summary (counts, critical and high findings, the rest collapsed).
    Markdown,
    /// One self-contained HTML page (inline CSS and JS, no network fetch).
    Html,
    /// AWS Security Finding Format: the array Security Hub's BatchImportFindings takes.
    Asff,
}

/// Where `--to` sends the findings, besides printing them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Destination {
    /// Import into Security Hub (BatchImportFindings into the account's default product) in
    /// --region; an audit also resolves the findings keywarden imported earlier that it no
    /// longer produces. Exit status 2 when a finding is not imported or resolved.
    Securityhub,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PresetArg {
    /// keywarden's own thresholds, as without --preset (overrides a config file's preset).
    Default,
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

    /// Also send the findings there (they are printed as well).
    #[arg(long, value_enum, value_name = "DESTINATION")]
    pub to: Option<Destination>,
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
    /// Audit a credential-report CSV file (`-` for standard input) instead of the live account.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["profile", "region", "endpoint_url", "max_attempts"]
    )]
    pub report: Option<PathBuf>,

    #[command(flatten)]
    pub aws: AwsArgs,

    #[command(flatten)]
    pub org: OrgArgs,

    /// When the report was generated (its GeneratedTime, RFC 3339); default: the file's
    /// modification time, unknown for standard input.
    #[arg(long, value_name = "RFC3339")]
    pub report_time: Option<String>,

    #[command(flatten)]
    pub thresholds: ThresholdArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// AWS access, as the AWS CLI does it (the standard credential chain, profiles, SSO).
#[derive(Debug, Args)]
pub struct AwsArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,

    /// Regenerate the credential report when it is older than this (e.g. 30m, 4h, 1d).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "4h",
        conflicts_with = "report"
    )]
    pub max_report_age: String,

    /// Skip the per-user calls: audit from the credential report and account-level calls alone
    /// (key ids stay unknown, and last-use dates are as old as the report).
    #[arg(long, conflicts_with = "report")]
    pub no_enrich: bool,

    /// Per-user AWS calls in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8, conflicts_with = "report")]
    pub concurrency: usize,

    /// Print the number of AWS requests made, by action, to standard error.
    #[arg(long)]
    pub stats: bool,
}

/// `audit --org`: every account of an AWS Organization.
#[derive(Debug, Args)]
pub struct OrgArgs {
    /// Audit every account of the organization (management-account or delegated-administrator
    /// credentials), each through --role-name; the caller's own account with its own credentials.
    #[arg(long, conflicts_with = "report")]
    pub org: bool,

    /// Only the accounts under these organizational units (nested OUs included; comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "OU_IDS", requires = "org")]
    pub ou: Vec<String>,

    /// Only these accounts (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "IDS", requires = "org")]
    pub accounts: Vec<String>,

    /// Leave these accounts out (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "IDS", requires = "org")]
    pub exclude_accounts: Vec<String>,

    /// The read-only audit role assumed in each account.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "keywarden-audit",
        requires = "org"
    )]
    pub role_name: String,

    /// The ExternalId the audit role's trust policy asks for.
    #[arg(long, value_name = "ID", requires = "org")]
    pub external_id: Option<String>,

    /// A role assumed first; each account's role is assumed from its session (a role chain).
    #[arg(long, value_name = "ARN", requires = "org")]
    pub via_role: Option<String>,

    /// Accounts audited at once.
    #[arg(long, value_name = "N", default_value_t = 16, requires = "org")]
    pub account_concurrency: usize,

    /// Continue an interrupted organization run: only the accounts it did not finish are audited.
    #[arg(long, value_name = "RUN_ID", requires = "org")]
    pub resume: Option<String>,

    /// Where the run keeps each account's result (default: keywarden's state folder, as for
    /// the journal: $KEYWARDEN_STATE_DIR, else $XDG_STATE_HOME/keywarden, else ~/.local/state/keywarden).
    #[arg(long, value_name = "DIR", requires = "org")]
    pub state_dir: Option<PathBuf>,

    /// With --to securityhub or --format asff: every account's findings go into the caller's
    /// own (Security Hub administrator) account, the member account named in each finding's
    /// Id, resources and ProductFields; without it, each account's go into its own Security
    /// Hub, entered through --role-name (which then needs `permissions --command securityhub`).
    #[arg(long, requires = "org")]
    pub securityhub_admin: bool,
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
pub struct TrailSourceArgs {
    /// Files or folders (walked; .json, .json.gz, .jsonl...), `-` for standard input, or
    /// `s3://bucket/prefix` (the objects under the prefix; with --since/--until only the AWSLogs
    /// day folders of the window are listed). Formats are detected: CloudTrail's
    /// {"Records":[...]}, JSON arrays, one event per line, any of them gzipped.
    #[arg(value_name = "SOURCE")]
    pub sources: Vec<std::path::PathBuf>,

    #[command(flatten)]
    pub remote: TrailRemoteArgs,

    // The remote group's heading ends here.
    #[command(flatten, next_help_heading = None)]
    pub end_of_remote: NoArgs,

    /// Only these accounts' folders of CloudTrail's layout (AWSLogs/ACCOUNT/..., or an
    /// organization trail's AWSLogs/o-ORG/ACCOUNT/...): S3 lists only their prefixes, walked
    /// folders keep only their files, files named directly are read whatever their path, and
    /// LookupEvents is the credentials' own account's (comma-separated 12-digit ids).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub accounts: Vec<String>,

    /// Only events at or after this time (RFC 3339).
    #[arg(long, value_name = "RFC3339")]
    pub since: Option<String>,

    /// Only events at or before this time (RFC 3339).
    #[arg(long, value_name = "RFC3339")]
    pub until: Option<String>,

    /// Files parsed at once (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// The longest event read: one line of a line-per-event file, one element of a
    /// {"Records":[...]} array, in bytes (suffixes K, M, G: KiB, MiB, GiB). A longer one is a bad
    /// record (reported with where, exit 2), skipped without being held in memory.
    #[arg(
        long,
        value_name = "BYTES",
        default_value = "1M",
        value_parser = parse_size
    )]
    pub max_event_size: usize,
}

/// A size in bytes: digits, optionally followed by K, M or G (powers of 1,024; `KiB`, `MiB`,
/// `GiB` and lower case too).
fn parse_size(text: &str) -> Result<usize, String> {
    let lower = text.trim().to_ascii_lowercase();
    let lower = lower.strip_suffix("ib").unwrap_or(&lower);
    let (digits, shift) = match lower.as_bytes().last() {
        Some(b'k') => (&lower[..lower.len() - 1], 10),
        Some(b'm') => (&lower[..lower.len() - 1], 20),
        Some(b'g') => (&lower[..lower.len() - 1], 30),
        _ => (lower, 0),
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("`{text}` is not a size: expected bytes, like 1048576, 512K or 4M"))
}

const REMOTE: &str = "Remote sources (S3, LookupEvents)";

/// No argument: flattened with `next_help_heading = None`, it ends a help heading's group (clap
/// keeps a flattened group's heading for the arguments after it).
#[derive(Debug, Clone, Args)]
pub struct NoArgs {}

/// Remote CloudTrail sources (S3 log files, LookupEvents) and AWS access, as `audit` does it.
#[derive(Debug, Args)]
pub struct TrailRemoteArgs {
    /// Also read CloudTrail's event history (LookupEvents: the last 90 days of management events,
    /// at most 2 calls a second per region); --since/--until become StartTime/EndTime.
    #[arg(help_heading = REMOTE, long)]
    pub lookup: bool,

    /// A LookupEvents attribute, KEY=VALUE (AccessKeyId, EventId, EventName, EventSource, ReadOnly,
    /// ResourceName, ResourceType, Username). Repeat for several: AWS takes one per call, so each
    /// is its own query, and events found twice count once.
    #[arg(
        help_heading = REMOTE,
        long = "lookup-attribute",
        value_name = "KEY=VALUE",
        requires = "lookup",
        value_parser = parse_lookup_attribute
    )]
    pub lookup_attributes: Vec<keywarden_aws::logs::LookupAttribute>,

    /// Regions --lookup queries, comma-separated (default: --region, else the configured region).
    #[arg(
        help_heading = REMOTE,
        long,
        value_delimiter = ',',
        value_name = "REGIONS",
        requires = "lookup"
    )]
    pub regions: Vec<String>,

    #[command(flatten, next_help_heading = REMOTE)]
    pub connect: ConnectArgs,

    /// S3 calls in flight at once.
    #[arg(help_heading = REMOTE, long, value_name = "N", default_value_t = 8)]
    pub concurrency: usize,

    /// Print the number of AWS requests made, by action, to standard error.
    #[arg(help_heading = REMOTE, long)]
    pub stats: bool,
}

fn parse_lookup_attribute(text: &str) -> Result<keywarden_aws::logs::LookupAttribute, String> {
    text.parse()
}

#[derive(Debug, Args)]
pub struct TrailArgs {
    #[command(flatten)]
    pub input: TrailSourceArgs,

    /// Run only these detections (comma-separated codes).
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub select: Vec<String>,

    /// Skip these detections (comma-separated codes).
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub ignore: Vec<String>,

    /// Also run the Sigma rules in DIR (every *.yml / *.yaml under it) over the same events: a
    /// match is a finding whose rule is the Sigma rule's id, title and level. A rule that cannot
    /// be loaded is named on standard error, the others still run, and the exit status is 2 (not
    /// every rule asked for ran). Rules for other log sources are skipped. --select/--ignore
    /// choose among keywarden's detections only. Every source is inspected: files, standard
    /// input, S3 objects and LookupEvents pages.
    #[arg(long, value_name = "DIR")]
    pub sigma: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct KeyArgs {
    /// The long-term access key id (AKIA...).
    pub key_id: String,

    #[command(flatten)]
    pub input: TrailSourceArgs,

    /// With --lookup: the most session keys (ASIA...) minted by the key, directly or by role
    /// chaining, whose own events are looked up too. More sessions than this leave their uses
    /// out, and the exit status is 2; 0 looks up none.
    #[arg(help_heading = REMOTE, long, value_name = "N", default_value_t = 100, requires = "lookup")]
    pub max_session_lookups: usize,

    /// `table` (default) or `json`.
    #[arg(long, value_enum, default_value = "table")]
    pub format: RulesFormat,
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

/// How keywarden reaches AWS, as the AWS CLI does (the standard credential chain, profiles,
/// SSO): one flag group for every command that calls AWS.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Named profile from the AWS config files.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Region for the API calls (IAM is global; an S3 bucket in another region is followed;
    /// default: the configured region, else us-east-1).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Send every AWS call to this endpoint (a local server, a VPC endpoint); AWS_ENDPOINT_URL also works.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Attempts per AWS call, the first included; throttling and 5xx answers are retried with backoff.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub max_attempts: u32,
}

impl ConnectArgs {
    /// The connection these flags ask for.
    pub fn options(&self) -> keywarden_aws::live::ConnectOptions {
        keywarden_aws::live::ConnectOptions {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            max_attempts: self.max_attempts,
            adaptive_retry: false,
        }
    }
}

/// Where keywarden keeps its journal (and incident reports, rotation plans).
#[derive(Debug, Args)]
pub struct StateArgs {
    /// keywarden's state folder; default: $KEYWARDEN_STATE_DIR, else $XDG_STATE_HOME/keywarden,
    /// else ~/.local/state/keywarden.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// The time to plan at (RFC 3339), instead of the clock; for tests and rehearsals. Read-only
    /// commands only: apply, undo, rotate and contain refuse it (it would skip grace periods on
    /// real writes).
    #[arg(long, value_name = "RFC3339", hide = true)]
    pub now: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PlanFormatArg {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Plan from a saved `keywarden audit --format json` document instead of a live audit.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,

    /// With --from an audit of a credential report file (which names keys by slot, never by
    /// id): read ListAccessKeys for the users whose key findings have no id, read-only, and plan
    /// their key actions (`keywarden permissions --command plan`). Each key is told by its
    /// creation second and status; one that cannot be told stays unplanned, saying why.
    #[arg(long, requires = "from")]
    pub resolve_key_ids: bool,

    /// Write the plan file here (it is also what `apply` reads); default: print it only. An
    /// existing file is not replaced without --force.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Replace the file --out names if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,

    /// Days a key stays inactive, and unused, before keywarden deletes it (at least 1: a delete
    /// is always two-phase).
    #[arg(long, value_name = "DAYS", default_value_t = 14,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub delete_after_days: u32,

    /// How the plan is shown on standard output; default: table on a terminal, json otherwise.
    #[arg(long, value_enum)]
    pub format: Option<PlanFormatArg>,

    #[command(flatten)]
    pub aws: ConnectArgs,

    #[command(flatten)]
    pub thresholds: ThresholdArgs,

    #[command(flatten)]
    pub state: StateArgs,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The plan file `keywarden plan --out` wrote.
    #[arg(
        value_name = "PLAN",
        required_unless_present = "resume",
        conflicts_with = "resume"
    )]
    pub plan: Option<PathBuf>,

    /// Resume an interrupted run: settle its calls in doubt, then finish it.
    #[arg(long, value_name = "RUN_ID")]
    pub resume: Option<String>,

    /// Also run unsafe actions (they may break a workload) and two-phase deletions.
    #[arg(long = "unsafe")]
    pub allow_unsafe: bool,

    /// Also run two-phase deletions (keys inactive and unused for the plan's delete_after_days).
    #[arg(long)]
    pub two_phase: bool,

    /// At most this many AWS write calls in this run.
    #[arg(long, value_name = "N")]
    pub max_actions: Option<usize>,

    /// A config file whose exemptions are re-checked before each action.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Report format; default: table on a terminal, json otherwise.
    #[arg(long, value_enum)]
    pub format: Option<PlanFormatArg>,

    #[command(flatten)]
    pub aws: ConnectArgs,

    #[command(flatten)]
    pub state: StateArgs,
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Show one run's steps (intents, outcomes, verifications, skips).
    #[arg(value_name = "RUN_ID")]
    pub run: Option<String>,

    /// Output format; default: table on a terminal, json otherwise.
    #[arg(long, value_enum)]
    pub format: Option<PlanFormatArg>,

    #[command(flatten)]
    pub state: StateArgs,
}

#[derive(Debug, Args)]
pub struct UndoArgs {
    /// The run to reverse (`keywarden runs` lists them).
    #[arg(value_name = "RUN_ID")]
    pub run: String,

    /// Report format; default: table on a terminal, json otherwise.
    #[arg(long, value_enum)]
    pub format: Option<PlanFormatArg>,

    #[command(flatten)]
    pub aws: ConnectArgs,

    #[command(flatten)]
    pub state: StateArgs,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The IAM user whose key to rotate.
    #[arg(value_name = "USER")]
    pub user: String,

    /// Write the new key (id and secret) to this file, created with mode 0600; refuses an existing file.
    #[arg(long, value_name = "FILE", group = "secret_destination")]
    pub secret_file: Option<PathBuf>,

    /// Store the new key in AWS Secrets Manager under this name (needs secretsmanager:CreateSecret).
    #[arg(long, value_name = "NAME", group = "secret_destination")]
    pub secrets_manager: Option<String>,

    /// Print the secret on standard output.
    #[arg(long, group = "secret_destination")]
    pub show_secret: bool,

    /// Days after the rotation before the old key is deactivated (AWS's rotation sample: 7).
    #[arg(long, value_name = "DAYS", default_value_t = 7)]
    pub deactivate_after_days: u32,

    /// Days after the deactivation before the old key is deleted (AWS's rotation sample: 7; at
    /// least 1: a delete is always two-phase).
    #[arg(long, value_name = "DAYS", default_value_t = 7,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub delete_after_days: u32,

    /// Where to write the old key's plan; default: the state folder's plans/ folder.
    #[arg(long, value_name = "FILE")]
    pub plan_out: Option<PathBuf>,

    #[command(flatten)]
    pub aws: ConnectArgs,

    #[command(flatten)]
    pub state: StateArgs,
}

#[derive(Debug, Args)]
pub struct ContainArgs {
    /// The leaked long-term access key id (AKIA...).
    #[arg(value_name = "ACCESS_KEY_ID")]
    pub key_id: String,

    /// CloudTrail sources (files, folders, s3://bucket/prefix) to list the sessions the key
    /// minted and what they did.
    #[arg(long, value_name = "SOURCE", num_args = 1..)]
    pub trail: Vec<String>,

    /// Hours the quarantine policy stays in force before it lifts itself (36: the longest a
    /// GetSessionToken credential lives).
    #[arg(long, value_name = "HOURS", default_value_t = 36)]
    pub quarantine_hours: u32,

    /// Where to write the incident report (Markdown and JSON); default: the state folder's incidents/ folder.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,

    /// What standard output gets: the summary table, or the incident report as one
    /// self-contained HTML page (the files are written either way).
    #[arg(long, value_enum, default_value = "table")]
    pub format: ContainFormat,

    #[command(flatten)]
    pub aws: ConnectArgs,

    #[command(flatten)]
    pub state: StateArgs,
}

/// `contain --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ContainFormat {
    /// The summary: the key, each step, the deadlines, the sessions.
    Table,
    /// The incident report as one self-contained HTML page (inline CSS and JS, no fetch).
    Html,
}
