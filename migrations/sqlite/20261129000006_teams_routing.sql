-- Teams, and routing tickets to the people who serve a bot.
--
-- A team is a set of agents; each connection (bot) is served by zero or more teams.
-- A connection without a team is served by everyone (how Baton worked before teams).
create table teams (
    id          integer primary key,
    name        text not null unique collate nocase,
    created_at  integer not null
) strict;

create table team_members (
    team_id  integer not null references teams (id) on delete cascade,
    user_id  integer not null references users (id),
    primary key (team_id, user_id)
) strict, without rowid;
create index team_members_user on team_members (user_id);

create table team_connections (
    team_id        integer not null references teams (id) on delete cascade,
    connection_id  integer not null references connections (id) on delete cascade,
    primary key (team_id, connection_id)
) strict, without rowid;
create index team_connections_connection on team_connections (connection_id);

-- Who serves each connection: the members of its teams, or everyone when it has none.
-- Automatic assignment picks from these.
create view connection_agents (connection_id, user_id) as
select c.id, u.id
from connections c, users u
where not exists (select 1 from team_connections tc where tc.connection_id = c.id)
   or exists (select 1 from team_connections tc
              join team_members tm on tm.team_id = tc.team_id
              where tc.connection_id = c.id and tm.user_id = u.id);

-- Whose inbox shows a connection's tickets: those who serve it, and every admin.
-- `union all` (an admin who serves a connection is listed twice, which `in` does
-- not mind) lets SQLite push `where user_id = ?` into both halves, so a query reads
-- one account's rows, not every account's.
create view visible_connections (connection_id, user_id) as
select connection_id, user_id from connection_agents
union all
select c.id, u.id from connections c, users u where u.role = 'admin';

-- The inbox counts tickets per status among the connections the viewer sees: with
-- the connection in the index, a count reads the index alone.
create index tickets_status_connection on tickets (status, connection_id);

-- Per connection: whether new tickets wait for someone to take them (manual) or are
-- given to an available agent with room (automatic), and how many open tickets an
-- agent holds at most unless their own limit says otherwise.
alter table connections add column assignment text not null default 'manual'
    check (assignment in ('manual', 'automatic'));
alter table connections add column default_capacity integer not null default 3
    check (default_capacity between 1 and 100);

-- An agent's own limit of open tickets (null: each connection's default), and when
-- they were last given one automatically (the tie-break that takes turns).
alter table users add column capacity integer check (capacity between 1 and 100);
alter table users add column last_routed_at integer;

-- "Assigned automatically to Ana" is an activity line: the actions are a check
-- constraint, so the table is rebuilt with the new one (as in the label migration).
create table ticket_activity_new (
    id          integer primary key,
    ticket_id   integer not null references tickets (id),
    -- The person who acted; null when the customer (through Botpress) or Baton did.
    actor_id    integer references users (id),
    action      text not null check (action in
                ('took', 'took_over', 'transferred', 'handed_back', 'reopened', 'resent',
                 'labelled', 'unlabelled', 'routed')),
    -- The other person: the former holder (took_over) or the new one (transferred,
    -- routed).
    other_id    integer references users (id),
    -- What the action was about, in words: the label's name (labelled, unlabelled).
    detail      text,
    at          integer not null
) strict;
insert into ticket_activity_new (id, ticket_id, actor_id, action, other_id, detail, at)
    select id, ticket_id, actor_id, action, other_id, detail, at from ticket_activity;
drop table ticket_activity;
alter table ticket_activity_new rename to ticket_activity;
create index ticket_activity_ticket on ticket_activity (ticket_id, at);
