-- Labels: names and colours that admins define, and agents put on tickets.
create table labels (
    id          integer primary key,
    -- Unique in any case (`Refund` and `refund` are one label).
    name        text not null collate nocase unique,
    -- `#rrggbb`, checked by the server before it is ever put in a style.
    colour      text not null,
    created_at  integer not null
) strict;

create table ticket_labels (
    ticket_id   integer not null references tickets (id),
    label_id    integer not null references labels (id),
    added_by    integer references users (id),
    added_at    integer not null,
    primary key (ticket_id, label_id)
) strict;
-- The inbox filtered by a label.
create index ticket_labels_label on ticket_labels (label_id, ticket_id);
