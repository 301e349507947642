-- Agents open a ticket by the id Botpress knows it by, whatever its connection. The
-- unique index leads with the connection, so without this one that lookup read every
-- ticket the agent had ever held (47,000 in the benchmark's year: 20 ms a page).
create index tickets_remote on tickets (remote_id);
