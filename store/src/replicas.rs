//! What replicas share through a PostgreSQL database beyond the data itself: the
//! realtime events ([`crate::events`]), the sign-in limits, which replicas are
//! alive with which sockets open, and the files' bytes. SQLite's one process keeps
//! the first three in memory and the files in a folder.

/// The sign-in limits' records. A key is an opaque digest (an account, an address,
/// or both); times are Unix milliseconds.
#[async_trait::async_trait]
pub trait SignIns: Send {
    /// The failures of these keys at or after `since`: (key, at).
    async fn sign_in_failures(
        &mut self,
        keys: &[Vec<u8>],
        since: i64,
    ) -> crate::Result<Vec<(Vec<u8>, i64)>>;

    /// Counts a failure of each key at `at`.
    async fn sign_in_fail(&mut self, keys: &[Vec<u8>], at: i64) -> crate::Result<()>;

    /// Forgets the key's failure at `at`, or every one of its failures.
    async fn sign_in_forget(&mut self, key: &[u8], at: Option<i64>) -> crate::Result<()>;

    /// Notes a refusal of `key` at `at`; whether it is the first since `since`.
    async fn sign_in_refused(&mut self, key: &[u8], at: i64, since: i64) -> crate::Result<bool>;

    /// Deletes what happened before `before`.
    async fn sign_in_prune(&mut self, before: i64) -> crate::Result<()>;
}

/// One account's sockets (on one replica, or summed over several).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sockets {
    pub sockets: i64,
    /// Of them, those in a tab in use.
    pub active: i64,
}

/// The replicas alive, and their sockets. A replica is alive until the time it last
/// promised; its sockets count only while it is.
#[async_trait::async_trait]
pub trait Fleet: Send {
    /// Notes that `replica` is alive until `until`.
    async fn replica_alive(&mut self, replica: &str, until: i64) -> crate::Result<()>;

    /// Forgets the replicas not renewed by `now`, with their sockets; the accounts
    /// that had sockets there.
    async fn replicas_expire(&mut self, now: i64) -> crate::Result<Vec<i64>>;

    /// Forgets `replica` and its sockets (a clean stop).
    async fn replica_gone(&mut self, replica: &str) -> crate::Result<()>;

    /// How many replicas are alive at `now`.
    async fn replicas_alive(&mut self, now: i64) -> crate::Result<i64>;

    /// Sets `user`'s sockets on `replica`. None is remembered too, as "closed them
    /// all here", until the replica is forgotten.
    async fn sockets_set(
        &mut self,
        replica: &str,
        user: i64,
        sockets: Sockets,
    ) -> crate::Result<()>;

    /// `user`'s sockets on the replicas alive at `now`, other than `except`.
    async fn sockets_elsewhere(
        &mut self,
        user: i64,
        except: &str,
        now: i64,
    ) -> crate::Result<Sockets>;

    /// Every account's sockets on the replicas alive at `now` other than `except`,
    /// by account; an account with none there that had some counts as zero.
    async fn sockets_all(&mut self, now: i64, except: &str) -> crate::Result<Vec<(i64, Sockets)>>;
}

/// The bytes of the files Baton serves (attachments, media copies), by their key.
#[async_trait::async_trait]
pub trait Blobs: Send {
    /// Stores `bytes` under `key` (a key is written once; a repeat keeps the first).
    async fn blob_put(&mut self, key: &str, bytes: &[u8]) -> crate::Result<()>;

    /// The bytes stored under `key`.
    async fn blob_get(&mut self, key: &str) -> crate::Result<Option<Vec<u8>>>;

    async fn blob_delete(&mut self, key: &str) -> crate::Result<()>;

    /// The keys of every attachment and stored media copy that has no bytes here
    /// (files of an installation moved from SQLite, still in its folder).
    async fn blobs_missing(&mut self) -> crate::Result<Vec<String>>;
}

/// Everything replicas share, on one transaction (the files' bytes aside: they are
/// reached through [`crate::Session::blobs`], with or without a transaction).
pub trait Replicas: crate::events::Events + SignIns + Fleet {}

impl<T: crate::events::Events + SignIns + Fleet> Replicas for T {}
