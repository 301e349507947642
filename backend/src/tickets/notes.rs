//! Private notes: what colleagues write on a ticket for each other, never sent to
//! Botpress. A note may `@mention` colleagues by name or email; each one mentioned is
//! alerted (a realtime event for them alone) and finds the ticket in their Mentions
//! view until they open it.
//!
//! Any active account may write a note on any ticket it may see, open or closed: a
//! note is how a colleague who does not hold the ticket helps the one who does.
//!
//! A note may mention only those who may see its ticket (`routing`: those who serve
//! its bot, admins, and whoever holds it): the `@` picker offers only them
//! ([`mentionable`]), and a note that names anyone else is refused, saying who and
//! why, since a mention would show them the ticket.

use protocol::realtime::Change;
use serde::Serialize;
use store::Store;
use store::notes::NoteRow;
pub use store::notes::Person;

use crate::clock::now_ms;
use crate::effects::Effects;
use crate::users::User;
use crate::{Error, Result, Services};

/// The longest note, in characters.
pub const MAX_NOTE: usize = 5_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub id: i64,
    pub author_id: i64,
    pub author_name: String,
    /// The author's id as programs know it (`agt_…`).
    pub author_public_id: String,
    pub text: String,
    pub at: i64,
    /// The names of the colleagues it mentions.
    pub mentions: Vec<String>,
}

impl From<NoteRow> for Note {
    fn from(n: NoteRow) -> Self {
        Note {
            id: n.id,
            author_id: n.author_id,
            author_name: n.author_name,
            author_public_id: n.author_public_id,
            text: n.text,
            at: n.created_at,
            mentions: n.mentions,
        }
    }
}

/// Who `text` mentions among `people`: after each `@`, the longest name or email of
/// one of them (in any case) that ends where a word ends. Longest, so `@Ana Lopez`
/// is Ana Lopez even when there is also an Ana.
pub fn mentioned(text: &str, people: &[Person]) -> Vec<i64> {
    let lower = text.to_lowercase();
    let names: Vec<(i64, bool, String, String)> = people
        .iter()
        .map(|p| (p.id, p.sees, p.name.to_lowercase(), p.email.to_lowercase()))
        .collect();
    let mut found = Vec::new();
    for (at, _) in lower.match_indices('@') {
        let rest = &lower[at + 1..];
        let best = names
            .iter()
            .flat_map(|(id, sees, name, email)| [(*id, *sees, name), (*id, *sees, email)])
            .filter(|(_, _, key)| !key.is_empty() && rest.starts_with(key.as_str()))
            .filter(|(_, _, key)| {
                rest[key.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric() && c != '@')
            })
            // The longest name wins; of two the same, the one who may see the ticket
            // (two Anas, one in the team that serves it: the note means her).
            .max_by_key(|(_, sees, key)| (key.len(), *sees));
        if let Some((id, _, _)) = best
            && !found.contains(&id)
        {
            found.push(id);
        }
    }
    found
}

/// Checks a note's text, returning it trimmed.
pub fn validate(text: &str) -> Result<&str> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::invalid("the note is empty"));
    }
    let length = text.chars().count();
    if length > MAX_NOTE {
        return Err(Error::invalid(format!(
            "the note is {length} characters; the most is {MAX_NOTE}"
        )));
    }
    Ok(text)
}

/// Why a note may not mention `names` (in the order the note names them): they
/// cannot see its ticket.
fn cannot_mention(names: &[&str]) -> String {
    let (who, verb) = match names {
        [] => (String::new(), "is"),
        [one] => ((*one).to_owned(), "is"),
        [head @ .., last] => (format!("{} and {last}", head.join(", ")), "are"),
    };
    format!("{who} {verb} not in a team that serves this bot, so this note cannot mention them")
}

/// Adds a note by `author` to the ticket, alerting whoever it mentions (never the
/// author). A note that mentions someone who may not see the ticket is refused.
pub async fn add(services: &Services, ticket: i64, author: &User, text: &str) -> Result<Note> {
    let text = validate(text)?;
    let now = now_ms();
    let mut effects = Effects::new();
    let mut tx = services.store.write().await?;
    let remote_id = tx
        .ticket_remote_id(ticket)
        .await?
        .ok_or(Error::NotFound("ticket"))?;
    let people = tx.note_people(author.id, ticket).await?;
    let mentions = mentioned(text, &people);
    let outsiders: Vec<&str> = mentions
        .iter()
        .filter_map(|id| people.iter().find(|p| p.id == *id && !p.sees))
        .map(|p| p.name.as_str())
        .collect();
    if !outsiders.is_empty() {
        return Err(Error::Invalid(cannot_mention(&outsiders)));
    }
    let note = tx.note_insert(ticket, author.id, text, now).await?;
    for &user in &mentions {
        tx.note_mention_insert(note, user, ticket).await?;
        effects.publish_to(
            user,
            Change::Mentioned {
                ticket: remote_id.clone(),
                note,
            },
        );
    }
    let change = Change::NoteAdded {
        ticket: remote_id,
        note,
    };
    effects.publish_ticket_row(&mut *tx, ticket, change).await?;
    services.commit_session(tx, effects).await?;
    Ok(Note {
        id: note,
        author_id: author.id,
        author_name: author.name.clone(),
        author_public_id: author.public_id.clone(),
        text: text.to_owned(),
        at: now,
        mentions: people
            .into_iter()
            .filter(|p| mentions.contains(&p.id))
            .map(|p| p.name)
            .collect(),
    })
}

/// Whom `author` may mention in a note on the ticket: the other active accounts
/// that may see it, by id.
pub async fn mentionable(store: &dyn Store, author: i64, ticket: i64) -> Result<Vec<Person>> {
    let people = store
        .autocommit()
        .await?
        .note_people(author, ticket)
        .await?;
    Ok(people.into_iter().filter(|p| p.sees).collect())
}

/// The ticket's notes written at or after `since` (ms), oldest first.
pub async fn since(store: &dyn Store, ticket: i64, since: i64) -> Result<Vec<Note>> {
    let notes = store.autocommit().await?.notes_since(ticket, since).await?;
    Ok(notes.into_iter().map(Note::from).collect())
}

/// Whether a note in the ticket mentions `user` and they have not opened it since.
pub async fn unseen_mention(store: &dyn Store, user: i64, ticket: i64) -> Result<bool> {
    Ok(store
        .autocommit()
        .await?
        .note_unseen_mention(user, ticket)
        .await?)
}

/// Every note of the ticket, oldest first.
pub async fn all(store: &dyn Store, ticket: i64) -> Result<Vec<Note>> {
    since(store, ticket, i64::MIN).await
}

/// [`all`], inside a caller's transaction.
pub async fn all_in(tx: &mut dyn store::Tx, ticket: i64) -> Result<Vec<Note>> {
    let notes = tx.notes_since(ticket, i64::MIN).await?;
    Ok(notes.into_iter().map(Note::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people() -> Vec<Person> {
        [
            (1, "Ana", "ana@example.com"),
            (2, "Ana Lopez", "lopez@example.com"),
            (3, "Ben", "ben@example.com"),
        ]
        .into_iter()
        .map(|(id, name, email)| Person {
            id,
            name: name.into(),
            email: email.into(),
            sees: true,
        })
        .collect()
    }

    #[test]
    fn mentions_are_names_or_emails_after_an_at() {
        let p = people();
        assert_eq!(mentioned("@ana can you look?", &p), [1]);
        assert_eq!(mentioned("@Ana Lopez, and @BEN.", &p), [2, 3]);
        assert_eq!(mentioned("cc @ben@example.com", &p), [3]);
        assert_eq!(mentioned("@lopez@example.com @Ana", &p), [2, 1]);
        // A name inside a longer word, an email without the @, or nobody.
        assert_eq!(mentioned("@Anakin @Benjamin", &p), Vec::<i64>::new());
        assert_eq!(mentioned("write to ana@example.com", &p), Vec::<i64>::new());
        assert_eq!(mentioned("@ben @ben", &p), [3]);
    }

    #[test]
    fn of_two_with_one_name_the_one_who_sees_the_ticket_is_meant() {
        let mut p = people();
        p.push(Person {
            id: 4,
            name: "Ana".into(),
            email: "ana@elsewhere.com".into(),
            sees: false,
        });
        assert_eq!(mentioned("@Ana, please", &p), [1], "whichever comes first");
        p.swap(0, 3);
        assert_eq!(mentioned("@Ana, please", &p), [1]);
        // Named by the email only the outsider has, it is the outsider.
        assert_eq!(mentioned("@ana@elsewhere.com", &p), [4]);
    }

    #[test]
    fn a_refused_mention_names_who_and_why() {
        assert_eq!(
            cannot_mention(&["Ana"]),
            "Ana is not in a team that serves this bot, so this note cannot mention them"
        );
        assert!(
            cannot_mention(&["Ana", "Ben", "Cy"]).starts_with("Ana, Ben and Cy are not in a team")
        );
    }

    #[test]
    fn notes_have_limits() {
        assert_eq!(validate("  hi  ").unwrap(), "hi");
        assert!(validate(" \n ").is_err());
        assert!(validate(&"x".repeat(MAX_NOTE)).is_ok());
        assert!(validate(&"x".repeat(MAX_NOTE + 1)).is_err());
    }
}
