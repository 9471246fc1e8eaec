"""Request observation and Prometheus metrics: one ASGI middleware measures every request once, and feeds
the metrics (rendered at `/metrics` in the Prometheus text format) and the access log.

Metrics::

    dockyard_http_requests_total{method,route,status}          counter
    dockyard_http_request_bytes_total{route}                    counter: request bodies received
    dockyard_http_response_bytes_total{route}                   counter: response bodies sent
    dockyard_http_request_duration_seconds{route}               histogram
    dockyard_upload_duration_seconds                            histogram: session start to verified blob
    dockyard_upload_bytes_total                                 counter
    dockyard_storage_<counter>_total                            the storage driver's counters, when it keeps any

`route` is the endpoint template (`/v2/<name>/blobs/<digest>`), never a concrete path, so label cardinality
stays bounded.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dockyard.registry.storage.checked import StorageStats

REQUEST_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0)
UPLOAD_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)
ROUTE_KEY = "dockyard.route"
USER_KEY = "dockyard.user"


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """What the middleware saw of one request."""

    started: float
    method: str
    path: str
    query: str
    route: str
    status: int
    bytes_in: int
    bytes_out: int
    duration: float
    user: str
    remote: str
    user_agent: str


class _Histogram:
    def __init__(self, buckets: Sequence[float]) -> None:
        self.buckets = tuple(buckets)
        self.counts = [0] * len(self.buckets)
        self.total = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1
        self.total += 1
        self.sum += value

    def lines(self, name: str, labels: str) -> list[str]:
        sep = "," if labels else ""
        pairs = zip(self.buckets, self.counts, strict=True)
        out = [f'{name}_bucket{{{labels}{sep}le="{bound:g}"}} {count}' for bound, count in pairs]
        out.append(f'{name}_bucket{{{labels}{sep}le="+Inf"}} {self.total}')
        suffix = f"{{{labels}}}" if labels else ""
        out += [f"{name}_sum{suffix} {self.sum:.6f}", f"{name}_count{suffix} {self.total}"]
        return out


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """The registry's counters and histograms (thread-safe), rendered on demand."""

    def __init__(self, storage_stats: Callable[[], StorageStats] | None = None) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self._bytes_in: dict[str, int] = defaultdict(int)
        self._bytes_out: dict[str, int] = defaultdict(int)
        self._durations: dict[str, _Histogram] = {}
        self._uploads = _Histogram(UPLOAD_BUCKETS)
        self._upload_bytes = 0
        self._storage_stats = storage_stats

    def observe_request(self, record: RequestRecord) -> None:
        with self._lock:
            self._requests[(record.method, record.route, record.status)] += 1
            self._bytes_in[record.route] += record.bytes_in
            self._bytes_out[record.route] += record.bytes_out
            histogram = self._durations.get(record.route)
            if histogram is None:
                histogram = self._durations[record.route] = _Histogram(REQUEST_BUCKETS)
            histogram.observe(record.duration)

    def observe_upload(self, seconds: float, size: int) -> None:
        with self._lock:
            self._uploads.observe(seconds)
            self._upload_bytes += size

    def render(self) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        out: list[str] = []
        with self._lock:
            out += ["# HELP dockyard_http_requests_total HTTP requests by method, route and status.",
                    "# TYPE dockyard_http_requests_total counter"]
            for (method, route, status), count in sorted(self._requests.items()):
                out.append(f'dockyard_http_requests_total{{method="{_label(method)}",route="{_label(route)}",'
                           f'status="{status}"}} {count}')
            for name, table, what in (("dockyard_http_request_bytes_total", self._bytes_in, "received"),
                                      ("dockyard_http_response_bytes_total", self._bytes_out, "sent")):
                out += [f"# HELP {name} Body bytes {what}, by route.", f"# TYPE {name} counter"]
                out += [f'{name}{{route="{_label(route)}"}} {n}' for route, n in sorted(table.items())]
            name = "dockyard_http_request_duration_seconds"
            out += [f"# HELP {name} Request handling time, by route.", f"# TYPE {name} histogram"]
            for route, histogram in sorted(self._durations.items()):
                out += histogram.lines(name, f'route="{_label(route)}"')
            name = "dockyard_upload_duration_seconds"
            out += [f"# HELP {name} Blob upload sessions, from start to verified blob.", f"# TYPE {name} histogram"]
            out += self._uploads.lines(name, "")
            out += ["# HELP dockyard_upload_bytes_total Bytes of verified uploaded blobs.",
                    "# TYPE dockyard_upload_bytes_total counter", f"dockyard_upload_bytes_total {self._upload_bytes}"]
        if self._storage_stats is not None:
            for counter, value in self._storage_stats().items():
                metric = f"dockyard_storage_{counter}_total"
                out += [f"# TYPE {metric} counter", f"{metric} {value}"]
        return "\n".join(out) + "\n"


class ObserveMiddleware:
    """Measures each HTTP request (status, bytes, time), adds fixed response headers, notifies observers."""

    def __init__(self, app: ASGIApp, observers: Sequence[Callable[[RequestRecord], None]],
                 headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
        self.app = app
        self.observers = tuple(observers)
        self.headers = list(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, clock = time.time(), time.perf_counter()
        state = scope.setdefault("state", {})
        counts = {"in": 0, "out": 0, "status": 500}

        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                counts["in"] += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                counts["status"] = message["status"]
                message["headers"] = [*message.get("headers", []), *self.headers]
            elif message["type"] == "http.response.body":
                counts["out"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            headers = dict(scope.get("headers", []))
            client = scope.get("client")
            record = RequestRecord(
                started=started,
                method=scope["method"],
                path=scope["path"],
                query=scope.get("query_string", b"").decode("latin-1"),
                route=state.get(ROUTE_KEY, "other"),
                status=counts["status"],
                bytes_in=counts["in"],
                bytes_out=counts["out"],
                duration=time.perf_counter() - clock,
                user=state.get(USER_KEY, "-"),
                remote=f"{client[0]}:{client[1]}" if client else "-",
                user_agent=headers.get(b"user-agent", b"-").decode("latin-1"),
            )
            for observe in self.observers:
                observe(record)
