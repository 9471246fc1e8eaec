"""`dockyard pull` and `dockyard push`: between registries and the local store."""

from __future__ import annotations

from pathlib import Path

import click

from dockyard.cli.options import argument, output_option, verb
from dockyard.cli.remoteopts import remote_flags, remote_options
from dockyard.cli.render import Output, print_json


@verb("pull")
@argument("ref", help="REGISTRY/REPO[:TAG|@DIGEST] (docker.io is the default registry).")
@click.option("--platform", default=None, help="Pull only this platform of an index: os/arch or os/arch/variant.")
@click.option("--all-platforms", is_flag=True, default=False, help="Pull every platform of an index.")
@remote_flags
@output_option()
def pull(ref: str, platform: str | None, all_platforms: bool, insecure: bool, ca_cert: Path | None,
         authfile: Path | None, output: Output) -> None:
    """Pull an image from a registry into the local store, verifying every digest.

    By default an index is narrowed to this machine's platform, as docker does.

    Example: dockyard pull localhost:5000/demo/busybox:1.0
    """
    from dockyard.cli.progress import layer_progress
    from dockyard.errors import InvalidArgument
    from dockyard.oci.platform import Platform
    from dockyard.oci.reference import Reference
    from dockyard.transports.remote import RemoteRef, open_remote
    from dockyard.transports.resolve import narrow
    from dockyard.transports.store import Store

    if platform and all_platforms:
        raise InvalidArgument("pull: --platform and --all-platforms exclude each other")
    reference = Reference.parse(ref.removeprefix("docker://"))
    plat = Platform.parse_known(platform) if platform else None
    with layer_progress("pull") as on_progress:
        options = remote_options(insecure, ca_cert, authfile, on_progress)
        artifact = open_remote(RemoteRef.of(reference), platform=plat, options=options)
        if not all_platforms:  # a single image must match an explicit --platform, as docker insists
            artifact = narrow(artifact, plat, reference.familiar)
        # Pulled by digest: named `repo@digest` (of what is stored: an index's child when narrowed), else prune
        # would see an unnamed, dangling image.
        by_digest = Reference(reference.registry, reference.repository, None, artifact.digest())
        names = [by_digest] if reference.digest else [reference]
        desc = Store.open().write(artifact, names)
    if output is Output.JSON:
        print_json({"reference": reference.familiar, "digest": desc.digest, "media_type": desc.media_type})
    else:
        click.echo(f"{reference.familiar} {desc.digest}")


@verb("push")
@argument("source", help="Image to push: a store name, or any transport reference.")
@argument("destination", required=False, default=None,
          help="REGISTRY/REPO[:TAG] (default: the source's own name).")
@remote_flags
@output_option()
def push(source: str, destination: str | None, insecure: bool, ca_cert: Path | None, authfile: Path | None,
         output: Output) -> None:
    """Push an image or index to a registry: blobs first (skipping or mounting those it has), manifests last.

    Examples:

      dockyard push localhost:5000/app:1.0

      dockyard push app:1.0 localhost:5000/team/app:1.0

      dockyard push oci:./layout:1.0 registry.example.com/app:1.0
    """
    from dockyard.cli.progress import layer_progress
    from dockyard.errors import InvalidArgument
    from dockyard.oci.reference import Reference
    from dockyard.transports.location import Transport, parse_location
    from dockyard.transports.remote import RemoteRef
    from dockyard.transports.remote import push as do_push
    from dockyard.transports.resolve import open_location

    loc = parse_location(source)
    if destination is None:
        if loc.transport is not Transport.STORE or loc.reference is None:
            raise InvalidArgument(f"push {source}: give a destination REGISTRY/REPO[:TAG]")
        target = loc.reference
    else:
        target = Reference.parse(destination.removeprefix("docker://"))
    with layer_progress("push") as on_progress:
        options = remote_options(insecure, ca_cert, authfile, on_progress)
        artifact = open_location(loc, remote=options)
        desc = do_push(artifact, RemoteRef.of(target), options)
    if output is Output.JSON:
        print_json({"reference": target.familiar, "digest": desc.digest, "media_type": desc.media_type,
                    "size": desc.size})
    else:
        click.echo(f"{target.familiar} {desc.digest}")

