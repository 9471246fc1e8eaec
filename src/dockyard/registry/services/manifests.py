"""Manifests in repositories: resolve a tag or digest, read the stored bytes, push with checks, delete.

The bytes are the truth: a pushed manifest is stored exactly as received (as a blob) and served back
byte for byte; its digest is computed over those bytes with the algorithm the client named.
"""

from __future__ import annotations

from collections.abc import Sequence

from dockyard.errors import ManifestUnknown, NotFound
from dockyard.oci.digest import Digest
from dockyard.registry import errcodes
from dockyard.registry.errcodes import RegistryError
from dockyard.registry.meta.base import ManifestRecord, MetadataStore
from dockyard.registry.services.blobs import BlobService
from dockyard.registry.services.manifest_check import inspect_manifest
from dockyard.registry.services.offload import Offload
from dockyard.registry.services.paths import blob_path
from dockyard.registry.storage.base import StorageDriver

#: A manifest reference from a URL: a digest, or a tag.
ManifestReference = Digest | str


class ManifestService:
    """Manifest operations over storage and metadata."""

    def __init__(self, driver: StorageDriver, meta: MetadataStore, blobs: BlobService, offload: Offload) -> None:
        self.driver = driver
        self.meta = meta
        self.blobs = blobs
        self.offload = offload

    def _unknown(self, repository: str, reference: ManifestReference) -> RegistryError:
        if not self.meta.repository_exists(repository):
            return RegistryError(errcodes.NAME_UNKNOWN, f"repository {repository} is not known")
        return RegistryError(errcodes.MANIFEST_UNKNOWN, f"manifest {reference} is not in {repository}")

    def resolve(self, repository: str, reference: ManifestReference) -> ManifestRecord:
        """The manifest a tag or digest names in `repository`."""
        digest = reference if isinstance(reference, Digest) else self.meta.tag(repository, reference)
        record = self.meta.manifest(repository, digest) if digest is not None else None
        if record is None:
            raise self._unknown(repository, reference)
        return record

    async def read(self, record: ManifestRecord) -> bytes:
        """The stored bytes of a manifest."""
        try:
            return await self.offload.run(self.driver.get_content, blob_path(record.digest))
        except NotFound:
            raise ManifestUnknown(f"manifest {record.digest} is missing from storage") from None

    async def put(self, repository: str, reference: ManifestReference, raw: bytes, content_type: str | None,
                  *, tags: Sequence[str] = (), actor: str) -> ManifestRecord:
        """Check and store a manifest, then point the tag (and any extra `tags`) at it."""
        if isinstance(reference, Digest):
            digest = Digest.of(raw, reference.algorithm)
            if digest != reference:
                raise RegistryError(errcodes.DIGEST_INVALID, f"manifest hashes to {digest}, not {reference}",
                                    detail={"expected": str(reference), "actual": str(digest)})
            all_tags = list(tags)
        else:
            digest = Digest.of(raw)
            all_tags = [reference, *tags]
        inspected = inspect_manifest(raw, content_type, digest)
        missing: list[Digest] = []
        embedded: list[tuple[Digest, bytes]] = []
        blobs: list[Digest] = [digest]
        children: list[Digest] = []
        for need in inspected.needed:
            ref = need.ref
            if need.must_be_manifest:
                children.append(ref.digest)
                if self.meta.manifest(repository, ref.digest) is None:
                    missing.append(ref.digest)
            elif need.data is not None:
                embedded.append((ref.digest, need.data))
                blobs.append(ref.digest)
            elif not need.foreign:
                blobs.append(ref.digest)
                if self.meta.blob_size(repository, ref.digest) is None:
                    missing.append(ref.digest)
        if missing:
            raise _blob_unknown(repository, missing)
        for blob_digest, data in embedded:
            await self.blobs.ingest(repository, blob_digest, data, actor=actor)
        await self.blobs.ingest(repository, digest, raw, actor=actor)
        # Checked again inside the recording transaction: a garbage collector may have removed a blob or an
        # untagged child since the checks above (then the push fails; it never records a dangling manifest).
        missing = self.meta.put_manifest(repository, inspected.record, [n.ref for n in inspected.needed], all_tags,
                                         actor=actor, require_blobs=blobs, require_manifests=children)
        if missing:
            raise _blob_unknown(repository, missing)
        return inspected.record

    def delete(self, repository: str, reference: ManifestReference, *, actor: str) -> None:
        """Delete a manifest by digest (its tags go too) or untag by tag."""
        if isinstance(reference, Digest):
            deleted = self.meta.delete_manifest(repository, reference, actor=actor)
        else:
            deleted = self.meta.delete_tag(repository, reference, actor=actor)
        if not deleted:
            raise self._unknown(repository, reference)


def _blob_unknown(repository: str, missing: Sequence[Digest]) -> RegistryError:
    names = dict.fromkeys(str(d) for d in missing)
    return RegistryError(errcodes.MANIFEST_BLOB_UNKNOWN, f"manifest references {len(names)} blob(s) not in "
                         f"{repository}", detail={"missing": list(names)})
