-- Items and their tags (PostgreSQL). Times are microseconds since the epoch;
-- ids are UUIDv7 strings, compared byte by byte (COLLATE "C") whatever the
-- cluster's locale, so keyset pagination orders them as the code does.

CREATE TABLE items (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name        TEXT   NOT NULL,
    description TEXT   NOT NULL DEFAULT '',
    price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
    owner       TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Listings, newest first: one person's items, and everybody's.
CREATE INDEX items_owner_created_at_id ON items (owner, created_at, id);
CREATE INDEX items_created_at_id ON items (created_at, id);

-- An item's tags; `position` keeps them in the order they were given.
CREATE TABLE item_tags (
    item_id  TEXT COLLATE "C" NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    tag      TEXT    NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (item_id, tag)
);

CREATE INDEX item_tags_tag ON item_tags (tag);
