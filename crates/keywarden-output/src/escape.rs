//! Escaping for every medium keywarden writes attacker-controlled text into.
//!
//! User names, CloudTrail fields (actor ARN, source IP, user agent, event name, key ids read from
//! logs), file paths and file contents are chosen by whoever wrote the report or the logs. Each
//! medium interprets some characters, and a printer must neutralise exactly those, with ONE
//! function per medium so that no printer invents its own rule:
//!
//! - [`terminal`]: control characters (C0, DEL, C1: ANSI escape sequences, carriage returns that
//!   overwrite a line, line feeds that forge a row) and the invisible characters that reorder or
//!   hide text (Bidi overrides and isolates, zero-width characters, line separators) are shown
//!   visibly as `\u{1b}`. Printable text, backslashes included, is unchanged.
//! - [`csv_cell`]: OWASP's CSV-injection rule: a cell a spreadsheet would read as a formula
//!   (starting with `=`, `+`, `-`, `@`, tab or carriage return) gets a leading `'`.
//! - [`markdown`]: the terminal rule, then a backslash before every character that starts
//!   Markdown or HTML markup inline (links, images, emphasis, code, tables, tags, entities).
//! - [`html`]: the terminal rule, then the five HTML metacharacters as entities.
//! - [`sarif_text`]: SARIF plain-text messages, where `[text](target)` is an embedded link.
//!
//! JSON needs none of these: JSON escaping is the medium's own, and a JSON consumer must get the
//! real value, so the JSON printers write values exactly.

use std::borrow::Cow;

/// Characters a terminal (or a reader of a rendered report) would act on or not show: every
/// control character, and the format characters that reorder (Bidi embeddings, overrides and
/// isolates, the marks LRM/RLM/ALM) or hide text (zero-width space and joiners, word joiner,
/// BOM), and the Unicode line and paragraph separators some terminals break lines at.
pub fn is_unsafe_on_terminal(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'              // ARABIC LETTER MARK
            | '\u{180E}'            // MONGOLIAN VOWEL SEPARATOR (invisible)
            | '\u{200B}'..='\u{200F}' // ZWSP, ZWNJ, ZWJ, LRM, RLM
            | '\u{2028}'..='\u{202E}' // LINE/PARAGRAPH SEPARATOR, LRE, RLE, PDF, LRO, RLO
            | '\u{2060}'..='\u{2069}' // WORD JOINER .. PDI (LRI, RLI, FSI, PDI)
            | '\u{FEFF}' // BOM / ZERO WIDTH NO-BREAK SPACE
        )
}

/// `text` for a terminal: every [`is_unsafe_on_terminal`] character becomes its visible escape
/// `\u{hex}` (ESC reads `\u{1b}`, RLO `\u{202e}`), so a hostile value cannot move the cursor,
/// recolour, rewrite or reorder the screen, or split one table row into two, and a reader sees
/// that something was there. Text without such characters is returned as it is (borrowed).
///
/// Not injective on purpose: a backslash is left alone so paths and user agents print exactly,
/// which means a value holding the six characters `\u{1b}` prints like one holding ESC. Both are
/// harmless and visible; the JSON output has the exact value.
pub fn terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe_on_terminal) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe_on_terminal(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`terminal`] for a message of several lines that keywarden itself composed (an error with its
/// causes, a diagnostic): each line is escaped and the line breaks between them are kept. Every
/// message the binary writes to standard error goes through it, so a Display impl that quotes
/// input (`invalid date `...``) cannot reach the terminal raw.
pub fn terminal_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && is_unsafe_on_terminal(c)) {
        return Cow::Borrowed(text);
    }
    let lines: Vec<Cow<'_, str>> = text.split('\n').map(terminal).collect();
    Cow::Owned(lines.join("\n"))
}

/// The characters OWASP lists as starting a formula in Excel, LibreOffice and Google Sheets.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A CSV cell a spreadsheet cannot run: a cell starting with `=`, `+`, `-`, `@`, tab or carriage
/// return (OWASP's CSV-injection rule) gets a leading `'`, which spreadsheets read as "text" and
/// do not show, so `=HYPERLINK(...)` stays a string.
///
/// Two choices, both so the rule changes as little real data as possible and loses none:
/// - a plain number (`-5`, `+1.5`: sign, digits, at most one `.` with digits after it) is left
///   as it is: it cannot be a formula, and a negative number must stay a number;
/// - a cell that already starts with `'` gets one more, so the rule is reversible (drop one
///   leading `'` when there is one) and no two values print alike.
pub fn csv_cell(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some('\'') => Cow::Owned(format!("'{text}")),
        Some(c) if FORMULA_START.contains(&c) && !is_plain_number(text) => {
            Cow::Owned(format!("'{text}"))
        }
        _ => Cow::Borrowed(text),
    }
}

/// `[+-]digits[.digits]`: a number, never a formula.
fn is_plain_number(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && fraction.is_none_or(digits)
}

/// The characters that start inline Markdown or HTML markup: escape (`\`), code (`` ` ``),
/// emphasis and strikethrough (`*`, `_`, `~`), links and images (`[`, `]`), raw HTML and
/// autolinks (`<`, `>`), entities (`&`), table cells (`|`) and math (`$`). Line-start markup
/// (`#`, `>`, `-`, fences) cannot occur: [`terminal`] already turned line breaks into text.
const MARKDOWN_META: [char; 12] = ['\\', '`', '*', '_', '~', '[', ']', '<', '>', '&', '|', '$'];

/// `text` for Markdown inline content (a paragraph, a table cell, a heading): the [`terminal`]
/// rule first (a rendered report must not reorder or hide text either, and a line break would
/// end a table row), then a backslash before each Markdown metacharacter, so `<img onerror=...>`,
/// `[x](javascript:...)` and `|` render as the characters they are. CommonMark allows a backslash
/// before any ASCII punctuation, so the rendered text is exactly the [`terminal`] text.
/// Not for code spans, where a backslash is literal: hostile text is never put in backticks.
pub fn markdown(text: &str) -> Cow<'_, str> {
    let visible = terminal(text);
    if !visible.contains(MARKDOWN_META) {
        return visible;
    }
    let mut out = String::with_capacity(visible.len() + 8);
    for c in visible.chars() {
        if MARKDOWN_META.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    Cow::Owned(out)
}

/// A fenced Markdown code block holding `code` verbatim: the fence is one backtick longer than
/// the longest run of backticks in `code` (at least three), so nothing inside can close it.
pub fn markdown_code_block(code: &str, info: &str) -> String {
    let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{info}\n{code}\n{fence}\n")
}

/// `text` for HTML element content or a quoted attribute value: the [`terminal`] rule first,
/// then `&`, `<`, `>`, `"` and `'` as entities (`&amp;` first, so nothing is escaped twice).
pub fn html(text: &str) -> Cow<'_, str> {
    let visible = terminal(text);
    if !visible.contains(['&', '<', '>', '"', '\'']) {
        return visible;
    }
    let mut out = String::with_capacity(visible.len() + 16);
    for c in visible.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A SARIF plain-text message (SARIF 2.1.0 §3.11.5-3.11.6): `[text](target)` there is an
/// embedded link a viewer renders, and `\[`, `\]` and `\\` are how a message says the literal
/// characters. Control characters need nothing: the JSON encoding carries them exactly.
pub fn sarif_text(text: &str) -> Cow<'_, str> {
    if !text.contains(['\\', '[', ']']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if matches!(c, '\\' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn terminal_shows_escape_sequences_and_bidi_overrides_visibly() {
        assert_eq!(terminal("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(terminal("evil\u{202e}gpj.exe"), "evil\\u{202e}gpj.exe");
        assert_eq!(terminal("x\ny\rz\t"), "x\\u{a}y\\u{d}z\\u{9}");
        assert_eq!(terminal("\u{9b}2J"), "\\u{9b}2J"); // 8-bit CSI
        assert_eq!(terminal("al\u{200b}ice"), "al\\u{200b}ice");
        for c in [
            '\u{061C}', '\u{200E}', '\u{200F}', '\u{2066}', '\u{2069}', '\u{202A}',
        ] {
            assert!(is_unsafe_on_terminal(c), "{c:?}");
        }
    }

    #[test]
    fn terminal_leaves_ordinary_text_alone() {
        for text in [
            "alice",
            "arn:aws:iam::123456789012:user/a.b@c",
            "C:\\x",
            "café 東京 💻",
        ] {
            assert!(
                matches!(terminal(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
        // The zero-width joiner inside an emoji sequence is shown: invisibility is what an
        // attacker uses to make `alice\u{200d}` look like `alice`.
        assert_eq!(terminal("👩\u{200d}💻"), "👩\\u{200d}💻");
    }

    #[test]
    fn terminal_lines_keeps_line_breaks_only() {
        assert_eq!(
            terminal_lines("invalid date `\x1b]0;x\x07`\ncaused by: \u{202e}"),
            "invalid date `\\u{1b}]0;x\\u{7}`\ncaused by: \\u{202e}"
        );
        assert!(matches!(terminal_lines("a\nb"), Cow::Borrowed(_)));
    }

    #[test]
    fn csv_cells_that_start_a_formula_are_prefixed() {
        assert_eq!(
            csv_cell("=HYPERLINK(\"http://x\",\"y\")"),
            "'=HYPERLINK(\"http://x\",\"y\")"
        );
        assert_eq!(csv_cell("@SUM(A1:A9)"), "'@SUM(A1:A9)");
        assert_eq!(csv_cell("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
        assert_eq!(csv_cell("-2+3"), "'-2+3");
        assert_eq!(csv_cell("\t=1"), "'\t=1");
        assert_eq!(csv_cell("\r=1"), "'\r=1");
        assert_eq!(csv_cell("'quoted"), "''quoted");
    }

    #[test]
    fn csv_numbers_and_ordinary_cells_stay_exact() {
        for text in [
            "-5",
            "+1.5",
            "-0.25",
            "42",
            "",
            "alice",
            "a=b",
            "{\"days\":-3}",
        ] {
            assert_eq!(csv_cell(text), text);
        }
        for text in ["-", "+", "-.5", "-5.", "-1e3", "--5"] {
            assert_eq!(csv_cell(text), format!("'{text}"));
        }
    }

    #[test]
    fn markdown_escapes_markup_and_shows_controls() {
        assert_eq!(
            markdown("<img src=x onerror=alert(1)>"),
            "\\<img src=x onerror=alert(1)\\>"
        );
        assert_eq!(
            markdown("[click](javascript:alert(1))"),
            "\\[click\\](javascript:alert(1))"
        );
        assert_eq!(markdown("a|b"), "a\\|b");
        assert_eq!(
            markdown("x\n| forged | row |"),
            "x\\\\u{a}\\| forged \\| row \\|"
        );
        assert_eq!(
            markdown("`code` *b* _i_ ~s~ &amp; $x$"),
            "\\`code\\` \\*b\\* \\_i\\_ \\~s\\~ \\&amp; \\$x\\$"
        );
        assert_eq!(
            markdown("arn:aws:iam::123456789012:user/alice"),
            "arn:aws:iam::123456789012:user/alice"
        );
    }

    #[test]
    fn code_blocks_cannot_be_closed_from_inside() {
        assert_eq!(markdown_code_block("{}", "json"), "```json\n{}\n```\n");
        assert_eq!(
            markdown_code_block("a ``` b ```` c", "json"),
            "`````json\na ``` b ```` c\n`````\n"
        );
    }

    #[test]
    fn html_escapes_the_five_metacharacters() {
        assert_eq!(
            html("<img src=x onerror=\"alert('1')\">&"),
            "&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;"
        );
        assert_eq!(html("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(html("&amp;"), "&amp;amp;");
    }

    #[test]
    fn sarif_links_become_text() {
        assert_eq!(
            sarif_text("user [x](https://evil.example) \\"),
            "user \\[x\\](https://evil.example) \\\\"
        );
        assert_eq!(sarif_text("alice: key unused"), "alice: key unused");
    }

    /// Undoes [`csv_cell`]: drop one leading `'` when there is one.
    fn csv_decode(cell: &str) -> &str {
        cell.strip_prefix('\'').unwrap_or(cell)
    }

    /// Undoes the backslash escapes of [`markdown`] and [`sarif_text`]: what a renderer shows.
    fn unbackslash(text: &str) -> String {
        let mut out = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            out.push(if c == '\\' {
                chars.next().unwrap_or('\\')
            } else {
                c
            });
        }
        out
    }

    fn html_decode(text: &str) -> String {
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }

    /// Strings that mix arbitrary characters with the ones each medium cares about, which
    /// `any::<String>()` (printable characters only) would almost never produce.
    fn hostile() -> impl Strategy<Value = String> {
        let special = prop::sample::select(vec![
            '\x1b', '\x07', '\x00', '\x7f', '\u{9b}', '\n', '\r', '\t', '\u{202e}', '\u{2066}',
            '\u{200f}', '\u{061c}', '\u{feff}', '\u{2028}', '=', '+', '-', '@', '\'', '\\', '`',
            '[', ']', '<', '>', '&', '|', '"', '*', '_', '$', '~', '0', '.', 'a',
        ]);
        prop::collection::vec(prop_oneof![any::<char>(), special], 0..24)
            .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #[test]
        fn terminal_output_has_no_control_or_bidi_character(text in hostile()) {
            let out = terminal(&text);
            prop_assert!(!out.chars().any(is_unsafe_on_terminal), "{out:?}");
            // Visible: every removed character is there as its escape, in order.
            let shown: String = text.chars().map(|c| if is_unsafe_on_terminal(c) {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }).collect();
            prop_assert_eq!(out.as_ref(), shown.as_str());
        }

        #[test]
        fn terminal_lines_only_lets_line_feeds_through(text in hostile()) {
            let out = terminal_lines(&text);
            prop_assert!(!out.chars().any(|c| c != '\n' && is_unsafe_on_terminal(c)));
            prop_assert_eq!(out.matches('\n').count(), text.matches('\n').count());
        }

        #[test]
        fn csv_cells_never_start_a_formula_and_decode_back(text in hostile()) {
            let out = csv_cell(&text);
            let first = out.chars().next();
            prop_assert!(
                !first.is_some_and(|c| FORMULA_START.contains(&c)) || is_plain_number(&out),
                "{out:?}"
            );
            prop_assert_eq!(csv_decode(&out), text.as_str());
        }

        #[test]
        fn markdown_renders_as_the_terminal_text(text in hostile()) {
            let out = markdown(&text);
            prop_assert!(!out.chars().any(is_unsafe_on_terminal));
            // Every metacharacter is escaped: none can open markup.
            let mut escaped = false;
            for c in out.chars() {
                prop_assert!(escaped || c == '\\' || !MARKDOWN_META.contains(&c), "{out:?}");
                escaped = !escaped && c == '\\';
            }
            prop_assert_eq!(unbackslash(&out), terminal(&text).into_owned());
        }

        #[test]
        fn html_has_no_markup_and_decodes_to_the_terminal_text(text in hostile()) {
            let out = html(&text);
            prop_assert!(!out.contains(['<', '>', '"', '\'']));
            prop_assert!(!out.chars().any(is_unsafe_on_terminal));
            prop_assert_eq!(html_decode(&out), terminal(&text).into_owned());
        }

        #[test]
        fn sarif_text_is_injective(text in hostile()) {
            prop_assert_eq!(unbackslash(&sarif_text(&text)), text);
        }
    }
}
