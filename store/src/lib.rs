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

pub mod activity;
pub mod audit;
pub mod canned;
pub mod customers;
pub mod labels;
pub mod links;
pub mod notes;
pub mod teams;
pub mod tickets;

pub use sqlx::Error;

pub type Result<T> = std::result::Result<T, Error>;

/// Every area's statements, on one connection or transaction.
pub trait Tx:
    activity::Activity
    + audit::Audit
    + canned::Canned
    + customers::Customers
    + labels::Labels
    + links::Links
    + notes::Notes
    + teams::Teams
    + tickets::Tickets
    + Send
{
}

impl<T> Tx for T where
    T: activity::Activity
        + audit::Audit
        + canned::Canned
        + customers::Customers
        + labels::Labels
        + links::Links
        + notes::Notes
        + teams::Teams
        + tickets::Tickets
        + Send
{
}

/// A transaction. Dropped without [`Session::commit`], it rolls back. A function that
/// works inside any transaction takes `&mut dyn Tx`, which a session coerces to.
#[async_trait::async_trait]
pub trait Session: Tx {
    async fn commit(self: Box<Self>) -> Result<()>;
}

/// A database, of either engine. Cheap to share: the engines hold a pool.
#[async_trait::async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// A transaction that will write. On SQLite it takes the write lock at once, so a
    /// read-then-write cannot fail half-way for want of the lock.
    async fn write(&self) -> Result<Box<dyn Session>>;

    /// A transaction that only reads: one consistent snapshot.
    async fn read(&self) -> Result<Box<dyn Session>>;
}
