"""Progress for long copies: a rich bar per run on a TTY, nothing in pipes (stdout stays data)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dockyard.oci.descriptor import Descriptor

BlobCallback = Callable[[Descriptor, bool], None]


@contextmanager
def blob_progress(title: str) -> Iterator[BlobCallback | None]:
    """Yield an `on_blob` callback that advances a progress bar by bytes of each blob done."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  transient=True, console=None) as bar:
        task = bar.add_task(title, total=None)

        def on_blob(desc: Descriptor, skipped: bool) -> None:
            word = "exists " if skipped else "copied "
            bar.update(task, advance=desc.size, description=f"{title}: {word}{desc.digest.short}")

        yield on_blob
