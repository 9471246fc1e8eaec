"""`dockyard tag` and `dockyard rmi`: name and unname images in the local store."""

from __future__ import annotations

import typer

from dockyard.cli.render import OUTPUT_OPTION, Output, print_json


def tag(
    source: str = typer.Argument(..., help="Existing image: NAME[:TAG], NAME@DIGEST or an image ID."),
    target: str = typer.Argument(..., help="New name: NAME[:TAG]."),
    output: Output = OUTPUT_OPTION,
) -> None:
    """Give a stored image another name (like `docker tag`)."""
    from dockyard.transports.store import Store

    ref = Store.open().tag(source, target)
    if output is Output.JSON:
        print_json({"source": source, "target": ref.familiar})


def rmi(
    refs: list[str] = typer.Argument(..., help="Images to remove: names or image IDs."),
    force: bool = typer.Option(False, "--force", "-f", help="Remove an image ID even when it has several names."),
    output: Output = OUTPUT_OPTION,
) -> None:
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
                    typer.echo(f"Untagged: {name.familiar}")
                if result.deleted:
                    typer.echo(f"Deleted: {result.deleted}")
