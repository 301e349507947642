-- The customer page: details agents add or correct, and notes about the person
-- (not about one ticket), which every ticket of theirs shows.

alter table customers add column phone text;
alter table customers add column company text;
-- When a person last edited the details. From then on, the name Botpress sends on
-- a later /createRemoteUser no longer replaces the one an agent chose.
alter table customers add column edited_at integer;

create table customer_notes (
    id           integer primary key,
    customer_id  integer not null references customers (id),
    author_id    integer not null references users (id),
    text         text not null,
    created_at   integer not null
) strict;
create index customer_notes_customer on customer_notes (customer_id, id);
