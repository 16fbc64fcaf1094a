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

mod readers;

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

/// Python's `str.isspace()`: what configparser strips from lines, keys and
/// values. Rust's `char::is_whitespace` plus the four ASCII separators
/// (U+001C to U+001F) that Python also counts.
pub(crate) fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(py_space)
}

/// The lines of `text` as the AWS CLI reads them: Python's universal
/// newlines end a line at LF, CRLF or a lone CR. Each item is the byte
/// range of the line without its ending, and the end of the line with it.
pub(crate) fn py_lines(text: &str) -> impl Iterator<Item = (Range<usize>, usize)> + '_ {
    let mut offset = 0;
    std::iter::from_fn(move || {
        if offset >= text.len() {
            return None;
        }
        let rest = &text[offset..];
        let (content_len, line_len) = match rest.find(['\n', '\r']) {
            Some(i) if rest[i..].starts_with("\r\n") => (i, i + 2),
            Some(i) => (i, i + 1),
            None => (rest.len(), rest.len()),
        };
        let item = (offset..offset + content_len, offset + line_len);
        offset += line_len;
        Some(item)
    })
}

/// botocore's section header: `[`, then everything up to the *last* `]`
/// of the stripped line (configparser's greedy `\[(?P<header>.+)\]`);
/// whatever follows that `]` is ignored. The name is not trimmed.
fn header_name(stripped: &str) -> Option<&str> {
    let inner = stripped.strip_prefix('[')?;
    let close = inner.rfind(']')?;
    (close > 0).then(|| &inner[..close])
}

/// Parses `text` as configparser (`RawConfigParser`, as botocore sets it
/// up) reads it, refusing what it refuses. Line numbers count lines as
/// the AWS CLI does.
fn parse_sections(text: &str) -> Result<Vec<Section>, ParseError> {
    let mut sections: Vec<Section> = Vec::new();
    // configparser's state: the setting that an indented line continues
    // (cleared by a header), the indentation of the line that started
    // it, and the blank lines seen since its last line (a later indented
    // line keeps them inside the value).
    let mut continues = false;
    let mut indent_level = 0;
    let mut blanks = 0;
    for (line_no, (content, end)) in py_lines(text).enumerate() {
        let line_no = line_no + 1;
        let full = content.start..end;
        let raw = &text[content.clone()];
        let stripped = py_strip(raw);
        let err = |message: String| ParseError {
            line: line_no,
            message,
        };
        if stripped.starts_with(['#', ';']) {
            if let Some(s) = sections.last_mut() {
                s.end = full.end;
            }
            continue;
        }
        if stripped.is_empty() {
            blanks += 1;
            if let Some(s) = sections.last_mut() {
                s.end = full.end;
            }
            continue;
        }
        let indent = raw.chars().take_while(|&c| py_space(c)).count();
        if continues && indent > indent_level {
            let s = sections.last_mut().expect("a setting is in a section");
            let entry = s.entries.last_mut().expect("a setting continues");
            let first = &text[entry.value.clone()];
            let joined = entry
                .joined
                .get_or_insert_with(|| Zeroizing::new(first.to_string()));
            for _ in 0..blanks {
                joined.push('\n');
            }
            joined.push('\n');
            joined.push_str(stripped);
            blanks = 0;
            entry.lines.end = full.end;
            s.end = full.end;
            continue;
        }
        indent_level = indent;
        blanks = 0;
        if let Some(name) = header_name(stripped) {
            continues = false;
            if sections.iter().any(|s| s.name == name) {
                return Err(err(format!(
                    "[{}] appears twice; the AWS CLI refuses such a file, merge the two sections",
                    section_hint(name)
                )));
            }
            sections.push(Section {
                name: name.to_string(),
                header: full.clone(),
                entries: Vec::new(),
                end: full.end,
            });
            continue;
        }
        let delim = stripped.find(['=', ':']);
        let Some(section) = sections.last_mut() else {
            if line_no == 1 && raw.starts_with('\u{feff}') {
                return Err(err(
                    "the file starts with a byte-order mark (BOM), which the AWS CLI cannot read: save it as UTF-8 without a BOM".into(),
                ));
            }
            return Err(err(match delim {
                _ if stripped.starts_with('[') => "a section header must end with ']'".into(),
                Some(d) if !py_strip(&stripped[..d]).is_empty() => format!(
                    "'{}' is set before any [section] header",
                    key_hint(py_strip(&stripped[..d]))
                ),
                _ => "expected a [section] header first (the line is not shown: it may hold a secret)"
                    .into(),
            }));
        };
        let Some(delim) = delim else {
            return Err(err(if stripped.starts_with("[]") {
                "a section header with no name".into()
            } else if stripped.starts_with('[') {
                "a section header must end with ']'".into()
            } else {
                "expected '[section]', 'key = value' or a comment (the line is not shown: it may hold a secret)".into()
            }));
        };
        let key = py_strip(&stripped[..delim]);
        if key.is_empty() {
            return Err(err("a setting with no name before '='".into()));
        }
        let name = key.to_lowercase();
        if section.entries.iter().any(|e| e.name == name) {
            return Err(err(format!(
                "'{}' is set twice in [{}]; the AWS CLI refuses such a file",
                key_hint(key),
                section_hint(&section.name)
            )));
        }
        // The value's bytes: after the delimiter, without the spaces
        // around it (they stay where they are when it is replaced).
        let after = &stripped[delim + 1..];
        let value = py_strip(after);
        let lead = |s: &str| s.len() - s.trim_start_matches(py_space).len();
        let start = content.start + lead(raw) + delim + 1 + lead(after);
        section.entries.push(Entry {
            key: key.to_string(),
            name,
            lines: full.clone(),
            value: start..start + value.len(),
            joined: None,
        });
        section.end = full.end;
        continues = true;
    }
    Ok(sections)
}

/// The editors' contract, for any input: a parse error, or edits that
/// change nothing but what they edit (or are refused), and text that
/// parses again. Panics on a violation. The first byte picks the edit and
/// (its top bit) the kind of file; the rest is the file. Run by
/// the fuzz target (`fuzz/fuzz_targets/editors.rs`) and, briefly, in CI
/// (`tests/fuzz_editors.rs`).
#[doc(hidden)]
pub fn check_contract(data: &[u8]) {
    let Some((&op, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let kind = if op & 0x80 == 0 {
        FileKind::Credentials
    } else {
        FileKind::Config
    };
    let Ok(doc) = Document::parse(text, kind) else {
        return;
    };
    let values = |d: &Document| -> Vec<(String, String, String)> {
        d.section_names()
            .flat_map(|s| {
                d.keys(s).into_iter().map(move |k| {
                    (
                        s.to_string(),
                        k.to_ascii_lowercase(),
                        d.get(s, k).unwrap_or("").to_string(),
                    )
                })
            })
            .collect()
    };
    let before = values(&doc);
    let new_value = format!("V{op}/x+y");
    let reparse = |d: &Document| {
        Document::parse(d.text().to_string(), kind).expect("an edited document parses again")
    };
    // An edit may be refused when its result would be read differently
    // by botocore and the SDKs (or, for a value on several lines, always);
    // then nothing changes.
    let refused = |result: Result<(), EditError>, edited: &Document| match result {
        Ok(()) => false,
        Err(EditError::Broke(_) | EditError::MultiLine(_)) => {
            assert_eq!(edited.text(), text, "a refused edit changed the text");
            true
        }
        Err(e) => panic!("unexpected edit error: {e}"),
    };
    match (op % 4, before.get(op as usize / 4 % before.len().max(1))) {
        // Replace an existing value: only its bytes change.
        (0, Some((section, key, old))) => {
            let mut edited = doc.clone();
            let range = edited.entry(section, key).expect("listed").value.clone();
            if refused(edited.set(section, key, &new_value), &edited) {
                return;
            }
            assert_eq!(&text[range.clone()], old.as_str());
            let out = edited.text();
            assert_eq!(&out[..range.start], &text[..range.start]);
            assert_eq!(&out[range.start + new_value.len()..], &text[range.end..]);
            let after = values(&reparse(&edited));
            assert_eq!(after.len(), before.len());
            for ((s1, k1, v1), (s2, k2, v2)) in before.iter().zip(&after) {
                assert_eq!((s1, k1), (s2, k2));
                if (s1, k1) == (section, key) {
                    assert_eq!(v2, &new_value);
                } else {
                    assert_eq!(v1, v2);
                }
            }
        }
        // Remove a key: every other value reads the same.
        (1, Some((section, key, _))) => {
            let mut edited = doc.clone();
            match edited.remove(section, key) {
                Ok(removed) => assert!(removed, "a listed key is removed"),
                Err(e) => {
                    refused(Err(e), &edited);
                    return;
                }
            }
            let after = values(&reparse(&edited));
            let expected: Vec<_> = before
                .iter()
                .filter(|(s, k, _)| (s, k) != (section, key))
                .cloned()
                .collect();
            assert_eq!(after, expected);
        }
        // Add a key to a section: the old values stay, the new one reads back.
        (2, Some((section, _, _))) => {
            let mut edited = doc.clone();
            let key = "aws_rekey_fuzz_added";
            if edited.get(section, key).is_none() {
                if refused(edited.set(section, key, &new_value), &edited) {
                    return;
                }
                let reparsed = reparse(&edited);
                assert_eq!(reparsed.get(section, key), Some(new_value.as_str()));
                let after: Vec<_> = values(&reparsed)
                    .into_iter()
                    .filter(|(s, k, _)| (s, k.as_str()) != (section, key))
                    .collect();
                assert_eq!(after, before);
            }
        }
        // Append a section: the input is a prefix of the output.
        _ => {
            let mut edited = doc.clone();
            let name = match kind {
                FileKind::Credentials => "aws-rekey-fuzz",
                FileKind::Config => "profile aws-rekey-fuzz",
            };
            if !edited.has_section(name) {
                if refused(edited.append_section(name, &[("k", &new_value)]), &edited) {
                    return;
                }
                assert!(edited.text().starts_with(text));
                let reparsed = reparse(&edited);
                assert_eq!(reparsed.get(name, "k"), Some(new_value.as_str()));
            }
        }
    }
}

/// A key name as a parse error may show it. Errors name the line, never
/// its text: a damaged line may be a secret pasted in the wrong place, and
/// `check` prints the error at every shell start. A secret or token pasted
/// before a `=` or `:` parses as a key name, so only names that look like
/// settings (snake_case in one letter case, as every AWS setting is) are
/// shown whole; anything else shows its first 4 characters.
fn key_hint(key: &str) -> String {
    let one_case = |lower: bool| {
        key.chars().all(|c| {
            c.is_ascii_digit()
                || c == '_'
                || (lower && c.is_ascii_lowercase())
                || (!lower && c.is_ascii_uppercase())
        })
    };
    let setting_like = key.len() <= 40
        && key.starts_with(|c: char| c.is_ascii_alphabetic())
        && (one_case(true) || one_case(false))
        && (key.contains('_') || key.len() <= 12);
    if setting_like {
        key.to_string()
    } else {
        let head: String = key.chars().take(4).collect();
        format!("{head}…")
    }
}

/// A section name as an error may show it: each word whole if it reads
/// like a profile name in one letter case (`profile work`, `dev-east`),
/// else its first 4 characters, for the reasons given at `key_hint`.
fn section_hint(name: &str) -> String {
    let shown = |w: &str| {
        w.len() <= 40
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
            && !(w.chars().any(|c| c.is_ascii_lowercase())
                && w.chars().any(|c| c.is_ascii_uppercase()))
    };
    name.split(' ')
        .map(|w| {
            if shown(w) {
                w.to_string()
            } else {
                let head: String = w.chars().take(4).collect();
                format!("{head}…")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: impl Into<String>) -> Result<Document, ParseError> {
        Document::parse(text, FileKind::Credentials)
    }

    fn config(text: impl Into<String>) -> Result<Document, ParseError> {
        Document::parse(text, FileKind::Config)
    }

    const SAMPLE: &str = "# my keys\r\n[default]\r\naws_access_key_id=AKIAOLD\r\n\
        aws_secret_access_key =   oldsecret  \r\n; note\r\n\r\n[work] # mine\r\nregion =eu-west-1\r\n\
        s3 =\r\n  max_concurrent_requests = 20\r\naws_access_key_id = AKIAWORK\r\n";

    #[test]
    fn reads_values_and_keys() {
        let doc = parse(SAMPLE).unwrap();
        assert_eq!(doc.get("default", "aws_access_key_id"), Some("AKIAOLD"));
        assert_eq!(
            doc.get("default", "AWS_SECRET_ACCESS_KEY"),
            Some("oldsecret")
        );
        assert_eq!(doc.get("work", "region"), Some("eu-west-1"));
        // A nested value reads as botocore reads it, before it splits it.
        assert_eq!(
            doc.get("work", "s3"),
            Some("\nmax_concurrent_requests = 20")
        );
        assert_eq!(doc.keys("work"), vec!["region", "s3", "aws_access_key_id"]);
        assert_eq!(
            doc.section_names().collect::<Vec<_>>(),
            vec!["default", "work"]
        );
    }

    #[test]
    fn replacing_a_value_changes_only_its_bytes() {
        let mut doc = parse(SAMPLE).unwrap();
        doc.set("default", "aws_secret_access_key", "NEW").unwrap();
        doc.set("default", "aws_access_key_id", "AKIANEW").unwrap();
        assert_eq!(
            doc.text(),
            SAMPLE
                .replace("=   oldsecret  ", "=   NEW  ")
                .replace("=AKIAOLD", "=AKIANEW")
        );
    }

    #[test]
    fn adding_and_removing_keep_line_endings() {
        let mut doc = parse(SAMPLE).unwrap();
        doc.set("work", "credential_process", "x --y").unwrap();
        assert!(
            doc.text()
                .ends_with("aws_access_key_id = AKIAWORK\r\ncredential_process = x --y\r\n")
        );
        assert!(doc.remove("work", "credential_process").unwrap());
        assert_eq!(doc.text(), SAMPLE);
        assert!(doc.remove("work", "s3").unwrap());
        assert!(!doc.text().contains("max_concurrent"));
    }

    #[test]
    fn empty_sections_go_away_with_their_comments() {
        let mut doc = parse("[a]\nk = v\n# about b\n[b]\nx = 1\n").unwrap();
        assert!(!doc.remove_section_if_empty("a").unwrap());
        doc.remove("a", "k").unwrap();
        assert!(doc.remove_section_if_empty("a").unwrap());
        assert_eq!(doc.text(), "[b]\nx = 1\n");
    }

    #[test]
    fn appends_a_section_to_a_file_without_final_newline() {
        let mut doc = parse("[a]\nk = v").unwrap();
        doc.append_section("b", &[("x", "1")]).unwrap();
        assert_eq!(doc.text(), "[a]\nk = v\n\n[b]\nx = 1\n");
        let mut empty = parse("").unwrap();
        empty.append_section("b", &[("x", "1")]).unwrap();
        assert_eq!(empty.text(), "[b]\nx = 1\n");
    }

    /// Issue 10: botocore ignores what follows a header's `]`, the SDKs
    /// a comment there; both read `[work] # my work key` as `work`.
    #[test]
    fn a_comment_after_a_section_header_is_read() {
        let text = "[work] # my work key\nk = v\n[other];x\n[profile  p]\t; c\n";
        let doc = parse(text).unwrap_err();
        // `[profile  p]` in a credentials file: botocore reads a profile
        // named "profile  p", the SDKs skip it.
        assert_eq!(doc.line, 4, "{doc}");
        let doc = parse(&text[..text.find("[profile").unwrap()]).unwrap();
        assert_eq!(
            doc.section_names().collect::<Vec<_>>(),
            vec!["work", "other"]
        );
        let mut doc = config(text).unwrap();
        assert_eq!(doc.profile_names(), vec!["p"]);
        assert_eq!(doc.profile_section("p"), Some("profile  p"));
        doc.set("work", "k", "w").unwrap();
        doc.set("profile  p", "region", "r").unwrap();
        assert_eq!(
            doc.text(),
            "[work] # my work key\nk = w\n[other];x\n[profile  p]\t; c\nregion = r\n"
        );
    }

    /// A value continued on indented lines reads as botocore joins it; it
    /// is not rewritten, as replacing its first line would keep the rest.
    #[test]
    fn a_value_on_several_lines_reads_joined_and_is_not_rewritten() {
        let text = "[a]\nk = one\n  two\nz = 1\n";
        let mut doc = parse(text).unwrap();
        assert_eq!(doc.get("a", "k"), Some("one\ntwo"));
        assert_eq!(
            doc.set("a", "k", "x"),
            Err(EditError::MultiLine("k".into()))
        );
        assert_eq!(doc.text(), text);
        assert!(doc.remove("a", "k").unwrap());
        assert_eq!(doc.text(), "[a]\nz = 1\n");
    }

    /// Where botocore (the AWS CLI) and the AWS SDKs read a file
    /// differently, it is refused at the line, with what to change; the
    /// line is not quoted.
    #[test]
    fn what_the_two_readers_read_differently_is_refused_with_the_fix() {
        let cases: &[(FileKind, &str, usize, &str)] = &[
            (
                FileKind::Credentials,
                "[a]\nk: v\n",
                2,
                "write 'name = value'",
            ),
            (
                FileKind::Credentials,
                "[a]\nk = v # note\n",
                2,
                "comment on a line of its own",
            ),
            (
                FileKind::Credentials,
                "[a]\nk = v\n  # note\n",
                3,
                "indented comment",
            ),
            (
                FileKind::Credentials,
                "[a]\n  k = v\n",
                2,
                "remove the indentation",
            ),
            (
                FileKind::Credentials,
                "[a] x\nk = v\n",
                1,
                "nothing after ']' but a comment",
            ),
            (
                FileKind::Credentials,
                "[ a ]\nk = v\n",
                1,
                "no other spaces inside the brackets",
            ),
            (FileKind::Credentials, "[a!]\nk = v\n", 1, "letters, digits"),
            (
                FileKind::Credentials,
                "[a]\nin valid = v\n",
                2,
                "rename or remove it",
            ),
            (
                FileKind::Credentials,
                "[a]\nk = v\n\n  more\n",
                2,
                "joined differently",
            ),
            (
                FileKind::Credentials,
                "[DEFAULT]\nk = v\n[a]\n",
                1,
                "[DEFAULT]",
            ),
            (
                FileKind::Credentials,
                "[a]\nk = \u{a0}v\n",
                2,
                "read this line differently",
            ),
            (
                FileKind::Config,
                "[profile a] # [note]\n",
                1,
                "section header",
            ),
            (
                FileKind::Config,
                "[profile \"a\"]\nk = v\n",
                1,
                "section header",
            ),
            (
                FileKind::Config,
                "[ profile a]\nk = v\n",
                1,
                "section header",
            ),
            (
                FileKind::Config,
                "[profiles a]\nk = v\n",
                1,
                "section header",
            ),
            (
                FileKind::Config,
                "[profile a]\nk = 1\n[profile  a]\nj = 2\n",
                3,
                "merge them into one",
            ),
            (
                FileKind::Config,
                "[profile default]\nk = 1\n[default]\nj = 2\n",
                3,
                "merge them into one",
            ),
            (
                FileKind::Config,
                "[profile a]\ns3 =\n  x\n",
                2,
                "must each be 'name = value'",
            ),
            (
                FileKind::Config,
                "[profile a]\ns3 =\n  = x\n",
                3,
                "must each be 'name = value'",
            ),
            (
                FileKind::Config,
                "\u{feff}[profile a]\n",
                1,
                "byte-order mark",
            ),
        ];
        for &(kind, text, line, needle) in cases {
            let err = Document::parse(text, kind).unwrap_err();
            assert_eq!(err.line, line, "{text:?}: {err}");
            assert!(err.message.contains(needle), "{text:?}: {err}");
            assert!(
                !err.message.contains("note") && !err.message.contains("in valid"),
                "{err}"
            );
        }
        // Where they agree, the file is read: `[profile default]` last wins
        // for both, and a config section without the prefix is no profile
        // for either.
        let doc = config("[default]\nk = 1\n[profile default]\nj = 2\n[work]\nx = 1\n").unwrap();
        assert_eq!(doc.profile_names(), vec!["default"]);
        assert_eq!(doc.profile_section("default"), Some("profile default"));
    }

    #[test]
    fn set_on_a_key_without_value_inserts_in_place() {
        let mut doc = parse("[a]\nk =\nz = 1\n").unwrap();
        doc.set("a", "k", "v").unwrap();
        assert_eq!(doc.text(), "[a]\nk =v\nz = 1\n");
    }

    #[test]
    fn refuses_malformed_files_with_the_line() {
        let cases = [
            ("k = v\n", 1, "before any [section]"),
            ("[a]\njunk\n", 2, "expected"),
            ("[a\n", 1, "must end with"),
            ("[a]\n[a]\n", 2, "appears twice"),
            ("[a]\nk=1\nK=2\n", 3, "set twice"),
            ("[a]\n= v\n", 2, "no name"),
        ];
        for (text, line, needle) in cases {
            let err = parse(text).unwrap_err();
            assert_eq!(err.line, line, "{text:?}");
            assert!(err.message.contains(needle), "{text:?}: {err}");
        }
    }

    #[test]
    fn error_messages_do_not_quote_the_line() {
        let secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY";
        for text in [
            format!("[a]\n{secret}\n"),
            format!("[a]\naws_secret_access_key {secret}\n"),
            format!("[{secret}\n"),
            format!("{secret}=\n"),
            format!("[a]\n{secret}: 1\n{secret}: 2\n"),
        ] {
            let err = parse(text.clone()).unwrap_err().to_string();
            assert!(!err.contains(&secret[..5]), "{text:?}: {err}");
        }
        // Setting names are shown: they are what the user needs to find.
        let err = parse("[a]\nregion = x\nREGION = y\n").unwrap_err();
        assert!(err.to_string().contains("'REGION' is set twice"), "{err}");
        let err = parse("aws_access_key_id = x\n").unwrap_err();
        assert!(err.to_string().contains("'aws_access_key_id'"), "{err}");
    }

    /// Found by the editors' fuzz contract: a lone CR ends a line for the
    /// AWS CLI (Python's universal newlines) but not for the SDKs, which
    /// split at LF only. Where that changes what they read, the file is
    /// refused; inside a comment it changes nothing, and an added line
    /// ends in LF.
    #[test]
    fn a_lone_cr_is_refused_where_the_readers_split_lines_differently() {
        let err = parse("[a]\r _ = \r;\rk = v\r").unwrap_err();
        assert_eq!(err.line, 1, "{err}");
        assert!(err.message.contains("carriage return"), "{err}");
        let mut doc = parse("# a\r# b\n[a]\nk = v\n").unwrap();
        doc.set("a", "k", "w").unwrap();
        doc.set("a", "new", "x").unwrap();
        assert_eq!(doc.text(), "# a\r# b\n[a]\nk = w\nnew = x\n");
    }

    #[test]
    fn section_names_that_would_inject_sections_are_refused() {
        let mut doc = parse("[a]\nk = v\n").unwrap();
        for bad in ["b]\n[evil", "b]", "[b", "b\rc", " b", "b ", "", "b\u{0}c"] {
            assert_eq!(
                doc.append_section(bad, &[("k", "v")]),
                Err(EditError::BadSection),
                "{bad:?}"
            );
        }
        assert_eq!(doc.text(), "[a]\nk = v\n");
        // In the config file, a section no reader takes for a profile.
        let mut doc = config("[a]\nk = v\n").unwrap();
        doc.append_section("profile dev$(touch${IFS}x) 'q'", &[("k", "v")])
            .unwrap();
        // The SDKs cut a header at ';': the file would break for them.
        assert!(matches!(
            doc.append_section("profile dev;x", &[("k", "v")]),
            Err(EditError::Broke(_))
        ));
    }

    #[test]
    fn values_with_line_breaks_are_refused() {
        let mut doc = parse("[a]\nk = v\n").unwrap();
        assert_eq!(doc.set("a", "k", "x\n[b]"), Err(EditError::BadValue));
        assert_eq!(doc.text(), "[a]\nk = v\n");
    }

    fn line() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            "[#;][ -~]{0,20}",
            "[ \t]{0,2}\\[[a-z ]{1,8}\\][ \t]{0,2}",
            "\\[[a-z]{1,8}\\][ \t]{0,2}[#;][ -~]{0,20}",
            "[a-z_]{1,12}[ \t]{0,3}=[ \t]{0,3}[!-~]{0,20}",
            "[a-z_]{1,12}[ \t]{0,3}[=:][ \t]{0,3}[ -~]{0,20}",
            "[ \t]{1,3}[a-z_]{1,8} = [a-z0-9]{0,8}",
        ]
    }

    fn file() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec((line(), prop_oneof![Just("\n"), Just("\r\n")]), 0..30),
            any::<bool>(),
        )
            .prop_map(|(lines, final_newline)| {
                let mut text: String = lines.iter().map(|(l, e)| format!("{l}{e}")).collect();
                if !final_newline {
                    while text.ends_with(['\n', '\r']) {
                        text.pop();
                    }
                }
                text
            })
    }

    proptest! {
        /// For any file: either a parse error, or an edit of one value that
        /// changes exactly that value's bytes.
        #[test]
        fn editing_changes_only_the_value(text in file(), new in "[A-Za-z0-9/+]{1,40}") {
            let Ok(doc) = parse(text.clone()) else { return Ok(()) };
            let targets: Vec<(String, String, String)> = doc
                .section_names()
                .flat_map(|s| doc.keys(s).into_iter().map(move |k| (s.to_string(), k.to_string())))
                .map(|(s, k)| { let v = doc.get(&s, &k).unwrap().to_string(); (s, k, v) })
                .collect();
            for (section, key, old) in targets {
                let mut edited = doc.clone();
                if doc.entry(&section, &key).unwrap().joined.is_some() {
                    let refused = edited.set(&section, &key, &new);
                    prop_assert_eq!(refused, Err(EditError::MultiLine(key_hint(&key))));
                    prop_assert_eq!(edited.text(), text.as_str());
                    continue;
                }
                edited.set(&section, &key, &new).unwrap();
                prop_assert_eq!(edited.get(&section, &key), Some(new.as_str()));
                let before = doc.entry(&section, &key).unwrap().value.clone();
                let out = edited.text();
                prop_assert_eq!(&out[..before.start], &text[..before.start]);
                prop_assert_eq!(&out[before.start + new.len()..], &text[before.end..]);
                prop_assert_eq!(&text[before.clone()], old.as_str());
                // Every other value reads the same after the edit.
                for s in doc.section_names() {
                    for k in doc.keys(s) {
                        if s != section || k != key {
                            prop_assert_eq!(edited.get(s, k), doc.get(s, k));
                        }
                    }
                }
            }
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,200}") {
            let _ = parse(text);
        }
    }
}
