-- Eligibility reads an account's credits of a program's few credentials, one credential at a time on
-- SQLite: without this index each read scanned all of the account's credits.
CREATE INDEX skilling_credits_credential ON skilling_credits (account_id, credential);
