"""hadolint's DL1001: inline ignore pragmas (off unless its severity is overridden)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dockyard.dockerfile import Instruction
from dockyard.lint.model import Severity
from dockyard.lint.pragmas import collect
from dockyard.lint.rule import LintContext, rule


@rule("DL1001", Severity.IGNORE, "Please refrain from using inline ignore pragmas  `# hadolint ignore=DLxxxx`.",
      "no inline `# hadolint ignore=` pragmas (off unless its severity is overridden)")
def dl1001(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    df = ctx.dockerfile
    yield from collect(df.comments, df.lines).pragma_lines
