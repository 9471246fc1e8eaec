"""The Rule protocol, the context rules read (the parsed Dockerfile, parsed RUN scripts, the config), and helpers
that turn plain functions into registered rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from dockyard.dockerfile import (
    AnyInstruction,
    Dockerfile,
    Instruction,
    OnbuildInstruction,
    RunInstruction,
    ShellInstruction,
)
from dockyard.lint.model import Hit, RuleMeta, Severity
from dockyard.lint.shellcmd import Script, parse_script

if TYPE_CHECKING:
    from dockyard.lint.config import LintConfig


class Rule(Protocol):
    """A lint rule: its metadata and a check over a whole Dockerfile (rules are folds, as in hadolint)."""

    @property
    def meta(self) -> RuleMeta: ...

    def check(self, ctx: LintContext) -> Iterable[Hit]: ...


@dataclass
class LintContext:
    """Everything a rule may read about one Dockerfile. `context_dir` is the build context (None for stdin)."""

    dockerfile: Dockerfile
    config: LintConfig
    context_dir: Path | None = None
    _scripts: dict[int, Script] = field(default_factory=dict)

    @property
    def instructions(self) -> tuple[AnyInstruction, ...]:
        return self.dockerfile.instructions

    @property
    def onbuild(self) -> tuple[Instruction, ...]:
        """The triggers of every `ONBUILD`, at the ONBUILD's line (hadolint's `onbuild` rule wrapper)."""
        return tuple(i.trigger for i in self.dockerfile.instructions if isinstance(i, OnbuildInstruction))

    def script(self, inst: Instruction) -> Script:
        """The parsed shell script of a RUN (exec form joined by spaces, as hadolint reads it); cached."""
        key = id(inst)
        found = self._scripts.get(key)
        if found is None:
            found = parse_script(run_text(inst))
            self._scripts[key] = found
        return found


def run_text(inst: Instruction) -> str:
    """The shell text a rule analyzes: shell-form script, exec-form argv joined, SHELL argv joined.

    A RUN whose command is only a heredoc (`RUN <<EOF` or `RUN <<EOF bash`) runs the heredoc's body.
    """
    if isinstance(inst, ShellInstruction):
        return " ".join(inst.shell)
    if not isinstance(inst, RunInstruction):
        return ""
    command = inst.command
    if not command.exec_form and inst.heredocs:
        words = command.text.split()
        if words and words[0].lstrip("0123456789").startswith("<<") and len(words) <= 2:
            shell = words[1].rsplit("/", 1)[-1] if len(words) == 2 else "sh"
            return "".join(h.content for h in inst.heredocs) if shell in _SHELLS else ""
        bodies = "".join(f"{h.content}{h.name}\n" for h in inst.heredocs)
        return f"{command.text}\n{bodies}"
    return command.text


_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"})

Check = Callable[[Sequence[Instruction], LintContext], Iterable[Hit | int]]


@dataclass(frozen=True, slots=True)
class FunctionRule:
    """A rule made of a function over an instruction sequence; with `onbuild` it also runs, separately, over the
    ONBUILD triggers (as hadolint's `onbuild` wrapper does)."""

    meta: RuleMeta
    fn: Check
    onbuild: bool = False

    def check(self, ctx: LintContext) -> Iterator[Hit]:
        sequences: list[Sequence[Instruction]] = [ctx.instructions]
        if self.onbuild:
            sequences.append(ctx.onbuild)
        for instructions in sequences:
            for hit in self.fn(instructions, ctx):
                yield hit if isinstance(hit, Hit) else Hit(hit)


def rule(code: str, severity: Severity, message: str, summary: str = "", *,
         onbuild: bool = False) -> Callable[[Check], FunctionRule]:
    """Decorator: `@rule("DL3000", Severity.ERROR, "Use absolute WORKDIR")` over a `Check` function."""

    def wrap(fn: Check) -> FunctionRule:
        return FunctionRule(RuleMeta(code, severity, message, summary or message), fn, onbuild)

    return wrap


def per_instruction(code: str, severity: Severity, message: str, summary: str = "", *, onbuild: bool = False,
                    ) -> Callable[[Callable[[Instruction, LintContext], bool]], FunctionRule]:
    """Decorator for hadolint's `simpleRule`: the predicate says True when the instruction violates the rule."""

    def wrap(pred: Callable[[Instruction, LintContext], bool]) -> FunctionRule:
        def check(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
            return (i.start_line for i in instructions if pred(i, ctx))

        return FunctionRule(RuleMeta(code, severity, message, summary or message), check, onbuild)

    return wrap


def run_rule(code: str, severity: Severity, message: str, summary: str = "", *, onbuild: bool = False,
             ) -> Callable[[Callable[[Script], bool]], FunctionRule]:
    """Decorator for a rule over each RUN's parsed script: the predicate says True when the script violates it."""

    def wrap(pred: Callable[[Script], bool]) -> FunctionRule:
        def check(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
            return (i.start_line for i in instructions if isinstance(i, RunInstruction) and pred(ctx.script(i)))

        return FunctionRule(RuleMeta(code, severity, message, summary or message), check, onbuild)

    return wrap


def drop_quotes(text: str) -> str:
    """hadolint's `dropQuotes`: strip every leading and trailing `"` and `'`."""
    return text.strip("\"'")
