//! The `credential_process` line aws-rekey writes for a keychain profile,
//! quoted so that a shell and botocore's split read the same words, and
//! recognising its own line when it reads one back.

use std::path::Path;

/// The `credential_process` line that serves a profile from the keychain:
/// `'<absolute path>' credential-process --profile NAME`.
///
/// The line is run two ways: the Rust and Go SDKs hand it to `sh -c`
/// (`cmd.exe /C` on Windows), botocore splits it (`shlex.split`, POSIX) and
/// runs the words without a shell. Double quotes satisfy the split but not
/// the shell, which still expands `$(...)`, backticks and `$VAR` inside
/// them, and an unquoted `;` ends the command: a profile named
/// `dev;touch${IFS}x` ran `touch`. So each word is quoted for a POSIX shell:
/// single quotes, inside which nothing is special, and `'\''` for a quote.
/// Both readers then get the same, literal words. The path is always
/// quoted (install paths with spaces are common on macOS); the profile name
/// only when it holds anything but plain characters. A word must pass
/// `line_word_problem` first.
pub fn credential_process_line(exe: &Path, account: &str) -> String {
    format!(
        "{} credential-process --profile {}",
        quote_always(&exe.display().to_string()),
        quote(account)
    )
}

/// Characters a POSIX shell reads literally outside quotes, anywhere in a
/// word after the first.
fn sh_plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c)
}

fn quote(word: &str) -> String {
    if !cfg!(windows) && !word.is_empty() && word.chars().all(sh_plain) {
        return word.to_string();
    }
    quote_always(word)
}

fn quote_always(word: &str) -> String {
    // Windows (not built or tested on this project's machines): cmd.exe /C
    // (the SDKs) treats everything inside double quotes literally except
    // `"`, `%` and `!`, and botocore's Windows split takes a backslash
    // literally unless it precedes a quote; `line_word_problem` refuses
    // words with those three characters, so double quotes suffice.
    if cfg!(windows) {
        return format!("\"{word}\"");
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Why `word` (the program's path or a profile name) cannot go into a
/// `credential_process` line on this platform, if it cannot. Checked before
/// anything is written.
pub fn line_word_problem(word: &str) -> Option<&'static str> {
    if word.chars().any(char::is_control) {
        return Some("a control character");
    }
    if cfg!(windows) && word.contains(['"', '%', '!']) {
        return Some("'\"', '%' or '!', which cmd.exe reads even inside quotes");
    }
    None
}

/// Whether `sh -c line` would run one simple command whose words are all
/// literal: outside single quotes, only plain characters, spaces, and `\'`
/// (the escaped quote of `'\''`). No expansion, substitution, redirection,
/// globbing or second command can hide in such a line, so running it
/// through a shell to verify it cannot run anything else; checked first.
pub fn sh_literal(line: &str) -> bool {
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => loop {
                match chars.next() {
                    Some('\'') => break,
                    Some(_) => {}
                    None => return false,
                }
            },
            '\\' if chars.next() == Some('\'') => {}
            ' ' => {}
            c if sh_plain(c) => {}
            _ => return false,
        }
    }
    true
}

/// If `command` runs aws-rekey's own `credential-process`, the keychain
/// account it serves.
pub fn keychain_account(command: &str) -> Option<String> {
    let words = split_command(command);
    let program = Path::new(words.first()?).file_stem()?.to_str()?;
    if program != "aws-rekey" || !words.iter().any(|w| w == "credential-process") {
        return None;
    }
    let mut iter = words.iter();
    while let Some(w) = iter.next() {
        if w == "--profile" {
            return iter.next().cloned();
        }
        if let Some(v) = w.strip_prefix("--profile=") {
            return Some(v.to_string());
        }
    }
    None
}

/// Splits a `credential_process` line into words as botocore does
/// (`shlex.split`, POSIX rules; never a shell), with the `shlex` crate. An
/// unbalanced quote gives no words, so the line is recognised as nothing.
///
/// The crate follows POSIX where Python's shlex does not: inside double
/// quotes it drops the backslash of `\$` and `` \` `` (Python keeps it).
/// No line aws-rekey writes or trusts has either: its own lines must be
/// literal for a shell (`sh_literal`), and are checked against the split.
/// Windows (not built here): botocore has its own rules there; aws-rekey's
/// lines double-quote the path and refuse the characters they treat apart.
pub fn split_command(command: &str) -> Vec<String> {
    shlex::split(command).unwrap_or_default()
}
