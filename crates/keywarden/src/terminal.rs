//! Terminal conventions of the findings tables: colour (`--color`, `NO_COLOR`, `TERM=dumb`) and
//! the width long lines wrap at (`COLUMNS`, else the terminal's own). Decided once, at start.
//! A pipe or a file gets plain, unwrapped text unless asked otherwise, so what scripts read is
//! the same bytes as before.

use crate::cli::ColorChoice;
use keywarden_output::TableStyle;
use std::io::IsTerminal;
use std::sync::OnceLock;

static STYLE: OnceLock<TableStyle> = OnceLock::new();

/// Decides the style from the command line and the environment.
pub fn init(choice: ColorChoice) {
    let stdout = std::io::stdout();
    let is_terminal = stdout.is_terminal();
    let terminal_width = if is_terminal {
        console::Term::stdout()
            .size_checked()
            .map(|(_, cols)| usize::from(cols))
    } else {
        None
    };
    let style = decide(
        choice,
        &Environment {
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            dumb: std::env::var("TERM").is_ok_and(|t| t == "dumb"),
            columns: std::env::var("COLUMNS").ok(),
        },
        is_terminal,
        terminal_width,
    );
    let _ = STYLE.set(style);
}

/// The style [`init`] decided (plain before it ran).
pub fn table_style() -> TableStyle {
    STYLE.get().copied().unwrap_or_default()
}

/// What of the environment the style depends on.
struct Environment {
    /// `NO_COLOR` set to a non-empty value (no-color.org).
    no_color: bool,
    /// `TERM=dumb`: a terminal that cannot show colour.
    dumb: bool,
    /// `COLUMNS`, as given.
    columns: Option<String>,
}

fn decide(
    choice: ColorChoice,
    env: &Environment,
    is_terminal: bool,
    terminal_width: Option<usize>,
) -> TableStyle {
    let color = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && !env.no_color && !env.dumb,
    };
    let columns = env
        .columns
        .as_deref()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0);
    TableStyle {
        color,
        width: columns.or(terminal_width),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(no_color: bool, dumb: bool, columns: Option<&str>) -> Environment {
        Environment {
            no_color,
            dumb,
            columns: columns.map(str::to_owned),
        }
    }

    #[test]
    fn colour_only_on_a_terminal_unless_asked() {
        let plain = env(false, false, None);
        assert!(decide(ColorChoice::Auto, &plain, true, None).color);
        assert!(!decide(ColorChoice::Auto, &plain, false, None).color);
        assert!(decide(ColorChoice::Always, &plain, false, None).color);
        assert!(!decide(ColorChoice::Never, &plain, true, None).color);
        assert!(!decide(ColorChoice::Auto, &env(true, false, None), true, None).color);
        assert!(!decide(ColorChoice::Auto, &env(false, true, None), true, None).color);
        // --color always wins over NO_COLOR: it is the more specific request.
        assert!(decide(ColorChoice::Always, &env(true, false, None), true, None).color);
    }

    #[test]
    fn columns_overrides_the_terminal_width() {
        let plain = env(false, false, None);
        assert_eq!(
            decide(ColorChoice::Auto, &plain, true, Some(120)).width,
            Some(120)
        );
        assert_eq!(decide(ColorChoice::Auto, &plain, false, None).width, None);
        let columns = env(false, false, Some("90"));
        assert_eq!(
            decide(ColorChoice::Auto, &columns, true, Some(120)).width,
            Some(90)
        );
        assert_eq!(
            decide(ColorChoice::Auto, &columns, false, None).width,
            Some(90)
        );
        for bad in ["0", "wide", ""] {
            let bad = env(false, false, Some(bad));
            assert_eq!(decide(ColorChoice::Auto, &bad, false, None).width, None);
        }
    }
}
