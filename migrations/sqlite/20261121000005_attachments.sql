-- Files agents attach to replies. Botpress fetches them without credentials, so the
-- URL itself is the secret: `key` is 256 random bits. The bytes live in the
-- attachments folder under that key; the row says what they are.
create table attachments (
    id            integer primary key,
    key           text not null unique,
    ticket_id     integer not null references tickets (id),
    uploader_id   integer not null references users (id),
    name          text not null,
    content_type  text not null,
    size          integer not null,
    created_at    integer not null
) strict;
create index attachments_ticket on attachments (ticket_id);

-- The customer panel lists a customer's other tickets.
create index tickets_customer on tickets (customer_id, created_at) where customer_id is not null;
