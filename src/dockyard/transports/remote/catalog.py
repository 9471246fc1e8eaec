"""Listing a registry: a repository's tags and the `_catalog` of repositories, following `Link` pagination."""

from __future__ import annotations

from dockyard.errors import InvalidManifest
from dockyard.transports.remote.auth import scope_for
from dockyard.transports.remote.client import Session

#: A registry that keeps answering `rel="next"` is cut off here.
MAX_PAGES = 10_000


def _pages(session: Session, path: str, key: str, scopes: tuple[str, ...], what: str) -> list[str]:
    out: list[str] = []
    url: str | None = path
    seen: set[str] = set()
    while url is not None and len(seen) < MAX_PAGES:
        seen.add(url)
        resp = session.request("GET", url, scopes=scopes, what=what)
        try:
            doc = resp.json()
        except ValueError:
            raise InvalidManifest(f"{session.registry}: the answer to {what} is not JSON") from None
        names = doc.get(key) if isinstance(doc, dict) else None
        if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            raise InvalidManifest(f"{session.registry}: the answer to {what} has no list of names in {key!r}")
        out.extend(names or [])
        nxt = resp.links.get("next", {}).get("url")
        url = str(resp.url.join(nxt)) if nxt else None
        if url in seen:
            break
    return out


def list_tags(session: Session, repository: str, *, page_size: int | None = None) -> list[str]:
    """Every tag of `repository`, in the registry's order (lexical for distribution)."""
    query = f"?n={page_size}" if page_size else ""
    return _pages(session, f"/v2/{repository}/tags/list{query}", "tags", (scope_for(repository, "pull"),),
                  f"tags of {repository}")


def catalog(session: Session, *, page_size: int | None = None) -> list[str]:
    """Every repository the registry lists in `/v2/_catalog`."""
    query = f"?n={page_size}" if page_size else ""
    return _pages(session, f"/v2/_catalog{query}", "repositories", ("registry:catalog:*",), "the catalog")
