//! The lossless INI editor for `~/.aws/credentials` and `~/.aws/config`.
//!
//! INI libraries (rust-ini, configparser) drop comments and reorder keys when
//! they write, and users notice. This module parses just enough to know where
//! each value sits, and edits by splicing bytes: every byte outside the edited
//! values (comments, blank lines, spacing around `=`, key order, unknown keys,
//! other sections, CRLF line endings) is kept as it was.
//!
//! Two readers read these files, and do not always agree: the AWS CLI
//! (botocore, through Python's `RawConfigParser`) and the AWS SDKs (whose
//! shared profile-parser cases the Rust SDK ships). The grammar here is
//! botocore's, line for line: `[section]` headers (anything after the
//! closing `]` ignored, so `[work] # my key` is `work`), `key = value`,
//! full-line comments starting with `#` or `;`, indented continuation
//! lines. Duplicate sections or keys are errors there, and are errors here
//! too. Then `readers` reads the file as the SDKs do, and a file that the
//! two read as different profiles or values is refused, naming the line:
//! the tool never guesses which reading the user's tools have.

mod contract;
mod parse;
mod readers;
#[cfg(test)]
mod tests;

pub use contract::check_contract;
use parse::{header_name, key_hint, parse_sections};
pub(crate) use parse::{py_lines, py_space, py_strip};

use std::ops::Range;
use thiserror::Error;
use zeroize::Zeroizing;

#[derive(Debug, Error, PartialEq)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Which of the two shared files a text is: they name profiles differently
/// (`[NAME]` in credentials, `[profile NAME]` or `[default]` in config).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Credentials,
    Config,
}

#[derive(Clone, Debug)]
struct Entry {
    /// The key as written.
    key: String,
    /// The key as botocore reads it: lowercased.
    name: String,
    /// Byte range of the whole entry, from the start of its first line to the
    /// end of its last continuation line, line endings included.
    lines: Range<usize>,
    /// Byte range of the value on the key's own line.
    value: Range<usize>,
    /// The value as botocore reads it when indented lines continue it:
    /// the lines joined by `\n`. It may be a secret, so it is wiped too.
    joined: Option<Zeroizing<String>>,
}

#[derive(Clone, Debug)]
struct Section {
    /// The name as botocore reads it: between `[` and the last `]`, not
    /// trimmed.
    name: String,
    /// Byte range of the header line, line ending included.
    header: Range<usize>,
    entries: Vec<Entry>,
    /// End of the last line that belongs to the section (entries, comments
    /// and blank lines up to the next header).
    end: usize,
}

/// A parsed INI text that can be edited without disturbing other bytes.
/// The text of a credentials file holds secrets: it is wiped when dropped
/// (and when an edit replaces it), and `Debug` does not print it.
#[derive(Clone, Debug)]
pub struct Document {
    text: Zeroizing<String>,
    kind: FileKind,
    sections: Vec<Section>,
}

impl Document {
    /// Parses a shared file, refusing what botocore refuses and what
    /// botocore and the AWS SDKs would read differently.
    pub fn parse(text: impl Into<String>, kind: FileKind) -> Result<Self, ParseError> {
        let text = Zeroizing::new(text.into());
        let sections = parse_sections(&text)?;
        readers::check(&text, &sections, kind)?;
        Ok(Document {
            text,
            kind,
            sections,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn kind(&self) -> FileKind {
        self.kind
    }

    pub fn section_names(&self) -> impl Iterator<Item = &str> {
        self.sections.iter().map(|s| s.name.as_str())
    }

    /// The profiles the file defines, in file order, without repeats.
    pub fn profile_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for s in &self.sections {
            if let Some(name) = readers::profile_name(&s.name, self.kind)
                && !names.contains(&name)
            {
                names.push(name);
            }
        }
        names
    }

    /// The section botocore reads a profile from: in the config file the
    /// last one naming it (`[default]` or `[profile default]`, whichever
    /// comes last; the SDKs agree, or the file was refused).
    pub fn profile_section(&self, profile: &str) -> Option<&str> {
        self.sections
            .iter()
            .rev()
            .find(|s| readers::profile_name(&s.name, self.kind).as_deref() == Some(profile))
            .map(|s| s.name.as_str())
    }

    pub fn has_section(&self, name: &str) -> bool {
        self.section(name).is_some()
    }

    /// The value of `key` in `section` (keys compare case-insensitively, as
    /// the AWS CLI lowercases them).
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        let entry = self.entry(section, key)?;
        Some(match &entry.joined {
            Some(joined) => joined.as_str(),
            None => &self.text[entry.value.clone()],
        })
    }

    /// The keys of a section, in file order.
    pub fn keys(&self, section: &str) -> Vec<&str> {
        self.section(section)
            .map(|s| s.entries.iter().map(|e| e.key.as_str()).collect())
            .unwrap_or_default()
    }

    /// Replaces the value of an existing key, or adds `key = value` after the
    /// section's last entry. The section must exist.
    pub fn set(&mut self, section: &str, key: &str, value: &str) -> Result<(), EditError> {
        check_value(value)?;
        let sect = self
            .section(section)
            .ok_or_else(|| EditError::NoSection(section.to_string()))?;
        if let Some(entry) = self.entry(section, key) {
            if entry.joined.is_some() {
                return Err(EditError::MultiLine(key_hint(key)));
            }
            let range = entry.value.clone();
            return self.splice(range, value);
        }
        let at = sect
            .entries
            .last()
            .map(|e| e.lines.end)
            .unwrap_or(sect.header.end);
        let eol = self.line_ending();
        // A file whose last line has no newline needs one before the new line.
        let lead = if at > 0 && !self.text[..at].ends_with(['\n', '\r']) {
            eol
        } else {
            ""
        };
        self.splice(at..at, &format!("{lead}{key} = {value}{eol}"))
    }

    /// Removes a key (with its continuation lines). Returns whether it existed.
    pub fn remove(&mut self, section: &str, key: &str) -> Result<bool, EditError> {
        match self.entry(section, key) {
            Some(entry) => {
                let range = entry.lines.clone();
                self.splice(range, "")?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Removes a section whose entries are all gone, with the comments and
    /// blank lines between its header and the next section.
    pub fn remove_section_if_empty(&mut self, section: &str) -> Result<bool, EditError> {
        match self.section(section) {
            Some(s) if s.entries.is_empty() => {
                let range = s.header.start..s.end;
                self.splice(range, "")?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Adds `[section]` with its entries at the end of the text.
    pub fn append_section(
        &mut self,
        section: &str,
        entries: &[(&str, &str)],
    ) -> Result<(), EditError> {
        check_section_name(section)?;
        if self.has_section(section) {
            return Err(EditError::SectionExists(section.to_string()));
        }
        for (_, v) in entries {
            check_value(v)?;
        }
        let eol = self.line_ending();
        let mut add = String::new();
        if !self.text.is_empty() && !self.text.ends_with(['\n', '\r']) {
            add.push_str(eol);
        }
        if !self.text.trim().is_empty() {
            add.push_str(eol);
        }
        add.push_str(&format!("[{section}]{eol}"));
        for (k, v) in entries {
            add.push_str(&format!("{k} = {v}{eol}"));
        }
        let end = self.text.len();
        self.splice(end..end, &add)
    }

    fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    fn entry(&self, section: &str, key: &str) -> Option<&Entry> {
        let name = key.to_lowercase();
        self.section(section)?
            .entries
            .iter()
            .find(|e| e.name == name)
    }

    /// CRLF if the file already uses it, so added lines match their
    /// neighbours. Never a lone CR: the SDKs do not end a line there, so
    /// a file read the same by both has none between lines.
    fn line_ending(&self) -> &'static str {
        if self.text.contains("\r\n") {
            "\r\n"
        } else {
            "\n"
        }
    }

    fn splice(&mut self, range: Range<usize>, with: &str) -> Result<(), EditError> {
        // Sized up front, so the secrets are never left behind in a buffer
        // that grew and moved; the old text is wiped when replaced.
        let mut text = Zeroizing::new(String::with_capacity(self.text.len() + with.len()));
        text.push_str(&self.text[..range.start]);
        text.push_str(with);
        text.push_str(&self.text[range.end..]);
        // Re-parsing keeps every range true after the edit, and checks that
        // botocore and the SDKs still read the file alike; a failure here
        // is refused, never written to disk.
        let sections = parse_sections(&text).map_err(EditError::Broke)?;
        readers::check(&text, &sections, self.kind).map_err(EditError::Broke)?;
        self.sections = sections;
        self.text = text;
        Ok(())
    }
}

#[derive(Debug, Error, PartialEq)]
pub enum EditError {
    #[error("no [{0}] section")]
    NoSection(String),
    #[error("[{0}] already exists")]
    SectionExists(String),
    #[error("a value cannot contain a line break or start or end with spaces")]
    BadValue,
    #[error(
        "the value of '{0}' continues on indented lines; aws-rekey does not rewrite such a value: put it on one line"
    )]
    MultiLine(String),
    #[error(
        "a section name cannot be empty, contain '[', ']', a line break or another control character, or start or end with a space"
    )]
    BadSection,
    #[error("the edit would leave a file the AWS CLI and the AWS SDKs cannot read alike ({0})")]
    Broke(ParseError),
}

/// A name that can be written as a `[section]` header and read back as
/// itself, adding no other section: no brackets (a `]` followed by a line
/// break and `[evil]` would start a section of the writer's choosing), no
/// line breaks or other control characters, no edge spaces (the parser
/// trims them, so `[ a]` would read back as `a`).
pub fn check_section_name(name: &str) -> Result<(), EditError> {
    if name.is_empty()
        || name.trim() != name
        || name.contains(['[', ']'])
        || name.chars().any(char::is_control)
    {
        return Err(EditError::BadSection);
    }
    Ok(())
}

fn check_value(value: &str) -> Result<(), EditError> {
    if value.contains(['\n', '\r']) || value.trim() != value {
        return Err(EditError::BadValue);
    }
    Ok(())
}
