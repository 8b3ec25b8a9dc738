import Foundation
import Testing

@testable import ProbityDomain
@testable import ProbityFixtures
@testable import ProbityLog
@testable import ProbityPostgres
@testable import ProbityStore

/// The store's behaviour, once, run against both stores through the protocols probityd and the CLI use
/// (`LogAppender`, `EvidenceReads`, `TokenRegistry`, replay): the embedded SQLite file and a PostgreSQL
/// server started by the test. Nested in the PostgreSQL suite, which is serialized: its tests set the
/// process's PGPASSFILE, so no two may run at once.
extension PostgresStoreTests {
    @Suite("Both stores")
    struct StoreBackendTests {
        enum Backend: String, CaseIterable, CustomTestStringConvertible {
            case sqlite, postgres
            var testDescription: String { rawValue }
        }

        /// A new store of `backend`, with what the suite reads it through.
        struct Store {
            let writer: any LogAppender
            let reads: any EvidenceReads
            let tokens: any TokenRegistry
            let replay: () throws -> ReplayReport
            let verifier: NoteVerifier
        }

        /// Runs `body` on a new store of `backend` (without PostgreSQL installed, the PostgreSQL case fails
        /// under CI=true and is skipped elsewhere).
        static func with(_ backend: Backend, _ body: (Store) throws -> Void) throws {
            let signer = try NoteSigner(name: "test.example/log", privateKey: Ed25519PrivateKey.generate())
            switch backend {
            case .sqlite:
                let dir = try CLI.temporaryDirectory()
                defer { try? FileManager.default.removeItem(at: dir) }
                let path = dir.appendingPathComponent("log.sqlite").path
                let writer = try LogWriter.create(
                    path: path, origin: signer.verifier.name, signer: signer, keyPath: "", by: "test", software: "test")
                let reader = try LogReader.open(path: path)
                try body(
                    Store(
                        writer: writer, reads: reader, tokens: try TokenStore.open(path: path),
                        replay: { try reader.replay() }, verifier: signer.verifier))
            case .postgres:
                try PostgresStoreTests.withCluster { _, location in
                    let writer = try PostgresLogWriter.create(
                        location: location, origin: signer.verifier.name, signer: signer, keyPath: "", by: "test",
                        software: "test", holder: "test")
                    let reader = try PostgresLogReader(location: location)
                    try body(
                        Store(
                            writer: writer, reads: reader, tokens: try PostgresTokens(location: location),
                            replay: { try reader.replay() }, verifier: signer.verifier))
                }
            }
        }

        @Test(
            "group commit: each submission commits or is refused whole; duplicates get their first receipt",
            arguments: Backend.allCases)
        func groupCommit(_ backend: Backend) throws {
            try Self.with(backend) { store in
                let events = try PostgresStoreTests.conversation()
                let stranger = EventInput(
                    type: "party.registered",
                    data: ["party": .string("x"), "role": .string("supplier_agent"), "org": .string("nobody")])
                let outcomes = try store.writer.append([
                    LogWriter.Submission(events: events, by: "a"), LogWriter.Submission(events: [stranger], by: "b"),
                ])
                let batch = try outcomes[0].get()
                #expect(batch.receipts.map(\.seq) == Array(1...UInt64(events.count)))
                guard case .failure(let rejection) = outcomes[1] else {
                    Issue.record("an event naming an unknown organisation was appended")
                    return
                }
                #expect(rejection.index == 0)
                #expect(try store.writer.size() == UInt64(events.count) + 1)

                // Every receipt proves its entry against the batch's checkpoint, which the store serves.
                let checkpoint = try store.reads.checkpoint(size: nil)
                #expect(checkpoint.checkpoint.size == UInt64(events.count) + 1)
                for receipt in batch.receipts {
                    #expect(receipt.proof.checkpoint.encoded == checkpoint.encoded)
                    #expect(throws: Never.self) {
                        try receipt.proof.verify(leafHash: receipt.leafHash, verifier: store.verifier)
                    }
                }
                // The exchanges again: nothing appended, each answered with the receipt it first got.
                let exchanges = events.filter { $0.source != nil }
                let again = try store.writer.append([LogWriter.Submission(events: exchanges, by: "c")])[0].get()
                #expect(again.entries.isEmpty)
                let receipts = again.receipts
                #expect(receipts.count == exchanges.count)
                #expect(receipts.allSatisfy { $0.duplicate })
                let first = Dictionary(uniqueKeysWithValues: batch.receipts.map { ($0.seq, $0.leafHash) })
                #expect(receipts.allSatisfy { first[$0.seq] == $0.leafHash })
                #expect(try store.writer.size() == UInt64(events.count) + 1)
            }
        }

        @Test(
            "reads: entries with payloads, stream heads, the key chain, inclusion and consistency proofs",
            arguments: Backend.allCases)
        func reads(_ backend: Backend) throws {
            try Self.with(backend) { store in
                let events = try PostgresStoreTests.conversation()
                _ = try store.writer.append([LogWriter.Submission(events: events, by: "a")])[0].get()
                let size = try store.writer.size()
                let stored = try store.reads.entries(seqs: [0, 2, size - 1, size + 5])
                #expect(stored.map(\.seq) == [0, 2, size - 1])
                #expect(try store.reads.entry(seq: 2)?.payload != nil)
                #expect(try store.reads.entries(from: 1, limit: 3).map(\.seq) == [1, 2, 3])
                #expect(try store.reads.keyChain().map(\.verifierKey) == [store.verifier.description])
                let (checkpoint, heads) = try store.reads.checkpointAndStreamHeads(["procedure:2026-042", "party:none"])
                #expect(heads["party:none"] == nil)
                let head = try #require(heads["procedure:2026-042"])
                #expect(try store.reads.entry(seq: head.seq)?.leafHash == head.leafHash)
                #expect(head.seq == size - 1)  // the conversation ends in procedure 2026-042
                // Proofs read from the store equal the receipts' (the same tiles, on either store).
                let proofs = try store.reads.inclusionProofs(seqs: [1, size - 1], size: checkpoint.checkpoint.size)
                for (seq, proof) in zip([UInt64(1), size - 1], proofs) {
                    let leaf = try #require(try store.reads.entry(seq: seq)).leafHash
                    #expect(throws: Never.self) {
                        try Merkle.verifyInclusion(
                            leafHash: leaf, index: seq, size: checkpoint.checkpoint.size, proof: proof,
                            root: checkpoint.checkpoint.root)
                    }
                }
                #expect(try store.reads.consistencyProof(from: 1, to: size).count > 0)
                #expect(try store.reads.firstCheckpoint(covering: 0).checkpoint.size == 1)
            }
        }

        @Test(
            "redaction erases the payload and its salt; a second redaction of the entry is refused",
            arguments: Backend.allCases)
        func redaction(_ backend: Backend) throws {
            try Self.with(backend) { store in
                _ = try store.writer.append([
                    LogWriter.Submission(events: try PostgresStoreTests.conversation(), by: "a")
                ])[0].get()
                let target = try #require(try store.reads.payloadSeqs().last)
                let batch = try store.writer.redact(seq: target, legalBasis: "rgpd-art-17", requestedBy: "dpo", by: "a")
                #expect(batch.entries.count == 1)
                #expect(try store.reads.entry(seq: target)?.payload == nil)
                #expect(try !store.reads.payloadSeqs().contains(target))
                #expect(throws: StoreError.self) {
                    try store.writer.redact(seq: target, legalBasis: "rgpd-art-17", requestedBy: "dpo", by: "a")
                }
                // Replay still finds the chain whole, and the redaction recorded.
                let report = try store.replay()
                #expect(report.failure == nil)
                #expect(report.drift == [])
                #expect(report.domain.redactions[target] == batch.receipts[0].seq)
            }
        }

        @Test("tokens: created once per name, found by id, revoked once", arguments: Backend.allCases)
        func tokens(_ backend: Backend) throws {
            try Self.with(backend) { store in
                let (info, token) = try store.tokens.create(name: "crm", role: .ingest)
                #expect(try store.tokens.token(id: info.id) == info)
                #expect(try store.tokens.token(id: info.id)?.accepts(token) == true)
                #expect(throws: StoreError.self) { try store.tokens.create(name: "crm", role: .read) }
                #expect(throws: StoreError.self) { try store.tokens.create(name: "not a name", role: .read) }
                let revoked = try store.tokens.revoke("crm")
                #expect(revoked.revoked != nil)
                #expect(try store.tokens.token(id: info.id)?.accepts(token) == false)
                #expect(throws: StoreError.self) { try store.tokens.revoke(info.id) }
                #expect(throws: StoreError.self) { try store.tokens.revoke("nobody") }
                #expect(try store.tokens.list().map(\.name) == ["crm"])
            }
        }
    }
}
