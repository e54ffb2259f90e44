use super::*;
use crate::DataSource;
use keywarden_core::cloudtrail::lineage::{Use, UseSpan};
use keywarden_core::finding::ExemptionNote;
use keywarden_core::rules::{catalogue, Scope};
use keywarden_core::time::parse_timestamp;

fn at(text: &str) -> Timestamp {
    parse_timestamp(text).unwrap()
}

/// A catalogue rule whose fix acts on a key.
fn key_rule() -> &'static RuleMeta {
    catalogue().find(|r| r.fix.acts_on_key()).unwrap()
}

/// A catalogue rule about the account as a whole.
fn account_rule() -> &'static RuleMeta {
    catalogue().find(|r| r.scope == Scope::Account).unwrap()
}

const HOSTILE: [&str; 6] = [
    "</script><script>alert(1)</script>",
    "<!--",
    "<img src=x onerror=alert(1)>",
    "line\u{2028}separator\u{2029}",
    "\u{202E}gnp.exe",
    "a & b > c",
];

fn hostile_findings() -> Vec<Finding> {
    let key001 = key_rule();
    let pwd003 = account_rule();
    let mut findings: Vec<Finding> = HOSTILE
        .iter()
        .map(|text| {
            let mut f = Finding::for_account(key001, Status::Fail, Some(text), *text);
            f.user = Some((*text).to_owned());
            f.credential = CredentialKind::AccessKey(keywarden_core::model::KeySlot::One);
            f.access_key_id = Some((*text).to_owned());
            f.with("created", at("2025-01-01T00:00:00Z"))
                .with("note", *text)
                .with("days_unused", 400_i64)
                .with("max_unused_days", 90_i64)
        })
        .collect();
    let mut exempted = Finding::for_account(pwd003, Status::Exempted, None, "weak policy");
    exempted.exemption = Some(ExemptionNote {
        reason: "</script>".into(),
        source: "config:exemptions[0]".into(),
        expires: None,
    });
    findings.push(exempted);
    findings
}

fn render(findings: &[Finding], lineage: Option<&Lineage>) -> String {
    let rules: Vec<&'static RuleMeta> = keywarden_core::rules::catalogue().collect();
    let report = FindingsReport {
        findings,
        rules_run: &rules,
        now: at("2026-11-20T12:00:00Z"),
        subject: Subject::Credentials {
            users_evaluated: 7,
            root_row_seen: true,
        },
        source: DataSource {
            kind: "credential-report-file",
            location: "</script>.csv".into(),
            as_of: Some(at("2026-11-20T11:00:00Z")),
            as_of_basis: "--report-time".into(),
        },
        preset: "default",
        tool_version: "0.0.0-test",
        org: None,
    };
    let printer = lineage.map_or_else(HtmlPrinter::default, HtmlPrinter::with_lineage);
    let mut out = Vec::new();
    printer.print_findings(&report, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The text of the embedded data block.
fn data_block(html: &str) -> &str {
    let open = "<script type=\"application/json\" id=\"kw-data\">";
    let start = html.find(open).expect("data block") + open.len();
    let len = html[start..].find("</script>").expect("data block end");
    &html[start..start + len]
}

/// Every reference the page makes outside itself: a `src`, `href`, `action`, `srcset` or
/// `xlink:href` attribute, a CSS `url(` or `@import`, or an http(s) URL anywhere but the SVG
/// namespace name the script passes to createElementNS.
fn external_references(html: &str) -> Vec<String> {
    let lower = html
        .to_ascii_lowercase()
        .replace("\"http://www.w3.org/2000/svg\"", "");
    let mut found = Vec::new();
    for needle in [
        " src=",
        " href=",
        "xlink:href",
        " action=",
        "srcset",
        "url(",
        "@import",
        "http://",
        "https://",
        "ftp://",
        "//cdn",
    ] {
        if let Some(pos) = lower.find(needle) {
            found.push(lower[pos..(pos + 40).min(lower.len())].to_owned());
        }
    }
    found
}

#[test]
fn hostile_fields_cannot_close_the_data_block() {
    let html = render(&hostile_findings(), None);
    let data = data_block(&html);
    // Nothing in the block can end it or open a comment, and no raw line separator is left.
    assert!(!data.contains('<'), "{data}");
    assert!(!data.contains('>'));
    assert!(!data.contains('&'));
    assert!(
        !data.chars().any(crate::escape::is_unsafe_on_terminal),
        "{data}"
    );
    // The page has exactly two scripts: the data and the page's own.
    assert_eq!(html.matches("<script").count(), 2);
    assert_eq!(html.matches("</script>").count(), 2);
    // The values come back exactly.
    let value: serde_json::Value = serde_json::from_str(data).unwrap();
    let rows = value["rows"].as_array().unwrap();
    for (row, text) in rows.iter().zip(HOSTILE) {
        assert_eq!(row[3], *text, "user");
        assert_eq!(row[5], *text, "key id");
        assert_eq!(
            value["messages"][row[6].as_u64().unwrap() as usize],
            *text,
            "message"
        );
        let account = row[2].as_u64().unwrap() as usize;
        assert_eq!(value["accounts"][account], *text);
    }
    assert_eq!(value["meta"]["source"]["location"], "</script>.csv");
    assert_eq!(rows[HOSTILE.len()][10][0], "</script>");
}

#[test]
fn script_json_escapes_only_what_a_script_element_reads() {
    let json = serde_json::to_string(&[
        "</script>",
        "<!-- x -->",
        "a\u{2028}b\u{2029}c",
        "\u{202E}rlo \u{200B}zwsp \u{7f}del",
        "é ü 日本 \\ \"",
    ])
    .unwrap();
    let text = script_json(&json);
    assert_eq!(
        text,
        r#"["\u003c/script\u003e","\u003c!-- x --\u003e","a\u2028b\u2029c","\u202erlo \u200bzwsp \u007fdel","é ü 日本 \\ \""]"#
    );
    let back: Vec<String> = serde_json::from_str(&text).unwrap();
    assert_eq!(back[2], "a\u{2028}b\u{2029}c");
    assert_eq!(back[3], "\u{202E}rlo \u{200B}zwsp \u{7f}del");
    // Text without them is unchanged.
    assert_eq!(script_json(r#"{"a":[1,"b"]}"#), r#"{"a":[1,"b"]}"#);
}

#[test]
fn the_policy_allows_only_the_pages_own_style_and_script() {
    let html = render(&hostile_findings(), None);
    let head = &html[..html.find("</head>").unwrap()];
    // The policy comes before any style or script, so it covers them.
    let csp = head.find("http-equiv=\"Content-Security-Policy\"").unwrap();
    assert!(csp < head.find("<style>").unwrap());
    let policy = content_security_policy();
    assert!(head.contains(&format!("content=\"{policy}\"")));
    assert!(policy.starts_with("default-src 'none';"));
    assert!(!policy.contains("unsafe"), "{policy}");
    for directive in [
        "connect-src 'none'",
        "img-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ] {
        assert!(policy.contains(directive), "{directive}");
    }
    // The hashes are those of the inline elements as written.
    let style = &html[html.find("<style>").unwrap() + 7..html.find("</style>").unwrap()];
    assert!(policy.contains(&format!("style-src {}", csp_hash(style))));
    let script_start = html.rfind("<script>").unwrap() + 8;
    let script =
        &html[script_start..script_start + html[script_start..].find("</script>").unwrap()];
    assert!(policy.contains(&format!("script-src {}", csp_hash(script))));
    // A different text has another hash.
    assert_ne!(csp_hash(script), csp_hash(&format!("{script} ")));
}

#[test]
fn the_page_references_nothing_outside_itself() {
    let html = render(&hostile_findings(), None);
    // The data block is text a script parses (its inertness is tested above); the hostile values
    // in it, such as ` src=x`, are not attributes.
    let page = html.replace(data_block(&html), "");
    assert_eq!(external_references(&page), Vec::<String>::new());
    assert!(
        !JS.contains("innerHTML")
            && !JS.contains("outerHTML")
            && !JS.contains("insertAdjacentHTML")
    );
    assert!(!JS.contains("fetch(") && !JS.contains("XMLHttpRequest") && !JS.contains("eval("));
    // The scan finds what it looks for.
    for bad in [
        "<img src=\"https://x.example/a.png\">",
        "<link rel=stylesheet href=//cdn.example/x.css>",
        "<style>body{background:url(x.png)}</style>",
        "<script>const u = 'http://example.com';</script>",
    ] {
        assert!(!external_references(bad).is_empty(), "{bad}");
    }
}

#[test]
fn output_is_deterministic_and_counts_and_limits_are_embedded() {
    let findings = hostile_findings();
    let html = render(&findings, None);
    assert_eq!(html, render(&findings, None));
    let value: serde_json::Value = serde_json::from_str(data_block(&html)).unwrap();
    assert_eq!(value["meta"]["summary"]["fail"], 6);
    assert_eq!(value["meta"]["summary"]["exempted"], 1);
    assert_eq!(value["meta"]["summary"]["unknown"], 0);
    assert_eq!(value["meta"]["thresholds"]["max_unused_days"], 90);
    assert_eq!(value["meta"]["source"]["age_seconds"], 3600);
    let row = &value["rows"][0];
    // Age from `created`, days since use from `days_unused`.
    assert_eq!(row[8], 688);
    assert_eq!(row[9], 400);
    // Account-wide finding: no key numbers, no account (-1), trailing nulls left off until the
    // exemption.
    let exempted = &value["rows"][6];
    assert_eq!(exempted[2], -1);
    assert!(exempted[8].is_null() && exempted[9].is_null());
    assert_eq!(exempted.as_array().unwrap().len(), 11);
    // Evidence keys are interned with their kinds.
    let evkeys = value["evkeys"].as_array().unwrap();
    assert!(evkeys.contains(&serde_json::json!(["created", "time"])));
    assert_eq!(value["rows"][0][7][1], serde_json::json!(1_735_689_600));
}

#[test]
fn a_message_is_written_once() {
    let mut findings = hostile_findings();
    findings.extend(hostile_findings());
    let html = render(&findings, None);
    let value: serde_json::Value = serde_json::from_str(data_block(&html)).unwrap();
    assert_eq!(value["messages"].as_array().unwrap().len(), 7);
    assert_eq!(value["rows"][0][6], value["rows"][7][6]);
}

#[test]
fn an_empty_report_is_a_page_that_says_so() {
    let html = render(&[], None);
    let value: serde_json::Value = serde_json::from_str(data_block(&html)).unwrap();
    assert_eq!(value["rows"], serde_json::json!([]));
    assert!(html.contains("<title>keywarden report: 0 finding(s), 2026-11-20T12:00:00Z</title>"));
}

fn change(time: &str, name: &str, status: Option<&str>) -> Change {
    Change {
        time: at(time),
        event_id: format!("ev-{name}-{time}"),
        event_name: name.into(),
        status: status.map(str::to_owned),
        actor: Some("<b>admin</b>".into()),
        source_ip: Some("203.0.113.9".into()),
        user_agent: None,
        region: None,
        account: None,
    }
}

fn use_at(time: &str) -> Use {
    Use {
        time: at(time),
        event_id: format!("use-{time}"),
        event_name: "ListBuckets".into(),
        event_source: "s3.amazonaws.com".into(),
        region: None,
        source_ip: Some("198.51.100.7".into()),
        user_agent: None,
    }
}

fn lineage(status_changes: Vec<Change>) -> Lineage {
    let mut lineage = Lineage::default();
    lineage.keys.insert(
        "AKIAEXAMPLE".into(),
        KeyHistory {
            key_id: "AKIAEXAMPLE".into(),
            owner: Some("alice".into()),
            account: Some("111122223333".into()),
            created: Some(change("2026-01-01T00:00:00Z", "CreateAccessKey", None)),
            status_changes,
            deleted: None,
            minted: Vec::new(),
            used: Some(UseSpan {
                first: use_at("2026-01-02T00:00:00Z"),
                last: use_at("2026-03-01T00:00:00Z"),
                calls: 2,
            }),
        },
    );
    lineage
        .keys
        .insert("AKIANOTNAMED".into(), KeyHistory::default());
    lineage
}

fn trail_finding() -> Finding {
    let evt = key_rule();
    let mut f = Finding::for_account(evt, Status::Fail, Some("111122223333"), "key");
    f.credential = CredentialKind::AccessKeyId;
    f.access_key_id = Some("AKIAEXAMPLE".into());
    f
}

fn timeline_of(html: &str) -> serde_json::Value {
    let value: serde_json::Value = serde_json::from_str(data_block(html)).unwrap();
    value["timelines"].clone()
}

#[test]
fn a_trail_run_gets_the_timeline_of_each_named_key() {
    let revoked = lineage(vec![change(
        "2026-02-01T00:00:00Z",
        "UpdateAccessKey",
        Some("Inactive"),
    )]);
    let timelines = timeline_of(&render(&[trail_finding()], Some(&revoked)));
    // Only the key a finding names.
    assert_eq!(timelines.as_array().unwrap().len(), 1);
    let t = &timelines[0];
    assert_eq!(t[0], "AKIAEXAMPLE");
    assert_eq!(t[1], "alice");
    let labels: Vec<&str> = t[3]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[1].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "created",
            "first use",
            "deactivated",
            "last use",
            "used after revocation"
        ]
    );
    let alert = &t[3][4];
    assert_eq!(alert[3], true);
    assert_eq!(
        t[3][0][2],
        "CreateAccessKey by <b>admin</b> from 203.0.113.9"
    );

    // Reactivated before the last use: not a use after revocation.
    let reactivated = lineage(vec![
        change("2026-02-01T00:00:00Z", "UpdateAccessKey", Some("Inactive")),
        change("2026-02-10T00:00:00Z", "UpdateAccessKey", Some("Active")),
    ]);
    let timelines = timeline_of(&render(&[trail_finding()], Some(&reactivated)));
    let events = timelines[0][3].as_array().unwrap();
    assert!(events.iter().all(|e| e[3] == false), "{events:?}");
    assert!(events.iter().any(|e| e[1] == "activated"));

    // Without a lineage (an audit), no timelines.
    assert_eq!(
        timeline_of(&render(&[trail_finding()], None)),
        serde_json::json!([])
    );
}

proptest::proptest! {
    /// Any value, escaped for the data block, holds nothing a script element or a reader of the
    /// page's source would act on, and parses back to itself.
    #[test]
    fn script_json_is_inert_and_exact(value in "(\\PC|[<>&/!\\-\u{2028}\u{2029}\u{202E}\u{200B}\u{7f}\u{85}])*") {
        let escaped = script_json(&serde_json::to_string(&value).unwrap());
        proptest::prop_assert!(!escaped.contains(['<', '>', '&']));
        proptest::prop_assert!(!escaped.chars().any(crate::escape::is_unsafe_on_terminal));
        let back: String = serde_json::from_str(&escaped).unwrap();
        proptest::prop_assert_eq!(back, value);
    }
}

/// An organization run held in memory, counting how often each account's findings are read.
#[derive(Debug)]
struct FakeOrg {
    accounts: Vec<crate::AccountSummary>,
    findings: Vec<Vec<Finding>>,
    reads: std::sync::Mutex<Vec<usize>>,
}

impl crate::OrgFindings for FakeOrg {
    fn accounts(&self) -> &[crate::AccountSummary] {
        &self.accounts
    }

    fn for_each_account(
        &self,
        each: &mut dyn FnMut(&crate::AccountSummary, &[Finding]) -> io::Result<()>,
    ) -> io::Result<()> {
        for (k, (a, f)) in self.accounts.iter().zip(&self.findings).enumerate() {
            self.reads.lock().unwrap()[k] += 1;
            each(a, f)?;
        }
        Ok(())
    }

    fn extra_rules(&self) -> Vec<&'static RuleMeta> {
        Vec::new()
    }
}

fn summary(id: &str, name: &str, ou: &str, status: &str, fail: u64) -> crate::AccountSummary {
    crate::AccountSummary {
        id: id.into(),
        name: name.into(),
        ou_path: ou.into(),
        status: status.into(),
        error_code: (status != "ok").then(|| "AccessDenied".into()),
        reason: (status != "ok").then(|| "<b>denied</b>".into()),
        report_generated_at: Some(at("2026-11-20T10:00:00Z")),
        users_evaluated: 3,
        fail_by_severity: [0, fail, 0, 0],
        fail,
        unknown: u64::from(status != "ok"),
        exempted: 0,
    }
}

fn fake_org() -> FakeOrg {
    let in_account = |id: &str, mut f: Finding| {
        f.account = Some(id.to_owned());
        f
    };
    let a: Vec<Finding> = hostile_findings()
        .into_iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| in_account("111111111111", f))
        .collect();
    let unknown = Finding::for_account(account_rule(), Status::Unknown, None, "not audited");
    FakeOrg {
        accounts: vec![
            summary(
                "111111111111",
                "<img src=x onerror=alert(1)>",
                "Root/\u{202E}Prod",
                "ok",
                6,
            ),
            summary(
                "222222222222",
                "</script>",
                "Root/Sandbox",
                "assume-role-denied",
                0,
            ),
        ],
        findings: vec![a, vec![in_account("222222222222", unknown)]],
        reads: std::sync::Mutex::new(vec![0, 0]),
    }
}

fn render_org(org: &FakeOrg) -> String {
    let rules: Vec<&'static RuleMeta> = keywarden_core::rules::catalogue().collect();
    let report = FindingsReport::org(
        org,
        &rules,
        at("2026-11-20T12:00:00Z"),
        DataSource {
            kind: "organization",
            location: "caller account 111111111111".into(),
            as_of: None,
            as_of_basis: "each account's own".into(),
        },
        "default",
        "0.0.0-test",
    );
    let mut out = Vec::new();
    HtmlPrinter::default()
        .print_findings(&report, &mut out)
        .unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn an_organization_run_is_read_account_by_account_with_its_accounts_at_the_top() {
    let org = fake_org();
    let html = render_org(&org);
    // Two passes, each reading every account once: no account held past its turn.
    assert_eq!(*org.reads.lock().unwrap(), vec![2, 2]);
    let block = data_block(&html);
    for needle in ["<", ">", "\u{202E}"] {
        assert!(!block.contains(needle), "{needle:?} in the data block");
    }
    let value: serde_json::Value = serde_json::from_str(block).unwrap();
    assert_eq!(
        value["accounts"],
        serde_json::json!(["111111111111", "222222222222"])
    );
    let accounts = value["org"].as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    assert_eq!(accounts[0][1], "<img src=x onerror=alert(1)>");
    assert_eq!(accounts[0][2], "Root/\u{202E}Prod");
    assert_eq!(accounts[1][3], "assume-role-denied");
    assert_eq!(accounts[1][4], "AccessDenied");
    assert_eq!(accounts[1][5], "<b>denied</b>");
    assert_eq!(accounts[0][8], 6);
    assert_eq!(accounts[0][11], serde_json::json!([0, 6, 0, 0]));
    let rows = value["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    assert!(rows[..6].iter().all(|r| r[2] == 0));
    assert_eq!(rows[6][2], 1);
    assert_eq!(value["meta"]["summary"]["fail"], 6);
    assert_eq!(value["meta"]["summary"]["unknown"], 1);
    assert!(html.contains("<title>keywarden report: 7 finding(s), 2026-11-20T12:00:00Z</title>"));
    assert_eq!(html, render_org(&fake_org()), "deterministic");
}

#[test]
fn a_single_account_page_has_no_org_table() {
    let html = render(&hostile_findings(), None);
    let value: serde_json::Value = serde_json::from_str(data_block(&html)).unwrap();
    assert!(value.get("org").is_none());
}

/// An incident report document (docs/incident-report.md) whose text fields are hostile.
fn hostile_incident() -> serde_json::Value {
    let h = HOSTILE.join(" ");
    serde_json::json!({
        "format": "keywarden-incident", "version": 1, "run_id": "r-1",
        "access_key_id": "AKIAEXAMPLE", "owner": h, "account": "123456789012",
        "contained_by": {"account": "123456789012", "arn": h, "access_key_id": "AKIAME"},
        "started_at": "2026-11-20T12:00:00Z", "finished_at": "2026-11-20T12:00:01Z",
        "status": "incomplete", "sessions_revoked_before": "2026-11-20T12:00:00Z",
        "quarantine_until": "2026-11-22T00:00:00Z", "quarantine_hours": 36,
        "steps": [{"action_id": "A001", "kind": "deactivate-key", "target": h, "outcome": "failed",
                   "detail": h, "started_at": null, "finished_at": null}],
        "policies": [{"action_id": "A002", "user": h, "policy_name": "keywarden-revoke-sessions",
                      "document": format!("{{\"Sid\": \"{h}\"}}"), "condition_time": "x", "in_place": true}],
        "undo": "keywarden undo r-1",
        "trail": {"sources": [h], "events_read": 3, "bad_records": 0, "key_seen": true,
                  "key_first_use": null, "key_last_use": null, "key_revoked": null,
                  "sessions": [{"access_key_id": "ASIA1", "parent": "AKIAEXAMPLE", "minted_with": h,
                                "minted_at": "2026-11-20T11:00:00Z", "minted_event_id": h,
                                "source_ip": h, "actor": h, "first_use": null, "last_use": null,
                                "events": [{"event_name": h, "count": 2}], "calls": 2,
                                "failed_calls": 0, "uses_after_key_revoked": 1}],
                  "error": h}
    })
}

#[test]
fn the_incident_page_keeps_hostile_fields_inert_under_its_own_policy() {
    let doc = hostile_incident();
    let mut out = Vec::new();
    print_incident_page(&doc, &mut out).unwrap();
    let html = String::from_utf8(out).unwrap();
    let block = data_block(&html);
    for needle in ["<", ">", "&", "\u{2028}", "\u{202E}"] {
        assert!(!block.contains(needle), "{needle:?} in the data block");
    }
    // The exact document comes back out of the block.
    let back: serde_json::Value = serde_json::from_str(block).unwrap();
    assert_eq!(back, doc);
    // The policy allows the incident page's own script and the style, nothing else.
    let policy = incident_content_security_policy();
    assert!(html.contains(&format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">"
    )));
    assert!(policy.contains(&csp_hash(INCIDENT_JS)));
    assert!(!policy.contains(&csp_hash(JS)));
    assert!(!policy.contains("unsafe"));
    assert!(html.contains(&format!("<script>{INCIDENT_JS}</script>")));
    assert_eq!(
        html.matches("<script").count(),
        2,
        "the data block and the page's script"
    );
    // Outside the data block (whose hostile text is inert JSON), the page references nothing.
    let shell = html.replace(block, "");
    assert!(
        external_references(&shell).is_empty(),
        "{:?}",
        external_references(&shell)
    );
    // The script draws with textContent only: no markup parsing anywhere in it.
    for sink in [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "Function(",
    ] {
        assert!(!INCIDENT_JS.contains(sink), "{sink} in incident.js");
    }
}
