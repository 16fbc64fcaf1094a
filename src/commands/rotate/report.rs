//! What `rotate` prints: one line per rotation, a table for several, or
//! the JSON document; every failure on stderr; the combined exit code.

use super::Results;
use crate::error::CommandError;
use crate::exit::Exit;
use crate::hook::HookReport;
use crate::rotation::{CopyStatus, OldKeyFate, Outcome, copies_line};
use crate::secret::mask;
use serde_json::json;

fn outcome_json(
    name: &str,
    r: &Result<Outcome, CommandError>,
    hook: &Option<HookReport>,
) -> serde_json::Value {
    let mut v = match r {
        Ok(o) => serde_json::to_value(o).expect("an outcome always serialises"),
        Err(e) => crate::report::error_doc(name, e),
    };
    if let Some(h) = hook {
        v["hook"] = serde_json::to_value(h).expect("a hook report serialises");
    }
    v
}

fn result_text(o: &Outcome) -> String {
    if let Some(reason) = &o.skipped {
        return format!("skipped: {reason}");
    }
    let fate = match o.old_key {
        OldKeyFate::Deleted => "old key deleted",
        OldKeyFate::Deactivated => "old key deactivated",
        OldKeyFate::WouldDelete => "dry run: would delete the old key",
        OldKeyFate::WouldDeactivate => "dry run: would deactivate the old key",
        OldKeyFate::Kept => "old key kept",
    };
    if o.dry_run {
        fate.to_string()
    } else {
        format!("rotated, {fate}")
    }
}

fn summary(o: &Outcome) -> String {
    let new = o.new_key_id.as_deref().map(mask).unwrap_or_default();
    if o.dry_run || o.skipped.is_some() {
        return format!(
            "{}: {} ({})",
            o.profile,
            mask(&o.old_key_id),
            result_text(o)
        );
    }
    format!(
        "{}: {} → {new} ({}; {}){}",
        o.profile,
        mask(&o.old_key_id),
        result_text(o).trim_start_matches("rotated, "),
        if o.profiles.len() > 1 {
            format!("profiles {}", o.profiles.join(", "))
        } else {
            "verified".to_string()
        },
        updated_files(o)
    )
}

/// `; also updated ~/.env, ~/.s3cfg`: the managed copies this run changed.
fn updated_files(o: &Outcome) -> String {
    copies_line(&o.also, CopyStatus::Updated, "also updated")
}

/// The table `--all` and several `--profile`s end with.
fn table(results: &Results) -> String {
    let mut rows = vec![["PROFILE", "OLD KEY", "NEW KEY", "RESULT"].map(String::from)];
    for (name, r, hook) in results {
        let mut row = match r {
            Ok(o) => [
                if o.profiles.is_empty() {
                    o.profile.clone()
                } else {
                    o.profiles.join(", ")
                },
                mask(&o.old_key_id),
                o.new_key_id
                    .as_deref()
                    .map(mask)
                    .unwrap_or_else(|| "-".into()),
                format!("{}{}", result_text(o), updated_files(o)),
            ],
            Err(e) => [
                name.clone(),
                "-".into(),
                "-".into(),
                format!("failed: {e:#}"),
            ],
        };
        if let Some(h) = hook.as_ref().filter(|h| !h.ok) {
            row[3].push_str(&format!(
                "; hook failed ({})",
                h.error.as_deref().unwrap_or("")
            ));
        }
        rows.push(row);
    }
    let rows: Vec<Vec<String>> = rows.into_iter().map(Vec::from).collect();
    crate::ui::table(&rows)
}

pub(super) fn report(results: &Results, json: bool, many: bool) -> Result<Exit, CommandError> {
    let exit = Exit::combine(results.iter().map(|(_, r, h)| match r {
        Err(e) => e.exit(),
        Ok(_) if h.as_ref().is_some_and(|h| !h.ok) => Exit::HookFailed,
        Ok(_) => Exit::Success,
    }));
    if json {
        let doc = if many || results.len() != 1 {
            json!({
                "ok": exit == Exit::Success,
                "rotations": results.iter().map(|(n, r, h)| outcome_json(n, r, h)).collect::<Vec<_>>(),
            })
        } else {
            let (n, r, h) = &results[0];
            outcome_json(n, r, h)
        };
        crate::ui::print_json(&doc);
    } else if many {
        crate::ui::print_stdout(&table(results));
    } else {
        for (_, r, _) in results {
            if let Ok(o) = r {
                crate::ui::print_stdout(&summary(o));
            }
        }
    }
    for (name, r, _) in results {
        if let Err(e) = r {
            if many {
                eprintln!("aws-rekey: {name}: {e:#}");
            } else {
                eprintln!("aws-rekey: {e:#}");
            }
        }
    }
    Ok(exit)
}
