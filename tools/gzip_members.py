#!/usr/bin/env python3
"""Re-packs a gzip file as several gzip members, so that a reader with several
cores can inflate them at once. The content is unchanged, and any gzip reader
(`gunzip`, `zcat`, Python's `gzip`) still reads the file whole.

Every member but the last says how long it is, in bytes from its first header
byte to its last trailer byte, in an FEXTRA subfield `MS` (4 bytes,
little-endian; RFC 1952 section 2.3.1.1), as BGZF's `BC` does. `host` reads the
hint to find the members without inflating them (`host/src/mnist.rs`). Members
are cut at multiples of `--record` bytes after a `--header`-byte prefix, so an
IDX image file's images are never split. Deterministic: mtime 0, level 9.

    python3 tools/gzip_members.py data/mnist/train-images-idx3-ubyte.gz --members 4
"""
import argparse, gzip, struct, zlib
from pathlib import Path

SUBFIELD = b"MS"


def member(data, last):
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    body = deflate.compress(data) + deflate.flush()
    trailer = struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    if last:
        return b"\x1f\x8b\x08\x00" + bytes(4) + b"\x02\x03" + body + trailer
    # FLG.FEXTRA; XLEN = 8 (one subfield: SI1 SI2, LEN = 4, the member's size).
    header_len = 10 + 2 + 8
    size = header_len + len(body) + len(trailer)
    extra = struct.pack("<H", 8) + SUBFIELD + struct.pack("<HI", 4, size)
    return b"\x1f\x8b\x08\x04" + bytes(4) + b"\x02\x03" + extra + body + trailer


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("file", type=Path, help="a .gz file, rewritten in place")
    p.add_argument("--members", type=int, default=4)
    p.add_argument("--header", type=int, default=16, help="bytes before the first record (IDX3: 16)")
    p.add_argument("--record", type=int, default=784, help="bytes per record (an MNIST image: 784)")
    args = p.parse_args()
    data = gzip.decompress(args.file.read_bytes())
    records = (len(data) - args.header) // args.record
    cuts = [0] + [args.header + records * k // args.members * args.record for k in range(1, args.members)] + [len(data)]
    pieces = [data[a:b] for a, b in zip(cuts, cuts[1:])]
    out = b"".join(member(piece, k == len(pieces) - 1) for k, piece in enumerate(pieces))
    assert gzip.decompress(out) == data
    args.file.write_bytes(out)
    print(f"{args.file}: {len(pieces)} members, {len(out):,} bytes (content {len(data):,} bytes, unchanged)")


if __name__ == "__main__":
    main()
