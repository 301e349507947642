-- Who did what to a ticket: the activity lines of the conversation ("Ana took this
-- conversation", "Ana transferred it to Bo"). The audit log has the same actions
-- with the address they came from; this table is what agents read.
create table ticket_activity (
    id          integer primary key,
    ticket_id   integer not null references tickets (id),
    -- The person who acted; null when the customer did (through Botpress).
    actor_id    integer references users (id),
    action      text not null check (action in
                ('took', 'took_over', 'transferred', 'handed_back', 'reopened', 'resent')),
    -- The other person: the former holder (took_over) or the new one (transferred).
    other_id    integer references users (id),
    at          integer not null
) strict;
create index ticket_activity_ticket on ticket_activity (ticket_id, at);
