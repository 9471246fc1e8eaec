"""`dockyard build`: a Dockerfile and a context directory become an image, with no daemon."""

from __future__ import annotations

from pathlib import Path

import typer

from dockyard.cli.render import Output, print_json


def build(
    context: Path = typer.Argument(..., help="Build context directory."),
    file: Path | None = typer.Option(None, "--file", "-f", help="Dockerfile (default: CONTEXT/Dockerfile)."),
    tag: list[str] = typer.Option([], "--tag", "-t", help="Name the image NAME[:TAG] (repeatable)."),
    target: str | None = typer.Option(None, "--target", help="Build this stage (default: the last)."),
    build_arg: list[str] = typer.Option([], "--build-arg", help="Set a build-time variable K=V."),
    label: list[str] = typer.Option([], "--label", help="Add an image label K=V."),
    platform: str | None = typer.Option(None, "--platform", help="os/arch of the base images and result."),
    secret: list[str] = typer.Option([], "--secret", help="Secret for RUN --mount=type=secret: id=ID,src=FILE."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Build every step again."),
    dest: str = typer.Option("type=store", "--output", "-o",
                             help="type=store | type=oci,dest=DIR | type=docker-archive,dest=FILE | type=registry"),
    push: bool = typer.Option(False, "--push", help="Also push every -t tag that names a registry."),
    progress: str = typer.Option("plain", "--progress", help="tty, plain, json or quiet (on stderr)."),
    compression: str = typer.Option("gzip", "--compression", help="Layer compression: gzip, zstd or none."),
    fmt: Output = typer.Option(Output.TABLE, "--format",
                               help="Result format: table or json (-o/--output names the image destination)."),
) -> None:
    """Build an image from a Dockerfile.

    Examples:

      dockyard build -t myapp:1.0 .

      dockyard build -f build/Dockerfile --target runtime --build-arg VERSION=2 -o type=oci,dest=out .
    """
    from dockyard.build.executor import build as run_build
    from dockyard.build.options import BuildRequest, OutputSpec, parse_pairs, parse_secrets
    from dockyard.build.progress import Progress, ProgressMode
    from dockyard.errors import InvalidArgument
    from dockyard.oci.mediatype import Compression
    from dockyard.oci.platform import Platform

    try:
        comp = Compression(compression)
        mode = ProgressMode(progress)
    except ValueError:
        raise InvalidArgument(f"bad --compression {compression!r} or --progress {progress!r}") from None
    request = BuildRequest(
        context=context, dockerfile=file, tags=tuple(tag), target=target,
        build_args=parse_pairs(build_arg, "--build-arg"), labels=parse_pairs(label, "--label"),
        platform=Platform.parse(platform) if platform else None, no_cache=no_cache, output=OutputSpec.parse(dest),
        compression=comp, secrets=parse_secrets(secret), push=push,
    )
    result = run_build(request, Progress(mode))
    if fmt is Output.JSON:
        print_json({"digest": result.descriptor.digest, "destinations": list(result.destinations),
                    "built": result.built, "cached": result.cached})
    else:
        typer.echo(f"{' '.join(result.destinations)} {result.descriptor.digest}")
