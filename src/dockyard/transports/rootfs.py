"""`import`: a root filesystem (directory or tar, maybe compressed) becomes a one-layer image, as `docker import`."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from dockyard.errors import InvalidArgument, NotFound, UnsafePath
from dockyard.image.empty import EmptyImage
from dockyard.layers.compression import decompress, detect
from dockyard.layers.filelayer import build_layer, layer_from_tar
from dockyard.layers.tarreader import EntryType, TarReader
from dockyard.layers.whiteout import is_opaque_marker, is_whiteout
from dockyard.layers.writer import resolve_epoch
from dockyard.mutate.changes import apply_changes
from dockyard.mutate.image import Addendum, append, with_config
from dockyard.oci.config import History
from dockyard.oci.mediatype import Compression
from dockyard.oci.platform import Platform
from dockyard.oci.protocols import Image


def created_now() -> str:
    """RFC 3339 creation time: SOURCE_DATE_EPOCH when set (reproducible builds), else now."""
    epoch = resolve_epoch()
    moment = datetime.fromtimestamp(epoch, UTC) if epoch is not None else datetime.now(UTC).replace(microsecond=0)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@contextmanager
def imported(source: str | os.PathLike[str], *, changes: Sequence[str] = (), platform: Platform | None = None,
             compression: Compression = Compression.GZIP, message: str | None = None,
             workdir: str | os.PathLike[str] | None = None) -> Iterator[Image]:
    """Yield the image made from `source`; its layer file lives in a temporary directory until exit.

    A directory is written as a normalized (reproducible) tar; a tar file is taken as it is.
    """
    path = Path(source)
    if not path.exists():
        raise NotFound(f"no such file or directory: {path}")
    if not (path.is_dir() or path.is_file()):
        raise InvalidArgument(f"{path} is neither a directory nor a tar file")
    created = created_now()
    with tempfile.TemporaryDirectory(prefix="dockyard-import-", dir=workdir) as tmp:
        blob = Path(tmp) / "layer"
        if path.is_dir():
            layer = build_layer(path, blob, compression)
        else:
            check_tar(path)
            layer = layer_from_tar(path, blob, compression)
        base = EmptyImage(platform or Platform.host())
        history = History(created=created, created_by=f"dockyard import {path.name}", comment=message)
        image = append(base, Addendum(layer, history), created=created)
        if changes:
            image = with_config(image, apply_changes(image.config().config, list(changes)))
        yield image


def _escapes(path: str) -> bool:
    return path == ".." or path.startswith("../") or "/../" in path or path.endswith("/..")


def _under_symlink(path: str, symlinks: set[str]) -> str | None:
    """The first ancestor of `path` that an earlier entry made a symlink, if any."""
    parent = path
    while "/" in parent:
        parent = parent.rpartition("/")[0]
        if parent in symlinks:
            return parent
    return None


def check_tar(path: Path) -> None:
    """Refuse a root filesystem tar that would write outside its root when unpacked.

    `docker import` stores any tar as is; a layer with `..` entries, entries placed under a symlink (`link -> /`
    then `link/etc/passwd`) or hardlinks out of the root is refused here with UnsafePath, before anything is stored.
    Compressed tars are decompressed with the usual bounds (LimitExceeded for a decompression bomb).
    """
    symlinks: set[str] = set()
    with open(path, "rb") as raw:
        kind = detect(raw.read(4))
        raw.seek(0)
        stream = raw if kind is Compression.NONE else decompress(raw, kind)
        for entry in TarReader(stream, what=str(path)):
            name = entry.path
            if _escapes(name):
                raise UnsafePath(f"{path}: entry {name!r} escapes the root with '..'",
                                 hint="refusing to import a layer that writes outside its root")
            through = None if is_whiteout(name) or is_opaque_marker(name) else _under_symlink(name, symlinks)
            if entry.type is EntryType.HARDLINK:
                if _escapes(entry.linkname):
                    raise UnsafePath(f"{path}: hardlink {name!r} -> {entry.linkname!r} points outside the root")
                through = through or _under_symlink(entry.linkname, symlinks)
            if through is not None:
                raise UnsafePath(f"{path}: entry {name!r} goes through the symlink {through!r}",
                                 hint="layers must not place entries under a symlink")
            if entry.type is EntryType.SYMLINK:
                symlinks.add(name)
            else:
                symlinks.discard(name)
