-- Sign-in and account management.

-- NULL password: the account exists but its owner has not set one (invite pending).
alter table users add column password_hash text;
-- Bumped on a password change or deactivation. Sessions and tokens issued under an
-- older epoch stop working at once.
alter table users add column auth_epoch integer not null default 0;
alter table users add column last_seen_at integer;
-- Per-agent alert preferences (sound, browser notification, …), JSON.
alter table users add column notification_settings text not null default '{}'
    check (json_valid(notification_settings));

-- Personal API tokens. Only the SHA-256 of a token is stored; it is shown once.
create table api_tokens (
    id            integer primary key,
    user_id       integer not null references users (id),
    label         text not null,
    token_sha256  text not null unique,
    auth_epoch    integer not null,
    created_at    integer not null,
    last_used_at  integer,
    revoked_at    integer
) strict;
create index api_tokens_user on api_tokens (user_id);

-- One-time links: first-run setup, invitations, password resets. Hash only.
create table one_time_links (
    id            integer primary key,
    purpose       text not null check (purpose in ('setup', 'invite', 'reset')),
    user_id       integer references users (id),
    token_sha256  text not null unique,
    created_at    integer not null,
    expires_at    integer not null,
    used_at       integer
) strict;

-- Who did what, when, from where: sign-ins (both outcomes) and every admin action.
create table audit_log (
    id        integer primary key,
    at        integer not null,
    actor_id  integer references users (id),
    actor     text not null,
    ip        text,
    action    text not null,
    detail    text not null default '{}' check (json_valid(detail))
) strict;
create index audit_log_at on audit_log (at);

-- Browser sessions: the layout tower-sessions' SQLite store expects, under our
-- migrations. Not STRICT: the store writes expiry_date as an RFC 3339 text value.
create table tower_sessions (
    id           text primary key not null,
    data         blob not null,
    expiry_date  integer not null
);
create index tower_sessions_expiry on tower_sessions (expiry_date);
