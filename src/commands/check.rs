//! `aws-rekey check`: the shell-startup reminder. Offline (the credentials
//! file, the config file and the key book; never the network or the
//! keychain), never prompts, never fails the shell, and silent unless a key
//! is due. It runs at every shell start, so it does as little as `cat`.

use crate::cli::CheckArgs;
use crate::exit::Exit;
use crate::profile::{AwsFiles, Profiles, StoreKind};
use crate::state::{KeyBook, State};
use crate::store::file::key_in;
use crate::ui::human_age;
use jiff::Timestamp;

/// One profile's key as far as the local files know it.
pub struct Known {
    pub profile: String,
    pub key_id: Option<String>,
    pub created: Option<Timestamp>,
}

pub fn run(args: CheckArgs) -> Exit {
    let Ok(files) = AwsFiles::from_env() else {
        return Exit::Success;
    };
    let profiles = match Profiles::load(files) {
        Ok(p) => p,
        Err(e) => {
            // The AWS CLI cannot read the file either, or the AWS SDKs
            // read it differently: worth one line.
            crate::ui::print_stdout(&format!("aws-rekey: cannot check key ages: {e}"));
            return Exit::Success;
        }
    };
    let Ok(state) = State::locate() else {
        return Exit::Success;
    };
    let book = match state.book() {
        Ok(b) => b,
        Err(_) => {
            crate::ui::print_stdout(
                "aws-rekey: the key-age record is damaged; run `aws-rekey status` to rebuild it",
            );
            return Exit::Success;
        }
    };
    let now = Timestamp::now();
    let keys = known_keys(&profiles, &book);
    let mut due = false;
    for k in &keys {
        if let Some(created) = k.created {
            let age = now.duration_since(created);
            if age > args.max_age.0 {
                due = true;
                crate::ui::print_stdout(&format!(
                    "aws-rekey: the key of profile '{}' is {} old; run `aws-rekey rotate --profile {}`",
                    k.profile,
                    human_age(age),
                    k.profile
                ));
            }
        }
    }
    // An interrupted rotation is worth a line at every shell start until
    // it is finished: the next `rotate` completes or rolls it back.
    for record in interrupted(&state) {
        due = true;
        match record {
            Interrupted::Profile(profile) => crate::ui::print_stdout(&format!(
                "aws-rekey: a rotation of profile '{profile}' was interrupted; run `aws-rekey rotate --profile {profile}` to finish it"
            )),
            Interrupted::Damaged(path) => crate::ui::print_stdout(&format!(
                "aws-rekey: the interrupted-rotation record {} is damaged and may hold a key's secret; inspect it, fix or remove it, then run `aws-rekey rotate`",
                path.display()
            )),
        }
    }
    mention_unknown_once(&state, &keys);
    if due { Exit::Due } else { Exit::Success }
}

/// A pending rotation record, as `check` sees it.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Interrupted {
    /// The profile whose rotation was interrupted.
    Profile(String),
    /// A record that cannot be read: it may hold the only copy of a live
    /// key's secret, so it is named, never skipped.
    Damaged(std::path::PathBuf),
}

/// Every pending rotation record (only the profile name is read; the
/// secrets in the record stay untouched).
fn interrupted(state: &State) -> Vec<Interrupted> {
    #[derive(serde::Deserialize)]
    struct Named {
        profile: String,
    }
    let Ok(entries) = std::fs::read_dir(state.pending_dir()) else {
        return Vec::new();
    };
    let mut out: Vec<Interrupted> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|path| {
            // The records hold secrets: their bytes are wiped once read.
            match std::fs::read(&path)
                .ok()
                .map(zeroize::Zeroizing::new)
                .and_then(|b| serde_json::from_slice::<Named>(&b).ok())
            {
                Some(n) => Interrupted::Profile(n.profile),
                None => Interrupted::Damaged(path),
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Every profile with a long-lived key, and its creation date if known.
pub fn known_keys(profiles: &Profiles, book: &KeyBook) -> Vec<Known> {
    let mut out = Vec::new();
    for name in profiles.names() {
        let Ok(profile) = profiles.resolve(&name) else {
            continue;
        };
        let (key_id, created) = match profile.store {
            StoreKind::File => {
                let id = key_in(&profiles.credentials, &name).map(|k| k.id);
                let created = id
                    .as_ref()
                    .and_then(|id| book.keys.get(id))
                    .map(|r| r.created);
                (id, created)
            }
            // The keychain is not opened here (it may be slow, or prompt):
            // the book remembers which key each keychain profile holds.
            StoreKind::Keychain { .. } => book
                .keys
                .iter()
                .find(|(_, r)| r.profiles.contains(&name))
                .map(|(id, r)| (Some(id.clone()), Some(r.created)))
                .unwrap_or((None, None)),
        };
        out.push(Known {
            profile: name,
            key_id,
            created,
        });
    }
    out
}

/// Keys of unknown age are never called due; they are named once, with a
/// pointer at `status`, and then not again.
fn mention_unknown_once(state: &State, keys: &[Known]) {
    let mentioned = state.mentioned_unknown();
    let tag = |k: &Known| {
        k.key_id
            .clone()
            .unwrap_or_else(|| format!("profile:{}", k.profile))
    };
    let fresh: Vec<&Known> = keys
        .iter()
        .filter(|k| k.created.is_none() && !mentioned.contains(&tag(k)))
        .collect();
    if fresh.is_empty() {
        return;
    }
    let names: Vec<&str> = fresh.iter().map(|k| k.profile.as_str()).collect();
    crate::ui::print_stdout(&format!(
        "aws-rekey: the age of the key in {} {} is unknown; run `aws-rekey status` once to learn it",
        if names.len() == 1 {
            "profile"
        } else {
            "profiles"
        },
        names.join(", ")
    ));
    let mut all = mentioned;
    all.extend(fresh.iter().map(|k| tag(k)));
    let _ = state.set_mentioned_unknown(&all);
}
