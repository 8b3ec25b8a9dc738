import ArgumentParser
import Foundation
import ProbityDomain
import ProbityEvidence
import ProbityLog

struct VerifyBundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-bundle",
        abstract: "Check an evidence bundle offline and print what it proves.",
        discussion: """
            Needs no store. Checks every file against the manifest and the manifest's signature, every entry \
            (canonical bytes, inclusion proof against the bundle's signed checkpoint), every payload against its \
            commitment, the redactions, the key chain, the consistency proof, the RFC 3161 timestamp dating the \
            entries (its chain against --tsa-ca when given), and completeness: the stream chains \
            closed by signed stream heads, or a period's contiguous range. Any change to the bundle (an entry, a \
            payload, a proof, the checkpoint, a file removed or added) makes it fail, naming what is wrong.

            Give the log's verifier key obtained out of band with --vkey; without it the bundle is checked against \
            the key it carries, which proves integrity but not who signed it. The bundle's 10_verify_bundle.py \
            performs the same checks with Python and openssl alone.

            Exit codes: 0 verified, 1 the bundle does not verify, 2 usage or I/O error.

            Example:
              probity verify-bundle 2026-057.zip --vkey "$(cat var/log.vkey)"
            """
    )
    @Argument(help: ArgumentHelp("The bundle (.zip).", valueName: "FILE")) var bundle: String
    @Option(help: ArgumentHelp("The log's verifier key, obtained out of band.", valueName: "KEY")) var vkey: String?
    @Option(
        help: ArgumentHelp(
            "PEM certificates of the CA that RFC 3161 timestamp tokens must chain to.", valueName: "FILE")) var tsaCa:
        String?
    @OptionGroup var witnessOptions: WitnessOptions
    @OptionGroup var output: JSONFlag

    func run() throws {
        guard FileManager.default.isReadableFile(atPath: bundle) else { throw CLIError.usage("cannot read \(bundle)") }
        let caPEM = try tsaCa.map { try readText($0, what: "the TSA CA file") }
        let outcome: Result<[String], BundleVerificationError>
        let mapped = try mapFile(bundle)
        let witnesses = try witnessOptions.rule()
        do throws(BundleVerificationError) {
            var verifier = try BundleVerifier(
                files: try BundleFiles(archive: mapped.bytes, owner: mapped), vkey: vkey, tsaCA: caPEM)
            verifier.witnesses = witnesses
            outcome = Result { () throws(BundleVerificationError) in try verifier.verify() }
        } catch let error where error.message.hasPrefix("--vkey") {
            throw CLIError.usage(error.message)
        } catch {
            outcome = .failure(error)
        }
        switch outcome {
        case .success(let proven):
            if output.json {
                Output.json(
                    .object([
                        "verified": .bool(true), "bundle": .string(bundle),
                        "proven": .array(proven.map { .string($0) }),
                        "key_given": .bool(vkey != nil),
                    ]))
            } else {
                Output.line("VERIFIED: \(bundle)")
                for line in proven { Output.line("  - " + line) }
                if vkey == nil {
                    Output.line(
                        "  (checked against the key in the bundle; give --vkey with the key obtained out of band to know who signed it)"
                    )
                }
            }
        case .failure(let error):
            if output.json {
                Output.json(
                    .object(["verified": .bool(false), "bundle": .string(bundle), "error": .string(error.message)]))
            } else {
                Output.line("NOT VERIFIED: \(error.message)")
            }
            throw ExitCode(1)
        }
    }

    func mapFile(_ path: String) throws -> MappedFile {
        do { return try MappedFile(path: path) } catch { throw CLIError.usage("cannot read \(path): \(error)") }
    }
}

/// A file mapped read-only: its bytes are paged in as they are read, so a bundle of any size costs
/// only what the verifier holds of it at once.
final class MappedFile {
    struct Failure: Error, CustomStringConvertible { let description: String }

    let bytes: UnsafeRawBufferPointer

    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: String(cString: strerror(errno))) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            throw Failure(description: "not a regular file")
        }
        let size = Int(status.st_size)
        guard size > 0 else { bytes = UnsafeRawBufferPointer(start: nil, count: 0); return }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw Failure(description: String(cString: strerror(errno)))
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
