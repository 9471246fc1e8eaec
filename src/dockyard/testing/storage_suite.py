"""The storage-driver conformance suite (distribution's `testsuites`): every driver must pass every case.

Each case is a method of `StorageDriverSuite` taking a fresh, empty driver. Run them with pytest,
`@pytest.mark.parametrize("case", CASES, ids=case_id)`, or all at once with `run_conformance(make_driver)`.

Semantics the cases pin down (and a new driver, e.g. S3, must match):
- Reading: `reader(path, offset)` at or past the end gives an empty stream, a negative offset is InvalidArgument;
  a directory is NotFound for `get_content`/`reader`; an open reader keeps the bytes it started with.
- Writing: nothing is visible at a writer's path (not even its parent directories) until `commit`;
  `writer(path, append=True)` continues the pending upload for `path`, or else starts from the committed
  content, or else raises NotFound; `append=False` discards a pending upload; one open writer per path
  (a second one is Conflict); a closed, committed or cancelled handle raises Conflict on use.
- Directories are implicit: one exists while something committed lives below it, so `delete` and `move`
  leave no empty parents. `list` is sorted full paths of direct children; `list('/')` of an empty driver is
  `[]`, any other missing directory is NotFound. `delete` also discards pending uploads at or below `path`.
- `move` replaces a file, creates parents, refuses to put a file over a directory (or the reverse): Conflict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from dockyard.registry.storage.base import StorageDriver
from dockyard.testing.storage_cases_content import ContentCases
from dockyard.testing.storage_cases_tree import TreeCases
from dockyard.testing.storage_helpers import BAD_PATHS, data, raises, read

__all__ = [
    "BAD_PATHS",
    "CASES",
    "Case",
    "StorageDriverSuite",
    "case_id",
    "cases",
    "data",
    "raises",
    "read",
    "run_conformance",
]

Case = Callable[[StorageDriver], None]


class StorageDriverSuite(ContentCases, TreeCases):
    """The cases, one public method each taking a fresh empty driver; subclass to add driver-specific ones."""


def case_id(fn: Case) -> str:
    """The case's name, for pytest ids and reports."""
    return getattr(fn, "__name__", repr(fn))


def _declaration_order(cls: type) -> Iterator[type]:
    """`cls`'s bases, depth first in the order listed, then `cls`: ContentCases before TreeCases."""
    for base in cls.__bases__:
        yield from _declaration_order(base)
    yield cls


def cases(suite: StorageDriverSuite | None = None) -> list[Case]:
    """The public methods of `suite` (by default the plain suite) as cases, in declaration order."""
    suite = StorageDriverSuite() if suite is None else suite
    names = (name for cls in _declaration_order(type(suite)) for name in vars(cls) if not name.startswith("_"))
    return [getattr(suite, name) for name in dict.fromkeys(names)]


def run_conformance(make_driver: Callable[[], StorageDriver], suite: StorageDriverSuite | None = None) -> None:
    """Run every case on a fresh driver; raise AssertionError naming each case that failed."""
    failures = []
    for fn in cases(suite):
        try:
            fn(make_driver())
        except Exception as exc:  # collect, then report all at once
            failures.append(f"{case_id(fn)}: {type(exc).__name__}: {exc}")
    if failures:
        raise AssertionError(f"{len(failures)} storage conformance case(s) failed:\n" + "\n".join(failures))


#: Every case of the plain suite, for `pytest.mark.parametrize`.
CASES: list[Case] = cases()
