//! The managed copies of the key (`aws_rekey_also`, `--also`) in the
//! protocol: checked before anything is created, switched after the
//! profile and before verification, put back with the profile; and the
//! search for copies left elsewhere before the old key is deleted.

use super::*;
use crate::copies::listed::{ALSO, FIND, Listed};
use crate::copies::managed::{self, CopyError, Swapped};
use crate::copies::usual::Lookout;
use crate::profile::{ProfileError, Profiles};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What the rotation knows of the key's other homes.
#[derive(Debug, Default)]
pub struct Copies {
    /// The files to update with the profile (the profiles' `aws_rekey_also`
    /// and `--also`). A resumed rotation uses its record's list instead.
    pub also: Vec<Listed>,
    /// Where to look for the old key before deleting it; `None` looks
    /// nowhere.
    pub lookout: Option<Lookout>,
    /// aws-rekey's own files (the credentials and config files, the state
    /// folder): never a managed copy, whatever path or link leads there.
    pub own: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CopyStatus {
    Updated,
    Unchanged,
    Restored,
}

/// One managed copy in the report.
#[derive(Debug, Clone, Serialize)]
pub struct CopyReport {
    pub path: String,
    pub status: CopyStatus,
}

/// `; also updated a, b` (the copies that became `status`), or nothing.
pub fn copies_line(reports: &[CopyReport], status: CopyStatus, said: &str) -> String {
    let paths: Vec<&str> = reports
        .iter()
        .filter(|c| c.status == status)
        .map(|c| c.path.as_str())
        .collect();
    if paths.is_empty() {
        String::new()
    } else {
        format!("; {said} {}", paths.join(", "))
    }
}

impl Copies {
    /// The key's other homes, as the profiles holding it (`names`: the
    /// rotated profile, those sharing its key, a role profile it was
    /// reached through) name them, plus `extra` (`--also`, or what an
    /// earlier rotation recorded); and where to look for a copy left
    /// behind. The credentials file and the state folder are never
    /// searched: they hold keys by design.
    pub fn gather(
        profiles: &Profiles,
        names: &[String],
        extra: &[Listed],
    ) -> Result<Copies, ProfileError> {
        let mut also: Vec<Listed> = Vec::new();
        let mut folders: Vec<Listed> = Vec::new();
        let add = |to: &mut Vec<Listed>, more: Vec<Listed>| {
            for l in more {
                match to.iter_mut().find(|t| t.path == l.path) {
                    Some(seen) => seen.optional &= l.optional,
                    None => to.push(l),
                }
            }
        };
        for name in names {
            add(&mut also, profiles.paths(name, ALSO)?);
            add(&mut folders, profiles.paths(name, FIND)?);
        }
        add(&mut also, extra.to_vec());
        // The credentials file holds the profiles' keys, switched by the
        // store; the config file does not by design, so a key in it (which
        // the AWS CLI reads) is a copy like any other and is looked for.
        let mut own = vec![profiles.files.credentials.clone()];
        if let Ok(state) = crate::state::State::locate() {
            own.push(state.dir().to_path_buf());
        }
        let home = dirs::home_dir();
        let mut lookout = Lookout::new(home.as_deref(), &also, &folders, own.clone());
        lookout.roots.push(profiles.files.config.clone());
        own.push(profiles.files.config.clone());
        Ok(Copies {
            also,
            lookout: Some(lookout),
            own,
        })
    }
}

/// A managed file that cannot be switched, as the rotation reports it: one
/// that is not as a managed copy must be is a refusal (exit 3).
fn copy_error(e: CopyError) -> CommandError {
    if e.is_refusal() {
        CommandError::Refused(e.to_string())
    } else {
        CommandError::Other(anyhow::Error::from(e))
    }
}

/// Every managed file from `from` to `to` (`done` says what a change is
/// called: updated, or restored). A file already on `to`, or holding
/// neither, is unchanged, so a repeated call changes nothing; a file not as
/// a managed copy must be is a refusal, and the files after it are left.
pub(super) fn switch_all(
    ui: &Ui,
    also: &[Listed],
    from: &AccessKey,
    to: &AccessKey,
    done: CopyStatus,
) -> Result<Vec<CopyReport>, CommandError> {
    let mut out = Vec::new();
    for listed in also {
        let status = match managed::swap(listed, from, to).map_err(copy_error)? {
            Swapped::Changed(_) => {
                ui.step(format!(
                    "{} {}",
                    if done == CopyStatus::Restored {
                        "put the old key back in"
                    } else {
                        "updated"
                    },
                    listed.path.display()
                ));
                done
            }
            Swapped::Nothing | Swapped::Missing => CopyStatus::Unchanged,
        };
        out.push(CopyReport {
            path: listed.path.display().to_string(),
            status,
        });
    }
    Ok(out)
}

/// Checks, before anything changes, that every managed file exists (unless
/// optional) and pairs `key`'s id with its secret.
/// A managed file that is, or leads (through links) to, the credentials or
/// config file or into the state folder is refused: the rotation writes
/// those itself, and a pending record rewritten as a "copy" would lose the
/// old key's secret.
fn refuse_own(also: &[Listed], own: &[PathBuf]) -> Result<(), CommandError> {
    let real = |p: &Path| crate::atomic::write_target(p).unwrap_or_else(|_| p.to_path_buf());
    let own: Vec<PathBuf> = own.iter().map(|p| real(p)).collect();
    for listed in also {
        let path = real(&listed.path);
        if own.iter().any(|o| path == *o || path.starts_with(o)) {
            return Err(CommandError::Refused(format!(
                "{} is, or leads to, a file aws-rekey keeps itself (the credentials or config file, or its state folder); take it out of {ALSO} (or --also); nothing was changed",
                listed.path.display()
            )));
        }
    }
    Ok(())
}

pub(super) fn check_all(also: &[Listed], key: &AccessKey) -> Result<(), CommandError> {
    for listed in also {
        managed::check(listed, key).map_err(|e| match copy_error(e) {
            CommandError::Refused(why) => CommandError::Refused(format!(
                "{why}. Fix it, or take it out of {ALSO} (or --also); nothing was changed"
            )),
            other => other,
        })?;
    }
    Ok(())
}

impl<A: KeyApi, S: Store + ?Sized> Rotation<'_, A, S> {
    /// Step 2b: every managed file must exist (unless optional) and pair
    /// the key's id with its secret, before anything is created.
    pub(super) fn check_copies(&self, current: &AccessKey) -> Result<(), CommandError> {
        refuse_own(&self.copies.also, &self.copies.own)?;
        check_all(&self.copies.also, current)
    }

    /// Step 5b (and its undo): the managed copies, from `from` to `to`.
    pub(super) fn switch_copies(
        &self,
        also: &[Listed],
        from: &AccessKey,
        to: &AccessKey,
        done: CopyStatus,
    ) -> Result<Vec<CopyReport>, CommandError> {
        switch_all(self.ui, also, from, to, done)
    }

    /// Item 3: a copy of the old key left in a file on this machine (the
    /// usual places, the `aws_rekey_find` folders, a managed file that no
    /// longer pairs up) keeps it alive: why, for the user; `None` if none.
    pub(super) fn copies_left(&self, old: &AccessKey, also: &[Listed]) -> Option<String> {
        let then = format!(
            "so it was deactivated rather than deleted. Add the file to {ALSO} in profile {}'s config section (or pass --also) so the next rotation updates it, or remove the key from it (a key in the config file belongs in the credentials file); then `aws-rekey prune` deletes the old key",
            self.profile
        );
        self.left_in(&old.id, also)
            .map(|place| format!("the old key {} {place}, {then}", old.masked_id()))
    }

    /// Where a copy of the key `id` is left on this machine ("is still in
    /// ~/.zshrc line 2", "could not be looked for (why)"); `None` if
    /// nowhere.
    pub(super) fn left_in(&self, id: &str, also: &[Listed]) -> Option<String> {
        let lookout = self.copies.lookout.as_ref()?;
        let mut lookout = lookout.clone();
        for l in also {
            if !lookout.roots.contains(&l.path) {
                lookout.roots.push(l.path.clone());
            }
        }
        for folder in lookout.missing_folders() {
            self.ui
                .warn(format!("{} ({FIND}) does not exist", folder.display()));
        }
        match lookout.copies_of(id) {
            Ok(c) if c.is_empty() => None,
            Ok(c) => Some(format!(
                "is still in {}",
                c.describe(lookout.home.as_deref())
            )),
            Err(e) => Some(format!(
                "could not be looked for in the files that may hold it ({e:#})"
            )),
        }
    }
}
