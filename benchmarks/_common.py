"""Shared helpers for the benchmark scripts: layer-like sample data, timing and table printing."""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import socket
import statistics
import subprocess
import sys
import tarfile
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

MIB = 1 << 20
CHUNK = 1 << 20
ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
CACHE = Path(os.environ.get("DOCKYARD_BENCH_CACHE", "/tmp/dockyard-bench"))
#: Directories walked (round-robin, so text, libraries and executables mix) to build layer-like tars.
SOURCES = ("/usr/share", "/usr/lib/x86_64-linux-gnu", "/usr/lib/python3", "/usr/lib/python3.11", "/usr/bin",
           "/usr/include", "/usr/sbin")
#: Files bigger than this are skipped: a few huge static binaries would otherwise fill a small sample.
MAX_FILE = 4 * MIB
#: Fraction of each sample that is random (incompressible) bytes, like the packed assets real layers carry.
RANDOM_FRACTION = 0.10


def parser(description: str, default_mib: int) -> argparse.ArgumentParser:
    """An argument parser with the common --size-mib and --repeat options."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--size-mib", type=int, default=default_mib, help=f"sample size in MiB (default {default_mib})")
    p.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is reported (default 3)")
    return p


def _files(root: str) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if path.is_file() and not path.is_symlink():
                yield path


def machine_files() -> Iterator[Path]:
    """Regular files of this machine in a stable order, balancing bytes across SOURCES (text, libraries, binaries)."""
    walkers = {root: _files(root) for root in SOURCES if os.path.isdir(root)}
    taken = dict.fromkeys(walkers, 0)
    while walkers:
        root = min(walkers, key=taken.__getitem__)
        path = next(walkers[root], None)
        if path is None:
            del walkers[root]
            continue
        try:
            taken[root] += path.stat().st_size
        except OSError:
            continue
        yield path


def write_sample_tar(dest: Path, size: int, files: Iterator[Path], *, seed: int = 0) -> Path:
    """Write a valid tar of about `size` bytes: files taken from `files`, then RANDOM_FRACTION random bytes.

    Several samples written from one `files` iterator (layers of one image) hold different content.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp")
    budget = int(size * (1 - RANDOM_FRACTION))
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        assert tar.fileobj is not None
        for path in files:
            room = budget - tar.fileobj.tell()
            if room < 4096:
                break
            try:
                if path.stat().st_size > min(room, MAX_FILE):
                    continue
                with path.open("rb") as f:
                    tar.addfile(tar.gettarinfo(fileobj=f, arcname=str(path).lstrip("/")), f)
            except OSError:
                continue
        rand = max(size - tar.fileobj.tell() - 2048, 0)
        info = tarfile.TarInfo(f"random-{seed}.bin")
        info.size = rand
        info.mtime = 0
        tar.addfile(info, io.BytesIO(random.Random(seed).randbytes(rand)))
    tmp.replace(dest)
    return dest


def sample_tar(size_mib: int) -> Path:
    """A cached sample tar of `size_mib` MiB (built on first use under CACHE)."""
    path = CACHE / f"sample-{size_mib}m.tar"
    if not path.exists():
        write_sample_tar(path, size_mib * MIB, machine_files())
    return path


def median_time(fn: Callable[[], object], repeat: int) -> float:
    """The median wall time of `repeat` calls of `fn`, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(argv: Sequence[str | os.PathLike[str]], **kwargs: object) -> None:
    """Run a command quietly; fail loudly with its stderr if it fails."""
    proc = subprocess.run([str(a) for a in argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          check=False, **kwargs)  # type: ignore[call-overload]
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(map(str, argv))}\n{proc.stderr.decode()}")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (readable on a terminal, pasteable into docs/benchmarks.md)."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def machine() -> str:
    """One line describing the CPU, for the header of every benchmark's output."""
    model = "unknown CPU"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"


def random_gzip_layer(blobs: Path, size: int, seed: int) -> tuple[str, int, str]:
    """A gzip layer (deflate level 0: stored blocks) of a tar with one file of `size` random bytes.

    Returns (digest, size, diff_id). Random bytes do not compress, so no tool spends time on it either way.
    """
    rng = random.Random(seed)
    comp = zlib.compressobj(0, zlib.DEFLATED, 31)
    blob, diff = hashlib.sha256(), hashlib.sha256()
    tmp = blobs / f"tmp-{seed}"
    written = 0
    with tmp.open("wb") as out:
        def emit(data: bytes) -> None:
            nonlocal written
            diff.update(data)
            packed = comp.compress(data)
            blob.update(packed)
            written += out.write(packed)

        info = tarfile.TarInfo(f"random-{seed}.bin")
        info.size, info.mode, info.mtime = size, 0o644, 0
        emit(info.tobuf(tarfile.PAX_FORMAT))
        for left in range(size, 0, -CHUNK):
            emit(rng.randbytes(min(CHUNK, left)))
        emit(b"\0" * ((512 - size % 512) % 512 + 1024))
        tail = comp.flush()
        blob.update(tail)
        written += out.write(tail)
    tmp.rename(blobs / blob.hexdigest())
    return f"sha256:{blob.hexdigest()}", written, f"sha256:{diff.hexdigest()}"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
