"""hadolint's label rules (DL3048-DL3056, DL3058): valid keys, and the `label-schema` of the config (required,
no others with `strict-labels`, non-empty, well-formed values)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dockyard.dockerfile import CopyInstruction, FromInstruction, Instruction, LabelInstruction
from dockyard.lint.config import LabelType
from dockyard.lint.images import ImageName
from dockyard.lint.model import Hit, Severity
from dockyard.lint.rule import FunctionRule, LintContext, per_instruction, rule
from dockyard.lint.rules.labelformats import TYPE_RULES, VALIDATORS

_KEY_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyz.-")
_RESERVED = ("com.docker.", "io.docker.", "org.dockerproject.")


def unquote(word: str) -> str:
    """A LABEL/ENV word without its surrounding quotes and their escapes."""
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "\"'":
        body = word[1:-1]
        return body.replace('\\"', '"').replace("\\\\", "\\") if word[0] == '"' else body
    return word


def pairs(inst: LabelInstruction) -> list[tuple[str, str]]:
    return [(unquote(p.key), unquote(p.value)) for p in inst.pairs]


def _bad_key(key: str) -> bool:
    return (not key or key[0] not in "abcdefghijklmnopqrstuvwxyz" or key[-1] not in _KEY_CHARS - {".", "-"}
            or any(c not in _KEY_CHARS for c in key) or key.startswith(_RESERVED) or ".." in key or "--" in key)


@per_instruction("DL3048", Severity.STYLE, "Invalid label key.",
                 "label keys are lower-case reverse-DNS (`[a-z0-9.-]`, no reserved docker namespaces)")
def dl3048(inst: Instruction, ctx: LintContext) -> bool:
    return isinstance(inst, LabelInstruction) and any(_bad_key(k) for k, _ in pairs(inst))


def _missing(label: str, instructions: Sequence[Instruction]) -> Iterator[int]:
    """hadolint's DL3049 fold for one label: a stage is good when it (or its named parent) sets the label, and
    silent when a later stage copies from it."""
    good: set[int] = set()
    bad: dict[int, str | None] = {}
    names: dict[int, tuple[str, str | None]] = {}
    current: int | None = None
    for inst in instructions:
        if isinstance(inst, FromInstruction):
            current = inst.start_line
            repo = ImageName.parse(inst.image).repository
            names[current] = (repo, inst.alias)
            if any(names[g][1] == repo for g in good):
                good.add(current)
            else:
                bad[current] = inst.alias
        elif isinstance(inst, CopyInstruction) and inst.from_stage is not None and current is not None:
            for line in [b for b, alias in bad.items() if alias == inst.from_stage]:
                del bad[line]
        elif isinstance(inst, LabelInstruction) and current is not None and any(k == label for k, _ in pairs(inst)):
            repo, alias = names[current]
            own = alias if alias is not None else repo
            for line in [b for b, a in bad.items() if a == own]:
                del bad[line]
            good.add(current)
            bad.pop(current, None)
    yield from sorted(bad)


@rule("DL3049", Severity.INFO, "Label `<label>` is missing.", "every stage sets the labels of `label-schema`")
def dl3049(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[Hit]:
    for label in ctx.config.label_schema:
        yield from (Hit(line, f"Label `{label}` is missing.") for line in _missing(label, instructions))


@per_instruction("DL3050", Severity.INFO, "Superfluous label(s) present.",
                 "with `strict-labels`, only the labels of `label-schema`")
def dl3050(inst: Instruction, ctx: LintContext) -> bool:
    schema = ctx.config.label_schema
    return ctx.config.strict_labels and isinstance(inst, LabelInstruction) and any(
        k not in schema for k, _ in pairs(inst))


@rule("DL3051", Severity.WARNING, "label `<label>` is empty.", "labels of `label-schema` are not empty")
def dl3051(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[Hit]:
    for label in ctx.config.label_schema:
        for inst in instructions:
            if isinstance(inst, LabelInstruction) and any(k == label and not v for k, v in pairs(inst)):
                yield Hit(inst.start_line, f"label `{label}` is empty.")


def _format_rule(kind: LabelType) -> FunctionRule:
    code, problem = TYPE_RULES[kind]
    valid = VALIDATORS[kind]

    def check(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[Hit]:
        for label, label_type in ctx.config.label_schema.items():
            if label_type != kind:
                continue
            for inst in instructions:
                if isinstance(inst, LabelInstruction) and any(k == label and not valid(v) for k, v in pairs(inst)):
                    yield Hit(inst.start_line, f"Label `{label}` {problem}")

    return rule(code, Severity.WARNING, f"Label `<label>` {problem}",
                f"labels typed `{kind}` in `label-schema` are valid")(check)


RULES: tuple[FunctionRule, ...] = (dl3048, dl3049, dl3050, dl3051,
                                   *(_format_rule(kind) for kind in TYPE_RULES))
