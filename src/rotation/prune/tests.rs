//! The prune step against the in-memory IAM.

use super::*;
use crate::rotation::fakes::*;
use crate::store::Store;
use jiff::{SignedDuration, Timestamp};

/// A rotation with --keep-old, then prune of the key it left inactive, at
/// `later` after its deactivation, with the old key used at `used` if set.
fn prune_after(used: Option<Timestamp>, dry_run: bool) -> (Fixture, String, Verdict) {
    let f = fixture();
    rotate(&f, &opts(true)).unwrap();
    let key = f.store.read().unwrap();
    let book = f.state.book().unwrap();
    let (old_id, retired) = book.retired.iter().next().expect("the retired key");
    if let Some(at) = used {
        f.iam.keys.borrow_mut()[0].used = Some(at);
    }
    let verdict = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(prune(
            &f.iam,
            &key,
            (old_id, retired),
            dry_run,
            &f.state,
            None,
        ))
        .unwrap();
    (f, old_id.clone(), verdict)
}

#[test]
fn an_unused_retired_key_is_deleted_and_forgotten() {
    let (f, old, verdict) = prune_after(None, false);
    assert_eq!(verdict, Verdict::Deleted);
    assert!(f.iam.ids().iter().all(|(id, _)| *id != old));
    assert!(f.state.book().unwrap().retired.is_empty());
    assert!(f.state.retired_secret(&old).unwrap().is_none());
}

#[test]
fn a_key_used_after_its_deactivation_is_kept() {
    let later = Timestamp::now() + SignedDuration::from_mins(5);
    let (f, old, verdict) = prune_after(Some(later), false);
    assert!(matches!(verdict, Verdict::Used(_)), "{verdict:?}");
    assert!(f.iam.ids().iter().any(|(id, _)| *id == old));
    assert!(f.state.book().unwrap().retired.contains_key(&old));
}

#[test]
fn a_dry_run_deletes_nothing() {
    let (f, old, verdict) = prune_after(None, true);
    assert_eq!(verdict, Verdict::WouldDelete);
    assert!(f.iam.ids().iter().any(|(id, _)| *id == old));
}
