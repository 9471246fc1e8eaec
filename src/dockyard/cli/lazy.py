"""A click group that imports a verb's module only when that verb runs, and lists verbs from a table of short helps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import click

from dockyard.cli.options import first_paragraph, keep_indented


@dataclass(frozen=True)
class LazyCommand:
    """Where a verb lives, and the one line `--help` shows for it without importing it."""

    module: str
    attribute: str
    short_help: str

    def load(self) -> click.Command:
        # __import__, not importlib.import_module: only the former shows in `python -X importtime`.
        command = getattr(__import__(self.module, fromlist=[self.attribute]), self.attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.module}.{self.attribute} is not a click command")
        return command


class LazyGroup(click.Group):
    """A group whose verbs are `lazy` entries (imported on use) and then any added eagerly, in the order given."""

    def __init__(self, *args: Any, lazy: Mapping[str, LazyCommand] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = keep_indented(self.help)
        self.lazy: Mapping[str, LazyCommand] = dict(lazy or {})

    def get_short_help_str(self, limit: int = 45) -> str:
        return first_paragraph(self.short_help or self.help or "")

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.lazy, *(name for name in self.commands if name not in self.lazy)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = self.lazy.get(cmd_name)
        return entry.load() if entry is not None else self.commands.get(cmd_name)

    def short_help_of(self, name: str) -> str:
        """A verb's line in the listing: from the table for lazy verbs (no import), else from the command."""
        entry = self.lazy.get(name)
        if entry is not None:
            return entry.short_help
        command = self.commands.get(name)
        return command.get_short_help_str(limit=1_000) if command is not None else ""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.short_help_of(name)) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
