"""The index.json logic shared by OCI layout directories and tars: names, tags, lookup and opening of entries."""

from __future__ import annotations

import re

from dockyard.errors import (
    BlobUnknown,
    DigestMismatch,
    InvalidArgument,
    InvalidManifest,
    InvalidReference,
    ManifestUnknown,
    NotFound,
    Unsupported,
)
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.jsonvalue import decode_object
from dockyard.oci.manifest import IndexManifest, parse_any
from dockyard.oci.mediatype import is_index, is_manifest
from dockyard.oci.protocols import Image, ImageIndex
from dockyard.oci.reference import Reference
from dockyard.transports.blobs import MAX_MANIFEST, BlobImage, BlobIndex, BlobSource, read_verified

LAYOUT_FILE = "oci-layout"
INDEX_FILE = "index.json"
LAYOUT_BYTES = b'{"imageLayoutVersion":"1.0.0"}'
#: containerd's (and Docker 25's) annotation carrying the full image name of an index.json entry.
IMAGE_NAME = "io.containerd.image.name"
#: The image-spec grammar for org.opencontainers.image.ref.name.
_COMPONENT = r"[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*"
_REF_NAME_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")


def blob_name(digest: Digest) -> str:
    """The path of a blob inside a layout: `blobs/<alg>/<encoded>`."""
    return f"blobs/{digest.algorithm}/{digest.encoded}"


def check_layout_file(raw: bytes, where: str) -> None:
    """Raise unless `raw` is an `oci-layout` file of a version we read (1.x)."""
    obj = decode_object(raw, f"{where}/{LAYOUT_FILE}")
    version = obj.get("imageLayoutVersion")
    if not isinstance(version, str):
        raise InvalidManifest(f"{where}/{LAYOUT_FILE}: field 'imageLayoutVersion' must be a string")
    if version.split(".")[0] != "1":
        raise Unsupported(f"{where}: OCI layout version {version} is not supported (only 1.x)")


def validate_ref_name(name: str) -> str:
    """Return `name` or raise InvalidArgument unless it matches the ref.name grammar of the image spec."""
    if not _REF_NAME_RE.match(name):
        raise InvalidArgument(f"invalid OCI layout tag {name!r}: must be [A-Za-z0-9] components joined by "
                              "'-', '.', '_', ':', '@', '+', '--' or '/'")
    return name


def open_artifact(source: BlobSource, descriptor: Descriptor, where: str) -> Image | ImageIndex:
    """Open the image or index `descriptor` names, with errors that say where it was looked for."""
    what = f"manifest {descriptor.digest} in {where}"
    if not (is_index(descriptor.media_type) or is_manifest(descriptor.media_type)):
        raise Unsupported(f"{what} has media type {descriptor.media_type}, not an image manifest or index")
    try:
        raw = read_verified(source, descriptor, MAX_MANIFEST)
    except BlobUnknown:
        raise BlobUnknown(f"{what} is missing (blob {descriptor.digest} not found)") from None
    except DigestMismatch as exc:
        raise DigestMismatch(f"{what}: {exc.message}") from None
    artifact = _from_raw(source, raw, what)
    if isinstance(artifact, BlobIndex) != is_index(descriptor.media_type):
        raise InvalidManifest(f"{what}: the content does not match its descriptor's type {descriptor.media_type}")
    return artifact


def _from_raw(source: BlobSource, raw: bytes, what: str) -> BlobImage | BlobIndex:
    try:
        parsed = parse_any(raw, what)
    except InvalidManifest as exc:
        raise exc if what in exc.message else InvalidManifest(f"{what}: {exc.message}") from None
    if isinstance(parsed, IndexManifest):
        return BlobIndex(source, raw, what=what)
    return BlobImage(source, raw, what=what)


def _split_ref(name: str) -> tuple[str | None, str]:
    """(`repository` or None, `tag`) of `repo:tag` or a bare tag."""
    colon, slash = name.rfind(":"), name.rfind("/")
    if colon > max(slash, 0):
        return name[:colon], name[colon + 1:]
    return None, name


class LayoutReader:
    """Read access to an OCI layout given its blob source and index.json (directories and tars alike)."""

    def __init__(self, source: BlobSource, index: IndexManifest, where: str) -> None:
        self.source = source
        self.index = index
        self.where = where

    def entries(self) -> tuple[Descriptor, ...]:
        """The top-level descriptors of index.json, in file order."""
        return self.index.manifests

    def tags(self) -> list[str]:
        """Every name an entry carries (ref.name, else the containerd image name), sorted."""
        return sorted({n for d in self.entries() for n in _names(d)[:1]})

    def find(self, tag: str | None) -> Descriptor:
        """The entry named `tag` (`tag` or `name:tag`); with None, the only entry."""
        entries = self.entries()
        if tag is None:
            if len(entries) == 1:
                return entries[0]
            if not entries:
                raise NotFound(f"{self.where} holds no images")
            raise InvalidArgument(f"{self.where} holds {len(entries)} images: name one",
                                  hint=f"available: {self._available()}")
        for match in (_exact, _same_reference, _same_tag):
            found = {d.digest: d for d in entries if any(match(n, tag) for n in _names(d))}
            if len(found) == 1:
                return next(iter(found.values()))
            if len(found) > 1:
                raise InvalidArgument(f"tag {tag!r} is ambiguous in {self.where}: it matches "
                                      + ", ".join(sorted(str(d) for d in found)))
        raise NotFound(f"tag {tag!r} not found in {self.where} (available: {self._available()})")

    def _available(self) -> str:
        tags = self.tags()
        untagged = sum(1 for d in self.entries() if not _names(d))
        parts = tags + ([f"{untagged} untagged"] if untagged else [])
        return ", ".join(parts) or "none"

    def get(self, tag: str | None = None) -> Image | ImageIndex:
        """The image or index tagged `tag` (see `find`)."""
        return open_artifact(self.source, self.find(tag), self.where)

    def get_digest(self, digest: Digest) -> Image | ImageIndex:
        """The image or index with manifest `digest`, listed in index.json or not."""
        try:
            for d in self.entries():
                if d.digest == digest:
                    return open_artifact(self.source, d, self.where)
            stream = self.source.open_blob(digest)
        except BlobUnknown:
            raise ManifestUnknown(f"manifest {digest} not found in {self.where}") from None
        with stream:
            raw = stream.read(MAX_MANIFEST + 1)
        what = f"manifest {digest} in {self.where}"
        if len(raw) > MAX_MANIFEST:
            raise InvalidManifest(f"{what} is over {MAX_MANIFEST} bytes")
        if Digest.of(raw, digest.algorithm) != digest:
            raise DigestMismatch(f"{what}: the blob hashes to {Digest.of(raw, digest.algorithm)}")
        return _from_raw(self.source, raw, what)

    def blobs_in_use(self) -> set[Digest]:
        """Every blob reachable from index.json (manifests, configs, layers); missing children are skipped."""
        seen: set[Digest] = set()
        stack = list(self.entries())
        while stack:
            d = stack.pop()
            if d.digest in seen:
                continue
            seen.add(d.digest)
            if not (is_index(d.media_type) or is_manifest(d.media_type)):
                continue
            try:
                parsed = parse_any(read_verified(self.source, d, MAX_MANIFEST))
            except (BlobUnknown, Unsupported):
                continue
            if isinstance(parsed, IndexManifest):
                stack.extend(parsed.manifests)
            else:
                stack.append(parsed.config)
                stack.extend(parsed.layers)
        return seen


def _names(d: Descriptor) -> list[str]:
    return [n for n in (d.ref_name, d.annotations.get(IMAGE_NAME)) if n]


def _exact(name: str, query: str) -> bool:
    return name == query


def _same_reference(name: str, query: str) -> bool:
    """`busybox:1` matches `docker.io/library/busybox:1` (docker's normalization; both must name a tag)."""
    try:
        return ":" in name and ":" in query and Reference.parse(name) == Reference.parse(query)
    except InvalidReference:
        return False


def _same_tag(name: str, query: str) -> bool:
    """`t` matches `repo:t` and back, when exactly one side names a repository."""
    a, b = _split_ref(name), _split_ref(query)
    return (a[0] is None) != (b[0] is None) and a[1] == b[1]
