"""Options of the registry client (TLS, credentials file, parallelism, retries) and its progress events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from dockyard import __version__
from dockyard.oci.descriptor import Descriptor

#: Blobs below this size are uploaded in one request (POST, then PUT with the body).
MONOLITHIC_LIMIT = 16 << 20
#: Manifests larger than this are refused on pull (distribution's own limit).
MAX_MANIFEST = 4 << 20
#: Bytes per read from the network and per write to it.
CHUNK = 1 << 20


class BlobState(StrEnum):
    """What happened to one blob or manifest during a push or pull."""

    EXISTS = "exists"  # the registry already had it: skipped
    MOUNTED = "mounted"  # cross-repository mount: no bytes sent
    UPLOADING = "uploading"  # `done` bytes sent so far
    UPLOADED = "uploaded"
    DOWNLOADING = "downloading"  # `done` bytes received so far
    MANIFEST = "manifest"  # a manifest or index was written


@dataclass(frozen=True, slots=True)
class Progress:
    """One progress event: `done` bytes of `descriptor` are through (the whole size once finished)."""

    descriptor: Descriptor
    state: BlobState
    done: int


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True, slots=True)
class RemoteOptions:
    """How to talk to registries.

    `insecure` allows plain HTTP and unverified TLS (loopback registries get it unless `ca_cert` is given,
    as with docker); `ca_cert` is an extra PEM bundle to trust (`/etc/docker/certs.d/HOST/*.crt` and
    `/etc/containers/certs.d/HOST/*.crt` are trusted too); `auth_file` is read first for credentials (and written by
    login); `parallel` bounds concurrent blob transfers; `retries` bounds attempts after a connection error,
    a 5xx or a 429 (waits double from `backoff` seconds, honour `Retry-After`, and never exceed `max_wait`).
    `chunk_size` splits large uploads into PATCH requests of that many bytes (0: one streamed PATCH).
    `on_progress` is called from worker threads.
    """

    insecure: bool = False
    ca_cert: Path | None = None
    auth_file: Path | None = None
    parallel: int = 4
    retries: int = 5
    on_progress: ProgressCallback | None = None
    timeout: float = 60.0
    backoff: float = 0.5
    max_wait: float = 60.0
    chunk_size: int = 0
    monolithic_limit: int = MONOLITHIC_LIMIT
    user_agent: str = f"dockyard/{__version__}"

    def report(self, descriptor: Descriptor, state: BlobState, done: int) -> None:
        """Send one progress event, if anyone listens."""
        if self.on_progress is not None:
            self.on_progress(Progress(descriptor, state, done))
