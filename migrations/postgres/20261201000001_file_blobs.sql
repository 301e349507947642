-- The bytes of agents' attachments and of the copies of customers' media, so that
-- every replica serves every file without a shared folder (backend::files). On
-- SQLite, the one process keeps them as files in its attachments folder.
create table file_blobs (
    key text primary key,
    bytes bytea not null
);
