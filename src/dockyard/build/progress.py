"""Build progress: one line per step (`plain`, `tty`) or one JSON object per event (`json`), on stderr."""

from __future__ import annotations

import json
import sys
import threading
import time
from enum import StrEnum
from typing import TextIO


class ProgressMode(StrEnum):
    TTY = "tty"
    PLAIN = "plain"
    JSON = "json"
    QUIET = "quiet"


class Progress:
    """Reports step starts and ends; `steps` counts what was done and what came from the cache."""

    def __init__(self, mode: ProgressMode = ProgressMode.PLAIN, stream: TextIO | None = None) -> None:
        self.mode = mode
        self.stream = stream or sys.stderr
        self.cached = 0
        self.built = 0
        self._start = time.monotonic()
        self._lock = threading.Lock()  # parallel stages report from their threads

    def step(self, stage: str, index: int, text: str, *, cached: bool | None, seconds: float = 0.0) -> None:
        """One step done: `cached` True (from the cache), False (built), None (config-only, not counted)."""
        with self._lock:
            self._step(stage, index, text, cached=cached, seconds=seconds)

    def _step(self, stage: str, index: int, text: str, *, cached: bool | None, seconds: float) -> None:
        if cached:
            self.cached += 1
        elif cached is not None:
            self.built += 1
        if self.mode is ProgressMode.QUIET:
            return
        if self.mode is ProgressMode.JSON:
            event = {"event": "step", "stage": stage, "step": index, "instruction": text, "cached": cached,
                     "seconds": round(seconds, 3)}
            self.stream.write(json.dumps(event) + "\n")
        else:
            mark = "CACHED " if cached else ""
            took = "" if cached is not False else f" ({seconds:.2f}s)"
            self.stream.write(f"#{index} [{stage}] {mark}{text}{took}\n")
        self.stream.flush()

    def note(self, message: str) -> None:
        if self.mode is ProgressMode.QUIET:
            return
        line = json.dumps({"event": "note", "message": message}) if self.mode is ProgressMode.JSON else f"=> {message}"
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()

    def done(self, digest: str) -> None:
        total = time.monotonic() - self._start
        if self.mode is ProgressMode.JSON:
            self.stream.write(json.dumps({"event": "done", "digest": digest, "built": self.built,
                                          "cached": self.cached, "seconds": round(total, 3)}) + "\n")
        elif self.mode is not ProgressMode.QUIET:
            self.stream.write(f"=> done {digest} ({self.built} built, {self.cached} cached, {total:.2f}s)\n")
        self.stream.flush()
