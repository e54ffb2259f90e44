//! `--format html` end to end: every command that prints findings writes one self-contained
//! page whose embedded data is the JSON output's findings. The page itself is tested in a real
//! browser by scripts/test-browser.sh; the printer's escaping in keywarden-output.

mod support;

use support::cli::{arg, keywarden, stderr, stdout, stdout_json};
use support::repo_root;

/// The page's embedded data.
fn data(html: &str) -> serde_json::Value {
    let open = "<script type=\"application/json\" id=\"kw-data\">";
    let start = html.find(open).expect("a data block") + open.len();
    let end = start + html[start..].find("</script>").expect("the block's end");
    serde_json::from_str(&html[start..end]).expect("the data block is JSON")
}

fn assert_is_a_page(html: &str) {
    assert!(
        html.starts_with("<!DOCTYPE html>\n"),
        "{}",
        &html[..80.min(html.len())]
    );
    assert!(
        html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';")
    );
    assert!(html.ends_with("</html>\n"));
}

#[test]
fn demo_as_html_carries_the_same_findings_as_json() {
    let out = keywarden(&["demo", "--format", "html"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let html = stdout(&out);
    assert_is_a_page(&html);
    let page = data(&html);
    let json = stdout_json(&keywarden(&["demo", "--format", "json"]));
    let findings = json["findings"].as_array().unwrap();
    let rows = page["rows"].as_array().unwrap();
    assert_eq!(rows.len(), findings.len());
    for (row, finding) in rows.iter().zip(findings) {
        let rule = &page["rules"][row[0].as_u64().unwrap() as usize];
        assert_eq!(rule[0], finding["rule"]);
        assert_eq!(
            page["statuses"][row[1].as_u64().unwrap() as usize],
            finding["status"]
        );
        assert_eq!(row[3], finding["user"]);
        assert_eq!(
            page["credentials"][row[4].as_u64().unwrap() as usize],
            finding["credential"]
        );
        assert_eq!(
            page["messages"][row[6].as_u64().unwrap() as usize],
            finding["message"]
        );
    }
    for status in ["fail", "unknown", "exempted"] {
        assert_eq!(
            page["meta"]["summary"][status], json["summary"][status],
            "{status}"
        );
    }
    assert_eq!(page["meta"]["source"], json["data_source"]);
    assert_eq!(page["timelines"], serde_json::json!([]));
}

#[test]
fn an_audit_of_hostile_names_keeps_them_out_of_the_markup() {
    let report = repo_root().join("tests/browser/hostile-report.csv");
    let out = keywarden(&[
        "audit",
        "--report",
        arg(&report),
        "--now",
        "2026-11-20T12:00:00Z",
        "--format",
        "html",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let html = stdout(&out);
    assert_is_a_page(&html);
    assert!(!html.contains("<img"));
    assert!(
        !html.contains("\u{202E}"),
        "the override travels as \\u202e in the JSON only"
    );
    assert_eq!(html.matches("<script").count(), 2);
    let page = data(&html);
    let users: Vec<&str> = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r[3].as_str())
        .collect();
    assert!(users.contains(&"<img src=x onerror=alert(1)>"), "{users:?}");
    assert!(users.contains(&"\u{202E}evil.exe-user"), "{users:?}");
}

#[test]
fn a_trail_run_as_html_has_the_timeline_of_the_key_behind_a_finding() {
    let logs = repo_root().join(
        "crates/keywarden/tests/data/stratus-red-team/aws.persistence.sts-federation-token.json",
    );
    let out = keywarden(&["trail", arg(&logs), "--format", "html"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let page = data(&stdout(&out));
    assert_eq!(page["meta"]["subject"], "events");
    let timelines = page["timelines"].as_array().unwrap();
    assert_eq!(timelines.len(), 1, "{timelines:?}");
    let key = timelines[0][0].as_str().unwrap();
    assert!(key.starts_with("AKIA"), "{key}");
    let labels: Vec<&str> = timelines[0][3]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[1].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"session minted"), "{labels:?}");
    assert!(labels.contains(&"first use"), "{labels:?}");
}

#[test]
fn an_unknown_format_lists_html_among_the_choices() {
    let out = keywarden(&["demo", "--format", "xml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("html"), "{}", stderr(&out));
}
