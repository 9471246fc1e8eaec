"""`dockyard build`: a Dockerfile and a context directory become an image, with no daemon."""

from __future__ import annotations

from pathlib import Path

import click

from dockyard.cli.options import argument, output_option, path_type, verb
from dockyard.cli.render import Output, print_json


@verb("build")
@argument("context", type=path_type(), help="Build context directory.")
@click.option("--file", "-f", type=path_type(), default=None, help="Dockerfile (default: CONTEXT/Dockerfile).")
@click.option("--tag", "-t", multiple=True, help="Name the image NAME[:TAG] (repeatable).")
@click.option("--target", default=None, help="Build this stage (default: the last).")
@click.option("--build-arg", multiple=True, help="Set a build-time variable K=V.")
@click.option("--label", multiple=True, help="Add an image label K=V.")
@click.option("--platform", default=None,
              help="os/arch of the base images and result; several (linux/amd64,linux/arm64) build an index.")
@click.option("--secret", multiple=True, help="Secret for RUN --mount=type=secret: id=ID,src=FILE.")
@click.option("--no-cache", is_flag=True, default=False, help="Build every step again.")
@click.option("--cache-from", multiple=True,
              help="Reuse a cache exported by --cache-to: REF, type=registry,ref=REF or type=local,src=DIR.")
@click.option("--cache-to", multiple=True,
              help="Export the build cache: REF[,mode=min|max], type=registry,ref=REF[,mode=..] or "
                   "type=local,dest=DIR (min: the final image's layers; max: every stage's).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Independent stages built at once (default: the number of CPUs).")
@click.option("--output", "-o", "dest", default="type=store",
              help="type=store | type=oci,dest=DIR | type=docker-archive,dest=FILE | type=registry")
@click.option("--push", is_flag=True, default=False, help="Also push every -t tag that names a registry.")
@click.option("--progress", default="plain", help="tty, plain, json or quiet (on stderr).")
@click.option("--compression", default="gzip", help="Layer compression: gzip, zstd or none.")
@output_option("--format", "fmt", help="Result format: table or json (-o/--output names the image destination).")
def build(context: Path, file: Path | None, tag: tuple[str, ...], target: str | None, build_arg: tuple[str, ...],
          label: tuple[str, ...], platform: str | None, secret: tuple[str, ...], no_cache: bool,
          cache_from: tuple[str, ...], cache_to: tuple[str, ...], jobs: int | None, dest: str,
          push: bool, progress: str, compression: str, fmt: Output) -> None:
    """Build an image from a Dockerfile.

    Examples:

      dockyard build -t myapp:1.0 .

      dockyard build -f build/Dockerfile --target runtime --build-arg VERSION=2 -o type=oci,dest=out .

      dockyard build --platform linux/amd64,linux/arm64 -t registry.example/app:1 --push .

      dockyard build --cache-from registry.example/app:cache --cache-to registry.example/app:cache,mode=max .
    """
    from dockyard.build.executor import build as run_build
    from dockyard.build.options import BuildRequest, CacheSpec, OutputSpec, parse_pairs, parse_secrets
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
        build_args=parse_pairs(list(build_arg), "--build-arg"), labels=parse_pairs(list(label), "--label"),
        platforms=tuple(dict.fromkeys(Platform.parse_known(p.strip()) for p in (platform or "").split(",")
                                      if p.strip())),
        no_cache=no_cache, output=OutputSpec.parse(dest), compression=comp, secrets=parse_secrets(list(secret)),
        push=push, cache_from=tuple(CacheSpec.parse(c, "--cache-from") for c in cache_from),
        cache_to=tuple(CacheSpec.parse(c) for c in cache_to), jobs=jobs,
    )
    result = run_build(request, Progress(mode))
    if fmt is Output.JSON:
        print_json({"digest": result.descriptor.digest, "destinations": list(result.destinations),
                    "built": result.built, "cached": result.cached, "cache_exports": list(result.cache_exports)})
    else:
        click.echo(f"{' '.join(result.destinations)} {result.descriptor.digest}")
