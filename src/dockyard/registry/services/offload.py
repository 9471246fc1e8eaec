"""Blocking storage work off the event loop: a thread pool, and a pump from request bodies into blocking sinks.

Request bodies arrive in small pieces (uvicorn hands over about 64 KiB at a time); hashing and writing them
one by one from the event loop would stall every other request. `pump` gathers ~1 MiB batches and hands each
to a worker thread, keeping exactly one batch in flight while the next one arrives, so the socket, the
hasher and the disk all stay busy and the order of writes is preserved.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from dockyard.registry.storage.base import CHUNK

_P = ParamSpec("_P")
_T = TypeVar("_T")


class Offload:
    """Runs blocking calls in the registry's own thread pool (no global executor)."""

    def __init__(self, workers: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dockyard-io")

    async def run(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def start(self, fn: Callable[[bytes], object], data: bytes) -> asyncio.Future[object]:
        """Submit without waiting (the pump keeps one batch in flight)."""
        return asyncio.get_running_loop().run_in_executor(self._executor, fn, data)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=False)


class SourceError(Exception):
    """The request body failed (client disconnect) after `received` bytes reached the sink."""

    def __init__(self, cause: BaseException, received: int) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.received = received


async def pump(body: AsyncIterator[bytes], sink: Callable[[bytes], object], offload: Offload,
               *, batch: int = CHUNK) -> int:
    """Feed every byte of `body` to `sink` in order, in batches of about `batch` bytes; returns the byte count.

    If the body fails midway (the client went away), what arrived is still written, then SourceError is
    raised carrying the original exception: a resumable upload keeps every byte the registry received.
    """
    pending: asyncio.Future[object] | None = None
    parts: list[bytes] = []
    buffered = 0
    total = 0

    async def flush() -> None:
        nonlocal pending, buffered, total
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        parts.clear()
        buffered = 0
        if pending is not None:
            await pending
        pending = offload.start(sink, data)
        total += len(data)

    try:
        try:
            async for chunk in body:
                if not chunk:
                    continue
                parts.append(chunk)
                buffered += len(chunk)
                if buffered >= batch:
                    await flush()
        except Exception as exc:
            if parts:
                await flush()
            if pending is not None:
                await pending
                pending = None
            raise SourceError(exc, total) from exc
        if parts:
            await flush()
        if pending is not None:
            await pending
            pending = None
    finally:
        if pending is not None:  # the sink failed, or we were cancelled: never leave a write running
            with contextlib.suppress(Exception):
                await asyncio.shield(pending)
    return total
