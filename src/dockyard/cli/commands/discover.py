"""Registry inspection verbs: `tags`, `catalog`, `digest`, `manifest`, `referrers`, `delete`."""

from __future__ import annotations

from pathlib import Path

import click

from dockyard.cli.options import argument, output_option, verb
from dockyard.cli.remoteopts import remote_flags, remote_options
from dockyard.cli.render import Output, print_json, print_table


def _ref(text: str, *, default_tag: bool = True) -> object:
    from dockyard.transports.remote import RemoteRef

    return RemoteRef.parse(text.removeprefix("docker://"), default_tag=default_tag)


@verb("tags")
@argument("repository", help="REGISTRY/REPO")
@remote_flags
@output_option()
def tags(repository: str, insecure: bool, ca_cert: Path | None, authfile: Path | None, output: Output) -> None:
    """List the tags of a repository (follows pagination)."""
    from dockyard.transports.remote import RemoteRef, list_tags

    ref = RemoteRef.parse(repository.removeprefix("docker://"), default_tag=False)
    found = list_tags(ref, remote_options(insecure, ca_cert, authfile))
    if output is Output.JSON:
        print_json({"repository": str(ref), "tags": found})
    else:
        for tag in found:
            click.echo(tag)


@verb("catalog")
@argument("registry", help="Registry host, e.g. localhost:5000")
@remote_flags
@output_option()
def catalog(registry: str, insecure: bool, ca_cert: Path | None, authfile: Path | None, output: Output) -> None:
    """List the repositories of a registry (`/v2/_catalog`, follows pagination)."""
    from dockyard.transports.remote import catalog as do_catalog

    repos = do_catalog(registry.removeprefix("docker://").rstrip("/"), remote_options(insecure, ca_cert, authfile))
    if output is Output.JSON:
        print_json({"registry": registry, "repositories": repos})
    else:
        for repo in repos:
            click.echo(repo)


@verb("digest")
@argument("ref", help="REGISTRY/REPO[:TAG]")
@remote_flags
@output_option()
def digest(ref: str, insecure: bool, ca_cert: Path | None, authfile: Path | None, output: Output) -> None:
    """Print the digest a tag points to (a HEAD request; nothing is downloaded)."""
    from dockyard.transports.remote import RemoteRef, head_digest

    desc = head_digest(RemoteRef.parse(ref.removeprefix("docker://")), remote_options(insecure, ca_cert, authfile))
    if output is Output.JSON:
        print_json({"reference": ref, "digest": desc.digest, "media_type": desc.media_type, "size": desc.size})
    else:
        click.echo(str(desc.digest))


@verb("manifest")
@argument("ref", help="REGISTRY/REPO[:TAG|@DIGEST]")
@remote_flags
def manifest(ref: str, insecure: bool, ca_cert: Path | None, authfile: Path | None) -> None:
    """Print the raw manifest bytes exactly as the registry serves them (verified against the digest)."""
    import sys

    from dockyard.transports.remote import RemoteRef, get_manifest_raw

    raw = get_manifest_raw(RemoteRef.parse(ref.removeprefix("docker://")), remote_options(insecure, ca_cert, authfile))
    sys.stdout.buffer.write(raw.raw)
    sys.stdout.flush()


@verb("referrers")
@argument("ref", help="REGISTRY/REPO[:TAG|@DIGEST] of the subject")
@click.option("--artifact-type", default=None, help="Only referrers of this artifactType.")
@remote_flags
@output_option()
def referrers(ref: str, artifact_type: str | None, insecure: bool, ca_cert: Path | None, authfile: Path | None,
              output: Output) -> None:
    """List the artifacts (signatures, SBOMs, attestations) that refer to an image."""
    from dockyard.transports.remote import RemoteRef, list_referrers

    found = list_referrers(RemoteRef.parse(ref.removeprefix("docker://")), remote_options(insecure, ca_cert, authfile),
                           artifact_type=artifact_type)
    if output is Output.JSON:
        print_json([{"digest": d.digest, "media_type": d.media_type, "artifact_type": d.artifact_type,
                     "size": d.size, "annotations": dict(d.annotations)} for d in found])
        return
    print_table(["DIGEST", "ARTIFACT TYPE", "SIZE"], [[str(d.digest), d.artifact_type or "-", d.size] for d in found])


@verb("delete")
@argument("ref", help="REGISTRY/REPO:TAG or REGISTRY/REPO@DIGEST")
@remote_flags
@output_option()
def delete(ref: str, insecure: bool, ca_cert: Path | None, authfile: Path | None, output: Output) -> None:
    """Delete a manifest from a registry (a tag is resolved first; every tag on that manifest goes too)."""
    from dockyard.transports.remote import RemoteRef
    from dockyard.transports.remote import delete as do_delete

    gone = do_delete(RemoteRef.parse(ref.removeprefix("docker://")), remote_options(insecure, ca_cert, authfile))
    if output is Output.JSON:
        print_json({"reference": ref, "deleted": gone})
    else:
        click.echo(f"Deleted: {gone}")
