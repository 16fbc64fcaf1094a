//! The files and folders a profile names as holding copies of its key:
//! `aws_rekey_also = PATH [PATH...]` (files a rotation updates),
//! `aws_rekey_find = DIR [DIR...]` (folders searched before a key is
//! deleted), and `rotate --also PATH`. One grammar for all of them.

use serde::{Deserialize, Serialize};
use std::path::{Component, Path, PathBuf};

/// The config setting naming a profile's managed copies.
pub const ALSO: &str = "aws_rekey_also";

/// The config setting naming folders to search for leftover copies.
pub const FIND: &str = "aws_rekey_find";

/// One listed path. The pending record keeps these, so a resumed run
/// edits the very files the interrupted one did, whatever the config says
/// by then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed {
    /// Absolute: a resumed run may start in another folder.
    pub path: PathBuf,
    /// Listed with a leading `?`: may be missing.
    #[serde(default)]
    pub optional: bool,
}

/// Reads a setting's value: paths separated by whitespace (a multi-line
/// value's lines too); a path in double quotes may hold spaces; a leading
/// `?` (before any quote) marks an optional path; a leading `~` or `~/`
/// means the home folder, quoted or not (this is a setting, not a shell
/// line). A relative path is joined to `base` when there is one (`--also`
/// is relative to the current folder) and refused otherwise: relative to
/// what a config file cannot say. Nothing else is special: no escapes, no
/// variables, no globs.
pub fn parse(value: &str, home: Option<&Path>, base: Option<&Path>) -> Result<Vec<Listed>, String> {
    let mut out: Vec<Listed> = Vec::new();
    for (optional, word) in words(value)? {
        let listed = Listed {
            path: absolute(&word, home, base)?,
            optional,
        };
        // Named twice: one file, required if either says so.
        match out.iter_mut().find(|l| l.path == listed.path) {
            Some(seen) => seen.optional &= listed.optional,
            None => out.push(listed),
        }
    }
    Ok(out)
}

/// One `--also` argument: a single path, never split at spaces (the shell
/// already did that), `?` and `~` read as in the setting.
pub fn parse_one(arg: &str, home: Option<&Path>, base: &Path) -> Result<Listed, String> {
    let (optional, word) = match arg.strip_prefix('?') {
        Some(rest) => (true, rest),
        None => (false, arg),
    };
    if word.is_empty() {
        return Err(format!("'{arg}' names no file"));
    }
    Ok(Listed {
        path: absolute(word, home, Some(base))?,
        optional,
    })
}

/// The words of a value, each with its optional mark.
fn words(value: &str) -> Result<Vec<(bool, String)>, String> {
    let mut out = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else {
            return Ok(out);
        };
        let optional = first == '?';
        if optional {
            chars.next();
        }
        let mut word = String::new();
        if chars.next_if_eq(&'"').is_some() {
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some(c) => word.push(c),
                    None => return Err(format!("a '\"' is not closed in: {value}")),
                }
            }
            if chars.peek().is_some_and(|c| !c.is_whitespace()) {
                return Err(format!(
                    "a quoted path must be followed by a space or the end, in: {value}"
                ));
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '"' {
                    return Err(format!(
                        "a '\"' may only enclose a whole path (\"~/My Files/.env\"), in: {value}"
                    ));
                }
                word.push(c);
            }
        }
        if word.is_empty() {
            return Err(format!("an empty path in: {value}"));
        }
        out.push((optional, word));
    }
}

fn absolute(word: &str, home: Option<&Path>, base: Option<&Path>) -> Result<PathBuf, String> {
    let path = if word == "~" || word.starts_with("~/") {
        let home = home.ok_or_else(|| format!("{word}: no home folder to expand '~' to"))?;
        home.join(word.trim_start_matches('~').trim_start_matches('/'))
    } else if word.starts_with('~') {
        return Err(format!(
            "{word}: only '~' and '~/' (your own home folder) are expanded"
        ));
    } else {
        PathBuf::from(word)
    };
    if path.is_absolute() {
        return Ok(normal(&path));
    }
    match base {
        Some(base) => Ok(normal(&base.join(path))),
        None => Err(format!(
            "{word} is a relative path; write it from / or from ~/"
        )),
    }
}

/// `a/./b` and `a//b` as `a/b`, so one file listed two ways is one file.
/// `..` is kept: through a symlinked folder it does not mean the parent.
fn normal(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(value: &str) -> Result<Vec<(String, bool)>, String> {
        parse(value, Some(Path::new("/home/al")), None).map(|v| {
            v.into_iter()
                .map(|l| (l.path.display().to_string(), l.optional))
                .collect()
        })
    }

    fn req(p: &str) -> (String, bool) {
        (p.to_string(), false)
    }

    #[test]
    fn whitespace_separated_with_quotes_home_and_optional_marks() {
        assert_eq!(
            paths("~/code/shop/.env  ~/.s3cfg\t?~/.boto").unwrap(),
            vec![
                req("/home/al/code/shop/.env"),
                req("/home/al/.s3cfg"),
                ("/home/al/.boto".into(), true),
            ]
        );
        assert_eq!(
            paths("\"~/My Projects/x/.env\" ?\"/opt/with space/rclone.conf\" /etc/a").unwrap(),
            vec![
                req("/home/al/My Projects/x/.env"),
                ("/opt/with space/rclone.conf".into(), true),
                req("/etc/a"),
            ]
        );
        // A multi-line value (indented continuation lines) is read the same.
        assert_eq!(
            paths("\n~/a\n~/b").unwrap(),
            vec![req("/home/al/a"), req("/home/al/b")]
        );
        assert_eq!(paths("").unwrap(), vec![]);
        assert_eq!(paths("~").unwrap(), vec![req("/home/al")]);
    }

    #[test]
    fn one_file_listed_twice_is_one_and_required_if_either_says_so() {
        assert_eq!(
            paths("?~/a ~/./a ?/home/al//b /home/al/b/ ?~/c ?~/c").unwrap(),
            vec![
                req("/home/al/a"),
                req("/home/al/b"),
                ("/home/al/c".into(), true)
            ]
        );
    }

    #[test]
    fn what_is_refused() {
        for bad in [
            "relative/.env",
            "?.env",
            "~bob/.env",
            "\"~/unclosed",
            "\"~/a\"b",
            "~/a\"b\"",
            "\"\"",
            "?",
            "? ~/a",
        ] {
            assert!(paths(bad).is_err(), "{bad}");
        }
        assert!(parse("~/a", None, None).is_err(), "no home");
    }

    #[test]
    fn also_arguments_are_one_path_each_relative_to_the_current_folder() {
        let home = Some(Path::new("/home/al"));
        let cwd = Path::new("/home/al/code");
        let one = |a| parse_one(a, home, cwd).map(|l| (l.path.display().to_string(), l.optional));
        assert_eq!(one("shop/.env").unwrap(), req("/home/al/code/shop/.env"));
        assert_eq!(
            one("?./My Files/.env").unwrap(),
            ("/home/al/code/My Files/.env".into(), true)
        );
        assert_eq!(one("~/.s3cfg").unwrap(), req("/home/al/.s3cfg"));
        assert!(one("?").is_err());
        assert!(one("").is_err());
    }
}
