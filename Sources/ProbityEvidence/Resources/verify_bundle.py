#!/usr/bin/env python3
"""Check a Probity evidence bundle without Probity: Python 3's standard library and the openssl CLI.

Usage: python3 10_verify_bundle.py BUNDLE.zip [--vkey KEY] [--tsa-ca CA.pem] [--witness WKEY ...] [--quorum K]

KEY is the log's verifier key (name+keyid+base64), obtained out of band. Without it, the bundle is
checked against the key it carries, which proves integrity but not who signed it. CA.pem holds the
certificates the RFC 3161 timestamp authority's certificate must chain to. WKEY is a witness's
cosignature/v1 key (repeat --witness for each); the checkpoint must carry valid cosignatures of K of
them (default: all).
Exit status: 0 verified, 1 the bundle does not verify, 2 usage error.
"""
import base64, binascii, datetime, hashlib, json, math, mmap, os, re, struct, subprocess, sys, tempfile, unicodedata, zlib

FORMAT = "probity-bundle/v1"
MANIFEST, MANIFEST_SIG = "01_manifest.json", "02_manifest_signature.txt"
ZERO = bytes(32)


class Failure(Exception):
    pass


def fail(message):
    raise Failure(message)


def sha256(data):
    return hashlib.sha256(data).digest()


def node(left, right):
    return sha256(b"\x01" + left + right)


# RFC 8785 (JCS) serialisation, to check that entry bytes are canonical.
def jcs(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        # JSON numbers are IEEE 754 doubles (RFC 8785): an integer past 2^53 is the double nearest to it.
        return str(value) if abs(value) < 2 ** 53 else es_number(to_double(value))
    if isinstance(value, float):
        return es_number(value)
    if isinstance(value, str):
        out = ['"']
        for ch in value:
            code = ord(ch)
            if ch == '"':
                out.append('\\"')
            elif ch == "\\":
                out.append("\\\\")
            elif ch in "\b\f\n\r\t":
                out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
            elif code < 0x20:
                out.append("\\u%04x" % code)
            else:
                out.append(ch)
        out.append('"')
        return "".join(out)
    if isinstance(value, list):
        return "[" + ",".join(jcs(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(jcs(k) + ":" + jcs(value[k]) for k in keys) + "}"
    fail("unexpected JSON value")


def to_double(value):
    try:
        number = float(value)
    except OverflowError:
        fail("the number %s is out of the IEEE 754 double range" % value)
    if not math.isfinite(number):
        fail("a number is not finite")
    return number


def es_number(value):
    """ECMAScript Number::toString of a finite double (RFC 8785 section 3.2.2.3)."""
    value = to_double(value)
    if value == 0:
        return "0"
    if value < 0:
        return "-" + es_number(-value)
    if value < 2 ** 53 and value == int(value):
        return str(int(value))
    mantissa, _, exponent = repr(value).partition("e")  # repr gives the shortest round-tripping digits
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    n = len(whole) + int(exponent or 0) - (len(whole + fraction) - len((whole + fraction).lstrip("0")))
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    e = n - 1
    return digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e > 0 else "-") + str(abs(e))


def no_duplicates(pairs):
    # Keys equal once normalised (NFC) are duplicates: Swift compares strings by canonical equivalence,
    # and both verifiers must refuse the same objects.
    result, seen = {}, set()
    for key, value in pairs:
        if unicodedata.normalize("NFC", key) in seen:
            fail("duplicate JSON member %r" % key)
        seen.add(unicodedata.normalize("NFC", key))
        result[key] = value
    return result


def refuse_constant(name):
    fail("%s is not JSON" % name)


MAX_DEPTH = 128


def check_json_value(value, depth=1):
    """What Probity's parser refuses beyond Python's: nesting past 128 levels, lone surrogates, numbers out
    of the double range."""
    stack = [(value, depth)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            if level > MAX_DEPTH:
                fail("nesting deeper than %d levels" % MAX_DEPTH)
            children = list(item.items()) if isinstance(item, dict) else [(None, v) for v in item]
            for key, child in children:
                if key is not None:
                    stack.append((key, level))
                stack.append((child, level + 1))
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                fail("a string holds a lone surrogate")
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            to_double(item)


def parse_json(data, what):
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=no_duplicates, parse_constant=refuse_constant)
        check_json_value(value)
        return value
    except Failure as e:
        fail("%s: %s" % (what, e))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        fail("%s is not valid JSON: %s" % (what, e))


def b64(text, what):
    """Strict base64, as Probity writes it: padded, canonical (re-encoding gives the same text)."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        fail("%s is not base64" % what)
    if base64.b64encode(raw).decode("ascii") != text:
        fail("%s is not canonical base64" % what)
    return raw


def hex_bytes(text, what):
    if not isinstance(text, str) or not re.fullmatch("(?:[0-9a-f]{2})*", text):
        fail("%s is not lowercase hex" % what)
    return bytes.fromhex(text)


# Identifiers (party and procedure ids, and so stream names): NFC, no spaces, control or formatting
# characters, no "@", 1 to 100 characters — the rule Probity's writer and Swift verifier apply.
def valid_identifier(text):
    if not isinstance(text, str) or not 1 <= len(text) <= 100 or "@" in text:
        return False
    if any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp", "Zs") or c.isspace() for c in text):
        return False
    return unicodedata.is_normalized("NFC", text)


def valid_stream(text):
    for prefix in ("procedure:", "party:"):
        if isinstance(text, str) and text.startswith(prefix):
            return valid_identifier(text[len(prefix):])
    return False


# Keys and signed notes (C2SP signed-note, Ed25519), checked with `openssl pkeyutl -verify -rawin`.
SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


class Key:
    def __init__(self, vkey):
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            fail("verifier key %r is not <name>+<keyid>+<key>" % vkey)
        self.name, keyid, encoded = parts
        raw = b64(encoded, "verifier key %r" % vkey)
        if len(keyid) != 8 or not re.fullmatch("[0-9a-f]{8}", keyid) or not self.name or any(c.isspace() or ord(c) < 0x20 for c in self.name):
            fail("verifier key %r is not <name>+<8 hex digits>+<key>" % vkey)
        if len(raw) != 33 or raw[0] != 1:
            fail("verifier key %r is not an Ed25519 key" % vkey)
        self.public = raw[1:]
        self.key_id = sha256(self.name.encode() + b"\n\x01" + self.public)[:4]
        if self.key_id.hex() != keyid:
            fail("verifier key %r: the key ID does not match the name and key" % vkey)
        self.text = vkey.strip()
        self.pem = "-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n" % base64.b64encode(SPKI_PREFIX + self.public).decode()

    def verifies(self, note_text, signature):
        return ed25519_verifies(self.pem, note_text.encode(), signature)


def ed25519_verifies(pem, message, signature):
    with tempfile.TemporaryDirectory() as d:
        paths = {name: os.path.join(d, name) for name in ("key.pem", "msg", "sig")}
        for name, data in (("key.pem", pem.encode()), ("msg", message), ("sig", signature)):
            with open(paths[name], "wb") as f:
                f.write(data)
        run = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", paths["key.pem"], "-rawin",
                              "-in", paths["msg"], "-sigfile", paths["sig"]], capture_output=True)
        return run.returncode == 0


class WitnessKey:
    """A witness's cosignature/v1 key (C2SP tlog-cosignature): <name>+<keyid>+base64(0x04 || key)."""

    def __init__(self, vkey):
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            fail("witness key %r is not <name>+<keyid>+<key>" % vkey)
        self.name, keyid, encoded = parts
        raw = b64(encoded, "witness key %r" % vkey)
        if len(raw) != 33 or raw[0] != 4 or not re.fullmatch("[0-9a-f]{8}", keyid):
            fail("witness key %r is not a cosignature/v1 key (type 0x04, 32-byte Ed25519 key)" % vkey)
        self.key_id = sha256(self.name.encode() + b"\n\x04" + raw[1:])[:4]
        if self.key_id.hex() != keyid:
            fail("witness key %r: the key ID does not match the name and key" % vkey)
        self.pem = "-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n" % base64.b64encode(SPKI_PREFIX + raw[1:]).decode()

    def cosigned_at(self, text, signatures):
        """The time of this witness's valid cosignature among a note's signature lines, or None."""
        for name, key_id, signature in signatures:
            if name == self.name and key_id == self.key_id:
                if len(signature) != 72:
                    return None
                time = int.from_bytes(signature[:8], "big")
                message = ("cosignature/v1\ntime %d\n" % time + text).encode()
                return time if time < 2 ** 63 and ed25519_verifies(self.pem, message, signature[8:]) else None
        return None


MAX_SIGNATURES = 100


def parse_note(data, what):
    """Splits a signed note into its text and its (name, key ID, signature) lines, as Probity's and Go's
    parsers do: at most 1 MiB, no control character but newline, 1 to 100 signature lines."""
    if len(data) > 1 << 20:
        fail("%s: the note is larger than 1 MiB" % what)
    try:
        note = data.decode("utf-8")
    except UnicodeDecodeError:
        fail("%s is not UTF-8" % what)
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        fail("%s: the note contains a control character other than newline" % what)
    cut = note.rfind("\n\n")
    if cut < 0 or not note[cut + 2:].endswith("\n"):
        fail("%s is not a signed note (no blank line before its signatures)" % what)
    text, signatures = note[:cut + 1], []
    lines = note[cut + 2:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        fail("%s has %d signature lines; at most %d are accepted" % (what, len(lines), MAX_SIGNATURES))
    for line in lines:
        if not line.startswith("\u2014 ") or line.count(" ") != 2 or line.split(" ")[1] == "":
            fail("%s: malformed signature line %r" % (what, line))
        _, name, encoded = line.split(" ")
        blob = b64(encoded, "%s: a signature" % what)
        if len(blob) <= 4:
            fail("%s: a signature is too short" % what)
        signatures.append((name, blob[:4], blob[4:]))
    return text, signatures


def check_signed(data, key, what):
    text, signatures = parse_note(data, what)
    # Only the first line of the key counts: a note cannot make the verifier try many forged signatures.
    for name, key_id, signature in signatures:
        if name == key.name and key_id == key.key_id:
            if len(signature) == 64 and key.verifies(text, signature):
                return text
            break
    fail("%s is not signed by %s (the signature does not verify)" % (what, key.text))


def check_signed_by_any(data, keys, what):
    for key in keys:
        try:
            return check_signed(data, key, what)
        except Failure:
            pass
    fail("%s is not signed by a key of the log" % what)


def parse_checkpoint(text, what):
    lines = text.split("\n")
    if lines[-1] != "" or len(lines) < 4 or not lines[0] or any(line == "" for line in lines[3:-1]):
        fail("%s is not a checkpoint" % what)
    if not re.fullmatch("0|[1-9][0-9]*", lines[1]) or int(lines[1]) >= 2 ** 64:
        fail("%s is not a checkpoint (size malformed)" % what)
    root = b64(lines[2], "%s: the root" % what)
    if len(root) != 32:
        fail("%s is not a checkpoint (the root is not 32 bytes)" % what)
    return lines[0], int(lines[1]), root


# RFC 6962 / RFC 9162 proof verification.
def root_from_inclusion(index, size, leaf, proof):
    if index >= size:
        fail("index %d is not below the tree size %d" % (index, size))
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            fail("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node(p, r)
            while fn & 1 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        fail("the inclusion proof is too short")
    return r


def verify_consistency(m, n, old_root, new_root, proof):
    if m == n:
        return not proof and old_root == new_root
    if m == 0 or m > n or not proof:
        return False
    if m & (m - 1) == 0:
        proof = [old_root] + proof
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while fn & 1 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


def check_consistency(files, name, old_size, old_root, size, root):
    lines = files[name].decode("utf-8", "replace").split("\n")
    if lines[:3] != ["probity.consistency/v1", "old %d" % old_size, "new %d" % size] or lines[-1] != "":
        fail("%s is not a consistency proof from %d to %d" % (name, old_size, size))
    try:
        hashes = [b64(l, "%s: a proof line" % name) for l in lines[3:-1]]
    except Failure:
        fail("%s: a proof line is not base64" % name)
    if not verify_consistency(old_size, size, old_root, root, hashes):
        fail("%s: the tree of size %d is not a prefix of the tree of size %d" % (name, old_size, size))


def check_token(token, digest, tsa_ca):
    """Verifies an RFC 3161 token for a SHA-256 digest with `openssl ts -verify`: against the CA file given,
    else against the token's own certificate (-partial_chain), which proves integrity, not who the TSA is."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "token.der")
        with open(path, "wb") as f:
            f.write(token)
        if tsa_ca is None:
            own = os.path.join(d, "own.pem")
            run = subprocess.run(["openssl", "pkcs7", "-inform", "DER", "-in", path, "-print_certs", "-out", own], capture_output=True)
            if run.returncode != 0:
                return False
            ca, extra = own, ["-partial_chain"]
        else:
            ca, extra = tsa_ca, []
        run = subprocess.run(["openssl", "ts", "-verify", "-digest", digest.hex(), "-in", path, "-token_in", "-CAfile", ca] + extra,
                             capture_output=True)
        return run.returncode == 0


def stream_ids(data):
    ids = set()
    if isinstance(data.get("procedure"), str) and data["procedure"]:
        ids.add("procedure:" + data["procedure"])
    for key in ("party", "from"):
        if isinstance(data.get(key), str) and data[key]:
            ids.add("party:" + data[key])
    for party in data.get("to") if isinstance(data.get("to"), list) else []:
        if isinstance(party, str) and party:
            ids.add("party:" + party)
    return ids


def check_stream_names(entry, name):
    """Every stream an entry is in, or that its data implies, is named by a Probity identifier."""
    data = entry.get("data", {})
    ids = [data.get(key) for key in ("procedure", "party", "from")] + (data.get("to") if isinstance(data.get("to"), list) else [])
    for value in ids:
        if isinstance(value, str) and value and not valid_identifier(value):
            fail("%s names %r, which is not a Probity identifier" % (name, value))
    for stream in entry.get("streams", {}):
        if not valid_stream(stream):
            fail("%s is in a stream named %r, which is not procedure:<id> or party:<id>" % (name, stream))


class Members:
    """The members of an archive in the one form Probity writes (see read_archive), read when asked for."""

    def __init__(self, data, members):
        self.data, self.members = data, members

    def __contains__(self, name):
        return name in self.members

    def __iter__(self):
        return iter(self.members)

    def size(self, name):
        return self.members[name][1]

    def __getitem__(self, name):
        offset, size, crc = self.members[name]
        data = bytes(self.data[offset:offset + size])
        if zlib.crc32(data) != crc:
            fail("%s: its CRC-32 does not match (the archive is damaged or was edited)" % name)
        return data


def read_archive(path):
    """Reads the directory of a ZIP archive in the exact form Probity's writer produces, refusing every other
    before any member is read: the end record ends the file (no comment; ZIP64 end records only when the
    member count needs them), every member stored, unencrypted, without data descriptor, extra field or
    comment, with a printable ASCII name, members laid end to end from offset 0 in directory order, the
    directory right after them. Sizes are thus bounded by the file's size; no two names share data."""
    try:
        with open(path, "rb") as f:
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if os.fstat(f.fileno()).st_size else b""
    except (OSError, ValueError) as e:
        fail("%s cannot be read: %s" % (path, e))
    u16 = lambda at: struct.unpack_from("<H", data, at)[0] if 0 <= at <= len(data) - 2 else 0
    u32 = lambda at: struct.unpack_from("<I", data, at)[0] if 0 <= at <= len(data) - 4 else 0
    u64 = lambda at: struct.unpack_from("<Q", data, at)[0] if 0 <= at <= len(data) - 8 else 0
    if len(data) < 22:
        fail("the archive is not a Probity bundle: the file is too short to be a ZIP archive")
    end = len(data) - 22
    if u32(end) != 0x06054B50:
        fail("the archive is not a Probity bundle: no end-of-central-directory record at the end of the file")
    if u16(end + 4) or u16(end + 6) or u16(end + 20) or u16(end + 8) != u16(end + 10):
        fail("the archive is not a Probity bundle: a multi-disk archive, a comment, or member counts that differ")
    entries, central_size, central_offset, central_end = u16(end + 10), u32(end + 12), u32(end + 16), end
    if entries == 0xFFFF:
        locator, record = end - 20, end - 76
        if end < 76 or u32(locator) != 0x07064B50 or u32(locator + 4) or u64(locator + 8) != record or u32(locator + 16) != 1:
            fail("the archive is not a Probity bundle: the ZIP64 end locator is missing or misplaced")
        if u32(record) != 0x06064B50 or u64(record + 4) != 44 or u32(record + 16) or u32(record + 20):
            fail("the archive is not a Probity bundle: the ZIP64 end record is malformed")
        entries = u64(record + 24)
        if u64(record + 32) != entries or entries <= 0xFFFE or u64(record + 40) != central_size or u64(record + 48) != central_offset:
            fail("the archive is not a Probity bundle: the ZIP64 end record disagrees with the end record")
        central_end = record
    if central_offset > central_end or central_offset + central_size != central_end:
        fail("the archive is not a Probity bundle: the central directory does not end where the end records start")
    if entries > central_size // 46 or entries > 10000000:
        fail("the archive is not a Probity bundle: the end record claims more members than the directory can hold")
    members, at, expected_local = {}, central_offset, 0
    for index in range(entries):
        if at + 46 > central_end or u32(at) != 0x02014B50:
            fail("the archive is not a Probity bundle: central-directory record %d is malformed" % (index + 1))
        flags, method, crc, compressed, size = u16(at + 8), u16(at + 10), u32(at + 16), u32(at + 20), u32(at + 24)
        name_length, extra_length, comment_length, disk = u16(at + 28), u16(at + 30), u16(at + 32), u16(at + 34)
        local = u32(at + 42)
        if at + 46 + name_length > central_end:
            fail("the archive is not a Probity bundle: central-directory record %d runs past the directory" % (index + 1))
        raw_name = bytes(data[at + 46:at + 46 + name_length])
        if not 1 <= len(raw_name) <= 255 or any(b < 0x21 or b > 0x7E or b == 0x5C for b in raw_name):
            fail("the archive is not a Probity bundle: member %d has a name that is not printable ASCII without spaces" % (index + 1))
        name = raw_name.decode("ascii")
        if name.startswith("/") or name.endswith("/") or ".." in name.split("/"):
            fail("the archive is not a Probity bundle: member %d (%s) is a directory, an absolute path or goes up with .." % (index + 1, name))
        if flags or method or compressed != size or size == 0xFFFFFFFF or extra_length or comment_length or disk:
            fail("the archive is not a Probity bundle: %s is compressed, encrypted, or has fields Probity does not write" % name)
        if name in members:
            fail("the archive is not a Probity bundle: it holds two members named %s" % name)
        if local != expected_local:
            fail("the archive is not a Probity bundle: %s does not start where the previous member ends (overlapping or hidden data)" % name)
        data_offset = local + 30 + name_length
        if data_offset > central_offset or size > central_offset - data_offset:
            fail("the archive is not a Probity bundle: %s runs past the start of the central directory" % name)
        if (u32(local) != 0x04034B50 or u16(local + 6) or u16(local + 8) or u32(local + 14) != crc or u32(local + 18) != size
                or u32(local + 22) != size or u16(local + 26) != name_length or u16(local + 28) or bytes(data[local + 30:data_offset]) != raw_name):
            fail("the archive is not a Probity bundle: the local header of %s does not match its central-directory record" % name)
        members[name] = (data_offset, size, crc)
        expected_local = data_offset + size
        at += 46 + name_length
    if expected_local != central_offset or at != central_end:
        fail("the archive is not a Probity bundle: it holds bytes that belong to no member")
    return Members(data, members)


def whole(value, what):
    """A whole number as Probity's manifest holds them: 0 to 2^53 - 1 (a JSON number, possibly written 5.0)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or not 0 <= value <= 2 ** 53 - 1:
        fail("%s: %r must be a whole number" % (MANIFEST, what))
    return int(value)


def small_file(files, name, limit=1 << 20):
    """A file read before the manifest is authenticated: refused unread when larger than a Probity bundle's."""
    if name not in files:
        fail("%s is missing" % name)
    if files.size(name) > limit:
        fail("%s is larger than %d bytes; it cannot be a Probity bundle's" % (name, limit))
    return files[name]


def verify(path, vkey, tsa_ca=None, witnesses=(), quorum=0):
    proven = []
    files = read_archive(path)
    for name in (MANIFEST, MANIFEST_SIG):
        if name not in files:
            fail("%s is missing" % name)
    manifest_bytes = files[MANIFEST]
    manifest = parse_json(manifest_bytes, MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        fail("%s: not a %s bundle" % (MANIFEST, FORMAT))

    # The key chain and the manifest's signature, before any other file is read.
    origin = manifest["origin"]
    if not isinstance(origin, str):
        fail("%s: \"origin\" must be a string" % MANIFEST)
    keys_file = manifest["keys"]["verifier_keys"]
    chain = [Key(line) for line in small_file(files, keys_file).decode("utf-8").split("\n") if line]
    if not chain:
        fail("the bundle carries no verifier key")
    signer = chain[-1]
    if vkey is not None and Key(vkey).text not in [k.text for k in chain]:
        fail("the bundle's log key is %s, not the key given" % signer.text)
    if signer.name != origin:
        fail("the verifier key is for %s, not for the bundle's log %s" % (signer.name, origin))
    size = whole(manifest["checkpoint"]["size"], "size")
    expected = "probity.bundle-manifest/v1\n%s\n%d\n%s\n" % (origin, size, hashlib.sha256(manifest_bytes).hexdigest())
    if check_signed(small_file(files, MANIFEST_SIG), signer, MANIFEST_SIG) != expected:
        fail("%s does not sign this manifest" % MANIFEST_SIG)

    # Every file is listed with its size and SHA-256: nothing removed, nothing added, nothing changed.
    listed = {}
    for f in manifest["files"]:
        if f["name"] in listed:
            fail("%s lists %s twice" % (MANIFEST, f["name"]))
        listed[f["name"]] = f
    for name in files:
        if name not in listed and name not in (MANIFEST, MANIFEST_SIG):
            fail("%s is in the archive but not in the manifest (a file was added)" % name)
    for name, item in sorted(listed.items()):
        if name not in files:
            fail("%s is listed in the manifest but missing from the archive" % name)
        if files.size(name) != whole(item["size"], "size") or hashlib.sha256(files[name]).hexdigest() != item["sha256"]:
            fail("%s does not match its SHA-256 in the manifest (the file was changed)" % name)
    if keys_file not in listed:
        fail("%s is not listed in the manifest" % keys_file)
    proven.append("the manifest, and through it every file's SHA-256, is signed by the log key")

    # The checkpoint, signed by the same key.
    pem = files[manifest["keys"]["public_key"]].decode("ascii", "replace")
    try:
        der = base64.b64decode("".join(l.strip() for l in pem.split("\n") if l.strip() and not l.startswith("-----")), validate=True)
    except ValueError:
        der = b""
    if der != SPKI_PREFIX + signer.public:
        fail("%s is not the key that signs the checkpoint" % manifest["keys"]["public_key"])
    checkpoint_file = manifest["checkpoint"]["file"]
    checkpoint_note = files[checkpoint_file]
    cp_origin, cp_size, root = parse_checkpoint(check_signed(checkpoint_note, signer, checkpoint_file), checkpoint_file)
    if cp_origin != origin or cp_size != size:
        fail("%s is for %s at size %d, not what the manifest says" % (checkpoint_file, cp_origin, cp_size))
    proven.insert(0, "the checkpoint %s (tree size %d, root %s) is signed by %s" % (checkpoint_file, size, base64.b64encode(root).decode(), signer.text))
    if witnesses:
        text, signatures = parse_note(checkpoint_note, checkpoint_file)
        cosigners = [(w.name, t) for w in witnesses for t in [w.cosigned_at(text, signatures)] if t is not None]
        if len(cosigners) < quorum:
            fail("%s is cosigned by %d of the witnesses given, fewer than the %d required" % (checkpoint_file, len(cosigners), quorum))
        proven.insert(1, "the checkpoint is cosigned by %d of the %d witnesses given (quorum %d): %s" % (
            len(cosigners), len(witnesses), quorum,
            ", ".join("%s at %s" % (name, datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")) for name, t in cosigners)))

    # Every exhibit: canonical entry bytes, in the log at its seq (inclusion proof), payload commitment.
    entries, by_seq = manifest["entries"], {}
    for item in entries:
        name = item["entry"]
        raw = files[name]
        entry = parse_json(raw, name)
        if jcs(entry).encode("utf-8") != raw:
            fail("%s is not a valid canonical entry (the entry bytes were changed): not in RFC 8785 form" % name)
        if entry.get("seq") != item["seq"] or entry.get("log") != origin:
            fail("%s is not entry %d of %s" % (name, item["seq"], origin))
        leaf = sha256(b"\x00" + raw)
        proof_text = files[item["proof"]].decode("utf-8", "replace")
        head, sep, proof_checkpoint = proof_text.partition("\n\n")
        lines = head.split("\n")
        if len(lines) > 1 and lines[1].startswith("extra "):
            b64(lines[1][6:], "%s: the extra line" % item["proof"])
            del lines[1]
        if not sep or lines[0] != "c2sp.org/tlog-proof@v1" or len(lines) < 2 or lines[1] != "index %d" % item["seq"]:
            fail("%s is not a tlog-proof for index %d" % (item["proof"], item["seq"]))
        if proof_checkpoint.encode() != checkpoint_note:
            fail("%s is not against the bundle's checkpoint %s" % (item["proof"], checkpoint_file))
        hashes = [b64(l, "%s: a proof line" % item["proof"]) for l in lines[2:]]
        if any(len(h) != 32 for h in hashes):
            fail("%s: a proof line is not a 32-byte hash" % item["proof"])
        if root_from_inclusion(item["seq"], size, leaf, hashes) != root:
            fail("%s: the inclusion proof of seq %d does not lead to the checkpoint's root (entry or proof changed)" % (item["proof"], item["seq"]))
        commitment = entry.get("payload")
        if "payload" in item:
            payload = files[item["payload"]]
            salt = hex_bytes(item["salt"], "the salt of seq %d" % item["seq"])
            if commitment is None or hashlib.sha256(salt + payload).hexdigest() != commitment["sha256"] or len(payload) != commitment["size"]:
                fail("%s does not match the payload commitment of seq %d (the payload was changed)" % (item["payload"], item["seq"]))
        elif commitment is not None and item["role"] == "scope" and "redacted_by" not in item:
            fail("the payload of seq %d is missing and the entry is not redacted" % item["seq"])
        check_stream_names(entry, name)
        if set(entry.get("streams", {})) != stream_ids(entry.get("data", {})):
            fail("%s is not in exactly the streams its data implies" % name)
        by_seq[item["seq"]] = (item, entry, leaf)
    proven.append("%d entries are, byte for byte, in the log under that checkpoint" % len(entries))
    seqs = [item["seq"] for item in entries]
    if seqs != sorted(set(seqs)):
        fail("the manifest lists entries out of order or twice")

    # Redactions: the redaction.applied entry is in the bundle and names the entry.
    redacted = 0
    for item, entry, _ in by_seq.values():
        if "redacted_by" in item:
            redaction = by_seq.get(item["redacted_by"])
            if redaction is None or redaction[1]["type"] != "redaction.applied" or redaction[1]["data"].get("target_seq") != item["seq"]:
                fail("seq %d is said redacted by seq %d, which is not a redaction of it in the bundle" % (item["seq"], item["redacted_by"]))
            redacted += 1
    if redacted:
        proven.append("%d redacted entries: their payloads were erased by redaction.applied entries, which are in the bundle" % redacted)

    # The key chain: log.created then each key.rotated, as entries of the log, each rotation under a
    # checkpoint signed with the key it replaced, so that the first key vouches for the last.
    keys_in_log = [entry["data"].get("verifier_key") for item, entry, _ in sorted(by_seq.values(), key=lambda v: v[0]["seq"])
                   if entry["type"] in ("log.created", "key.rotated")]
    if keys_in_log != [k.text for k in chain] or by_seq.get(0, (None, {}))[1].get("type") != "log.created":
        fail("%s does not match the log.created and key.rotated entries in the bundle" % manifest["keys"]["verifier_keys"])
    rotations = manifest["keys"]["rotations"]
    if len(rotations) != len(chain) - 1:
        fail("%s: one rotation checkpoint is expected per key.rotated entry" % MANIFEST)
    for i, rotation in enumerate(rotations):
        seq = rotation["entry_seq"]
        if seq not in by_seq or by_seq[seq][1]["type"] != "key.rotated" or by_seq[seq][1]["data"].get("verifier_key") != chain[i + 1].text:
            fail("the rotation entry %d to %s is not in the bundle" % (seq, chain[i + 1].text))
        _, covering_size, covering_root = parse_checkpoint(check_signed(files[rotation["checkpoint"]], chain[i], rotation["checkpoint"]), rotation["checkpoint"])
        if seq >= covering_size:
            fail("%s does not cover the rotation entry %d" % (rotation["checkpoint"], seq))
        check_consistency(files, rotation["consistency"], covering_size, covering_root, size, root)
        proven.append("%s signed the rotation to %s (entry %d, checkpoint of size %d)" % (chain[i].text, chain[i + 1].text, seq, covering_size))

    # The earlier checkpoint and the consistency proof from it.
    consistency = manifest["consistency"]
    earlier_text = check_signed_by_any(files[consistency["checkpoint"]], chain, consistency["checkpoint"])
    _, old_size, old_root = parse_checkpoint(earlier_text, consistency["checkpoint"])
    check_consistency(files, consistency["proof"], old_size, old_root, size, root)
    if any(item["seq"] >= old_size for item in entries):
        fail("an entry of the bundle is not in the earlier checkpoint of size %d" % old_size)
    proven.append("the log already held every entry at the earlier checkpoint of size %d, and the checkpoint of size %d extends it" % (old_size, size))

    # Dating: a TSA's token on an earlier checkpoint that the bundle's checkpoint extends.
    for stamp in manifest["timestamps"]:
        seq = stamp["entry_seq"]
        if seq not in by_seq or by_seq[seq][1]["type"] != "checkpoint.timestamped" or "payload" not in by_seq[seq][0]:
            fail("the timestamp entry %d and its token are not in the bundle" % seq)
        item, entry, _ = by_seq[seq]
        data = entry["data"]
        try:
            token = b64(parse_json(files[item["payload"]], item["payload"])["token"], item["payload"])
        except (KeyError, TypeError, ValueError, Failure):
            token = b""
        if hashlib.sha256(token).hexdigest() != data.get("token_sha256"):
            fail("%s does not hold the token whose SHA-256 entry %d records" % (item["payload"], seq))
        stamped_text = check_signed_by_any(files[stamp["checkpoint"]], chain, stamp["checkpoint"])
        _, stamped_size, stamped_root = parse_checkpoint(stamped_text, stamp["checkpoint"])
        if stamped_size != data.get("tree_size") or base64.b64encode(stamped_root).decode() != data.get("root"):
            fail("%s is not the checkpoint entry %d says was timestamped" % (stamp["checkpoint"], seq))
        check_consistency(files, stamp["consistency"], stamped_size, stamped_root, size, root)
        if not check_token(token, sha256(files[stamp["checkpoint"]]), tsa_ca):
            fail("the RFC 3161 token of entry %d does not verify for %s" % (seq, stamp["checkpoint"]))
        dated = sum(1 for i in entries if i["role"] == "scope" and i["seq"] < stamped_size)
        proven.append("the TSA %s dated the checkpoint of size %d at %s (RFC 3161, %s): the %d entries in scope below that size existed then"
                      % (data.get("tsa"), stamped_size, data.get("gen_time"),
                         "certificate chain checked" if tsa_ca else "signature checked with the TSA's own certificate; give --tsa-ca to check who it is", dated))

    # Completeness.
    scope = manifest["scope"]
    if scope["kind"] in ("procedure", "party"):
        wanted = ("procedure:" if scope["kind"] == "procedure" else "party:") + scope[scope["kind"]]
        if not valid_stream(wanted):
            fail("%s: the scope %r is not a Probity identifier" % (MANIFEST, wanted))
        for stream in manifest["streams"]:
            if not valid_stream(stream["id"]):
                fail("%s: the stream %r is not procedure:<id> or party:<id>" % (MANIFEST, stream["id"]))
        declared = [s["id"] for s in manifest["streams"]]
        if wanted not in declared:
            fail("the bundle has no stream-head note for %s, its scope" % wanted)
        for stream in manifest["streams"]:
            text = check_signed(files[stream["note"]], signer, stream["note"])
            lines = text.split("\n")
            if len(lines) != 7 or lines[0] != "probity.stream-head/v1" or lines[1] != origin or lines[2] != str(size) or lines[3] != stream["id"]:
                fail("%s is not the head of %s at size %d" % (stream["note"], stream["id"], size))
            members = {leaf: (item, entry) for item, entry, leaf in by_seq.values() if stream["id"] in entry.get("streams", {})}
            count, cursor = 0, b64(lines[5], stream["note"])
            if lines[4] == "none":
                if members:
                    fail("%s says %s is empty, but the bundle has entries of it" % (stream["note"], stream["id"]))
                cursor = ZERO
            elif cursor not in members or members[cursor][0]["seq"] != int(lines[4]):
                fail("the last entry of %s (seq %s) is missing from the bundle (a cut tail)" % (stream["id"], lines[4]))
            while cursor != ZERO:
                if cursor not in members:
                    fail("an entry of %s is missing from the bundle: the chain breaks after %d entries" % (stream["id"], count))
                item, entry = members[cursor]
                count += 1
                cursor = hex_bytes(entry["streams"][stream["id"]], name)
            if count != len(members):
                fail("%s has entries off its chain" % stream["id"])
            proven.append("the bundle holds all %d entries of %s up to tree size %d (stream chain and signed stream head)" % (count, stream["id"], size))
    elif scope["kind"] == "period":
        first, count = manifest["range"]["first"], manifest["range"]["count"]
        inside = [item["seq"] for item in entries if item["role"] == "scope"]
        inside_set = set(inside)
        if len(inside) != count or any(seq != first + i for i, seq in enumerate(inside)):
            fail("the period's entries are not the contiguous range %s" % ("%d..%d" % (first, first + count - 1) if count > 0 else "(empty) at %d" % first))
        chain_seqs = ([first - 1] if first > 0 else []) + inside + ([first + count] if first + count < size else [])
        for seq in chain_seqs:
            if seq not in by_seq:
                fail("entry %d, needed to bound the period, is missing" % seq)
        for a, b in zip(chain_seqs, chain_seqs[1:]):
            if hex_bytes(by_seq[b][1]["prev"], "entry %d" % b) != by_seq[a][2]:
                fail("entry %d does not follow entry %d (prev chain broken)" % (b, a))
        start, end = scope["from"], scope["to"]
        for seq in chain_seqs:
            t = by_seq[seq][1]["time"]
            if (seq in inside_set) != (start <= t < end):
                fail("entry %d (appended %s) is %s the period" % (seq, t, "outside" if seq in inside_set else "inside, but not in"))
        proven.append("the bundle holds all %d entries appended from %s to %s (contiguous seqs bound by the prev chain)" % (count, start, end))
    else:
        fail("unknown scope kind %r" % scope["kind"])
    return proven


def main():
    args = sys.argv[1:]
    witness_keys = []
    while "--witness" in args:
        i = args.index("--witness")
        if i + 1 >= len(args):
            print("--witness needs a value", file=sys.stderr)
            return 2
        witness_keys.append(args[i + 1])
        del args[i:i + 2]
    options = {}
    for name in ("--vkey", "--tsa-ca", "--quorum"):
        if name in args:
            i = args.index(name)
            if i + 1 >= len(args):
                print("%s needs a value" % name, file=sys.stderr)
                return 2
            options[name] = args[i + 1]
            del args[i:i + 2]
    vkey, tsa_ca = options.get("--vkey"), options.get("--tsa-ca")
    if tsa_ca is not None and not os.path.isfile(tsa_ca):
        print("cannot read %s" % tsa_ca, file=sys.stderr)
        return 2
    if len(args) != 1 or args[0].startswith("-"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if not os.path.isfile(args[0]) or not os.access(args[0], os.R_OK):
        print("cannot read %s" % args[0], file=sys.stderr)
        return 2
    if vkey is not None:
        try:
            Key(vkey)
        except Failure as e:
            print("--vkey: %s" % e, file=sys.stderr)
            return 2
    try:
        witnesses = [WitnessKey(key) for key in witness_keys]
    except Failure as e:
        print("--witness: %s" % e, file=sys.stderr)
        return 2
    quorum = options.get("--quorum", str(len(witnesses)))
    if not re.fullmatch("[1-9][0-9]*", quorum) or not witnesses or int(quorum) > len(witnesses):
        if "--quorum" in options or witnesses:
            print("--quorum must be between 1 and the number of --witness keys given", file=sys.stderr)
            return 2
    try:
        proven = verify(args[0], vkey, tsa_ca, witnesses, int(quorum) if witnesses else 0)
    except Failure as e:
        print("NOT VERIFIED: %s" % e)
        return 1
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        print("NOT VERIFIED: the manifest or a file is malformed (%s: %s)" % (type(e).__name__, e))
        return 1
    print("VERIFIED: %s" % args[0])
    for line in proven:
        print("  - " + line)
    if vkey is None:
        print("  (checked against the key in the bundle; give --vkey with the key obtained out of band to know who signed it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
