"""Helpers for the CLI tests: run `dockyard` in-process or as a subprocess, build busybox root filesystems."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest
import zstandard

from dockyard.cli.main import run
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.manifest import IndexManifest
from dockyard.oci.platform import Platform
from dockyard.transports.blobs import BlobIndex
from dockyard.transports.store import Store, default_store_root

BUSYBOX = Path("/bin/busybox")
#: The console script installed next to the interpreter running the tests.
DOCKYARD = Path(sys.executable).parent / "dockyard"


class RootfsLike(Protocol):
    @property
    def tar(self) -> Path: ...


@dataclass(frozen=True)
class Result:
    """What one `dockyard` invocation did."""

    code: int
    out: bytes
    err: str

    @property
    def text(self) -> str:
        return self.out.decode()

    def json(self) -> object:
        return json.loads(self.out)


def assert_one_error(result: Result, code: int, *needles: str) -> str:
    """The run failed with `code`, printed exactly one `dockyard: error:` line (no traceback); returns it."""
    assert result.code == code, (result.code, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("dockyard: error: "), result.err
    assert "Traceback" not in result.err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


class Cli:
    """Runs `dockyard.cli.main.run` in this process and captures its exit code and output."""

    def __init__(self, capture: pytest.CaptureFixture[bytes]) -> None:
        self._capture = capture

    def __call__(self, *args: str | os.PathLike[str]) -> Result:
        self._capture.readouterr()
        try:
            run([os.fspath(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = self._capture.readouterr()
        return Result(code, out, err.decode(errors="replace"))

    def ok(self, *args: str | os.PathLike[str]) -> Result:
        result = self(*args)
        assert result.code == 0, (args, result.code, result.err)
        return result

    def json(self, *args: str | os.PathLike[str]) -> object:
        return self.ok(*args, "--output", "json").json()

    def fails(self, code: int, *args: str | os.PathLike[str], needles: tuple[str, ...] = ()) -> str:
        """Run, expecting one clean error line with `code`, and the store left exactly as it was."""
        before = store_state(self)
        line = assert_one_error(self(*args), code, *needles)
        assert store_state(self) == before, f"store changed by failing `dockyard {' '.join(map(str, args))}`"
        return line


def store_state(cli: Cli) -> tuple[object, list[str], list[str]]:
    """What `images -o json` shows plus the blob files and temp files on disk."""
    images = cli("images", "-o", "json")
    assert images.code == 0, images.err
    root = default_store_root()
    blobs = sorted(str(p.relative_to(root)) for p in (root / "blobs").rglob("*") if p.is_file())
    temps = sorted(p.name for p in (root / "tmp").iterdir()) if (root / "tmp").is_dir() else []
    return images.json(), blobs, temps


def subprocess_dockyard(*args: str | os.PathLike[str], env: dict[str, str] | None = None,
                        timeout: float = 120) -> Result:
    """The installed console script, as a user runs it."""
    proc = subprocess.run([str(DOCKYARD), *map(os.fspath, args)], capture_output=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, check=False)
    return Result(proc.returncode, proc.stdout, proc.stderr.decode(errors="replace"))


def busybox_rootfs(target: Path) -> Path:
    """A root filesystem of busybox-static: `busybox --install -s`, applets relinked as relative symlinks."""
    bindir = target / "bin"
    bindir.mkdir(parents=True)
    for name in ("etc", "root", "proc", "sys", "dev"):
        (target / name).mkdir()
    (target / "tmp").mkdir(mode=0o1777)
    (target / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    shutil.copy2(BUSYBOX, bindir / "busybox")
    subprocess.run([str(bindir / "busybox"), "--install", "-s", str(bindir)], check=True, capture_output=True)
    for link in bindir.iterdir():
        if link.is_symlink():  # --install writes absolute links to wherever the binary was: relink inside
            link.unlink()
            link.symlink_to("busybox")
    return target


def tar_dir(source: Path, dest: Path) -> Path:
    """A plain tar of a directory (symlinks kept as symlinks)."""
    with tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as tf:
        tf.add(source, arcname=".")
    return dest


def gzip_file(source: Path, dest: Path) -> Path:
    with open(source, "rb") as src, gzip.open(dest, "wb", compresslevel=1) as out:
        shutil.copyfileobj(src, out, 1 << 20)
    return dest


def zstd_file(source: Path, dest: Path) -> Path:
    with open(source, "rb") as src, open(dest, "wb") as out:
        zstandard.ZstdCompressor(level=1).copy_stream(src, out)
    return dest


def tar_bytes(entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    """A tar from regular files `(name, data)` and prepared TarInfo entries (links, dirs), in order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tf.addfile(entry)
            else:
                info = tarfile.TarInfo(entry[0])
                info.size, info.mode = len(entry[1]), 0o644
                tf.addfile(info, io.BytesIO(entry[1]))
    return buf.getvalue()


def link(name: str, target: str, *, hard: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    info.linkname = target
    return info


def make_index(cli: Cli, rootfs: RootfsLike) -> str:
    """`multi:1`, a two-platform index made of two imports; returns its digest."""
    for arch in ("amd64", "arm64"):
        cli.ok("import", rootfs.tar, "-t", f"part:{arch}", "--platform", f"linux/{arch}")
    store = Store.open()
    entries = []
    for arch in ("amd64", "arm64"):
        desc = store.resolve(f"part:{arch}")
        entries.append(Descriptor(desc.media_type, desc.digest, desc.size, platform=Platform("linux", arch)))
    raw = IndexManifest.build(entries).raw
    return str(store.write(BlobIndex(store, raw), ["multi:1"]).digest)
