-- Search by index (pg_trgm: case-insensitive substring matching for three
-- characters or more) on thread subjects and on people's names and
-- addresses. The extension lives in public so that every schema finds it;
-- the expressions must match messaging's search query exactly.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE INDEX threads_subject_trgm ON threads USING gin (lower(subject) public.gin_trgm_ops);
CREATE INDEX users_name_trgm ON users USING gin (lower(first_name || ' ' || name_prefix || ' ' || last_name || ' ' || first_name || ' ' || last_name || ' ' || initials) public.gin_trgm_ops);
CREATE INDEX users_email_trgm ON users USING gin (lower(email) public.gin_trgm_ops);
