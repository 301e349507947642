-- What reports read. Each ticket keeps the moments and the count a report needs,
-- written by the change itself (no extra statement on the Botpress path), so a
-- report over a year reads tickets, not every message.
--
-- `taken_at`: the first time someone held it (taken, transferred from the queue, or
-- assigned automatically). `first_response_at`: the first agent message.
-- `message_count`: customer and agent messages (not bot notices or the transcript).
alter table tickets add column taken_at integer;
alter table tickets add column first_response_at integer;
alter table tickets add column message_count integer not null default 0;

update tickets set
    taken_at = (select min(a.at) from ticket_activity a
                where a.ticket_id = tickets.id
                  and a.action in ('took', 'took_over', 'transferred', 'routed')),
    first_response_at = (select min(m.created_at) from messages m
                         where m.ticket_id = tickets.id and m.origin = 'agent'),
    message_count = (select count(*) from messages m
                     where m.ticket_id = tickets.id and m.origin in ('customer', 'agent'));

-- Reports select tickets by when they arrived.
create index tickets_created on tickets (created_at);

-- When each agent was available: a tab open and *Available* chosen. One open row
-- (`ended_at` null) per agent at most.
create table availability_log (
    id          integer primary key,
    user_id     integer not null references users (id),
    started_at  integer not null,
    ended_at    integer
) strict;
create index availability_log_user on availability_log (user_id, started_at);
create unique index availability_log_open on availability_log (user_id) where ended_at is null;
