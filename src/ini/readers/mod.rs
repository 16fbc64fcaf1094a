//! The two readers of the shared files, profile by profile: botocore (the
//! AWS CLI) and the AWS SDKs. `check` refuses a file they read as different
//! profiles or values, naming the line and quoting none of it.
//!
//! botocore's reading is `ini`'s parse plus `configloader.build_profile_map`
//! (config) or `raw_config_parse` (credentials). The SDKs' reading is a
//! model of the Rust SDK's parser (`aws-runtime`'s `env_config::parse` and
//! `normalize`, which pass the SDKs' shared profile-parser cases), not a
//! call into it: its errors carry the line only inside their text, it says
//! nothing of where a profile it skips was, and it keeps copies of the
//! secrets it reads that are never wiped. `tests/profile_grammar.rs` checks
//! this model against the real parser, on those cases and on generated
//! files.

use super::{FileKind, ParseError, Section, py_lines, py_space, py_strip};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

mod sdk;
#[cfg(test)]
mod tests;

use sdk::{SdkFailure, WS, identifier, sdk, sdk_lines};

type Value = Zeroizing<String>;

/// A profile's settings as one reader has them, each with the offset of
/// the line it was read from.
struct Profile {
    /// The offset of the header that named it (the first one, for the
    /// SDKs; the one read, for botocore).
    at: usize,
    settings: BTreeMap<String, (Value, usize)>,
    /// botocore, config file: a later section naming the same profile
    /// replaced this one's settings wholesale (the SDKs merge them).
    replaced: Option<usize>,
    /// The SDKs: two sections naming this profile set one key to two
    /// values; which one wins depends on hash order.
    conflict: Option<usize>,
    /// botocore: settings that came from a `[DEFAULT]` section.
    defaults: Option<usize>,
}

impl Profile {
    fn new(at: usize) -> Self {
        Profile {
            at,
            settings: BTreeMap::new(),
            replaced: None,
            conflict: None,
            defaults: None,
        }
    }
}

type Profiles = BTreeMap<String, Profile>;

/// Refuses a text that botocore reads as other profiles or values than the
/// AWS SDKs do, or that one of them cannot read at all.
pub(super) fn check(text: &str, sections: &[Section], kind: FileKind) -> Result<(), ParseError> {
    let explain = |at: usize, why: Why| ParseError {
        line: line_of(text, at),
        message: message(text, sections, at, why),
    };
    let boto = botocore(text, sections, kind).map_err(|at| explain(at, Why::Nested))?;
    let sdk = sdk(text, kind).map_err(|e| explain(e.at, Why::Sdk(e.kind)))?;
    match first_difference(&boto, &sdk) {
        Some((at, Why::Line)) => Err(explain(culprit(text, at), Why::Line)),
        Some((at, why)) => Err(explain(at, why)),
        None => Ok(()),
    }
}

/// For a setting read differently: an indented comment among the lines
/// that continue it (the SDKs read it into the value, botocore skips it)
/// is the line to show; otherwise the setting's own line.
fn culprit(text: &str, at: usize) -> usize {
    sdk_lines(text)
        .skip_while(|(start, _)| *start <= at)
        .take_while(|(_, l)| l.starts_with(WS) || l.is_empty() || l.starts_with(['#', ';']))
        .find(|(_, l)| l.starts_with(WS) && py_strip(l).starts_with(['#', ';']))
        .map_or(at, |(start, _)| start)
}

// ---- botocore ----

/// botocore's name for the profile a section holds, if it holds one.
pub(super) fn profile_name(section: &str, kind: FileKind) -> Option<String> {
    match kind {
        // `raw_config_parse`: every section is a profile, named as written,
        // but for configparser's `[DEFAULT]`, which holds defaults for the
        // others.
        FileKind::Credentials => (section != "DEFAULT").then(|| section.to_string()),
        // `build_profile_map`: `shlex.split` of a name starting with
        // "profile", when it gives two words; or `default` itself.
        FileKind::Config if section.starts_with("profile") => match shlex_split(section)? {
            words if words.len() == 2 => words.into_iter().nth(1),
            _ => None,
        },
        FileKind::Config => (section == "default").then(|| section.to_string()),
    }
}

/// botocore's profiles, or the offset of the setting whose nested value it
/// refuses.
fn botocore(text: &str, sections: &[Section], kind: FileKind) -> Result<Profiles, usize> {
    let defaults = sections.iter().find(|s| s.name == "DEFAULT");
    let mut profiles = Profiles::new();
    for section in sections.iter().filter(|s| s.name != "DEFAULT") {
        let mut profile = Profile::new(section.header.start);
        let value = |e: &super::Entry| -> Value {
            Zeroizing::new(match &e.joined {
                Some(joined) => joined.to_string(),
                None => text[e.value.clone()].to_string(),
            })
        };
        for e in &section.entries {
            profile
                .settings
                .insert(e.name.clone(), (value(e), e.lines.start));
        }
        for e in defaults.iter().flat_map(|d| &d.entries) {
            if !profile.settings.contains_key(&e.name) {
                profile
                    .settings
                    .insert(e.name.clone(), (value(e), e.lines.start));
                profile.defaults = defaults.map(|d| d.header.start);
            }
        }
        // `raw_config_parse` parses a value that starts on the next line
        // as `name = value` lines, in every section, and fails the whole
        // file on a line without '='.
        for (v, at) in profile.settings.values() {
            if v.starts_with('\n') && botocore_nested(v).is_none() {
                return Err(*at);
            }
        }
        if let Some(name) = profile_name(&section.name, kind) {
            if profiles.contains_key(&name) {
                profile.replaced = Some(profile.at);
            }
            profiles.insert(name, profile);
        }
    }
    Ok(profiles)
}

/// Python's `str.splitlines` separators.
fn py_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\u{b}'
            | '\u{c}'
            | '\u{1c}'
            | '\u{1d}'
            | '\u{1e}'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// `configloader._parse_nested`: `None` where it raises.
fn botocore_nested(value: &str) -> Option<BTreeMap<String, Value>> {
    let mut out = BTreeMap::new();
    for line in value.split(py_line_break).map(py_strip) {
        if line.is_empty() {
            continue;
        }
        let (k, v) = line.split_once('=')?;
        out.insert(
            py_strip(k).to_string(),
            Zeroizing::new(py_strip(v).to_string()),
        );
    }
    Some(out)
}

/// Python's `shlex.split` (POSIX mode, no comments); `None` where it
/// raises (an unclosed quote, a final backslash).
fn shlex_split(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\\' => {
                in_word = true;
                word.push(chars.next()?);
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        // Inside double quotes a backslash escapes only a
                        // quote or a backslash; otherwise it is kept.
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\') => word.push(c),
                            c => {
                                word.push('\\');
                                word.push(c);
                            }
                        },
                        c => word.push(c),
                    }
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

/// A value that starts on the next line holds sub-properties: botocore
/// reads them as a map, the SDKs keep the text (and read it as a map
/// where they use it), so those compare as maps.
fn same_value(boto: &str, sdk: &str) -> bool {
    if !boto.starts_with('\n') {
        return boto == sdk;
    }
    let sdk_nested: BTreeMap<String, Value> = sdk
        .split('\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            (
                k.trim_matches(WS).to_string(),
                Zeroizing::new(v.trim_matches(WS).to_string()),
            )
        })
        .collect();
    sdk.starts_with('\n') && botocore_nested(boto) == Some(sdk_nested)
}

// ---- comparing, and saying why ----

#[derive(Clone, Copy, Debug, PartialEq)]
enum Why {
    /// A header read as different profiles.
    Header,
    /// A line read as different settings or values.
    Line,
    /// A later section for the same profile.
    TwoSections,
    /// A setting given by `[DEFAULT]`.
    Default,
    /// botocore refuses the sub-properties under this setting.
    Nested,
    /// The SDKs refuse this line.
    Sdk(SdkFailure),
}

/// The earliest place where the two readings differ.
fn first_difference(boto: &Profiles, sdk: &Profiles) -> Option<(usize, Why)> {
    let mut found: Vec<(usize, Why)> = Vec::new();
    for (name, s) in sdk {
        if let Some(at) = s.conflict {
            found.push((at, Why::TwoSections));
        }
        if !boto.contains_key(name) {
            found.push((s.at, Why::Header));
        }
    }
    for (name, b) in boto {
        let Some(s) = sdk.get(name) else {
            found.push((b.at, Why::Header));
            continue;
        };
        let mut differs = Vec::new();
        for (key, (value, at)) in &b.settings {
            match s.settings.get(key) {
                Some((v, _)) if same_value(value, v) => {}
                Some((_, sdk_at)) => differs.push(*at.min(sdk_at)),
                None => differs.push(*at),
            }
        }
        for (key, (_, at)) in &s.settings {
            if !b.settings.contains_key(key) {
                differs.push(*at);
            }
        }
        let Some(&at) = differs.iter().min() else {
            continue;
        };
        found.push(match (b.replaced, b.defaults) {
            (Some(later), _) => (later, Why::TwoSections),
            (None, Some(default)) => (default, Why::Default),
            (None, None) => (at, Why::Line),
        });
    }
    found.into_iter().min_by_key(|(at, _)| *at)
}

/// The line number (as the AWS CLI counts lines) of a byte offset.
fn line_of(text: &str, at: usize) -> usize {
    py_lines(text).take_while(|(_, end)| *end <= at).count() + 1
}

fn message(text: &str, sections: &[Section], at: usize, why: Why) -> String {
    const BOTH: &str = "the AWS CLI and the AWS SDKs read this line differently";
    // The line as the SDKs split it: a CR inside it ends a line only for
    // the AWS CLI.
    let sdk_line = sdk_lines(text)
        .find(|(start, l)| at >= *start && at <= start + l.len())
        .map(|(_, l)| l)
        .unwrap_or("");
    if sdk_line.contains('\r') {
        return format!(
            "{BOTH}: a carriage return (CR) without a line feed ends a line for the AWS CLI, not for the AWS SDKs; save the file with LF or CRLF line endings"
        );
    }
    let line = py_lines(text)
        .find(|(range, end)| at >= range.start && (at < *end || *end == text.len()))
        .map(|(range, _)| &text[range])
        .unwrap_or("");
    let stripped = py_strip(line);
    let continued = sections
        .iter()
        .flat_map(|s| &s.entries)
        .any(|e| e.lines.start == at && e.joined.is_some());
    let header = || {
        if super::header_name(stripped) == Some("DEFAULT") {
            DEFAULT.to_string()
        } else {
            HEADER.to_string()
        }
    };
    let line_cause = || -> Option<String> {
        let indented = line.starts_with(py_space);
        let cause = if stripped.is_empty() {
            "a line of unusual spaces reads as blank to the AWS CLI, not to the AWS SDKs; empty it"
        } else if indented && stripped.starts_with(['#', ';']) {
            "an indented comment is skipped by the AWS CLI, but read by the AWS SDKs as part of the setting above (or refused); start the comment at the beginning of the line"
        } else if stripped.starts_with('[') {
            return Some(header());
        } else if indented {
            "an indented line that continues no setting is a setting of its own for the AWS CLI and refused by the AWS SDKs; remove the indentation"
        } else if stripped
            .find(['=', ':'])
            .is_some_and(|i| stripped[i..].starts_with(':'))
        {
            "':' between a name and its value is accepted by the AWS CLI, not by the AWS SDKs; write 'name = value'"
        } else if stripped
            .split_once('=')
            .is_some_and(|(k, _)| !identifier(py_strip(k)))
        {
            "a setting name with characters other than letters, digits and - / . % @ _ : + is read by the AWS CLI and ignored by the AWS SDKs; rename or remove it"
        } else if has_inline_comment(stripped) {
            "after a space, '#' or ';' starts a comment for the AWS SDKs but is part of the value for the AWS CLI; put the comment on a line of its own"
        } else if continued {
            "the lines indented under this setting are joined differently by the AWS CLI and the AWS SDKs (blank lines or comments among them, or unusual spaces); keep them together, with nothing between them"
        } else {
            return None;
        };
        Some(format!("{BOTH}: {cause}"))
    };
    match why {
        Why::Header => header(),
        Why::Default => DEFAULT.into(),
        Why::TwoSections => "a second section for a profile named above ([default] and [profile default], or the same name spelled differently): the AWS CLI reads only the last one, the AWS SDKs merge them; merge them into one section".into(),
        Why::Nested => "the lines indented under a setting with an empty value must each be 'name = value'; the AWS CLI refuses this file".into(),
        Why::Line => line_cause().unwrap_or_else(|| BOTH.into()),
        Why::Sdk(SdkFailure::HeaderEnd) if stripped.starts_with('[') => header(),
        Why::Sdk(SdkFailure::SubProperty) => "the lines indented under a setting with an empty value must each be 'name = value' for the AWS SDKs".into(),
        Why::Sdk(failure) => line_cause().unwrap_or_else(|| {
            let reason = match failure {
                SdkFailure::NoProfile => "they expect a [section] header first",
                SdkFailure::HeaderEnd => "they read it as a section header without its ']'",
                SdkFailure::NoProperty => "they read it as continuing a setting, and there is none",
                _ => "they expect 'name = value'",
            };
            format!("the AWS SDKs cannot read this line ({reason}), though the AWS CLI does")
        }),
    }
}

const HEADER: &str = "the AWS CLI and the AWS SDKs read this section header as different profiles (or only one of them as a profile); write [NAME] in the credentials file, [profile NAME] or [default] in the config file, with no other spaces inside the brackets, a NAME of letters, digits and - / . % @ _ : + only, and nothing after ']' but a comment";

const DEFAULT: &str = "a [DEFAULT] section gives its settings to every other section for the AWS CLI, not for the AWS SDKs (for them it is a profile named DEFAULT in the credentials file, and nothing in the config file); move its settings into the profiles";

/// A `#` or `;` after whitespace in the value: the SDKs cut the line there.
fn has_inline_comment(stripped: &str) -> bool {
    let value = stripped.split_once('=').map_or(stripped, |(_, v)| v);
    let mut prev_whitespace = false;
    for c in value.chars() {
        if (c == '#' || c == ';') && prev_whitespace {
            return true;
        }
        prev_whitespace = c.is_whitespace();
    }
    false
}
