//! What `find` leaves out: folders that hold other people's code or
//! generated files, never a developer's own copy of a key. The list is
//! data, so `--help` prints exactly what is applied.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// One kind of skipped folder: the names that mark it wherever they are,
/// and the folders of the home folder that hold it.
pub struct Kind {
    pub label: &'static str,
    pub names: &'static [&'static str],
    pub under_home: &'static [&'static str],
}

pub const KINDS: &[Kind] = &[
    Kind {
        label: "version control",
        names: &[".git", ".hg", ".svn", ".bzr", ".jj", "_darcs"],
        under_home: &[],
    },
    Kind {
        label: "dependencies and build output",
        names: &["node_modules", "target", "__pycache__", ".tox"],
        under_home: &[],
    },
    Kind {
        label: "caches",
        names: &[".cache"],
        under_home: &[
            ".cargo/registry",
            ".cargo/git",
            ".rustup",
            ".npm",
            "go/pkg/mod",
            ".m2/repository",
            ".gradle/caches",
        ],
    },
    Kind {
        label: "Python virtualenvs",
        names: &[".venv", "venv"],
        under_home: &[],
    },
];

/// A folder holding this file is a virtualenv (PEP 405), whatever its name.
pub const VENV_MARKER: &str = "pyvenv.cfg";

/// Files larger than this are not read: a copy of a key sits in a small
/// text file, and a big one is a log, a dump or an archive.
pub const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// A file with a NUL byte in its first this-many bytes is binary and not
/// searched, as ripgrep decides (its default buffer size).
pub const BINARY_PROBE: usize = 64 * 1024;

/// The skip list as `find --help` prints it.
pub fn help() -> String {
    let mut out = String::from("Skipped unless --include-all:\n");
    for kind in KINDS {
        let mut what: Vec<String> = kind.names.iter().map(|n| n.to_string()).collect();
        what.extend(kind.under_home.iter().map(|p| format!("~/{p}")));
        if kind.label == "caches" {
            what.push("$CARGO_HOME/registry, $CARGO_HOME/git, $RUSTUP_HOME".into());
        }
        if kind.label == "Python virtualenvs" {
            what.push(format!("any folder holding {VENV_MARKER}"));
        }
        out.push_str(&format!("  {}: {}\n", kind.label, what.join(", ")));
    }
    out.push_str(&format!(
        "\nAlways skipped: files over {} MiB; binary files (a NUL byte in the first {} KiB); \
         pipes, sockets and devices; and aws-rekey's own files, where it keeps the key itself \
         (the credentials and config files, the state folder). Symbolic links are never \
         followed: what one points to is searched where it lives, if that is inside a \
         searched folder. A folder named as PATH is searched even if it is on the list.\n\
         \n\
         Searched: hidden files and files that .gitignore hides (where .env files live).",
        MAX_FILE_SIZE / (1024 * 1024),
        BINARY_PROBE / 1024
    ));
    out
}

/// The skip list as applied to one search.
#[derive(Clone, Default)]
pub struct Rules {
    names: Vec<&'static OsStr>,
    paths: HashSet<PathBuf>,
    venvs: bool,
}

impl Rules {
    /// Skips nothing (`--include-all`).
    pub fn none() -> Self {
        Rules::default()
    }

    /// The list above; `home` anchors the `~/...` entries.
    pub fn standard(home: Option<&Path>) -> Self {
        let mut paths = HashSet::new();
        if let Some(home) = home {
            for kind in KINDS {
                paths.extend(kind.under_home.iter().map(|rel| home.join(rel)));
            }
        }
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(cargo) = var("CARGO_HOME") {
            let cargo = PathBuf::from(cargo);
            paths.insert(cargo.join("registry"));
            paths.insert(cargo.join("git"));
        }
        if let Some(rustup) = var("RUSTUP_HOME") {
            paths.insert(PathBuf::from(rustup));
        }
        Rules {
            names: KINDS
                .iter()
                .flat_map(|k| k.names.iter().map(OsStr::new))
                .collect(),
            // The walk sees real paths (its roots are canonical and it
            // follows no link), so these are compared in that form.
            paths: paths.iter().map(|p| canonical(p)).collect(),
            venvs: true,
        }
    }

    /// Whether the folder at `path` (named `name`) is left out.
    pub fn skips_folder(&self, path: &Path, name: &OsStr) -> bool {
        self.names.contains(&name)
            || self.paths.contains(path)
            || (self.venvs && path.join(VENV_MARKER).is_file())
    }
}

/// `path` with its links resolved, as far as it exists: a folder that does
/// not exist yet is compared under its parent's real path.
pub fn canonical(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) if parent != path => canonical(parent).join(name),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // fixtures are written directly
mod tests {
    use super::*;

    #[test]
    fn the_help_names_every_rule() {
        let help = help();
        for kind in KINDS {
            for name in kind.names {
                assert!(help.contains(name), "{name}");
            }
            for path in kind.under_home {
                assert!(help.contains(&format!("~/{path}")), "{path}");
            }
        }
        assert!(help.contains(VENV_MARKER) && help.contains("16 MiB"));
    }

    #[test]
    fn folders_are_skipped_by_name_place_and_marker() {
        let home = tempfile::tempdir().unwrap();
        let home = std::fs::canonicalize(home.path()).unwrap();
        let rules = Rules::standard(Some(&home));
        let venv = home.join("project/env");
        std::fs::create_dir_all(&venv).unwrap();
        std::fs::write(venv.join(VENV_MARKER), "home = /usr/bin\n").unwrap();
        let skips = |p: &Path| rules.skips_folder(p, p.file_name().unwrap());
        assert!(skips(&home.join("project/node_modules")));
        assert!(skips(&home.join("a/b/.git")));
        assert!(skips(&home.join(".cargo/registry")));
        assert!(skips(&venv));
        assert!(!skips(&home.join("project")));
        // A folder called `registry` elsewhere is the user's own.
        assert!(!skips(&home.join("project/registry")));
        assert!(!Rules::none().skips_folder(&home.join(".git"), OsStr::new(".git")));
    }
}
