//! What people and scripts see: short progress lines and a spinner, all on
//! stderr, so stdout carries nothing but the result; the printers of that
//! result; and the shared formats (ages, dates, tables).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::time::Duration;

pub struct Ui {
    quiet: bool,
    tty: bool,
    color: bool,
    /// `profile: ` before every line when several rotations run at once.
    prefix: String,
}

impl Ui {
    pub fn new(quiet: bool) -> Self {
        let tty = std::io::stderr().is_terminal();
        Ui {
            quiet,
            tty,
            color: use_color(tty, std::env::var_os("NO_COLOR").as_deref()),
            prefix: String::new(),
        }
    }

    /// The same output, each line marked with the profile it is about.
    /// Spinners are off: several at once would overwrite each other.
    pub fn for_profile(&self, profile: &str) -> Ui {
        Ui {
            quiet: self.quiet,
            tty: false,
            color: self.color,
            prefix: format!("{profile}: "),
        }
    }

    pub fn step(&self, msg: impl Display) {
        if !self.quiet {
            eprintln!("{}{msg}", self.prefix);
        }
    }

    /// Warnings are shown even in quiet mode: they are about the user's setup.
    pub fn warn(&self, msg: impl Display) {
        let label = if self.color {
            "\x1b[33mwarning:\x1b[0m"
        } else {
            "warning:"
        };
        eprintln!("{}{label} {msg}", self.prefix);
    }

    /// A spinner with the elapsed time while waiting; on a pipe or a log
    /// file, one line instead of a stream of redraws.
    pub fn spinner(&self, msg: &str) -> ProgressBar {
        if self.quiet {
            return ProgressBar::hidden();
        }
        if !self.tty {
            eprintln!("{}{msg}…", self.prefix);
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("a constant template"),
        );
        bar.set_message(msg.to_string());
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }
}

/// Color only on a terminal, and never when NO_COLOR is set to anything
/// but the empty string (https://no-color.org).
fn use_color(tty: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    tty && no_color.is_none_or(|v| v.is_empty())
}

/// Prints the result on stdout. A closed pipe (`aws-rekey ... | head`) is
/// not an error worth a message: the reader has what it wanted.
pub fn print_stdout(text: &str) {
    if let Err(e) = try_print_stdout(text)
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("aws-rekey: could not write to stdout: {e}");
    }
}

/// Prints a JSON document (`--output json`) on stdout, pretty-printed.
pub fn print_json(doc: &impl serde::Serialize) {
    // The documents are plain structs and `json!` values with string keys:
    // serialising them cannot fail.
    print_stdout(&serde_json::to_string_pretty(doc).expect("a JSON document serialises"));
}

/// Prints on stdout, flushed, for callers whose output is the whole point
/// (`credential-process`): a failed write must fail the command.
pub fn try_print_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()
}

/// Rows as aligned columns, two spaces apart; the last column is not
/// padded (it holds free text: a result, an error).
pub fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                if i + 1 < row.len() {
                    line.push_str(&" ".repeat(widths[i] - cell.chars().count()));
                }
            }
            line.trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A date as tables show it: `2026-11-29`.
pub fn day(t: &jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d").to_string()
}

/// An instant as messages show it: `2026-11-29 10:58 UTC`.
pub fn minute(t: &jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// `123 days`, `5 hours`, `3 minutes`: enough precision for a reminder.
pub fn human_age(age: jiff::SignedDuration) -> String {
    let secs = age.as_secs().max(0);
    let (n, unit) = if secs >= 2 * 86_400 {
        (secs / 86_400, "days")
    } else if secs >= 2 * 3_600 {
        (secs / 3_600, "hours")
    } else if secs >= 120 {
        (secs / 60, "minutes")
    } else {
        (secs, "seconds")
    };
    format!("{n} {unit}")
}

#[cfg(test)]
mod tests {
    use super::{human_age, table, use_color};
    use jiff::SignedDuration;
    use std::ffi::OsStr;

    #[test]
    fn tables_align_every_column_but_the_last() {
        let rows = vec![
            vec!["A".to_string(), "BB".into(), "free text".into()],
            vec!["ccc".to_string(), "d".into(), "x".into()],
        ];
        assert_eq!(table(&rows), "A    BB  free text\nccc  d   x");
        assert_eq!(table(&[]), "");
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(human_age(SignedDuration::from_hours(24 * 120)), "120 days");
        assert_eq!(human_age(SignedDuration::from_hours(30)), "30 hours");
        assert_eq!(human_age(SignedDuration::from_mins(5)), "5 minutes");
        assert_eq!(human_age(SignedDuration::from_secs(42)), "42 seconds");
    }

    #[test]
    fn no_color_and_pipes_mean_plain_text() {
        assert!(use_color(true, None));
        assert!(use_color(true, Some(OsStr::new(""))));
        assert!(!use_color(true, Some(OsStr::new("1"))));
        assert!(!use_color(false, None));
    }
}
