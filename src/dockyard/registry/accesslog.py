"""The structured access log: one JSON object per request, one line each, to stderr or a file.

Fields: `time` (RFC 3339, UTC), `remote`, `user`, `method`, `path`, `query`, `route`, `status`, `bytes_in`,
`bytes_out`, `duration_ms`, `user_agent`. Credentials never appear (headers other than User-Agent are not
logged).
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from dockyard.errors import InvalidArgument
from dockyard.registry.metrics import RequestRecord


class AccessLog:
    """Writes request records as JSON lines; `target` is "stderr", "off", or a file path (appended)."""

    def __init__(self, target: str) -> None:
        self._lock = threading.Lock()
        self._owned = False
        self._stream: TextIO | None
        if target == "off":
            self._stream = None
        elif target == "stderr":
            self._stream = sys.stderr
        else:
            try:
                self._stream = Path(target).open("a", encoding="utf-8", buffering=1)
            except OSError as exc:
                raise InvalidArgument(f"cannot open access log {target}: {exc.strerror or exc}") from None
            self._owned = True

    def observe(self, record: RequestRecord) -> None:
        if self._stream is None:
            return
        entry = {
            "time": datetime.fromtimestamp(record.started, UTC).isoformat(timespec="milliseconds"),
            "remote": record.remote,
            "user": record.user,
            "method": record.method,
            "path": record.path,
            "query": record.query,
            "route": record.route,
            "status": record.status,
            "bytes_in": record.bytes_in,
            "bytes_out": record.bytes_out,
            "duration_ms": round(record.duration * 1000, 3),
            "user_agent": record.user_agent,
        }
        line = json.dumps(entry, separators=(",", ":"), ensure_ascii=False) + "\n"
        with self._lock:
            try:
                self._stream.write(line)
                self._stream.flush()
            except (OSError, ValueError):
                pass  # a closed or full log must never fail a request

    def close(self) -> None:
        if self._owned and self._stream is not None:
            self._stream.close()
        self._stream = None
