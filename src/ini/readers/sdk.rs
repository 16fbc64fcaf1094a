//! The AWS SDKs' reading: a model of the Rust SDK's parser
//! (`aws-runtime`'s `env_config::parse` and `normalize`).

use super::*;

/// The only characters the SDKs count as spaces in these files.
pub(super) const WS: &[char] = &[' ', '\t'];

/// Why the SDKs' parser refuses a line (its messages, in `aws-runtime`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum SdkFailure {
    /// "Expected a profile definition"
    NoProfile,
    /// "Profile definition must end with ']'"
    HeaderEnd,
    /// "Expected a property definition, found continuation"
    NoProperty,
    /// "Expected an '=' sign defining a property" (or "did not have a name")
    Property,
    /// The same, for a sub-property.
    SubProperty,
}

pub(super) struct SdkError {
    pub(super) at: usize,
    pub(super) kind: SdkFailure,
}

/// A section as the SDKs' parser collects it: keyed by its name as
/// written, its properties in order.
pub(super) struct RawSection<'a> {
    name: &'a str,
    at: usize,
    properties: Vec<(String, Value, usize)>,
}

/// `str::lines`, which the SDKs' parser uses: lines end at LF, and a CR
/// is dropped only right before it. With each line's offset.
pub(super) fn sdk_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0;
    text.split_inclusive('\n').map(move |l| {
        let at = offset;
        offset += l.len();
        let l = match l.strip_suffix('\n') {
            Some(l) => l.strip_suffix('\r').unwrap_or(l),
            None => l,
        };
        (at, l)
    })
}

/// `prepare_line`: trimmed, and cut at a `#` or `;` (after whitespace, for
/// properties; anywhere, for headers).
pub(super) fn prepare_line(line: &str, comments_need_whitespace: bool) -> &str {
    let line = line.trim_matches(WS);
    let mut prev_whitespace = false;
    for (i, c) in line.char_indices() {
        if (c == '#' || c == ';') && (prev_whitespace || !comments_need_whitespace) {
            return line[..i].trim_matches(WS);
        }
        prev_whitespace = c.is_whitespace();
    }
    line
}

/// `parse_property_line`: the lowercased key and the value.
pub(super) fn property_line(line: &str) -> Option<(String, &str)> {
    let (k, v) = prepare_line(line, true).split_once('=')?;
    let k = k.trim_matches(WS);
    (!k.is_empty()).then(|| (k.to_ascii_lowercase(), v.trim_matches(WS)))
}

pub(super) fn sdk_parse(text: &str) -> Result<Vec<RawSection<'_>>, SdkError> {
    let mut sections: Vec<RawSection> = Vec::new();
    // The section being read, and the property a continuation extends
    // (with whether it is a block of sub-properties).
    let mut current: Option<(usize, Option<String>, bool)> = None;
    for (at, line) in sdk_lines(text) {
        let fail = |kind| SdkError { at, kind };
        if line.trim_matches(WS).is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if line.starts_with('[') {
            let name = prepare_line(line, false)[1..]
                .strip_suffix(']')
                .ok_or(fail(SdkFailure::HeaderEnd))?;
            let index = match sections.iter().position(|s| s.name == name) {
                Some(i) => i,
                None => {
                    sections.push(RawSection {
                        name,
                        at,
                        properties: Vec::new(),
                    });
                    sections.len() - 1
                }
            };
            current = Some((index, None, false));
        } else if line.starts_with(WS) {
            let Some((index, property, sub)) = &current else {
                return Err(fail(SdkFailure::NoProfile));
            };
            let Some(property) = property else {
                return Err(fail(SdkFailure::NoProperty));
            };
            if *sub && property_line(line).is_none() {
                return Err(fail(SdkFailure::SubProperty));
            }
            let value = &mut sections[*index]
                .properties
                .iter_mut()
                .find(|(k, ..)| k == property)
                .expect("the property being continued exists")
                .1;
            value.push('\n');
            value.push_str(line.trim_matches(WS));
        } else {
            let Some((index, ..)) = current else {
                return Err(fail(SdkFailure::NoProfile));
            };
            let (key, value) = property_line(line).ok_or(fail(SdkFailure::Property))?;
            let properties = &mut sections[index].properties;
            let new = (key.clone(), Zeroizing::new(value.to_string()), at);
            match properties.iter_mut().find(|(k, ..)| *k == key) {
                Some(old) => *old = new,
                None => properties.push(new),
            }
            current = Some((index, Some(key), value.is_empty()));
        }
    }
    Ok(sections)
}

/// `validate_identifier`: the characters the SDKs accept in profile and
/// property names.
pub(super) fn identifier(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c))
}

/// `SectionPair::parse`: an optional prefix (`profile`, `sso-session`...)
/// and a name.
pub(super) fn section_pair(raw: &str) -> (Option<&str>, &str) {
    let input = raw.trim_matches(WS);
    match input.split_once(WS) {
        Some((prefix, name)) => (Some(prefix.trim()), name.trim()),
        None => (None, input.trim()),
    }
}

/// The SDKs' profiles (`merge_in`), for one file.
pub(super) fn sdk(text: &str, kind: FileKind) -> Result<Profiles, SdkError> {
    let raw = sdk_parse(text)?;
    let valid: Vec<_> = raw
        .iter()
        .map(|s| (section_pair(s.name), s))
        .filter(|((prefix, name), _)| match kind {
            FileKind::Config => prefix.is_some() && identifier(name) || *name == "default",
            FileKind::Credentials => prefix.is_none() && identifier(name),
        })
        .collect();
    // `[profile default]` wins over `[default]`, wherever it is.
    let prefixed_default = valid
        .iter()
        .any(|((p, n), _)| *p == Some("profile") && *n == "default");
    let mut profiles = Profiles::new();
    for ((prefix, name), section) in valid {
        if prefix.is_none() && name == "default" && prefixed_default {
            continue;
        }
        if !matches!(prefix, None | Some("profile")) {
            continue;
        }
        let profile = profiles
            .entry(name.to_string())
            .or_insert_with(|| Profile::new(section.at));
        for (key, value, at) in &section.properties {
            if !identifier(key) {
                continue;
            }
            match profile.settings.get(key) {
                Some((old, _)) if old != value => {
                    profile.conflict.get_or_insert(*at);
                }
                Some(_) => {}
                None => {
                    profile.settings.insert(key.clone(), (value.clone(), *at));
                }
            }
        }
    }
    Ok(profiles)
}
