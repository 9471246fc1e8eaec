"""The click pieces every verb shares: a command whose help lists its arguments, and the `--output` option."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from dockyard.cli.render import Output

F = TypeVar("F", bound=Callable[..., Any])

#: Help shows `-h` as well as `--help` and the defaults of options (as typer did), up to 120 columns wide.
CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "show_default": True,
                                    "max_content_width": 120}


def keep_indented(text: str | None) -> str | None:
    """A docstring for click with its indented paragraphs (examples, tables) marked never to be rewrapped."""
    if not text:
        return text
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(f"\b\n{p}" if p.startswith(" ") else p for p in paragraphs)


def first_paragraph(text: str) -> str:
    """The first paragraph of a help text on one line: a verb's line in `dockyard --help`."""
    return " ".join(text.strip().split("\n\n", 1)[0].split())


class Argument(click.Argument):
    """A positional argument with a help text (click's have none), listed under "Arguments" in `--help`."""

    def __init__(self, param_decls: list[str], help: str = "", **attrs: Any) -> None:
        super().__init__(param_decls, **attrs)
        self.help = help


class Verb(click.Command):
    """A dockyard verb: help shows its arguments before its options, and its whole first paragraph as short help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = keep_indented(self.help)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(a.human_readable_name + ("..." if a.nargs == -1 else ""), a.help)
                for a in self.params if isinstance(a, Argument) and a.help]
        if rows:
            with formatter.section("Arguments"):
                formatter.write_dl(rows)
        super().format_options(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        return first_paragraph(self.short_help or self.help or "")


def verb(name: str) -> Callable[[Callable[..., Any]], Verb]:
    """`@verb("copy")`: the function becomes the `dockyard copy` command; its docstring is its help."""
    return click.command(name, cls=Verb)


def argument(name: str, *, help: str, **attrs: Any) -> Callable[[F], F]:
    """A positional argument with help (`nargs=-1` for many; `required=False` with a default for optional)."""
    return click.argument(name, cls=Argument, help=help, **attrs)


def _as_output(ctx: click.Context, param: click.Parameter, value: str) -> Output:
    return Output(value)


def output_option(*decls: str, help: str = "Output format: table (human) or json.") -> Callable[[F], F]:
    """`--output/-o table|json` (or other names, e.g. `"--format", "fmt"`), passed to the verb as an Output."""
    return click.option(*(decls or ("--output", "-o", "output")), type=click.Choice([o.value for o in Output]),
                        default=Output.TABLE.value, callback=_as_output, help=help)


def path_type() -> click.Path:
    """A path option or argument, passed as a pathlib.Path (nothing is checked here: the verb reports errors)."""
    return click.Path(path_type=Path)
