"""The CI gate: dive's three rules evaluated exactly as dive 0.13.1 does (strict `>` / `<` comparisons), plus
dockyard's size, reclaimable, layer-count and secret rules, printed in dive's `CI=true` format."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from dockyard.analyze.ciconfig import DISABLED, CiRules, go_float, parse_bytes, parse_float
from dockyard.analyze.model import Report, Severity
from dockyard.analyze.units import go_bytes
from dockyard.errors import InvalidArgument


class Status(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"
    CONFIGURED = "CONFIGURED"
    MISCONFIGURED = "MISCONFIGURED"


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule's verdict and dive's message for it."""

    rule: str
    status: Status
    message: str = ""


@dataclass(frozen=True, slots=True)
class Evaluation:
    """All rule results (sorted by rule name, as dive prints them) and the overall verdict."""

    results: tuple[RuleResult, ...]
    misconfigured: bool

    @property
    def passed(self) -> bool:
        return not self.misconfigured and all(r.status is not Status.FAIL for r in self.results)

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status is status)


def evaluate(report: Report, rules: CiRules) -> Evaluation:
    """Check `report` against `rules`; a rule with a bad value makes the whole gate misconfigured."""
    results: list[RuleResult] = []
    errors: dict[str, str] = {}
    for rule, value in sorted(rules.values.items()):
        if value.strip().lower() in DISABLED:
            results.append(RuleResult(rule, Status.SKIP, "rule disabled"))
            continue
        check = _CHECKS.get(rule)
        if check is None:
            continue  # keys dive ignores (plugin rules and the like)
        try:
            results.append(check(report, value.strip()))
        except InvalidArgument as exc:
            errors[rule] = exc.message
    if errors:
        configured = [RuleResult(r.rule, Status.CONFIGURED, "rule disabled" if r.status is Status.SKIP else "test")
                      for r in results]
        bad = [RuleResult(rule, Status.MISCONFIGURED, message) for rule, message in errors.items()]
        return Evaluation(tuple(sorted([*configured, *bad], key=lambda r: r.rule)), True)
    return Evaluation(tuple(results), False)


def _fraction(rule: str, value: str) -> float:
    try:
        number = parse_float(value)
    except InvalidArgument as exc:
        raise InvalidArgument(f"invalid config value ('{value}'): {exc.message}") from None
    if not 0 <= number <= 1:
        raise InvalidArgument(f"{rule} config value is outside allowed range (0-1), given '{value}'")
    return number


def _bytes(value: str) -> int:
    try:
        return parse_bytes(value)
    except InvalidArgument as exc:
        raise InvalidArgument(f"invalid config value ('{value}'): {exc.message}") from None


def _lowest_efficiency(report: Report, value: str) -> RuleResult:
    threshold = _fraction("lowestEfficiency", value)
    eff = report.dive.efficiency
    if threshold > eff:
        return RuleResult("lowestEfficiency", Status.FAIL,
                          f"image efficiency is too low (efficiency={go_float(eff)} < threshold={go_float(threshold)})")
    return RuleResult("lowestEfficiency", Status.PASS)


def _highest_wasted_bytes(report: Report, value: str) -> RuleResult:
    threshold = _bytes(value)
    wasted = report.dive.wasted_bytes
    if wasted > threshold:
        return RuleResult("highestWastedBytes", Status.FAIL,
                          f"too many bytes wasted (wasted-bytes={wasted} > threshold={threshold})")
    return RuleResult("highestWastedBytes", Status.PASS)


def _highest_user_wasted_percent(report: Report, value: str) -> RuleResult:
    threshold = _fraction("highestUserWastedPercent", value)
    percent = report.dive.wasted_user_percent
    if percent > threshold:
        return RuleResult("highestUserWastedPercent", Status.FAIL,
                          "too many bytes wasted, relative to the user bytes added "
                          f"(%-user-wasted-bytes={go_float(percent)} > threshold={go_float(threshold)})")
    return RuleResult("highestUserWastedPercent", Status.PASS)


def _max_size(report: Report, value: str) -> RuleResult:
    threshold = _bytes(value)
    if report.size > threshold:
        return RuleResult("maxSize", Status.FAIL, f"image is too big (size={report.size} bytes "
                                                  f"({go_bytes(report.size)}) > threshold={threshold})")
    return RuleResult("maxSize", Status.PASS)


def _max_reclaimable(report: Report, value: str) -> RuleResult:
    threshold = _bytes(value)
    got = report.reclaim.reclaimable_bytes
    if got > threshold:
        return RuleResult("maxReclaimable", Status.FAIL,
                          f"too many reclaimable bytes (reclaimable={got} > threshold={threshold})")
    return RuleResult("maxReclaimable", Status.PASS)


def _max_layers(report: Report, value: str) -> RuleResult:
    try:
        threshold = int(parse_float(value))
    except InvalidArgument as exc:
        raise InvalidArgument(f"invalid config value ('{value}'): {exc.message}") from None
    if len(report.layers) > threshold:
        return RuleResult("maxLayers", Status.FAIL,
                          f"too many layers (layers={len(report.layers)} > threshold={threshold})")
    return RuleResult("maxLayers", Status.PASS)


def _forbid_secrets(report: Report, value: str) -> RuleResult:
    if value.lower() not in ("true", "yes", "on", "1"):
        raise InvalidArgument(f"invalid config value ('{value}'): expected true or false")
    found = [item for f in report.secrets if f.severity is Severity.HIGH for item in f.items]
    if found:
        shown = ", ".join(f"/{i.path} (layer {i.layer})" for i in found[:5])
        more = f" and {len(found) - 5} more" if len(found) > 5 else ""
        return RuleResult("forbidSecrets", Status.FAIL, f"secrets in the image: {shown}{more}")
    return RuleResult("forbidSecrets", Status.PASS)


_CHECKS = {
    "lowestEfficiency": _lowest_efficiency,
    "highestWastedBytes": _highest_wasted_bytes,
    "highestUserWastedPercent": _highest_user_wasted_percent,
    "maxSize": _max_size,
    "maxReclaimable": _max_reclaimable,
    "maxLayers": _max_layers,
    "forbidSecrets": _forbid_secrets,
}


def render(report: Report, evaluation: Evaluation, rules: CiRules, *, color: bool = False) -> str:
    """The gate's text, as dive 0.13.1 prints it with `CI=true` (ANSI colors only when `color`)."""
    def style(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if color else text

    d = report.dive
    lines = ["  Using default CI config" if rules.source is None else f"  Using CI config: {rules.source}",
             f"  efficiency: {d.efficiency * 100:2.4f} %",
             f"  wastedBytes: {d.wasted_bytes} bytes ({go_bytes(d.wasted_bytes)})",
             f"  userWastedPercent: {_go_percent(d.wasted_user_percent)} %",
             style("Inefficient Files:", "1"), "Count  Wasted Space  File Path"]
    lines += [f"{i.count:>5}  {go_bytes(i.cumulative_size):>12}  {i.path}" for i in d.inefficiencies] or ["None"]
    lines.append(style("Results:", "1"))
    for r in evaluation.results:
        if evaluation.misconfigured:
            label = style("MISCONFIGURED", "1;7;31") if r.status is Status.MISCONFIGURED else "CONFIGURED   "
            lines.append(f"  {label}: {r.rule}: {r.message}")
            continue
        label = {Status.FAIL: style("FAIL", "1;7;31"), Status.SKIP: style("SKIP", "34")}.get(r.status, str(r.status))
        lines.append(f"  {label}: {r.rule}: {r.message}" if r.message else f"  {label}: {r.rule}")
    if evaluation.misconfigured:
        lines.append(style("CI Misconfigured", "31"))
    else:
        verdict = "PASS" if evaluation.passed else "FAIL"
        summary = (f"Result:{verdict} [Total:{len(evaluation.results)}] [Passed:{evaluation.count(Status.PASS)}] "
                   f"[Failed:{evaluation.count(Status.FAIL)}] [Warn:0] [Skipped:{evaluation.count(Status.SKIP)}]")
        lines.append(style(summary, "32" if evaluation.passed else "31"))
    return "\n".join(lines) + "\n"


def _go_percent(x: float) -> str:
    if math.isnan(x) or math.isinf(x):
        return go_float(x)
    return f"{x * 100:2.4f}"
