"""Output formats of `dockyard lint`: tty, json, sarif, checkstyle, codeclimate (GitLab's Code Quality)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum

from dockyard.lint.model import FileResult


class Format(StrEnum):
    TTY = "tty"
    JSON = "json"
    SARIF = "sarif"
    CHECKSTYLE = "checkstyle"
    CODECLIMATE = "codeclimate"


def render(fmt: Format, results: Sequence[FileResult], *, color: bool = False) -> str:
    """The whole report as text (every format ends with a newline unless it is empty tty output)."""
    from dockyard.lint.formats import checkstyle, codeclimate, json_, sarif, tty

    renderers: dict[Format, Callable[[Sequence[FileResult]], str]] = {
        Format.JSON: json_.render, Format.SARIF: sarif.render, Format.CHECKSTYLE: checkstyle.render,
        Format.CODECLIMATE: codeclimate.render,
    }
    if fmt is Format.TTY:
        return tty.render(results, color=color)
    return renderers[fmt](results)
