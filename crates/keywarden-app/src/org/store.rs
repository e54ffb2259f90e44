//! An organization run's state: one file per account in `<state>/org-runs/<run id>/`, written
//! atomically and privately (0600 in a 0700 folder, [`crate::files`]) as each account finishes.
//! It holds the account's summary, when it finished, and its findings; the run keeps only the
//! summaries in memory, and the merged output reads the files back one account at a time
//! ([`OrgReport`]). `--resume RUN_ID` reads the summaries back to skip the accounts already
//! finished.
//!
//! The files are keywarden's own (a private folder); they are still read as untrusted: a rule
//! code, a status or a credential the build does not know is an error naming the file, never a
//! panic. Evidence keys are interned: each distinct key is allocated once for the process.

use crate::files::{create_private_dir_all, write_atomically};
use keywarden_core::finding::{
    CredentialKind, EvidenceValue, ExemptionNote, Finding, OrgAccountLabel, Status,
};
use keywarden_core::rules::{RuleMeta, ALL_RULES};
use keywarden_core::Timestamp;
use keywarden_output::{AccountSummary, OrgFindings};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// The `format` of an account file.
const FORMAT: &str = "keywarden-org-account";
const VERSION: u32 = 1;

/// Whether `run_id` can name a run folder: 1 to 64 ASCII letters, digits, `-` and `_` (what
/// [`new_run_id`] makes; `--resume` refuses anything else, so it cannot leave the state folder).
pub fn valid_run_id(run_id: &str) -> bool {
    (1..=64).contains(&run_id.len())
        && run_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A new run id: the start time to the second and 4 hex digits of a per-process random value
/// (`20261207T110405Z-9f3a`): sortable, and unlikely to repeat within a second.
pub fn new_run_id(now: Timestamp) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(now.timestamp_nanos_opt().unwrap_or_default() as u128);
    hasher.write_u32(std::process::id());
    format!(
        "{}-{:04x}",
        now.format("%Y%m%dT%H%M%SZ"),
        hasher.finish() & 0xffff
    )
}

/// The folder of one organization run.
#[derive(Debug, Clone)]
pub struct RunStore {
    dir: PathBuf,
    run_id: String,
}

/// What one account file holds.
#[derive(Serialize, Deserialize)]
struct AccountFile {
    format: String,
    version: u32,
    /// When the account's audit (or its failure) was recorded.
    finished_at: Timestamp,
    summary: AccountSummary,
    findings: Vec<StoredFinding>,
}

#[derive(Serialize, Deserialize)]
struct StoredFinding {
    rule: String,
    status: String,
    account: Option<String>,
    user: Option<String>,
    credential: String,
    access_key_id: Option<String>,
    message: String,
    evidence: Vec<(String, StoredValue)>,
    exemption: Option<StoredNote>,
    ignored_exemption: Option<StoredNote>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
enum StoredValue {
    Text(String),
    Time(Timestamp),
    Integer(i64),
    Bool(bool),
    Null,
}

#[derive(Serialize, Deserialize)]
struct StoredNote {
    reason: String,
    source: String,
    expires: Option<Timestamp>,
}

impl RunStore {
    /// The folder of a new run, created (0700).
    pub fn create(state_dir: &Path, run_id: &str) -> io::Result<Self> {
        let store = RunStore::at(state_dir, run_id)?;
        if store.dir.exists() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("the run folder `{}` already exists", store.dir.display()),
            ));
        }
        create_private_dir_all(&store.dir)?;
        Ok(store)
    }

    /// The folder of an earlier run, to resume it.
    pub fn open(state_dir: &Path, run_id: &str) -> io::Result<Self> {
        let store = RunStore::at(state_dir, run_id)?;
        if !store.dir.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "no organization run `{run_id}`: `{}` does not exist",
                    store.dir.display()
                ),
            ));
        }
        Ok(store)
    }

    fn at(state_dir: &Path, run_id: &str) -> io::Result<Self> {
        if !valid_run_id(run_id) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "`{}` is not a run id (letters, digits, `-` and `_`, at most 64)",
                    run_id.escape_default()
                ),
            ));
        }
        Ok(RunStore {
            dir: state_dir.join("org-runs").join(run_id),
            run_id: run_id.to_owned(),
        })
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<account id>.json` for a 12-digit id; any other id (AWS only makes 12 digits, but the
    /// answer is not trusted) as `x-<hex>.json`, so it cannot leave the folder.
    fn path(&self, account_id: &str) -> PathBuf {
        let name = if account_id.len() == 12 && account_id.bytes().all(|b| b.is_ascii_digit()) {
            account_id.to_owned()
        } else {
            let hex: String = account_id.bytes().map(|b| format!("{b:02x}")).collect();
            format!("x-{hex}")
        };
        self.dir.join(format!("{name}.json"))
    }

    /// Records one account: its summary and findings, atomically.
    pub fn write(
        &self,
        summary: &AccountSummary,
        findings: &[Finding],
        finished_at: Timestamp,
    ) -> io::Result<()> {
        let file = AccountFile {
            format: FORMAT.to_owned(),
            version: VERSION,
            finished_at,
            summary: summary.clone(),
            findings: findings.iter().map(StoredFinding::of).collect(),
        };
        let bytes = serde_json::to_vec(&file)?;
        write_atomically(&self.path(&summary.id), &bytes)
    }

    fn read_file(&self, account_id: &str) -> io::Result<Option<(AccountFile, PathBuf)>> {
        let path = self.path(account_id);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let file: AccountFile = serde_json::from_slice(&bytes).map_err(|e| bad(&path, e))?;
        if file.format != FORMAT || file.version != VERSION {
            return Err(bad(
                &path,
                format!(
                    "format `{}` version {} is not this build's {FORMAT} {VERSION}",
                    file.format.escape_default(),
                    file.version
                ),
            ));
        }
        Ok(Some((file, path)))
    }

    /// The summary an earlier attempt recorded for the account, if any.
    pub fn summary(&self, account_id: &str) -> io::Result<Option<AccountSummary>> {
        Ok(self.read_file(account_id)?.map(|(file, _)| file.summary))
    }

    /// The account's findings, each labelled with the account's name and OU path.
    pub fn findings(&self, account_id: &str) -> io::Result<(AccountSummary, Vec<Finding>)> {
        let (file, path) = self.read_file(account_id)?.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "the account file `{}` is missing",
                    self.path(account_id).display()
                ),
            )
        })?;
        let label = Arc::new(OrgAccountLabel {
            name: file.summary.name.clone(),
            ou_path: file.summary.ou_path.clone(),
        });
        let findings = file
            .findings
            .into_iter()
            .map(|stored| {
                let mut finding = stored.into_finding().map_err(|e| bad(&path, e))?;
                finding.org_account = Some(Arc::clone(&label));
                Ok(finding)
            })
            .collect::<io::Result<Vec<_>>>()?;
        Ok((file.summary, findings))
    }
}

fn bad(path: &Path, error: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "the account file `{}` cannot be read: {error}",
            path.display()
        ),
    )
}

impl StoredFinding {
    fn of(f: &Finding) -> Self {
        let note = |n: &ExemptionNote| StoredNote {
            reason: n.reason.clone(),
            source: n.source.clone(),
            expires: n.expires,
        };
        StoredFinding {
            rule: f.rule.code.to_owned(),
            status: f.status.as_str().to_owned(),
            account: f.account.clone(),
            user: f.user.clone(),
            credential: f.credential.as_str().to_owned(),
            access_key_id: f.access_key_id.clone(),
            message: f.message.clone(),
            evidence: f
                .evidence
                .iter()
                .map(|(k, v)| {
                    let value = match v {
                        EvidenceValue::Text(t) => StoredValue::Text(t.clone()),
                        EvidenceValue::Time(t) => StoredValue::Time(*t),
                        EvidenceValue::Integer(i) => StoredValue::Integer(*i),
                        EvidenceValue::Bool(b) => StoredValue::Bool(*b),
                        EvidenceValue::Null => StoredValue::Null,
                    };
                    ((*k).to_owned(), value)
                })
                .collect(),
            exemption: f.exemption.as_ref().map(note),
            ignored_exemption: f.ignored_exemption.as_ref().map(note),
        }
    }

    fn into_finding(self) -> Result<Finding, String> {
        let rule = rule_by_code(&self.rule)
            .ok_or_else(|| format!("unknown rule `{}`", self.rule.escape_default()))?;
        let status = Status::parse(&self.status)
            .ok_or_else(|| format!("unknown status `{}`", self.status.escape_default()))?;
        let credential = CredentialKind::parse(&self.credential)
            .ok_or_else(|| format!("unknown credential `{}`", self.credential.escape_default()))?;
        let note = |n: StoredNote| ExemptionNote {
            reason: n.reason,
            source: n.source,
            expires: n.expires,
        };
        let mut finding = Finding::for_account(rule, status, self.account.as_deref(), self.message);
        finding.user = self.user;
        finding.credential = credential;
        finding.access_key_id = self.access_key_id;
        finding.exemption = self.exemption.map(note);
        finding.ignored_exemption = self.ignored_exemption.map(note);
        finding.evidence = self
            .evidence
            .into_iter()
            .map(|(k, v)| {
                let value = match v {
                    StoredValue::Text(t) => EvidenceValue::Text(t),
                    StoredValue::Time(t) => EvidenceValue::Time(t),
                    StoredValue::Integer(i) => EvidenceValue::Integer(i),
                    StoredValue::Bool(b) => EvidenceValue::Bool(b),
                    StoredValue::Null => EvidenceValue::Null,
                };
                (intern(&k), value)
            })
            .collect();
        Ok(finding)
    }
}

/// A catalogue rule, or the organization's own rule, by code.
fn rule_by_code(code: &str) -> Option<&'static RuleMeta> {
    ALL_RULES
        .iter()
        .map(|r| r.meta())
        .chain([&super::ACCOUNT_NOT_AUDITED])
        .find(|r| r.code == code)
}

/// Evidence keys are `&'static str`: each distinct key read back is allocated once.
fn intern(key: &str) -> &'static str {
    static KEYS: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut keys = KEYS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(known) = keys.get(key) {
        return known;
    }
    let leaked: &'static str = Box::leak(key.to_owned().into_boxed_str());
    keys.insert(leaked);
    leaked
}

/// An organization run's output: the accounts' summaries in memory, their findings read back
/// from the run's folder one account at a time.
#[derive(Debug)]
pub struct OrgReport {
    pub store: RunStore,
    pub accounts: Vec<AccountSummary>,
}

impl OrgFindings for OrgReport {
    fn accounts(&self) -> &[AccountSummary] {
        &self.accounts
    }

    fn for_each_account(
        &self,
        each: &mut dyn FnMut(&AccountSummary, &[Finding]) -> io::Result<()>,
    ) -> io::Result<()> {
        for account in &self.accounts {
            let (_, findings) = self.store.findings(&account.id)?;
            each(account, &findings)?;
        }
        Ok(())
    }

    fn extra_rules(&self) -> Vec<&'static RuleMeta> {
        vec![&super::ACCOUNT_NOT_AUDITED]
    }
}
