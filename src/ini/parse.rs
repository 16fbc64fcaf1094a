//! botocore's grammar, line by line: where each section and value sits,
//! and what a parse error may show of a line (never its text).

use super::{Entry, ParseError, Section};
use std::ops::Range;
use zeroize::Zeroizing;

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
pub(super) fn header_name(stripped: &str) -> Option<&str> {
    let inner = stripped.strip_prefix('[')?;
    let close = inner.rfind(']')?;
    (close > 0).then(|| &inner[..close])
}

/// Parses `text` as configparser (`RawConfigParser`, as botocore sets it
/// up) reads it, refusing what it refuses. Line numbers count lines as
/// the AWS CLI does.
// Long: configparser's state machine in one pass, as Python runs it;
// split, the state (the setting an indented line continues, the
// indentation that started it) would be shared by every piece.
pub(super) fn parse_sections(text: &str) -> Result<Vec<Section>, ParseError> {
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

/// A key name as a parse error may show it. Errors name the line, never
/// its text: a damaged line may be a secret pasted in the wrong place, and
/// `check` prints the error at every shell start. A secret or token pasted
/// before a `=` or `:` parses as a key name, so only names that look like
/// settings (snake_case in one letter case, as every AWS setting is) are
/// shown whole; anything else shows its first 4 characters.
pub(super) fn key_hint(key: &str) -> String {
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
pub(super) fn section_hint(name: &str) -> String {
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
