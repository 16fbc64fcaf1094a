//! `aws-rekey status`: every profile's key, from both stores, with what IAM
//! says about it (creation date, last use, the user's other key). Keys are
//! queried concurrently; the creation dates go into the key book so that
//! `check` can work offline.

use crate::aws::{KeyApi, KeyMeta, LastUsed, Sdk};
use crate::cli::{MaxAge, OutputFormat, StatusArgs};
use crate::copies::listed::{ALSO, Listed};
use crate::copies::managed::{self, Holds};
use crate::error::CommandError;
use crate::exit::Exit;
use crate::network::Network;
use crate::profile::{AwsFiles, Profiles, StoreKind};
use crate::secret::{AccessKey, mask};
use crate::state::{KeyBook, KeyRecord, State};
use crate::ui::Ui;
use crate::ui::human_age;
use jiff::Timestamp;
use serde::Serialize;

/// One key, and every profile that holds it.
struct Held {
    profiles: Vec<String>,
    store: &'static str,
    key: AccessKey,
    region: Option<String>,
    /// The proxy and CA bundle of the first profile asked for that holds
    /// it (`Network::for_profile`).
    network: Network,
    /// The files the holding profiles name as copies of the key.
    also: Vec<Listed>,
}

#[derive(Serialize, Default)]
struct Row {
    profile: String,
    profiles: Vec<String>,
    store: String,
    access_key_id: Option<String>,
    user_arn: Option<String>,
    created: Option<Timestamp>,
    age_days: Option<f64>,
    last_used: Option<LastUsedJson>,
    other_key: Option<OtherKey>,
    due: bool,
    error: Option<String>,
    /// The key's managed copies (`aws_rekey_also`).
    also: Vec<Copy>,
}

/// A managed copy, and whether it holds the key the profile holds now.
#[derive(Serialize)]
struct Copy {
    path: String,
    /// `null` when it does not exist (or cannot be read).
    current: Option<bool>,
    /// Why it does not hold the current key, or cannot be read.
    detail: Option<String>,
}

#[derive(Serialize)]
struct LastUsedJson {
    date: Option<Timestamp>,
    service: Option<String>,
    region: Option<String>,
}

#[derive(Serialize)]
struct OtherKey {
    access_key_id: String,
    status: &'static str,
    created: Option<Timestamp>,
}

pub async fn run(args: StatusArgs) -> Result<Exit, CommandError> {
    let files = AwsFiles::from_env()?;
    let profiles = Profiles::load(files)?;
    // Read only if it exists: a status that learns nothing (no profiles,
    // every query failed) writes nothing, so it must not create the folder.
    let book = State::existing()?
        .and_then(|s| s.book().ok())
        .unwrap_or_default();

    let mut exits = Vec::new();
    let ui = Ui::new(false);
    let (mut rows, held) = held_keys(&args, &profiles, &mut exits, &ui);
    let queried = futures_util::future::join_all(held.iter().map(query)).await;
    let now = Timestamp::now();
    let mut learned: Learned = Vec::new();
    for (h, result) in held.iter().zip(queried) {
        if result.is_err() {
            exits.push(Exit::Aws);
        }
        let row = row(h, result, &book, now, &args, &mut learned);
        rows.push(row);
    }
    // The dates go into the key book under the lock, like every write of
    // it: written without it, they could overwrite a rotation's record of
    // the key it just deactivated.
    let recorded = if learned.is_empty() {
        Ok(())
    } else {
        record(learned, args.lock_timeout)
    };

    if args.output == OutputFormat::Json {
        let doc = serde_json::json!({ "max_age_days": args.max_age.days(), "profiles": rows });
        crate::ui::print_json(&doc);
    } else {
        crate::ui::print_stdout(&table(&rows, args.max_age, now));
    }
    // What IAM said is shown either way; a lock that stayed busy is still
    // reported (exit 6): the dates were not recorded for `check`.
    recorded?;
    Ok(Exit::combine(exits))
}

/// The keys to query, each with every profile holding it; and a row (and
/// an exit code) for each profile asked for whose key cannot be read.
fn held_keys(
    args: &StatusArgs,
    profiles: &Profiles,
    exits: &mut Vec<Exit>,
    ui: &Ui,
) -> (Vec<Row>, Vec<Held>) {
    let all = args.profiles.is_empty();
    let names = if all {
        profiles.names()
    } else {
        args.profiles.clone()
    };
    let mut rows = Vec::new();
    let mut held: Vec<Held> = Vec::new();
    let mut failed = |name: &str, store: &str, e: CommandError| {
        exits.push(e.exit());
        rows.push(error_row(name, store, e.to_string()));
    };
    for name in &names {
        // A named role profile shows the key at the end of its source
        // chain, the one `rotate` would rotate.
        let resolved = if all {
            profiles.resolve(name).map(|p| (p, None))
        } else {
            profiles.resolve_for_rotation(name)
        };
        let (profile, via) = match resolved {
            Ok(p) => p,
            // Listing everything: profiles without a long-lived key are
            // simply not this command's business.
            Err(_) if all => continue,
            Err(e) => {
                failed(name, "-", e.into());
                continue;
            }
        };
        let kind = match profile.store {
            StoreKind::File => "file",
            StoreKind::Keychain { .. } => "keychain",
        };
        let key = match profiles.store(&profile).read() {
            Ok(k) => k,
            Err(e) => {
                failed(name, kind, e.into());
                continue;
            }
        };
        let also = profiles.paths(name, ALSO).unwrap_or_else(|e| {
            ui.warn(e.to_string());
            Vec::new()
        });
        match held.iter_mut().find(|h| h.key.id == key.id) {
            Some(h) => {
                h.profiles.push(name.clone());
                for l in also {
                    if !h.also.contains(&l) {
                        h.also.push(l);
                    }
                }
            }
            None => match Network::for_profile(profiles, &profile.name, via.as_deref()) {
                Ok(network) => held.push(Held {
                    profiles: vec![name.clone()],
                    store: kind,
                    key,
                    region: profile.region,
                    network,
                    also,
                }),
                Err(e) => failed(name, kind, e.into()),
            },
        }
    }
    (rows, held)
}

/// One key's row from what IAM said (or the error, with the age the key
/// book knows); what was learned goes into `learned` for the book.
fn row(
    h: &Held,
    result: Result<Info, String>,
    book: &KeyBook,
    now: Timestamp,
    args: &StatusArgs,
    learned: &mut Learned,
) -> Row {
    let mut row = Row {
        profile: h.profiles[0].clone(),
        profiles: h.profiles.clone(),
        store: h.store.into(),
        access_key_id: Some(h.key.id.clone()),
        also: h.also.iter().map(|l| copy(l, &h.key)).collect(),
        ..Row::default()
    };
    match result {
        Ok(info) => {
            row.user_arn = Some(info.user_arn.clone());
            row.created = info.created;
            row.last_used = Some(LastUsedJson {
                date: info.last_used.date,
                service: info.last_used.service,
                region: info.last_used.region,
            });
            row.other_key = info.other.map(|o| OtherKey {
                access_key_id: o.id,
                status: if o.active { "active" } else { "inactive" },
                created: o.created,
            });
            if let Some(created) = info.created {
                learned.push((h.key.id.clone(), created, info.user_arn, h.profiles.clone()));
            }
        }
        Err(e) => {
            row.error = Some(e);
            // What the book knows still tells the age.
            row.created = book.keys.get(&h.key.id).map(|r| r.created);
        }
    }
    if let Some(created) = row.created {
        let age = now.duration_since(created);
        row.age_days = Some(age.as_secs_f64() / 86_400.0);
        row.due = age > args.max_age.0;
    }
    row
}

/// Whether a managed copy holds `key`, read as a rotation would read it.
fn copy(listed: &Listed, key: &AccessKey) -> Copy {
    let (current, detail) = match managed::check(listed, key) {
        Ok(Some(Holds::Copies(_))) => (Some(true), None),
        Ok(Some(Holds::Nothing)) => (Some(false), Some("does not hold the current key".into())),
        Ok(None) => (None, Some("missing (optional)".into())),
        Err(e @ managed::CopyError::Mismatch { .. }) => (Some(false), Some(e.to_string())),
        Err(e) => (None, Some(e.to_string())),
    };
    Copy {
        path: listed.path.display().to_string(),
        current,
        detail,
    }
}

type Learned = Vec<(String, Timestamp, String, Vec<String>)>;

fn record(learned: Learned, timeout: std::time::Duration) -> anyhow::Result<()> {
    let ui = Ui::new(false);
    let state = State::open()?.lock(timeout, |m| ui.step(m))?;
    let written = state.update_book(|b| {
        for (id, created, user_arn, profiles) in learned {
            b.keys.insert(
                id,
                KeyRecord {
                    created,
                    user_arn,
                    profiles,
                },
            );
        }
    });
    if let Err(e) = written {
        // The book only caches what status can learn again.
        ui.warn(format!("could not record the key dates for `check`: {e:#}"));
    }
    Ok(())
}

fn error_row(name: &str, store: &str, error: String) -> Row {
    Row {
        profile: name.into(),
        profiles: vec![name.into()],
        store: store.into(),
        error: Some(error),
        ..Row::default()
    }
}

struct Info {
    user_arn: String,
    created: Option<Timestamp>,
    last_used: LastUsed,
    other: Option<KeyMeta>,
}

async fn query(h: &Held) -> Result<Info, String> {
    let sdk = Sdk::with_network(&h.profiles[0], h.region.as_deref(), &h.network).await;
    let key = &h.key;
    let (arn, keys, used) = tokio::join!(
        sdk.caller_arn(key),
        sdk.list_keys(key),
        sdk.last_used(key, &key.id)
    );
    let arn = arn.map_err(|e| e.to_string())?;
    let keys = keys.map_err(|e| e.to_string())?;
    let created = keys.iter().find(|k| k.id == key.id).and_then(|k| k.created);
    Ok(Info {
        user_arn: arn,
        created,
        last_used: used.unwrap_or_default(),
        other: keys.into_iter().find(|k| k.id != key.id),
    })
}

fn table(rows: &[Row], max_age: MaxAge, now: Timestamp) -> String {
    if rows.is_empty() {
        return "no profile with a long-lived access key".into();
    }
    let day = crate::ui::day;
    let mut lines = vec![
        [
            "PROFILE",
            "STORE",
            "KEY",
            "CREATED",
            "AGE",
            "LAST USED",
            "OTHER KEY",
            "DUE",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for r in rows {
        let mut line = vec![
            r.profiles.join(", "),
            r.store.clone(),
            r.access_key_id
                .as_deref()
                .map(mask)
                .unwrap_or_else(|| "-".into()),
            r.created
                .as_ref()
                .map(day)
                .unwrap_or_else(|| "unknown".into()),
            r.created
                .map(|c| human_age(now.duration_since(c)))
                .unwrap_or_else(|| "-".into()),
        ];
        line.push(match &r.last_used {
            Some(LastUsedJson {
                date: Some(d),
                service,
                region,
            }) => format!(
                "{} {} {}",
                day(d),
                service.as_deref().unwrap_or("-"),
                region.as_deref().unwrap_or("-")
            ),
            Some(_) => "never".into(),
            None => "-".into(),
        });
        line.push(match &r.other_key {
            Some(o) => format!("{} ({})", mask(&o.access_key_id), o.status),
            None => "-".into(),
        });
        line.push(match (&r.error, r.created) {
            (Some(e), _) => format!("error: {e}"),
            (None, None) => "unknown".into(),
            (None, Some(_)) if r.due => "yes".into(),
            (None, Some(_)) => "no".into(),
        });
        lines.push(line);
    }
    let mut out = vec![crate::ui::table(&lines)];
    for r in rows.iter().filter(|r| !r.also.is_empty()) {
        out.push(format!("{}: copies of its key:", r.profiles.join(", ")));
        for c in &r.also {
            let how = match (c.current, &c.detail) {
                (Some(true), _) => "current".to_string(),
                (_, Some(d)) => d.clone(),
                (_, None) => "unknown".to_string(),
            };
            out.push(format!("  {} ({how})", c.path));
        }
    }
    // The legend explains a yes or no in the DUE column; under rows that
    // only say why a key could not be queried it would read as a verdict.
    if rows
        .iter()
        .any(|r| r.error.is_none() && r.created.is_some())
    {
        out.push(format!(
            "(due: older than {} days)",
            (max_age.days() * 100.0).round() / 100.0
        ));
    }
    out.join("\n")
}
