-- What an agent chose to be while signed in: available for work, or away (a break,
-- a meeting). Offline is not stored: it is having no open tab (realtime presence).
alter table users add column availability text not null default 'available'
    check (availability in ('available', 'away'));
