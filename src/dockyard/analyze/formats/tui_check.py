"""Whether `analyze --tui` can run here: a terminal on both ends, textual installed, no conflicting output."""

from __future__ import annotations

import importlib.util
import sys
from typing import TextIO

from dockyard.errors import InvalidArgument, Unsupported

__all__ = ["check_tui"]


def check_tui(*, ci: bool = False, json: bool = False, stdin: TextIO | None = None,
              stdout: TextIO | None = None) -> None:
    """Raise InvalidArgument (exit 2) unless stdin and stdout are terminals and no other output was asked for."""
    if ci or json:
        raise InvalidArgument(f"--tui cannot be combined with {'--ci' if ci else '--output json'}",
                              hint="run the interactive browser and the gate or the export separately")
    ins, outs = stdin or sys.stdin, stdout or sys.stdout
    if not (_isatty(ins) and _isatty(outs)):
        raise InvalidArgument("--tui needs an interactive terminal, but stdin or stdout is not a TTY",
                              hint="drop --tui for the summary, or use --output json / --html FILE")
    if importlib.util.find_spec("textual") is None:
        raise Unsupported("--tui needs the `textual` package", hint="pip install textual")


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False
