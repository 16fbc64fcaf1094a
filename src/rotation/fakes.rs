//! In-memory IAM and store, for the unit tests of the rotation and of the
//! protocols beside it (rollback, prune): every branch, fast.

use super::*;
use crate::aws::{Created, LastUsed};
use crate::secret::Secret;
use crate::state::State;
use std::cell::{Cell, RefCell};

pub(crate) struct FakeKey {
    pub(crate) id: String,
    pub(crate) secret: String,
    pub(crate) active: bool,
    pub(crate) created: Timestamp,
    pub(crate) used: Option<Timestamp>,
    /// Listings that still leave this key out (IAM's lag).
    pub(crate) unlisted: u32,
}

impl FakeKey {
    pub(crate) fn new(id: &str, secret: &str, created: Timestamp) -> Self {
        FakeKey {
            id: id.into(),
            secret: secret.into(),
            active: true,
            created,
            used: None,
            unlisted: 0,
        }
    }
}

/// One IAM user's keys. `refuse_new` makes GetCallerIdentity reject keys
/// created here that many times (propagation); the next `lose_create`
/// CreateAccessKey requests take effect but lose their answer, the next
/// `fail_create` are answered with a 500 and make nothing, the next
/// `throttle_create` and `throttle_reads` (each read action) are throttled;
/// a key CreateAccessKey makes is missing from its first `list_lag`
/// listings.
#[derive(Default)]
pub(crate) struct FakeIam {
    pub(crate) keys: RefCell<Vec<FakeKey>>,
    pub(crate) refuse_new: Cell<u32>,
    pub(crate) lose_create: Cell<u32>,
    pub(crate) fail_create: Cell<u32>,
    pub(crate) throttle_create: Cell<u32>,
    pub(crate) throttle_reads: Cell<u32>,
    pub(crate) list_lag: Cell<u32>,
    pub(crate) created: Cell<u32>,
}

/// Counts one use of a fault set to happen `n` more times.
pub(crate) fn take(n: &Cell<u32>) -> bool {
    let left = n.get();
    if left > 0 {
        n.set(left - 1);
    }
    left > 0
}

pub(crate) fn throttled() -> AwsError {
    AwsError::Throttled {
        code: "Throttling".into(),
        message: "Rate exceeded".into(),
    }
}

pub(crate) const ARN: &str = "arn:aws:iam::123456789012:user/fake";

impl FakeIam {
    pub(crate) fn with_key(id: &str, secret: &str) -> Self {
        let iam = FakeIam::default();
        iam.keys.borrow_mut().push(FakeKey::new(
            id,
            secret,
            Timestamp::now() - SignedDuration::from_hours(24 * 100),
        ));
        iam
    }

    pub(crate) fn auth(&self, key: &AccessKey) -> Result<(), AwsError> {
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

    pub(crate) fn ids(&self) -> Vec<(String, bool)> {
        self.keys
            .borrow()
            .iter()
            .map(|k| (k.id.clone(), k.active))
            .collect()
    }
}

impl KeyApi for FakeIam {
    async fn caller_arn(&self, key: &AccessKey) -> Result<String, AwsError> {
        if take(&self.throttle_reads) {
            return Err(throttled());
        }
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
        if take(&self.throttle_reads) {
            return Err(throttled());
        }
        self.auth(key)?;
        let mut keys = self.keys.borrow_mut();
        for k in keys.iter_mut() {
            k.unlisted = k.unlisted.saturating_sub(1);
        }
        Ok(keys
            .iter()
            .filter(|k| k.unlisted == 0)
            .map(|k| KeyMeta {
                id: k.id.clone(),
                active: k.active,
                created: Some(k.created),
            })
            .collect())
    }

    async fn last_used(&self, key: &AccessKey, id: &str) -> Result<LastUsed, AwsError> {
        if take(&self.throttle_reads) {
            return Err(throttled());
        }
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
        if take(&self.throttle_create) {
            return Err(throttled());
        }
        if take(&self.fail_create) {
            return Err(AwsError::Other {
                code: "InternalFailure".into(),
                message: "injected".into(),
                server: true,
            });
        }
        self.auth(key)?;
        if self.keys.borrow().len() >= 2 {
            return Err(AwsError::LimitExceeded("two keys".into()));
        }
        self.created.set(self.created.get() + 1);
        let id = format!("AKIANEW{:013}", self.created.get());
        let secret = format!("secret-{}", self.created.get());
        let mut made = FakeKey::new(&id, &secret, Timestamp::now());
        // Left out of its first `list_lag` listings (counted down first).
        made.unlisted = self.list_lag.get() + 1;
        self.keys.borrow_mut().push(made);
        if take(&self.lose_create) {
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
pub(crate) struct MemoryStore(pub(crate) RefCell<AccessKey>);

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

pub(crate) struct Fixture {
    pub(crate) iam: FakeIam,
    pub(crate) store: MemoryStore,
    pub(crate) state: StateLock,
    pub(crate) _dir: tempfile::TempDir,
}

pub(crate) fn fixture() -> Fixture {
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

pub(crate) fn opts(keep_old: bool) -> Options {
    Options {
        keep_old,
        dry_run: false,
        verify_timeout: Duration::from_secs(3),
        older_than: None,
    }
}

/// A rotation as `rotate` runs it (throttled reads retried), on a clock
/// that jumps over every pause, so waits cost no time.
pub(crate) fn rotate(f: &Fixture, opts: &Options) -> Result<Outcome, CommandError> {
    let ui = Ui::new(true);
    let api = Patient::new(&f.iam, &ui);
    let rotation = Rotation {
        api: &api,
        store: &f.store,
        state: &f.state,
        ui: &ui,
        opts,
        profile: "p",
        copies: &Copies::default(),
    };
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(rotation.rotate())
}
