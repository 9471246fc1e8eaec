"""`dockyard prune`: reclaim space in the store (the daemonless `docker system prune`)."""

from __future__ import annotations

import click

from dockyard.cli.options import output_option, verb
from dockyard.cli.render import Output, human_size, print_json


@verb("prune")
@click.option("--all", "-a", "all_images", is_flag=True, default=False,
              help="Remove all images, not only unnamed ones.")
@click.option("--filter", "filters", multiple=True, help="until=DURATION|TIMESTAMP: only images added before.")
@click.option("--dry-run", is_flag=True, default=False, help="Report what would be removed; remove nothing.")
@output_option()
def prune(all_images: bool, filters: tuple[str, ...], dry_run: bool, output: Output) -> None:
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
            click.echo(f"{'Would untag' if dry_run else 'Untagged'}: {name.familiar}")
        click.echo(f"{verb} image: {image.digest}")
    click.echo(f"{verb} {len(report.blobs)} blob(s)")
    click.echo(f"Total reclaimed space: {human_size(report.bytes_reclaimed)}")
