-- Idempotency keys of creates (draft-ietf-httpapi-idempotency-key-header):
-- one row per (owner, key) for a day, naming the item the first request made
-- and a fingerprint of that request, so a retry gets the same item and a key
-- reused for another item is refused. No foreign key: the item may be
-- deleted while its key is still remembered.

CREATE TABLE idempotency_keys (
    owner       TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    item_id     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (owner, key)
) STRICT;

-- Forgetting the keys older than a day.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
