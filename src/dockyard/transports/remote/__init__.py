"""The `remote` transport: pull from and push to OCI/Docker registries (distribution API v2, OCI 1.1).

Every function takes a `RemoteRef` (or its text, `REGISTRY/REPO[:TAG][@DIGEST]`, normalized as docker
does) and `RemoteOptions`. Errors are dockyard errors: Unauthorized (401 after authenticating),
Denied (403), ManifestUnknown / BlobUnknown (404), DigestMismatch, and a plain Error naming the
registry when it cannot be reached or keeps failing after the retry budget.
"""

from __future__ import annotations

from pathlib import Path

from dockyard.errors import DigestMismatch, ManifestUnknown, Unauthorized
from dockyard.image.select import select_image
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.platform import Platform
from dockyard.oci.protocols import Image, ImageIndex
from dockyard.transports.remote import catalog as _catalog
from dockyard.transports.remote import referrers as _referrers
from dockyard.transports.remote.auth import scope_for
from dockyard.transports.remote.client import Session
from dockyard.transports.remote.credentials import (
    erase_credentials,
    find_credentials,
    normalize_host,
    store_credentials,
)
from dockyard.transports.remote.credhelper import Credentials
from dockyard.transports.remote.options import BlobState, Progress, ProgressCallback, RemoteOptions
from dockyard.transports.remote.pull import ACCEPT, RawManifest, RemoteImage, RemoteIndex, RemoteSource
from dockyard.transports.remote.push import push_artifact
from dockyard.transports.remote.ref import DOCKER_HUB_API, RemoteRef

__all__ = [
    "BlobState", "Credentials", "Progress", "ProgressCallback", "RawManifest", "RemoteImage", "RemoteIndex",
    "RemoteOptions", "RemoteRef", "attach", "catalog", "delete", "find_credentials", "get_manifest_raw",
    "head_digest", "list_referrers", "list_tags", "login", "logout", "open_remote", "push", "session_for",
]

Ref = RemoteRef | str


def session_for(ref: Ref, options: RemoteOptions | None = None) -> Session:
    """A session to the registry of `ref` (callers close it), for several calls in a row."""
    r = RemoteRef.of(ref)
    return Session(r.api_host, options or RemoteOptions(), name=r.registry)


def open_remote(ref: Ref, *, platform: Platform | None = None,
                options: RemoteOptions | None = None) -> Image | ImageIndex:
    """The image or index `ref` names; blobs are fetched lazily, verified and resumable.

    With `platform`, an index is narrowed to that platform's image (`unknown/unknown` entries skipped).
    """
    r = RemoteRef.of(ref)
    source = RemoteSource(session_for(r, options), r)
    artifact = source.artifact(source.fetch_manifest(r.target, expect=r.digest))
    if platform is not None and isinstance(artifact, ImageIndex):
        return select_image(artifact, platform)
    return artifact


def get_manifest_raw(ref: Ref, options: RemoteOptions | None = None) -> RawManifest:
    """The manifest bytes exactly as served, verified against the digest asked for or announced."""
    r = RemoteRef.of(ref)
    session = session_for(r, options)
    try:
        return RemoteSource(session, r).fetch_manifest(r.target, expect=r.digest)
    finally:
        session.close()


def _head(session: Session, r: RemoteRef) -> Descriptor:
    source = RemoteSource(session, r)
    resp = session.request("HEAD", f"/v2/{r.repository}/manifests/{r.target}", scopes=source.scopes,
                           what=str(r), headers={"Accept": ACCEPT}, missing=ManifestUnknown)
    resp.close()
    announced = resp.headers.get("docker-content-digest", "").strip()
    length = resp.headers.get("content-length", "")
    media_type = resp.headers.get("content-type", "").split(";")[0].strip()
    if announced and length.isdigit() and media_type:
        digest = Digest.parse(announced)
        if r.digest is not None and digest != r.digest:
            raise DigestMismatch(f"{r} is announced as {digest}")
        return Descriptor(media_type, digest, int(length))
    return source.fetch_manifest(r.target, expect=r.digest).descriptor()


def head_digest(ref: Ref, options: RemoteOptions | None = None) -> Descriptor:
    """The descriptor (media type, digest, size) of the manifest `ref` names, with a HEAD request if possible."""
    r = RemoteRef.of(ref)
    session = session_for(r, options)
    try:
        return _head(session, r)
    finally:
        session.close()


def push(artifact: Image | ImageIndex, ref: Ref, options: RemoteOptions | None = None) -> Descriptor:
    """Write an image or index to `ref` (blobs in parallel, then manifests); returns the top descriptor."""
    r = RemoteRef.of(ref)
    session = session_for(r, options)
    try:
        return push_artifact(session, r, artifact).descriptor
    finally:
        session.close()


def delete(ref: Ref, options: RemoteOptions | None = None) -> Digest:
    """Delete the manifest `ref` names (a tag is resolved first, so every tag of it goes); returns its digest."""
    r = RemoteRef.of(ref)
    session = session_for(r, options)
    try:
        digest = r.digest or _head(session, r).digest
        session.request("DELETE", f"/v2/{r.repository}/manifests/{digest}",
                        scopes=(scope_for(r.repository, "delete"),), what=f"delete {r}", ok=(200, 202, 204),
                        missing=ManifestUnknown).close()
        return digest
    finally:
        session.close()


def list_tags(ref: Ref, options: RemoteOptions | None = None, *, page_size: int | None = None) -> list[str]:
    """The tags of `ref`'s repository (its tag or digest is ignored)."""
    r = RemoteRef.of(ref if not isinstance(ref, str) else RemoteRef.parse(ref, default_tag=False))
    session = session_for(r, options)
    try:
        return _catalog.list_tags(session, r.repository, page_size=page_size)
    finally:
        session.close()


def _registry_session(registry: str, options: RemoteOptions | None,
                      credentials: Credentials | None = None) -> Session:
    host = normalize_host(registry)
    return Session(DOCKER_HUB_API if host == "docker.io" else host, options or RemoteOptions(), name=host,
                   credentials=credentials)


def catalog(registry: str, options: RemoteOptions | None = None, *, page_size: int | None = None) -> list[str]:
    """The repositories a registry (`host[:port]`) lists."""
    session = _registry_session(registry, options)
    try:
        return _catalog.catalog(session, page_size=page_size)
    finally:
        session.close()


def list_referrers(ref: Ref, options: RemoteOptions | None = None, *,
                   artifact_type: str | None = None) -> list[Descriptor]:
    """The referrers of the manifest `ref` names (a tag is resolved to its digest first)."""
    r = RemoteRef.of(ref)
    session = session_for(r, options)
    try:
        subject = r.digest or _head(session, r).digest
        return _referrers.list_referrers(session, r, subject, artifact_type=artifact_type)
    finally:
        session.close()


def attach(subject: Ref, artifact: Image | ImageIndex, options: RemoteOptions | None = None) -> Descriptor:
    """Push `artifact` (its `subject` set to the manifest `subject` names) next to it, discoverable as a referrer."""
    r = RemoteRef.of(subject)
    session = session_for(r, options)
    try:
        digest = r.digest or _head(session, r).digest
        return _referrers.attach(session, r, digest, artifact)
    finally:
        session.close()


def login(registry: str, username: str, password: str, options: RemoteOptions | None = None) -> Path:
    """Check the credentials against the registry, then store them as `docker login` does; returns the file."""
    creds = Credentials(username, password)
    session = _registry_session(registry, options, creds)
    try:
        session.request("GET", "/v2/", scopes=(), what="login").close()
    except Unauthorized as exc:
        exc.hint = None  # "run dockyard login" is no advice for a failing login
        raise
    finally:
        session.close()
    return store_credentials(normalize_host(registry), creds, auth_file=(options or RemoteOptions()).auth_file)


def logout(registry: str, options: RemoteOptions | None = None) -> bool:
    """Forget the stored credentials of `registry`; False when there were none."""
    return erase_credentials(normalize_host(registry), auth_file=(options or RemoteOptions()).auth_file)
