-- Putting a label on a ticket and taking it off are activity lines too ("Ana added
-- the label Refund"). The actions are a check constraint, so the table is rebuilt
-- with the two new ones, and with `detail`: the label's name as it was then, so a
-- later rename or delete does not rewrite what happened.
create table ticket_activity_new (
    id          integer primary key,
    ticket_id   integer not null references tickets (id),
    -- The person who acted; null when the customer did (through Botpress).
    actor_id    integer references users (id),
    action      text not null check (action in
                ('took', 'took_over', 'transferred', 'handed_back', 'reopened', 'resent',
                 'labelled', 'unlabelled')),
    -- The other person: the former holder (took_over) or the new one (transferred).
    other_id    integer references users (id),
    -- What the action was about, in words: the label's name (labelled, unlabelled).
    detail      text,
    at          integer not null
) strict;
insert into ticket_activity_new (id, ticket_id, actor_id, action, other_id, at)
    select id, ticket_id, actor_id, action, other_id, at from ticket_activity;
drop table ticket_activity;
alter table ticket_activity_new rename to ticket_activity;
create index ticket_activity_ticket on ticket_activity (ticket_id, at);
