"""Pushing one blob: skip it if present, mount it from another repository, else upload it streamed.

Blobs under `options.monolithic_limit` go up in one PUT after the POST that opens the upload; larger
ones are streamed with PATCH (one request, or `options.chunk_size` pieces with `Content-Range`), then
closed by an empty PUT with the digest. A failed upload is retried (`Session.retrying`): a streamed one resumes
where the registry says it stands (GET on the upload URL, `Range: 0-N`, as the distribution spec allows), so a
connection lost at 90% of a large layer does not send it all again; an upload the registry no longer knows, or a
small one, starts over from a fresh POST.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO
from urllib.parse import quote

import httpx

from dockyard.errors import DigestMismatch, Error
from dockyard.oci.descriptor import Descriptor
from dockyard.transports.remote.auth import scope_for
from dockyard.transports.remote.client import Session
from dockyard.transports.remote.options import CHUNK, BlobState

Opener = Callable[[], BinaryIO]
_OCTET = {"Content-Type": "application/octet-stream"}


def push_scopes(repository: str, mount_from: str | None = None) -> tuple[str, ...]:
    extra = (scope_for(mount_from, "pull"),) if mount_from and mount_from != repository else ()
    return (scope_for(repository, "pull", "push"), *extra)


def blob_exists(session: Session, repository: str, desc: Descriptor) -> bool:
    resp = session.request("HEAD", f"/v2/{repository}/blobs/{desc.digest}", scopes=push_scopes(repository),
                           what=f"blob {desc.digest}", ok=(200, 404))
    resp.close()
    return resp.status_code == 200


def _location(resp: httpx.Response, registry: str) -> str:
    value = resp.headers.get("location")
    resp.close()
    if not value:
        raise Error(f"{registry}: the registry opened an upload without a Location header")
    return str(resp.url.join(value))


def _with_digest(location: str, desc: Descriptor) -> str:
    return f"{location}{'&' if '?' in location else '?'}digest={quote(str(desc.digest), safe='')}"


def _pieces(stream: BinaryIO, length: int, sent: Callable[[int], None], *, last: bool) -> Iterator[bytes]:
    """`length` bytes of `stream` in chunks; with `last`, the stream must then be at its end.

    Reading the end is what makes a verifying stream check the digest, before the registry is told it.
    """
    left = length
    while left > 0:
        chunk = stream.read(min(CHUNK, left))
        if not chunk:
            raise Error(f"blob ended {left} bytes before its declared size")
        left -= len(chunk)
        sent(len(chunk))
        yield chunk
    if last and stream.read(1):
        raise Error(f"blob is longer than its declared {length} bytes")


def _finish(session: Session, resp: httpx.Response, desc: Descriptor, what: str) -> None:
    session.check(resp, ok=(201, 204), what=what)
    resp.close()
    announced = resp.headers.get("docker-content-digest")
    if announced and announced.strip() != str(desc.digest):
        raise DigestMismatch(f"{session.registry}: stored {what} as {announced}, expected {desc.digest}")


def _skip(stream: BinaryIO, count: int) -> None:
    """Advance a fresh `stream` by `count` bytes (seek when it can, else read them)."""
    if count and getattr(stream, "seekable", lambda: False)():
        stream.seek(count)
        return
    left = count
    while left > 0:
        chunk = stream.read(min(CHUNK, left))
        if not chunk:
            raise Error(f"blob ended after {count - left} bytes while resuming an upload at {count}")
        left -= len(chunk)


def upload_offset(session: Session, location: str, scopes: tuple[str, ...], what: str) -> int | None:
    """How many bytes an open upload holds (its `Range: 0-N` is N+1); None when the registry dropped it."""
    resp = session.check(session.send("GET", location, scopes=scopes), ok=(204, 404), what=what)
    resp.close()
    if resp.status_code == 404:
        return None
    first, dash, last = resp.headers.get("range", "").removeprefix("bytes=").partition("-")
    if not dash or first != "0" or not last.isdigit():
        return None  # no usable answer: start over
    end = int(last)
    return 0 if end == 0 else end + 1  # distribution says `0-0` for an empty upload


def _upload(session: Session, repository: str, desc: Descriptor, opener: Opener, location: str,
            scopes: tuple[str, ...], what: str, moved: Callable[[str], None], start: int = 0) -> None:
    """Send `desc` (from byte `start` on, for a resumed upload) to the open upload at `location`; `moved` learns
    every new upload URL the registry hands out, so a retry can ask where the upload stands."""
    options = session.options
    done = start

    def sent(n: int) -> None:
        nonlocal done
        done += n
        options.report(desc, BlobState.UPLOADING, done)

    with opener() as stream:
        if desc.size < options.monolithic_limit and start == 0:
            headers = {**_OCTET, "Content-Length": str(desc.size)}
            resp = session.send("PUT", _with_digest(location, desc), scopes=scopes, headers=headers,
                                content=_pieces(stream, desc.size, sent, last=True))
            _finish(session, resp, desc, what)
            return
        _skip(stream, start)
        step = options.chunk_size if options.chunk_size > 0 else desc.size
        while start < desc.size:
            length = min(step, desc.size - start)
            headers = {**_OCTET, "Content-Length": str(length), "Content-Range": f"{start}-{start + length - 1}"}
            resp = session.send("PATCH", location, scopes=scopes, headers=headers,
                                content=_pieces(stream, length, sent, last=start + length == desc.size))
            session.check(resp, ok=(202,), what=what)
            location = _location(resp, session.registry)
            moved(location)
            start += length
    resp = session.send("PUT", _with_digest(location, desc), scopes=scopes, headers={"Content-Length": "0"})
    _finish(session, resp, desc, what)


def push_blob(session: Session, repository: str, desc: Descriptor, opener: Opener, *,
              mount_from: str | None = None) -> BlobState:
    """Make `desc` present in `repository`; returns whether it existed, was mounted or was uploaded."""
    options = session.options
    what = f"blob {desc.digest}"
    if blob_exists(session, repository, desc):
        options.report(desc, BlobState.EXISTS, desc.size)
        return BlobState.EXISTS
    scopes = push_scopes(repository, mount_from)

    open_upload: list[str] = []  # the latest URL of the upload in progress, kept across attempts

    def moved(location: str) -> None:
        open_upload[:] = [location]

    def attempt() -> BlobState:
        if open_upload and desc.size >= options.monolithic_limit:
            offset = upload_offset(session, open_upload[0], scopes, what)
            if offset is not None and offset <= desc.size:
                try:
                    _upload(session, repository, desc, opener, open_upload[0], scopes, what, moved, offset)
                    return BlobState.UPLOADED
                except Error:  # the registry would not take the rest (416, expired...): a fresh upload instead
                    pass
        open_upload.clear()
        path = f"/v2/{repository}/blobs/uploads/"
        if mount_from and mount_from != repository:
            query = f"?mount={quote(str(desc.digest), safe='')}&from={quote(mount_from, safe='/')}"
            resp = session.check(session.send("POST", path + query, scopes=scopes, headers={"Content-Length": "0"}),
                                 ok=(201, 202), what=what)
            if resp.status_code == 201:
                resp.close()
                return BlobState.MOUNTED
        else:
            resp = session.check(session.send("POST", path, scopes=scopes, headers={"Content-Length": "0"}),
                                 ok=(202,), what=what)
        location = _location(resp, session.registry)
        moved(location)
        _upload(session, repository, desc, opener, location, scopes, what, moved)
        return BlobState.UPLOADED

    state = session.retrying(attempt, what)
    options.report(desc, state, desc.size)
    return state
