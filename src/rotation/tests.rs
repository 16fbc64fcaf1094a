//! The protocol against an in-memory IAM and store: every branch, fast.

use super::*;
use crate::aws::{Created, LastUsed};
use crate::secret::Secret;
use crate::state::State;
use std::cell::{Cell, RefCell};

struct FakeKey {
    id: String,
    secret: String,
    active: bool,
    created: Timestamp,
    used: Option<Timestamp>,
}

/// One IAM user's keys. `refuse_new` makes GetCallerIdentity reject keys
/// created here that many times (propagation); `lose_create` makes
/// CreateAccessKey take effect but lose its answer.
#[derive(Default)]
struct FakeIam {
    keys: RefCell<Vec<FakeKey>>,
    refuse_new: Cell<u32>,
    lose_create: Cell<bool>,
    created: Cell<u32>,
}

const ARN: &str = "arn:aws:iam::123456789012:user/fake";

impl FakeIam {
    fn with_key(id: &str, secret: &str) -> Self {
        let iam = FakeIam::default();
        iam.keys.borrow_mut().push(FakeKey {
            id: id.into(),
            secret: secret.into(),
            active: true,
            created: Timestamp::now() - SignedDuration::from_hours(24 * 100),
            used: None,
        });
        iam
    }

    fn auth(&self, key: &AccessKey) -> Result<(), AwsError> {
        let mut keys = self.keys.borrow_mut();
        let found = keys
            .iter_mut()
            .find(|k| k.id == key.id && k.secret == key.secret.expose() && k.active);
        match found {
            Some(k) => {
                k.used = Some(Timestamp::now());
                Ok(())
            }
            None => Err(AwsError::Rejected {
                code: "InvalidClientTokenId".into(),
                message: "invalid".into(),
            }),
        }
    }

    fn ids(&self) -> Vec<(String, bool)> {
        self.keys
            .borrow()
            .iter()
            .map(|k| (k.id.clone(), k.active))
            .collect()
    }
}

impl KeyApi for FakeIam {
    async fn caller_arn(&self, key: &AccessKey) -> Result<String, AwsError> {
        if key.id.starts_with("AKIANEW") && self.refuse_new.get() > 0 {
            self.refuse_new.set(self.refuse_new.get() - 1);
            return Err(AwsError::Rejected {
                code: "InvalidClientTokenId".into(),
                message: "propagating".into(),
            });
        }
        self.auth(key).map(|()| ARN.to_string())
    }

    async fn list_keys(&self, key: &AccessKey) -> Result<Vec<KeyMeta>, AwsError> {
        self.auth(key)?;
        Ok(self
            .keys
            .borrow()
            .iter()
            .map(|k| KeyMeta {
                id: k.id.clone(),
                active: k.active,
                created: Some(k.created),
            })
            .collect())
    }

    async fn last_used(&self, key: &AccessKey, id: &str) -> Result<LastUsed, AwsError> {
        self.auth(key)?;
        let keys = self.keys.borrow();
        let k = keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| AwsError::NotFound(id.into()))?;
        Ok(LastUsed {
            date: k.used,
            service: Some("iam".into()),
            region: Some("us-east-1".into()),
        })
    }

    async fn create_key(&self, key: &AccessKey) -> Result<Created, AwsError> {
        self.auth(key)?;
        if self.keys.borrow().len() >= 2 {
            return Err(AwsError::LimitExceeded("two keys".into()));
        }
        self.created.set(self.created.get() + 1);
        let id = format!("AKIANEW{:013}", self.created.get());
        let secret = format!("secret-{}", self.created.get());
        self.keys.borrow_mut().push(FakeKey {
            id: id.clone(),
            secret: secret.clone(),
            active: true,
            created: Timestamp::now(),
            used: None,
        });
        if self.lose_create.get() {
            return Err(AwsError::Unreachable("connection reset".into()));
        }
        Ok(Created {
            key: AccessKey::new(id, Secret::new(secret)),
            created: Timestamp::now(),
        })
    }

    async fn delete_key(&self, key: &AccessKey, id: &str) -> Result<(), AwsError> {
        self.auth(key)?;
        let mut keys = self.keys.borrow_mut();
        let before = keys.len();
        keys.retain(|k| k.id != id);
        if keys.len() == before {
            return Err(AwsError::NotFound(id.into()));
        }
        Ok(())
    }

    async fn set_active(&self, key: &AccessKey, id: &str, active: bool) -> Result<(), AwsError> {
        self.auth(key)?;
        let mut keys = self.keys.borrow_mut();
        let k = keys
            .iter_mut()
            .find(|k| k.id == id)
            .ok_or_else(|| AwsError::NotFound(id.into()))?;
        k.active = active;
        Ok(())
    }
}

/// A one-profile store in memory.
struct MemoryStore(RefCell<AccessKey>);

impl Store for MemoryStore {
    fn location(&self) -> String {
        "memory [p]".into()
    }
    fn read(&self) -> Result<AccessKey, StoreError> {
        Ok(self.0.borrow().clone())
    }
    fn holders(&self, id: &str) -> Result<Vec<String>, StoreError> {
        Ok(if self.0.borrow().id == id {
            vec!["p".into()]
        } else {
            vec![]
        })
    }
    fn replace(&self, old_id: &str, new: &AccessKey) -> Result<Vec<String>, StoreError> {
        let current = self.0.borrow().id.clone();
        if current != new.id && current != old_id {
            return Err(StoreError::Changed("changed".into()));
        }
        *self.0.borrow_mut() = new.clone();
        Ok(vec!["p".into()])
    }
}

struct Fixture {
    iam: FakeIam,
    store: MemoryStore,
    state: StateLock,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    Fixture {
        iam: FakeIam::with_key("AKIAOLD0000000000000", "old-secret"),
        store: MemoryStore(RefCell::new(AccessKey::new(
            "AKIAOLD0000000000000",
            Secret::new("old-secret"),
        ))),
        state: State::at(dir.path().join("state"))
            .unwrap()
            .lock(Duration::from_secs(1), |_| {})
            .unwrap(),
        _dir: dir,
    }
}

fn opts(keep_old: bool) -> Options {
    Options {
        keep_old,
        dry_run: false,
        verify_timeout: Duration::from_secs(3),
        older_than: None,
    }
}

fn rotate(f: &Fixture, opts: &Options) -> Result<Outcome, CommandError> {
    let ui = Ui::new(true);
    let rotation = Rotation {
        api: &f.iam,
        store: &f.store,
        state: &f.state,
        ui: &ui,
        opts,
        profile: "p",
    };
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(rotation.rotate())
}

#[test]
fn rotates_verifies_and_deletes_the_old_key() {
    let f = fixture();
    f.iam.refuse_new.set(2);
    let outcome = rotate(&f, &opts(false)).unwrap();
    let new = f.store.read().unwrap();
    assert_eq!(outcome.new_key_id.as_deref(), Some(new.id.as_str()));
    assert_eq!(outcome.old_key, OldKeyFate::Deleted);
    assert_eq!(f.iam.ids(), vec![(new.id.clone(), true)]);
    assert!(f.state.pending().unwrap().is_empty());
    assert!(f.state.book().unwrap().keys.contains_key(&new.id));
}

#[test]
fn a_key_that_never_verifies_is_rolled_back() {
    let f = fixture();
    f.iam.refuse_new.set(u32::MAX);
    let err = rotate(&f, &opts(false)).unwrap_err();
    assert!(matches!(err, CommandError::NotVerified(_)), "{err}");
    assert_eq!(f.store.read().unwrap().id, "AKIAOLD0000000000000");
    assert_eq!(f.iam.ids(), vec![("AKIAOLD0000000000000".into(), true)]);
    assert!(f.state.pending().unwrap().is_empty());
}

#[test]
fn a_lost_create_answer_deletes_the_orphan_at_once() {
    let f = fixture();
    f.iam.lose_create.set(true);
    let err = rotate(&f, &opts(false)).unwrap_err();
    assert!(err.to_string().contains("deleted again"), "{err}");
    assert_eq!(f.iam.ids(), vec![("AKIAOLD0000000000000".into(), true)]);
    assert!(f.state.pending().unwrap().is_empty());
}

#[test]
fn an_interrupted_rotation_is_finished_by_the_next_run() {
    let f = fixture();
    // As if killed right after the new secret was saved.
    let created = f.iam.keys.borrow().len();
    assert_eq!(created, 1);
    f.iam.created.set(1);
    f.iam.keys.borrow_mut().push(FakeKey {
        id: "AKIANEW0000000000001".into(),
        secret: "secret-1".into(),
        active: true,
        created: Timestamp::now(),
        used: None,
    });
    f.state
        .save_pending(&Pending {
            version: PENDING_VERSION,
            profile: "p".into(),
            location: f.store.location(),
            user_arn: ARN.into(),
            started: Timestamp::now(),
            phase: Phase::Created,
            old_key_id: "AKIAOLD0000000000000".into(),
            old_secret: Secret::new("old-secret"),
            new_key: Some(NewKey {
                id: "AKIANEW0000000000001".into(),
                secret: Secret::new("secret-1"),
                created: Timestamp::now(),
            }),
            keep_old: false,
            create_sent: None,
            holders: vec!["p".into()],
            switched: None,
            retire: None,
        })
        .unwrap();
    let outcome = rotate(&f, &opts(false)).unwrap();
    assert!(outcome.recovered.is_some());
    assert_eq!(f.store.read().unwrap().id, "AKIANEW0000000000001");
    assert_eq!(f.iam.ids(), vec![("AKIANEW0000000000001".into(), true)]);
    assert!(f.state.pending().unwrap().is_empty());
}

#[test]
fn keep_old_then_the_next_rotation_deletes_it() {
    let f = fixture();
    let first = rotate(&f, &opts(true)).unwrap();
    assert_eq!(first.old_key, OldKeyFate::Deactivated);
    assert!(
        f.state
            .retired_secret("AKIAOLD0000000000000")
            .unwrap()
            .is_some()
    );
    assert_eq!(f.iam.ids().len(), 2);
    let second = rotate(&f, &opts(false)).unwrap();
    assert_eq!(
        second.deleted_leftovers,
        vec!["AKIAOLD0000000000000".to_string()]
    );
    assert_eq!(f.iam.ids().len(), 1);
    assert!(
        f.state
            .retired_secret("AKIAOLD0000000000000")
            .unwrap()
            .is_none()
    );
}

#[test]
fn an_unknown_second_key_is_refused_and_left_alone() {
    let f = fixture();
    f.iam.keys.borrow_mut().push(FakeKey {
        id: "AKIASOMEONEELSES0000".into(),
        secret: "x".into(),
        active: true,
        created: Timestamp::now(),
        used: None,
    });
    let err = rotate(&f, &opts(false)).unwrap_err();
    assert!(matches!(err, CommandError::Refused(_)), "{err}");
    assert!(err.to_string().contains("AKIA…0000"), "{err}");
    assert_eq!(f.iam.ids().len(), 2);
    assert_eq!(f.store.read().unwrap().id, "AKIAOLD0000000000000");
}
