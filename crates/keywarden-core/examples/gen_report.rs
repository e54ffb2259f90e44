//! Deterministic generator of realistic AWS IAM credential reports, for benchmarks and fuzz seeds.
//!
//! ```text
//! cargo run --release -p keywarden-core --example gen_report -- --rows 100000 --seed 42 > report.csv
//! ```
//!
//! Options:
//! - `--rows N`     data rows, the `<root_account>` row included (default 1000)
//! - `--seed S`     PRNG seed (default 42); the same rows, seed and `--now` give the same bytes
//! - `--now T`      the report's generation instant, RFC 3339 (default 2026-11-20T12:00:00Z);
//!   every date in the report lies before it
//! - `--final-newline`  end the file with a newline (AWS's own files have none)
//! - `--stats`      audit the generated report with keywarden-core's default configuration at
//!   `--now` and print, to stderr, how many users fail which rule
//!
//! The output follows AWS's format exactly: the 22 columns in AWS's order, lower-case
//! `true`/`false`, `+00:00` timestamps, `N/A` for absent credentials and never-used keys,
//! `no_information` for never-used passwords, `not_supported` in root's password columns, key
//! last-use dates truncated to the minute (as IAM records them), account 123456789012.
//!
//! The population is a large account's: a root row (MFA on, no keys), console users (most with
//! MFA, some with keys, a few without MFA or idle), service users (one key, sometimes two during
//! a rotation, mostly fresh and in daily use, some stale or never used), offboarded users with
//! inactive keys left behind, and users with no credential at all. With the default thresholds
//! about 17 % of the users have at least one failing finding (see `--stats`).

#![allow(
    clippy::disallowed_macros,
    clippy::disallowed_methods,
    reason = "an example program outside the core: it reads files, times and prints"
)]

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Write as _;

const ACCOUNT: &str = "123456789012";
const DAY: i64 = 86_400;
const YEAR: i64 = 365 * DAY;

const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,\
password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,\
access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,\
access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,\
cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

const FIRST: &[&str] = &[
    "james",
    "mary",
    "robert",
    "patricia",
    "john",
    "jennifer",
    "michael",
    "linda",
    "david",
    "elizabeth",
    "william",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "charles",
    "karen",
    "christopher",
    "lisa",
    "daniel",
    "nancy",
    "matthew",
    "betty",
    "anthony",
    "margaret",
    "mark",
    "sandra",
    "donald",
    "ashley",
    "steven",
    "kimberly",
    "paul",
    "emily",
    "andrew",
    "donna",
    "joshua",
    "michelle",
    "kenneth",
    "carol",
    "kevin",
    "amanda",
    "brian",
    "dorothy",
    "george",
    "melissa",
    "timothy",
    "deborah",
    "wei",
    "priya",
    "arjun",
    "yuki",
    "hiroshi",
    "fatima",
    "mohammed",
    "olga",
    "sven",
    "ingrid",
    "mateo",
    "sofia",
    "lucas",
    "chloe",
    "noah",
    "amara",
    "kwame",
    "aisha",
    "diego",
    "valentina",
    "jean-pierre",
];

const LAST: &[&str] = &[
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "sanchez",
    "clark",
    "ramirez",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "nguyen",
    "hill",
    "flores",
    "green",
    "adams",
    "nelson",
    "baker",
    "hall",
    "rivera",
    "campbell",
    "mitchell",
    "carter",
    "roberts",
    "zhang",
    "wang",
    "patel",
    "sharma",
    "tanaka",
    "suzuki",
    "kowalski",
    "novak",
    "johansson",
    "muller",
    "schmidt",
    "rossi",
    "dubois",
    "okafor",
    "mensah",
    "oconnor",
    "van-der-berg",
    "fernandez-castillo",
];

const APPS: &[&str] = &[
    "payments",
    "checkout",
    "billing",
    "ledger",
    "search",
    "catalog",
    "inventory",
    "orders",
    "shipping",
    "notifications",
    "auth",
    "identity",
    "reporting",
    "analytics",
    "etl",
    "datalake",
    "ml-training",
    "recommendations",
    "media-transcoder",
    "thumbnailer",
    "backup",
    "log-shipper",
    "metrics",
    "grafana",
    "jenkins",
    "gitlab-runner",
    "github-actions",
    "argocd",
    "terraform",
    "vault",
    "airflow",
    "spark",
    "kafka-connect",
    "elasticsearch",
    "snowflake-loader",
    "datadog",
    "splunk-forwarder",
    "crm-sync",
    "partner-api",
    "mobile-backend",
    "web-frontend",
    "cdn-purger",
    "email-sender",
    "sftp-gateway",
];

const ROLES: &[&str] = &[
    "",
    "-api",
    "-worker",
    "-deploy",
    "-uploader",
    "-reader",
    "-writer",
    "-sync",
    "-ci",
    "-cron",
    "-exporter",
];

const ENVS: &[&str] = &["prod", "staging", "dev", "qa", "sandbox", "dr"];

const DOMAINS: &[&str] = &["example.com", "corp.example.com", "example.co.uk"];

const HUMAN_PATHS: &[(u32, &str)] = &[
    (70, "/"),
    (8, "/engineering/"),
    (5, "/engineering/platform/"),
    (4, "/finance/"),
    (4, "/security/"),
    (3, "/support/"),
    (3, "/contractors/"),
    (3, "/data-science/analytics/"),
];

const SERVICE_PATHS: &[(u32, &str)] = &[
    (55, "/"),
    (20, "/service-accounts/"),
    (10, "/service-accounts/ci/"),
    (8, "/system/"),
    (7, "/legacy/integrations/"),
];

const REGIONS: &[(u32, &str)] = &[
    (40, "us-east-1"),
    (15, "us-west-2"),
    (12, "eu-west-1"),
    (8, "eu-central-1"),
    (5, "us-east-2"),
    (4, "ap-southeast-2"),
    (4, "ap-northeast-1"),
    (3, "eu-west-2"),
    (3, "ap-south-1"),
    (2, "sa-east-1"),
    (2, "ca-central-1"),
    (2, "N/A"),
];

const SERVICES: &[(u32, &str)] = &[
    (25, "s3"),
    (15, "sts"),
    (8, "ec2"),
    (6, "dynamodb"),
    (6, "sqs"),
    (5, "iam"),
    (5, "ecr"),
    (5, "lambda"),
    (4, "logs"),
    (4, "kms"),
    (3, "secretsmanager"),
    (3, "sns"),
    (3, "cloudformation"),
    (2, "cloudwatch"),
    (2, "ssm"),
    (1, "route53"),
    (1, "glue"),
    (1, "athena"),
    (1, "kinesis"),
];

#[derive(Clone, Copy)]
struct Key {
    active: bool,
    created: i64,
    /// (when, region, service); `None` for a key never used.
    used: Option<(i64, &'static str, &'static str)>,
}

struct Password {
    /// `None`: never used (`no_information`).
    last_used: Option<i64>,
    last_changed: i64,
}

struct User {
    name: String,
    path: &'static str,
    created: i64,
    password: Option<Password>,
    mfa: bool,
    keys: [Option<Key>; 2],
    cert: Option<(bool, i64)>,
}

struct Generator {
    rng: Rng,
    now: i64,
    names: HashSet<String>,
}

impl Generator {
    /// Makes `base` unique by appending a number, as people and teams do.
    fn unique(&mut self, base: String) -> String {
        if self.names.insert(base.clone()) {
            return base;
        }
        loop {
            let candidate = format!("{base}{}", self.rng.between(2, 1000));
            if self.names.insert(candidate.clone()) {
                return candidate;
            }
        }
    }

    fn human_name(&mut self) -> String {
        let first = *self.rng.pick(FIRST);
        let last = *self.rng.pick(LAST);
        let base = match self.rng.below(10) {
            0..=5 => format!("{first}.{last}"),
            6 | 7 => format!("{first}.{last}@{}", self.rng.pick(DOMAINS)),
            8 => format!("{}{last}", &first[..1]),
            _ => format!("{first}_{last}"),
        };
        self.unique(base)
    }

    fn service_name(&mut self) -> String {
        let app = *self.rng.pick(APPS);
        let role = *self.rng.pick(ROLES);
        let env = *self.rng.pick(ENVS);
        let base = match self.rng.below(10) {
            0..=4 => format!("svc-{app}{role}-{env}"),
            5 | 6 => format!(
                "{app}{role}-{env}-{}",
                self.rng.weighted(REGIONS).replace("N/A", "global")
            ),
            7 => format!("ci-{app}-deploy-{env}"),
            8 => format!("{app}{role}"),
            _ => format!("{env}.{app}{role}.integration"),
        };
        self.unique(base)
    }

    /// An instant `lo_days..hi_days` days before now, to the second.
    fn days_ago(&mut self, lo_days: i64, hi_days: i64) -> i64 {
        self.now - self.rng.between(lo_days * DAY, hi_days * DAY)
    }

    /// A user's creation: young, a few years old, or from the account's early days.
    fn user_created(&mut self) -> i64 {
        match self.rng.below(100) {
            0..=7 => self.days_ago(0, 30),
            8..=34 => self.days_ago(30, 365),
            35..=74 => self.days_ago(365, 3 * 365),
            _ => self.days_ago(3 * 365, 11 * 365),
        }
    }

    /// A last use at or after `after`, `lo..hi` days before now, truncated to the minute.
    fn use_between(
        &mut self,
        after: i64,
        lo_days: i64,
        hi_days: i64,
    ) -> Option<(i64, &'static str, &'static str)> {
        let latest = self.now - lo_days * DAY;
        if latest <= after {
            return None;
        }
        let earliest = (self.now - hi_days * DAY).max(after);
        let t = if earliest < latest {
            self.rng.between(earliest, latest)
        } else {
            latest
        };
        // IAM records last use to the minute; never before `after`, never after now.
        let mut t = t - t.rem_euclid(60);
        if t < after {
            t += 60;
        }
        let t = t.min(self.now - 1);
        Some((t, *self.rng.weighted(REGIONS), *self.rng.weighted(SERVICES)))
    }

    /// An active key of a well-run service: mostly rotated within 90 days and used daily.
    fn service_key(&mut self, user_created: i64) -> Key {
        let age = match self.rng.below(100) {
            0..=87 => self.rng.between(DAY / 2, 88 * DAY),
            88..=96 => self.rng.between(91 * DAY, 2 * YEAR),
            _ => self.rng.between(2 * YEAR, 9 * YEAR),
        };
        let created = (self.now - age).max(user_created + self.rng.between(60, 3 * DAY));
        let created = created.min(self.now - 60);
        let used = match self.rng.below(100) {
            0..=85 => self.use_between(created, 0, 1),
            86..=93 => self.use_between(created, 1, 44),
            94..=97 => self.use_between(created, 46, 4 * 365),
            _ => None,
        };
        Key {
            active: true,
            created,
            used,
        }
    }

    /// A key kept after a rotation or an offboarding, deactivated.
    fn inactive_key(&mut self, user_created: i64, recent: bool) -> Key {
        let created = if recent {
            self.now - self.rng.between(20 * DAY, 120 * DAY)
        } else {
            self.now - self.rng.between(60 * DAY, 6 * YEAR)
        }
        .max(user_created + self.rng.between(60, 30 * DAY))
        .min(self.now - 60);
        let used = if recent {
            self.use_between(created, 1, 25)
        } else if self.rng.chance(0.8) {
            self.use_between(created, 31, 6 * 365)
        } else {
            None
        };
        Key {
            active: false,
            created,
            used,
        }
    }

    fn human(&mut self) -> User {
        let created = self.user_created();
        let name = self.human_name();
        let path = *self.rng.weighted(HUMAN_PATHS);
        // Console access for almost every person.
        let password = if self.rng.chance(0.96) {
            // The account's policy makes people change passwords every 90 days; most comply.
            let since_change = if self.rng.chance(0.85) {
                self.rng.between(DAY, 89 * DAY)
            } else {
                self.rng.between(90 * DAY, 4 * YEAR)
            };
            let last_changed = (self.now - since_change).max(created + self.rng.between(60, 600));
            let last_changed = last_changed.min(self.now - 60);
            let last_used = match self.rng.below(100) {
                0..=91 => self
                    .use_between(last_changed, 0, 40)
                    .map(|(t, ..)| t + self.rng.between(0, 60)),
                92..=97 => self
                    .use_between(last_changed, 46, 3 * 365)
                    .map(|(t, ..)| t + self.rng.between(0, 60)),
                _ => None,
            };
            // Password use is recorded to the second; never used is what PWD001 judges by the change.
            let last_used = last_used.map(|t| t.min(self.now - 1));
            Some(Password {
                last_used,
                last_changed,
            })
        } else {
            None
        };
        let mfa = if password.is_some() {
            self.rng.chance(0.94)
        } else {
            self.rng.chance(0.2)
        };
        let mut keys = [None, None];
        match self.rng.below(100) {
            0..=64 => {}
            65..=91 => {
                // CIS 1.11: a key made with the user that was never used.
                let key = if password.is_some() && self.rng.chance(0.03) {
                    Key {
                        active: true,
                        created: (created + self.rng.between(5, 540)).min(self.now - 1),
                        used: None,
                    }
                } else {
                    self.service_key(created)
                };
                keys[0] = Some(key);
            }
            _ => {
                let rotated = self.service_key(created);
                keys[0] = Some(rotated);
                keys[1] = Some(self.inactive_key(created, true));
            }
        }
        User {
            name,
            path,
            created,
            password,
            mfa,
            keys,
            cert: None,
        }
    }

    fn service(&mut self) -> User {
        let created = self.user_created();
        let name = self.service_name();
        let path = *self.rng.weighted(SERVICE_PATHS);
        let mut keys = [None, None];
        match self.rng.below(100) {
            0..=4 => {}
            5..=87 => keys[0] = Some(self.service_key(created)),
            88..=94 => {
                // Mid-rotation: the new key is already in use next to the old one.
                let old = self.service_key(created);
                keys[0] = Some(old);
                let mut new = self.service_key(created);
                new.created = new
                    .created
                    .max(old.created + self.rng.between(DAY, 30 * DAY))
                    .min(self.now - 60);
                if let Some(used) = &mut new.used {
                    used.0 = used
                        .0
                        .max(new.created - new.created.rem_euclid(60) + 60)
                        .min(self.now - 60);
                }
                keys[1] = Some(new);
            }
            _ => {
                // Rotated, the old key deactivated but not yet deleted.
                keys[0] = Some(self.inactive_key(created, true));
                keys[1] = Some(self.service_key(created));
            }
        }
        let cert = self
            .rng
            .chance(0.01)
            .then(|| {
                (
                    self.rng.chance(0.7),
                    created + self.rng.between(60, 30 * DAY),
                )
            })
            .map(|(active, t)| (active, t.min(self.now - 60)));
        User {
            name,
            path,
            created,
            password: None,
            mfa: false,
            keys,
            cert,
        }
    }

    /// Offboarded or parked: no password, maybe an inactive key left behind.
    fn dormant(&mut self) -> User {
        let created = self.days_ago(200, 10 * 365);
        let (name, path) = if self.rng.chance(0.5) {
            (self.human_name(), "/offboarded/")
        } else {
            (self.service_name(), *self.rng.weighted(SERVICE_PATHS))
        };
        let mut keys = [None, None];
        if self.rng.chance(0.25) {
            keys[0] = Some(self.inactive_key(created, false));
        }
        User {
            name,
            path,
            created,
            password: None,
            mfa: false,
            keys,
            cert: None,
        }
    }

    fn user(&mut self) -> User {
        match self.rng.below(100) {
            0..=37 => self.human(),
            38..=89 => self.service(),
            _ => self.dormant(),
        }
    }
}

fn push_time(out: &mut String, t: i64) {
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let days = t.div_euclid(DAY);
    let secs = t.rem_euclid(DAY);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+00:00",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
}

fn push_opt_time(out: &mut String, t: Option<i64>, none: &str) {
    match t {
        Some(t) => push_time(out, t),
        None => out.push_str(none),
    }
}

fn push_bool(out: &mut String, b: bool) {
    out.push_str(if b { "true" } else { "false" });
}

fn write_user(out: &mut String, u: &User) {
    out.push_str(&u.name);
    let _ = write!(out, ",arn:aws:iam::{ACCOUNT}:user{}{},", u.path, u.name);
    push_time(out, u.created);
    out.push(',');
    match &u.password {
        Some(p) => {
            out.push_str("true,");
            push_opt_time(out, p.last_used, "no_information");
            out.push(',');
            push_time(out, p.last_changed);
            out.push(',');
            push_time(out, p.last_changed + 90 * DAY);
            out.push(',');
        }
        None => out.push_str("false,N/A,N/A,N/A,"),
    }
    push_bool(out, u.mfa);
    for key in &u.keys {
        out.push(',');
        match key {
            Some(k) => {
                push_bool(out, k.active);
                out.push(',');
                push_time(out, k.created);
                out.push(',');
                match k.used {
                    Some((t, region, service)) => {
                        push_time(out, t);
                        let _ = write!(out, ",{region},{service}");
                    }
                    None => out.push_str("N/A,N/A,N/A"),
                }
            }
            None => out.push_str("false,N/A,N/A,N/A,N/A"),
        }
    }
    match u.cert {
        Some((active, t)) => {
            out.push(',');
            push_bool(out, active);
            out.push(',');
            push_time(out, t);
            out.push_str(",false,N/A");
        }
        None => out.push_str(",false,N/A,false,N/A"),
    }
}

fn write_root(out: &mut String, g: &mut Generator) {
    let created = g.now - 11 * YEAR - g.rng.between(0, YEAR);
    let _ = write!(out, "<root_account>,arn:aws:iam::{ACCOUNT}:root,");
    push_time(out, created);
    out.push_str(",not_supported,");
    // Root signs in rarely: break-glass only.
    let last_used = g.now - g.rng.between(5 * DAY, 400 * DAY);
    push_time(out, last_used);
    out.push_str(",not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A");
}

struct Options {
    rows: u64,
    seed: u64,
    now: String,
    final_newline: bool,
    stats: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        rows: 1000,
        seed: 42,
        now: "2026-11-20T12:00:00Z".into(),
        final_newline: false,
        stats: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--rows" => o.rows = value("--rows")?.parse().map_err(|e| format!("--rows: {e}"))?,
            "--seed" => o.seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--now" => o.now = value("--now")?,
            "--final-newline" => o.final_newline = true,
            "--stats" => o.stats = true,
            "-h" | "--help" => {
                return Err("usage: gen_report [--rows N] [--seed S] [--now RFC3339] [--final-newline] [--stats]".into())
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    Ok(o)
}

fn main() {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("gen_report: {e}");
            std::process::exit(2);
        }
    };
    let Some(now) = keywarden_core::time::parse_timestamp(&options.now) else {
        eprintln!(
            "gen_report: --now `{}` is not an RFC 3339 instant",
            options.now
        );
        std::process::exit(2);
    };
    let mut g = Generator {
        rng: Rng(options.seed),
        now: now.timestamp(),
        names: HashSet::new(),
    };
    let mut out = String::with_capacity(options.rows as usize * 330 + HEADER.len() + 1);
    out.push_str(HEADER);
    if options.rows > 0 {
        out.push('\n');
        write_root(&mut out, &mut g);
    }
    for _ in 1..options.rows {
        let user = g.user();
        out.push('\n');
        write_user(&mut out, &user);
    }
    if options.final_newline {
        out.push('\n');
    }
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    if let Err(e) = lock.write_all(out.as_bytes()).and_then(|()| lock.flush()) {
        eprintln!("gen_report: writing the report: {e}");
        std::process::exit(1);
    }
    if options.stats {
        print_stats(out.as_bytes(), now);
    }
}

/// Audits the report just written and prints who fails what, to check the mix stays realistic.
fn print_stats(report: &[u8], now: keywarden_core::Timestamp) {
    use keywarden_core::{audit_report, report::ReportReader, AccountExtras, AuditConfig, Status};
    use std::collections::BTreeMap;
    let config = AuditConfig::default();
    let reader =
        ReportReader::new(report, "generated").expect("generated report has a valid header");
    let outcome = audit_report(
        reader,
        &config,
        now,
        AccountExtras::unknown_from_report_file(),
    )
    .expect("generated report parses");
    let mut failing_users = HashSet::new();
    let mut by_rule: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for f in &outcome.findings {
        let entry = by_rule.entry(f.rule.code).or_default();
        match f.status {
            Status::Fail => {
                entry.0 += 1;
                if let Some(user) = &f.user {
                    failing_users.insert(user.as_str());
                }
            }
            _ => entry.1 += 1,
        }
    }
    let users = outcome
        .users_evaluated
        .saturating_sub(u64::from(outcome.root_row_seen));
    eprintln!(
        "rows: {} ({} users + root: {}), bytes: {}, findings: {}",
        outcome.users_evaluated,
        users,
        outcome.root_row_seen,
        report.len(),
        outcome.findings.len()
    );
    eprintln!(
        "users with a failing finding: {} ({:.1}%)",
        failing_users.len(),
        100.0 * failing_users.len() as f64 / users.max(1) as f64
    );
    for (code, (fail, other)) in by_rule {
        eprintln!("  {code}: {fail} fail, {other} unknown/exempted");
    }
}
