//! Labels, and which tickets carry them.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    pub id: i64,
    pub name: String,
    /// `#rrggbb`, validated on the way in.
    pub colour: String,
}

#[async_trait::async_trait]
pub trait Labels {
    /// Every label, by name in any letter case.
    async fn labels_all(&mut self) -> crate::Result<Vec<Label>>;

    async fn label_get(&mut self, id: i64) -> crate::Result<Option<Label>>;

    /// The new label's id. A name already taken (any letter case) is a unique
    /// violation.
    async fn label_insert(&mut self, name: &str, colour: &str, now: i64) -> crate::Result<i64>;

    /// Renames and recolours; a name already taken is a unique violation.
    async fn label_update(&mut self, id: i64, name: &str, colour: &str) -> crate::Result<()>;

    /// Deletes the label; it must be on no ticket any more.
    async fn label_delete(&mut self, id: i64) -> crate::Result<()>;

    /// The tickets that carry the label.
    async fn label_tickets(&mut self, label: i64) -> crate::Result<Vec<crate::tickets::Named>>;

    /// Takes the label off every ticket; how many carried it.
    async fn label_take_off_all(&mut self, label: i64) -> crate::Result<u64>;

    /// Puts the label on the ticket; `false` if it was already there.
    async fn ticket_label_add(
        &mut self,
        ticket: i64,
        label: i64,
        by: i64,
        now: i64,
    ) -> crate::Result<bool>;

    /// Takes the label off the ticket; `false` if it was not there.
    async fn ticket_label_remove(&mut self, ticket: i64, label: i64) -> crate::Result<bool>;

    /// The labels on each of the tickets, as (ticket id, label), by label name in any
    /// letter case.
    async fn labels_of_tickets(&mut self, tickets: &[i64]) -> crate::Result<Vec<(i64, Label)>>;
}
