"""One thin module per CLI verb; COMMANDS says where each verb lives, so only the verb being run is imported."""

from __future__ import annotations

from dockyard.cli.lazy import LazyCommand


def _verb(module: str, attribute: str, short_help: str) -> LazyCommand:
    return LazyCommand(f"dockyard.cli.commands.{module}", attribute, short_help)


#: verb -> (module, click command, the first paragraph of its help); `--help` lists them in this order.
#: tests/cli/test_cli_startup.py checks each line against the verb's own docstring.
COMMANDS: dict[str, LazyCommand] = {
    "import": _verb("import_", "import_", "Import a root filesystem as a one-layer image."),
    "images": _verb("images", "images", "List the images in the local store, newest first."),
    "inspect": _verb("inspect", "inspect", "Show what an image is made of."),
    "tag": _verb("tag", "tag", "Give a stored image another name (like `docker tag`)."),
    "rmi": _verb("tag", "rmi", "Remove names from the store; an image with no name left is deleted with its "
                               "unshared blobs."),
    "copy": _verb("copy", "copy", "Copy an image or a multi-platform index between the store, OCI layouts and "
                                  "archives."),
    "save": _verb("archive", "save", "Save images into one tar that `docker load`, podman and skopeo read."),
    "load": _verb("archive", "load", "Load every image of an archive into the store, with the names it carries."),
    "prune": _verb("prune", "prune", "Remove dangling images (or all with --all) and every blob no image needs."),
    "pull": _verb("pushpull", "pull", "Pull an image from a registry into the local store, verifying every digest."),
    "push": _verb("pushpull", "push", "Push an image or index to a registry: blobs first (skipping or mounting "
                                      "those it has), manifests last."),
    "login": _verb("login", "login", "Check credentials against a registry and store them (0600) where docker and "
                                     "podman find them."),
    "logout": _verb("login", "logout", "Remove stored credentials for a registry."),
    "tags": _verb("discover", "tags", "List the tags of a repository (follows pagination)."),
    "catalog": _verb("discover", "catalog", "List the repositories of a registry (`/v2/_catalog`, follows "
                                            "pagination)."),
    "digest": _verb("discover", "digest", "Print the digest a tag points to (a HEAD request; nothing is "
                                          "downloaded)."),
    "manifest": _verb("discover", "manifest", "Print the raw manifest bytes exactly as the registry serves them "
                                              "(verified against the digest)."),
    "referrers": _verb("discover", "referrers", "List the artifacts (signatures, SBOMs, attestations) that refer to "
                                                "an image."),
    "delete": _verb("discover", "delete", "Delete a manifest from a registry (a tag is resolved first; every tag on "
                                          "that manifest goes too)."),
    "serve": _verb("serve", "serve", "Serve an OCI distribution v1.1 registry (push, pull, referrers, catalog, "
                                     "deletes)."),
    "analyze": _verb("analyze", "analyze", "Analyze an image: layers, wasted and reclaimable bytes, findings and how "
                                           "to fix them."),
    "lint": _verb("lint", "lint", "Lint Dockerfiles: hadolint's DL rules (IDs, severities, .hadolint.yaml, pragmas) "
                                  "and dockyard's DY rules."),
    "version": _verb("version", "version", "Print the dockyard version."),
    "build": _verb("build", "build", "Build an image from a Dockerfile."),
    "registry": _verb("registry_admin", "registry", "Maintain the data of `dockyard serve`: garbage collection and "
                                                    "consistency checks."),
}
