-- Botpress connections, the people on both sides, tickets, messages, and the durable
-- outbox for calls to the bot's webhook. Timestamps are UTC milliseconds since the
-- Unix epoch (integers compare and index cheaply; the UI formats them).

-- One row per Botpress bot. `endpoint_token` is the secret path segment Botpress
-- calls us with; `endpoint_token_sha256` is what requests are looked up by, so the
-- lookup's timing says nothing about the token. Webhook URL and access token are
-- secrets: never sent to a browser.
create table connections (
    id                     integer primary key,
    name                   text not null unique collate nocase,
    endpoint_token         text not null,
    endpoint_token_sha256  text not null unique,
    webhook_url            text not null,
    botpress_bot_id        text,
    botpress_token         text,
    -- The plugin's "user ended the session" notice; bot builders can change it.
    end_notice_text        text not null default '( The user has ended the session. )',
    created_at             integer not null,
    last_inbound_at        integer,
    last_outbound_ok_at    integer,
    last_outbound_error_at integer,
    last_outbound_error    text
) strict;

-- Agents and admins. `public_id` (agt_…) is what Botpress sees as remoteUserId.
-- Password and session columns arrive with accounts.
create table users (
    id          integer primary key,
    public_id   text not null unique,
    email       text not null unique collate nocase,
    name        text not null,
    role        text not null check (role in ('admin', 'agent')),
    active      integer not null default 1 check (active in (0, 1)),
    created_at  integer not null
) strict;

-- End users as Botpress describes them. Deduplicated on email per connection.
create table customers (
    id             integer primary key,
    public_id      text not null,
    connection_id  integer not null references connections (id),
    name           text,
    email          text collate nocase,
    picture_url    text,
    -- 1 when first seen in a message rather than created by /createRemoteUser.
    recovered      integer not null default 0 check (recovered in (0, 1)),
    created_at     integer not null,
    updated_at     integer not null,
    unique (connection_id, public_id)
) strict;
create unique index customers_connection_email on customers (connection_id, email)
    where email is not null;

-- A handoff. `remote_id` is the id Botpress knows it by (ours, tkt_…, or for a
-- recovered ticket the unknown id Botpress sent). `botpress_conversation_id` is the
-- downstream Botpress conversation, learned from the API or closeRemoteTicket.
create table tickets (
    id                        integer primary key,
    connection_id             integer not null references connections (id),
    remote_id                 text not null,
    customer_id               integer references customers (id),
    title                     text not null default '',
    description               text not null default '',
    status                    text not null default 'queued'
                              check (status in ('queued', 'assigned', 'closed')),
    assignee_id               integer references users (id),
    recovered                 integer not null default 0 check (recovered in (0, 1)),
    botpress_conversation_id  text,
    upstream_conversation_id  text,
    created_at                integer not null,
    updated_at                integer not null,
    -- First botSendsMessage: from then on the Botpress session is surely active.
    first_inbound_at          integer,
    -- When the plugin's end notice arrived (closeRemoteTicket heuristic).
    end_notice_at             integer,
    closed_at                 integer,
    -- 'abandoned': queued with no traffic for a day (a duplicate create, docs/botpress.md §11 #14).
    closed_reason             text check (closed_reason in
                              ('customer_ended', 'bot_closed', 'agent_closed', 'handed_back',
                               'abandoned')),
    -- Botpress API sync: mapping and transcript import.
    sync_state                text not null default 'none'
                              check (sync_state in ('none', 'pending', 'done', 'failed')),
    sync_attempts             integer not null default 0,
    sync_next_at              integer,
    sync_error                text,
    unique (connection_id, remote_id)
) strict;
create unique index tickets_botpress_conversation
    on tickets (connection_id, botpress_conversation_id)
    where botpress_conversation_id is not null;
create index tickets_status_created on tickets (status, created_at);
create index tickets_end_notice on tickets (connection_id, end_notice_at)
    where end_notice_at is not null;
create index tickets_sync_due on tickets (sync_next_at) where sync_state = 'pending';

-- Everything said in a ticket. `origin`: 'customer', 'system' (notices Botpress sends
-- as "BOT"), 'agent', and for the bot conversation imported from before the handoff
-- 'transcript_customer' / 'transcript_bot'. Payloads are kept exactly as received,
-- unknown types and keys included.
create table messages (
    id              integer primary key,
    ticket_id       integer not null references tickets (id),
    origin          text not null check (origin in
                    ('customer', 'system', 'agent', 'transcript_customer', 'transcript_bot')),
    type            text not null,
    payload         text not null check (json_valid(payload)),
    customer_id     integer references customers (id),
    author_id       integer references users (id),
    -- Agent messages only: delivery to the bot's webhook.
    delivery        text check (delivery in ('pending', 'sent', 'failed')),
    delivery_error  text,
    -- Transcript messages: Botpress message id and time, for dedupe and ordering.
    external_id     text,
    sent_at         integer,
    created_at      integer not null
) strict;
create index messages_ticket on messages (ticket_id, id);
create unique index messages_external on messages (ticket_id, external_id)
    where external_id is not null;

-- Calls to the bot's webhook, enqueued in the same transaction as the change they
-- announce, delivered in order per ticket by the outbox worker.
create table outbox (
    id               integer primary key,
    connection_id    integer not null references connections (id),
    ticket_id        integer not null references tickets (id),
    message_id       integer references messages (id),
    route            text not null check (route in
                     ('message-from-agent', 'agent-assigned', 'stop-hitl')),
    body             text not null check (json_valid(body)),
    state            text not null default 'pending'
                     check (state in ('pending', 'sending', 'sent', 'failed')),
    attempts         integer not null default 0,
    next_attempt_at  integer not null,
    last_error       text,
    created_at       integer not null,
    finished_at      integer
) strict;
create index outbox_open on outbox (ticket_id, id) where state in ('pending', 'sending');
create index outbox_due on outbox (next_attempt_at) where state = 'pending';

-- Every closeRemoteTicket, kept until it is mapped to a ticket. Unmapped ones are
-- shown to admins and retried when the connection gets API credentials.
create table close_requests (
    id                        integer primary key,
    connection_id             integer not null references connections (id),
    botpress_conversation_id  text not null,
    received_at               integer not null,
    state                     text not null default 'pending'
                              check (state in ('pending', 'mapped', 'unmapped')),
    ticket_id                 integer references tickets (id),
    mapped_by                 text check (mapped_by in ('known', 'api', 'end_notice')),
    attempts                  integer not null default 0,
    next_attempt_at           integer,
    last_error                text
) strict;
create index close_requests_pending on close_requests (next_attempt_at)
    where state = 'pending';
