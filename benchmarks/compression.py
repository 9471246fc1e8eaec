"""Layer compression and decompression throughput: dockyard's compressor/decompress against single-thread zlib gzip -6.

Budget (docs DESIGN section 6): layer compression at least 3x single-thread zlib gzip -6.
Run: .venv/bin/python benchmarks/compression.py [--size-mib 64] [--repeat 3]
"""

# ruff: noqa: E402  (imports follow the sys.path fix below)
from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
    sys.path.append(sys.path.pop(0))  # search this directory last: a script name must never shadow the stdlib

import subprocess
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO

import zstandard
from _common import CACHE, CHUNK, MIB, machine, median_time, parser, sample_tar, table
from isal import isal_zlib

from dockyard.layers.compression import compressor, decompress
from dockyard.oci.mediatype import Compression

BUDGET = 3.0
DEFAULT = "ours: gzip (isal level 1, default)"


@dataclass(frozen=True)
class Case:
    name: str
    compress: Callable[[BinaryIO, BinaryIO], None]
    decompress: Callable[[BinaryIO], int]


def zlib_gzip6(src: BinaryIO, dst: BinaryIO) -> None:
    """The anchor: streaming zlib deflate level 6 with a gzip wrapper, one thread."""
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    while chunk := src.read(CHUNK):
        dst.write(comp.compress(chunk))
    dst.write(comp.flush())


def zlib_gunzip(src: BinaryIO) -> int:
    """The anchor's decompressor: streaming zlib inflate."""
    d = zlib.decompressobj(31)
    total = 0
    while chunk := src.read(CHUNK):
        total += len(d.decompress(chunk))
    return total + len(d.flush())


def isal_raw_gunzip(src: BinaryIO) -> int:
    """isal's inflate with no file wrappers: the ceiling for our gzip decompress."""
    d = isal_zlib.decompressobj(31)
    total = 0
    while chunk := src.read(CHUNK):
        total += len(d.decompress(chunk))
    return total + len(d.flush())


def zstd_raw_decompress(src: BinaryIO) -> int:
    """zstandard's reader with no wrappers: the ceiling for our zstd decompress."""
    total = 0
    reader = zstandard.ZstdDecompressor().stream_reader(src, read_across_frames=True)
    while chunk := reader.read(CHUNK):
        total += len(chunk)
    return total


def ours(compression: Compression, threads: int = 0) -> Callable[[BinaryIO, BinaryIO], None]:
    def run(src: BinaryIO, dst: BinaryIO) -> None:
        with compressor(dst, compression, threads=threads) as w:
            while chunk := src.read(CHUNK):
                w.write(chunk)
    return run


def ours_decompress(src: BinaryIO) -> int:
    total = 0
    with decompress(src) as r:
        while chunk := r.read(CHUNK):
            total += len(chunk)
    return total


def gzip_binary(src: BinaryIO, dst: BinaryIO) -> None:
    subprocess.run(["gzip", "-6", "-n", "-c"], stdin=src, stdout=dst, check=True)


def gunzip_binary(src: BinaryIO) -> int:
    subprocess.run(["gzip", "-d", "-c"], stdin=src, stdout=subprocess.DEVNULL, check=True)
    return 0


CASES = [
    Case("anchor: zlib gzip -6, 1 thread", zlib_gzip6, zlib_gunzip),
    Case("ref: gzip(1) -6 binary", gzip_binary, gunzip_binary),
    Case(DEFAULT, ours(Compression.GZIP), ours_decompress),
    Case("ours: gzip (isal level 1, 2 threads)", ours(Compression.GZIP, threads=2), ours_decompress),
    Case("ours: zstd level 3, 1 thread", ours(Compression.ZSTD), ours_decompress),
    Case("ours: zstd level 3, 2 threads", ours(Compression.ZSTD, threads=2), ours_decompress),
]
#: Library-only decompression ceilings (no dockyard wrappers), shown to expose wrapper overhead.
CEILINGS = [
    ("ceiling: isal inflate, no wrappers", DEFAULT, isal_raw_gunzip),
    ("ceiling: zstandard reader, no wrappers", "ours: zstd level 3, 1 thread", zstd_raw_decompress),
]


def main() -> None:
    args = parser(__doc__.splitlines()[0], default_mib=64).parse_args()
    sample = sample_tar(args.size_mib)
    size = sample.stat().st_size
    mb = size / 1e6
    print(f"# compression: {size / MIB:.0f} MiB sample ({sample}), median of {args.repeat}; {machine()}\n")

    outputs: dict[str, Path] = {}
    comp_rows: list[tuple[str, float, int]] = []
    for n, case in enumerate(CASES):
        out = CACHE / f"out-{n}.bin"

        def once(case: Case = case, out: Path = out) -> None:
            with sample.open("rb") as src, out.open("wb") as dst:
                case.compress(src, dst)

        seconds = median_time(once, args.repeat)
        outputs[case.name] = out
        comp_rows.append((case.name, mb / seconds, out.stat().st_size))

    anchor_speed, anchor_size = comp_rows[0][1], comp_rows[0][2]
    rows = [(name, speed, speed / anchor_speed, f"{csize / MIB:.1f}", f"{size / csize:.2f}",
             f"{csize / anchor_size:.3f}") for name, speed, csize in comp_rows]
    print("## compress (MB/s of uncompressed input)\n")
    print(table(["compressor", "MB/s", "x anchor", "out MiB", "ratio in/out", "size vs anchor"], rows))

    dec_rows = []
    for case in CASES:
        path = outputs[case.name]
        dec_rows.append((case.name, mb / median_time(partial(_read, case.decompress, path), args.repeat)))
    for name, source, fn in CEILINGS:
        path = outputs[source]
        dec_rows.append((name, mb / median_time(partial(_read, fn, path), args.repeat)))
    anchor_dec = dec_rows[0][1]
    print("\n## decompress (MB/s of uncompressed output)\n")
    print(table(["stream written by", "MB/s", "x anchor"], [(n, s, s / anchor_dec) for n, s in dec_rows]))

    best = next(speed for name, speed, _ in comp_rows if name == DEFAULT)
    verdict = "met" if best / anchor_speed >= BUDGET else "NOT met"
    print(f"\nbudget (default gzip path >= {BUDGET:.0f}x zlib -6): {verdict}: {best:.0f} vs {anchor_speed:.0f} MB/s "
          f"= {best / anchor_speed:.1f}x")
    for out in outputs.values():
        os.unlink(out)


def _read(fn: Callable[[BinaryIO], int], path: Path) -> int:
    with path.open("rb") as f:
        return fn(f)


if __name__ == "__main__":
    main()
