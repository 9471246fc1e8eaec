"""The real Docker Engine (20.10) against `dockyard serve`: pull, tag, push, pull again, run; login with Basic auth.

127.0.0.0/8 registries are insecure (plain HTTP) for dockerd by default, so no daemon flag is needed.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from interop_support import Images, Skopeo

from dockyard.oci.mediatype import MediaType
from dockyard.testing.docker import docker
from dockyard.testing.registry import RunningRegistry


def _served_digest(reg: RunningRegistry, name: str, tag: str, auth: tuple[str, str] | None = None) -> str:
    with httpx.Client(base_url=reg.url, auth=auth, timeout=30) as client:
        response = client.get(f"/v2/{name}/manifests/{tag}", headers={"Accept": MediaType.DOCKER_MANIFEST})
    response.raise_for_status()
    assert response.headers["Content-Type"] == MediaType.DOCKER_MANIFEST
    return response.headers["Docker-Content-Digest"]


def _repo_digests(host: str, image: str) -> list[str]:
    out = docker(host, "image", "inspect", "--format", "{{json .RepoDigests}}", image).stdout
    return list(json.loads(out))


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private docker CLI config dir (credentials of `docker login` land here, not in ~/.docker)."""
    config = tmp_path / "docker-config"
    config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    return config


def test_interop_docker_pull_push_run(docker_host: str, docker_config: Path, registry: RunningRegistry,
                                      images: Images, skopeo: Skopeo) -> None:
    """docker pulls an OCI image skopeo pushed, pushes it back as schema2 under a new name, pulls and runs it."""
    source = f"{registry.host}/seed/busybox:1"
    skopeo.copy(images.ref("1"), f"docker://{source}")
    target = f"{registry.host}/docker/busybox:1"
    try:
        docker(docker_host, "pull", "-q", source)
        assert f"{registry.host}/seed/busybox@{images.digests['1']}" in _repo_digests(docker_host, source)
        docker(docker_host, "tag", source, target)
        docker(docker_host, "push", target)
        pushed = _served_digest(registry, "docker/busybox", "1")
        assert f"{registry.host}/docker/busybox@{pushed}" in _repo_digests(docker_host, target)
        docker(docker_host, "rmi", source, target)
        docker(docker_host, "pull", "-q", target)
        assert f"{registry.host}/docker/busybox@{pushed}" in _repo_digests(docker_host, target)
        ran = docker(docker_host, "run", "--rm", "--network", "none", target, "/bin/sh", "-c", "cat /etc/motd; echo ok")
        assert ran.stdout.decode().split() == ["dockyard", "interop", "ok"]
        with httpx.Client(base_url=registry.url) as client:
            tags = client.get("/v2/docker/busybox/tags/list").json()
        assert tags == {"name": "docker/busybox", "tags": ["1"]}
    finally:
        docker(docker_host, "rmi", "--force", source, target, check=False)


def test_interop_docker_login_basic_auth(docker_host: str, docker_config: Path, auth_registry: RunningRegistry,
                                         images: Images, skopeo: Skopeo) -> None:
    """`docker login` against an htpasswd registry; push and pull with the stored credentials, refused after logout."""
    ref = f"{auth_registry.host}/private/busybox:1"
    skopeo.copy(images.ref("1"), f"docker://{ref}", "--dest-creds", "ci:s3cret")
    try:
        denied = docker(docker_host, "pull", "-q", ref, check=False)
        assert denied.returncode != 0
        wrong = docker(docker_host, "login", "-u", "ci", "--password-stdin", auth_registry.host, input=b"nope\n",
                       check=False)
        assert wrong.returncode != 0
        docker(docker_host, "login", "-u", "ci", "--password-stdin", auth_registry.host, input=b"s3cret\n")
        assert auth_registry.host in json.loads((docker_config / "config.json").read_text())["auths"]
        docker(docker_host, "pull", "-q", ref)
        again = f"{auth_registry.host}/private/again:2"
        docker(docker_host, "tag", ref, again)
        docker(docker_host, "push", again)
        pushed = _served_digest(auth_registry, "private/again", "2", auth=("ci", "s3cret"))
        assert f"{auth_registry.host}/private/again@{pushed}" in _repo_digests(docker_host, again)
        docker(docker_host, "logout", auth_registry.host)
        docker(docker_host, "rmi", ref, again)
        assert docker(docker_host, "pull", "-q", again, check=False).returncode != 0
    finally:
        docker(docker_host, "rmi", "--force", ref, f"{auth_registry.host}/private/again:2", check=False)
