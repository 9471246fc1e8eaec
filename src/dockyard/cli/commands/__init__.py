"""One thin module per CLI verb; `register` adds them all to the app."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from dockyard.cli.commands import archive, copy, images, import_, inspect, prune, tag, version

    app.command("import")(import_.import_)
    app.command("images")(images.images)
    app.command("inspect")(inspect.inspect)
    app.command("tag")(tag.tag)
    app.command("rmi")(tag.rmi)
    app.command("copy")(copy.copy)
    app.command("save")(archive.save)
    app.command("load")(archive.load)
    app.command("prune")(prune.prune)
    app.command("version")(version.version)
    app.command("serve")(__import__("dockyard.cli.commands.serve", fromlist=["serve"]).serve)
