//! The rollback protocol against the in-memory IAM and store.

use super::*;
use crate::rotation::OldKeyFate;
use crate::rotation::fakes::*;

/// A rotation made with --keep-old, then a rollback of it on a clock that
/// jumps over every pause.
fn rotate_then_roll_back(
    f: &Fixture,
    meanwhile: impl FnOnce(&Fixture),
) -> (AccessKey, AccessKey, Result<Vec<String>, CommandError>) {
    let outcome = rotate(f, &opts(true)).unwrap();
    assert_eq!(outcome.old_key, OldKeyFate::Deactivated);
    meanwhile(f);
    let current = f.store.read().unwrap();
    let book = f.state.book().unwrap();
    let (old_id, retired) = book
        .replaced_by(&current.id)
        .expect("the rotation's record");
    let old = f.state.retired_secret(old_id).unwrap().expect("kept");
    let ui = Ui::new(true);
    let rollback = Rollback {
        api: &f.iam,
        store: &f.store,
        state: &f.state,
        ui: &ui,
        verify_timeout: Duration::from_secs(3),
        also: &[],
    };
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(rollback.run(&current, &old, retired))
        .map(|(holders, _)| holders);
    (current, old, result)
}

#[test]
fn the_old_key_comes_back_and_the_new_one_is_deactivated() {
    let f = fixture();
    let (new, old, result) = rotate_then_roll_back(&f, |_| {});
    assert_eq!(result.unwrap(), vec!["p".to_string()]);
    assert_eq!(f.store.read().unwrap().id, old.id);
    assert_eq!(
        f.iam.ids(),
        vec![(old.id.clone(), true), (new.id.clone(), false)]
    );
    let book = f.state.book().unwrap();
    assert_eq!(
        book.retired[&new.id].replaced_by, old.id,
        "the new key is the retired one now"
    );
    assert!(!book.retired.contains_key(&old.id));
    assert!(
        f.state.retired_secret(&new.id).unwrap().is_some(),
        "its secret is kept"
    );
}

#[test]
fn an_old_key_that_never_verifies_is_undone_whole() {
    let f = fixture();
    // The kept secret no longer matches IAM's: the reactivated key is
    // rejected until the time is up.
    let (new, old, result) = rotate_then_roll_back(&f, |f| {
        f.iam.keys.borrow_mut()[0].secret = "changed-elsewhere".into();
    });
    let err = result.unwrap_err();
    assert!(matches!(err, CommandError::NotVerified(_)), "{err:?}");
    assert!(err.to_string().contains("put back"), "{err}");
    assert_eq!(f.store.read().unwrap().id, new.id, "the new key is back");
    assert_eq!(
        f.iam.ids(),
        vec![(old.id.clone(), false), (new.id.clone(), true)]
    );
}
