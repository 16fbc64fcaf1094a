//! The search behind `find`: a parallel walk (ripgrep's `ignore` crate,
//! with its ignore-file and hidden-file filters off) over the given files
//! and folders, and one Aho-Corasick pass over each file for every key id
//! at once. A hit is a whole-token key id; for each hit the same file is
//! checked for that key's secret, which is never returned.

use super::skip::{self, BINARY_PROBE, MAX_FILE_SIZE, Rules};
use super::token;
use crate::secret::Secret;
use aho_corasick::AhoCorasick;
use anyhow::Result;
use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};
use std::ffi::OsString;
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use zeroize::Zeroizing;

/// A key to look for: its id, and its secret when it is known (a keychain
/// that cannot be opened leaves only the id the key book remembers).
pub struct Wanted {
    pub id: String,
    pub secret: Option<Secret>,
}

pub struct Options {
    /// Folders left out (`Rules::none()` for `--include-all`).
    pub skip: Rules,
    /// Files and folders never searched, even when named as a root:
    /// aws-rekey's own files, which hold the key by design.
    pub exclude: Vec<PathBuf>,
    /// Walker threads; 0 picks one per core (as ripgrep does).
    pub threads: usize,
}

/// One line of one file holding one key's id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    /// Under the root as the caller gave it (`./x/.env` for `.`).
    pub path: PathBuf,
    /// 1-based.
    pub line: usize,
    /// Index into the `wanted` slice.
    pub key: usize,
    /// Whether the file also holds that key's secret as a whole token;
    /// `None` when the secret is not known.
    pub secret_in_file: Option<bool>,
}

#[derive(Debug, Default)]
pub struct Report {
    /// Sorted by path, line, key; each (file, line, key) once.
    pub hits: Vec<Hit>,
    /// Text files searched (a file under two given roots counts twice).
    pub files: u64,
    pub binary: u64,
    pub too_large: u64,
    /// Files and folders that could not be read (permission denied, I/O
    /// errors), counted, never named one by one.
    pub unreadable: u64,
    /// Roots that do not exist (for callers that probe usual places).
    pub missing: Vec<PathBuf>,
    /// Roots left out because they are aws-rekey's own files.
    pub own: Vec<PathBuf>,
}

/// Searches `roots` (files or folders) for the ids in `wanted`. Fails only
/// if the search cannot start; whatever cannot be read along the way is
/// counted in the report.
pub fn search(wanted: &[Wanted], roots: &[PathBuf], options: &Options) -> Result<Report> {
    let mut report = Report::default();
    if wanted.is_empty() {
        return Ok(report);
    }
    // An empty pattern would match between every two bytes of every file.
    if wanted.iter().any(|w| w.id.is_empty()) {
        anyhow::bail!("an empty key id cannot be searched for");
    }
    let ac = AhoCorasick::new(wanted.iter().map(|w| w.id.as_bytes()))?;
    let exclude: Vec<PathBuf> = options.exclude.iter().map(|p| skip::canonical(p)).collect();
    let is_own = |p: &Path| exclude.iter().any(|e| p.starts_with(e));

    // Roots are walked by their real paths: a root given through a link is
    // followed (the user named it), and every path below is then real,
    // which is what the skip and exclude lists are compared with.
    let mut walked: Vec<(PathBuf, PathBuf)> = Vec::new();
    for root in roots {
        match std::fs::canonicalize(root) {
            Ok(real) if is_own(&real) => report.own.push(root.clone()),
            Ok(real) => walked.push((root.clone(), real)),
            Err(e) if e.kind() == ErrorKind::NotFound => report.missing.push(root.clone()),
            Err(_) => report.unreadable += 1,
        }
    }
    let Some(((_, first), rest)) = walked.split_first() else {
        return Ok(report);
    };

    let mut builder = WalkBuilder::new(first);
    for (_, real) in rest {
        builder.add(real);
    }
    // The filter runs below the roots only: a folder the user names is
    // searched whatever its name.
    let rules = options.skip.clone();
    let dirs_excluded = exclude.clone();
    builder
        .standard_filters(false)
        .hidden(false)
        .parents(false)
        .ignore(false)
        .git_ignore(false)
        .git_global(false)
        .git_exclude(false)
        .follow_links(false)
        .threads(options.threads)
        .filter_entry(move |entry: &DirEntry| {
            if !entry.file_type().is_some_and(|t| t.is_dir()) {
                return true;
            }
            let path = entry.path();
            !rules.skips_folder(path, entry.file_name()) && !dirs_excluded.iter().any(|e| e == path)
        });

    let shared = Shared {
        ac,
        wanted,
        own_names: exclude
            .iter()
            .filter_map(|e| e.file_name().map(|n| (n.to_os_string(), e.clone())))
            .collect(),
        total: Mutex::new(Report::default()),
    };
    builder.build_parallel().visit(&mut Builder(&shared));
    let found = shared.total.into_inner().unwrap_or_else(|e| e.into_inner());

    report.files += found.files;
    report.binary += found.binary;
    report.too_large += found.too_large;
    report.unreadable += found.unreadable;
    report.hits = found
        .hits
        .into_iter()
        .map(|h| Hit {
            path: shown(&h.path, &walked),
            ..h
        })
        .collect();
    report.hits.sort();
    report.hits.dedup();
    Ok(report)
}

/// A real path as seen from the root the caller gave.
fn shown(real: &Path, roots: &[(PathBuf, PathBuf)]) -> PathBuf {
    roots
        .iter()
        .filter_map(|(given, root)| real.strip_prefix(root).ok().map(|rel| (given, root, rel)))
        .max_by_key(|(_, root, _)| root.as_os_str().len())
        .map(|(given, _, rel)| {
            if rel.as_os_str().is_empty() {
                given.clone()
            } else {
                given.join(rel)
            }
        })
        .unwrap_or_else(|| real.to_path_buf())
}

struct Shared<'a> {
    ac: AhoCorasick,
    wanted: &'a [Wanted],
    /// Excluded paths keyed by file name, so most files are ruled out by a
    /// name comparison instead of a path comparison.
    own_names: Vec<(OsString, PathBuf)>,
    total: Mutex<Report>,
}

struct Builder<'a>(&'a Shared<'a>);

impl<'s> ParallelVisitorBuilder<'s> for Builder<'s> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Worker {
            shared: self.0,
            buf: Zeroizing::new(Vec::new()),
            report: Report::default(),
        })
    }
}

/// One walker thread: its own read buffer and tallies, merged when the
/// walk is over.
struct Worker<'a> {
    shared: &'a Shared<'a>,
    /// The files read may hold a key's secret: the buffer is wiped when the
    /// walk ends, and before it is replaced by a larger one.
    buf: Zeroizing<Vec<u8>>,
    report: Report,
}

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        let mut total = self.shared.total.lock().unwrap_or_else(|e| e.into_inner());
        let mine = std::mem::take(&mut self.report);
        total.files += mine.files;
        total.binary += mine.binary;
        total.too_large += mine.too_large;
        total.unreadable += mine.unreadable;
        total.hits.extend(mine.hits);
    }
}

impl ParallelVisitor for Worker<'_> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                // A file or folder that vanished during the walk was not
                // unreadable, merely gone.
                if e.io_error()
                    .is_none_or(|io| io.kind() != ErrorKind::NotFound)
                {
                    self.report.unreadable += 1;
                }
                return WalkState::Continue;
            }
        };
        // Only regular files: folders are walked, links never followed,
        // and opening a pipe would block.
        if entry.file_type().is_some_and(|t| t.is_file()) && !self.is_own(&entry) {
            self.scan(entry.path());
        }
        WalkState::Continue
    }
}

impl Worker<'_> {
    fn is_own(&self, entry: &DirEntry) -> bool {
        let name = entry.file_name();
        self.shared
            .own_names
            .iter()
            .any(|(n, path)| n == name && path == entry.path())
    }

    fn scan(&mut self, path: &Path) {
        let mut file = match open(path) {
            Ok(f) => f,
            // Gone since the folder was listed, or replaced by a link
            // (O_NOFOLLOW): not a file of this tree any more.
            Err(e) if e.kind() == ErrorKind::NotFound || is_link_error(&e) => return,
            Err(_) => {
                self.report.unreadable += 1;
                return;
            }
        };
        let size = match file.metadata() {
            // Replaced by a pipe or a device since it was listed.
            Ok(m) if !m.is_file() => return,
            Ok(m) => m.len(),
            Err(_) => {
                self.report.unreadable += 1;
                return;
            }
        };
        if size > MAX_FILE_SIZE {
            self.report.too_large += 1;
            return;
        }
        let need = usize::try_from(size)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        if self.buf.capacity() < need {
            // Growing in place would leave the old contents in freed memory.
            self.buf = Zeroizing::new(Vec::with_capacity(need.max(8 * 1024)));
        }
        self.buf.clear();
        // One byte over the limit tells a file that grew past it.
        if (&mut file)
            .take(MAX_FILE_SIZE + 1)
            .read_to_end(&mut self.buf)
            .is_err()
        {
            self.report.unreadable += 1;
            return;
        }
        if self.buf.len() as u64 > MAX_FILE_SIZE {
            self.report.too_large += 1;
            return;
        }
        let probe = &self.buf[..self.buf.len().min(BINARY_PROBE)];
        if memchr::memchr(0, probe).is_some() {
            self.report.binary += 1;
            return;
        }
        self.report.files += 1;
        let hits = find_in(&self.buf, &self.shared.ac, self.shared.wanted);
        self.report
            .hits
            .extend(hits.into_iter().map(|(line, key, secret_in_file)| Hit {
                path: path.to_path_buf(),
                line,
                key,
                secret_in_file,
            }));
    }
}

/// The (line, key, secret in file) of every whole-token id in `hay`, each
/// (line, key) once.
fn find_in(hay: &[u8], ac: &AhoCorasick, wanted: &[Wanted]) -> Vec<(usize, usize, Option<bool>)> {
    // Overlapping: one id may be a prefix of another, longer one.
    let mut at: Vec<(usize, usize)> = ac
        .find_overlapping_iter(hay)
        .filter(|m| token::is_whole(hay, m.start(), m.end(), token::ID))
        .map(|m| (m.start(), m.pattern().as_usize()))
        .collect();
    if at.is_empty() {
        return Vec::new();
    }
    at.sort_unstable();
    let mut line = 1;
    let mut counted = 0;
    let mut out: Vec<(usize, usize, Option<bool>)> = Vec::with_capacity(at.len());
    for (start, key) in at {
        line += memchr::memchr_iter(b'\n', &hay[counted..start]).count();
        counted = start;
        out.push((line, key, None));
    }
    out.sort_unstable();
    out.dedup();
    // The secret is looked for once per key found, anywhere in the file.
    let mut secret_in: Vec<Option<Option<bool>>> = vec![None; wanted.len()];
    for (_, key, secret) in &mut out {
        *secret = *secret_in[*key].get_or_insert_with(|| {
            wanted[*key]
                .secret
                .as_ref()
                .map(|s| token::holds_secret(hay, s))
        });
    }
    out
}

/// Opens a file for reading without following a link put in its place and
/// without blocking on a pipe put in its place.
fn open(path: &Path) -> std::io::Result<File> {
    let mut options = File::options();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK);
    }
    options.open(path)
}

fn is_link_error(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(nix::libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

#[cfg(test)]
mod tests;
