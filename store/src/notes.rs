//! Private notes on tickets, and who they mention.

/// Someone a note could mention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub email: String,
    /// Whether they may see the ticket (they serve its connection, are an admin, or
    /// hold it): only then may a note on it mention them.
    pub sees: bool,
}

/// A stored note with its author and the names it mentions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRow {
    pub id: i64,
    pub author_id: i64,
    pub author_name: String,
    pub author_public_id: String,
    pub text: String,
    pub created_at: i64,
    /// By name, in any letter case.
    pub mentions: Vec<String>,
}

#[async_trait::async_trait]
pub trait Notes {
    /// Every active account but `except`, by id, each with whether they may see
    /// `ticket`: whom a note by `except` on it names, and may mention.
    async fn note_people(&mut self, except: i64, ticket: i64) -> crate::Result<Vec<Person>>;

    async fn note_insert(
        &mut self,
        ticket: i64,
        author: i64,
        text: &str,
        now: i64,
    ) -> crate::Result<i64>;

    async fn note_mention_insert(&mut self, note: i64, user: i64, ticket: i64)
    -> crate::Result<()>;

    /// The ticket's notes written at or after `since` (ms), oldest first.
    async fn notes_since(&mut self, ticket: i64, since: i64) -> crate::Result<Vec<NoteRow>>;

    /// Whether a note in the ticket mentions `user` and they have not opened it since.
    async fn note_unseen_mention(&mut self, user: i64, ticket: i64) -> crate::Result<bool>;

    /// Marks the notes that mention `user` in the ticket as seen: how many.
    async fn note_mentions_seen(&mut self, user: i64, ticket: i64, now: i64) -> crate::Result<u64>;
}
