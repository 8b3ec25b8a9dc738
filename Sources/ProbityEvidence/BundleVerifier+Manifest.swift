import ProbityLog

// The first stages: the manifest's signature (reading nothing but the manifest, the signature note and
// the key list), then every member against the manifest, then the checkpoint.
extension BundleVerifier {
    func authenticateManifest() throws(BundleVerificationError) -> Authenticated {
        let manifestBytes = try files.read(Names.manifest)
        let manifest = try json(Names.manifest, manifestBytes)
        guard manifest["format"]?.stringValue == EvidenceBundle.format else {
            throw .init("\(Names.manifest): not a \(EvidenceBundle.format) bundle")
        }
        guard files.size(of: Names.manifestSignature) != nil else {
            throw .init("\(Names.manifestSignature) is missing")
        }

        // The key chain and the manifest's signature, before any other file is read.
        let origin = try string(manifest, "origin")
        let keys = try object(manifest, "keys")
        let keysFile = try string(keys, "verifier_keys")
        let chain = try text(keysFile, limit: Self.maxUnauthenticatedFile).split(separator: "\n").map {
            line throws(BundleVerificationError) -> NoteVerifier in
            do { return try NoteVerifier(String(line)) } catch { throw .init("\(Names.verifierKeys): \(error)") }
        }
        guard let signer = chain.last else { throw .init("the bundle carries no verifier key") }
        if let givenKey, !chain.contains(givenKey) {
            throw .init("the bundle's log key is \(signer), not the key given")
        }
        guard signer.name == origin else {
            throw .init("the verifier key is for \(signer.name), not for the bundle's log \(origin)")
        }
        let size = try number(try object(manifest, "checkpoint"), "size")
        let expected = EvidenceBundle.manifestSignatureText(
            origin: origin, treeSize: size, manifestSHA256: SHA256.hash(manifestBytes))
        guard try signedText(Names.manifestSignature, by: [signer], limit: Self.maxUnauthenticatedFile) == expected
        else {
            throw .init("\(Names.manifestSignature) does not sign this manifest")
        }

        return Authenticated(
            manifest: manifest, origin: origin, keys: keys, keysFile: keysFile, chain: chain, size: size)
    }

    /// Every file is listed with its size and SHA-256: nothing removed, nothing added, nothing changed.
    func checkListedFiles(_ bundle: Authenticated) throws(BundleVerificationError) {
        let (manifest, keysFile) = (bundle.manifest, bundle.keysFile)
        var listed: [String: (sha256: String, size: UInt64)] = [:]
        for item in try array(manifest, "files") {
            let name = try string(item, "name")
            guard listed[name] == nil else { throw .init("\(Names.manifest) lists \(name) twice") }
            listed[name] = (try string(item, "sha256"), try number(item, "size"))
        }
        for name in files.names where listed[name] == nil && name != Names.manifest && name != Names.manifestSignature {
            throw .init("\(name) is in the archive but not in the manifest (a file was added)")
        }
        for (name, expected) in listed.sorted(by: { $0.key < $1.key }) {
            guard let stored = files.size(of: name) else {
                throw .init("\(name) is listed in the manifest but missing from the archive")
            }
            guard UInt64(stored) == expected.size, Hex.encode(SHA256.hash(try files.read(name))) == expected.sha256
            else {
                throw .init("\(name) does not match its SHA-256 in the manifest (the file was changed)")
            }
        }
        guard listed[keysFile] != nil else { throw .init("\(keysFile) is not listed in the manifest") }
    }

    /// The checkpoint, signed by the same key.
    func checkCheckpoint(_ bundle: Authenticated) throws(BundleVerificationError) -> TreeHead {
        let (manifest, keys, signer, origin, size) = (
            bundle.manifest, bundle.keys, bundle.signer, bundle.origin, bundle.size
        )
        let pemFile = try string(keys, "public_key")
        guard let pem = try? Ed25519PublicKey(pem: try text(pemFile)), pem == signer.publicKey else {
            throw .init("\(pemFile) is not the key that signs the checkpoint")
        }
        let checkpointFile = try string(try object(manifest, "checkpoint"), "file")
        let checkpointNote = try text(checkpointFile), checkpointBytes = try file(checkpointFile)
        let checkpoint: SignedCheckpoint
        do { checkpoint = try SignedCheckpoint(parsing: checkpointNote) } catch {
            throw .init("\(checkpointFile) is not a checkpoint: \(error)")
        }
        guard checkpoint.isSigned(by: signer) else {
            throw .init("\(checkpointFile) is not signed by \(signer) (the signature does not verify)")
        }
        let root = checkpoint.checkpoint.root
        guard checkpoint.checkpoint.origin == origin, checkpoint.checkpoint.size == size else {
            throw .init(
                "\(checkpointFile) is for \(checkpoint.checkpoint.origin) at size \(checkpoint.checkpoint.size), not what the manifest says"
            )
        }
        return TreeHead(file: checkpointFile, bytes: checkpointBytes, root: root)
    }
}
