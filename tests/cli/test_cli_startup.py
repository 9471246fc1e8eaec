"""Start-up stays small: the CLI entry imports click, not typer/rich/httpx, and a verb imports only its own module.

Import assertions, not timings (machine noise must not fail CI); `benchmarks/startup.py` measures the times.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from dockyard.cli.commands import COMMANDS

#: Never imported by the entry module: frameworks and servers that only some verbs need.
HEAVY = ("typer", "rich", "httpx", "starlette", "uvicorn", "textual")


def _imports(code: str) -> tuple[set[str], str]:
    """The modules a fresh interpreter imports running `code` (from `-X importtime`), and its stdout."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
             if line.startswith("import time:") and line.count("|") == 2}
    names.discard("imported package")
    assert "encodings" in names, "no -X importtime output to check"
    return names, proc.stdout


def _heavy(names: set[str], roots: tuple[str, ...] = HEAVY) -> list[str]:
    return sorted(n for n in names if n.split(".", 1)[0] in roots)


def _run(*argv: str) -> str:
    return f"from dockyard.cli.main import run\ntry:\n    run({list(argv)!r})\nexcept SystemExit as e:\n" \
           "    assert not e.code, e.code"


def test_cli_entry_module_imports_nothing_heavy() -> None:
    names, _ = _imports("import dockyard.cli.main")
    assert "click" in names and "dockyard.cli.main" in names
    assert _heavy(names) == []
    assert not [n for n in names if n.startswith("dockyard.cli.commands.")], "a verb module was imported eagerly"


def test_cli_analyze_help_imports_only_its_verb() -> None:
    names, out = _imports(_run("analyze", "--help"))
    assert "dockyard analyze" in out and "--ci-config" in out
    assert "dockyard.cli.commands.analyze" in names
    assert _heavy(names, ("rich", "httpx", "textual", "typer")) == []
    others = [n for n in names if n.startswith("dockyard.cli.commands.") and n != "dockyard.cli.commands.analyze"]
    assert others == []
    assert "dockyard.analyze" not in names  # the analysis itself loads only when an image is analyzed


@pytest.mark.parametrize("argv", [("--help",), ("version",), ("registry", "--help")])
def test_cli_light_verbs_import_nothing_heavy(argv: tuple[str, ...]) -> None:
    names, out = _imports(_run(*argv))
    assert "Usage" in out or "dockyard" in out
    assert _heavy(names) == []


def test_cli_top_level_help_lists_every_verb_without_importing_them() -> None:
    names, out = _imports(_run("--help"))
    for verb in COMMANDS:
        assert f"\n  {verb} " in out, verb
    assert not [n for n in names if n.startswith("dockyard.cli.commands.")]


@pytest.mark.parametrize("verb", sorted(COMMANDS))
def test_cli_lazy_table_matches_each_verb(verb: str) -> None:
    """The one line `dockyard --help` shows without importing a verb is the first paragraph of its docstring."""
    command = COMMANDS[verb].load()
    assert command.name == verb
    assert command.get_short_help_str() == COMMANDS[verb].short_help
