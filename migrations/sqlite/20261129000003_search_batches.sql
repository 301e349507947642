-- Messages are indexed for search in batches, off the path that answers Botpress.
-- Indexing each one inside the transaction that wrote it cost a fifth of the
-- ingest throughput: FTS5 writes a new index segment at every commit, and the
-- Botpress endpoints commit often. `search_progress` is how far the indexer got;
-- a search first indexes what is left, so its answer is never behind.
drop trigger search_messages_insert;

create table search_progress (
    id               integer primary key check (id = 1),
    last_message_id  integer not null
) strict;
-- Everything up to here was indexed by the trigger.
insert into search_progress (id, last_message_id)
    select 1, coalesce(max(id), 0) from messages;
