"""One thin module per CLI verb; `register` adds them all to the app."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from dockyard.cli.commands import (
        archive,
        build,
        copy,
        discover,
        images,
        import_,
        inspect,
        lint,
        login,
        prune,
        pushpull,
        registry_admin,
        serve,
        tag,
        version,
    )

    app.command("import")(import_.import_)
    app.command("images")(images.images)
    app.command("inspect")(inspect.inspect)
    app.command("tag")(tag.tag)
    app.command("rmi")(tag.rmi)
    app.command("copy")(copy.copy)
    app.command("save")(archive.save)
    app.command("load")(archive.load)
    app.command("prune")(prune.prune)
    app.command("pull")(pushpull.pull)
    app.command("push")(pushpull.push)
    app.command("login")(login.login)
    app.command("logout")(login.logout)
    app.command("tags")(discover.tags)
    app.command("catalog")(discover.catalog)
    app.command("digest")(discover.digest)
    app.command("manifest")(discover.manifest)
    app.command("referrers")(discover.referrers)
    app.command("delete")(discover.delete)
    app.command("serve")(serve.serve)
    app.add_typer(registry_admin.app, name="registry")
    app.command("analyze")(__import__("dockyard.cli.commands.analyze", fromlist=["analyze"]).analyze)
    app.command("lint")(lint.lint)
    app.command("version")(version.version)
    app.command("build")(build.build)
