"""`dockyard registry gc|fsck`: maintain a registry's data dir (garbage collection, consistency check)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from dockyard.cli.lazy import LazyGroup
from dockyard.cli.options import output_option, path_type, verb
from dockyard.cli.render import Output, human_size, print_json, print_table

if TYPE_CHECKING:
    from dockyard.registry.config import RegistryConfig


@click.group("registry", cls=LazyGroup, no_args_is_help=True)
def registry() -> None:
    """Maintain the data of `dockyard serve`: garbage collection and consistency checks."""


DATA_DIR_OPTION = click.option("--data-dir", type=path_type(), default=None,
                               help="The registry's data dir (default: <dockyard home>/registry).")
CONFIG_OPTION = click.option("--config", "config_file", type=path_type(), default=None,
                             help="The registry's TOML config file (--data-dir overrides it).")


def _config(data_dir: Path | None, config_file: Path | None) -> RegistryConfig:
    from dataclasses import replace

    from dockyard.registry.config import RegistryConfig
    from dockyard.transports.store.paths import dockyard_home

    default_dir = (data_dir or dockyard_home() / "registry").resolve()
    config = RegistryConfig.load(config_file, data_dir=default_dir) if config_file else RegistryConfig(default_dir)
    return replace(config, data_dir=data_dir.resolve()) if data_dir is not None else config


def parse_grace(text: str) -> float:
    """Seconds from `0`, a number of seconds, or a duration such as `30m`, `1h`, `2h30m`, `7d`."""
    import math

    from dockyard.errors import InvalidArgument
    from dockyard.transports.store.times import parse_duration

    duration = parse_duration(text.strip())
    if duration is not None:
        seconds = duration.total_seconds()
    else:
        try:
            seconds = float(text)
        except ValueError:
            raise InvalidArgument(f"invalid grace period {text!r}",
                                  hint="use a duration like 0, 90s, 30m, 1h or 7d") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidArgument(f"invalid grace period {text!r}: must be zero or more")
    return seconds


@verb("gc")
@click.option("--dry-run", is_flag=True, default=False, help="Report what would be deleted; delete nothing.")
@click.option("--delete-untagged", is_flag=True, default=False,
              help="Also delete manifests no tag reaches (nor a kept index or subject).")
@click.option("--grace", default="1h", help="Keep blobs and manifests touched within this long (0 for none).")
@DATA_DIR_OPTION
@CONFIG_OPTION
@output_option()
def gc(dry_run: bool, delete_untagged: bool, grace: str, data_dir: Path | None, config_file: Path | None,
       output: Output) -> None:
    """Delete blobs no manifest references (mark and sweep), safely while the registry serves pushes.

    Examples:

      dockyard registry gc --dry-run

      dockyard registry gc --delete-untagged --grace 30m
    """
    from dockyard.registry.gc import GCOptions, collect, opened

    options = GCOptions(grace=parse_grace(grace), dry_run=dry_run, delete_untagged=delete_untagged)
    with opened(_config(data_dir, config_file)) as (driver, meta):
        report = collect(driver, meta, options)
    if output is Output.JSON:
        print_json(report)
        return
    would = "Would delete" if dry_run else "Deleted"
    for m in report.manifests_deleted:
        click.echo(f"{would} manifest: {m.repository}@{m.digest}")
    click.echo(f"{would} {len(report.manifests_deleted)} manifest(s) and {len(report.blobs_deleted)} blob(s): "
               f"{human_size(report.bytes_deleted)}")
    click.echo(f"Kept {report.blobs_kept} blob(s): {human_size(report.bytes_kept)}; "
               f"{report.uploads_in_progress} upload(s) in progress")
    if report.revived:
        click.echo(f"Left {report.revived} blob(s) a concurrent push started using again")


@verb("fsck")
@DATA_DIR_OPTION
@CONFIG_OPTION
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=4, help="Blobs hashed in parallel.")
@output_option()
def fsck(data_dir: Path | None, config_file: Path | None, jobs: int, output: Output) -> None:
    """Re-hash every blob and check every manifest, tag and link; exit 1 when anything is wrong.

    Examples:

      dockyard registry fsck --data-dir /var/lib/dockyard/registry

      dockyard registry fsck --output json
    """
    from dockyard.cli.progress import byte_progress
    from dockyard.registry.fsck import check
    from dockyard.registry.gc import opened

    with opened(_config(data_dir, config_file)) as (driver, meta), byte_progress("fsck") as bar:
        report = check(driver, meta, workers=jobs, progress=bar.advance if bar is not None else None)
    if output is Output.JSON:
        print_json(report)
    else:
        if report.findings:
            print_table(["PROBLEM", "REPOSITORY", "DIGEST/PATH", "DETAIL"],
                        [[f.kind, f.repository or "-", f.subject, f.message] for f in report.findings])
        verdict = "clean" if report.clean else f"{len(report.findings)} problem(s)"
        click.echo(f"Checked {report.blobs_checked} blob(s) ({human_size(report.bytes_checked)}), "
                   f"{report.manifests_checked} manifest(s), {report.links_checked} link(s): {verdict}")
    if not report.clean:
        raise SystemExit(1)  # a verdict, not an Error (see cli/commands/analyze.py)


registry.add_command(gc)
registry.add_command(fsck)
