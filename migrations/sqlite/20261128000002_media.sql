-- Media that customers and bots send (images, audio, video, files), copied into
-- Baton's attachment folder when the message arrives, so that agents load them from
-- Baton only: opening a ticket tells no third party who looked, or when, and links
-- that Botpress lets expire keep working.
create table media (
    id            integer primary key,
    message_id    integer not null references messages (id),
    ticket_id     integer not null references tickets (id),
    -- As Botpress gave it.
    url           text not null,
    state         text not null default 'pending' check (state in ('pending', 'stored', 'failed')),
    -- Once stored: the file, served at /files/<key>/<name>.
    key           text unique,
    name          text,
    content_type  text,
    size          integer,
    error         text,
    created_at    integer not null,
    finished_at   integer
) strict;
create index media_pending on media (id) where state = 'pending';
create index media_message on media (message_id);
