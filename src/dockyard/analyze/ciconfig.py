"""The CI gate's rules: dive's `.dive-ci` file (same keys, same defaults, same value syntax) plus dockyard's own
thresholds, read from the same `rules:` section.

dive's keys: `lowestEfficiency` (default 0.9), `highestWastedBytes` (default disabled) and
`highestUserWastedPercent` (default 0.1), also spelled `lowest-efficiency` and so on as in `.dive.yaml`. Byte
values use go-humanize (`20MB` = 20,000,000, `20MiB` = 20 * 2**20, case-insensitive). `disabled` turns a rule
off; dockyard also takes `off`, `false` and an empty value, as dive's main branch does (0.13.1 calls them
misconfigured). dockyard's keys: `max-size` (uncompressed image bytes), `max-reclaimable` (bytes),
`max-layers` (a count) and `forbid-secrets` (true/false); they are off unless set.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.errors import InvalidArgument, NotFound

DISABLED = frozenset({"disabled", "off", "false", ""})
DEFAULTS = {"lowestEfficiency": "0.9", "highestWastedBytes": "disabled", "highestUserWastedPercent": "0.1"}
DIVE_RULES = tuple(DEFAULTS)
OWN_RULES = ("maxSize", "maxReclaimable", "maxLayers", "forbidSecrets")
_ALIASES = {re.sub(r"([A-Z])", lambda m: "-" + m.group(1).lower(), k): k for k in (*DIVE_RULES, *OWN_RULES)}
_UNITS = {"b": 1, "": 1, "kib": 1 << 10, "ki": 1 << 10, "kb": 1000, "k": 1000, "mib": 1 << 20, "mi": 1 << 20,
          "mb": 10**6, "m": 10**6, "gib": 1 << 30, "gi": 1 << 30, "gb": 10**9, "g": 10**9, "tib": 1 << 40,
          "ti": 1 << 40, "tb": 10**12, "t": 10**12, "pib": 1 << 50, "pi": 1 << 50, "pb": 10**15, "p": 10**15,
          "eib": 1 << 60, "ei": 1 << 60, "eb": 10**18, "e": 10**18}


@dataclass(frozen=True, slots=True)
class CiRules:
    """Configured rule values, as the text the config gave (`disabled` when off); unset dockyard rules absent."""

    values: dict[str, str] = field(default_factory=lambda: dict(DEFAULTS))
    source: str | None = None
    """The file they came from (None: dive's defaults)."""


def load_rules(path: str | Path | None, *, default: str = ".dive-ci") -> CiRules:
    """Rules from `path`, else from `./.dive-ci` when it exists, else dive's defaults."""
    if path is None:
        if not Path(default).is_file():
            return CiRules()
        path = default
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"CI config {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"cannot read CI config {str(path)!r}: {exc}") from None
    values = dict(DEFAULTS)
    for key, value in parse_rules(text, str(path)).items():
        values[_ALIASES.get(key, key)] = value
    return CiRules(values, str(path))


def parse_rules(text: str, where: str = ".dive-ci") -> dict[str, str]:
    """The scalar entries under the top-level `rules:` key of a small YAML document (comments, quotes, YAML
    numbers normalized the way dive's config loader sees them: `1e3` is `1000`, `0.50` is `0.5`)."""
    out: dict[str, str] = {}
    in_rules = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw).rstrip()
        if not line.strip() or line.strip() == "---":
            continue
        if not line[0].isspace():
            key, sep, rest = line.partition(":")
            if not sep:
                raise InvalidArgument(f"{where}:{number}: expected 'key: value', got {line.strip()!r}")
            in_rules = key.strip() == "rules" and not rest.strip()
            continue
        if not in_rules or line.lstrip().startswith("-"):
            continue
        key, sep, value = line.strip().partition(":")
        if not sep:
            raise InvalidArgument(f"{where}:{number}: expected 'key: value' under rules, got {line.strip()!r}")
        out[key.strip().strip("'\"")] = _scalar(value.strip())
    return out


def _strip_comment(line: str) -> str:
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def _scalar(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    if value in ("~", "null"):
        return ""
    if re.fullmatch(r"[-+]?(\d[\d_]*)?\.?\d+([eE][-+]?\d+)?", value):
        number = float(value.replace("_", ""))
        return go_float(number)
    return value


def go_float(x: float) -> str:
    """A float as Go's %v prints it (`1`, `0.1`, `1e-05`, `NaN`, `+Inf`)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    if x.is_integer() and abs(x) < 1e21:
        return str(int(x))
    return repr(x)


def parse_float(text: str) -> float:
    """strconv.ParseFloat's rules; InvalidArgument carries Go's message."""
    try:
        if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[-+]?(?i:inf|infinity|nan)", text):
            raise ValueError
        return float(text)
    except ValueError:
        raise InvalidArgument(f'strconv.ParseFloat: parsing "{text}": invalid syntax') from None


def parse_bytes(text: str) -> int:
    """go-humanize's ParseBytes: `20MB`, `20 MiB`, `1,000`, `0.5GB`."""
    digits = 0
    for ch in text:
        if not (ch.isdigit() or ch in ".,"):
            break
        digits += 1
    number = parse_float(text[:digits].replace(",", ""))
    unit = text[digits:].strip().lower()
    if unit not in _UNITS:
        raise InvalidArgument(f"unhandled size name: {unit}")
    return int(number * _UNITS[unit])
