"""Time values of the store: RFC 3339 timestamps from configs and the `--filter until=` grammar of prune."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from dockyard.errors import InvalidArgument

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0,
          "d": 86400.0, "w": 7 * 86400.0}
_PART = r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w)"
_DURATION = re.compile(rf"(?:{_PART})+")
_UNIX = re.compile(r"\d+(?:\.\d+)?")


def parse_rfc3339(text: str) -> datetime | None:
    """An aware datetime from an RFC 3339 timestamp (naive ones count as UTC); None when unparsable."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_duration(text: str) -> timedelta | None:
    """A Go-style duration (`10m`, `2h30m`, `1.5h`) plus days and weeks (`7d`, `2w`); None when not one."""
    if not _DURATION.fullmatch(text):
        return None
    seconds = sum(float(number) * _UNITS[unit] for number, unit in re.findall(_PART, text))
    return timedelta(seconds=seconds)


def parse_until(text: str, *, now: datetime | None = None) -> datetime:
    """The cutoff of `until=TEXT`, as docker accepts it: a duration before now, a unix timestamp or RFC 3339.

    Durations: `10m`, `2h30m`, `24h`, `7d`. Timestamps: `1700000000`, `2024-01-02`, `2024-01-02T15:04:05Z`
    (without an offset a timestamp means local time, as in docker). Returns an aware datetime.
    """
    value = text.strip()
    duration = parse_duration(value)
    if duration is not None:
        return (now or datetime.now(UTC)) - duration
    if _UNIX.fullmatch(value):
        return datetime.fromtimestamp(float(value), UTC)
    try:
        stamp = datetime.fromisoformat(value) if value else None
    except ValueError:
        stamp = None
    if stamp is None:
        raise InvalidArgument(f"invalid until value {text!r}", hint="use a duration like 10m, 2h30m, 24h or 7d, "
                              "or a timestamp like 2024-01-02T15:04:05Z")
    return stamp if stamp.tzinfo else stamp.astimezone()


def as_cutoff(until: timedelta | datetime | None, now: datetime) -> datetime | None:
    """The absolute cutoff for an `until` given as an age or a point in time."""
    if until is None:
        return None
    if isinstance(until, timedelta):
        if until < timedelta(0):
            raise InvalidArgument(f"until must not be negative, got {until}")
        return now - until
    return until if until.tzinfo else until.astimezone()
