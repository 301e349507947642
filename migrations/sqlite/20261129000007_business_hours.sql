-- Business hours, and what happens to a conversation nobody can take.
--
-- `hours`: JSON (`protocol::routing::Hours`: time zone, weekly spans, holidays), or
-- null for always open. `when_unavailable`: keep it queued, or send the customer
-- `unavailable_message` and hand the conversation back to the bot; it applies to a
-- ticket that arrives outside hours or while nobody who serves the connection is
-- available, and to one queued longer than `wait_limit_minutes`.
-- `queue_position_text`: told to customers while they wait (`{position}`), or null.
alter table connections add column hours text check (hours is null or json_valid(hours));
alter table connections add column when_unavailable text not null default 'queue'
    check (when_unavailable in ('queue', 'hand_back'));
alter table connections add column unavailable_message text not null default '';
alter table connections add column wait_limit_minutes integer
    check (wait_limit_minutes between 1 and 1440);
alter table connections add column queue_position_text text;

-- Whether the router has looked at a new ticket (hours, availability) yet: it does
-- once, when the ticket arrives. Tickets from before this migration count as seen.
alter table tickets add column screened integer not null default 0
    check (screened in (0, 1));
update tickets set screened = 1;
create index tickets_unscreened on tickets (id) where screened = 0;
-- The place in the queue the customer was last told (queue_position_text).
alter table tickets add column told_position integer;
-- When a ticket went back to the queue (reopened, or its holder deactivated); null
-- while it has waited since it was created. Waits are counted from here.
alter table tickets add column queued_at integer;

-- "Handed back to the bot: outside business hours" is an activity line.
create table ticket_activity_new (
    id          integer primary key,
    ticket_id   integer not null references tickets (id),
    -- The person who acted; null when the customer (through Botpress) or Baton did.
    actor_id    integer references users (id),
    action      text not null check (action in
                ('took', 'took_over', 'transferred', 'handed_back', 'reopened', 'resent',
                 'labelled', 'unlabelled', 'routed', 'returned')),
    -- The other person: the former holder (took_over) or the new one (transferred,
    -- routed).
    other_id    integer references users (id),
    -- What the action was about, in words: the label's name (labelled, unlabelled),
    -- why Baton handed it back (returned).
    detail      text,
    at          integer not null
) strict;
insert into ticket_activity_new (id, ticket_id, actor_id, action, other_id, detail, at)
    select id, ticket_id, actor_id, action, other_id, detail, at from ticket_activity;
drop table ticket_activity;
alter table ticket_activity_new rename to ticket_activity;
create index ticket_activity_ticket on ticket_activity (ticket_id, at);
