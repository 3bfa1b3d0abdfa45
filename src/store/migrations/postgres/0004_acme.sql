-- Certificates that several instances share (issue 13): the ACME account
-- key, the certificate chain and the certificate's private key, one row
-- each, named "account DIRECTORY", "chain NAMES" and "key NAMES". The
-- instance that orders writes them; the others copy them into their state
-- directory and serve the same certificate. Private keys: whoever can read
-- this table can impersonate the site (docs/operations.md, Certificates).
CREATE TABLE acme_state (
    name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 4200),
    pem TEXT NOT NULL CHECK (length(pem) <= 1048576),
    updated_at BIGINT NOT NULL
);
REVOKE ALL ON acme_state FROM PUBLIC;
