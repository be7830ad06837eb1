-- Items and their tags (SQLite). Times are microseconds since the epoch; ids
-- are UUIDv7 strings. STRICT tables refuse values of the wrong type; INTEGER
-- is SQLite's 64-bit integer (BIGINT in the PostgreSQL schema).

CREATE TABLE items (
    id          TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    owner       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- Listings, newest first: one person's items, and everybody's.
CREATE INDEX items_owner_created_at_id ON items (owner, created_at, id);
CREATE INDEX items_created_at_id ON items (created_at, id);

-- An item's tags; `position` keeps them in the order they were given.
CREATE TABLE item_tags (
    item_id  TEXT    NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    tag      TEXT    NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (item_id, tag)
) STRICT;

CREATE INDEX item_tags_tag ON item_tags (tag);
