//! The lossless INI editor for `~/.aws/credentials` and `~/.aws/config`.
//!
//! INI libraries (rust-ini, configparser) drop comments and reorder keys when
//! they write, and users notice. This module parses just enough to know where
//! each value sits, and edits by splicing bytes: every byte outside the edited
//! values (comments, blank lines, spacing around `=`, key order, unknown keys,
//! other sections, CRLF line endings) is kept as it was.
//!
//! The grammar follows what the AWS CLI (Python's RawConfigParser) accepts:
//! `[section]` headers, `key = value` or `key: value`, full-line comments
//! starting with `#` or `;`, and indented continuation lines for nested
//! values. Duplicate sections or keys are errors there, and are errors here
//! too, so the tool never guesses which copy the user's tools read.

use std::ops::Range;
use thiserror::Error;
use zeroize::Zeroizing;

#[derive(Debug, Error, PartialEq)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

#[derive(Clone, Debug)]
struct Entry {
    key: String,
    /// Byte range of the whole entry, from the start of its first line to the
    /// end of its last continuation line, line endings included.
    lines: Range<usize>,
    /// Byte range of the value on the key's own line.
    value: Range<usize>,
}

#[derive(Clone, Debug)]
struct Section {
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
    sections: Vec<Section>,
}

impl Document {
    pub fn parse(text: impl Into<String>) -> Result<Self, ParseError> {
        let text = Zeroizing::new(text.into());
        let sections = parse_sections(&text)?;
        Ok(Document { text, sections })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn section_names(&self) -> impl Iterator<Item = &str> {
        self.sections.iter().map(|s| s.name.as_str())
    }

    pub fn has_section(&self, name: &str) -> bool {
        self.section(name).is_some()
    }

    /// The value of `key` in `section` (keys compare case-insensitively, as
    /// the AWS CLI lowercases them).
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        let entry = self.entry(section, key)?;
        Some(&self.text[entry.value.clone()])
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
        self.section(section)?
            .entries
            .iter()
            .find(|e| e.key.eq_ignore_ascii_case(key))
    }

    /// CRLF if the file already uses it, so added lines match their
    /// neighbours.
    fn line_ending(&self) -> &'static str {
        if self.text.contains("\r\n") {
            "\r\n"
        } else if self.text.contains('\r') {
            "\r"
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
        // Re-parsing keeps every range true after the edit; a failure here is
        // a bug in this module, never something to write to disk.
        self.sections = parse_sections(&text).map_err(EditError::Broke)?;
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
        "a section name cannot be empty, contain '[', ']', a line break or another control character, or start or end with a space"
    )]
    BadSection,
    #[error("the edit would make the file unreadable ({0})")]
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

fn parse_sections(text: &str) -> Result<Vec<Section>, ParseError> {
    let mut sections: Vec<Section> = Vec::new();
    let mut offset = 0;
    // A UTF-8 byte-order mark is kept as it is, but is not part of the first
    // line's syntax.
    if text.starts_with('\u{feff}') {
        offset = '\u{feff}'.len_utf8();
    }
    let mut line_no = 0;
    while offset < text.len() {
        line_no += 1;
        let rest = &text[offset..];
        // Lines end in LF, CRLF or a lone CR: the AWS CLI reads files with
        // Python's universal newlines, which accept all three.
        let (content_len, line_len) = match rest.find(['\n', '\r']) {
            Some(i) if rest[i..].starts_with("\r\n") => (i, i + 2),
            Some(i) => (i, i + 1),
            None => (rest.len(), rest.len()),
        };
        let full = offset..offset + line_len;
        let content_str = &rest[..content_len];
        let trimmed = content_str.trim();
        let err = |message: String| ParseError {
            line: line_no,
            message,
        };

        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            if let Some(s) = sections.last_mut() {
                s.end = full.end;
            }
        } else if content_str.starts_with([' ', '\t'])
            && sections.last().is_some_and(|s| !s.entries.is_empty())
        {
            let s = sections.last_mut().expect("checked above");
            s.entries.last_mut().expect("checked above").lines.end = full.end;
            s.end = full.end;
        } else if trimmed.starts_with('[') {
            let Some(inner) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) else {
                return Err(err("a section header must end with ']'".into()));
            };
            let name = inner.trim().to_string();
            if name.is_empty() {
                return Err(err("empty section name '[]'".into()));
            }
            if sections.iter().any(|s| s.name == name) {
                return Err(err(format!(
                    "[{name}] appears twice; the AWS CLI refuses such a file, merge the two sections"
                )));
            }
            sections.push(Section {
                name,
                header: full.clone(),
                entries: Vec::new(),
                end: full.end,
            });
        } else {
            let Some(delim) = content_str.find(['=', ':']) else {
                return Err(err(
                    "expected '[section]', 'key = value' or a comment (the line is not shown: it may hold a secret)".into(),
                ));
            };
            let key = content_str[..delim].trim().to_string();
            if key.is_empty() {
                return Err(err("a setting with no name before '='".into()));
            }
            let Some(section) = sections.last_mut() else {
                return Err(err(format!(
                    "'{}' is set before any [section] header",
                    key_hint(&key)
                )));
            };
            if section
                .entries
                .iter()
                .any(|e| e.key.eq_ignore_ascii_case(&key))
            {
                return Err(err(format!(
                    "'{}' is set twice in [{}]; the AWS CLI refuses such a file",
                    key_hint(&key),
                    section.name
                )));
            }
            let after = &content_str[delim + 1..];
            let lead = after.len() - after.trim_start().len();
            let value_text = after.trim();
            let start = offset + delim + 1 + lead;
            section.entries.push(Entry {
                key,
                lines: full.clone(),
                value: start..start + value_text.len(),
            });
            section.end = full.end;
        }
        offset = full.end;
    }
    Ok(sections)
}

/// The editors' contract, for any input: a parse error, or edits that
/// change nothing but what they edit, and text that parses again. Panics on
/// a violation. The first byte picks the edit; the rest is the file. Run by
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
    let Ok(doc) = Document::parse(text) else {
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
        Document::parse(d.text().to_string()).expect("an edited document parses again")
    };
    match (op % 4, before.get(op as usize / 4 % before.len().max(1))) {
        // Replace an existing value: only its bytes change.
        (0, Some((section, key, old))) => {
            let mut edited = doc.clone();
            let range = edited.entry(section, key).expect("listed").value.clone();
            edited
                .set(section, key, &new_value)
                .expect("set an existing key");
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
            assert!(edited.remove(section, key).expect("remove"));
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
                edited.set(section, key, &new_value).expect("add a key");
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
            let name = "aws-rekey fuzz";
            if !edited.has_section(name) {
                edited
                    .append_section(name, &[("k", &new_value)])
                    .expect("append a section");
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SAMPLE: &str = "# my keys\r\n[default]\r\naws_access_key_id=AKIAOLD\r\n\
        aws_secret_access_key =   oldsecret  \r\n; note\r\n\r\n[work]\r\nregion: eu-west-1\r\n\
        s3 =\r\n  max_concurrent_requests = 20\r\naws_access_key_id = AKIAWORK\r\n";

    #[test]
    fn reads_values_and_keys() {
        let doc = Document::parse(SAMPLE).unwrap();
        assert_eq!(doc.get("default", "aws_access_key_id"), Some("AKIAOLD"));
        assert_eq!(
            doc.get("default", "AWS_SECRET_ACCESS_KEY"),
            Some("oldsecret")
        );
        assert_eq!(doc.get("work", "region"), Some("eu-west-1"));
        assert_eq!(doc.get("work", "s3"), Some(""));
        assert_eq!(doc.keys("work"), vec!["region", "s3", "aws_access_key_id"]);
        assert_eq!(
            doc.section_names().collect::<Vec<_>>(),
            vec!["default", "work"]
        );
    }

    #[test]
    fn replacing_a_value_changes_only_its_bytes() {
        let mut doc = Document::parse(SAMPLE).unwrap();
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
        let mut doc = Document::parse(SAMPLE).unwrap();
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
        let mut doc = Document::parse("[a]\nk = v\n# about b\n[b]\nx = 1\n").unwrap();
        assert!(!doc.remove_section_if_empty("a").unwrap());
        doc.remove("a", "k").unwrap();
        assert!(doc.remove_section_if_empty("a").unwrap());
        assert_eq!(doc.text(), "[b]\nx = 1\n");
    }

    #[test]
    fn appends_a_section_to_a_file_without_final_newline() {
        let mut doc = Document::parse("[a]\nk = v").unwrap();
        doc.append_section("b", &[("x", "1")]).unwrap();
        assert_eq!(doc.text(), "[a]\nk = v\n\n[b]\nx = 1\n");
        let mut empty = Document::parse("").unwrap();
        empty.append_section("b", &[("x", "1")]).unwrap();
        assert_eq!(empty.text(), "[b]\nx = 1\n");
    }

    #[test]
    fn set_on_a_key_without_value_inserts_in_place() {
        let mut doc = Document::parse("[a]\nk =\nz = 1\n").unwrap();
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
            let err = Document::parse(text).unwrap_err();
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
            let err = Document::parse(text.clone()).unwrap_err().to_string();
            assert!(!err.contains(&secret[..5]), "{text:?}: {err}");
        }
        // Setting names are shown: they are what the user needs to find.
        let err = Document::parse("[a]\nregion = x\nREGION = y\n").unwrap_err();
        assert!(err.to_string().contains("'REGION' is set twice"), "{err}");
        let err = Document::parse("aws_access_key_id = x\n").unwrap_err();
        assert!(err.to_string().contains("'aws_access_key_id'"), "{err}");
    }

    /// Found by the editors' fuzz contract: a lone CR ends a line for the
    /// AWS CLI (Python's universal newlines), so it must for the editor too,
    /// or a value range would swallow it.
    #[test]
    fn a_lone_cr_ends_a_line() {
        let mut doc = Document::parse("[a]\r _ = \r;\rk = v\r").unwrap();
        assert_eq!(doc.get("a", "_"), Some(""));
        assert_eq!(doc.get("a", "k"), Some("v"));
        doc.set("a", "k", "w").unwrap();
        doc.set("a", "new", "x").unwrap();
        assert_eq!(doc.text(), "[a]\r _ = \r;\rk = w\rnew = x\r");
    }

    #[test]
    fn section_names_that_would_inject_sections_are_refused() {
        let mut doc = Document::parse("[a]\nk = v\n").unwrap();
        for bad in ["b]\n[evil", "b]", "[b", "b\rc", " b", "b ", "", "b\u{0}c"] {
            assert_eq!(
                doc.append_section(bad, &[("k", "v")]),
                Err(EditError::BadSection),
                "{bad:?}"
            );
        }
        assert_eq!(doc.text(), "[a]\nk = v\n");
        doc.append_section("profile dev;touch${IFS}x 'q'", &[("k", "v")])
            .unwrap();
    }

    #[test]
    fn values_with_line_breaks_are_refused() {
        let mut doc = Document::parse("[a]\nk = v\n").unwrap();
        assert_eq!(doc.set("a", "k", "x\n[b]"), Err(EditError::BadValue));
        assert_eq!(doc.text(), "[a]\nk = v\n");
    }

    fn line() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            "[#;][ -~]{0,20}",
            "[ \t]{0,2}\\[[a-z ]{1,8}\\][ \t]{0,2}",
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
            let Ok(doc) = Document::parse(text.clone()) else { return Ok(()) };
            let targets: Vec<(String, String, String)> = doc
                .section_names()
                .flat_map(|s| doc.keys(s).into_iter().map(move |k| (s.to_string(), k.to_string())))
                .map(|(s, k)| { let v = doc.get(&s, &k).unwrap().to_string(); (s, k, v) })
                .collect();
            for (section, key, old) in targets {
                let mut edited = doc.clone();
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
            let _ = Document::parse(text);
        }
    }
}
