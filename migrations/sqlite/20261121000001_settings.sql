-- Instance-wide settings that admins change at run time (alert thresholds, outgoing
-- alert webhook, ...). A key-value table keeps new settings migration-free; each
-- value is JSON so the domain layer owns its type.
create table settings (
    key        text primary key not null,
    value      text not null check (json_valid(value)),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) strict;
