"""Looking into a base image without extracting it: user/group names from /etc/passwd and /etc/group, and
whether a path is a directory (top layer wins)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from dockyard.build.cache import listing_file, save_listing
from dockyard.errors import InvalidArgument, NotFound
from dockyard.layers.compression import decompress
from dockyard.layers.tarformat import EntryType
from dockyard.layers.tarreader import TarReader
from dockyard.layers.whiteout import is_opaque_marker, is_whiteout, opaque_dir, whiteout_target
from dockyard.oci.protocols import Image, Layer

_LIMIT = 4 << 20


def image_file(image: Image, path: str, cache_dir: Path) -> bytes | None:
    """The content of the regular file `path` (no leading `/`) in `image`, None when absent.

    Layers whose listing (cached in `cache_dir`) does not name `path` are skipped without reading them.
    """
    parent = path.rpartition("/")[0]
    for layer in reversed(image.layers()):
        dirs, others = layer_listing(layer, cache_dir)
        if path not in others and path not in dirs and parent not in dirs:
            continue
        hidden = False
        with layer.open() as raw:
            reader = TarReader(decompress(raw))
            for entry in reader:
                name = entry.path
                if name == path:
                    if entry.type is EntryType.FILE and entry.size <= _LIMIT:
                        return reader.body().read()
                    return None
                if (is_whiteout(name) and whiteout_target(name) == path) or (
                        is_opaque_marker(name) and opaque_dir(name) == parent):
                    hidden = True
        if hidden:
            return None
    return None


def _table(image: Image, path: str, cache_dir: Path) -> list[list[str]]:
    data = image_file(image, path, cache_dir) or b""
    return [line.split(":") for line in data.decode("utf-8", "replace").splitlines() if line and line[0] != "#"]


def resolve_ids(image: Image, spec: str, what: str, cache_dir: Path) -> tuple[int, int]:
    """`user[:group]` (names or numbers) to `(uid, gid)`; a user alone takes its primary group (0 for numbers)."""
    user, sep, group = spec.partition(":")
    if not user:
        raise InvalidArgument(f"{what}: empty user in {spec!r}")
    uid: int
    gid: int | None = None
    if user.isdigit():
        uid = int(user)
        for row in _table(image, "etc/passwd", cache_dir):
            if len(row) > 3 and row[2] == user and row[3].isdigit():
                gid = int(row[3])
                break
    else:
        for row in _table(image, "etc/passwd", cache_dir):
            if len(row) > 3 and row[0] == user and row[2].isdigit() and row[3].isdigit():
                uid, gid = int(row[2]), int(row[3])
                break
        else:
            raise NotFound(f"{what}: unknown user {user!r}: not in the image's /etc/passwd")
    if sep and group:
        if group.isdigit():
            gid = int(group)
        else:
            for row in _table(image, "etc/group", cache_dir):
                if len(row) > 2 and row[0] == group and row[2].isdigit():
                    gid = int(row[2])
                    break
            else:
                raise NotFound(f"{what}: unknown group {group!r}: not in the image's /etc/group")
    return uid, (gid if gid is not None else 0)


def layer_listing(layer: Layer, cache_dir: Path) -> tuple[frozenset[str], frozenset[str]]:
    """(directories, other paths incl. whiteout targets) of one layer, cached as JSON by diff_id."""
    path = listing_file(cache_dir, layer.diff_id().hex)
    try:
        dirs, others = json.loads(path.read_bytes())
        return frozenset(dirs), frozenset(others)
    except (OSError, ValueError):
        pass
    found_dirs: set[str] = set()
    found_others: set[str] = set()
    with layer.open() as raw:
        for entry in TarReader(decompress(raw)):
            if is_whiteout(entry.path):
                found_others.add(whiteout_target(entry.path))
            elif entry.type is EntryType.DIR:
                found_dirs.add(entry.path)
            elif not is_opaque_marker(entry.path):
                found_others.add(entry.path)
    save_listing(path, found_dirs, found_others)
    return frozenset(found_dirs), frozenset(found_others)


def record_tree_listing(tree: Path, diff_id_hex: str, cache_dir: Path) -> None:
    """Cache the listing of a layer from its tree in overlay form (a RUN's upper dir: whiteouts are 0/0 char
    devices), so later steps need not decompress the layer to learn which paths it holds."""
    import stat

    from dockyard.layers.writer import iter_tree

    dirs: set[str] = set()
    others: set[str] = set()  # files, links and whiteouts (their targets) alike
    for sub, st in iter_tree(os.fspath(tree)):
        (dirs if stat.S_ISDIR(st.st_mode) else others).add(sub)
    save_listing(listing_file(cache_dir, diff_id_hex), dirs, others)


def is_dir(image: Image, path: str, cache_dir: Path) -> bool:
    """Whether `path` (no leading `/`) is a directory in `image` (the topmost layer naming it decides)."""
    if path in (".", ""):
        return True
    for layer in reversed(image.layers()):
        dirs, others = layer_listing(layer, cache_dir)
        if path in dirs:
            return True
        if path in others:
            return False
    return False
