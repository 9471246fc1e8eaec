"""`dockyard inspect`: the manifest, config and layers of an image from any transport."""

from __future__ import annotations

import typer

from dockyard.cli.render import OUTPUT_OPTION, Output, human_size, print_json


def inspect(
    ref: str = typer.Argument(..., help="Image: NAME[:TAG], an image ID, oci:DIR[:TAG], docker-archive:FILE, ..."),
    raw: bool = typer.Option(False, "--raw", help="Print the raw manifest bytes exactly as stored."),
    config: bool = typer.Option(False, "--config", help="Print the raw image config."),
    platform: str | None = typer.Option(None, "--platform", help="Pick this platform out of an index."),
    output: Output = OUTPUT_OPTION,
) -> None:
    """Show what an image is made of.

    Examples:

      dockyard inspect busybox:1.0

      dockyard inspect oci:./layout:1.0 --raw | jq .

      dockyard inspect docker-archive:img.tar -o json
    """
    import json
    import sys

    from dockyard.image.describe import ImageDescription, describe
    from dockyard.image.select import select_image
    from dockyard.oci.platform import Platform
    from dockyard.transports.location import Transport, parse_location
    from dockyard.transports.resolve import narrow, open_location

    loc = parse_location(ref)
    artifact = open_location(loc)
    if platform or config:
        artifact = narrow(artifact, Platform.parse(platform) if platform else None, ref)
    if raw or config:
        data = artifact.raw_manifest() if raw else select_image(artifact).raw_config()
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    info = describe(artifact)
    names: list[str] = []
    if loc.transport is Transport.STORE:
        from dockyard.transports.store import Store

        names = [n.familiar for n in Store.open().info(loc.text or ref).names]
    if output is Output.JSON:
        print_json({"names": names, **_as_dict(info)})
        return
    typer.echo(f"Digest:     {info.digest}")
    typer.echo(f"MediaType:  {info.media_type}")
    if names:
        typer.echo(f"Names:      {', '.join(names)}")
    if not isinstance(info, ImageDescription):
        typer.echo("Manifests:")
        for d in info.manifests:
            typer.echo(f"  {d.digest}  {d.platform or '-'}  {human_size(d.size)}")
        return
    run = info.config
    typer.echo(f"Platform:   {info.platform}")
    typer.echo(f"Created:    {info.created or 'N/A'}")
    typer.echo(f"Size:       {human_size(info.size)} ({info.size} bytes)")
    typer.echo(f"Config:     {info.config_digest}")
    for label, value in (("Entrypoint", run.entrypoint), ("Cmd", run.cmd), ("Env", run.env)):
        if value:
            typer.echo(f"{label + ':':<12}{json.dumps(list(value))}")
    for label, text in (("User", run.user), ("WorkingDir", run.working_dir)):
        if text:
            typer.echo(f"{label + ':':<12}{text}")
    typer.echo(f"Layers:     {len(info.layers)}")
    for layer in info.layers:
        typer.echo(f"  {layer.digest}  {human_size(layer.size):>8}  {layer.media_type}")


def _as_dict(info: object) -> dict[str, object]:
    from dockyard.cli.render import to_jsonable

    value = to_jsonable(info)
    assert isinstance(value, dict)
    return value
