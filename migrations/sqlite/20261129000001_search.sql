-- Search: SQLite FTS5 indexes over what agents look for. Each one indexes text that
-- already lives in a table ("external content"), so nothing is stored twice; the
-- triggers below keep the indexes in step with every write, whichever code path
-- makes it (Botpress's calls, agents, the transcript import, the CLI).
--
-- `unicode61 remove_diacritics 2` splits on anything that is not a letter or digit
-- and folds case and accents: "Zoë" finds "zoe", "dana@example.org" is three words.
-- The search code splits a query the same way, so any address or word works.

-- What a message says, as one text: the fields that carry words (a text, a
-- markdown, a card's title, a place's address, the choices offered). The expression
-- appears once, in this view; the triggers read the view, so they cannot disagree
-- with it (FTS5 needs the old text exactly to remove a row).
create view message_search_text (id, body) as
    select id,
           trim(coalesce(json_extract(payload, '$.text'), '') || ' ' ||
                coalesce(json_extract(payload, '$.markdown'), '') || ' ' ||
                coalesce(json_extract(payload, '$.title'), '') || ' ' ||
                coalesce(json_extract(payload, '$.address'), '') || ' ' ||
                -- Only object options have a label; a plain string (`["Yes","No"]`)
                -- is not JSON to `json_extract`, which would fail the whole batch.
                coalesce((select group_concat(case when o.type = 'object'
                                                   then json_extract(o.value, '$.label') end, ' ')
                          from json_each(payload, '$.options') o), ''))
    from messages;

create virtual table search_messages using fts5(
    body, content = 'message_search_text', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
-- Messages are only ever added (deliveries change other columns).
create trigger search_messages_insert after insert on messages begin
    insert into search_messages (rowid, body)
        select id, body from message_search_text where id = new.id;
end;

create virtual table search_notes using fts5(
    text, content = 'notes', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
create trigger search_notes_insert after insert on notes begin
    insert into search_notes (rowid, text) values (new.id, new.text);
end;

create virtual table search_tickets using fts5(
    title, description, content = 'tickets', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
create trigger search_tickets_insert after insert on tickets begin
    insert into search_tickets (rowid, title, description)
        values (new.id, new.title, new.description);
end;
create trigger search_tickets_update after update of title, description on tickets begin
    insert into search_tickets (search_tickets, rowid, title, description)
        values ('delete', old.id, old.title, old.description);
    insert into search_tickets (rowid, title, description)
        values (new.id, new.title, new.description);
end;

create virtual table search_customers using fts5(
    name, email, content = 'customers', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
create trigger search_customers_insert after insert on customers begin
    insert into search_customers (rowid, name, email) values (new.id, new.name, new.email);
end;
create trigger search_customers_update after update of name, email on customers begin
    insert into search_customers (search_customers, rowid, name, email)
        values ('delete', old.id, old.name, old.email);
    insert into search_customers (rowid, name, email) values (new.id, new.name, new.email);
end;

-- What was there before this migration. (`rebuild` cannot read a view, so the
-- messages are added as the trigger adds them.)
insert into search_messages (rowid, body) select id, body from message_search_text;
insert into search_notes (search_notes) values ('rebuild');
insert into search_tickets (search_tickets) values ('rebuild');
insert into search_customers (search_customers) values ('rebuild');
