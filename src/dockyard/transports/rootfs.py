"""`import`: a root filesystem (directory or tar, maybe compressed) becomes a one-layer image, as `docker import`."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from dockyard.errors import InvalidArgument, NotFound
from dockyard.image.empty import EmptyImage
from dockyard.layers.filelayer import build_layer, layer_from_tar
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
            layer = layer_from_tar(path, blob, compression)
        base = EmptyImage(platform or Platform.host())
        history = History(created=created, created_by=f"dockyard import {path.name}", comment=message)
        image = append(base, Addendum(layer, history), created=created)
        if changes:
            image = with_config(image, apply_changes(image.config().config, list(changes)))
        yield image
