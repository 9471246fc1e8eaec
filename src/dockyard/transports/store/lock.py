"""The store's advisory file lock: shared while blobs and names are written, exclusive while garbage is collected.

`fcntl.flock` locks belong to an open file description, so two threads of one process conflict just
like two processes do. Within one thread the lock is re-entrant: a shared request while the thread
already holds the lock (in either mode) is free, which lets `Store.write` call `put_blob` freely.

flock has no writer preference: a steady stream of overlapping shared holders could starve an
exclusive waiter forever. So an exclusive holder first takes a second file, the gate, exclusively;
a new shared holder passes through the gate (takes it shared, then releases it once it holds the
lock), and therefore queues behind a waiting prune instead of overtaking it.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from dockyard.errors import Conflict


class _Held(threading.local):
    mode: int = 0
    depth: int = 0


def _flock(stack: ExitStack, path: Path, mode: int, *, wait: bool) -> bool:
    """Lock `path` on a new descriptor closed by `stack` (closing releases the lock)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    stack.callback(os.close, fd)
    try:
        fcntl.flock(fd, mode if wait else mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class StoreLock:
    """A re-entrant (per thread) shared/exclusive lock with writer preference for the exclusive side."""

    def __init__(self, path: Path, gate: Path) -> None:
        self._path = path
        self._gate = gate
        self._held = _Held()

    @contextmanager
    def shared(self) -> Iterator[None]:
        """Hold the lock shared; waits while a prune holds it or is waiting for it."""
        with self._hold(fcntl.LOCK_SH, wait=True):
            yield

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the lock exclusively; waits until running writers finish, and holds new ones back."""
        with self._hold(fcntl.LOCK_EX, wait=True) as got:
            assert got
            yield

    @contextmanager
    def try_exclusive(self) -> Iterator[bool]:
        """Hold the lock exclusively if that is possible right now; yields whether it is held."""
        with self._hold(fcntl.LOCK_EX, wait=False) as got:
            yield got

    @contextmanager
    def _hold(self, mode: int, *, wait: bool) -> Iterator[bool]:
        held = self._held
        if held.depth:
            if mode == fcntl.LOCK_EX and held.mode != fcntl.LOCK_EX:
                if not wait:
                    yield False
                    return
                raise Conflict("cannot take the store lock exclusively while this thread holds it shared")
            held.depth += 1
            try:
                yield True
            finally:
                held.depth -= 1
            return
        with ExitStack() as stack:
            with ExitStack() as gate:
                got = _flock(gate, self._gate, mode, wait=wait) and _flock(stack, self._path, mode, wait=wait)
                if mode == fcntl.LOCK_EX:
                    stack.push(gate.pop_all())  # an exclusive holder keeps the gate until it is done
            if not got:
                yield False
                return
            held.mode, held.depth = mode, 1
            try:
                yield True
            finally:
                held.mode, held.depth = 0, 0
