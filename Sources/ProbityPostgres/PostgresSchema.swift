/// The PostgreSQL store's tables: those of the SQLite store (`ProbityStore.Schema`, format 2), column for
/// column, so that a copy moves every row as it is; plus `leader`, which fences the one writer.
enum PostgresSchema {
    /// The store format both stores share (the tables' shape, not PostgreSQL's own version).
    static let formatVersion = "2"

    /// Run in one transaction when a store is created.
    static let create: [String] = [
        "CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)",
        // The entry bytes verbatim (RFC 8785); leaf_hash, type and time are derived copies.
        "CREATE TABLE entries (seq bigint PRIMARY KEY, bytes bytea NOT NULL, leaf_hash bytea NOT NULL, type text NOT NULL, time text NOT NULL)",
        "CREATE INDEX entries_keys ON entries (type) WHERE type IN ('log.created', 'key.rotated')",
        "CREATE INDEX entries_timestamps ON entries (type) WHERE type = 'checkpoint.timestamped'",
        // Deleted on redaction (then VACUUM FULL rewrites the table, so the bytes leave its files).
        "CREATE TABLE payloads (seq bigint PRIMARY KEY, salt bytea NOT NULL, bytes bytea NOT NULL)",
        "CREATE TABLE checkpoints (size bigint PRIMARY KEY, note text NOT NULL, time text NOT NULL)",
        "CREATE TABLE tiles (level integer NOT NULL, idx bigint NOT NULL, hashes bytea NOT NULL, PRIMARY KEY (level, idx))",
        "CREATE TABLE streams (stream text PRIMARY KEY, seq bigint NOT NULL, leaf_hash bytea NOT NULL, entries bigint NOT NULL)",
        "CREATE TABLE type_counts (type text PRIMARY KEY, entries bigint NOT NULL)",
        "CREATE TABLE sources (platform text NOT NULL, id text NOT NULL, seq bigint NOT NULL, PRIMARY KEY (platform, id))",
        "CREATE TABLE refs (kind text NOT NULL, id text NOT NULL, detail text NOT NULL, seq bigint NOT NULL, PRIMARY KEY (kind, id))",
        """
        CREATE TABLE tokens (id text PRIMARY KEY, name text NOT NULL UNIQUE, role text NOT NULL,
            secret_sha256 bytea NOT NULL, created text NOT NULL, revoked text)
        """,
        "CREATE TABLE projection_snapshots (name text PRIMARY KEY, seq bigint NOT NULL, state bytea NOT NULL)",
        """
        CREATE TABLE capture_items (capture text NOT NULL, item text NOT NULL, state text NOT NULL, detail text NOT NULL,
            seq bigint, procedure text, fingerprint text NOT NULL, attempts bigint NOT NULL, updated text NOT NULL,
            PRIMARY KEY (capture, item))
        """,
        """
        CREATE TABLE verifications (time text PRIMARY KEY, size bigint NOT NULL, intact bigint NOT NULL,
            failures bigint NOT NULL, trust text NOT NULL)
        """,
        // The one row that says which writer leads: `epoch` grows at each takeover, and every commit
        // updates the row only if the epoch is still its own, so a writer that lost the lead commits nothing.
        """
        CREATE TABLE leader (id integer PRIMARY KEY CHECK (id = 1), epoch bigint NOT NULL, holder text NOT NULL,
            since timestamptz NOT NULL, beat timestamptz NOT NULL)
        """,
        "INSERT INTO leader (id, epoch, holder, since, beat) VALUES (1, 0, '', now(), now())",
    ]

    /// The key of the session-level advisory lock its writer holds (one log per database): while the
    /// writer's session lives, no other can lead; when it dies, the server releases it at once.
    static let writerLockKey: Int64 = 0x7072_6f62_6974_79  // "probity"
}
