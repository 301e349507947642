-- Baton's own Botpress integration (HITL interface 2.1) beside plus/hitl-api.
--
-- A connection serves one integration. Baton's integration registers itself: it
-- brings the webhook URL (empty until then) and receives `signing_key`, with which
-- Baton signs every call to it. plus/hitl-api connections keep unsigned calls.
alter table connections add column integration text not null default 'hitl_api'
    check (integration in ('hitl_api', 'baton'));
alter table connections add column signing_key text;
alter table connections add column registered_at integer;
alter table connections add column unregistered_at integer;

-- What the bot said about the handoff (hitlSession): how urgent it is, and which
-- team's queue it belongs in (routing offers it only to that team's members).
alter table tickets add column priority text
    check (priority in ('low', 'normal', 'high', 'urgent'));
alter table tickets add column team_id integer references teams (id) on delete set null;
