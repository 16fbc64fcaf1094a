//! What people see: short progress lines and a spinner, all on stderr, so
//! stdout carries nothing but the result.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fmt::Display;
use std::io::IsTerminal;
use std::time::Duration;

pub struct Ui {
    quiet: bool,
    tty: bool,
    /// `profile: ` before every line when several rotations run at once.
    prefix: String,
}

impl Ui {
    pub fn new(quiet: bool) -> Self {
        Ui {
            quiet,
            tty: std::io::stderr().is_terminal(),
            prefix: String::new(),
        }
    }

    /// The same output, each line marked with the profile it is about.
    /// Spinners are off: several at once would overwrite each other.
    pub fn for_profile(&self, profile: &str) -> Ui {
        Ui {
            quiet: self.quiet,
            tty: false,
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
        eprintln!("{}warning: {msg}", self.prefix);
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
