"""podman and buildah against `dockyard serve`: push, pull, run the pulled image, login with Basic auth."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from interop_support import RUN_FLAGS, Containers, Images

from dockyard.oci.mediatype import MediaType
from dockyard.testing.registry import RunningRegistry


def _served_digest(reg: RunningRegistry, name: str, tag: str, auth: tuple[str, str] | None = None) -> str:
    accept = ", ".join([MediaType.OCI_MANIFEST, MediaType.DOCKER_MANIFEST, MediaType.OCI_INDEX,
                        MediaType.DOCKER_MANIFEST_LIST])
    with httpx.Client(base_url=reg.url, auth=auth, timeout=30) as client:
        response = client.head(f"/v2/{name}/manifests/{tag}", headers={"Accept": accept})
    response.raise_for_status()
    return response.headers["Docker-Content-Digest"]


def _repo_digest(tool: Containers, image: str) -> str:
    """The digest podman/buildah recorded for the manifest it pulled."""
    inspected = json.loads(tool("inspect", "--type", "image", image).stdout)
    record = inspected[0] if isinstance(inspected, list) else inspected
    digest = record.get("Digest") or record.get("FromImageDigest")
    assert digest, record.keys()
    return str(digest)


@pytest.mark.parametrize(("fmt", "media_type"), [("oci", MediaType.OCI_MANIFEST),
                                                 ("v2s2", MediaType.DOCKER_MANIFEST)])
def test_interop_podman_push_pull_run(registry: RunningRegistry, images: Images, podman: Containers,
                                      fmt: str, media_type: str) -> None:
    """podman pushes (OCI or schema2), pulls back by tag with the same digest, and runs the pulled image."""
    podman("pull", "-q", images.ref("1"))
    local = podman("images", "-q", "--no-trunc").stdout.split()[0]
    ref = f"{registry.host}/podman/busybox:{fmt}"
    podman("push", "-q", "--tls-verify=false", "--format", fmt, local, f"docker://{ref}")
    pushed = _served_digest(registry, "podman/busybox", fmt)
    with httpx.Client(base_url=registry.url) as client:
        served = client.get(f"/v2/podman/busybox/manifests/{fmt}", headers={"Accept": media_type})
    assert served.headers["Content-Type"] == media_type
    podman("rmi", "--all", "--force")
    podman("pull", "-q", "--tls-verify=false", ref)
    assert _repo_digest(podman, ref) == pushed
    ran = podman("run", *RUN_FLAGS, "--rm", "--network", "none", ref, "/bin/sh", "-c", "cat /etc/motd; echo ok")
    assert ran.stdout.split() == ["dockyard", "interop", "ok"]


def test_interop_podman_pull_what_skopeo_pushed(registry: RunningRegistry, images: Images, podman: Containers) -> None:
    """An image pushed unchanged (dockyard's own OCI bytes) is pulled by podman with the same digest."""
    from interop_support import run

    from dockyard.testing.peers import require_tool

    run([require_tool("skopeo"), "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false",
         images.ref("1"), f"docker://{registry.host}/from/skopeo:1"])
    podman("pull", "-q", "--tls-verify=false", f"{registry.host}/from/skopeo:1")
    assert _repo_digest(podman, f"{registry.host}/from/skopeo:1") == images.digests["1"]
    by_digest = f"{registry.host}/from/skopeo@{images.digests['1']}"
    podman("pull", "-q", "--tls-verify=false", by_digest)
    ran = podman("run", *RUN_FLAGS, "--rm", "--network", "none", by_digest, "/bin/sh", "-c", "echo ok")
    assert ran.stdout.strip() == "ok"


def test_interop_podman_login_basic_auth(auth_registry: RunningRegistry, images: Images, podman: Containers) -> None:
    """Anonymous pushes are refused; after `podman login` push and pull work; a wrong password is refused."""
    ref = f"{auth_registry.host}/private/busybox:1"
    podman("pull", "-q", images.ref("1"))
    local = podman("images", "-q", "--no-trunc").stdout.split()[0]
    denied = podman("push", "--tls-verify=false", local, f"docker://{ref}", check=False)
    assert denied.returncode != 0
    assert "unauthorized" in denied.stderr.lower() or "authentication required" in denied.stderr.lower()
    wrong = podman("login", "--tls-verify=false", "-u", "ci", "-p", "wrong", auth_registry.host, check=False)
    assert wrong.returncode != 0
    podman("login", "--tls-verify=false", "-u", "ci", "-p", "s3cret", auth_registry.host)
    assert auth_registry.host in json.loads(podman.authfile.read_text())["auths"]
    podman("push", "-q", "--tls-verify=false", local, f"docker://{ref}")
    pushed = _served_digest(auth_registry, "private/busybox", "1", auth=("ci", "s3cret"))
    podman("rmi", "--all", "--force")
    podman("pull", "-q", "--tls-verify=false", ref)
    assert _repo_digest(podman, ref) == pushed
    podman("logout", auth_registry.host)
    podman("rmi", "--all", "--force")
    assert podman("pull", "-q", "--tls-verify=false", ref, check=False).returncode != 0


def test_interop_buildah_commit_push(registry: RunningRegistry, images: Images, buildah: Containers,
                                     tmp_path: Path) -> None:
    """buildah builds on a pulled image (copy + config + commit), pushes it, and pulls it back intact."""
    buildah("pull", "-q", images.ref("1"))
    base = buildah("images", "-q", "--no-trunc").stdout.split()[0]
    container = buildah("from", "-q", base).stdout.strip()
    note = tmp_path / "hello.txt"
    note.write_text("built by buildah\n")
    buildah("copy", container, str(note), "/hello.txt")
    buildah("config", "--cmd", "/bin/cat /hello.txt", "--label", "built-by=buildah", container)
    buildah("commit", "-q", container, "localhost/built:1")
    ref = f"{registry.host}/buildah/built:1"
    buildah("push", "-q", "--tls-verify=false", "localhost/built:1", f"docker://{ref}")
    pushed = _served_digest(registry, "buildah/built", "1")
    with httpx.Client(base_url=registry.url) as client:
        manifest = client.get(f"/v2/buildah/built/manifests/{pushed}",
                              headers={"Accept": MediaType.OCI_MANIFEST}).json()
        assert len(manifest["layers"]) == 2
        config = client.get(f"/v2/buildah/built/blobs/{manifest['config']['digest']}").json()
    assert config["config"]["Labels"]["built-by"] == "buildah"
    buildah("rm", "--all")
    buildah("rmi", "--all", "--force")
    buildah("pull", "-q", "--tls-verify=false", ref)
    assert _repo_digest(buildah, ref) == pushed
    again = buildah("from", "-q", ref).stdout.strip()
    mount = buildah("mount", again).stdout.strip()
    assert (Path(mount) / "hello.txt").read_text() == "built by buildah\n"
    assert (Path(mount) / "etc" / "motd").read_text() == "dockyard interop\n"
    buildah("umount", again)
