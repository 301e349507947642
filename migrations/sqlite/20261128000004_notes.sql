-- Private notes: what colleagues write on a ticket for each other. Never sent to
-- Botpress, so they live apart from `messages` (which the outbox and the customer's
-- transcript read).
create table notes (
    id          integer primary key,
    ticket_id   integer not null references tickets (id),
    author_id   integer not null references users (id),
    text        text not null,
    created_at  integer not null
) strict;
create index notes_ticket on notes (ticket_id, id);

-- Who a note @mentions, and when they saw it (opened the ticket after it).
create table note_mentions (
    note_id     integer not null references notes (id),
    user_id     integer not null references users (id),
    ticket_id   integer not null references tickets (id),
    seen_at     integer,
    primary key (note_id, user_id)
) strict;
-- The Mentions view (newest first) and its unseen count.
create index note_mentions_user on note_mentions (user_id, note_id);
create index note_mentions_unseen on note_mentions (user_id, ticket_id) where seen_at is null;
