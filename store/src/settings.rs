//! Installation-wide settings (the alerts' threshold and webhook), as JSON per key,
//! and the gauges the metrics scrape reads.

#[async_trait::async_trait]
pub trait Settings {
    /// The JSON text stored under `key`.
    async fn setting_get(&mut self, key: &str) -> crate::Result<Option<String>>;

    /// Stores `json` under `key`, replacing what was there.
    async fn setting_put(&mut self, key: &str, json: &str) -> crate::Result<()>;

    /// Calls not delivered yet, and when the oldest was queued.
    async fn outbox_backlog(&mut self) -> crate::Result<(i64, Option<i64>)>;

    /// Tickets waiting in the queue, and when the oldest arrived.
    async fn queue_backlog(&mut self) -> crate::Result<(i64, Option<i64>)>;
}
