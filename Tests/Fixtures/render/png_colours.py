#!/usr/bin/env python3
"""Reads a PNG (8-bit RGB or RGBA, not interlaced) with the standard library and prints, as JSON, its size,
the share of pixels that are not near-white, and how many pixels are near each colour given as RRGGBB
(counted on every other pixel of every other row: enough to tell a page from a blank one, and fast).

Usage: png_colours.py FILE.png [RRGGBB ...]
"""
import json, struct, sys, zlib

path, wanted = sys.argv[1], sys.argv[2:]
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, header = 8, b"", None
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    chunk = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        header = struct.unpack(">IIBBBBB", chunk)
    elif kind == b"IDAT":
        idat += chunk
    pos += 12 + length
width, height, depth, colour, _, _, interlace = header
assert depth == 8 and colour in (2, 6) and interlace == 0, "unsupported PNG %r" % (header,)
channels = 3 if colour == 2 else 4
stride = width * channels
raw, rows, previous = zlib.decompress(idat), [], bytearray(stride)
LOW, HIGH = int.from_bytes(b"\x7f" * stride, "big"), int.from_bytes(b"\x80" * stride, "big")
for y in range(height):
    line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
    kind, row = line[0], bytearray(line[1:])
    if kind == 2:  # "Up", the commonest filter: bytewise addition of the row above, without carries (SWAR)
        a, b = int.from_bytes(row, "big"), int.from_bytes(previous, "big")
        row = bytearray((((a & LOW) + (b & LOW)) ^ ((a ^ b) & HIGH)).to_bytes(stride, "big"))
        kind = 0
    for i in range(stride if kind else 0):
        left = row[i - channels] if i >= channels else 0
        up, corner = previous[i], previous[i - channels] if i >= channels else 0
        if kind == 1:
            row[i] = (row[i] + left) & 255
        elif kind == 2:
            row[i] = (row[i] + up) & 255
        elif kind == 3:
            row[i] = (row[i] + (left + up) // 2) & 255
        elif kind == 4:
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            row[i] = (row[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
    rows.append(row)
    previous = row
targets = [tuple(int(w[i:i + 2], 16) for i in (0, 2, 4)) for w in wanted]
counts, ink = [0] * len(targets), 0
for row in rows[::2]:
    for x in range(0, stride, 2 * channels):
        r, g, b = row[x], row[x + 1], row[x + 2]
        if r < 235 or g < 235 or b < 235:
            ink += 1
        for n, (tr, tg, tb) in enumerate(targets):
            if abs(r - tr) + abs(g - tg) + abs(b - tb) < 30:
                counts[n] += 1
sampled = len(rows[::2]) * len(range(0, stride, 2 * channels))
print(json.dumps({"width": width, "height": height, "ink": ink / sampled, "colours": dict(zip(wanted, counts))}))
