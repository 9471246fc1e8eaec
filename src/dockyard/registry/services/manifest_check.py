"""Reading a pushed manifest: its media type, what it references, and what the registry records about it.

Pure functions over the raw bytes (no storage, no metadata): `inspect_manifest` accepts OCI and Docker
schema2 manifests and indexes, rejects schema1 and anything else with MANIFEST_INVALID, and lists the
descriptors that must exist in the repository before the push is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

from dockyard.errors import InvalidManifest, Unsupported
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.jsonvalue import decode_object, opt_str
from dockyard.oci.manifest import ImageManifest, IndexManifest
from dockyard.oci.mediatype import EMPTY_DIGEST, EMPTY_JSON, INDEX_TYPES, MANIFEST_TYPES, SCHEMA1_TYPES, MediaType
from dockyard.registry import errcodes
from dockyard.registry.errcodes import RegistryError
from dockyard.registry.meta.base import ManifestRecord, ManifestRef, RefKind

ACCEPTED_TYPES = INDEX_TYPES | MANIFEST_TYPES


@dataclass(frozen=True, slots=True)
class Needed:
    """A descriptor the manifest points at, and what it must be in the repository."""

    ref: ManifestRef
    must_be_manifest: bool
    data: bytes | None = None
    foreign: bool = False


@dataclass(frozen=True, slots=True)
class InspectedManifest:
    """What a push is about to record."""

    record: ManifestRecord
    needed: tuple[Needed, ...]


def _base_type(content_type: str | None) -> str | None:
    """The media type of a Content-Type header without parameters (`; charset=utf-8`)."""
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def _invalid(message: str) -> RegistryError:
    return RegistryError(errcodes.MANIFEST_INVALID, message)


def media_type_of(raw: bytes, content_type: str | None) -> str:
    """The manifest's media type: its `mediaType` field, else the Content-Type, else its shape."""
    try:
        obj = decode_object(raw, "manifest")
        declared = opt_str(obj, "mediaType", "manifest")
    except InvalidManifest as exc:
        raise _invalid(exc.message) from None
    header = _base_type(content_type)
    if obj.get("schemaVersion") == 1 or declared in SCHEMA1_TYPES or (not declared and header in SCHEMA1_TYPES):
        raise RegistryError(errcodes.MANIFEST_INVALID, "Docker schema1 manifests are not supported",
                            detail="push schema2 or OCI manifests (every client since 2017 does)")
    if declared:
        if declared not in ACCEPTED_TYPES:
            raise _invalid(f"unsupported manifest media type {declared!r}")
        return declared
    shape_is_index = "manifests" in obj
    if header in ACCEPTED_TYPES and (header in INDEX_TYPES) == shape_is_index:
        return header
    return MediaType.OCI_INDEX if shape_is_index else MediaType.OCI_MANIFEST


def _needed(kind: RefKind, d: Descriptor) -> Needed:
    ref = ManifestRef(kind, d.digest, d.size, d.media_type)
    if kind is RefKind.CHILD:
        return Needed(ref, must_be_manifest=d.media_type in ACCEPTED_TYPES)
    data = d.data
    if data is None and str(d.digest) == EMPTY_DIGEST and d.size == len(EMPTY_JSON):
        data = EMPTY_JSON  # the well-known empty blob: the registry knows its bytes
    return Needed(ref, must_be_manifest=False, data=data, foreign=bool(d.urls) and data is None)


def inspect_manifest(raw: bytes, content_type: str | None, digest: Digest) -> InspectedManifest:
    """Parse and check a pushed manifest; raises MANIFEST_INVALID (RegistryError) for anything unacceptable."""
    media_type = media_type_of(raw, content_type)
    try:
        if media_type in INDEX_TYPES:
            index = IndexManifest.parse(raw)
            needed = tuple(_needed(RefKind.CHILD, d) for d in index.manifests)
            subject, artifact_type, annotations, config_type = (index.subject, index.artifact_type,
                                                                index.annotations, None)
        else:
            image = ImageManifest.parse(raw)
            needed = (_needed(RefKind.CONFIG, image.config), *(_needed(RefKind.LAYER, d) for d in image.layers))
            subject, artifact_type, annotations, config_type = (image.subject, image.artifact_type,
                                                                image.annotations, image.config.media_type)
    except (InvalidManifest, Unsupported) as exc:
        raise _invalid(exc.message) from None
    record = ManifestRecord(
        digest=digest,
        media_type=media_type,
        size=len(raw),
        subject=subject.digest if subject is not None else None,
        artifact_type=artifact_type,
        config_media_type=config_type,
        annotations=dict(annotations),
    )
    return InspectedManifest(record, needed)
