//! Before a key is deleted: is it still in a file on this machine? The
//! usual places a developer pastes a key (shell rc files, s3cmd, s3fs,
//! boto, rclone, direnv), a profile's managed files and its
//! `aws_rekey_find` folders, searched as `find` searches.

use super::listed::Listed;
use super::search::{self, Options, Wanted};
use super::skip::Rules;
use anyhow::Result;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Files under the home folder that often hold a pasted key.
pub const USUAL_PLACES: &[&str] = &[
    ".bashrc",
    ".bash_profile",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".config/fish/config.fish",
    ".envrc",
    ".s3cfg",
    ".passwd-s3fs",
    ".boto",
    ".config/rclone/rclone.conf",
];

/// The usual places of this home folder, and where the tools that read
/// them are told to look instead: `$ZDOTDIR` (zsh), `$XDG_CONFIG_HOME`
/// (fish, rclone), `$RCLONE_CONFIG`, `$BOTO_CONFIG`, `$S3CMD_CONFIG`.
/// `env` reads a variable (the process environment, or a test's).
pub fn usual_places(home: &Path, env: impl Fn(&str) -> Option<OsString>) -> Vec<PathBuf> {
    let var = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let mut out: Vec<PathBuf> = USUAL_PLACES.iter().map(|p| home.join(p)).collect();
    if let Some(zdotdir) = var("ZDOTDIR") {
        out.extend([zdotdir.join(".zshrc"), zdotdir.join(".zshenv")]);
    }
    if let Some(config) = var("XDG_CONFIG_HOME") {
        out.extend([
            config.join("fish/config.fish"),
            config.join("rclone/rclone.conf"),
        ]);
    }
    out.extend(
        ["RCLONE_CONFIG", "BOTO_CONFIG", "S3CMD_CONFIG"]
            .into_iter()
            .filter_map(var),
    );
    let mut seen = Vec::new();
    out.retain(|p| {
        let new = !seen.contains(p);
        seen.push(p.clone());
        new
    });
    out
}

/// Where to look for a key before it is deleted: a profile's managed
/// files, the usual places, and its `aws_rekey_find` folders.
#[derive(Debug, Clone, Default)]
pub struct Lookout {
    pub roots: Vec<PathBuf>,
    /// aws-rekey's own files (the AWS files, the state folder): they hold
    /// keys by design.
    pub exclude: Vec<PathBuf>,
    pub home: Option<PathBuf>,
    /// The `aws_rekey_find` folders among the roots.
    pub folders: Vec<Listed>,
}

impl Lookout {
    pub fn new(
        home: Option<&Path>,
        managed: &[Listed],
        folders: &[Listed],
        exclude: Vec<PathBuf>,
    ) -> Self {
        let mut roots: Vec<PathBuf> = managed.iter().map(|l| l.path.clone()).collect();
        if let Some(home) = home {
            roots.extend(usual_places(home, |v| std::env::var_os(v)));
        }
        roots.extend(folders.iter().map(|l| l.path.clone()));
        Lookout {
            roots,
            exclude,
            home: home.map(Path::to_path_buf),
            folders: folders.to_vec(),
        }
    }

    /// The folders listed without `?` that do not exist: worth a warning
    /// (a typo searches nothing), never a reason to keep a key.
    pub fn missing_folders(&self) -> Vec<&Path> {
        self.folders
            .iter()
            .filter(|l| !l.optional && std::fs::symlink_metadata(&l.path).is_err())
            .map(|l| l.path.as_path())
            .collect()
    }

    /// The lines that still hold `id`, searched as `find` searches.
    pub fn copies_of(&self, id: &str) -> Result<Leftovers> {
        let options = Options {
            skip: Rules::standard(self.home.as_deref()),
            exclude: self.exclude.clone(),
            threads: 0,
        };
        still_holding(id, &self.roots, &options)
    }
}

/// Where a key id still is.
#[derive(Debug, Default, PartialEq)]
pub struct Leftovers {
    /// (file, 1-based line), sorted.
    pub lines: Vec<(PathBuf, usize)>,
    /// Files or folders that could not be read: they may hold it too.
    pub unreadable: u64,
    /// Files too large to search (`find` skips them): they may hold it too.
    pub too_large: u64,
}

impl Leftovers {
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.unreadable == 0 && self.too_large == 0
    }

    /// `~/.zshrc line 41, ~/code/.env lines 2, 7`: one entry per file.
    pub fn describe(&self, home: Option<&Path>) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut at = 0;
        while at < self.lines.len() {
            let path = &self.lines[at].0;
            let lines: Vec<String> = self.lines[at..]
                .iter()
                .take_while(|(p, _)| p == path)
                .map(|(_, l)| l.to_string())
                .collect();
            at += lines.len();
            parts.push(format!(
                "{} line{} {}",
                shown(path, home),
                if lines.len() == 1 { "" } else { "s" },
                lines.join(", ")
            ));
        }
        if self.unreadable > 0 {
            parts.push(format!(
                "{} file{} or folder{} that could not be read",
                self.unreadable,
                if self.unreadable == 1 { "" } else { "s" },
                if self.unreadable == 1 { "" } else { "s" },
            ));
        }
        if self.too_large > 0 {
            parts.push(format!(
                "{} file{} too large to search (over 16 MiB)",
                self.too_large,
                if self.too_large == 1 { "" } else { "s" },
            ));
        }
        parts.join(", ")
    }
}

/// `~/x` for a path under the home folder.
pub fn shown(path: &Path, home: Option<&Path>) -> String {
    match home.and_then(|h| path.strip_prefix(h).ok()) {
        Some(rel) if !rel.as_os_str().is_empty() => format!("~/{}", rel.display()),
        _ => path.display().to_string(),
    }
}

/// The lines of the files under `roots` (files or folders; missing ones
/// are fine) that hold `id` as a whole token.
pub fn still_holding(id: &str, roots: &[PathBuf], options: &Options) -> Result<Leftovers> {
    let wanted = [Wanted {
        id: id.to_string(),
        secret: None,
    }];
    let report = search::search(&wanted, roots, options)?;
    let mut lines: Vec<(PathBuf, usize)> =
        report.hits.into_iter().map(|h| (h.path, h.line)).collect();
    lines.sort();
    lines.dedup();
    Ok(Leftovers {
        lines,
        unreadable: report.unreadable,
        too_large: report.too_large,
    })
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // fixtures are written directly
mod tests {
    use super::*;
    use crate::copies::skip::Rules;

    const ID: &str = "AKIAIOSFODNN7EXAMPLE";

    fn options(home: &Path) -> Options {
        Options {
            skip: Rules::standard(Some(home)),
            exclude: vec![home.join(".aws")],
            threads: 2,
        }
    }

    #[test]
    fn the_usual_places_with_the_tools_own_overrides() {
        let home = Path::new("/h");
        let none = usual_places(home, |_| None);
        assert_eq!(none.len(), USUAL_PLACES.len());
        assert!(none.contains(&PathBuf::from("/h/.config/rclone/rclone.conf")));
        let set = usual_places(home, |v| match v {
            "ZDOTDIR" => Some("/z".into()),
            // The default again: listed once.
            "XDG_CONFIG_HOME" => Some("/h/.config".into()),
            "RCLONE_CONFIG" => Some("/etc/rclone.conf".into()),
            "BOTO_CONFIG" => Some("".into()),
            _ => None,
        });
        assert_eq!(set.len(), USUAL_PLACES.len() + 3);
        for p in ["/z/.zshrc", "/z/.zshenv", "/etc/rclone.conf"] {
            assert!(set.contains(&PathBuf::from(p)), "{p}");
        }
    }

    #[test]
    fn finds_each_line_in_usual_places_and_folders_not_elsewhere() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path();
        std::fs::write(h.join(".zshrc"), format!("# x\nexport K={ID}\n")).unwrap();
        std::fs::create_dir_all(h.join("code/shop/node_modules/x")).unwrap();
        std::fs::write(h.join("code/shop/.env"), format!("K={ID}\nK2={ID}\n")).unwrap();
        // Skipped like `find` skips it, and the excluded AWS folder.
        std::fs::write(h.join("code/shop/node_modules/x/.env"), ID).unwrap();
        std::fs::create_dir_all(h.join(".aws")).unwrap();
        std::fs::write(h.join(".aws/credentials"), ID).unwrap();
        // Not a usual place, not under a listed folder.
        std::fs::write(h.join("notes.txt"), ID).unwrap();

        let mut roots = usual_places(h, |_| None);
        roots.push(h.join("code"));
        roots.push(h.join(".aws/credentials"));
        let found = still_holding(ID, &roots, &options(h)).unwrap();
        assert_eq!(
            found.lines,
            vec![
                (h.join(".zshrc"), 2),
                (h.join("code/shop/.env"), 1),
                (h.join("code/shop/.env"), 2),
            ]
        );
        assert_eq!(
            found.describe(Some(h)),
            "~/.zshrc line 2, ~/code/shop/.env lines 1, 2"
        );
        // Another id, or a longer one, is not this key.
        let other = still_holding("AKIAIOSFODNN7EXAMPL", &roots, &options(h)).unwrap();
        assert!(other.is_empty(), "{other:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_place_that_cannot_be_read_counts_as_maybe_holding_it() {
        // A link to itself cannot be read, even by root.
        let home = tempfile::tempdir().unwrap();
        let h = home.path();
        std::os::unix::fs::symlink(h.join(".s3cfg"), h.join(".s3cfg")).unwrap();
        let found = still_holding(ID, &usual_places(h, |_| None), &options(h)).unwrap();
        assert!(!found.is_empty());
        assert_eq!(found.unreadable, 1);
        assert_eq!(
            found.describe(Some(h)),
            "1 file or folder that could not be read"
        );
    }
}
