//! The persistence interface: what Baton's domain (`backend`) asks of a database. One
//! trait per area, implemented once per engine (`store-sqlite`, `store-postgres`),
//! each with its own checked SQL.
//!
//! A method is one statement or one read, named for what it does, taking and returning
//! plain values. The rules (who may, what must be true first, what follows) stay in
//! `backend`, which calls these methods inside its transactions, so an engine only
//! ever decides how to say something in SQL.
//!
//! Areas move here one at a time (`docs/engines.md`); until the last one has, the rest
//! of `backend` still runs its own SQLite queries.

pub mod accounts;
pub mod activity;
pub mod audit;
pub mod canned;
pub mod connections;
pub mod customers;
pub mod events;
pub mod health;
pub mod inbound;
pub mod labels;
pub mod leases;
pub mod links;
pub mod media;
pub mod notes;
pub mod outbox;
pub mod replicas;
pub mod reports;
pub mod routing;
pub mod search;
pub mod sessions;
pub mod settings;
pub mod sync;
pub mod teams;
pub mod tickets;
pub mod views;

pub use sqlx::Error;

pub type Result<T> = std::result::Result<T, Error>;

/// A name stored as text (a status, a role), as its type. A name this build does
/// not know is a decoding error, on either engine.
pub fn parse_name<T>(raw: &str) -> Result<T>
where
    T: std::str::FromStr<Err = protocol::UnknownName>,
{
    raw.parse().map_err(|e| Error::Decode(Box::new(e)))
}

/// Every area's statements, on one connection or transaction.
pub trait Tx:
    accounts::Accounts
    + activity::Activity
    + audit::Audit
    + canned::Canned
    + connections::Connections
    + customers::Customers
    + health::Health
    + inbound::Inbound
    + labels::Labels
    + leases::Leases
    + links::Links
    + media::Media
    + notes::Notes
    + outbox::Outbox
    + reports::Reports
    + routing::Routing
    + search::Search
    + sessions::Sessions
    + settings::Settings
    + sync::Syncing
    + teams::Teams
    + tickets::Tickets
    + views::Views
    + Send
{
}

impl<T> Tx for T where
    T: accounts::Accounts
        + activity::Activity
        + audit::Audit
        + canned::Canned
        + connections::Connections
        + customers::Customers
        + health::Health
        + inbound::Inbound
        + labels::Labels
        + leases::Leases
        + links::Links
        + media::Media
        + notes::Notes
        + outbox::Outbox
        + reports::Reports
        + routing::Routing
        + search::Search
        + sessions::Sessions
        + settings::Settings
        + sync::Syncing
        + teams::Teams
        + tickets::Tickets
        + views::Views
        + Send
{
}

/// A transaction. Dropped without [`Session::commit`], it rolls back. A function that
/// works inside any transaction takes `&mut dyn Tx`, which a session coerces to.
#[async_trait::async_trait]
pub trait Session: Tx {
    async fn commit(self: Box<Self>) -> Result<()>;

    /// What replicas share through the database, where the engine has it
    /// (PostgreSQL, in a transaction): see [`replicas`].
    fn replicas(&mut self) -> Option<&mut dyn replicas::Replicas> {
        None
    }

    /// The files' bytes, where the database holds them (PostgreSQL, with or without
    /// a transaction).
    fn blobs(&mut self) -> Option<&mut dyn replicas::Blobs> {
        None
    }
}

/// A database, of either engine. Cheap to share: the engines hold a pool.
#[async_trait::async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// A transaction that will write. On SQLite it takes the write lock at once, so a
    /// read-then-write cannot fail half-way for want of the lock.
    async fn write(&self) -> Result<Box<dyn Session>>;

    /// A transaction that only reads: one consistent snapshot.
    async fn read(&self) -> Result<Box<dyn Session>>;

    /// No transaction: each statement commits on its own, and `commit` does nothing.
    /// For a single read, and for a single write that needs nothing else to be true
    /// (a last-seen stamp, a delivery's result): it saves a transaction's round trips
    /// (and on SQLite the rollback that ends a dropped read), and on PostgreSQL a
    /// write here does not queue behind other writes.
    async fn autocommit(&self) -> Result<Box<dyn Session>>;
}
