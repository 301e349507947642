-- Background jobs take a lease by name (store::leases): one process on SQLite always
-- holds it, but the rule is the same as with several replicas on PostgreSQL.
create table leases (
    name text primary key,
    holder text not null,
    until integer not null
) strict;

-- A call being delivered is leased to the process delivering it.
alter table outbox add column lease_until integer;
