-- Search on PostgreSQL: what SQLite's FTS5 tables are (see the SQLite migration
-- `20261129000001_search.sql`), as GIN expression indexes over the rows themselves.
-- Nothing is stored twice, and no trigger or batch keeps an index in step:
-- PostgreSQL updates the indexes with every write, in the writing transaction.
--
-- Words split and fold as FTS5's `unicode61 remove_diacritics 2` does there:
-- punctuation splits ("dana@example.org" is three words), and case and accents fold
-- ("Zoë" finds "zoe"). `unaccent` ships with PostgreSQL's contrib modules, and is
-- trusted since PostgreSQL 13, so the database's owner may create it.
create extension if not exists unaccent;

-- The `simple` configuration (no stemming, no stop words: a name is a name) with
-- accents folded before lower-casing.
create text search configuration baton_search (copy = simple);
alter text search configuration baton_search
    alter mapping for asciiword, word, numword, asciihword, hword, numhword,
                      hword_asciipart, hword_part, hword_numpart
    with unaccent, simple;

-- The words of a text. Punctuation becomes space first: the parser would otherwise
-- keep an email address or a URL as one word.
create function baton_search_words(body text) returns tsvector
    language sql immutable parallel safe
    as $$ select to_tsvector('baton_search'::regconfig,
                             regexp_replace(coalesce(body, ''), '[[:punct:]]+', ' ', 'g')) $$;

-- What a person typed, as a query: every word must match, as a prefix. The words
-- are those `baton_search_words` makes of it, so a query and a text always split
-- and fold alike; each is quoted, so nothing typed is query syntax.
create function baton_search_query(typed text) returns tsquery
    language sql immutable parallel safe
    as $$ select to_tsquery('baton_search'::regconfig,
                            coalesce(string_agg(quote_literal(w) || ':*', ' & '), ''))
          from unnest(tsvector_to_array(baton_search_words(typed))) w $$;

-- What a message says, as one text: the expression of `message_search_text`, now
-- in one function that the view and the index share.
create function baton_message_text(payload jsonb) returns text
    language sql immutable parallel safe
    as $$ select trim(coalesce(payload ->> 'text', '') || ' ' ||
                      coalesce(payload ->> 'markdown', '') || ' ' ||
                      coalesce(payload ->> 'title', '') || ' ' ||
                      coalesce(payload ->> 'address', '') || ' ' ||
                      -- Only object options have a label; plain strings are skipped.
                      coalesce((select string_agg(o ->> 'label', ' ')
                                from jsonb_array_elements(
                                         case when jsonb_typeof(payload -> 'options') = 'array'
                                              then payload -> 'options' else '[]' end) o
                                where jsonb_typeof(o) = 'object'), '')) $$;

create or replace view message_search_text (id, body) as
    select id, baton_message_text(payload) from messages;

create index messages_search on messages
    using gin (baton_search_words(baton_message_text(payload)));
create index notes_search on notes using gin (baton_search_words(text));
create index tickets_search on tickets
    using gin (baton_search_words(title || ' ' || description));
create index customers_search on customers
    using gin (baton_search_words(coalesce(name, '') || ' ' || coalesce(email, '')));
