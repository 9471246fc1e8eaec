"""`dockyard lint` vs hadolint 2.15.1 over the real Dockerfile corpus: one process each over all files.

Both run once per measurement over every file of `tests/assets/dockerfiles` with JSON output, start-up included
(`dockyard lint --no-fail -o json FILES...` vs `hadolint --no-fail -f json FILES...`); the library call
(`dockyard.lint.runner.lint_paths` in this process, imports done) is shown too. Budget: at most 1.0x hadolint.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if p not in (_HERE, "")]
import tarfile  # noqa: E402,F401  (the stdlib's, before benchmarks/copy.py can shadow its `import copy`)

sys.path.insert(0, _HERE)
from _common import ROOT, VENV_BIN, machine, median_time, parser, run, table  # noqa: E402

CORPUS = sorted(str(p) for p in (ROOT / "tests" / "assets" / "dockerfiles").iterdir())


def main() -> None:
    args = parser("dockyard lint vs hadolint over the Dockerfile corpus", 0).parse_args()
    repeat = max(args.repeat, 5)
    sys.path.insert(0, str(ROOT / "src"))
    from dockyard.lint.config import LintConfig
    from dockyard.lint.runner import lint_paths
    from dockyard.testing.peers import find_tool

    hadolint = find_tool("hadolint")
    if hadolint is None:
        sys.exit("hadolint is not installed (`make tools`)")
    ours = [VENV_BIN / "dockyard", "lint", "--no-fail", "-o", "json", *CORPUS]
    theirs = [hadolint, "--no-fail", "-f", "json", *CORPUS]
    run(ours)  # warm the page cache and .pyc files for both sides
    run(theirs)
    t_hadolint = t_cli = 0.0
    for _ in range(repeat):  # interleaved, so background load hits both alike
        t_hadolint += median_time(lambda: run(theirs), 1)
        t_cli += median_time(lambda: run(ours), 1)
    t_hadolint, t_cli = t_hadolint / repeat, t_cli / repeat
    start = time.perf_counter()
    lint_paths(CORPUS, LintConfig())
    t_first = time.perf_counter() - start
    t_lib = median_time(lambda: lint_paths(CORPUS, LintConfig()), repeat)
    print(f"{machine()}; {len(CORPUS)} Dockerfiles, mean of {repeat} interleaved runs\n")
    print(table(["what", "wall time (s)", "per file (ms)", "vs hadolint"], [
        ["hadolint 2.15.1 (one process, all files)", t_hadolint, t_hadolint / len(CORPUS) * 1000, 1.0],
        ["dockyard lint (one process, start-up included)", t_cli, t_cli / len(CORPUS) * 1000,
         t_cli / t_hadolint],
        ["dockyard.lint library, first call in process", t_first, t_first / len(CORPUS) * 1000,
         t_first / t_hadolint],
        ["dockyard.lint library, warm", t_lib, t_lib / len(CORPUS) * 1000, t_lib / t_hadolint],
    ]))


if __name__ == "__main__":
    main()
