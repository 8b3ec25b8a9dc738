import COpenSSL

/// RFC 3161 time-stamp tokens through OpenSSL's TS API: the request Probity sends a Time Stamping
/// Authority for a checkpoint's SHA-256, and the checks of the token it gets back. No I/O: the caller
/// sends the request and reads the CA certificates.
public enum TrustedTimestamp {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let message: String
        public var description: String { message }
        init(_ message: String) { self.message = message }
    }

    /// What a token says: the time the TSA vouches for, the digest it stamped, and who signed it.
    public struct Token: Sendable, Equatable {
        /// The DER of the token (a CMS SignedData, as in the response's `timeStampToken`).
        public let der: [UInt8]
        /// The TSA's time in RFC 3339, from its GeneralizedTime (`20261130034512Z` → `2026-11-30T03:45:12Z`).
        public let genTime: String
        public let imprint: [UInt8]
        public let nonce: UInt64?
        /// The subject of the signing certificate, e.g. `/CN=Test TSA`.
        public let signer: String
    }

    /// A DER TimeStampReq for a SHA-256 `digest`, with `nonce`, asking for the TSA's certificate.
    public static func request(sha256 digest: [UInt8], nonce: UInt64) throws(Failure) -> [UInt8] {
        guard digest.count == 32 else { throw Failure("a SHA-256 digest is 32 bytes") }
        guard let request = TS_REQ_new(), let imprint = TS_MSG_IMPRINT_new(), let algorithm = X509_ALGOR_new(),
            let asn1Nonce = ASN1_INTEGER_new()
        else {
            throw Failure("cannot allocate a time-stamp request: \(openSSLErrorString())")
        }
        defer {
            TS_REQ_free(request); TS_MSG_IMPRINT_free(imprint); X509_ALGOR_free(algorithm); ASN1_INTEGER_free(asn1Nonce)
        }
        var digest = digest
        guard X509_ALGOR_set0(algorithm, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nil) == 1,
            TS_MSG_IMPRINT_set_algo(imprint, algorithm) == 1,
            TS_MSG_IMPRINT_set_msg(imprint, &digest, 32) == 1,
            TS_REQ_set_version(request, 1) == 1,
            TS_REQ_set_msg_imprint(request, imprint) == 1,
            ASN1_INTEGER_set_uint64(asn1Nonce, nonce) == 1,
            TS_REQ_set_nonce(request, asn1Nonce) == 1,
            TS_REQ_set_cert_req(request, 1) == 1
        else { throw Failure("cannot build a time-stamp request: \(openSSLErrorString())") }
        return try encode { i2d_TS_REQ(request, $0) }
    }

    /// The token of a DER TimeStampResp, if the TSA granted the request.
    public static func token(fromResponse der: [UInt8]) throws(Failure) -> Token {
        let response: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var pointer: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_TS_RESP(nil, &pointer, buffer.count)
        }
        guard let response else { throw Failure("the TSA's reply is not a DER TimeStampResp (RFC 3161)") }
        defer { TS_RESP_free(response) }
        let status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(response)))
        guard status == 0 || status == 1 else {
            let names = [
                "granted", "grantedWithMods", "rejection", "waiting", "revocationWarning", "revocationNotification",
            ]
            throw Failure(
                "the TSA refused the request (status \(status < names.count && status >= 0 ? names[status] : String(status)))"
            )
        }
        guard let token = TS_RESP_get_token(response) else { throw Failure("the TSA's reply carries no token") }
        return try parse(tokenDER: try encode { i2d_PKCS7(token, $0) })
    }

    /// Reads a token's time, imprint, nonce and signer.
    public static func parse(tokenDER der: [UInt8]) throws(Failure) -> Token {
        let token = try pkcs7(der)
        defer { PKCS7_free(token) }
        guard let info = PKCS7_to_TS_TST_INFO(token) else {
            throw Failure("the token is not an RFC 3161 time-stamp token: \(openSSLErrorString())")
        }
        defer { TS_TST_INFO_free(info) }
        let time = rfc3339(generalizedTime: asn1String(TS_TST_INFO_get_time(info)))
        let imprint = asn1Bytes(UnsafePointer(TS_MSG_IMPRINT_get_msg(TS_TST_INFO_get_msg_imprint(info))))
        var nonce: UInt64?
        if let asn1 = TS_TST_INFO_get_nonce(info) {
            var value: UInt64 = 0
            if ASN1_INTEGER_get_uint64(&value, asn1) == 1 { nonce = value }
        }
        var signer = "unknown signer"
        if let signers = PKCS7_get0_signers(token, nil, 0) {
            if probity_sk_X509_num(signers) > 0, let certificate = probity_sk_X509_value(signers, 0),
                let name = X509_NAME_oneline(X509_get_subject_name(certificate), nil, 0)
            {
                signer = String(cString: name)
                probity_openssl_free(name)
            }
            probity_sk_X509_free(signers)
        }
        ERR_clear_error()
        return Token(der: der, genTime: time, imprint: imprint, nonce: nonce, signer: signer)
    }

    /// Checks that the token stamps `digest` (and `nonce`, if given) and is validly signed. With `caPEM`
    /// (one or more PEM certificates), the signer's certificate must chain to them and carry the critical
    /// `timeStamping` extended key usage; without, only the signature with the token's own certificate is
    /// checked, which proves integrity but not who the TSA is.
    public static func verify(
        tokenDER der: [UInt8], sha256 digest: [UInt8], nonce: UInt64? = nil, caPEM: String?
    ) throws(Failure) {
        let token = try pkcs7(der)
        defer { PKCS7_free(token) }
        guard let context = TS_VERIFY_CTX_new() else { throw Failure("cannot allocate a verification context") }
        defer { TS_VERIFY_CTX_free(context) }
        var flags = Int32(bitPattern: TS_VFY_VERSION | TS_VFY_IMPRINT)
        if let caPEM {
            flags |= Int32(bitPattern: TS_VFY_SIGNATURE)
            guard let store = X509_STORE_new() else { throw Failure("cannot allocate a certificate store") }
            TS_VERIFY_CTX_set_store(context, store)  // the context owns the store from here
            var count = 0
            let loaded = withMemoryBIO(caPEM) { bio -> Bool in
                while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
                    defer { X509_free(certificate) }
                    guard X509_STORE_add_cert(store, certificate) == 1 else { return false }
                    count += 1
                }
                return true
            }
            ERR_clear_error()  // the loop ends on "no start line"
            guard loaded, count > 0 else { throw Failure("the CA file holds no PEM certificate") }
        }
        _ = TS_VERIFY_CTX_set_flags(context, flags)
        guard let imprint = probity_openssl_copy(digest, digest.count) else { throw Failure("out of memory") }
        TS_VERIFY_CTX_set_imprint(context, imprint, Int(digest.count))  // owned by the context
        // OpenSSL 3.0 sets a context's nonce only from a request object; the nonce is compared below.
        if let nonce, try parse(tokenDER: der).nonce != nonce {
            throw Failure("the time-stamp token does not carry the request's nonce (a replayed reply?)")
        }
        guard TS_RESP_verify_token(context, token) == 1 else {
            throw Failure("the time-stamp token does not verify: \(openSSLErrorString())")
        }
        if caPEM == nil {
            guard PKCS7_verify(token, nil, nil, nil, nil, Int32(PKCS7_NOVERIFY)) == 1 else {
                throw Failure("the time-stamp token's signature does not verify: \(openSSLErrorString())")
            }
        }
        ERR_clear_error()
    }

    /// `YYYYMMDDhhmmss[.fff]Z` as `YYYY-MM-DDThh:mm:ss[.fff]Z`; anything else is returned as it is.
    static func rfc3339(generalizedTime t: String) -> String {
        let c = Array(t)
        guard c.count >= 15, c.last == "Z", c[0..<14].allSatisfy(\.isNumber) else { return t }
        func s(_ part: ArraySlice<Character>) -> String { String(part) }
        return s(c[0..<4]) + "-" + s(c[4..<6]) + "-" + s(c[6..<8]) + "T" + s(c[8..<10]) + ":" + s(c[10..<12]) + ":"
            + s(c[12..<14]) + s(c[14...])
    }

    static func pkcs7(_ der: [UInt8]) throws(Failure) -> UnsafeMutablePointer<PKCS7> {
        let token: UnsafeMutablePointer<PKCS7>? = der.withUnsafeBufferPointer { buffer in
            var pointer: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_PKCS7(nil, &pointer, buffer.count)
        }
        guard let token else { throw Failure("the token is not DER CMS (PKCS #7)") }
        return token
    }

    static func encode(
        _ body: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32
    ) throws(Failure) -> [UInt8] {
        let length = body(nil)
        guard length > 0 else { throw Failure("cannot encode DER: \(openSSLErrorString())") }
        var out = [UInt8](repeating: 0, count: Int(length))
        out.withUnsafeMutableBufferPointer { buffer in
            var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            _ = body(&pointer)
        }
        return out
    }

    static func asn1Bytes(_ string: UnsafePointer<ASN1_STRING>?) -> [UInt8] {
        guard let string, let data = ASN1_STRING_get0_data(string) else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(string))))
    }

    static func asn1String(_ string: UnsafePointer<ASN1_STRING>?) -> String {
        String(decoding: asn1Bytes(string), as: UTF8.self)
    }
}
