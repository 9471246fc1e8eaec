"""`dockyard lint`: hadolint's rules (same IDs, severities and config) plus dockyard's DY rules, with safe fixes."""

from __future__ import annotations

from pathlib import Path

import typer


def lint(
    paths: list[str] = typer.Argument(None, help="Dockerfiles, or directories to search for them ('-' = stdin); "
                                                 "default ./Dockerfile."),
    fmt: str | None = typer.Option(None, "--format", "-f", help="tty, json, sarif, checkstyle or codeclimate."),
    output: str | None = typer.Option(None, "--output", "-o", help="Same as --format (`-o json`)."),
    config: Path | None = typer.Option(None, "--config", "-c", help="A .hadolint.yaml, or a dockyard.yaml with a "
                                                                   "`lint:` section (default: hadolint's search)."),
    ignore: list[str] = typer.Option([], "--ignore", help="A rule to skip (repeatable); replaces the config's list."),
    threshold: str | None = typer.Option(None, "--failure-threshold", "-t",
                                         help="Exit 1 on findings at or above: error, warning, info (default), "
                                              "style, ignore/none (any finding)."),
    trusted: list[str] = typer.Option([], "--trusted-registry", help="A registry FROM may use (DL3026; "
                                                                     "repeatable, `*.example.com` allowed)."),
    no_fail: bool = typer.Option(False, "--no-fail", help="Always exit 0."),
    require_digest: bool = typer.Option(False, "--require-digest", help="Policy: FROM must pin a digest (DY1008)."),
    platform: list[str] = typer.Option([], "--platform", help="Declared target platform (DY1009; repeatable)."),
    context: Path | None = typer.Option(None, "--context", help="Build context for .dockerignore checks "
                                                                "(default: the Dockerfile's directory)."),
    fix: bool = typer.Option(False, "--fix", help="Apply the safe fixes in place, then report what is left."),
    dry_run: bool = typer.Option(False, "--dry-run", help="With --fix: print the fixes as a diff, change nothing."),
) -> None:
    """Lint Dockerfiles: hadolint's DL rules (IDs, severities, .hadolint.yaml, pragmas) and dockyard's DY rules.

    Examples:

      dockyard lint Dockerfile

      dockyard lint . --format sarif > lint.sarif

      dockyard lint --fix --dry-run Dockerfile
    """
    import dataclasses
    import sys

    from dockyard.errors import InvalidArgument
    from dockyard.lint.config import load_config
    from dockyard.lint.formats import Format, render
    from dockyard.lint.model import Severity
    from dockyard.lint.runner import failed, find_dockerfiles, lint_file

    settings = load_config(config)
    changes: dict[str, object] = {}
    if ignore:
        changes["ignored"] = frozenset(ignore)
    if threshold is not None:
        try:
            changes["failure_threshold"] = Severity.parse(threshold)
        except ValueError:
            raise InvalidArgument(f"unknown failure threshold {threshold!r}",
                                  hint="error, warning, info, style, ignore or none") from None
    if trusted:
        changes["trusted_registries"] = (*settings.trusted_registries, *trusted)
    if no_fail:
        changes["no_fail"] = True
    if require_digest:
        changes["require_digest"] = True
    if platform:
        changes["platforms"] = tuple(platform)
    settings = dataclasses.replace(settings, **changes)  # type: ignore[arg-type]
    name = (fmt or output or settings.format or "tty").lower().replace("gitlab_codeclimate", "codeclimate")
    try:
        chosen = Format(name)
    except ValueError:
        raise InvalidArgument(f"unknown format {name!r}", hint=", ".join(Format)) from None
    files = find_dockerfiles(paths or ["Dockerfile"])
    if fix:
        from dockyard.lint.fixfiles import fix_files

        sys.stdout.write(fix_files(files, dry_run=dry_run))
        if dry_run:
            return
    results = [lint_file(p, settings, context) for p in files]
    sys.stdout.write(render(chosen, results, color=chosen is Format.TTY and sys.stdout.isatty()))
    if failed(results, settings):
        raise SystemExit(1)  # a verdict, not an Error (see cli/commands/analyze.py)
