"""`dockyard lint`: hadolint's rules (same IDs, severities and config) plus dockyard's DY rules, with safe fixes."""

from __future__ import annotations

from pathlib import Path

import click

from dockyard.cli.options import argument, path_type, verb


@verb("lint")
@argument("paths", nargs=-1, required=False,
          help="Dockerfiles, or directories to search for them ('-' = stdin); default ./Dockerfile.")
@click.option("--format", "-f", "fmt", default=None, help="tty, json, sarif, checkstyle or codeclimate.")
@click.option("--output", "-o", default=None, help="Same as --format (`-o json`).")
@click.option("--config", "-c", type=path_type(), default=None,
              help="A .hadolint.yaml, or a dockyard.yaml with a `lint:` section (default: hadolint's search).")
@click.option("--ignore", multiple=True, help="A rule to skip (repeatable); replaces the config's list.")
@click.option("--failure-threshold", "-t", "threshold", default=None,
              help="Exit 1 on findings at or above: error, warning, info (default), style, ignore/none (any finding).")
@click.option("--trusted-registry", "trusted", multiple=True,
              help="A registry FROM may use (DL3026; repeatable, `*.example.com` allowed).")
@click.option("--no-fail", is_flag=True, default=False, help="Always exit 0.")
@click.option("--require-digest", is_flag=True, default=False, help="Policy: FROM must pin a digest (DY1008).")
@click.option("--platform", multiple=True, help="Declared target platform (DY1009; repeatable).")
@click.option("--context", type=path_type(), default=None,
              help="Build context for .dockerignore checks (default: the Dockerfile's directory).")
@click.option("--fix", is_flag=True, default=False, help="Apply the safe fixes in place, then report what is left.")
@click.option("--dry-run", is_flag=True, default=False, help="With --fix: print the fixes as a diff, change nothing.")
def lint(paths: tuple[str, ...], fmt: str | None, output: str | None, config: Path | None, ignore: tuple[str, ...],
         threshold: str | None, trusted: tuple[str, ...], no_fail: bool, require_digest: bool,
         platform: tuple[str, ...], context: Path | None, fix: bool, dry_run: bool) -> None:
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
    files = find_dockerfiles(list(paths) or ["Dockerfile"])
    if fix:
        from dockyard.lint.fixfiles import fix_files

        sys.stdout.write(fix_files(files, dry_run=dry_run))
        if dry_run:
            return
    results = [lint_file(p, settings, context) for p in files]
    sys.stdout.write(render(chosen, results, color=chosen is Format.TTY and sys.stdout.isatty()))
    if failed(results, settings):
        raise SystemExit(1)  # a verdict, not an Error (see cli/commands/analyze.py)
