"""Reading from a registry: manifests fetched and verified by digest, images and indexes whose blobs stream lazily."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, cast

from dockyard.errors import (
    BlobUnknown,
    DigestMismatch,
    InvalidArgument,
    LimitExceeded,
    ManifestUnknown,
    SizeMismatch,
    Unsupported,
)
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import sniff_media_type
from dockyard.oci.mediatype import MediaType, is_index
from dockyard.oci.protocols import Image, ImageIndex
from dockyard.transports.blobs import BlobImage, BlobIndex
from dockyard.transports.remote.auth import scope_for
from dockyard.transports.remote.client import Session
from dockyard.transports.remote.options import MAX_MANIFEST, BlobState
from dockyard.transports.remote.reader import BlobReader
from dockyard.transports.remote.ref import RemoteRef

#: What we ask for on the manifests endpoint (schema1 is refused, so never asked for).
ACCEPT = ", ".join([MediaType.OCI_INDEX, MediaType.OCI_MANIFEST, MediaType.DOCKER_MANIFEST_LIST,
                    MediaType.DOCKER_MANIFEST])
_OCTET = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class RawManifest:
    """A manifest as the registry served it: the bytes, their media type and digest."""

    raw: bytes
    media_type: str
    digest: Digest

    def descriptor(self) -> Descriptor:
        return Descriptor(self.media_type, self.digest, len(self.raw))


def _header_digest(value: str | None) -> Digest | None:
    if not value:
        return None
    try:
        return Digest.parse(value.strip())
    except (InvalidArgument, Unsupported):  # a header we cannot check: the bytes are still hashed
        return None


class RemoteSource:
    """The blobs and manifests of one repository: a BlobSource whose reads stream and resume."""

    def __init__(self, session: Session, ref: RemoteRef) -> None:
        self.session = session
        self.ref = ref
        self.scopes = (scope_for(ref.repository, "pull"),)
        self._known: dict[Digest, Descriptor] = {}

    def learn(self, descriptors: tuple[Descriptor, ...]) -> None:
        """Remember sizes and types of blobs a manifest lists (for progress and truncation checks)."""
        for d in descriptors:
            self._known.setdefault(d.digest, d)

    def open_blob(self, digest: Digest) -> BinaryIO:
        desc = self._known.get(digest) or Descriptor(_OCTET, digest, 0)
        size = desc.size if digest in self._known else None
        options = self.session.options

        def progress(done: int) -> None:
            options.report(desc, BlobState.DOWNLOADING, done)

        reader = BlobReader(self.session, f"/v2/{self.ref.repository}/blobs/{digest}", scopes=self.scopes,
                            what=f"blob {digest} of {self.ref.registry}/{self.ref.repository}", size=size,
                            progress=progress if options.on_progress else None)
        return cast(BinaryIO, reader)

    def has_blob(self, digest: Digest) -> bool:
        resp = self.session.send("HEAD", f"/v2/{self.ref.repository}/blobs/{digest}", scopes=self.scopes)
        resp.close()
        if resp.status_code in (200, 404):
            return resp.status_code == 200
        self.session.check(resp, ok=(200,), what=f"blob {digest}", missing=BlobUnknown)
        return False

    def fetch_manifest(self, target: str, *, expect: Digest | None = None, size: int | None = None) -> RawManifest:
        """GET a manifest by tag or digest, refusing oversized ones, and verify it.

        The digest checked is `expect` (a digest reference or index entry), else the registry's
        `Docker-Content-Digest`; the bytes are kept exactly as served.
        """
        what = f"{self.ref.registry}/{self.ref.repository}{'@' if target.count(':') else ':'}{target}"
        resp = self.session.request("GET", f"/v2/{self.ref.repository}/manifests/{target}", scopes=self.scopes,
                                    what=what, headers={"Accept": ACCEPT}, stream=True, missing=ManifestUnknown)
        parts: list[bytes] = []
        total = 0
        try:
            for chunk in resp.iter_bytes():
                total += len(chunk)
                if total > MAX_MANIFEST:
                    raise LimitExceeded(f"manifest {what} is over the {MAX_MANIFEST}-byte limit")
                parts.append(chunk)
        finally:
            resp.close()
        raw = b"".join(parts)
        served = _header_digest(resp.headers.get("docker-content-digest"))
        wanted = expect or served
        digest = Digest.of(raw, wanted.algorithm if wanted else "sha256")
        if wanted is not None and digest != wanted:
            source = "asked for" if expect else "the registry announced"
            raise DigestMismatch(f"manifest {what} hashes to {digest}, {source} {wanted}")
        if size is not None and len(raw) != size:
            raise SizeMismatch(f"manifest {what} is {len(raw)} bytes, its descriptor says {size}")
        return RawManifest(raw, sniff_media_type(raw), digest)

    def artifact(self, manifest: RawManifest) -> Image | ImageIndex:
        """The image or index a fetched manifest describes."""
        origin = self.ref.in_repository(self.ref.repository).with_digest(manifest.digest)
        if is_index(manifest.media_type):
            return RemoteIndex(self, manifest.raw, origin)
        return RemoteImage(self, manifest.raw, origin)


class RemoteImage(BlobImage):
    """An image in a registry; `origin` names its repository and digest (used for cross-repository mounts)."""

    def __init__(self, source: RemoteSource, raw: bytes, origin: RemoteRef) -> None:
        super().__init__(source, raw, what=f"manifest {origin}")
        self.origin = origin
        source.learn((self.manifest().config, *self.manifest().layers))


class RemoteIndex(BlobIndex):
    """An index in a registry; children are fetched from the manifests endpoint and verified."""

    def __init__(self, source: RemoteSource, raw: bytes, origin: RemoteRef) -> None:
        super().__init__(source, raw, what=f"index {origin}")
        self.origin = origin
        self._remote = source

    def _fetch(self, digest: Digest) -> bytes:
        for d in self.manifests():
            if d.digest == digest:
                return self._remote.fetch_manifest(str(digest), expect=digest, size=d.size).raw
        raise ManifestUnknown(f"index {self.digest()} has no child {digest}")

    def image(self, digest: Digest) -> Image:
        return RemoteImage(self._remote, self._fetch(digest), self.origin.with_digest(digest))

    def index(self, digest: Digest) -> ImageIndex:
        return RemoteIndex(self._remote, self._fetch(digest), self.origin.with_digest(digest))
