"""CLI start-up: wall time of `dockyard --help`, `dockyard version` and `dockyard analyze --help`, with the imports.

DESIGN section 6: import heavy modules lazily. The CLI is plain click with lazily imported verbs (cli/lazy.py):
typer (and the rich help it renders) cost about 0.15 s and are gone; rich is still compared, as verbs load it for
TTY output. Each row is the median (and minimum) of --runs subprocess runs (hyperfine is not installed).
Run: .venv/bin/python benchmarks/startup.py [--runs 10]
"""

# ruff: noqa: E402  (imports follow the sys.path fix below)
from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
    sys.path.append(sys.path.pop(0))  # search this directory last: a script name must never shadow the stdlib

import argparse
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence

from _common import VENV_BIN, machine, table

PY = str(VENV_BIN / "python")
DOCKYARD = str(VENV_BIN / "dockyard")
MINIMAL_CLICK = """
import click
@click.command()
@click.option("--name", default="x")
def hello(name: str) -> None:
    print(name)
hello()
"""
CASES: list[tuple[str, list[str]]] = [
    ("python -c pass (interpreter floor)", [PY, "-c", "pass"]),
    ("python -c 'import rich.console'", [PY, "-c", "import rich.console"]),
    ("python -c 'import click'", [PY, "-c", "import click"]),
    ("minimal click app --help", [PY, "-c", MINIMAL_CLICK, "--help"]),
    ("python -c 'import dockyard.cli.main'", [PY, "-c", "import dockyard.cli.main"]),
    ("dockyard --help", [DOCKYARD, "--help"]),
    ("dockyard version", [DOCKYARD, "version"]),
    ("dockyard analyze --help", [DOCKYARD, "analyze", "--help"]),
]


def wall(argv: Sequence[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    """(median, min) wall seconds of `runs` runs of `argv`."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


#: Modules whose cumulative import time explains the start-up (first import wherever it happens).
WATCH = ("dockyard.cli.main", "click", "dockyard.cli.lazy", "dockyard.cli.options", "dockyard.cli.render",
         "dockyard.cli.commands", "dockyard.cli.commands.version", "dockyard.cli.commands.analyze", "typer", "rich")


def import_times(argv: Sequence[str], env: dict[str, str]) -> dict[str, float]:
    """Cumulative import ms of the WATCH modules in one `-X importtime` run of the console script with `argv`."""
    proc = subprocess.run([PY, "-X", "importtime", DOCKYARD, *argv], capture_output=True, text=True, env=env,
                          check=True)
    found: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| *(\S+)$", line)
        if m and m.group(2) in WATCH:
            found.setdefault(m.group(2), int(m.group(1)) / 1000)
    return found


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=10, help="runs per command (default 10)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "DOCKYARD_HOME": home}
        print(f"# CLI start-up: median of {args.runs} runs; {machine()}\n")
        rows = []
        results = {}
        for name, argv in CASES:
            med, low = wall(argv, args.runs, env)
            results[name] = med
            rows.append((name, med * 1000, low * 1000))
        print(table(["command", "median ms", "min ms"], rows))
        print("\n## imports (cumulative ms of each module's first import, one `-X importtime` run; - = not imported)\n")
        verbs = {"dockyard --help": ["--help"], "dockyard version": ["version"],
                 "dockyard analyze --help": ["analyze", "--help"]}
        found = {name: import_times(argv, env) for name, argv in verbs.items()}
        print(table(["module", *verbs], [(m, *(found[name].get(m, "-") for name in verbs)) for m in WATCH]))
        floor = results["python -c pass (interpreter floor)"]
        framework = results["python -c 'import click'"] - floor
        ours = results["dockyard version"] - floor
        print(f"\nclick imports: {framework * 1000:.0f} ms of the {ours * 1000:.0f} ms "
              f"`dockyard version` spends above the interpreter floor ({100 * framework / ours:.0f}%)")


if __name__ == "__main__":
    main()
