"""Applying `--fix` to files on disk (or only showing the diff with `--dry-run`)."""

from __future__ import annotations

from collections.abc import Iterable

from dockyard.dockerfile import DockerfileError, parse
from dockyard.dockerfile.model import read_text
from dockyard.lint.fix import fix_dockerfile


def fix_files(paths: Iterable[str], *, dry_run: bool) -> str:
    """Fix each file; returns the diffs (dry run) or a one-line summary per changed file. Files that cannot be
    read or parsed are left alone (the lint report names their problem)."""
    out: list[str] = []
    for path in paths:
        if path == "-":
            continue
        try:
            text = read_text(path)
            result = fix_dockerfile(parse(text, path), text)
        except DockerfileError:
            continue
        if not result.edits:
            continue
        if dry_run:
            out.append(result.diff(text, path))
        else:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(result.text)
            out.append(f"{path}: {result.edits} fix(es) applied\n")
    return "".join(out)
