"""Paginated listings (tags of a repository, the catalog of repositories) with the spec's `n`/`last` rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from dockyard.registry import errcodes
from dockyard.registry.errcodes import RegistryError

#: Largest page served; a larger `n` gets this many plus a `Link` to the rest (the spec allows that).
MAX_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class Page:
    """One page of names, and the `last` to continue from when more exist."""

    items: tuple[str, ...]
    next_last: str | None
    n: int | None

    def link(self, path: str) -> str | None:
        """The RFC 5988 `Link` header to the next page, or None."""
        if self.next_last is None or self.n is None:
            return None
        return f'<{path}?{urlencode({"n": self.n, "last": self.next_last})}>; rel="next"'


def parse_n(text: str | None) -> int | None:
    """The `n` query parameter: a non-negative integer, or absent."""
    if text is None or text == "":
        return None
    if not text.isdigit() or len(text) > 12:
        raise RegistryError(errcodes.PAGINATION_NUMBER_INVALID, f"n must be a non-negative integer, not {text!r}")
    return int(text)


def paginate(fetch: Callable[[str | None, int | None], list[str]], n: int | None, last: str | None) -> Page:
    """Fetch `n` names after `last` (all of them without `n`); `n=0` is an empty page without a Link."""
    if n == 0:
        return Page((), None, n)
    if n is None:
        return Page(tuple(fetch(last, None)), None, None)
    limit = min(n, MAX_PAGE)
    rows = fetch(last, limit + 1)
    more = len(rows) > limit
    items = tuple(rows[:limit])
    return Page(items, items[-1] if more and items else None, n)
