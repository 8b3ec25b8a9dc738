#!/usr/bin/env python3
"""Writes the archive-level corpus that both bundle verifiers must judge alike.

Usage: corpus.py GOOD.zip OUTDIR

From one genuine bundle, writes OUTDIR/<case>.zip for each case below and OUTDIR/index.json, a list of
{"case", "verdict": "verified" | "refused", "why"}. No case needs the log key: they are what anyone holding
a bundle could make of it (a forger, a damaged copy, another ZIP tool), and each must be refused before
the verifiers trust any size, offset or name the archive declares.
"""
import json, struct, sys, zipfile, zlib


def members(path):
    with zipfile.ZipFile(path) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def write(files, *, method=0, crc_fix=None, extra_for=None, comment=b"", trailing=b"", gap_after=None,
          alias=None, zip64_manifest=False):
    """A ZIP of `files` in Probity's form, with one departure from it per keyword."""
    out, central = bytearray(), bytearray()
    for name, data in files:
        raw = name.encode()
        stored = zlib.compress(data)[2:-4] if method == 8 and name == files[-1][0] else data
        this_method = 8 if stored is not data else 0
        crc = zlib.crc32(data) if crc_fix is None or name != crc_fix else zlib.crc32(data) ^ 1
        extra = b""
        csize, usize = len(stored), len(data)
        if zip64_manifest and name == "01_manifest.json":
            extra = struct.pack("<HHQQ", 1, 16, 1 << 62, 1 << 62)
            csize = usize = 0xFFFFFFFF
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 10, 0, this_method, 0, 0x21, crc, csize, usize, len(raw), 0) + raw + stored
        if gap_after == name:
            out += b"hidden data that no member lists"
        record = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 10, 0, this_method, 0, 0x21, crc, csize, usize,
                             len(raw), len(extra), 0, 0, 0, 0o100644 << 16, offset) + raw + extra
        central += record
        if alias and alias[0] == name:
            central += record[:28] + struct.pack("<H", len(alias[1])) + record[30:46] + alias[1].encode() + extra
    count = len(files) + (1 if alias else 0)
    start = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), start, len(comment)) + comment
    return bytes(out) + trailing


def main():
    good, outdir = sys.argv[1], sys.argv[2]
    files = members(good)
    entry = next(name for name, _ in files if name.startswith("entries/") and name.endswith(".json") and "payload" not in name)
    cases = [
        ("good", "verified", "the genuine bundle, rewritten member for member", write(files)),
        ("zip64-sized-manifest", "refused", "the manifest declares 2^62 bytes through a ZIP64 extra field", write(files, zip64_manifest=True)),
        ("two-names-one-entry", "refused", "a second central-directory name points at an entry's local header",
         write(files, alias=(entry, "entries/E99999_seq99.json"))),
        ("deflated-member", "refused", "the last member is deflated", write(files, method=8)),
        ("wrong-crc", "refused", "an entry's CRC-32 is wrong in both headers", write(files, crc_fix=entry)),
        ("directory-with-data", "refused", "an unlisted directory entry carries data",
         write(files[:1] + [("entries/", b"data in a directory entry")] + files[1:])),
        ("comment", "refused", "the archive has a comment", write(files, comment=b"a comment")),
        ("trailing-data", "refused", "bytes follow the end record", write(files, trailing=b"\0" * 64)),
        ("hidden-data", "refused", "bytes between two members belong to none", write(files, gap_after=entry)),
        ("non-ascii-name", "refused", "a member name is not ASCII", write(files + [("entries/caf\u00e9.json", b"{}")])),
        ("truncated", "refused", "the archive is cut in the middle", write(files)[: len(write(files)) // 2]),
        ("empty", "refused", "an empty file", b""),
    ]
    index = []
    for case, verdict, why, data in cases:
        with open("%s/%s.zip" % (outdir, case), "wb") as f:
            f.write(data)
        index.append({"case": case, "verdict": verdict, "why": why})
    with open("%s/index.json" % outdir, "w") as f:
        json.dump(index, f, indent=1)


if __name__ == "__main__":
    main()
