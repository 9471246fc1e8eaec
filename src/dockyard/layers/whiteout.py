"""OCI whiteouts: `.wh.NAME` deletes NAME from lower layers, `.wh..wh..opq` makes its directory opaque.

See the image spec, layer.md "Whiteouts". Paths here are normalized archive paths (`a/b`, root is `.`).
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument

PREFIX = ".wh."
#: Names starting with this are whiteout metadata (aufs `.wh..wh.plnk` and the like), never real files.
META_PREFIX = ".wh..wh."
#: The basename of an opaque-directory marker.
OPAQUE = ".wh..wh..opq"


def _split(path: str) -> tuple[str, str]:
    parent, _, base = path.rpartition("/")
    return parent, base


def _join(parent: str, base: str) -> str:
    return f"{parent}/{base}" if parent and parent != "." else base


def is_whiteout(path: str) -> bool:
    """True for `dir/.wh.NAME` (not for the opaque marker or other `.wh..wh.` metadata)."""
    base = _split(path)[1]
    return base.startswith(PREFIX) and not base.startswith(META_PREFIX) and len(base) > len(PREFIX)


def is_opaque_marker(path: str) -> bool:
    """True for `dir/.wh..wh..opq`."""
    return _split(path)[1] == OPAQUE


def is_whiteout_meta(path: str) -> bool:
    """True for any `.wh..wh.*` name, the opaque marker included; such entries are never extracted."""
    return _split(path)[1].startswith(META_PREFIX)


def whiteout_target(path: str) -> str:
    """The path a whiteout deletes: `a/.wh.b` -> `a/b`."""
    if not is_whiteout(path):
        raise InvalidArgument(f"{path!r} is not a whiteout")
    parent, base = _split(path)
    return _join(parent, base[len(PREFIX):])


def opaque_dir(path: str) -> str:
    """The directory an opaque marker applies to: `a/.wh..wh..opq` -> `a` (root: `.`)."""
    if not is_opaque_marker(path):
        raise InvalidArgument(f"{path!r} is not an opaque-directory marker")
    return _split(path)[0] or "."


def whiteout_for(path: str) -> str:
    """The whiteout entry that deletes `path`: `a/b` -> `a/.wh.b`."""
    parent, base = _split(path.strip("/"))
    if not base or base in (".", ".."):
        raise InvalidArgument(f"cannot white out {path!r}")
    return _join(parent, PREFIX + base)


def opaque_marker_for(directory: str) -> str:
    """The marker entry that makes `directory` opaque: `a` -> `a/.wh..wh..opq`."""
    return _join(directory.strip("/"), OPAQUE)
