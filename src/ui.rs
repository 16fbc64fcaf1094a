//! What people see: short progress lines and a spinner, all on stderr, so
//! stdout carries nothing but the result.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fmt::Display;
use std::io::IsTerminal;
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

#[cfg(test)]
mod tests {
    use super::use_color;
    use std::ffi::OsStr;

    #[test]
    fn no_color_and_pipes_mean_plain_text() {
        assert!(use_color(true, None));
        assert!(use_color(true, Some(OsStr::new(""))));
        assert!(!use_color(true, Some(OsStr::new("1"))));
        assert!(!use_color(false, None));
    }
}
