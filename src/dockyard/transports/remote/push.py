"""Writing an image or index to a registry: blobs first (in parallel), then manifests, children before indexes."""

from __future__ import annotations

from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from dockyard.errors import DigestMismatch, InvalidArgument
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.mediatype import is_index
from dockyard.oci.protocols import Image, ImageIndex
from dockyard.transports.blobs import blobs_of, child_of
from dockyard.transports.remote.client import Session
from dockyard.transports.remote.options import BlobState
from dockyard.transports.remote.pull import RemoteImage
from dockyard.transports.remote.ref import RemoteRef
from dockyard.transports.remote.upload import Opener, push_blob, push_scopes


@dataclass(frozen=True, slots=True)
class PutResult:
    """What a manifest PUT answered: the descriptor stored, and `OCI-Subject` if the registry sent it."""

    descriptor: Descriptor
    subject: Digest | None


@dataclass(frozen=True, slots=True)
class _Blob:
    descriptor: Descriptor
    opener: Opener
    mount_from: str | None


@dataclass(frozen=True, slots=True)
class _Manifest:
    raw: bytes
    media_type: str
    digest: Digest


class _Plan:
    """Every blob (once) and every manifest (children first) an artifact needs at `target`."""

    def __init__(self, target: RemoteRef) -> None:
        self.target = target
        self.blobs: dict[Digest, _Blob] = {}
        self.manifests: list[_Manifest] = []

    def add(self, artifact: Image | ImageIndex) -> _Manifest:
        if isinstance(artifact, Image) and not is_index(artifact.manifest().media_type):
            origin = artifact.origin if isinstance(artifact, RemoteImage) else None
            mount = (origin.repository if origin is not None and origin.registry == self.target.registry
                     and origin.repository != self.target.repository else None)
            for desc, opener in blobs_of(artifact):
                self.blobs.setdefault(desc.digest, _Blob(desc, opener, mount))
            top = _Manifest(artifact.raw_manifest(), artifact.manifest().media_type, artifact.digest())
        else:
            assert isinstance(artifact, ImageIndex)
            for child in artifact.manifests():
                got = self.add(child_of(artifact, child))
                if got.digest != child.digest:
                    raise DigestMismatch(f"index child {child.digest} resolved to {got.digest}")
            top = _Manifest(artifact.raw_manifest(), artifact.index_manifest().media_type, artifact.digest())
        if all(m.digest != top.digest for m in self.manifests):
            self.manifests.append(top)
        return top


def put_manifest(session: Session, repository: str, target: str, raw: bytes, media_type: str) -> PutResult:
    """PUT one manifest by tag or digest; checks the digest the registry announces."""
    digest = Digest.of(raw)
    resp = session.request("PUT", f"/v2/{repository}/manifests/{target}", scopes=push_scopes(repository),
                           what=f"manifest {session.registry}/{repository}:{target}", ok=(201, 200, 202),
                           headers={"Content-Type": media_type}, content=raw)
    resp.close()
    announced = resp.headers.get("docker-content-digest", "").strip()
    if announced and announced != str(digest):
        raise DigestMismatch(f"{session.registry}: stored manifest {target} as {announced}, we sent {digest}")
    subject_header = resp.headers.get("oci-subject", "").strip()
    subject = Digest.parse(subject_header) if subject_header else None
    return PutResult(Descriptor(media_type, digest, len(raw)), subject)


def _push_blobs(session: Session, repository: str, blobs: list[_Blob]) -> None:
    """Upload blobs with at most `options.parallel` at a time; the first failure cancels the rest."""
    workers = max(1, min(session.options.parallel, len(blobs)))
    if workers == 1:
        for b in blobs:
            push_blob(session, repository, b.descriptor, b.opener, mount_from=b.mount_from)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dockyard-push") as pool:
        futures: list[Future[BlobState]] = [
            pool.submit(push_blob, session, repository, b.descriptor, b.opener, mount_from=b.mount_from)
            for b in blobs
        ]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for f in pending:
            f.cancel()
        for f in done:
            exc = f.exception()
            if exc is not None:
                raise exc


def push_artifact(session: Session, ref: RemoteRef, artifact: Image | ImageIndex) -> PutResult:
    """Push every blob, then every manifest; the top one by tag (or by digest if `ref` has no tag)."""
    plan = _Plan(ref)
    top = plan.add(artifact)
    if ref.digest is not None and ref.digest != top.digest:
        raise InvalidArgument(f"cannot push to {ref}: the artifact's digest is {top.digest}")
    _push_blobs(session, ref.repository, list(plan.blobs.values()))
    result = None
    for m in plan.manifests:
        target = ref.tag if m.digest == top.digest and ref.tag else str(m.digest)
        result = put_manifest(session, ref.repository, target, m.raw, m.media_type)
        session.options.report(result.descriptor, BlobState.MANIFEST, len(m.raw))
    assert result is not None
    return result
