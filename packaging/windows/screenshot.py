#!/usr/bin/env python3
"""Turns an X window dump (`xwd -id WINDOW`) into a PNG and says whether the window shows
something: used by packaging/windows/test-wine.sh on the app drawn by gsprov.exe under wine.

Usage: screenshot.py DUMP.xwd OUT.png
Exit 0 and prints `WIDTHxHEIGHT, N colours, P% not background` when the picture has at
least 16 colours and at least 2% of its pixels differ from the most common one (an empty or
single-colour window fails: exit 1, with the same numbers). Standard library only.
"""
import collections
import struct
import sys
import zlib


def read_xwd(data):
    fields = struct.unpack(">25I", data[:100])
    header_size, _version, _format, depth, width, height = fields[:6]
    byte_order, bits_per_pixel, bytes_per_line = fields[7], fields[11], fields[12]
    red_mask, green_mask, blue_mask = fields[14:17]
    ncolors = fields[19]
    if bits_per_pixel != 32 or depth not in (24, 32):
        raise SystemExit(f"screenshot.py: expected a 24/32-bit TrueColor dump, got depth {depth}, {bits_per_pixel} bpp")
    start = header_size + 12 * ncolors
    order = "<" if byte_order == 0 else ">"

    def shift(mask):
        return (mask & -mask).bit_length() - 1

    rs, gs, bs = shift(red_mask), shift(green_mask), shift(blue_mask)
    rows = []
    for y in range(height):
        line = data[start + y * bytes_per_line : start + y * bytes_per_line + 4 * width]
        pixels = struct.unpack(f"{order}{width}I", line)
        rows.append([((p & red_mask) >> rs, (p & green_mask) >> gs, (p & blue_mask) >> bs) for p in pixels])
    return width, height, rows


def write_png(path, width, height, rows):
    raw = b"".join(b"\x00" + bytes(c for px in row for c in px) for row in rows)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def main():
    dump, out = sys.argv[1], sys.argv[2]
    with open(dump, "rb") as f:
        width, height, rows = read_xwd(f.read())
    counts = collections.Counter(px for row in rows for px in row)
    total = width * height
    background = counts.most_common(1)[0][1]
    other = 100.0 * (total - background) / total if total else 0.0
    write_png(out, width, height, rows)
    verdict = f"{width}x{height}, {len(counts)} colours, {other:.1f}% not background"
    print(verdict)
    return 0 if total and len(counts) >= 16 and other >= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
