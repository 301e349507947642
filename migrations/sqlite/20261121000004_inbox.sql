-- The agent inbox: the indexes its views page through, and per-agent read state.

-- "Mine": an agent's assigned tickets, oldest first.
create index tickets_assignee on tickets (assignee_id, status, created_at)
    where assignee_id is not null;
-- "All open": queued and assigned together, oldest first, without a sort.
create index tickets_open_created on tickets (created_at) where status != 'closed';
-- "Closed": most recently closed first.
create index tickets_closed on tickets (status, closed_at);

-- How far each agent has read each ticket, so unread state follows them across
-- devices. Messages after `last_read_message_id` from the customer are unread.
create table ticket_reads (
    user_id               integer not null references users (id),
    ticket_id             integer not null references tickets (id),
    last_read_message_id  integer not null,
    primary key (user_id, ticket_id)
) strict, without rowid;
