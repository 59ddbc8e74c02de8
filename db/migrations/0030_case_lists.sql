-- The daily retention finds an organisation's cases closed before a
-- cut-off, and the case list pages through an organisation's open or
-- closed cases by reference (a reference search is a range on it). Both
-- were served by scans of every organisation's closed cases before.
CREATE INDEX cases_org_closed_idx ON cases (org_id, status, closed_at);
CREATE INDEX cases_org_status_ref_idx ON cases (org_id, status, reference);
DROP INDEX cases_closed_idx;
