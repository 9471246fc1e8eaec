"""`dockyard tag` and `dockyard rmi`: name and unname images in the local store."""

from __future__ import annotations

import click

from dockyard.cli.options import argument, output_option, verb
from dockyard.cli.render import Output, print_json


@verb("tag")
@argument("source", help="Existing image: NAME[:TAG], NAME@DIGEST or an image ID.")
@argument("target", help="New name: NAME[:TAG].")
@output_option()
def tag(source: str, target: str, output: Output) -> None:
    """Give a stored image another name (like `docker tag`)."""
    from dockyard.transports.store import Store

    ref = Store.open().tag(source, target)
    if output is Output.JSON:
        print_json({"source": source, "target": ref.familiar})


@verb("rmi")
@argument("refs", nargs=-1, required=True, help="Images to remove: names or image IDs.")
@click.option("--force", "-f", is_flag=True, default=False, help="Remove an image ID even when it has several names.")
@output_option()
def rmi(refs: tuple[str, ...], force: bool, output: Output) -> None:
    """Remove names from the store; an image with no name left is deleted with its unshared blobs."""
    from dockyard.transports.store import Store

    store = Store.open()
    results = []
    try:
        for ref in refs:
            results.append(store.remove(ref, force=force))
    finally:  # a later name that fails must not hide what the earlier ones removed
        if output is Output.JSON:
            print_json(results)
        else:
            for result in results:
                for name in result.untagged:
                    click.echo(f"Untagged: {name.familiar}")
                if result.deleted:
                    click.echo(f"Deleted: {result.deleted}")
