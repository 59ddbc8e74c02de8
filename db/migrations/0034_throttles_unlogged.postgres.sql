-- Throttle counters are written on every login, code and link attempt.
-- As an unlogged table they write no WAL, so a transaction that only
-- counts an attempt commits without waiting for the disk (PostgreSQL
-- flushes at commit only what wrote WAL). A crash empties the table: the
-- counters start again from zero, as after their window ends; nothing
-- else is lost. A standby has no copy; a failover starts them empty too.
ALTER TABLE throttles SET UNLOGGED;
