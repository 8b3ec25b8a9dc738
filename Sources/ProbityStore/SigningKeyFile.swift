import Foundation
import ProbityDomain
public import ProbityLog

/// Reading the log's private key from disk, refusing a file that group or others may read: a key that
/// others could copy proves nothing about who signed.
public enum SigningKeyFile {
    public static func load(_ path: String) throws -> Ed25519PrivateKey {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw StoreError(.badKey, "cannot read the signing key \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw StoreError(
                .badKey,
                "the signing key \(path) is readable by group or others (mode \(String(info.st_mode & 0o777, radix: 8))); run `chmod 600 \(path)`"
            )
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw StoreError(.badKey, "cannot read the signing key \(path) as UTF-8 text")
        }
        do { return try Ed25519PrivateKey(pem: text) } catch {
            throw StoreError(.badKey, "the signing key \(path) is not an Ed25519 PEM private key: \(error)")
        }
    }
}
