//! The Markdown printer: counts, the critical and high findings in a table, the rest collapsed;
//! and no field, however hostile, can add markup: the output is parsed as GitHub-flavoured
//! Markdown (pulldown-cmark, tables on) and every table cell must read as the field's text.

mod common;

use common::*;
use keywarden_output::{escape, DataSource, Format};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// The user names the test plants: an HTML tag with a handler, a cell separator, a code fence,
/// a `javascript:` link, a Bidi override, a line break that would forge a row, an entity, an
/// autolink and emphasis.
const HOSTILE: &[&str] = &[
    "<img src=x onerror=alert(1)>",
    "a|b|c",
    "```",
    "[x](javascript:alert(1))",
    "evil\u{202e}gpj.exe",
    "x\n| forged | row |",
    "&lt;script&gt;",
    "<https://evil.example>",
    "*bold* _it_ ~~s~~ `code` $x$ \\",
    "</details><script>alert(1)</script>",
];

fn csv_field(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Per hostile name, one user like bob (PWD002: high, in the first table) and one like alice
/// (KEY001 and KEY002: medium, in the collapsed table).
fn hostile_rows() -> Vec<String> {
    let mut rows = vec![ROWS[0].to_owned()];
    for (i, name) in HOSTILE.iter().enumerate() {
        for (template, old) in [(ROWS[3], "bob"), (ROWS[1], "alice")] {
            let (_, rest) = template.split_once(',').unwrap();
            let rest = rest.replace(&format!("user/{old}"), &format!("user/u{i}"));
            rows.push(format!("{},{rest}", csv_field(&format!("{name}{old}"))));
        }
    }
    rows
}

/// The text of each table row's cells, per table, read back from the parsed Markdown; and
/// every event that is not plain text, table structure or the printer's own markup.
struct Parsed {
    tables: Vec<Vec<Vec<String>>>,
    unexpected: Vec<String>,
}

fn parse(markdown: &str) -> Parsed {
    let mut tables = Vec::new();
    let mut unexpected = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut cell: Option<String> = None;
    for event in Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    ) {
        match event {
            Event::Start(Tag::Table(_)) => tables.push(Vec::new()),
            Event::Start(Tag::TableHead | Tag::TableRow) => row = Vec::new(),
            Event::End(TagEnd::TableHead | TagEnd::TableRow) => {
                tables.last_mut().unwrap().push(std::mem::take(&mut row))
            }
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => row.push(cell.take().unwrap()),
            Event::Text(text) => {
                if let Some(cell) = cell.as_mut() {
                    cell.push_str(&text);
                }
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                let html = html.trim();
                let ours = html == "<details>"
                    || html == "</details>"
                    || html.starts_with("<summary>Medium and low (")
                        && html.ends_with(")</summary>")
                        && html[25..html.len() - 11]
                            .bytes()
                            .all(|b| b.is_ascii_digit());
                if !ours {
                    unexpected.push(format!("html {html:?}"));
                }
            }
            // The printer's own code spans, outside any cell.
            Event::Code(code)
                if cell.is_none()
                    && ["unknown", "--format json", "--format csv"].contains(&code.as_ref()) => {}
            Event::Start(Tag::Paragraph | Tag::Heading { .. } | Tag::Strong | Tag::HtmlBlock)
            | Event::End(
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Strong | TagEnd::HtmlBlock,
            )
            | Event::End(TagEnd::Table)
            | Event::SoftBreak
            | Event::HardBreak => {}
            other => unexpected.push(format!("{other:?}")),
        }
    }
    Parsed { tables, unexpected }
}

fn hostile_markdown(source: DataSource) -> (String, usize) {
    let rows = hostile_rows();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let outcome = audit(
        &rows,
        &config(CONFIG),
        keywarden_core::AccountExtras::unknown_from_report_file(),
    );
    let count = outcome.findings.len();
    (render(Format::Markdown, &report(&outcome, source)), count)
}

#[test]
fn no_hostile_field_adds_markup_and_every_cell_reads_as_its_field() {
    let source = DataSource {
        location: "r.csv</details><img src=x onerror=alert(2)>|`".into(),
        ..file_source()
    };
    let (markdown, findings) = hostile_markdown(source);
    let parsed = parse(&markdown);
    assert!(
        parsed.unexpected.is_empty(),
        "{:#?}\n{markdown}",
        parsed.unexpected
    );
    assert!(
        !markdown.contains('\u{202e}'),
        "a Bidi override reached the text"
    );

    // Counts, then the critical-and-high table, then the collapsed one.
    assert_eq!(parsed.tables.len(), 3, "{markdown}");
    let finding_rows: Vec<&Vec<String>> = parsed.tables[1..]
        .iter()
        .flat_map(|t| t.iter().skip(1))
        .collect();
    assert_eq!(
        finding_rows.len(),
        findings,
        "one row per finding, none forged"
    );
    for row in &finding_rows {
        assert_eq!(row.len(), 7, "a cell separator got through: {row:?}");
    }
    let users: Vec<&str> = finding_rows.iter().map(|r| r[4].as_str()).collect();
    for name in HOSTILE {
        for suffix in ["bob", "alice"] {
            let shown = escape::terminal(&format!("{name}{suffix}")).into_owned();
            assert!(
                users.contains(&shown.as_str()),
                "{shown:?} not shown as text in {users:?}"
            );
        }
    }
    // The first table holds the high findings (PWD002 for every bob), the collapsed one the rest.
    assert!(parsed.tables[1]
        .iter()
        .skip(1)
        .all(|r| r[0] == "high" || r[0] == "critical"));
    assert!(parsed.tables[2]
        .iter()
        .skip(1)
        .all(|r| r[0] == "medium" || r[0] == "low"));
}

#[test]
fn the_escaper_is_what_keeps_the_markup_out() {
    // The same parse on the unescaped names finds the markup: the test above can fail.
    for (name, expect) in [
        ("<img src=x onerror=alert(1)>", "html"),
        ("[x](javascript:alert(1))", "Link"),
        ("`code`", "Code"),
    ] {
        let parsed = parse(&format!("| a |\n| --- |\n| {name} |\n"));
        assert!(
            parsed.unexpected.iter().any(|e| e.contains(expect)),
            "{name}: {:?}",
            parsed.unexpected
        );
        let escaped = parse(&format!("| a |\n| --- |\n| {} |\n", escape::markdown(name)));
        assert!(
            escaped.unexpected.is_empty(),
            "{name}: {:?}",
            escaped.unexpected
        );
    }
    let forged = parse("| a |\n| --- |\n| x | y |\n");
    assert_eq!(
        forged.tables[0][1].len(),
        1,
        "pulldown drops the extra cell"
    );
    let split = parse(&format!("| a | b |\n| --- | --- |\n| {} |\n", "x|y"));
    assert_eq!(
        split.tables[0][1],
        ["x", "y"],
        "an unescaped | splits a cell"
    );
}

#[test]
fn counts_by_severity_and_status_and_a_clean_run_says_so() {
    let outcome = outcome();
    let markdown = render(Format::Markdown, &report(&outcome, file_source()));
    assert!(
        markdown.starts_with("## keywarden: 7 findings\n"),
        "{markdown}"
    );
    let parsed = parse(&markdown);
    let counts = &parsed.tables[0];
    assert_eq!(
        counts[0],
        ["Severity", "fail", "unknown", "exempted", "total"]
    );
    assert_eq!(counts[2], ["high", "1", "1", "0", "2"]);
    assert_eq!(counts[5], ["total", "4", "2", "1", "7"]);
    assert!(markdown.contains("### Critical and high (2)"));
    assert!(markdown.contains("<summary>Medium and low (5)</summary>"));
    assert!(markdown.contains("which is not a pass"));
    // The exemption is said where the finding is.
    assert!(markdown.contains("(exempted: CI migration, see \"OPS-12\", config:exemption\\[0\\])"));

    let clean = audit(&ROWS[..1], &Default::default(), clean_extras());
    let markdown = render(Format::Markdown, &report(&clean, file_source()));
    assert!(
        markdown.contains("No findings: every credential passed all 11 rules run."),
        "{markdown}"
    );
    assert!(!markdown.contains("<details>"));
}

#[test]
fn a_table_lists_at_most_its_limit_and_says_how_many_more() {
    let mut outcome = outcome();
    let one = outcome.findings[2].clone(); // alice's KEY001: medium
    outcome.findings.extend(std::iter::repeat_n(one, 250));
    let markdown = render(Format::Markdown, &report(&outcome, file_source()));
    let parsed = parse(&markdown);
    assert!(parsed.unexpected.is_empty(), "{:?}", parsed.unexpected);
    let limit = keywarden_output::markdown::MAX_TABLE_ROWS;
    assert_eq!(parsed.tables[2].len() - 1, limit);
    let rest = outcome.findings.len() - 2 - limit;
    assert!(
        markdown.contains(&format!("{rest} more not shown: `--format json`")),
        "{markdown}"
    );
    // The counts still count everything.
    assert!(markdown.starts_with("## keywarden: 257 findings\n"));
    assert_eq!(parsed.tables[0][3], ["medium", "253", "1", "1", "255"]);
}
