"""Image manifests and indexes that keep their raw bytes: the bytes are the truth, the fields a view."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Self

from dockyard.errors import InvalidManifest, Unsupported
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.jsonvalue import JSONObject, JSONValue, decode_object, encode, opt_list, opt_obj, opt_str, str_map
from dockyard.oci.mediatype import INDEX_TYPES, MANIFEST_TYPES, SCHEMA1_TYPES, MediaType


def sniff_media_type(raw: bytes) -> str:
    """The media type of a manifest document: its `mediaType`, else guessed as distribution does."""
    obj = decode_object(raw, "manifest")
    return _media_type_of(obj)


def _media_type_of(obj: JSONObject) -> str:
    mt = opt_str(obj, "mediaType", "manifest")
    if mt:
        return mt
    if _schema_version(obj) == 1:
        return MediaType.DOCKER_SCHEMA1
    return MediaType.OCI_INDEX if "manifests" in obj else MediaType.OCI_MANIFEST


def _schema_version(obj: JSONObject) -> int | None:
    """`schemaVersion` if it is a JSON integer (2.0 and true are not, as for Go's int field)."""
    version = obj.get("schemaVersion")
    return version if type(version) is int else None


def _check_schema(obj: JSONObject, media_type: str, what: str) -> None:
    if media_type in SCHEMA1_TYPES or _schema_version(obj) == 1:
        raise Unsupported(f"{what}: Docker schema1 manifests are not supported (deprecated since 2017)")
    if _schema_version(obj) != 2:
        raise InvalidManifest(f"{what}: schemaVersion must be 2")


@dataclass(frozen=True, slots=True)
class ImageManifest:
    """An OCI image manifest or Docker schema2 manifest (also artifact manifests)."""

    raw: bytes
    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: Mapping[str, str] = field(default_factory=dict)
    subject: Descriptor | None = None
    artifact_type: str | None = None

    @classmethod
    def parse(cls, raw: bytes, what: str = "manifest") -> Self:
        obj = decode_object(raw, what)
        media_type = _media_type_of(obj)
        _check_schema(obj, media_type, what)
        if media_type not in MANIFEST_TYPES:
            raise InvalidManifest(f"{what}: media type {media_type} is not an image manifest")
        config = Descriptor.from_json(obj.get("config"), f"{what}.config")
        layers = tuple(
            Descriptor.from_json(d, f"{what}.layers[{i}]") for i, d in enumerate(opt_list(obj, "layers", what))
        )
        subject = opt_obj(obj, "subject", what)
        return cls(
            raw=raw,
            media_type=media_type,
            config=config,
            layers=layers,
            annotations=str_map(obj, "annotations", what),
            subject=Descriptor.from_json(subject, f"{what}.subject") if subject is not None else None,
            artifact_type=opt_str(obj, "artifactType", what),
        )

    @classmethod
    def build(
        cls,
        config: Descriptor,
        layers: Sequence[Descriptor],
        *,
        media_type: str = MediaType.OCI_MANIFEST,
        annotations: Mapping[str, str] | None = None,
        subject: Descriptor | None = None,
        artifact_type: str | None = None,
    ) -> Self:
        """Serialize a new manifest; its raw bytes are then fixed."""
        obj: JSONObject = {"schemaVersion": 2, "mediaType": media_type}
        if artifact_type:
            obj["artifactType"] = artifact_type
        obj["config"] = config.to_json()
        layer_list: list[JSONValue] = [d.to_json() for d in layers]
        obj["layers"] = layer_list
        if subject is not None:
            obj["subject"] = subject.to_json()
        if annotations:
            obj["annotations"] = dict(annotations)
        return cls.parse(encode(obj))

    @property
    def digest(self) -> Digest:
        return Digest.of(self.raw)

    def descriptor(self, **kw: object) -> Descriptor:
        """A descriptor pointing at this manifest."""
        return Descriptor(self.media_type, self.digest, len(self.raw), **kw)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class IndexManifest:
    """An OCI image index or Docker manifest list."""

    raw: bytes
    media_type: str
    manifests: tuple[Descriptor, ...]
    annotations: Mapping[str, str] = field(default_factory=dict)
    subject: Descriptor | None = None
    artifact_type: str | None = None

    @classmethod
    def parse(cls, raw: bytes, what: str = "index") -> Self:
        obj = decode_object(raw, what)
        media_type = _media_type_of(obj)
        _check_schema(obj, media_type, what)
        if media_type not in INDEX_TYPES:
            raise InvalidManifest(f"{what}: media type {media_type} is not an image index")
        manifests = tuple(
            Descriptor.from_json(d, f"{what}.manifests[{i}]")
            for i, d in enumerate(opt_list(obj, "manifests", what))
        )
        subject = opt_obj(obj, "subject", what)
        return cls(
            raw=raw,
            media_type=media_type,
            manifests=manifests,
            annotations=str_map(obj, "annotations", what),
            subject=Descriptor.from_json(subject, f"{what}.subject") if subject is not None else None,
            artifact_type=opt_str(obj, "artifactType", what),
        )

    @classmethod
    def build(
        cls,
        manifests: Sequence[Descriptor],
        *,
        media_type: str = MediaType.OCI_INDEX,
        annotations: Mapping[str, str] | None = None,
        subject: Descriptor | None = None,
        artifact_type: str | None = None,
    ) -> Self:
        obj: JSONObject = {"schemaVersion": 2, "mediaType": media_type}
        if artifact_type:
            obj["artifactType"] = artifact_type
        entries: list[JSONValue] = [d.to_json() for d in manifests]
        obj["manifests"] = entries
        if subject is not None:
            obj["subject"] = subject.to_json()
        if annotations:
            obj["annotations"] = dict(annotations)
        return cls.parse(encode(obj))

    @property
    def digest(self) -> Digest:
        return Digest.of(self.raw)

    def descriptor(self, **kw: object) -> Descriptor:
        return Descriptor(self.media_type, self.digest, len(self.raw), **kw)  # type: ignore[arg-type]


def parse_any(raw: bytes, what: str = "manifest") -> ImageManifest | IndexManifest:
    """Parse either kind, choosing by media type (or shape when mediaType is absent)."""
    media_type = sniff_media_type(raw)
    if media_type in INDEX_TYPES:
        return IndexManifest.parse(raw, what)
    if media_type in SCHEMA1_TYPES:
        raise Unsupported(f"{what}: Docker schema1 manifests are not supported (deprecated since 2017)")
    return ImageManifest.parse(raw, what)
