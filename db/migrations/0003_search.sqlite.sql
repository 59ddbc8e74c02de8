-- Search by index (FTS5 with the trigram tokenizer: case-insensitive
-- substring matching for three characters or more) on thread subjects and on
-- people's names and addresses, kept in step by triggers.
CREATE VIRTUAL TABLE threads_fts USING fts5(subject, content='threads', content_rowid='id', tokenize='trigram');
INSERT INTO threads_fts (threads_fts) VALUES ('rebuild');
CREATE TRIGGER threads_fts_insert AFTER INSERT ON threads BEGIN INSERT INTO threads_fts (rowid, subject) VALUES (new.id, new.subject); END;
CREATE TRIGGER threads_fts_delete AFTER DELETE ON threads BEGIN INSERT INTO threads_fts (threads_fts, rowid, subject) VALUES ('delete', old.id, old.subject); END;
CREATE TRIGGER threads_fts_update AFTER UPDATE OF subject ON threads BEGIN INSERT INTO threads_fts (threads_fts, rowid, subject) VALUES ('delete', old.id, old.subject); INSERT INTO threads_fts (rowid, subject) VALUES (new.id, new.subject); END;

CREATE VIRTUAL TABLE users_fts USING fts5(name, email, tokenize='trigram');
INSERT INTO users_fts (rowid, name, email) SELECT id, first_name || ' ' || name_prefix || ' ' || last_name || ' ' || first_name || ' ' || last_name || ' ' || initials, email FROM users;
CREATE TRIGGER users_fts_insert AFTER INSERT ON users BEGIN INSERT INTO users_fts (rowid, name, email) VALUES (new.id, new.first_name || ' ' || new.name_prefix || ' ' || new.last_name || ' ' || new.first_name || ' ' || new.last_name || ' ' || new.initials, new.email); END;
CREATE TRIGGER users_fts_delete AFTER DELETE ON users BEGIN DELETE FROM users_fts WHERE rowid = old.id; END;
CREATE TRIGGER users_fts_update AFTER UPDATE OF first_name, name_prefix, last_name, initials, email ON users BEGIN UPDATE users_fts SET name = new.first_name || ' ' || new.name_prefix || ' ' || new.last_name || ' ' || new.first_name || ' ' || new.last_name || ' ' || new.initials, email = new.email WHERE rowid = new.id; END;
