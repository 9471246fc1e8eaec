"""The referrers API: an OCI index of the manifests in a repository whose `subject` is a given digest.

Each descriptor carries the manifest's artifactType (else its config's media type) and its annotations,
as distribution-spec v1.1 requires. Manifests listed in a pre-existing referrers-tag-schema index
(`sha256-<hex>`, pushed by clients of registries without this API) are included too.
"""

from __future__ import annotations

from dataclasses import dataclass

from dockyard.errors import Error
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.jsonvalue import JSONObject, JSONValue, encode
from dockyard.oci.manifest import IndexManifest
from dockyard.oci.mediatype import MediaType
from dockyard.registry.meta.base import ManifestRecord, MetadataStore
from dockyard.registry.services.manifests import ManifestService


@dataclass(frozen=True, slots=True)
class ReferrersIndex:
    """The response body and whether the artifactType filter was applied."""

    body: bytes
    filtered: bool


def referrers_tag(subject: Digest) -> str:
    """The referrers tag schema name: `<alg>-<encoded>` truncated as the spec says."""
    return f"{subject.algorithm[:32]}-{subject.encoded[:64]}"


def _descriptor(record: ManifestRecord) -> JSONObject:
    out: JSONObject = {"mediaType": record.media_type, "digest": str(record.digest), "size": record.size}
    if record.effective_artifact_type:
        out["artifactType"] = record.effective_artifact_type
    if record.annotations:
        out["annotations"] = dict(record.annotations)
    return out


class ReferrersService:
    """Builds referrers indexes from metadata (and legacy referrers tags)."""

    def __init__(self, meta: MetadataStore, manifests: ManifestService) -> None:
        self.meta = meta
        self.manifests = manifests

    async def index(self, repository: str, subject: Digest, artifact_type: str | None) -> ReferrersIndex:
        entries: list[JSONValue] = []
        seen: set[Digest] = set()
        for record in self.meta.referrers(repository, subject, artifact_type=artifact_type):
            seen.add(record.digest)
            entries.append(_descriptor(record))
        for legacy in await self._tagged(repository, subject):
            if legacy.digest in seen or (artifact_type is not None and legacy.artifact_type != artifact_type):
                continue
            seen.add(legacy.digest)
            entries.append(legacy.to_json())
        body: JSONObject = {"schemaVersion": 2, "mediaType": MediaType.OCI_INDEX.value, "manifests": entries}
        return ReferrersIndex(encode(body), filtered=artifact_type is not None)

    async def _tagged(self, repository: str, subject: Digest) -> tuple[Descriptor, ...]:
        tag = referrers_tag(subject)
        if self.meta.tag(repository, tag) is None:
            return ()
        try:
            record = self.manifests.resolve(repository, tag)
            if record.media_type != MediaType.OCI_INDEX:
                return ()
            return IndexManifest.parse(await self.manifests.read(record)).manifests
        except Error:  # a broken legacy tag must not break the API
            return ()
