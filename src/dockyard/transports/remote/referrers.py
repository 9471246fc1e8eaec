"""OCI 1.1 referrers: list what refers to a manifest, and attach an artifact to one.

Listing uses `GET /v2/<name>/referrers/<digest>`; a registry without it (404) is read through the
referrers tag schema, an index tagged `<alg>-<hex>`. Attaching pushes the artifact by digest; unless
the registry answers `OCI-Subject`, the artifact is also added to that fallback index.
"""

from __future__ import annotations

from urllib.parse import quote

from dockyard.errors import InvalidArgument, LimitExceeded, ManifestUnknown
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import IndexManifest
from dockyard.oci.mediatype import MediaType, is_index
from dockyard.oci.protocols import Image, ImageIndex
from dockyard.transports.remote.auth import scope_for
from dockyard.transports.remote.client import Session
from dockyard.transports.remote.options import MAX_MANIFEST
from dockyard.transports.remote.pull import RemoteSource
from dockyard.transports.remote.push import push_artifact, put_manifest
from dockyard.transports.remote.ref import RemoteRef

MAX_PAGES = 1000


def fallback_tag(digest: Digest) -> str:
    """The referrers tag schema: `<alg[:32]>-<encoded[:64]>`."""
    return f"{digest.algorithm[:32]}-{digest.encoded[:64]}"


def _filter(descs: list[Descriptor], artifact_type: str | None) -> list[Descriptor]:
    return [d for d in descs if artifact_type is None or d.artifact_type == artifact_type]


def _from_fallback(source: RemoteSource, subject: Digest) -> IndexManifest | None:
    try:
        raw = source.fetch_manifest(fallback_tag(subject)).raw
    except ManifestUnknown:
        return None
    return IndexManifest.parse(raw, f"referrers tag {fallback_tag(subject)}")


def list_referrers(session: Session, ref: RemoteRef, subject: Digest, *,
                   artifact_type: str | None = None) -> list[Descriptor]:
    """Descriptors of the manifests whose `subject` is `subject`, optionally of one artifact type."""
    repo = ref.repository
    query = f"?artifactType={quote(artifact_type, safe='')}" if artifact_type else ""
    url: str | None = f"/v2/{repo}/referrers/{subject}{query}"
    found: list[Descriptor] = []
    filtered = True
    for _ in range(MAX_PAGES):
        if url is None:
            break
        resp = session.request("GET", url, scopes=(scope_for(repo, "pull"),), what=f"referrers of {subject}",
                               ok=(200, 404), headers={"Accept": MediaType.OCI_INDEX})
        if resp.status_code == 404:
            resp.close()
            if found:
                break
            index = _from_fallback(RemoteSource(session, ref), subject)
            return _filter(list(index.manifests), artifact_type) if index else []
        if len(resp.content) > MAX_MANIFEST:
            raise LimitExceeded(f"{session.registry}: the referrers list of {subject} is over {MAX_MANIFEST} bytes")
        found.extend(IndexManifest.parse(resp.content, f"referrers of {subject}").manifests)
        filtered = filtered and "artifacttype" in resp.headers.get("oci-filters-applied", "").lower()
        nxt = resp.links.get("next", {}).get("url")
        url = str(resp.url.join(nxt)) if nxt else None
    return found if filtered or artifact_type is None else _filter(found, artifact_type)


def referrer_descriptor(artifact: Image | ImageIndex) -> tuple[Descriptor, Descriptor | None]:
    """How an artifact is listed among referrers, and its `subject`."""
    if isinstance(artifact, Image) and not is_index(artifact.manifest().media_type):
        m = artifact.manifest()
        kind = m.artifact_type or m.config.media_type
        return Descriptor(m.media_type, artifact.digest(), len(m.raw), m.annotations, artifact_type=kind), m.subject
    assert isinstance(artifact, ImageIndex)
    ix = artifact.index_manifest()
    return Descriptor(ix.media_type, artifact.digest(), len(ix.raw), ix.annotations,
                      artifact_type=ix.artifact_type), ix.subject


def attach(session: Session, ref: RemoteRef, subject: Digest, artifact: Image | ImageIndex) -> Descriptor:
    """Push `artifact` (whose `subject` must be `subject`) into `ref`'s repository and make it discoverable."""
    listed, artifact_subject = referrer_descriptor(artifact)
    if artifact_subject is None or artifact_subject.digest != subject:
        raise InvalidArgument(f"artifact {listed.digest} does not have {subject} as its subject",
                              hint="build the artifact with `subject` set to the descriptor of the image")
    result = push_artifact(session, RemoteRef(ref.registry, ref.repository, None, listed.digest), artifact)
    if result.subject is None:
        tag = fallback_tag(subject)
        current = _from_fallback(RemoteSource(session, ref), subject)
        entries = list(current.manifests) if current else []
        if all(d.digest != listed.digest for d in entries):
            index = IndexManifest.build([*entries, listed])
            put_manifest(session, ref.repository, tag, index.raw, index.media_type)
    return listed
