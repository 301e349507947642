-- "Ended from the bot's side: the customer left" is an activity line when Baton's
-- integration stops a handoff (stopHitl says why). The actions are a check
-- constraint, so the table is rebuilt with the new one (as in the label migration).
create table ticket_activity_new (
    id          integer primary key,
    ticket_id   integer not null references tickets (id),
    -- The person who acted; null when the customer (through Botpress) or Baton did.
    actor_id    integer references users (id),
    action      text not null check (action in
                ('took', 'took_over', 'transferred', 'handed_back', 'reopened', 'resent',
                 'labelled', 'unlabelled', 'routed', 'returned', 'bot_ended')),
    -- The other person: the former holder (took_over) or the new one (transferred,
    -- routed).
    other_id    integer references users (id),
    -- What the action was about, in words: the label's name (labelled, unlabelled),
    -- why it ended or was returned (bot_ended, returned).
    detail      text,
    at          integer not null
) strict;
insert into ticket_activity_new (id, ticket_id, actor_id, action, other_id, detail, at)
    select id, ticket_id, actor_id, action, other_id, detail, at from ticket_activity;
drop table ticket_activity;
alter table ticket_activity_new rename to ticket_activity;
create index ticket_activity_ticket on ticket_activity (ticket_id, at);
