"""Content descriptors: what a manifest says about a blob (type, digest, size, platform, annotations)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Self

from dockyard.errors import InvalidArgument, InvalidManifest, Unsupported
from dockyard.oci.digest import Digest
from dockyard.oci.jsonvalue import JSONObject, JSONValue, opt_obj, opt_str, req_int, req_str, str_list, str_map
from dockyard.oci.platform import Platform

REF_NAME = "org.opencontainers.image.ref.name"
CREATED = "org.opencontainers.image.created"
BASE_DIGEST = "org.opencontainers.image.base.digest"
BASE_NAME = "org.opencontainers.image.base.name"


@dataclass(frozen=True, slots=True)
class Descriptor:
    """An OCI content descriptor."""

    media_type: str
    digest: Digest
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)
    platform: Platform | None = None
    artifact_type: str | None = None
    urls: tuple[str, ...] = ()
    data: bytes | None = None

    @classmethod
    def for_bytes(cls, media_type: str, content: bytes, **kw: object) -> Self:
        """Describe `content` (sha256)."""
        return cls(media_type, Digest.of(content), len(content), **kw)  # type: ignore[arg-type]

    @classmethod
    def from_json(cls, obj: JSONValue, what: str = "descriptor") -> Self:
        if not isinstance(obj, dict):
            raise InvalidManifest(f"{what} must be a JSON object")
        try:
            digest = Digest.parse(req_str(obj, "digest", what))
        except InvalidArgument as exc:
            raise InvalidManifest(f"{what}: field 'digest': {exc.message}") from None
        except Unsupported as exc:
            raise Unsupported(f"{what}: field 'digest': {exc.message}") from None
        size = req_int(obj, "size", what)
        if size < 0:
            raise InvalidManifest(f"{what}: field 'size' is negative ({size})")
        plat = opt_obj(obj, "platform", what)
        urls = str_list(obj, "urls", what) or []
        data = opt_str(obj, "data", what)
        decoded = None
        if data is not None:
            try:
                decoded = base64.b64decode(data, validate=True)
            except binascii.Error:
                raise InvalidManifest(f"{what}: field 'data' is not base64") from None
            if len(decoded) != size or Digest.of(decoded, digest.algorithm) != digest:
                raise InvalidManifest(f"{what}: embedded data does not match digest {digest}")
        return cls(
            media_type=req_str(obj, "mediaType", what),
            digest=digest,
            size=size,
            annotations=str_map(obj, "annotations", what),
            platform=Platform.from_json(plat, f"{what}.platform") if plat is not None else None,
            artifact_type=opt_str(obj, "artifactType", what),
            urls=tuple(urls),
            data=decoded,
        )

    def to_json(self) -> JSONObject:
        out: JSONObject = {"mediaType": self.media_type, "digest": str(self.digest), "size": self.size}
        if self.urls:
            urls: list[JSONValue] = list(self.urls)
            out["urls"] = urls
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.data is not None:
            out["data"] = base64.b64encode(self.data).decode()
        if self.platform is not None:
            out["platform"] = self.platform.to_json()
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        return out

    def with_annotations(self, extra: Mapping[str, str]) -> Descriptor:
        """A copy with `extra` merged over the annotations."""
        return Descriptor(self.media_type, self.digest, self.size, {**self.annotations, **extra},
                          self.platform, self.artifact_type, self.urls, self.data)

    def with_platform(self, platform: Platform | None) -> Descriptor:
        return Descriptor(self.media_type, self.digest, self.size, self.annotations,
                          platform, self.artifact_type, self.urls, self.data)

    @property
    def ref_name(self) -> str | None:
        """The `org.opencontainers.image.ref.name` annotation (the tag in an OCI layout)."""
        return self.annotations.get(REF_NAME)
