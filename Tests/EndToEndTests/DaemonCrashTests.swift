import Foundation
import ProbityClient
import ProbityDomain
import ProbityHTTP
import ProbityLog
import ProbityStore
import Testing

@testable import ProbityFixtures

/// Nothing acknowledged is ever lost: clients append while the daemon is killed with SIGKILL and
/// restarted; every receipt a client got must be in the log, once.
@Suite("probityd under SIGKILL", .serialized)
struct DaemonCrashTests {
    static let clients = 16
    static let appendsPerClient = 500
    static let rounds = 5

    /// One client: appends its events in order, retrying (idempotently: same source id) whatever fails
    /// while the daemon is down, and records each receipt it got.
    static func runClient(_ index: Int, round: Int, store: DaemonStore, receipts: Locked<[String: (UInt64, String)]>) {
        let client = store.client(timeout: 10)
        var i = 0
        while i < appendsPerClient {
            let id = "r\(round)-c\(index)-\(i)"
            do {
                let response = try client.json("POST", "/v1/events", body: TestEvents.exchange(id))
                guard let receipt = response["receipts"]?.arrayValue?.first, let seq = receipt["seq"]?.uint64Value,
                    let leaf = receipt["leaf_hash"]?.stringValue
                else {
                    Issue.record("malformed receipt for \(id): \(CanonicalJSON.encodeString(response))")
                    return
                }
                receipts.withLock { $0[id] = (seq, leaf) }
                i += 1
            } catch let failure as DaemonClient.APIFailure where failure.status == 503 {
                usleep(20_000)  // shutting down or store unavailable: retry
            } catch {
                client.connection.close()
                usleep(20_000)  // the daemon is down: retry once it is back
            }
        }
    }

    @Test func acknowledgedAppendsSurviveSIGKILL() throws {
        let store = try DaemonStore()
        let receipts = Locked<[String: (UInt64, String)]>([:])
        var generator = SplitMix(seed: UInt64(Date().timeIntervalSince1970))
        var daemon = try DaemonProcess(store: store)
        for round in 0..<Self.rounds {
            let done = Locked(0)
            for index in 0..<Self.clients {
                Thread {
                    Self.runClient(index, round: round, store: store, receipts: receipts)
                    done.withLock { $0 += 1 }
                }.start()
            }
            // Kill at a random moment while the clients are appending, then restart.
            usleep(useconds_t(100_000 + generator.next() % 900_000))
            let acknowledgedBeforeKill = receipts.withLock { $0.count }
            daemon.kill9()
            usleep(100_000)
            daemon = try DaemonProcess(store: store)
            while done.withLock({ $0 }) < Self.clients { usleep(20_000) }
            #expect(
                acknowledgedBeforeKill < (round + 1) * Self.clients * Self.appendsPerClient,
                "round \(round): the kill came after every append was done")
        }
        daemon.terminate()

        let got = receipts.withLock { $0 }
        #expect(got.count == Self.rounds * Self.clients * Self.appendsPerClient)
        let reader = try LogReader.open(path: store.db)
        // Exactly once: one entry per event (plus log.created), never a duplicate.
        #expect(try reader.size() == store.base + UInt64(got.count))
        for (id, (seq, leaf)) in got {
            let entry = try #require(try reader.entry(seq: seq), "\(id): seq \(seq) is missing")
            #expect(Hex.encode(entry.leafHash) == leaf, "\(id): the log's entry \(seq) is not the acknowledged one")
            #expect(
                String(decoding: entry.bytes, as: UTF8.self).contains("\"id\":\"\(id)\""),
                "\(id): seq \(seq) holds another event")
        }
        let verified = try CLI.run(["verify", "--db", store.db, "--vkey", store.vkey.description])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
    }
}
