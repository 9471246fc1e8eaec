"""`dockyard inspect`: the manifest, config and layers of an image from any transport."""

from __future__ import annotations

import click

from dockyard.cli.options import argument, output_option, verb
from dockyard.cli.render import Output, human_size, print_json


@verb("inspect")
@argument("ref", help="Image: NAME[:TAG], an image ID, oci:DIR[:TAG], docker-archive:FILE, ...")
@click.option("--raw", is_flag=True, default=False, help="Print the raw manifest bytes exactly as stored.")
@click.option("--config", is_flag=True, default=False, help="Print the raw image config.")
@click.option("--platform", default=None, help="Pick this platform out of an index.")
@output_option()
def inspect(ref: str, raw: bool, config: bool, platform: str | None, output: Output) -> None:
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
        artifact = narrow(artifact, Platform.parse_known(platform) if platform else None, ref)
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
    click.echo(f"Digest:     {info.digest}")
    click.echo(f"MediaType:  {info.media_type}")
    if names:
        click.echo(f"Names:      {', '.join(names)}")
    if not isinstance(info, ImageDescription):
        click.echo("Manifests:")
        for d in info.manifests:
            click.echo(f"  {d.digest}  {d.platform or '-'}  {human_size(d.size)}")
        return
    run = info.config
    click.echo(f"Platform:   {info.platform}")
    click.echo(f"Created:    {info.created or 'N/A'}")
    click.echo(f"Size:       {human_size(info.size)} ({info.size} bytes)")
    click.echo(f"Config:     {info.config_digest}")
    for label, value in (("Entrypoint", run.entrypoint), ("Cmd", run.cmd), ("Env", run.env)):
        if value:
            click.echo(f"{label + ':':<12}{json.dumps(list(value))}")
    for label, text in (("User", run.user), ("WorkingDir", run.working_dir)):
        if text:
            click.echo(f"{label + ':':<12}{text}")
    click.echo(f"Layers:     {len(info.layers)}")
    for layer in info.layers:
        click.echo(f"  {layer.digest}  {human_size(layer.size):>8}  {layer.media_type}")


def _as_dict(info: object) -> dict[str, object]:
    from dockyard.cli.render import to_jsonable

    value = to_jsonable(info)
    assert isinstance(value, dict)
    return value
