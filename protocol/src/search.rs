//! Search results as both sides see them: what kind of thing matched, and the
//! snippet around the match, in parts so that no side builds HTML from it.

use serde::{Deserialize, Serialize};

use crate::named_enum;

/// The longest query, in characters. Longer ones are refused, not cut: a cut query
/// would quietly search for something else.
pub const MAX_QUERY_CHARS: usize = 200;

named_enum! {
    /// What a search hit is.
    pub enum HitKind as "search hit kind" {
        /// A customer's name or email.
        Customer = "customer",
        /// A ticket's title or description.
        Ticket = "ticket",
        /// Something said in a ticket.
        Message = "message",
        /// A private note.
        Note = "note",
    }
}

/// A piece of a snippet; `hit` pieces are the words that matched (shown marked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct SnippetPart {
    pub text: String,
    pub hit: bool,
}

/// Splits a snippet whose matches are enclosed in `start` and `end` markers.
pub fn snippet_parts(marked: &str, start: char, end: char) -> Vec<SnippetPart> {
    let mut parts: Vec<SnippetPart> = Vec::new();
    let mut push = |text: &str, hit: bool| {
        if text.is_empty() {
            return;
        }
        match parts.last_mut() {
            Some(last) if last.hit == hit => last.text.push_str(text),
            _ => parts.push(SnippetPart {
                text: text.to_owned(),
                hit,
            }),
        }
    };
    let mut rest = marked;
    while let Some(open) = rest.find(start) {
        push(&rest[..open], false);
        let after = &rest[open + start.len_utf8()..];
        match after.find(end) {
            Some(close) => {
                push(&after[..close], true);
                rest = &after[close + end.len_utf8()..];
            }
            None => {
                push(after, true);
                rest = "";
            }
        }
    }
    push(rest, false);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(text: &str, hit: bool) -> SnippetPart {
        SnippetPart {
            text: text.into(),
            hit,
        }
    }

    #[test]
    fn snippets_split_at_their_markers() {
        assert_eq!(
            snippet_parts("I want a [refund] for [order] 5", '[', ']'),
            [
                part("I want a ", false),
                part("refund", true),
                part(" for ", false),
                part("order", true),
                part(" 5", false)
            ]
        );
        assert_eq!(
            snippet_parts("[Zoë][Dana]", '[', ']'),
            [part("ZoëDana", true)]
        );
        assert_eq!(
            snippet_parts("no match", '[', ']'),
            [part("no match", false)]
        );
        assert_eq!(snippet_parts("[open", '[', ']'), [part("open", true)]);
        assert!(snippet_parts("", '[', ']').is_empty());
    }
}
