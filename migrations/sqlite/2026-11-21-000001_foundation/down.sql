DROP TABLE idempotency_keys;
DROP TABLE user_roles;
DROP TABLE users;
DROP TABLE accounts;
