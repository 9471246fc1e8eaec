"""Where the registry keeps bytes in its storage driver (the layout, documented once).

Driver paths::

    /blobs/<alg>/<first two hex>/<hex>/data    one content-addressed blob: layer, config or manifest bytes
    /uploads/<uuid>/data                       an upload in progress: a pending writer, resumable across
                                               requests and restarts; committed and moved into /blobs
                                               only after its digest and size are verified

Which repository may see a blob, and which manifests and tags exist, is metadata (see `meta/schema.py`).
"""

from __future__ import annotations

import re

from dockyard.errors import InvalidArgument
from dockyard.oci.digest import ALGORITHMS, Digest

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_HEX = re.compile(r"^[a-f0-9]+\Z")


def blob_path(digest: Digest) -> str:
    """The driver path of a blob; refuses anything that is not a well-formed sha256/sha512 digest."""
    length = ALGORITHMS.get(digest.algorithm)
    if length is None or len(digest.encoded) != length or not _HEX.match(digest.encoded):
        raise InvalidArgument(f"invalid digest {digest}")
    return f"/blobs/{digest.algorithm}/{digest.encoded[:2]}/{digest.encoded}/data"


def blob_digest(path: str) -> Digest | None:
    """The digest a blob path names (the inverse of `blob_path`), or None for any other path."""
    parts = path.split("/")
    if len(parts) != 6 or parts[:2] != ["", "blobs"] or parts[5] != "data" or parts[3] != parts[4][:2]:
        return None
    try:
        digest = Digest(parts[2], parts[4])
        return digest if blob_path(digest) == path else None
    except InvalidArgument:
        return None


def upload_path(uuid: str) -> str:
    """The driver path of an upload's bytes; the uuid must be canonical (it becomes a path component)."""
    if not UUID_RE.match(uuid):
        raise InvalidArgument(f"invalid upload id {uuid!r}")
    return f"/uploads/{uuid}/data"


def upload_dir(uuid: str) -> str:
    """The folder of an upload (deleted whole on cancel)."""
    return upload_path(uuid).removesuffix("/data")
