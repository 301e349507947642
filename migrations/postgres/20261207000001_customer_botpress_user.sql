-- Baton's integration tags each customer with the Botpress user it created for them
-- (createUser), so the customer page can name that user before they have written.
alter table customers add column botpress_user_id text;
