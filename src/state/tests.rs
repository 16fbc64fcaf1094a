//! Unit tests of `state`.

#![allow(clippy::disallowed_methods)] // fixtures are written directly

use super::*;

fn locked(dir: PathBuf) -> StateLock {
    State::at(dir)
        .unwrap()
        .lock(Duration::from_secs(1), |_| {})
        .unwrap()
}

fn record(old: &str) -> Pending {
    Pending {
        version: PENDING_VERSION,
        profile: "default".into(),
        location: "file".into(),
        user_arn: "arn:aws:iam::1:user/a".into(),
        started: Timestamp::now(),
        phase: Phase::Created,
        old_key_id: old.into(),
        old_secret: Secret::new("old-secret"),
        new_key: Some(NewKey {
            id: "AKIANEW".into(),
            secret: Secret::new("new-secret"),
            created: Timestamp::now(),
        }),
        keep_old: false,
        create_sent: None,
        unanswered: Vec::new(),
        holders: vec!["default".into()],
        switched: None,
        retire: None,
        also: Vec::new(),
    }
}

#[test]
fn pending_records_round_trip_privately() {
    let dir = tempfile::tempdir().unwrap();
    let state = locked(dir.path().join("s"));
    state.save_pending(&record("AKIAOLD")).unwrap();
    let back = state.pending().unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(
        back[0].new_key.as_ref().unwrap().secret.expose(),
        "new-secret"
    );
    assert_eq!(back[0].old_secret.expose(), "old-secret");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(state.pending_path("AKIAOLD"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(!format!("{:?}", back[0]).contains("new-secret"));
    state.clear_pending("AKIAOLD").unwrap();
    assert!(state.pending().unwrap().is_empty());
}

#[test]
fn a_damaged_record_is_an_error_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let state = locked(dir.path().to_path_buf());
    fs::write(state.pending_path("AKIAX"), "{not json").unwrap();
    let err = format!("{:#}", state.pending().unwrap_err());
    assert!(err.contains("damaged"), "{err}");
    assert!(state.pending_path("AKIAX").exists());
}

#[test]
fn a_record_from_a_newer_version_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::at(dir.path().to_path_buf()).unwrap();
    let mut v = serde_json::to_value(record("AKIAOLD")).unwrap();
    v["version"] = 99.into();
    fs::write(state.pending_path("AKIAOLD"), v.to_string()).unwrap();
    let err = format!("{:#}", state.pending().unwrap_err());
    assert!(err.contains("format version 99"), "{err}");
    assert!(!err.contains("old-secret"), "{err}");
    assert!(state.pending_path("AKIAOLD").exists());
}

#[test]
fn a_version_1_record_is_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::at(dir.path().to_path_buf()).unwrap();
    let mut v = serde_json::to_value(record("AKIAOLD")).unwrap();
    let o = v.as_object_mut().unwrap();
    for k in ["create_sent", "holders", "switched", "retire"] {
        o.remove(k);
    }
    v["version"] = 1.into();
    fs::write(state.pending_path("AKIAOLD"), v.to_string()).unwrap();
    let back = state.pending().unwrap();
    assert_eq!(back[0].retire, None);
    assert!(back[0].holders.is_empty());
}

#[test]
fn a_damaged_book_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let state = locked(dir.path().to_path_buf());
    fs::write(dir.path().join("keys.json"), "garbage").unwrap();
    assert!(state.book().is_err());
    state
        .update_book(|b| {
            b.keys.insert(
                "AKIA1".into(),
                KeyRecord {
                    created: Timestamp::UNIX_EPOCH,
                    user_arn: String::new(),
                    profiles: vec![],
                },
            );
        })
        .unwrap();
    assert!(state.book().unwrap().keys.contains_key("AKIA1"));
}

/// Issue 12: a record listing managed copies is version 3, which a build
/// that knows only version 2 refuses instead of finishing the rotation
/// without them; a record without them stays version 2 (readable there),
/// and this build still reads version 2 records, without `also`.
#[test]
fn managed_copies_make_a_record_version_3_and_version_2_is_still_read() {
    use crate::copies::listed::Listed;
    let dir = tempfile::tempdir().unwrap();
    let state = locked(dir.path().join("s"));
    let plain = record("AKIAPLAIN");
    assert_eq!(plain.version_needed(), 2);
    let mut listing = record("AKIALIST");
    listing.also = vec![Listed {
        path: "/home/a/.env".into(),
        optional: true,
    }];
    assert_eq!(listing.version_needed(), 3);
    // Written with too low a version: refused, not written.
    listing.version = 2;
    assert!(state.save_pending(&listing).is_err());
    assert!(!state.pending_path("AKIALIST").exists());
    listing.version = listing.version_needed();
    state.save_pending(&listing).unwrap();
    let mut v2 = plain;
    v2.version = v2.version_needed();
    state.save_pending(&v2).unwrap();
    let raw: serde_json::Value =
        serde_json::from_slice(&fs::read(state.pending_path("AKIAPLAIN")).unwrap()).unwrap();
    assert_eq!(raw["version"], 2);
    assert!(raw.get("also").is_none(), "{raw}");
    let mut back = state.pending().unwrap();
    back.sort_by(|a, b| a.old_key_id.cmp(&b.old_key_id));
    assert_eq!(back[0].old_key_id, "AKIALIST");
    assert_eq!(back[0].also, listing.also);
    assert!(back[1].also.is_empty());
}
