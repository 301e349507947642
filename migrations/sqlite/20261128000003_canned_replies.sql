-- Canned replies: answers an agent fills into the composer by typing /shortcut.
-- Shared ones (no owner) are managed by admins and offered to everyone; personal
-- ones belong to one agent and are offered to them only.
create table canned_replies (
    id          integer primary key,
    owner_id    integer references users (id),
    shortcut    text not null,
    body        text not null,
    created_at  integer not null,
    updated_at  integer not null
) strict;
-- A shortcut, in any case, names one reply among the shared ones and one among
-- each agent's own (an agent's own may reuse a shared one: theirs comes first).
create unique index canned_replies_shortcut on canned_replies (coalesce(owner_id, 0), lower(shortcut));
create index canned_replies_owner on canned_replies (owner_id);
