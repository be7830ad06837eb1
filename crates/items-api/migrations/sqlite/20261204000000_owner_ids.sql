-- Owners are the issuer and the immutable user id it gives the person (Okta's
-- `uid`, else `sub`), no longer the access token's `sub`, which on Okta's
-- custom authorization servers is the login: renamable, and reusable by
-- someone else later (issue 14, item 8).
--
-- Rows from before this migration keep `owner` (their `sub`) and get no
-- issuer (NULL): the API re-keys them to (issuer, user id) at the first
-- request of a token whose `sub` is that owner, when both are known at once
-- (see `Store::claim`). No query for an owner ever matches a NULL issuer.

ALTER TABLE items ADD COLUMN owner_issuer TEXT;

DROP INDEX items_owner_created_at_id;
CREATE INDEX items_owner_created_at_id ON items (owner_issuer, owner, created_at, id);

-- Idempotency keys are per (issuer, owner) now. They live a day: those of
-- the old shape are dropped rather than converted (a create retried across
-- the upgrade may be made twice).
DROP TABLE idempotency_keys;

CREATE TABLE idempotency_keys (
    owner_issuer TEXT    NOT NULL,
    owner        TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL,
    item_id      TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (owner_issuer, owner, key)
) STRICT;

CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
