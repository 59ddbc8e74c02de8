-- An attempt at a secret is counted before the secret is checked, in one
-- statement that also decides whether the attempt is within the allowance;
-- the decision of the latest attempt is stored here so that the statement
-- can return it.
ALTER TABLE throttles ADD COLUMN allowed INTEGER NOT NULL DEFAULT 1;
