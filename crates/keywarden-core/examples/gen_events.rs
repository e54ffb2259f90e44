//! Deterministic generator of realistic CloudTrail log files, for `keywarden trail` benchmarks.
//!
//! ```text
//! cargo run --release -p keywarden-core --example gen_events -- --size 100M --out bench-data/trail/100m
//! ```
//!
//! Options:
//! - `--size N[K|M|G]`  about how many bytes to write (default 100M); the event count is derived
//!   from the average event size, measured on a first pass that writes nothing
//! - `--events N`       exactly N events instead of `--size`
//! - `--out DIR`        where to write (created; default `bench-data/trail/events`)
//! - `--file-size N`    bytes per log file before it is closed (default 4M: AWS writes a file per
//!   region every ~5 minutes, a few MB for a busy account); `--file-size 0` writes one file per
//!   region whatever its size
//! - `--lines`          one event per line in a single `events.jsonl` instead of CloudTrail files
//! - `--seed S`         PRNG seed (default 42): the same options give the same bytes
//! - `--keys K`         IAM users, one long-term key each (default 2000)
//! - `--sessions S`     temporary keys minted over the whole log (default 3000)
//! - `--stats`          print, to stderr, events per name and the findings the log is built for
//!
//! The files follow CloudTrail's own layout: `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/
//! <account>_CloudTrail_<region>_YYYYMMDDTHHMMZ_<16 chars>.json`, each one line of
//! `{"Records":[...]}` with the events in CloudTrail's field order. The event shapes are those of
//! the real events in ../shared/data/cloudtrail (Stratus Red Team detonations and the OTRF
//! dataset): `userIdentity` of IAMUser (AKIA key), AssumedRole (ASIA key, `sessionContext` with
//! `sessionIssuer` and `attributes`), Root and AWSService; `tlsDetails`, `resources`,
//! `additionalEventData` where AWS writes them. About 1.2 KB per event, as in the real ones.
//!
//! The workload is a busy account seen over days: the bulk is ordinary API calls (S3 GetObject,
//! PutObject and ListObjects data events, EC2 and SSM describes, KMS Decrypt, Secrets Manager, IAM
//! reads, CloudWatch, 2 % of them failing with AccessDenied), made 40 % by IAM users with their
//! AKIA key and 60 % by role sessions with ASIA keys. The state the analysis keeps is bounded and
//! independent of the event count: `--keys` long-term keys, `--sessions` temporary keys (AssumeRole
//! by users and by AWS services, and GetSessionToken; each used by the calls that follow its
//! minting), and a fixed set of IAM, sign-in and CloudTrail events spread over the log, built
//! to give about 220 findings (EVT001 to EVT009, see `--stats`). GetCallerIdentity (0.5 % of the
//! calls, an STS event whose id the analyzer keeps) is the one tracked event that grows with the
//! log, as it does in real ones. Every eventID is unique.

#![allow(
    clippy::disallowed_macros,
    clippy::disallowed_methods,
    reason = "an example program outside the core: it reads files, times and prints"
)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

const ACCOUNT: &str = "123456789012";
/// 2026-11-01T00:00:00Z.
const START: i64 = 1_793_491_200;
/// Log time per event: 25 events a second.
const MILLIS_PER_EVENT: i64 = 40;
const REGIONS: &[(u32, &str)] = &[(70, "us-east-1"), (20, "eu-west-1"), (10, "us-west-2")];

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

/// eventID-like ids, only gen_events needs them.
trait UuidExt {
    fn uuid(&mut self, out: &mut String);
}

impl UuidExt for Rng {
    /// A UUID-shaped id (eventID, requestID).
    fn uuid(&mut self, out: &mut String) {
        let a = self.next_u64();
        let b = self.next_u64();
        let _ = write!(
            out,
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        );
    }
}

/// An access key id: the prefix, then 16 characters of AWS's base-32 alphabet.
fn key_id(prefix: &str, n: u64) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut h = Rng(n ^ if prefix == "AKIA" { 0x5eed } else { 0xa51a });
    let mut x = h.next_u64();
    let mut id = String::with_capacity(20);
    id.push_str(prefix);
    for _ in 0..16 {
        id.push(ALPHABET[(x & 31) as usize] as char);
        x = (x >> 5) | (h.next_u64() << 59);
    }
    id
}

fn principal_id(prefix: &str, n: u64) -> String {
    let mut id = key_id("AKIA", n.wrapping_mul(7919) ^ prefix.len() as u64);
    id.replace_range(..4, prefix);
    id
}

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
    "wei",
    "priya",
    "arjun",
    "sofia",
    "lucas",
    "emma",
    "noah",
    "olivia",
    "yuki",
    "fatima",
    "omar",
    "ines",
    "mateo",
    "chloe",
];
const LAST: &[&str] = &[
    "smith", "johnson", "garcia", "martinez", "nguyen", "kim", "patel", "muller", "rossi",
    "dubois", "kowalski", "silva", "tanaka", "okafor", "hansen", "lopez",
];
const SERVICES: &[&str] = &[
    "payments",
    "ledger",
    "billing",
    "search",
    "ingest",
    "reports",
    "auth",
    "catalog",
    "orders",
    "notifications",
    "etl",
    "backup",
];
const ENVS: &[&str] = &["prod", "staging", "dev"];
const ROLES: &[&str] = &[
    "ci-deploy",
    "terraform-apply",
    "OrganizationAccountAccessRole",
    "eks-node-group",
    "lambda-orders-exec",
    "lambda-etl-exec",
    "ecs-task-payments",
    "ecs-task-search",
    "ec2-app-server",
    "ec2-bastion",
    "data-science-notebook",
    "AWSReservedSSO_AdministratorAccess_8d1f2b3c4a5e6f70",
    "AWSReservedSSO_ReadOnly_1a2b3c4d5e6f7a8b",
    "backup-operator",
    "security-audit",
    "log-shipper",
];
const BUCKETS: &[&str] = &[
    "corp-data-lake-prod",
    "corp-artifacts",
    "payments-exports-prod",
    "ml-training-sets",
    "static-assets-cdn",
    "terraform-state-123456789012",
];
const USER_AGENTS: &[&str] = &[
    "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#s3.cp",
    "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.10.219-208.866.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.144",
    "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.58.2",
    "aws-sdk-java/2.26.25 Linux/5.10.220-209.869.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.12+7-LTS Java/17.0.12 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
    "APN/1.0 HashiCorp/1.0 Terraform/1.9.3 (+https://www.terraform.io) terraform-provider-aws/5.60.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5",
    "[aws-cli/1.18.136 Python/3.8.5 Darwin/19.5.0 botocore/1.17.59]",
];
const CONSOLE_UA: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

struct User {
    name: String,
    key: String,
    principal: String,
    ip: String,
    agent: &'static str,
}

/// Who signed a call.
#[derive(Clone, Copy)]
enum Who {
    /// An IAM user with its long-term key (index into users).
    User(usize),
    /// An IAM user signing in to the console: no access key.
    Console(usize),
    /// A role session (index into sessions).
    Session(usize),
    /// An AWS service acting for the account: no access key.
    Service(&'static str),
    Root,
}

struct SessionInfo {
    key: String,
    role: &'static str,
    name: String,
    /// The user that minted it with AssumeRole/GetSessionToken (None: an AWS service).
    parent: Option<usize>,
    /// GetSessionToken: the session acts as the user (FederatedUser-like IAMUser identity).
    user_session: bool,
    created: i64,
    /// `created`, formatted.
    created_text: String,
}

/// The fixed events a log is built around, at a fraction of the log.
#[derive(Clone, Copy)]
enum Special {
    CreateKeyForOther {
        admin: usize,
        target: usize,
    },
    CreateKeySelf {
        user: usize,
    },
    CreateKeyRoot,
    UpdateKey {
        admin: usize,
        user: usize,
        active: bool,
    },
    DeleteKey {
        admin: usize,
        user: usize,
    },
    LoginProfile {
        admin: usize,
        target: usize,
        create: bool,
    },
    ConsoleLogin {
        user: usize,
        mfa: bool,
        ok: bool,
    },
    /// A session minting, index into sessions.
    Mint(usize),
    /// A use of a given session (EVT006: after its parent key was deactivated).
    UseSession(usize),
    StopLogging {
        admin: usize,
    },
    StartLogging {
        admin: usize,
    },
    ReadOnlySelectors {
        admin: usize,
    },
    UpdateTrailHarmless {
        admin: usize,
    },
}

struct Gen {
    rng: Rng,
    users: Vec<User>,
    sessions: Vec<SessionInfo>,
    /// Sorted by position.
    specials: Vec<(u64, Special)>,
    next_special: usize,
    /// Sessions `0..pool` are the bulk's; later ones belong to the EVT006 story.
    pool: usize,
    /// Users whose key the bulk calls use (not rotated, not the admins).
    bulk_users: std::ops::Range<usize>,
    second_cache: (i64, String),
    /// Sessions minted so far (their index is < this).
    minted: usize,
    counts: BTreeMap<&'static str, u64>,
    expected: BTreeMap<&'static str, u64>,
}

fn ip_of(rng: &mut Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        rng.pick(&[3u8, 18, 34, 52, 54, 63, 81, 198, 203]),
        rng.below(256),
        rng.below(256),
        1 + rng.below(254)
    )
}

impl Gen {
    fn new(seed: u64, keys: usize, sessions: usize, events: u64) -> Gen {
        let mut rng = Rng(seed);
        let keys = keys.max(200);
        let users: Vec<User> = (0..keys)
            .map(|i| {
                let name = if i % 3 == 0 {
                    format!(
                        "{}.{}{}",
                        rng.pick(FIRST),
                        rng.pick(LAST),
                        if i > 40 { i.to_string() } else { String::new() }
                    )
                } else {
                    format!("svc-{}-{}-{i}", rng.pick(SERVICES), rng.pick(ENVS))
                };
                User {
                    name,
                    key: key_id("AKIA", i as u64),
                    principal: principal_id("AIDA", i as u64),
                    ip: ip_of(&mut rng),
                    agent: rng.pick::<&str>(USER_AGENTS),
                }
            })
            .collect();
        // Users 0..10 are administrators, 10..80 have their keys rotated, the rest are the
        // bulk's. Role sessions are minted by users 80..380 and by AWS services.
        let rotated = 10..80;
        let bulk_users = 80..keys;
        let mut g = Gen {
            rng,
            users,
            sessions: Vec::new(),
            specials: Vec::new(),
            next_special: 0,
            pool: sessions,
            bulk_users,
            second_cache: (i64::MIN, String::new()),
            minted: 0,
            counts: BTreeMap::new(),
            expected: BTreeMap::new(),
        };
        let n = events.max(1);
        let at = |f: f64| ((f.clamp(0.0, 0.999_999)) * n as f64) as u64;
        let mut specials = Vec::new();
        for j in 0..sessions {
            let frac = (j as f64 + 0.5) / sessions as f64 * 0.98;
            let role = g.rng.pick(ROLES);
            let kind = j % 100;
            let (parent, user_session) = if kind < 3 {
                // GetSessionToken with a long-term key: EVT005.
                (Some(80 + g.rng.below(300) as usize), true)
            } else if kind < 50 {
                (Some(80 + g.rng.below(300) as usize), false)
            } else {
                (None, false)
            };
            let name = if parent.is_some() {
                format!("session-{}", 1_700_000_000_000u64 + j as u64 * 7_919)
            } else {
                format!("i-{:017x}", g.rng.next_u64() >> 4)
            };
            g.sessions.push(SessionInfo {
                key: key_id("ASIA", j as u64),
                role,
                name,
                parent,
                user_session,
                created: 0,
                created_text: String::new(),
            });
            specials.push((at(frac), Special::Mint(j)));
        }
        let admin = |rng: &mut Rng| rng.below(10) as usize;
        for i in 0..50 {
            let a = admin(&mut g.rng);
            specials.push((
                at(g.rng.unit()),
                Special::CreateKeyForOther {
                    admin: a,
                    target: 380 + i * 7 % (keys - 380),
                },
            ));
            let u = 80 + g.rng.below((keys - 80) as u64) as usize;
            specials.push((at(g.rng.unit()), Special::CreateKeySelf { user: u }));
        }
        specials.push((at(0.42), Special::CreateKeyRoot));
        // Rotation: each rotated key is deactivated; 40 of them are then deleted, 10 turned back
        // on (EVT002). The first 5 each mint a session before their deactivation that is used
        // after it (EVT006).
        for (r, user) in rotated.clone().enumerate() {
            let off = 0.05 + 0.85 * g.rng.unit();
            let a = admin(&mut g.rng);
            specials.push((
                at(off),
                Special::UpdateKey {
                    admin: a,
                    user,
                    active: false,
                },
            ));
            if r < 40 {
                specials.push((at(off + 0.04), Special::DeleteKey { admin: a, user }));
            } else if r < 50 {
                specials.push((
                    at(off + 0.03),
                    Special::UpdateKey {
                        admin: a,
                        user,
                        active: true,
                    },
                ));
            }
            if r < 5 {
                let j = g.sessions.len();
                g.sessions.push(SessionInfo {
                    key: key_id("ASIA", 1_000_000 + r as u64),
                    role: "ci-deploy",
                    name: format!("rotation-check-{r}"),
                    parent: Some(user),
                    user_session: false,
                    created: 0,
                    created_text: String::new(),
                });
                specials.push((at(off - 0.02), Special::Mint(j)));
                specials.push((at(off + 0.01), Special::UseSession(j)));
            }
        }
        for i in 0..12 {
            let a = admin(&mut g.rng);
            specials.push((
                at(g.rng.unit()),
                Special::LoginProfile {
                    admin: a,
                    target: 380 + (i * 13) % (keys - 380),
                    create: i % 3 == 0,
                },
            ));
        }
        for i in 0..600u64 {
            let user = (i as usize * 3) % keys;
            specials.push((
                at(g.rng.unit()),
                Special::ConsoleLogin {
                    user,
                    mfa: i % 20 != 0,
                    ok: i % 60 != 7,
                },
            ));
        }
        let a = admin(&mut g.rng);
        specials.push((at(0.61), Special::StopLogging { admin: a }));
        specials.push((at(0.6101), Special::StartLogging { admin: a }));
        specials.push((at(0.77), Special::ReadOnlySelectors { admin: a }));
        specials.push((at(0.33), Special::UpdateTrailHarmless { admin: a }));
        specials.sort_by_key(|(p, _)| *p);
        g.specials = specials;
        g
    }

    fn time_of(&mut self, index: u64) -> (i64, &str) {
        let millis = index as i64 * MILLIS_PER_EVENT;
        let secs = START + millis / 1000;
        if self.second_cache.0 != secs {
            let t = chrono::DateTime::from_timestamp(secs, 0).expect("in range");
            self.second_cache = (secs, t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
        (secs, &self.second_cache.1)
    }

    fn count(&mut self, name: &'static str) {
        *self.counts.entry(name).or_default() += 1;
    }

    fn expect(&mut self, code: &'static str) {
        *self.expected.entry(code).or_default() += 1;
    }

    /// Appends event number `index` to `out`; returns its region.
    fn event(&mut self, index: u64, out: &mut String) -> &'static str {
        // Specials at the same position follow each other as distinct events.
        match self.specials.get(self.next_special) {
            Some(&(pos, special)) if pos <= index => {
                self.next_special += 1;
                self.special(index, special, out)
            }
            _ => self.bulk(index, out),
        }
    }

    fn random_region(&mut self) -> &'static str {
        self.rng.weighted::<&str>(REGIONS)
    }

    fn bulk(&mut self, index: u64, out: &mut String) -> &'static str {
        let who = {
            let r = self.rng.below(100);
            if r < 5 {
                Who::Service(
                    self.rng
                        .pick::<&str>(&["ec2.amazonaws.com", "lambda.amazonaws.com"]),
                )
            } else if r < 45 || self.minted == 0 {
                let span = self.bulk_users.len() as u64;
                // Skewed: a few users make most of the calls.
                let u = self.bulk_users.start
                    + (self.rng.below(span) * self.rng.below(span) / span) as usize;
                Who::User(u)
            } else {
                // One of the most recently minted sessions (older ones have expired).
                let live = self.minted.min(200);
                Who::Session(self.minted - 1 - self.rng.below(live as u64) as usize)
            }
        };
        let region = self.random_region();
        let failed = self.rng.chance(0.02);
        let kind = *self.rng.weighted(&[
            (30u32, "GetObject"),
            (8, "PutObject"),
            (5, "ListObjects"),
            (12, "DescribeInstances"),
            (4, "DescribeSecurityGroups"),
            (3, "DescribeVolumes"),
            (8, "DescribeInstanceInformation"),
            (4, "GetParameters"),
            (10, "Decrypt"),
            (3, "GetSecretValue"),
            (4, "GetMetricData"),
            (2, "GetUser"),
            (1, "ListAttachedUserPolicies"),
            (1, "GetCallerIdentityHalf"),
        ]);
        let mut kind = kind;
        if kind == "GetCallerIdentityHalf" {
            // 0.5 % of the calls.
            kind = if self.rng.chance(0.5) {
                "GetCallerIdentity"
            } else {
                "GetObject"
            };
        }
        let (source, region) = match kind {
            "GetObject" | "PutObject" | "ListObjects" => ("s3.amazonaws.com", region),
            "DescribeInstances" | "DescribeSecurityGroups" | "DescribeVolumes" => {
                ("ec2.amazonaws.com", region)
            }
            "DescribeInstanceInformation" | "GetParameters" => ("ssm.amazonaws.com", region),
            "Decrypt" => ("kms.amazonaws.com", region),
            "GetSecretValue" => ("secretsmanager.amazonaws.com", region),
            "GetMetricData" => ("monitoring.amazonaws.com", region),
            "GetUser" | "ListAttachedUserPolicies" => ("iam.amazonaws.com", "us-east-1"),
            _ => ("sts.amazonaws.com", region),
        };
        self.count(kind);
        let mut body = String::with_capacity(512);
        let (params, response, resources, additional, read_only, category) = match kind {
            "GetObject" | "PutObject" => {
                let bucket = self.rng.pick(BUCKETS);
                let object = format!(
                    "{}/{:04}/{:02}/part-{:05}-{:08x}.parquet",
                    self.rng.pick(&["raw", "curated", "exports", "models"]),
                    2026,
                    1 + self.rng.below(11),
                    self.rng.below(100_000),
                    self.rng.next_u64() as u32
                );
                let _ = write!(
                    body,
                    r#"{{"bucketName":"{bucket}","Host":"{bucket}.s3.{region}.amazonaws.com","key":"{object}"}}"#
                );
                let resources = format!(
                    r#"[{{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::{bucket}/{object}"}},{{"accountId":"{ACCOUNT}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{bucket}"}}]"#
                );
                let mut id2 = String::new();
                self.rng.uuid(&mut id2);
                let additional = format!(
                    r#"{{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":{},"AuthenticationMethod":"AuthHeader","x-amz-id-2":"{id2}","bytesTransferredOut":{}}}"#,
                    if kind == "PutObject" { self.rng.below(5_000_000) } else { 0 },
                    if kind == "GetObject" { self.rng.below(5_000_000) } else { 0 }
                );
                let response = if kind == "PutObject" {
                    r#"{"x-amz-server-side-encryption":"aws:kms","x-amz-server-side-encryption-aws-kms-key-id":"arn:aws:kms:us-east-1:123456789012:key/7f3a1c2e-9b4d-4e8f-a1b2-c3d4e5f60718"}"#.to_owned()
                } else {
                    "null".to_owned()
                };
                (body, response, Some(resources), Some(additional), kind == "GetObject", "Data")
            }
            "ListObjects" => {
                let bucket = self.rng.pick(BUCKETS);
                let _ = write!(
                    body,
                    r#"{{"list-type":"2","bucketName":"{bucket}","Host":"{bucket}.s3.{region}.amazonaws.com","prefix":"raw/2026/","max-keys":"1000"}}"#
                );
                let resources = format!(
                    r#"[{{"accountId":"{ACCOUNT}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{bucket}"}}]"#
                );
                let additional = r#"{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","bytesTransferredOut":14231}"#.to_owned();
                (body, "null".into(), Some(resources), Some(additional), true, "Data")
            }
            "DescribeInstances" => (
                r#"{"instancesSet":{},"filterSet":{"items":[{"name":"instance-state-name","valueSet":{"items":[{"value":"running"}]}}]}}"#.into(),
                "null".into(), None, None, true, "Management",
            ),
            "DescribeSecurityGroups" => (
                r#"{"securityGroupSet":{},"securityGroupIdSet":{},"filterSet":{}}"#.into(),
                "null".into(), None, None, true, "Management",
            ),
            "DescribeVolumes" => (
                r#"{"volumeSet":{},"filterSet":{},"maxResults":500}"#.into(),
                "null".into(), None, None, true, "Management",
            ),
            "DescribeInstanceInformation" => (
                r#"{"maxResults":50,"filters":[{"key":"PingStatus","values":["Online"]}]}"#.into(),
                "null".into(), None, None, true, "Management",
            ),
            "GetParameters" => {
                let _ = write!(
                    body,
                    r#"{{"names":["/{}/{}/db-password","/{}/{}/api-endpoint"],"withDecryption":true}}"#,
                    self.rng.pick(SERVICES), self.rng.pick(ENVS), self.rng.pick(SERVICES), self.rng.pick(ENVS)
                );
                (body, "null".into(), None, None, true, "Management")
            }
            "Decrypt" => {
                let _ = write!(
                    body,
                    r#"{{"encryptionAlgorithm":"SYMMETRIC_DEFAULT","encryptionContext":{{"aws:s3:arn":"arn:aws:s3:::{}"}}}}"#,
                    self.rng.pick(BUCKETS)
                );
                let resources = format!(
                    r#"[{{"accountId":"{ACCOUNT}","type":"AWS::KMS::Key","ARN":"arn:aws:kms:{region}:{ACCOUNT}:key/7f3a1c2e-9b4d-4e8f-a1b2-c3d4e5f6{:04x}"}}]"#,
                    self.rng.below(16)
                );
                (body, "null".into(), Some(resources), None, true, "Management")
            }
            "GetSecretValue" => {
                let _ = write!(
                    body,
                    r#"{{"secretId":"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{}/{}/credentials-AbCdEf"}}"#,
                    self.rng.pick(SERVICES), self.rng.pick(ENVS)
                );
                (body, "null".into(), None, None, true, "Management")
            }
            "GetMetricData" => (
                r#"{"metricDataQueries":[{"id":"m1","metricStat":{"metric":{"namespace":"AWS/EC2","metricName":"CPUUtilization"},"period":300,"stat":"Average"}}],"startTime":"Nov 1, 2026, 12:00:00 AM","endTime":"Nov 1, 2026, 1:00:00 AM"}"#.into(),
                "null".into(), None, None, true, "Management",
            ),
            "GetUser" | "ListAttachedUserPolicies" => {
                let target = self.rng.below(self.users.len() as u64) as usize;
                let _ = write!(body, r#"{{"userName":"{}"}}"#, self.users[target].name);
                (body, "null".into(), None, None, true, "Management")
            }
            _ => ("null".into(), "null".into(), None, None, true, "Management"),
        };
        let error = failed.then_some(("AccessDenied", "User is not authorized to perform this operation because no identity-based policy allows the action"));
        self.write(
            out,
            &EventSpec {
                index,
                who,
                source,
                name: kind,
                region,
                params: &params,
                response: &response,
                resources: resources.as_deref(),
                additional: additional.as_deref(),
                error,
                read_only,
                category,
                event_type: "AwsApiCall",
            },
        );
        region
    }

    fn special(&mut self, index: u64, special: Special, out: &mut String) -> &'static str {
        let mut spec = EventSpec {
            index,
            who: Who::Root,
            source: "iam.amazonaws.com",
            name: "",
            region: "us-east-1",
            params: "null",
            response: "null",
            resources: None,
            additional: None,
            error: None,
            read_only: false,
            category: "Management",
            event_type: "AwsApiCall",
        };
        let params;
        let response;
        let additional;
        match special {
            Special::CreateKeyForOther { admin, target } => {
                spec.who = Who::User(admin);
                spec.name = "CreateAccessKey";
                let key = key_id("AKIA", 5_000_000 + index);
                params = format!(r#"{{"userName":"{}"}}"#, self.users[target].name);
                response = self.access_key_response(&key, target);
                self.expect("EVT001");
            }
            Special::CreateKeySelf { user } => {
                spec.who = Who::User(user);
                spec.name = "CreateAccessKey";
                let key = key_id("AKIA", 6_000_000 + index);
                params = "null".into();
                response = self.access_key_response(&key, user);
            }
            Special::CreateKeyRoot => {
                spec.who = Who::Root;
                spec.name = "CreateAccessKey";
                let key = key_id("AKIA", 7_000_000 + index);
                params = "null".into();
                response = format!(
                    r#"{{"accessKey":{{"accessKeyId":"{key}","status":"Active","createDate":"Nov 3, 2026, 9:12:44 AM"}}}}"#
                );
                self.expect("EVT008");
            }
            Special::UpdateKey {
                admin,
                user,
                active,
            } => {
                spec.who = Who::User(admin);
                spec.name = "UpdateAccessKey";
                params = format!(
                    r#"{{"userName":"{}","accessKeyId":"{}","status":"{}"}}"#,
                    self.users[user].name,
                    self.users[user].key,
                    if active { "Active" } else { "Inactive" }
                );
                response = "null".into();
                self.expect("EVT003");
                if active {
                    self.expect("EVT002");
                }
            }
            Special::DeleteKey { admin, user } => {
                spec.who = Who::User(admin);
                spec.name = "DeleteAccessKey";
                params = format!(
                    r#"{{"userName":"{}","accessKeyId":"{}"}}"#,
                    self.users[user].name, self.users[user].key
                );
                response = "null".into();
            }
            Special::LoginProfile {
                admin,
                target,
                create,
            } => {
                spec.who = Who::User(admin);
                spec.name = if create {
                    "CreateLoginProfile"
                } else {
                    "UpdateLoginProfile"
                };
                params = format!(
                    r#"{{"userName":"{}","passwordResetRequired":true}}"#,
                    self.users[target].name
                );
                response = if create {
                    format!(
                        r#"{{"loginProfile":{{"userName":"{}","createDate":"Nov 4, 2026, 2:01:10 PM","passwordResetRequired":true}}}}"#,
                        self.users[target].name
                    )
                } else {
                    "null".into()
                };
                self.expect("EVT004");
            }
            Special::ConsoleLogin { user, mfa, ok } => {
                spec.who = Who::Console(user);
                spec.source = "signin.amazonaws.com";
                spec.name = "ConsoleLogin";
                spec.event_type = "AwsConsoleSignIn";
                params = "null".into();
                response = format!(
                    r#"{{"ConsoleLogin":"{}"}}"#,
                    if ok { "Success" } else { "Failure" }
                );
                if !ok {
                    spec.error = Some(("Failed authentication", "Failed authentication"));
                }
                additional = format!(
                    r#"{{"LoginTo":"https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true","MobileVersion":"No","MFAUsed":"{}"}}"#,
                    if mfa { "Yes" } else { "No" }
                );
                spec.additional = Some(&additional);
                if ok && !mfa {
                    self.expect("EVT007");
                }
            }
            Special::Mint(j) => {
                let (time, text) = self.time_of(index);
                let text = text.to_owned();
                self.sessions[j].created = time;
                self.sessions[j].created_text = text;
                if j < self.pool {
                    self.minted = self.minted.max(j + 1);
                }
                let s = &self.sessions[j];
                spec.source = "sts.amazonaws.com";
                spec.read_only = true;
                spec.region = "us-east-1";
                let expiry = "Nov 5, 2026, 3:45:22 PM";
                let token = "IQoJb3JpZ2luX2VjEIz//////////wEaCXVzLWVhc3QtMSJHMEUCIAIdMlsYBfJVLlnMTTUWOX4q3BfLOExnAgLuv5b76q5RAiEA3rFHZ/bap4mdvcTC7M6IzJfWZCdc4Llq3T4CoB3kjXMqqwIIdRABGgw3NTEzNTMwNDEzMTAiDHSUIyjlokGN2fzZcSqIArg4qYntF5grAv0etPkJsxlQnWjCUv5vMvslbaJ/9UP6X8zGTXz/dMdMJ17JdXdn/uGPrJcOXQ6igyD8Wkir0sEb8+SDAm9G7t5xDwSJS5qVz2PTP9tVmUahaBQR5jafJxPh2n8dOSpRAdR8D6iqcfDfAx1afwF8tdjkwcvZvH/rOo7HOGa0xK7U72SryDHkTo5Sz0I3NpGgbC/XZ/q/zFDSfRj11nR/w5ifdLleh";
                if s.user_session {
                    spec.name = "GetSessionToken";
                    spec.who = Who::User(s.parent.expect("user sessions have a parent"));
                    params = r#"{"durationSeconds":43200}"#.into();
                    response = format!(
                        r#"{{"credentials":{{"accessKeyId":"{}","sessionToken":"{token}","expiration":"{expiry}"}}}}"#,
                        s.key
                    );
                    self.expect("EVT005");
                } else {
                    spec.name = "AssumeRole";
                    spec.who = match s.parent {
                        Some(u) => Who::User(u),
                        None => Who::Service(if s.role.starts_with("lambda") {
                            "lambda.amazonaws.com"
                        } else {
                            "ec2.amazonaws.com"
                        }),
                    };
                    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/{}", s.role);
                    params = format!(
                        r#"{{"roleArn":"{role_arn}","roleSessionName":"{}","durationSeconds":3600}}"#,
                        s.name
                    );
                    let role_id = principal_id("AROA", s.role.len() as u64);
                    response = format!(
                        r#"{{"credentials":{{"accessKeyId":"{}","sessionToken":"{token}","expiration":"{expiry}"}},"assumedRoleUser":{{"assumedRoleId":"{role_id}:{}","arn":"arn:aws:sts::{ACCOUNT}:assumed-role/{}/{}"}}}}"#,
                        s.key, s.name, s.role, s.name
                    );
                    let resources = format!(
                        r#"[{{"accountId":"{ACCOUNT}","type":"AWS::IAM::Role","ARN":"{role_arn}"}}]"#
                    );
                    additional = resources;
                    spec.resources = Some(&additional);
                }
            }
            Special::UseSession(j) => {
                self.expect("EVT006");
                let bucket = BUCKETS[0];
                params = format!(
                    r#"{{"bucketName":"{bucket}","Host":"{bucket}.s3.us-east-1.amazonaws.com","key":"exports/customers.csv"}}"#
                );
                spec.who = Who::Session(j);
                spec.source = "s3.amazonaws.com";
                spec.name = "GetObject";
                spec.read_only = true;
                spec.category = "Data";
                self.count("GetObject");
                spec.params = &params;
                self.write(out, &spec);
                return "us-east-1";
            }
            Special::StopLogging { admin }
            | Special::StartLogging { admin }
            | Special::ReadOnlySelectors { admin }
            | Special::UpdateTrailHarmless { admin } => {
                spec.who = Who::User(admin);
                spec.source = "cloudtrail.amazonaws.com";
                let trail = format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/org-trail");
                response = "null".into();
                match special {
                    Special::StopLogging { .. } => {
                        spec.name = "StopLogging";
                        params = format!(r#"{{"name":"{trail}"}}"#);
                        self.expect("EVT009");
                    }
                    Special::StartLogging { .. } => {
                        spec.name = "StartLogging";
                        params = format!(r#"{{"name":"{trail}"}}"#);
                    }
                    Special::ReadOnlySelectors { .. } => {
                        spec.name = "PutEventSelectors";
                        params = format!(
                            r#"{{"trailName":"{trail}","eventSelectors":[{{"readWriteType":"ReadOnly","includeManagementEvents":true,"dataResources":[],"excludeManagementEventSources":[]}}]}}"#
                        );
                        self.expect("EVT009");
                    }
                    _ => {
                        spec.name = "UpdateTrail";
                        params = format!(
                            r#"{{"name":"{trail}","s3BucketName":"org-cloudtrail-logs-{ACCOUNT}","isMultiRegionTrail":true,"includeGlobalServiceEvents":true}}"#
                        );
                    }
                }
            }
        }
        spec.params = &params;
        spec.response = &response;
        let name = spec.name;
        self.count(match name {
            "CreateAccessKey" => "CreateAccessKey",
            "UpdateAccessKey" => "UpdateAccessKey",
            "DeleteAccessKey" => "DeleteAccessKey",
            "CreateLoginProfile" => "CreateLoginProfile",
            "UpdateLoginProfile" => "UpdateLoginProfile",
            "ConsoleLogin" => "ConsoleLogin",
            "GetSessionToken" => "GetSessionToken",
            "AssumeRole" => "AssumeRole",
            "StopLogging" => "StopLogging",
            "StartLogging" => "StartLogging",
            "PutEventSelectors" => "PutEventSelectors",
            _ => "UpdateTrail",
        });
        self.write(out, &spec);
        "us-east-1"
    }

    fn access_key_response(&self, key: &str, user: usize) -> String {
        format!(
            r#"{{"accessKey":{{"accessKeyId":"{key}","status":"Active","userName":"{}","createDate":"Nov 2, 2026, 10:41:07 AM"}}}}"#,
            self.users[user].name
        )
    }

    fn write(&mut self, out: &mut String, e: &EventSpec<'_>) {
        let mut request_id = String::with_capacity(36);
        let mut event_id = String::with_capacity(36);
        self.rng.uuid(&mut request_id);
        self.rng.uuid(&mut event_id);
        let (_, time) = self.time_of(e.index);
        let time = time.to_owned();
        out.push_str(r#"{"eventVersion":"1.09","userIdentity":"#);
        let (ip, agent) = self.identity(e.who, out);
        let _ = write!(
            out,
            r#","eventTime":"{time}","eventSource":"{}","eventName":"{}","awsRegion":"{}","sourceIPAddress":"{ip}","userAgent":"{agent}""#,
            e.source, e.name, e.region
        );
        if let Some((code, message)) = e.error {
            let _ = write!(out, r#","errorCode":"{code}","errorMessage":"{message}""#);
        }
        let _ = write!(
            out,
            r#","requestParameters":{},"responseElements":{}"#,
            e.params,
            if e.error.is_some() {
                "null"
            } else {
                e.response
            }
        );
        if let Some(additional) = e.additional {
            let _ = write!(out, r#","additionalEventData":{additional}"#);
        }
        let _ = write!(
            out,
            r#","requestID":"{request_id}","eventID":"{event_id}","readOnly":{}"#,
            e.read_only
        );
        if let Some(resources) = e.resources {
            let _ = write!(out, r#","resources":{resources}"#);
        }
        let _ = write!(
            out,
            r#","eventType":"{}","managementEvent":{},"recipientAccountId":"{ACCOUNT}","eventCategory":"{}""#,
            e.event_type,
            e.category == "Management",
            e.category
        );
        if !matches!(e.who, Who::Service(_)) {
            let host = if e.source == "signin.amazonaws.com" {
                "signin.aws.amazon.com".to_owned()
            } else if e.source == "s3.amazonaws.com" {
                format!("s3.{}.amazonaws.com", e.region)
            } else {
                e.source
                    .replace(".amazonaws.com", &format!(".{}.amazonaws.com", e.region))
            };
            let _ = write!(
                out,
                r#","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"{host}"}}"#
            );
        }
        out.push('}');
    }

    /// Writes `userIdentity`; returns the caller's source IP and user agent.
    fn identity(&mut self, who: Who, out: &mut String) -> (String, &'static str) {
        match who {
            Who::User(u) => {
                let user = &self.users[u];
                let _ = write!(
                    out,
                    r#"{{"type":"IAMUser","principalId":"{}","arn":"arn:aws:iam::{ACCOUNT}:user/{}","accountId":"{ACCOUNT}","accessKeyId":"{}","userName":"{}"}}"#,
                    user.principal, user.name, user.key, user.name
                );
                (user.ip.clone(), user.agent)
            }
            Who::Console(u) => {
                let user = &self.users[u];
                let _ = write!(
                    out,
                    r#"{{"type":"IAMUser","principalId":"{}","arn":"arn:aws:iam::{ACCOUNT}:user/{}","accountId":"{ACCOUNT}","userName":"{}"}}"#,
                    user.principal, user.name, user.name
                );
                (user.ip.clone(), CONSOLE_UA)
            }
            Who::Root => {
                let _ = write!(
                    out,
                    r#"{{"type":"Root","principalId":"{ACCOUNT}","arn":"arn:aws:iam::{ACCOUNT}:root","accountId":"{ACCOUNT}","accessKeyId":"ASIAROOTCONSOLE2EXAMPLE","sessionContext":{{"attributes":{{"creationDate":"2026-11-03T09:02:11Z","mfaAuthenticated":"true"}}}}}}"#
                );
                ("198.51.100.23".into(), CONSOLE_UA)
            }
            Who::Service(service) => {
                let _ = write!(out, r#"{{"type":"AWSService","invokedBy":"{service}"}}"#);
                (service.to_owned(), service)
            }
            Who::Session(j) => {
                let s = &self.sessions[j];
                let created = &s.created_text;
                if s.user_session {
                    let user = &self.users[s.parent.expect("user sessions have a parent")];
                    let _ = write!(
                        out,
                        r#"{{"type":"IAMUser","principalId":"{}","arn":"arn:aws:iam::{ACCOUNT}:user/{}","accountId":"{ACCOUNT}","accessKeyId":"{}","userName":"{}","sessionContext":{{"attributes":{{"creationDate":"{created}","mfaAuthenticated":"false"}}}}}}"#,
                        user.principal, user.name, s.key, user.name
                    );
                    return (user.ip.clone(), user.agent);
                }
                let role_id = principal_id("AROA", s.role.len() as u64);
                let extra = if s.parent.is_none() && s.name.starts_with("i-") {
                    r#","ec2RoleDelivery":"2.0""#
                } else {
                    ""
                };
                let _ = write!(
                    out,
                    r#"{{"type":"AssumedRole","principalId":"{role_id}:{}","arn":"arn:aws:sts::{ACCOUNT}:assumed-role/{}/{}","accountId":"{ACCOUNT}","accessKeyId":"{}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"{role_id}","arn":"arn:aws:iam::{ACCOUNT}:role/{}","accountId":"{ACCOUNT}","userName":"{}"}},"attributes":{{"creationDate":"{created}","mfaAuthenticated":"false"}}{extra}}}}}"#,
                    s.name, s.role, s.name, s.key, s.role, s.role
                );
                let ip = match s.parent {
                    Some(u) => self.users[u].ip.clone(),
                    None => format!(
                        "10.{}.{}.{}",
                        s.key.len(),
                        s.created % 250,
                        1 + s.created % 200
                    ),
                };
                let agent = match s.parent {
                    Some(u) => self.users[u].agent,
                    None => USER_AGENTS[1],
                };
                (ip, agent)
            }
        }
    }
}

struct EventSpec<'a> {
    index: u64,
    who: Who,
    source: &'static str,
    name: &'static str,
    region: &'static str,
    params: &'a str,
    response: &'a str,
    resources: Option<&'a str>,
    additional: Option<&'a str>,
    error: Option<(&'static str, &'static str)>,
    read_only: bool,
    category: &'static str,
    event_type: &'static str,
}

struct Options {
    size: u64,
    events: Option<u64>,
    out: PathBuf,
    file_size: u64,
    lines: bool,
    seed: u64,
    keys: usize,
    sessions: usize,
    stats: bool,
}

fn parse_size(s: &str) -> Result<u64, String> {
    let (digits, mult) = match s.chars().last() {
        Some('K' | 'k') => (&s[..s.len() - 1], 1u64 << 10),
        Some('M' | 'm') => (&s[..s.len() - 1], 1 << 20),
        Some('G' | 'g') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    digits
        .parse::<f64>()
        .map(|n| (n * mult as f64) as u64)
        .map_err(|_| format!("`{s}` is not a size (N, NK, NM, NG)"))
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        size: 100 << 20,
        events: None,
        out: PathBuf::from("bench-data/trail/events"),
        file_size: 4 << 20,
        lines: false,
        seed: 42,
        keys: 2000,
        sessions: 3000,
        stats: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--size" => o.size = parse_size(&value()?)?,
            "--events" => o.events = Some(value()?.parse().map_err(|e| format!("--events: {e}"))?),
            "--out" => o.out = PathBuf::from(value()?),
            "--file-size" => o.file_size = parse_size(&value()?)?,
            "--lines" => o.lines = true,
            "--seed" => o.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--keys" => o.keys = value()?.parse().map_err(|e| format!("--keys: {e}"))?,
            "--sessions" => {
                o.sessions = value()?.parse().map_err(|e| format!("--sessions: {e}"))?
            }
            "--stats" => o.stats = true,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(o)
}

/// Log files being filled, one per region, as CloudTrail writes them.
struct Files {
    root: PathBuf,
    file_size: u64,
    open: BTreeMap<&'static str, (i64, String, u64)>,
    written_files: u64,
    written_bytes: u64,
    rng: Rng,
}

impl Files {
    fn push(&mut self, region: &'static str, time: i64, event: &str) -> std::io::Result<()> {
        let entry = self
            .open
            .entry(region)
            .or_insert_with(|| (time, String::with_capacity(5 << 20), 0));
        if entry.1.is_empty() {
            entry.0 = time;
            entry.1.push_str(r#"{"Records":["#);
        } else {
            entry.1.push(',');
        }
        entry.1.push_str(event);
        entry.2 += 1;
        if self.file_size > 0 && entry.1.len() as u64 >= self.file_size {
            self.flush(region)?;
        }
        Ok(())
    }

    fn flush(&mut self, region: &'static str) -> std::io::Result<()> {
        let Some(entry) = self.open.get_mut(region) else {
            return Ok(());
        };
        if entry.1.is_empty() {
            return Ok(());
        }
        entry.1.push_str("]}");
        let t = chrono::DateTime::from_timestamp(entry.0, 0).expect("in range");
        let dir = self.root.join(format!(
            "AWSLogs/{ACCOUNT}/CloudTrail/{region}/{}",
            t.format("%Y/%m/%d")
        ));
        std::fs::create_dir_all(&dir)?;
        const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let suffix: String = (0..16)
            .map(|_| ALNUM[self.rng.below(ALNUM.len() as u64) as usize] as char)
            .collect();
        let name = format!(
            "{ACCOUNT}_CloudTrail_{region}_{}_{suffix}.json",
            t.format("%Y%m%dT%H%MZ")
        );
        std::fs::write(dir.join(name), entry.1.as_bytes())?;
        self.written_files += 1;
        self.written_bytes += entry.1.len() as u64;
        entry.1.clear();
        entry.2 = 0;
        Ok(())
    }
}

fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("gen_events: {e}");
    std::process::exit(1);
}

/// Average bytes per event, from a first pass over 20,000 events that writes nothing.
fn calibrate(o: &Options) -> f64 {
    let sample = 20_000;
    let mut g = Gen::new(o.seed, o.keys, o.sessions, 10_000_000);
    let mut out = String::new();
    let mut total = 0usize;
    for i in 0..sample {
        out.clear();
        g.event(i, &mut out);
        total += out.len() + 1;
    }
    total as f64 / sample as f64
}

fn main() {
    let o = parse_args().unwrap_or_else(|e| {
        eprintln!("gen_events: {e}");
        std::process::exit(2)
    });
    let events = o
        .events
        .unwrap_or_else(|| (o.size as f64 / calibrate(&o)).ceil() as u64);
    let mut g = Gen::new(o.seed, o.keys, o.sessions, events);
    std::fs::create_dir_all(&o.out).unwrap_or_else(|e| fail(format!("{}: {e}", o.out.display())));
    let mut event = String::with_capacity(4096);
    let mut files = Files {
        root: o.out.clone(),
        file_size: o.file_size,
        open: BTreeMap::new(),
        written_files: 0,
        written_bytes: 0,
        rng: Rng(o.seed ^ 0xf11e),
    };
    let mut lines = if o.lines {
        let path = o.out.join("events.jsonl");
        let file = std::fs::File::create(&path)
            .unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
        Some(std::io::BufWriter::with_capacity(1 << 20, file))
    } else {
        None
    };
    for i in 0..events {
        event.clear();
        let region = g.event(i, &mut event);
        let time = g.time_of(i).0;
        let result = match &mut lines {
            Some(w) => {
                files.written_bytes += event.len() as u64 + 1;
                w.write_all(event.as_bytes())
                    .and_then(|()| w.write_all(b"\n"))
            }
            None => files.push(region, time, &event),
        };
        result.unwrap_or_else(|e| fail(format!("{}: {e}", o.out.display())));
    }
    let flushed = match &mut lines {
        Some(w) => {
            files.written_files = 1;
            w.flush()
        }
        None => {
            let regions: Vec<_> = files.open.keys().copied().collect();
            regions.into_iter().try_for_each(|r| files.flush(r))
        }
    };
    flushed.unwrap_or_else(|e| fail(format!("{}: {e}", o.out.display())));
    println!(
        "{} events, {} files, {} bytes in {}",
        events,
        files.written_files,
        files.written_bytes,
        o.out.display()
    );
    if o.stats {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "keys {} (+{} created), sessions {}",
            g.users.len(),
            101,
            g.sessions.len()
        );
        for (name, n) in &g.counts {
            let _ = writeln!(err, "  {name:<28} {n}");
        }
        let total: u64 = g.expected.values().sum();
        let _ = writeln!(err, "findings built in: {total}");
        for (code, n) in &g.expected {
            let _ = writeln!(err, "  {code} {n}");
        }
    }
}
