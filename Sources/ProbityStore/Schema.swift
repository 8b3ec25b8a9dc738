import GRDB

/// The store's tables. Entries are the only source of truth; every other table is derived from them
/// (and checked against them by `verify`) except payloads and salts, which entries commit to.
enum Schema {
    /// 2: Merkle hashes as C2SP tiles (the `tiles` table) instead of one row per node (`nodes`).
    static let formatVersion = "2"
    /// Formats `probity migrate` brings up to `formatVersion`.
    static let olderFormats: Set<String> = ["1"]

    /// Refuses a store of an older format, saying how to migrate it (never done as a side effect of opening).
    static func refuseOlder(format: String?, path: String) throws {
        if let format, olderFormats.contains(format) { throw StoreError.needsMigration(path: path, format: format) }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
                    -- The entry bytes verbatim (RFC 8785); leaf_hash, type and time are derived copies.
                    CREATE TABLE entries (
                        seq INTEGER PRIMARY KEY,
                        bytes BLOB NOT NULL,
                        leaf_hash BLOB NOT NULL,
                        type TEXT NOT NULL,
                        time TEXT NOT NULL
                    );
                    -- Only the rare entries commands look up by type are indexed, so that ordinary appends
                    -- do not pay for a second B-tree.
                    CREATE INDEX entries_keys ON entries(type) WHERE type IN ('log.created', 'key.rotated');
                    -- Deleted on redaction; the entry keeps its commitment.
                    CREATE TABLE payloads (seq INTEGER PRIMARY KEY, salt BLOB NOT NULL, bytes BLOB NOT NULL);
                    -- Complete Merkle subtrees of level >= 1, keyed by creation order (see MerkleNodeID),
                    -- so that appends write at the end of the B-tree and verify reads them in one pass.
                    CREATE TABLE nodes (id INTEGER PRIMARY KEY, hash BLOB NOT NULL);
                    -- One signed checkpoint per committed batch.
                    CREATE TABLE checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL, time TEXT NOT NULL);
                    -- Per stream (procedure:<ref>, party:<id>): its last entry, and how many entries it has
                    -- (the projection replay rebuilds). One row, so a batch touches each stream once.
                    CREATE TABLE streams (
                        stream TEXT PRIMARY KEY, seq INTEGER NOT NULL, leaf_hash BLOB NOT NULL, entries INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE type_counts (type TEXT PRIMARY KEY, entries INTEGER NOT NULL) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v2: sources and tokens") { db in
            try db.execute(
                sql: """
                    -- (platform, source id) of every exchange.recorded: the log holds each source once, so that
                    -- re-sending an exchange returns its original receipt and appends nothing.
                    CREATE TABLE sources (platform TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (platform, id)) WITHOUT ROWID;
                    INSERT OR IGNORE INTO sources (platform, id, seq)
                        SELECT json_extract(CAST(bytes AS TEXT), '$.data.source.platform'), json_extract(CAST(bytes AS TEXT), '$.data.source.id'), seq
                        FROM entries WHERE type = 'exchange.recorded'
                            AND json_type(CAST(bytes AS TEXT), '$.data.source.platform') = 'text'
                            AND json_type(CAST(bytes AS TEXT), '$.data.source.id') = 'text'
                        ORDER BY seq;
                    -- API bearer tokens. Only the SHA-256 of a token is kept; the secret is shown once, at creation.
                    -- Not part of the log: managed beside a running daemon, which holds the writer lock.
                    CREATE TABLE tokens (
                        id TEXT PRIMARY KEY,
                        name TEXT NOT NULL UNIQUE,
                        role TEXT NOT NULL,
                        secret_sha256 BLOB NOT NULL,
                        created TEXT NOT NULL,
                        revoked TEXT
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v3: references") { db in
            try db.execute(
                sql: """
                    -- What events may refer to: registered parties (detail: role), opened procedures (detail: kind)
                    -- and legal holds (detail: open or released). Derived from the entries; the writer checks every
                    -- new event's references against it.
                    CREATE TABLE refs (kind TEXT NOT NULL, id TEXT NOT NULL, detail TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID;
                    INSERT OR REPLACE INTO refs (kind, id, detail, seq)
                        SELECT CASE type WHEN 'party.registered' THEN 'party' WHEN 'procedure.opened' THEN 'procedure' ELSE 'hold' END,
                               json_extract(CAST(bytes AS TEXT), CASE type WHEN 'party.registered' THEN '$.data.party' WHEN 'procedure.opened' THEN '$.data.procedure' ELSE '$.data.hold' END),
                               CASE type WHEN 'party.registered' THEN json_extract(CAST(bytes AS TEXT), '$.data.role')
                                         WHEN 'procedure.opened' THEN json_extract(CAST(bytes AS TEXT), '$.data.kind')
                                         WHEN 'legal_hold.placed' THEN 'open' ELSE 'released' END,
                               seq
                        FROM entries
                        WHERE type IN ('party.registered', 'procedure.opened', 'legal_hold.placed', 'legal_hold.released')
                            AND json_type(CAST(bytes AS TEXT), CASE type WHEN 'party.registered' THEN '$.data.party' WHEN 'procedure.opened' THEN '$.data.procedure' ELSE '$.data.hold' END) = 'text'
                            AND COALESCE(json_extract(CAST(bytes AS TEXT), CASE type WHEN 'party.registered' THEN '$.data.role' ELSE '$.data.kind' END), type) IS NOT NULL
                        ORDER BY seq;
                    -- Snapshots of the domain projections (procedures, timelines, disclosure coverage), rebuilt by
                    -- `probity replay`; readers apply the entries after a snapshot's seq.
                    CREATE TABLE projection_snapshots (name TEXT PRIMARY KEY, seq INTEGER NOT NULL, state BLOB NOT NULL) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v4: timestamps index") { db in
            // verify and evidence bundles look up every RFC 3161 timestamp; like key entries, they are rare,
            // and a partial index spares ordinary appends a second B-tree.
            try db.execute(
                sql: "CREATE INDEX entries_timestamps ON entries(type) WHERE type = 'checkpoint.timestamped'")
        }
        migrator.registerMigration("v5: tiles") { db in
            // Tiles of 256 hashes (C2SP tlog-tiles), one row each; the partial tile at the right edge of a
            // level is rewritten once per batch until it is full. A proof reads a few tiles, and a later
            // version serves them as they are.
            try db.execute(
                sql: """
                    CREATE TABLE tiles (level INTEGER NOT NULL, idx INTEGER NOT NULL, hashes BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
                    """)
            try TileMigration.run(db)
            try db.execute(sql: "DROP TABLE nodes; UPDATE meta SET value = '2' WHERE key = 'format'")
        }
        migrator.registerMigration("v6: capture") { db in
            // What probityd's capture has done with each message or dropped file (`CaptureLedger`). Not part
            // of the log, like tokens: it only spares re-reading what is recorded, and lists what failed;
            // the log's own (platform, source id) uniqueness is what keeps a message from being recorded twice.
            try db.execute(
                sql: """
                    CREATE TABLE capture_items (
                        capture TEXT NOT NULL,
                        item TEXT NOT NULL,
                        state TEXT NOT NULL,
                        detail TEXT NOT NULL,
                        seq INTEGER,
                        procedure TEXT,
                        fingerprint TEXT NOT NULL,
                        attempts INTEGER NOT NULL,
                        updated TEXT NOT NULL,
                        PRIMARY KEY (capture, item)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v7: verifications") { db in
            // What `probity verify` found each time it ran on this store (when it could write): shown by the
            // console's dashboard. Not part of the log: a claim of the machine that ran it, not a proof.
            try db.execute(
                sql: """
                    CREATE TABLE verifications (
                        time TEXT PRIMARY KEY, size INTEGER NOT NULL, intact INTEGER NOT NULL,
                        failures INTEGER NOT NULL, trust TEXT NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
        return migrator
    }
}
