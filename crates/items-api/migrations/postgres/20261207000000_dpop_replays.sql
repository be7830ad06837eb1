-- DPoP proofs accepted by any instance of the API on this database (RFC 9449
-- §11.1), so that a proof accepted at one instance is a replay at the others.
-- One row per proof: its key's thumbprint, the SHA-256 of its jti, and when it
-- may be forgotten (Unix seconds). UNLOGGED: no write-ahead log for a row
-- written per request; a crash empties the table, which reopens only proofs
-- still within their iat window (seconds). Expired rows are swept in the
-- background, a bounded batch at a time (store/replay.rs). SQLite keeps its
-- proofs in the process's memory (one process by construction).

CREATE UNLOGGED TABLE dpop_replays (
    jkt        TEXT   NOT NULL,
    jti_hash   BYTEA  NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (jkt, jti_hash)
);

-- The sweeper's search for expired rows.
CREATE INDEX dpop_replays_expires_at ON dpop_replays (expires_at);
