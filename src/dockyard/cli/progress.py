"""Progress for long transfers: a rich bar on a TTY (bytes, speed, ETA), nothing in pipes (stdout stays data)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from dockyard.transports.remote.options import Progress as RemoteProgress


class _Bar:
    """Implements transports.copy.Progress over a rich progress bar."""

    def __init__(self, bar: Progress, task: TaskID) -> None:
        self._bar = bar
        self._task = task

    def start(self, total: int) -> None:
        self._bar.update(self._task, total=total)

    def advance(self, n: int) -> None:
        self._bar.advance(self._task, n)


@contextmanager
def byte_progress(title: str) -> Iterator[_Bar | None]:
    """Yield a progress sink for a transfer on a TTY, else None."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, transient=True) as bar:
        yield _Bar(bar, bar.add_task(title, total=None))


def _finished(event: RemoteProgress) -> str | None:
    """The word for a blob that is through (`pushed`, `exists`, `mounted`, `pulled`, `manifest`), else None."""
    from dockyard.transports.remote.options import BlobState

    if event.state is BlobState.DOWNLOADING:
        size = event.descriptor.size
        return "pulled" if size and event.done >= size else None
    return {BlobState.EXISTS: "exists", BlobState.MOUNTED: "mounted", BlobState.UPLOADED: "pushed",
            BlobState.MANIFEST: "manifest"}.get(event.state)


@contextmanager
def layer_progress(title: str) -> Iterator[Callable[[RemoteProgress], None]]:
    """Per-blob progress for registry transfers: a rich bar per layer on a TTY, one plain line per
    finished blob on stderr in pipes (stdout stays data)."""
    lock = threading.Lock()  # events come from the transfer threads
    if not sys.stderr.isatty():
        said: set[tuple[str, str]] = set()

        def plain(event: RemoteProgress) -> None:
            word = _finished(event)
            if not word:
                return
            key = (word, str(event.descriptor.digest))
            line = f"{title}: {word} {event.descriptor.digest.short} ({event.descriptor.size} bytes)\n"
            with lock:  # one write per line: print() writes the newline separately, so threads interleave
                if key not in said:  # a config is read twice (to select a platform, then to store it)
                    said.add(key)
                    sys.stderr.write(line)
                    sys.stderr.flush()

        yield plain
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    tasks: dict[str, TaskID] = {}
    with Progress(*columns, transient=False) as bar:
        def on_event(event: RemoteProgress) -> None:
            desc = event.descriptor
            with lock:
                task = tasks.get(str(desc.digest))
                if task is None:
                    task = tasks[str(desc.digest)] = bar.add_task(f"{desc.digest.short}", total=desc.size)
            word = _finished(event)
            label = f"{desc.digest.short} {word or event.state.value}"
            done = desc.size if word else event.done
            bar.update(task, completed=done, description=label)

        yield on_event
