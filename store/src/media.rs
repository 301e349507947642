//! Files: copies of the media customers send (queued with the message, fetched by a
//! worker), and the attachments agents send.

/// A copy to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub id: i64,
    /// The id Botpress knows the ticket by (for the event).
    pub ticket: String,
    /// The ticket's row and connection (who may see the event).
    pub ticket_id: i64,
    pub connection: i64,
    pub message: i64,
    pub url: String,
}

/// A stored copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored<'a> {
    pub key: &'a str,
    pub name: &'a str,
    pub content_type: &'a str,
    pub size: i64,
}

/// A file an agent sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment<'a> {
    pub key: &'a str,
    pub ticket: i64,
    pub uploader: i64,
    pub name: &'a str,
    pub content_type: &'a str,
    pub size: i64,
}

#[async_trait::async_trait]
pub trait Media {
    async fn media_insert(
        &mut self,
        message: i64,
        ticket: i64,
        url: &str,
        now: i64,
    ) -> crate::Result<()>;

    /// The oldest copies still to make, at most `most`.
    async fn media_pending(&mut self, most: i64) -> crate::Result<Vec<Pending>>;

    async fn media_stored(&mut self, id: i64, copy: &Stored<'_>, now: i64) -> crate::Result<()>;

    /// The copy could not be made: the message keeps the link.
    async fn media_failed(&mut self, id: i64, reason: &str, now: i64) -> crate::Result<()>;

    /// The stored copies among these messages' media, as (url, key, name).
    async fn media_copies(
        &mut self,
        messages: &[i64],
    ) -> crate::Result<Vec<(String, String, String)>>;

    async fn attachment_insert(&mut self, file: &Attachment<'_>, now: i64) -> crate::Result<()>;

    async fn attachment_delete(&mut self, key: &str) -> crate::Result<()>;

    /// The name and type of the file a public key names: an attachment, or a stored
    /// copy of a customer's media.
    async fn file_by_key(&mut self, key: &str) -> crate::Result<Option<(String, String)>>;
}
