"""`dockyard prune`: reclaim space in the store (the daemonless `docker system prune`)."""

from __future__ import annotations

import typer

from dockyard.cli.render import OUTPUT_OPTION, Output, human_size, print_json


def prune(
    all_images: bool = typer.Option(False, "--all", "-a", help="Remove all images, not only unnamed ones."),
    filters: list[str] = typer.Option([], "--filter", help="until=DURATION|TIMESTAMP: only images added before."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report what would be removed; remove nothing."),
    output: Output = OUTPUT_OPTION,
) -> None:
    """Remove dangling images (or all with --all) and every blob no image needs.

    Examples:

      dockyard prune --dry-run

      dockyard prune --all --filter until=24h
    """
    from dockyard.errors import InvalidArgument
    from dockyard.transports.store import Store
    from dockyard.transports.store.prune import parse_until
    from dockyard.transports.store.prune import prune as do_prune

    until = None
    for item in filters:
        key, eq, value = item.partition("=")
        if key != "until" or not eq:
            raise InvalidArgument(f"unsupported filter {item!r}: only until=DURATION|TIMESTAMP")
        until = parse_until(value)
    report = do_prune(Store.open(), all=all_images, until=until, dry_run=dry_run)
    if output is Output.JSON:
        print_json(report)
        return
    verb = "Would delete" if dry_run else "Deleted"
    for image in report.images:
        for name in image.names:
            typer.echo(f"{'Would untag' if dry_run else 'Untagged'}: {name.familiar}")
        typer.echo(f"{verb} image: {image.digest}")
    typer.echo(f"{verb} {len(report.blobs)} blob(s)")
    typer.echo(f"Total reclaimed space: {human_size(report.bytes_reclaimed)}")
