use protocol::ticket::Status;
use store::search::{Among, Filters, HitRow, MARK_END, MARK_START, SNIPPET_WORDS, Search};

use crate::PgTx;

/// Runs one search query; each repeats the same ticket filters (`t`), as sqlx
/// checks whole statements. `baton_search_query` (the search migration) turns the
/// words into a query, as `baton_search_words` splits and folds text.
///
/// Each kind of hit has two queries, because no one plan is fast for every word
/// (see [`few`]): words with few matches are looked up in the GIN index first
/// (`found`, materialised so the planner cannot walk the table instead), then the
/// matches are filtered and sorted; words with many are found by walking the table
/// newest first, which stops at the first page of hits.
macro_rules! hits {
    ($tx:expr, $sql:tt, $typed:expr, $f:expr, $most:expr, $viewer:expr) => {{
        let status = $f.status.map(Status::as_str);
        sqlx::query_as!(
            HitRow,
            $sql,
            $typed,
            status,
            $f.label,
            $f.agent,
            $f.connection,
            $f.from,
            $f.until,
            $most,
            $viewer
        )
        .fetch_all(&mut *$tx)
        .await
    }};
}

/// Words around the first match, the matches marked, as SQLite's FTS5 `snippet`
/// makes them: PostgreSQL's `ts_headline` keeps an email address whole, so it could
/// not mark "example" in one. A text of several columns (separated by U+001F) shows
/// the column with the most matches, as FTS5 does. Words split and fold as the index
/// splits and folds them (`baton_search_words`).
fn snippet(text: &str, words: &[String]) -> String {
    let wanted: Vec<String> = words.iter().map(|w| fold(w)).collect();
    let hits = |column: &str| {
        spans(column)
            .filter(|&(a, b)| matches(&column[a..b], &wanted))
            .count()
    };
    let mut best = text.split('\u{1F}').next().unwrap_or_default();
    for column in text.split('\u{1F}') {
        if hits(column) > hits(best) {
            best = column;
        }
    }
    let tokens: Vec<(usize, usize)> = spans(best).collect();
    let Some(first) = tokens
        .iter()
        .position(|&(a, b)| matches(&best[a..b], &wanted))
    else {
        return best.to_owned();
    };
    let size = usize::try_from(SNIPPET_WORDS).unwrap_or(16);
    // The first match a few words in, so that it is read in context.
    let start = first
        .saturating_sub(size / 4)
        .min(tokens.len().saturating_sub(size));
    let end = (start + size).min(tokens.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut at = if start > 0 { tokens[start].0 } else { 0 };
    for &(a, b) in &tokens[start..end] {
        out.push_str(&best[at..a]);
        if matches(&best[a..b], &wanted) {
            out.push(MARK_START);
            out.push_str(&best[a..b]);
            out.push(MARK_END);
        } else {
            out.push_str(&best[a..b]);
        }
        at = b;
    }
    if end < tokens.len() {
        out.push('…');
    } else {
        out.push_str(&best[at..]);
    }
    out
}

/// The byte ranges of a text's words: runs of letters and digits.
fn spans(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let (a, _) = chars.find(|(_, c)| c.is_alphanumeric())?;
        let mut b = text.len();
        while let Some(&(i, c)) = chars.peek() {
            if !c.is_alphanumeric() {
                b = i;
                break;
            }
            chars.next();
        }
        Some((a, b))
    })
}

/// Lower case without accents: "Zoë" is "zoe".
fn fold(word: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    word.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

fn matches(word: &str, wanted: &[String]) -> bool {
    let word = fold(word);
    wanted.iter().any(|w| word.starts_with(w.as_str()))
}

/// A word with fewer matches than this is looked up in the index.
const FEW: i64 = 10_000;

/// Whether `typed` matches fewer than [`FEW`] rows of `among`, as the GIN index
/// counts them.
///
/// Hits come newest first, and the index cannot give them in that order: it finds
/// every match, in no order. For a rare word that is milliseconds, while walking a
/// million messages newest first evaluates the words of each (12 s, measured). For
/// a word in every message it is the other way round: the walk stops after one page,
/// while the index would hand over every row to be sorted. The planner cannot tell
/// the two apart (prefix queries, and a prepared statement's plan, get a fixed
/// estimate), so this asks the index; it stops counting at [`FEW`].
async fn few(tx: &mut sqlx::PgConnection, among: Among, typed: &str) -> store::Result<bool> {
    let count = match among {
        Among::Customers => {
            sqlx::query_scalar!(
                r#"select count(*) as "n!" from (
                       select 1 from customers c
                       where baton_search_words(coalesce(c.name, '') || ' ' || coalesce(c.email, ''))
                             @@ baton_search_query($1)
                       limit $2) matched"#,
                typed,
                FEW
            )
            .fetch_one(tx)
            .await?
        }
        Among::Tickets => {
            sqlx::query_scalar!(
                r#"select count(*) as "n!" from (
                       select 1 from tickets t
                       where baton_search_words(t.title || ' ' || t.description)
                             @@ baton_search_query($1)
                       limit $2) matched"#,
                typed,
                FEW
            )
            .fetch_one(tx)
            .await?
        }
        Among::Messages => {
            sqlx::query_scalar!(
                r#"select count(*) as "n!" from (
                       select 1 from messages m
                       where baton_search_words(baton_message_text(m.payload))
                             @@ baton_search_query($1)
                       limit $2) matched"#,
                typed,
                FEW
            )
            .fetch_one(tx)
            .await?
        }
        Among::Notes => {
            sqlx::query_scalar!(
                r#"select count(*) as "n!" from (
                       select 1 from notes n
                       where baton_search_words(n.text) @@ baton_search_query($1)
                       limit $2) matched"#,
                typed,
                FEW
            )
            .fetch_one(tx)
            .await?
        }
    };
    Ok(count < FEW)
}

#[async_trait::async_trait]
impl<C: crate::Conn> Search for PgTx<C> {
    async fn search_backlog(&mut self) -> store::Result<bool> {
        // The GIN indexes follow every write.
        Ok(false)
    }

    async fn search_index(&mut self, _most: i64) -> store::Result<i64> {
        Ok(0)
    }

    async fn search(
        &mut self,
        among: Among,
        words: &[String],
        f: &Filters,
        viewer: i64,
        most: i64,
    ) -> store::Result<Vec<HitRow>> {
        let typed = words.join(" ");
        let few = few(&mut self.tx, among, &typed).await?;
        let tx = &mut *self.tx;
        let mut rows = match (among, few) {
            (Among::Customers, false) => hits!(
                tx,
                r#"select c.id, t.remote_id as ticket, t.title as ticket_title,
                          t.status as "status: Status", c.public_id as "customer?",
                          c.name as "customer_name?", null::text as "author?",
                          c.created_at as at,
                          coalesce(c.name, '') || chr(31) || coalesce(c.email, '') as "snippet!"
                   from customers c
                   join tickets t on t.id = (
                       select t.id from tickets t
                       where t.customer_id = c.id
                         and ($2::text is null or t.status = $2)
                         and ($3::bigint is null or exists (select 1 from ticket_labels l
                                                            where l.ticket_id = t.id and l.label_id = $3))
                         and ($4::bigint is null or t.assignee_id = $4)
                         and ($5::bigint is null or t.connection_id = $5)
                         and ($6::bigint is null or t.created_at >= $6)
                         and ($7::bigint is null or t.created_at < $7)
                         and t.connection_id in (select connection_id from visible_connections
                                                 where user_id = $9)
                       order by t.created_at desc, t.id desc limit 1)
                   where baton_search_words(coalesce(c.name, '') || ' ' || coalesce(c.email, ''))
                         @@ baton_search_query($1)
                   order by c.id desc limit $8"#,
                typed,
                f,
                most,
                viewer
            ),
            (Among::Customers, true) => hits!(
                tx,
                r#"with found as materialized (
                       select c.id from customers c
                       where baton_search_words(coalesce(c.name, '') || ' ' || coalesce(c.email, ''))
                             @@ baton_search_query($1))
                   select c.id, t.remote_id as ticket, t.title as ticket_title,
                          t.status as "status: Status", c.public_id as "customer?",
                          c.name as "customer_name?", null::text as "author?",
                          c.created_at as at,
                          coalesce(c.name, '') || chr(31) || coalesce(c.email, '') as "snippet!"
                   from found f
                   join customers c on c.id = f.id
                   join tickets t on t.id = (
                       select t.id from tickets t
                       where t.customer_id = c.id
                         and ($2::text is null or t.status = $2)
                         and ($3::bigint is null or exists (select 1 from ticket_labels l
                                                            where l.ticket_id = t.id and l.label_id = $3))
                         and ($4::bigint is null or t.assignee_id = $4)
                         and ($5::bigint is null or t.connection_id = $5)
                         and ($6::bigint is null or t.created_at >= $6)
                         and ($7::bigint is null or t.created_at < $7)
                         and t.connection_id in (select connection_id from visible_connections
                                                 where user_id = $9)
                       order by t.created_at desc, t.id desc limit 1)
                   order by c.id desc limit $8"#,
                typed,
                f,
                most,
                viewer
            ),
            (Among::Tickets, false) => hits!(
                tx,
                r#"select t.id, t.remote_id as ticket, t.title as ticket_title,
                          t.status as "status: Status", c.public_id as "customer?",
                          c.name as "customer_name?", null::text as "author?",
                          t.created_at as at,
                          t.title || chr(31) || t.description as "snippet!"
                   from tickets t
                   left join customers c on c.id = t.customer_id
                   where baton_search_words(t.title || ' ' || t.description) @@ baton_search_query($1)
                     and ($2::text is null or t.status = $2)
                     and ($3::bigint is null or exists (select 1 from ticket_labels l
                                                        where l.ticket_id = t.id and l.label_id = $3))
                     and ($4::bigint is null or t.assignee_id = $4)
                     and ($5::bigint is null or t.connection_id = $5)
                     and ($6::bigint is null or t.created_at >= $6)
                     and ($7::bigint is null or t.created_at < $7)
                     and t.connection_id in (select connection_id from visible_connections
                                             where user_id = $9)
                   order by t.id desc limit $8"#,
                typed,
                f,
                most,
                viewer
            ),
            (Among::Tickets, true) => hits!(
                tx,
                r#"with found as materialized (
                       select t.id from tickets t
                       where baton_search_words(t.title || ' ' || t.description) @@ baton_search_query($1))
                   select t.id, t.remote_id as ticket, t.title as ticket_title,
                          t.status as "status: Status", c.public_id as "customer?",
                          c.name as "customer_name?", null::text as "author?",
                          t.created_at as at,
                          t.title || chr(31) || t.description as "snippet!"
                   from found f
                   join tickets t on t.id = f.id
                   left join customers c on c.id = t.customer_id
                   where ($2::text is null or t.status = $2)
                     and ($3::bigint is null or exists (select 1 from ticket_labels l
                                                        where l.ticket_id = t.id and l.label_id = $3))
                     and ($4::bigint is null or t.assignee_id = $4)
                     and ($5::bigint is null or t.connection_id = $5)
                     and ($6::bigint is null or t.created_at >= $6)
                     and ($7::bigint is null or t.created_at < $7)
                     and t.connection_id in (select connection_id from visible_connections
                                             where user_id = $9)
                   order by t.id desc limit $8"#,
                typed,
                f,
                most,
                viewer
            ),
            (Among::Messages, false) => hits!(
                tx,
                r#"select m.id, t.remote_id as ticket, t.title as ticket_title,
                          t.status as "status: Status", c.public_id as "customer?",
                          c.name as "customer_name?", u.name as "author?",
                          coalesce(m.sent_at, m.created_at) as "at!",
                          baton_message_text(m.payload) as "snippet!"
                   from messages m
                   join tickets t on t.id = m.ticket_id
                   left join customers c on c.id = t.customer_id
                   left join users u on u.id = m.author_id
                   where baton_search_words(baton_message_text(m.payload)) @@ baton_search_query($1)
                     and ($2::text is null or t.status = $2)
                     and ($3::bigint is null or exists (select 1 from ticket_labels l
                                                        where l.ticket_id = t.id and l.label_id = $3))
                     and ($4::bigint is null or t.assignee_id = $4)
                     and ($5::bigint is null or t.connection_id = $5)
                     and ($6::bigint is null or t.created_at >= $6)
                     and ($7::bigint is null or t.created_at < $7)
                     and t.connection_id in (select connection_id from visible_connections
                                             where user_id = $9)
                   order by m.id desc limit $8"#,
                typed,
                f,
                most,
                viewer
            ),
            (Among::Messages, true) => hits!(
                tx,
                r#"with found as materialized (
                       select m.id from messages m
                       where baton_search_words(baton_message_text(m.payload)) @@ baton_search_query($1))
                   select m.id, t.remote_id as ticket, t.title as ticket_title,
                          t.status as "status: Status", c.public_id as "customer?",
                          c.name as "customer_name?", u.name as "author?",
                          coalesce(m.sent_at, m.created_at) as "at!",
                          baton_message_text(m.payload) as "snippet!"
                   from found f
                   join messages m on m.id = f.id
                   join tickets t on t.id = m.ticket_id
                   left join customers c on c.id = t.customer_id
                   left join users u on u.id = m.author_id
                   where ($2::text is null or t.status = $2)
                     and ($3::bigint is null or exists (select 1 from ticket_labels l
                                                        where l.ticket_id = t.id and l.label_id = $3))
                     and ($4::bigint is null or t.assignee_id = $4)
                     and ($5::bigint is null or t.connection_id = $5)
                     and ($6::bigint is null or t.created_at >= $6)
                     and ($7::bigint is null or t.created_at < $7)
                     and t.connection_id in (select connection_id from visible_connections
                                             where user_id = $9)
                   order by m.id desc limit $8"#,
                typed,
                f,
                most,
                viewer
            ),
            (Among::Notes, false) => hits!(
                tx,
                r#"select n.id, t.remote_id as ticket, t.title as ticket_title,
                          t.status as "status: Status", c.public_id as "customer?",
                          c.name as "customer_name?", u.name as "author?",
                          n.created_at as at,
                          n.text as "snippet!"
                   from notes n
                   join tickets t on t.id = n.ticket_id
                   left join customers c on c.id = t.customer_id
                   left join users u on u.id = n.author_id
                   where baton_search_words(n.text) @@ baton_search_query($1)
                     and ($2::text is null or t.status = $2)
                     and ($3::bigint is null or exists (select 1 from ticket_labels l
                                                        where l.ticket_id = t.id and l.label_id = $3))
                     and ($4::bigint is null or t.assignee_id = $4)
                     and ($5::bigint is null or t.connection_id = $5)
                     and ($6::bigint is null or t.created_at >= $6)
                     and ($7::bigint is null or t.created_at < $7)
                     and t.connection_id in (select connection_id from visible_connections
                                             where user_id = $9)
                   order by n.id desc limit $8"#,
                typed,
                f,
                most,
                viewer
            ),
            (Among::Notes, true) => hits!(
                tx,
                r#"with found as materialized (
                       select n.id from notes n
                       where baton_search_words(n.text) @@ baton_search_query($1))
                   select n.id, t.remote_id as ticket, t.title as ticket_title,
                          t.status as "status: Status", c.public_id as "customer?",
                          c.name as "customer_name?", u.name as "author?",
                          n.created_at as at,
                          n.text as "snippet!"
                   from found f
                   join notes n on n.id = f.id
                   join tickets t on t.id = n.ticket_id
                   left join customers c on c.id = t.customer_id
                   left join users u on u.id = n.author_id
                   where ($2::text is null or t.status = $2)
                     and ($3::bigint is null or exists (select 1 from ticket_labels l
                                                        where l.ticket_id = t.id and l.label_id = $3))
                     and ($4::bigint is null or t.assignee_id = $4)
                     and ($5::bigint is null or t.connection_id = $5)
                     and ($6::bigint is null or t.created_at >= $6)
                     and ($7::bigint is null or t.created_at < $7)
                     and t.connection_id in (select connection_id from visible_connections
                                             where user_id = $9)
                   order by n.id desc limit $8"#,
                typed,
                f,
                most,
                viewer
            ),
        }?;
        for row in &mut rows {
            row.snippet = snippet(&row.snippet, words);
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::snippet;

    fn marked(text: &str, words: &[&str]) -> String {
        let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
        snippet(text, &words).replace(['\u{E000}', '\u{E001}'], "|")
    }

    #[test]
    fn snippets_mark_prefixes_in_any_case_and_accent() {
        assert_eq!(
            marked("Zoë Brandt\u{1F}zoe@shop.example", &["zoe"]),
            "|Zoë| Brandt"
        );
        // The column with the most matches.
        assert_eq!(
            marked("Dana\u{1F}dana@example.com", &["example", "com"]),
            "dana@|example|.|com|"
        );
        assert_eq!(
            marked("Où est ma commande ?", &["ou"]),
            "|Où| est ma commande ?"
        );
        let long = (1..=40)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(
            marked(&long, &["w20"]),
            "…w16 w17 w18 w19 |w20| w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 w31…"
        );
    }
}
