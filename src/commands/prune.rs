//! `aws-rekey prune`: the last step of AWS's retire procedure. Keys this
//! tool left inactive are deleted once IAM shows no use of them since they
//! were deactivated; a key something still tried to use is kept, and named.

use crate::cli::{OutputFormat, PruneArgs};
use crate::copies::listed::ALSO;
use crate::error::CommandError;
use crate::exit::Exit;
use crate::mfa;
use crate::preamble::Preamble;
use crate::profile::Profiles;
use crate::rotation::Copies;
use crate::rotation::prune::Verdict;
use crate::secret::mask;
use crate::state::{RetiredKey, StateLock};
use crate::ui::Ui;
use serde::Serialize;

#[derive(Serialize)]
struct Pruned {
    access_key_id: String,
    profiles: Vec<String>,
    /// `deleted`, `would-delete`, `kept` (used since), `gone` (already
    /// deleted elsewhere), or `error`.
    action: &'static str,
    detail: Option<String>,
}

pub async fn run(args: PruneArgs) -> Result<Exit, CommandError> {
    let ui = Ui::new(false);
    let Preamble {
        state, profiles, ..
    } = Preamble::open(args.lock_timeout, &ui)?;
    let book = state.book().unwrap_or_default();
    let mut out = Vec::new();
    let mut exit = Exit::Success;
    for (id, retired) in &book.retired {
        if !args.profiles.is_empty() && !retired.profiles.iter().any(|p| args.profiles.contains(p))
        {
            continue;
        }
        let pruned = prune_one(&profiles, &state, id, retired, &args, &ui).await;
        let pruned = pruned.unwrap_or_else(|e| {
            exit = Exit::combine([exit, e.exit()]);
            Pruned {
                access_key_id: id.clone(),
                profiles: retired.profiles.clone(),
                action: "error",
                detail: Some(format!("{e:#}")),
            }
        });
        out.push(pruned);
    }
    if args.output == OutputFormat::Json {
        crate::ui::print_json(&serde_json::json!({ "keys": out }));
    } else if out.is_empty() {
        crate::ui::print_stdout("no inactive keys left by aws-rekey");
    } else {
        for p in &out {
            crate::ui::print_stdout(&format!(
                "{} ({}): {}{}",
                mask(&p.access_key_id),
                p.profiles.join(", "),
                p.action,
                p.detail
                    .as_deref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            ));
        }
    }
    Ok(exit)
}

async fn prune_one(
    profiles: &Profiles,
    state: &StateLock,
    id: &str,
    retired: &RetiredKey,
    args: &PruneArgs,
    ui: &Ui,
) -> Result<Pruned, CommandError> {
    let result = |action, detail: Option<String>| Pruned {
        access_key_id: id.to_string(),
        profiles: retired.profiles.clone(),
        action,
        detail,
    };
    // A profile holding it again (an interrupted `rollback` wrote it back
    // before it could update the key book) makes it no retired key.
    let holding = profiles.holders_of(id);
    if !holding.is_empty() {
        return Ok(result(
            "kept",
            Some(format!(
                "profile {} holds it (an interrupted `aws-rekey rollback`?); run `aws-rekey rollback --profile {}` to finish, or rotate",
                holding.join(", "),
                holding[0]
            )),
        ));
    }
    // Act with the key of a profile that held the retired one.
    let Some((name, via, key, region, serial)) = retired.profiles.iter().find_map(|name| {
        let (profile, via) = profiles.resolve_for_rotation(name).ok()?;
        let key = profiles.store(&profile).read().ok()?;
        let serial = profiles.mfa_serial(&profile.name, via.as_deref());
        Some((profile.name, via, key, profile.region, serial))
    }) else {
        return Ok(result(
            "kept",
            Some("no profile that held it has a key to act with".into()),
        ));
    };
    let sdk = mfa::sdk_for(
        profiles,
        &name,
        via.as_deref(),
        region.as_deref(),
        &key,
        serial.as_deref(),
        args.mfa_code.as_deref(),
    )
    .await?;
    // Where the key's copies were, and may still be.
    let copies = Copies::gather(profiles, &retired.profiles, &retired.also)?;
    let verdict = crate::rotation::prune::prune(
        &sdk,
        &key,
        (id, retired),
        args.dry_run,
        state,
        copies.lookout.as_ref(),
    )
    .await?;
    if verdict == Verdict::Deleted {
        ui.step(format!("deleted {}", mask(id)));
    }
    Ok(match verdict {
        Verdict::Gone => result("gone", Some("already deleted".into())),
        Verdict::Used(when) => result(
            "kept",
            Some(format!(
                "something tried to use it after it was deactivated ({when}); find and update that, then prune again"
            )),
        ),
        Verdict::Copies(where_) => result(
            "kept",
            Some(format!(
                "still in {where_}; remove it there (or add the file to {ALSO} so rotations update it), then prune again"
            )),
        ),
        Verdict::WouldDelete => result("would-delete", None),
        Verdict::Deleted => result("deleted", None),
    })
}
