"""Tar builders shared by the extraction tests: normalized tars from members, and hostile ones from stdlib tarfile."""

from __future__ import annotations

import io
import tarfile

from dockyard.layers.members import Member, write_members


def tar_bytes(members: list[Member], *, sort: bool = True) -> io.BytesIO:
    buf = io.BytesIO()
    write_members(members, buf, sort=sort)
    buf.seek(0)
    return buf


def hostile(*entries: tuple[str, bytes, str] | tuple[str, bytes, str, bytes]) -> io.BytesIO:
    """A tar built by stdlib tarfile, which writes whatever names it is given: (name, type, linkname[, data]),
    exactly these entries, in order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, link, *data in entries:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, link
            body = data[0] if data else b""
            info.size = len(body) if kind == tarfile.REGTYPE else 0
            tf.addfile(info, io.BytesIO(body))
    buf.seek(0)
    return buf
