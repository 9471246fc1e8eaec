"""`dockyard images`: what the local store holds (the daemonless `docker images`)."""

from __future__ import annotations

import click

from dockyard.cli.options import output_option, verb
from dockyard.cli.render import Output, human_size, print_json, print_table


@verb("images")
@click.option("--digests", "all_digests", is_flag=True, default=False, help="Show the full digest of each image.")
@click.option("--quiet", "-q", is_flag=True, default=False, help="Only print image IDs.")
@output_option()
def images(all_digests: bool, quiet: bool, output: Output) -> None:
    """List the images in the local store, newest first."""
    from datetime import UTC, datetime

    from dockyard.transports.store import Store

    records = Store.open().list()
    if output is Output.JSON:
        print_json([
            {"repository": r.repository, "tag": r.tag, "id": r.id, "digest": r.digest,
             "media_type": r.media_type, "config_digest": r.config_digest, "created": r.created,
             "added": r.added, "size": r.size, "platforms": [str(p) for p in r.platforms],
             "names": [n.familiar for n in r.names]}
            for r in records
        ])
        return
    if quiet:
        for rid in dict.fromkeys(r.id for r in records):
            click.echo(rid)
        return
    now = datetime.now(UTC)
    rows = []
    for r in records:
        created = _ago(now, r.created) if r.created else "N/A"
        row = [r.repository, r.tag, r.id, created, human_size(r.size), ",".join(str(p) for p in r.platforms)]
        if all_digests:
            row.insert(2, str(r.digest))
        rows.append(row)
    columns = ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "PLATFORM"]
    if all_digests:
        columns.insert(2, "DIGEST")
    print_table(columns, rows)


def _ago(now: object, then: object) -> str:
    from datetime import datetime

    assert isinstance(now, datetime) and isinstance(then, datetime)
    seconds = int((now - then).total_seconds())
    if seconds < 0:
        return "in the future"
    for unit, span in (("years", 365 * 86400), ("months", 30 * 86400), ("weeks", 7 * 86400), ("days", 86400),
                       ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * span:
            return f"{seconds // span} {unit} ago"
    if seconds >= 60:
        return "About a minute ago" if seconds < 3600 else "About an hour ago"
    return "Less than a minute ago"
