import Foundation
import GRDB
import Synchronization
import Testing

@testable import ProbityDomain
@testable import ProbityFixtures
@testable import ProbityLog
@testable import ProbityStore

@Suite("The store")
struct StoreTests {
    static let origin = "achats.example.fr/probity"

    static func newStore() throws -> (LogWriter, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("probity-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("log.sqlite").path
        let signer = try NoteSigner(name: origin, privateKey: Ed25519PrivateKey.generate())
        return (
            try LogWriter.create(path: path, origin: origin, signer: signer, keyPath: "", by: "test", software: "test"),
            path
        )
    }

    @Test("node ids follow the order in which an append-only writer completes nodes")
    func nodeIDs() {
        var range = CompactRange()
        var next: Int64 = 0
        for i in 0..<1000 {
            for (node, _) in range.append(Merkle.leafHash([UInt8(i & 0xFF), UInt8(i >> 8)])) {
                #expect(MerkleNodeID.id(level: node.level, index: node.index) == next)
                next += 1
            }
            #expect(MerkleNodeID.count(forSize: range.size) == next)
        }
    }

    @Test("the writer runs WAL with synchronous=FULL")
    func durability() throws {
        let (writer, _) = try Self.newStore()
        let (mode, sync) = try writer.db.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        #expect(mode == "wal" && sync == 2)
    }

    @Test("proofs read from stored nodes verify against every checkpoint, and roots match a recomputation")
    func proofs() throws {
        let (writer, _) = try Self.newStore()
        var leaves = [try writer.entry(seq: 0)!.leafHash]
        for batch in 0..<12 {
            let events = (0..<(batch * 3 + 1)).map {
                EventInput(
                    type: "x-test", data: ["procedure": .string("p\($0 % 3)")],
                    payload: .object(["n": .number(Double($0))]))
            }
            let appended = try writer.append(events, by: "test")
            leaves += appended.entries.map(\.leafHash)
            let cp = try #require(appended.checkpoint).checkpoint
            #expect(cp.root == Merkle.root(leafHashes: leaves))
            // The receipts' proofs, computed in memory by the writer, equal the proofs read from stored nodes.
            for receipt in appended.receipts {
                #expect(
                    receipt.proof.proof == (try writer.inclusionProof(seq: receipt.seq, size: cp.size)),
                    "seq \(receipt.seq) of \(cp.size)")
            }
            for seq in stride(from: UInt64(0), to: cp.size, by: 7) {
                try writer.tlogProof(seq: seq).verify(leafHash: leaves[Int(seq)], verifier: writer.signer.verifier)
            }
            for old in stride(from: UInt64(1), to: cp.size, by: 5) {
                try Merkle.verifyConsistency(
                    oldSize: old, newSize: cp.size, oldRoot: try writer.root(size: old), newRoot: cp.root,
                    proof: try writer.consistencyProof(from: old, to: cp.size))
            }
        }
        #expect(try writer.verify(trust: .verifier(writer.signer.verifier)).intact)
    }

    @Test("a failed append appends nothing, and the writer recovers its tail")
    func atomicAppend() throws {
        let (writer, _) = try Self.newStore()
        try writer.queue.write {
            try $0.execute(
                sql:
                    "CREATE TRIGGER refuse BEFORE INSERT ON entries WHEN NEW.seq = 3 BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
            )
        }
        let events = (0..<5).map { _ in EventInput(type: "x-test", data: [:]) }
        #expect(throws: StoreError.self) { try writer.append(events, by: "test") }
        #expect(try writer.size() == 1)
        try writer.queue.write { try $0.execute(sql: "DROP TRIGGER refuse") }
        let batch = try writer.append(events, by: "test")
        #expect(batch.entries.map(\.seq) == [1, 2, 3, 4, 5])
        #expect(try writer.verify(trust: .firstUse).intact)
    }

    @Test("an exchange is appended once per (platform, source id); a duplicate gets its original receipt")
    func idempotentSources() throws {
        let (writer, _) = try Self.newStore()
        func exchange(_ id: String, _ platform: String = "x") -> EventInput {
            EventInput(
                type: "exchange.recorded",
                data: ["channel": .string("x"), "source": .object(["platform": .string(platform), "id": .string(id)])])
        }
        let first = try writer.append(
            [exchange("1"), exchange("2"), exchange("1"), exchange("1", "linkedin")], by: "t")
        #expect(first.receipts.map(\.seq) == [1, 2, 1, 3])
        #expect(first.receipts.map(\.duplicate) == [false, false, true, false])
        #expect(first.duplicates == [false, false, true, false] && first.receiptCount == 4)
        #expect(first.entries.count == 3)
        let groups = try writer.append([
            LogWriter.Submission(events: [exchange("2"), exchange("4")], by: "a"),
            LogWriter.Submission(events: [exchange("4")], by: "b"),
        ]).map { try $0.get() }
        #expect(groups.map { $0.receipts.map(\.seq) } == [[2, 4], [4]])
        #expect(
            groups[0].receipts[0].proof.encoded == first.receipts[1].proof.encoded,
            "the original receipt, against the original checkpoint")
        #expect(groups[1].receipts[0].duplicate && groups[1].entries.isEmpty)
        #expect(groups.map(\.duplicates) == [[true, false], [true]])
        // Receipts read on several threads at once (as probityd's requests do) prove the same entries.
        let proofs = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let receipts = groups[i % 2].receipts
            proofs.withLock { $0.append(receipts.last!.proof.encoded) }
        }
        #expect(Set(proofs.withLock { $0 }).count == 1)
        let none = try writer.append([exchange("1")], by: "t")
        #expect(none.checkpoint == nil && none.entries.isEmpty && none.receipts[0].seq == 1)
        #expect(try writer.size() == 5)
        #expect(try writer.verify(trust: .firstUse).intact)
    }

    @Test("group commit: a submission naming what the log does not hold is rejected alone; the others commit")
    func rejectedSubmission() throws {
        let (writer, _) = try Self.newStore()
        func party(_ id: String, _ role: String) -> EventInput {
            EventInput(type: "party.registered", data: ["party": .string(id), "role": .string(role)])
        }
        let message = EventInput(
            type: "exchange.recorded",
            data: [
                "channel": .string("email"), "kind": .string("message"), "visibility": .string("direct"),
                "from": .string("s1"),
                "to": .array([.string("agent")]), "occurred_at": .string("2026-03-10T08:00:00Z"),
            ])
        let outcomes = try writer.append([
            LogWriter.Submission(events: [party("agent", "buyer_agent"), party("s1", "supplier_org")], by: "a"),
            LogWriter.Submission(events: [message, party("agent", "buyer_agent")], by: "b"),
            LogWriter.Submission(events: [message], by: "c"),
        ])
        #expect(try outcomes[0].get().receipts.map(\.seq) == [1, 2])
        guard case .failure(let rejection) = outcomes[1] else {
            Issue.record("the second submission re-registers agent"); return
        }
        #expect(
            rejection.index == 1 && rejection.error.field == "data.party"
                && rejection.description.contains("already registered"))
        #expect(
            try outcomes[2].get().receipts.map(\.seq) == [3],
            "refers to parties registered earlier in the same group commit")
        #expect(try writer.size() == 4)
        #expect(
            try writer.checkReferences([party("s1", "supplier_org")])?.error.message.contains("already registered")
                == true)
        #expect(throws: EventRejection.self) { try writer.append([party("agent", "official")], by: "t") }
        #expect(try writer.verify(trust: .firstUse).intact)
    }

    @Test("time is shared by a batch and never goes backwards across batches")
    func time() throws {
        let (writer, _) = try Self.newStore()
        let first = try writer.append(
            [EventInput(type: "x-a", data: [:]), EventInput(type: "x-b", data: [:])], by: "t")
        let second = try writer.append([EventInput(type: "x-c", data: [:])], by: "t")
        let times = try (first.entries + second.entries).map { try EntryHeader(bytes: $0.bytes).time }
        #expect(times[0] == times[1] && times[1] <= times[2])
    }

    @Test("a period's seq range is found by binary search on the log's time, at every boundary")
    func periodRange() throws {
        let (writer, path) = try Self.newStore()
        var times: [Timestamp] = []
        for i in 0..<9 {
            let batch = try writer.append([EventInput(type: "x-tick", data: ["i": .number(Double(i))])], by: "t")
            times.append(try EntryHeader(bytes: batch.entries[0].bytes).time)
            usleep(2_000)
        }
        let reader = try LogReader.open(path: path)
        let size = try reader.size()  // 10: log.created, then ticks 1…9
        let before = Timestamp(microsecondsSinceEpoch: times[0].microseconds - 1)
        let after = Timestamp(microsecondsSinceEpoch: times[8].microseconds + 1)
        #expect(try reader.seqRange(appendedFrom: times[2], to: times[5], below: size) == 3..<6)
        #expect(try reader.seqRange(appendedFrom: before, to: after, below: size) == 1..<10)
        #expect(try reader.seqRange(appendedFrom: times[8], to: after, below: size) == 9..<10)
        #expect(
            try reader.seqRange(
                appendedFrom: after, to: Timestamp(microsecondsSinceEpoch: after.microseconds + 5), below: size
            ).isEmpty)
        #expect(
            try reader.seqRange(appendedFrom: times[2], to: times[5], below: 4) == 3..<4, "nothing at or past the size")
    }

    @Test("timestamps are found through their partial index; a TSA clock behind the log's is flagged")
    func timestampIndexAndClock() throws {
        let (writer, _) = try Self.newStore()
        let plan = try writer.db.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "EXPLAIN QUERY PLAN SELECT seq, bytes FROM entries WHERE type = 'checkpoint.timestamped' AND seq < 10"
            ).map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("entries_timestamps") }, "\(plan)")
        let logged = Timestamp(rfc3339: "2026-03-10T10:00:05Z")!
        #expect(
            TimestampCheck.clockWarning(
                tsaTime: Timestamp(rfc3339: "2026-03-10T10:00:02Z")!, lastEntryTime: logged, lastSeq: 41)?
                .contains("earlier than the log's time of entry 41") == true)
        #expect(
            TimestampCheck.clockWarning(
                tsaTime: Timestamp(rfc3339: "2026-03-10T10:00:05Z")!, lastEntryTime: logged, lastSeq: 41) == nil)
        #expect(
            TimestampCheck.clockWarning(
                tsaTime: Timestamp(rfc3339: "2026-03-10T10:00:04.5Z")!, lastEntryTime: logged, lastSeq: 41) == nil,
            "within a second")
    }

    @Test("stream ids that need escaping or are not ASCII are matched against their data like any other")
    func escapedStreamIDs() throws {
        let (writer, _) = try Self.newStore()
        let batch = try writer.append(
            [
                EventInput(
                    type: "x-note",
                    data: [
                        "procedure": .string("2026\"042\\bis"), "from": .string("fournisseur-é"),
                        "to": .array([.string("tab\there"), .string("fournisseur-é")]),
                    ]),
                EventInput(
                    type: "x-note", data: ["procedure": .string("2026\"042\\bis"), "party": .string("\u{1}ctl")]),
            ], by: "test")
        for entry in batch.entries {
            let header = try EntryHeader(bytes: entry.bytes)
            #expect(header.streamsMatchData, "\(String(decoding: entry.bytes, as: UTF8.self))")
        }
        let second = try EntryHeader(bytes: batch.entries[1].bytes)
        #expect(second.streams.map(\.id) == ["party:\u{1}ctl", "procedure:2026\"042\\bis"])
        #expect(try writer.verify(trust: .firstUse).intact)
    }
}
