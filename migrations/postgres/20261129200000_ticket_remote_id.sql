-- As in SQLite: agents open a ticket by the id Botpress knows it by, whatever its
-- connection, and the unique index leads with the connection.
create index tickets_remote on tickets (remote_id);
