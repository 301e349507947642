-- Several replicas on one database.

-- The realtime hub's numbered changes (store::events). Written in the transaction of
-- the change; every replica reads them in order and relays them to its sockets.
create table events (
    seq bigserial primary key,
    -- The change as Baton serialised it (protocol::realtime::Change).
    change text not null,
    -- Whose sockets it goes to; null: everyone.
    audience bigint[],
    at timestamptz not null default now()
);

-- Background jobs that must run once across the fleet take a lease by name.
create table leases (
    name text primary key,
    holder text not null,
    until bigint not null
);

-- A call being delivered is leased to its replica: if that replica dies, the call is
-- recovered when the lease runs out instead of waiting for a restart.
alter table outbox add column lease_until bigint;

-- Sign-in limits across replicas (backend::accounts::throttle): failures by key
-- (a digest of the account, the address, or both), and when a refusal of each key
-- was last audited. On SQLite the one process keeps these in memory.
create table sign_in_failures (
    key bytea not null,
    at bigint not null
);
create index sign_in_failures_key on sign_in_failures (key, at);
create table sign_in_refusals (
    key bytea primary key,
    at bigint not null
);


-- The replicas serving the database, each with its open sockets per account, so
-- presence counts every replica's tabs. A replica that stops renewing `until` is
-- gone, and its sockets with it.
create table replicas (
    id text primary key,
    until bigint not null
);
create table replica_sockets (
    replica text not null references replicas (id) on delete cascade,
    user_id bigint not null references users (id),
    -- How many sockets, and how many of them in a tab in use.
    sockets integer not null,
    active integer not null,
    primary key (replica, user_id)
);
