"""Which layers come from the base image: from `--base`, or from the base annotations of the image spec, by
matching the base's diff_ids against the image's leading layers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dockyard.errors import Error
from dockyard.oci.digest import Digest
from dockyard.oci.protocols import Image

BASE_DIGEST = "org.opencontainers.image.base.digest"
BASE_NAME = "org.opencontainers.image.base.name"

#: Opens a reference to the base image (the CLI passes the transports' resolver); raises an Error when it can't.
BaseOpener = Callable[[str], Image]


@dataclass(frozen=True, slots=True)
class BaseLayers:
    """How many leading layers are the base's, and how that was found."""

    source: str
    name: str | None
    digest: str | None
    count: int
    note: str = ""


def leading_match(image_ids: Sequence[Digest], base_ids: Sequence[Digest]) -> int:
    """How many leading diff_ids the two share."""
    n = 0
    for a, b in zip(image_ids, base_ids, strict=False):
        if a != b:
            break
        n += 1
    return n


def find_base(image: Image, diff_ids: Sequence[Digest], *, base: Image | None = None, base_ref: str | None = None,
              opener: BaseOpener | None = None) -> BaseLayers:
    """The base layers of `image`: from an explicit base image, else from its base annotations when the base
    they name can be opened; otherwise none are known (dive would count layer 0 as the base)."""
    if base is not None:
        return _matched("--base", base_ref, str(base.digest()), diff_ids, base)
    annotations = image.manifest().annotations
    name, digest = annotations.get(BASE_NAME), annotations.get(BASE_DIGEST)
    if name is None and digest is None:
        return BaseLayers("none", None, None, 0,
                          "the image names no base (org.opencontainers.image.base.*); pass --base REF")
    refs = [f"{name.split('@')[0]}@{digest}" if name and digest else None, name, digest]
    tried: list[str] = []
    for ref in (r for r in refs if r):
        if opener is None:
            break
        try:
            found = opener(ref)
        except Error as exc:
            tried.append(f"{ref}: {exc.message}")
            continue
        if digest is not None and str(found.digest()) != digest:
            tried.append(f"{ref}: is {found.digest()}, not {digest}")
            continue
        return _matched("annotation", name, digest, diff_ids, found)
    return BaseLayers("annotation", name, digest, 0,
                      f"the base image is not available here ({'; '.join(tried) or 'nothing to open'}); "
                      "pass --base REF")


def _matched(source: str, name: str | None, digest: str | None, diff_ids: Sequence[Digest],
             base: Image) -> BaseLayers:
    base_ids = base.config().diff_ids
    count = leading_match(diff_ids, base_ids)
    note = "" if count == len(base_ids) else (
        f"only the first {count} of the base's {len(base_ids)} layers match: the image was not built on this base "
        "or the base has changed since")
    return BaseLayers(source, name, digest, count, note)
