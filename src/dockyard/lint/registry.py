"""The explicit list of every rule `dockyard lint` runs, in code order (no import-time magic)."""

from __future__ import annotations

from dockyard.lint.model import RuleMeta
from dockyard.lint.rule import Rule
from dockyard.lint.rules import (
    apk,
    apt,
    context,
    dockyard,
    from_,
    instructions,
    labels,
    languages,
    npm,
    pip,
    shell,
    stages,
    yum_dnf_zypper,
)
from dockyard.lint.rules.pragma import dl1001


def all_rules() -> tuple[Rule, ...]:
    """Every rule, sorted by code."""
    rules: list[Rule] = [dl1001, *from_.RULES, *instructions.RULES, *stages.RULES, *apt.RULES, *apk.RULES,
                         *pip.RULES, *npm.RULES, *languages.RULES, *yum_dnf_zypper.RULES, *shell.RULES,
                         *labels.RULES, *dockyard.RULES, *context.RULES]
    return tuple(sorted(rules, key=lambda r: r.meta.code))


def rule_index() -> dict[str, RuleMeta]:
    """Rule metadata by code (formats use it for rule descriptions and help links)."""
    return {r.meta.code: r.meta for r in all_rules()}
