//! The module graph points one way: each module of `src/` may use only the
//! modules listed before it in `LAYERS`, so a change to a low module (the
//! file editor, the stores) never has to reckon with the commands above it.
//! Run `cargo test --test architecture` after moving code between modules.
//!
//! It reads the source as text: every `crate::a::...` path, including those
//! inside `use crate::{a, b::c}` groups, counts as a use of module `a`.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// From the bottom up. A module's own submodules are part of it.
const LAYERS: &[&str] = &[
    "exit", "secret", "ui", "atomic", "copies", "ini", "store", "profile", "state", "network",
    "aws", "hook", "error", "mfa", "rotation", "install", "cli", "preamble", "report", "commands",
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/rotation/recovery.rs` ->
/// `rotation`), and for a command its own name (`commands/rotate`).
fn module_of(src: &Path, file: &Path) -> (String, Option<String>) {
    let rel = file.strip_prefix(src).unwrap();
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    let sub = parts.get(1).filter(|s| *s != "mod").cloned();
    (parts[0].clone(), sub)
}

/// Every `crate::a` and `crate::a::b` named in `text`, with the groups of
/// `use crate::{...}` expanded (nested groups included).
fn crate_paths(text: &str) -> BTreeSet<(String, Option<String>)> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // A group: the first path segment of each comma-separated item.
            let mut depth = 1;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 || (depth == 1 && c == ',') {
                    push_path(item.trim(), &mut out);
                    item.clear();
                    if depth == 0 {
                        break;
                    }
                } else {
                    item.push(c);
                }
            }
        } else {
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            push_path(&path, &mut out);
        }
    }
    out
}

fn push_path(path: &str, out: &mut BTreeSet<(String, Option<String>)>) {
    let mut segs = path.split("::").map(str::trim).filter(|s| !s.is_empty());
    if let Some(first) = segs.next() {
        let second = segs.next().map(|s| s.trim_start_matches('{').to_string());
        out.insert((first.to_string(), second));
    }
}

#[test]
fn imports_point_downward_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut upward = Vec::new();
    for file in &files {
        let (module, sub) = module_of(&src, file);
        if module == "main" || module == "lib" {
            continue; // The roots: they may use everything.
        }
        let own = rank(&module)
            .unwrap_or_else(|| panic!("{}: module {module} is not in LAYERS", file.display()));
        let text = std::fs::read_to_string(file).unwrap();
        for (used, used_sub) in crate_paths(&text) {
            let Some(theirs) = rank(&used) else {
                upward.push(format!(
                    "{}: uses crate::{used}, an item of the crate root; move it into a module",
                    file.display()
                ));
                continue;
            };
            let same_command = module == "commands" && used == "commands" && used_sub == sub;
            if theirs > own || (theirs == own && used == "commands" && !same_command) {
                upward.push(format!(
                    "{}: uses crate::{used}{} (upward)",
                    file.display(),
                    used_sub.map(|s| format!("::{s}")).unwrap_or_default()
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that point upward:\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_path_reader_sees_groups_and_plain_paths() {
    let found = crate_paths(
        "use crate::a::B;\nuse crate::{c, d::{e, f}, g::H};\nlet x = crate::i::j(crate::k);",
    );
    let names: Vec<&str> = found.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(names, ["a", "c", "d", "g", "i", "k"]);
}

/// No function in `src/` is longer than about 80 lines (90 here, for the
/// slack the word "about" gives) unless a `// Long:` comment just above it
/// says why it reads better whole.
#[test]
fn long_functions_say_why() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut long = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            let indent = &line[..line.len() - trimmed.len()];
            let is_fn = [
                "fn ",
                "pub fn ",
                "pub(crate) fn ",
                "pub(super) fn ",
                "async fn ",
            ]
            .iter()
            .chain(&[
                "pub async fn ",
                "pub(crate) async fn ",
                "pub(super) async fn ",
            ])
            .any(|p| trimmed.starts_with(p));
            if !is_fn {
                continue;
            }
            // The body ends at the first `}` at the signature's indentation.
            let Some(open) = (i..lines.len()).find(|&j| {
                let l = lines[j].trim_end();
                l.ends_with('{') || l.ends_with(';')
            }) else {
                continue;
            };
            if lines[open].trim_end().ends_with(';') {
                continue; // A declaration (a trait method without a body).
            }
            let close = format!("{indent}}}");
            let Some(end) = (open + 1..lines.len()).find(|&j| lines[j] == close) else {
                continue;
            };
            let length = end - i + 1;
            let explained = lines[..i]
                .iter()
                .rev()
                .take_while(|l| {
                    let t = l.trim_start();
                    t.starts_with("//") || t.starts_with("#[")
                })
                .any(|l| l.trim_start().starts_with("// Long:"));
            if length > 90 && !explained {
                long.push(format!("{}:{}: {length} lines", file.display(), i + 1));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over ~80 lines without a `// Long:` comment saying why:\n{}",
        long.join("\n")
    );
}
