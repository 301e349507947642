//! Typing `@` in a note: which colleague the agent is naming so far, who is offered,
//! and the text once they pick one.
//!
//! The browser uses this for the picker; the server decides who a saved note mentions
//! (`tickets::notes::mentioned` in the domain layer), by the same rule a picked name
//! satisfies: `@` followed by the whole name, ending where a word ends.
//!
//! Offsets are byte offsets into the Rust string. A textarea counts its caret in
//! UTF-16 units, so `from_utf16` and `to_utf16` convert at the boundary.

/// The longest query the picker follows after an `@`, in characters: beyond it the
/// agent is writing, not naming.
pub const MAX_QUERY: usize = 40;

/// A mention being typed: the `@` at byte `start`, and what follows it up to the caret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typed<'a> {
    pub start: usize,
    pub query: &'a str,
}

/// The mention being typed just before `caret`: the last `@` before it that starts a
/// word (at the start, or after a space or punctuation, so an email's `@` does not
/// count), followed by at most `MAX_QUERY` characters with no line break and no
/// other `@`.
pub fn typed(text: &str, caret: usize) -> Option<Typed<'_>> {
    let before = text.get(..caret)?;
    let start = before.rfind('@')?;
    let query = &before[start + 1..];
    if query.contains('\n') || query.chars().count() > MAX_QUERY {
        return None;
    }
    let starts_word = before[..start]
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_alphanumeric());
    starts_word.then_some(Typed { start, query })
}

/// Whether `name` is offered for `query`: the name, or one of its words, starts with
/// the query, in any case. An empty query offers everyone.
pub fn offers(name: &str, query: &str) -> bool {
    let name = name.to_lowercase();
    let query = query.to_lowercase();
    name.starts_with(&query)
        || name
            .match_indices(' ')
            .any(|(i, _)| name[i + 1..].starts_with(&query))
}

/// `text` with the mention typed at `start..caret` replaced by `@name` and a space,
/// and the caret's new place (after the space).
pub fn insert(text: &str, start: usize, caret: usize, name: &str) -> (String, usize) {
    let (head, tail) = (&text[..start], &text[caret.min(text.len())..]);
    // A space is already there: do not add a second one.
    let tail = tail.strip_prefix(' ').unwrap_or(tail);
    let mention = format!("@{name} ");
    let caret = head.len() + mention.len();
    (format!("{head}{mention}{tail}"), caret)
}

/// The byte offset of a caret a textarea reports in UTF-16 units (clamped to the
/// text, and to a character boundary).
pub fn from_utf16(text: &str, units: usize) -> usize {
    let mut counted = 0;
    for (i, c) in text.char_indices() {
        if counted >= units {
            return i;
        }
        counted += c.len_utf16();
    }
    text.len()
}

/// A byte offset as the UTF-16 units a textarea counts.
pub fn to_utf16(text: &str, byte: usize) -> usize {
    text.get(..byte).map_or(0, |s| s.encode_utf16().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mention_is_typed_after_an_at_that_starts_a_word() {
        let text = "ask @be";
        assert_eq!(
            typed(text, text.len()),
            Some(Typed {
                start: 4,
                query: "be"
            })
        );
        assert_eq!(
            typed("@", 1),
            Some(Typed {
                start: 0,
                query: ""
            })
        );
        // A name with a space is still being typed.
        assert_eq!(typed("@Ben R", 6).map(|t| t.query), Some("Ben R"));
        // An email's @ is not a mention; neither is a new line after one.
        assert_eq!(typed("mail dana@example", 17), None);
        assert_eq!(typed("@ben\nthanks", 11), None);
        // The caret decides: before the @, nothing is typed.
        assert_eq!(typed("hi @ben", 2), None);
        // Past the longest query, the agent is writing, not naming.
        let long = format!("@{}", "a".repeat(MAX_QUERY + 1));
        assert_eq!(typed(&long, long.len()), None);
        // A caret inside a character is no caret.
        assert_eq!(typed("@é", 2), None);
    }

    #[test]
    fn names_are_offered_by_any_word_in_any_case() {
        assert!(offers("Ben Ross", ""));
        assert!(offers("Ben Ross", "be"));
        assert!(offers("Ben Ross", "ROSS"));
        assert!(offers("Ben Ross", "ben r"));
        assert!(!offers("Ben Ross", "oss"));
        assert!(offers("Zoë Kim", "zoë"));
    }

    #[test]
    fn picking_replaces_the_query_and_leaves_the_caret_after_a_space() {
        let (text, caret) = insert("ask @be please", 4, 7, "Ben Ross");
        assert_eq!(text, "ask @Ben Ross please");
        assert_eq!(&text[..caret], "ask @Ben Ross ");
        let (text, caret) = insert("@z", 0, 2, "Zoë Kim");
        assert_eq!(text, "@Zoë Kim ");
        assert_eq!(caret, text.len());
    }

    #[test]
    fn carets_convert_between_utf16_and_bytes() {
        let text = "é😀a";
        assert_eq!(from_utf16(text, 0), 0);
        assert_eq!(from_utf16(text, 1), 2);
        assert_eq!(from_utf16(text, 3), 6);
        assert_eq!(from_utf16(text, 4), 7);
        assert_eq!(from_utf16(text, 99), text.len());
        assert_eq!(to_utf16(text, 6), 3);
        assert_eq!(to_utf16(text, text.len()), 4);
    }
}
