import Foundation
import ProbityDomain
import ProbityLog
import Testing

@testable import ProbityFixtures
@testable import ProbityImport

func fixture(_ path: String) throws -> [UInt8] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    return Array(try Data(contentsOf: root.appendingPathComponent("Fixtures/imports/\(path)")))
}

@Suite("CSV")
struct CSVTests {
    @Test("quoted fields with commas, doubled quotes and line breaks; CRLF and LF; a byte-order mark; blank lines")
    func rfc4180() throws {
        let text = "\u{FEFF}a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n\n,,\nlast,,end"
        let records = try CSV.parse(Array(text.utf8))
        #expect(
            records.map(\.fields) == [
                ["a", "b", "c"], ["x, y", "say \"hi\"", "two\nlines"], ["", "", ""], ["last", "", "end"],
            ])
        #expect(records.map(\.line) == [1, 2, 5, 6])
    }

    @Test(
        "malformed CSV is refused with the line",
        arguments: [
            ("a,b\n\"open,c\n", "line 2: a quoted field is never closed"),
            ("a,\"b\"c\n", "line 1: text after the closing quote"),
            ("a\rb\n", "line 1: a carriage return"),
        ])
    func malformed(_ text: String, _ message: String) {
        #expect { try CSV.parse(Array(text.utf8)) } throws: { "\($0)".contains(message) }
    }

    @Test func invalidUTF8() {
        #expect { try CSV.parse([0x61, 0xC3, 0x28]) } throws: { "\($0)".contains("not valid UTF-8") }
    }
}

@Suite("LinkedIn messages.csv")
struct LinkedInTests {
    @Test("the current export: accents, multi-line content, comma-joined recipients, LinkedIn Member, attachments")
    func currentExport() throws {
        let result = try LinkedInMessages.read(try fixture("linkedin/messages.csv"))
        #expect(result.messages.count == 5)
        let first = result.messages[0]
        #expect(first.from == .init(name: "Jean Martin", id: "https://www.linkedin.com/in/jean-martin-voirie"))
        #expect(first.to == [.init(name: "Claire Durand", id: "https://www.linkedin.com/in/claire-durand-achats")])
        #expect(first.occurredAt == "2026-01-12T08:41:07Z" && first.subject == "Rénovation de la voirie — sourcing")
        #expect(first.text.contains("« voirie 2026 »") && first.text.contains("\n") && first.position == 2)
        #expect(result.messages[1].text == "Merci. Pouvez-vous m'envoyer vos références \"enrobés à froid\" ?")
        let group = result.messages[2]
        #expect(group.to.map(\.name) == ["Jean Martin", "Sophie Bernard"])
        #expect(
            group.to.map(\.id) == [
                "https://www.linkedin.com/in/jean-martin-voirie", "https://www.linkedin.com/in/sophie-bernard-bitume",
            ])
        let member = result.messages[3]
        #expect(member.from == .init(name: "LinkedIn Member", id: nil), "a hidden sender has no profile URL")
        let attachment = result.messages[4]
        #expect(attachment.text.isEmpty && attachment.raw["ATTACHMENTS"]?.stringValue?.hasSuffix(".pdf") == true)
        #expect(
            result.rejections == [
                ImportRejection(
                    position: 11, reason: "DATE \"22/01/2026 10:00\" is not a date like 2026-03-02 09:14:33 UTC")
            ])
        // Stable ids: the same file gives the same ids; different messages, different ids.
        #expect(
            try LinkedInMessages.read(try fixture("linkedin/messages.csv")).messages.map(\.sourceID)
                == result.messages.map(\.sourceID))
        #expect(Set(result.messages.map(\.sourceID)).count == 5)
    }

    @Test("an older export without RECIPIENT PROFILE URLS")
    func olderExport() throws {
        let result = try LinkedInMessages.read(try fixture("linkedin/messages-2019.csv"))
        #expect(result.messages.count == 2)
        #expect(result.messages[0].to == [.init(name: "Claire Durand", id: nil)])
        #expect(result.messages[1].occurredAt == "2019-05-14T09:30:47Z")
        #expect(result.rejections == [ImportRejection(position: 4, reason: "10 fields where the header has 9")])
    }

    @Test("a file that is not messages.csv is refused as a whole")
    func notLinkedIn() {
        #expect { try LinkedInMessages.read(Array("name,email\nA,a@b.fr\n".utf8)) } throws: {
            "\($0)".contains("no CONVERSATION ID, FROM, DATE, CONTENT column")
        }
        #expect { try LinkedInMessages.read([]) } throws: { "\($0)".contains("empty") }
    }
}

@Suite("X archive direct-messages.js")
struct XArchiveTests {
    @Test("the window.YTD prefix, conversations, reactions and joins skipped, a bad date rejected")
    func archive() throws {
        let result = try XDirectMessages.read(try fixture("x/direct-messages.js"))
        #expect(
            result.messages.map(\.sourceID) == ["1899012345678901234", "1899015555678901234", "1902100000000000000"])
        let question = result.messages[0]
        #expect(question.from.id == "1510000000000000001" && question.to.map(\.id) == ["1620000000000000002"])
        #expect(
            question.conversation == "1510000000000000001-1620000000000000002"
                && question.occurredAt == "2026-03-10T08:14:00.000Z")
        #expect(question.raw["text"]?.stringValue == question.text, "the original record is kept whole")
        #expect(
            result.rejections == [
                ImportRejection(position: 3, reason: "message 1899016666678901234: createdAt is not an RFC 3339 time")
            ])
        #expect(result.messages[2].position == 4)
    }

    @Test("other files are refused with what was expected")
    func notAnArchive() {
        #expect { try XDirectMessages.read(Array("hello".utf8)) } throws: { "\($0)".contains("no JSON array") }
        #expect { try XDirectMessages.read(Array("var x = [1]".utf8)) } throws: { "\($0)".contains("not window.YTD") }
        #expect { try XDirectMessages.read(Array("window.YTD.direct_messages.part0 = [ {\"a\": }]".utf8)) } throws: {
            "\($0)".contains("invalid JSON")
        }
    }
}

@Suite("ActivityStreams outbox")
struct ActivityStreamsTests {
    @Test("Mastodon's outbox: visibility from to/cc, mentions, HTML to text, boosts skipped, an undated note rejected")
    func outbox() throws {
        let result = try ActivityStreamsOutbox.read(try fixture("activitystreams/outbox.json"))
        #expect(result.messages.map(\.visibility) == ["public", "unlisted", "restricted", "direct"])
        let first = result.messages[0]
        #expect(
            first.text
                == "Consultation publiée : rénovation de la voirie, lots 1 & 2. Questions jusqu'au 20 mars sur le profil acheteur.\nachats.ville-exemple.fr/2026-042"
        )
        #expect(first.from.id == "https://social.ville-exemple.fr/users/achats" && first.to.isEmpty)
        #expect(first.sourceID == "https://social.ville-exemple.fr/users/achats/statuses/112000000000000001")
        #expect(
            result.messages[1].to == [
                .init(name: "@voiriesud@mastodon.social", id: "https://mastodon.social/users/voiriesud")
            ])
        #expect(result.messages[1].subject == nil, "an empty content warning is no subject")
        #expect(
            result.messages[2].text == "Réunion d'information des entreprises le 12 mars.\nInscription obligatoire.")
        #expect(result.messages[3].text == "@voiriesud Oui, l'offre variante est autorisée pour le lot 2.")
        #expect(
            result.rejections == [
                ImportRejection(
                    position: 6,
                    reason:
                        "https://social.ville-exemple.fr/users/achats/statuses/112000000000000006: published is missing or not an RFC 3339 time"
                )
            ])
    }

    @Test func notAnOutbox() {
        #expect { try ActivityStreamsOutbox.read(Array("{\"type\":\"Person\"}".utf8)) } throws: {
            "\($0)".contains("no orderedItems")
        }
    }
}

@Suite("e-mail: .eml and mbox")
struct EmailTests {
    @Test("multipart with an attachment, quoted-printable, encoded words (Latin-1 and UTF-8, folded), the thread")
    func eml() throws {
        let result = try Email.readMessage(try fixture("email/question-lot2.eml"))
        let message = try #require(result.messages.first)
        #expect(message.sourceID == "<CAF2x9k+3aZ@mail.voirie-sud.fr>")
        #expect(message.from == .init(name: "Jérôme Martin", id: "contact.martin@voirie-sud.fr"))
        #expect(
            message.to == [
                .init(name: "Durand, Claire", id: "claire.durand@ville-exemple.fr"),
                .init(name: nil, id: "marches@ville-exemple.fr"),
            ])
        #expect(message.subject == "Question sur le lot 2 — signalisation horizontale")
        #expect(message.occurredAt == "2026-03-10T08:14:00Z")
        #expect(message.conversation == "<2026-042-avis@ville-exemple.fr>")
        #expect(message.text.hasPrefix("Bonjour Madame Durand,"))
        #expect(
            message.text.contains(
                "L'article 3.4 du CCTP n'est pas clair. Nous joignons notre mémoire technique provisoire."),
            "soft line breaks joined")
        #expect(message.text.hasSuffix("Jérôme Martin"))
        let attachment = try #require(message.raw["attachments"]?.arrayValue?.first)
        #expect(
            attachment["filename"]?.stringValue == "mémoire-technique.pdf"
                && attachment["media_type"]?.stringValue == "application/pdf")
        let pdf = Array("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".utf8)
        #expect(
            attachment["size"]?.uint64Value == UInt64(pdf.count)
                && attachment["sha256"]?.stringValue == Hex.encode(SHA256.hash(pdf)))
    }

    @Test(
        "mbox: separators, >From unescaped, Latin-1 bodies, dates without seconds or day name, a message without Date rejected"
    )
    func mbox() throws {
        let result = try Email.readMailbox(try fixture("email/procedure-2026-042.mbox"))
        #expect(
            result.messages.map(\.sourceID) == ["<reponse-lot2@ville-exemple.fr>", "<rappel-visite@ville-exemple.fr>"])
        let answer = result.messages[0]
        #expect(
            answer.text
                == "Oui, la signalisation horizontale est incluse au lot 2.\nFrom the CCTP, article 3.4: « marquage au sol »."
        )
        #expect(
            answer.occurredAt == "2026-03-11T09:47:00Z" && answer.conversation == "<2026-042-avis@ville-exemple.fr>")
        #expect(answer.to == [.init(name: "Jérôme Martin", id: "contact.martin@voirie-sud.fr")])
        let visit = result.messages[1]
        #expect(visit.text == "La visite de site aura lieu le 16 mars à 9 h. Présence recommandée.")
        #expect(visit.occurredAt == "2026-03-13T15:00:00Z" && visit.to.count == 2 && visit.from.name == nil)
        #expect(
            result.rejections == [ImportRejection(position: 3, reason: "Date \"\" is missing or not an RFC 5322 date")])
    }

    @Test(
        "RFC 5322 dates",
        arguments: [
            ("Tue, 10 Mar 2026 09:14:00 +0100", "2026-03-10T08:14:00Z"),
            ("1 Jan 2026 00:30:00 +0200", "2025-12-31T22:30:00Z"),
            ("Mon, 2 Feb 2026 23:59 -0500", "2026-02-03T04:59:00Z"),
            ("Wed, 11 Mar 2026 10:47:00 GMT", "2026-03-11T10:47:00Z"),
        ])
    func dates(_ text: String, _ utc: String) {
        #expect(Email.utcDate(text) == utc)
    }

    @Test func notEmail() {
        #expect { try Email.readMailbox(Array("Subject: x\n\nbody".utf8)) } throws: {
            "\($0)".contains("must start with a \"From \"")
        }
        #expect { try Email.readMessage(Array("just text".utf8)) } throws: { "\($0)".contains("not an e-mail message") }
    }
}

@Suite("e-mail limits")
struct EmailLimitTests {
    /// `levels` multipart parts, each inside the previous one, around one text part.
    static func nested(_ levels: Int) -> [UInt8] {
        var message =
            "From: a <a@example.org>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0100\r\nContent-Type: multipart/mixed; boundary=\"b0x\"\r\n\r\n"
        for level in 0..<levels {
            message += "--b\(level)x\r\nContent-Type: multipart/mixed; boundary=\"b\(level + 1)x\"\r\n\r\n"
        }
        message += "--b\(levels)x\r\nContent-Type: text/plain\r\n\r\nbonjour\r\n"
        for level in stride(from: levels, through: 0, by: -1) { message += "--b\(level)x--\r\n" }
        return Array(message.utf8)
    }

    @Test("nested multipart is read to 32 levels; deeper is refused with a reason, not a crash")
    func nesting() throws {
        let shallow = try Email.readMessage(Self.nested(20))
        #expect(shallow.messages.first?.text == "bonjour")
        for levels in [40, 5_000] {
            #expect(throws: ImportFormatError.self) { try Email.readMessage(Self.nested(levels)) }
            do { _ = try Email.readMessage(Self.nested(levels)) } catch {
                #expect(error.message.contains("nested deeper than 32"), "\(error)")
            }
            // In a mailbox, that message alone is a rejection.
            let mailbox = try Email.readMailbox(
                Array("From a@example.org Mon Mar  2 10:00:00 2026\n".utf8) + Self.nested(levels))
            #expect(
                mailbox.messages.isEmpty && mailbox.rejections.first?.reason.contains("nested deeper than 32") == true,
                "\(levels)")
        }
    }
}

@Suite("Import plans")
struct ImportPlanTests {
    /// `count` LinkedIn messages among 40 accounts, two of them mapped (one a buyer); the others are met
    /// for the first time all along the file, so that registrations fall between exchanges.
    static func messages(_ count: Int) -> ImportResult {
        func account(_ k: Int) -> ImportedMessage.Account {
            .init(name: "Person \(k)", id: "https://www.linkedin.com/in/person-\(k)")
        }
        var result = ImportResult()
        for i in 0..<count {
            let sender = i % 7 == 0 ? 0 : (i * 13) % 40
            result.messages.append(
                ImportedMessage(
                    platform: "linkedin", sourceID: "m-\(i)", conversation: "c-\(i % 9)", from: account(sender),
                    to: [account(sender == 0 ? 1 + i % 39 : 0)], occurredAt: "2026-03-01T10:00:00Z", subject: nil,
                    text: "Message \(i) « lot \(i % 5) »", position: i + 2, raw: ["n": .number(Double(i))]))
        }
        return result
    }

    @Test("a large plan built on every core equals the same messages planned in small pieces, in order")
    func parallelPlanMatchesSequential() throws {
        var mapping = PartyMapping()
        mapping.accounts["linkedin:https://www.linkedin.com/in/person-0"] = "agent-durand"
        mapping.accounts["linkedin:https://www.linkedin.com/in/person-1"] = "contact-martin"
        mapping.buyers = ["agent-durand"]
        let all = Self.messages(3_000)
        let whole = try ImportMapper.plan(
            all, procedure: "2026-042", mapping: mapping, register: "supplier_contact",
            capturedAt: "2026-03-29T08:00:00Z")
        // Pieces of 300 messages take the one-thread path; parties registered by an earlier piece count as
        // registered, as an earlier import's would.
        var events: [EventInput] = [], positions: [Int?] = [], registered: Set<String> = []
        for start in stride(from: 0, to: all.messages.count, by: 300) {
            let piece = ImportResult(messages: Array(all.messages[start..<(start + 300)]))
            let plan = try ImportMapper.plan(
                piece, procedure: "2026-042", mapping: mapping, register: "supplier_contact",
                capturedAt: "2026-03-29T08:00:00Z", isRegistered: { registered.contains($0) })
            for (event, position) in zip(plan.events, plan.positions) where position == nil {
                registered.insert(try #require(event.data["party"]?.stringValue))
            }
            events += plan.events
            positions += plan.positions
        }
        #expect(whole.events.count == 3_000 + 38)
        #expect(whole.positions == positions)
        #expect(whole.events == events)
        // Each registration comes before the first exchange that names its party.
        var seen: Set<String> = ["agent-durand", "contact-martin"]
        for event in whole.events {
            if event.type == DomainEventType.partyRegistered { seen.insert(event.data["party"]!.stringValue!) }
            for party in [event.data["from"]?.stringValue].compactMap({ $0 }) { #expect(seen.contains(party)) }
        }
    }
}
