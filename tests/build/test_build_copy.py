"""COPY/ADD builds against a busybox base made by the tests: Docker's directory semantics, owners, modes,
.dockerignore, multi-stage --from, ADD of tars and of URLs (a loopback http.server), hostile contexts."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import tarfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dockyard.build.executor import BuildResult, build
from dockyard.build.options import BuildRequest
from dockyard.build.progress import Progress, ProgressMode
from dockyard.errors import DigestMismatch, InvalidArgument, NotFound, UnsafePath, Unsupported

Tree = Callable[[object], Path]


def run_build(ctx: Path, dockerfile: str, **kw: object) -> BuildResult:
    (ctx / "Dockerfile").write_text(dockerfile)
    request = BuildRequest(context=ctx, tags=("out:test",), **kw)  # type: ignore[arg-type]
    return build(request, Progress(ProgressMode.QUIET))


@pytest.fixture
def ctx(tmp_path: Path) -> Path:
    root = tmp_path / "ctx"
    (root / "src" / "deep").mkdir(parents=True)
    (root / "a.txt").write_text("alpha\n")
    (root / "b.txt").write_text("beta\n")
    (root / "run.sh").write_text("#!/bin/sh\necho run\n")
    os.chmod(root / "run.sh", 0o755)
    (root / "src" / "one.c").write_text("int main(){}\n")
    (root / "src" / "deep" / "two.h").write_text("#pragma once\n")
    return root


def test_build_copy_multistage_semantics(ctx: Path, busybox_base: str, image_tree: Tree) -> None:
    result = run_build(ctx, f"""\
FROM {busybox_base} AS base
WORKDIR /app
COPY a.txt .
COPY src /app/src
COPY src/deep/two.h /app/renamed.h
COPY a.txt b.txt /app/multi/
COPY --chown=app:staff --chmod=640 b.txt /app/owned
COPY *.sh /usr/local/bin/
FROM scratch
COPY --from=base /app /
COPY --from=base /usr/local/bin/run.sh /bin/
ENV PATH=/bin
CMD ["run.sh"]
""")
    tree = image_tree(result.image)
    assert (tree / "a.txt").read_text() == "alpha\n"
    assert (tree / "src" / "one.c").exists() and (tree / "src" / "deep" / "two.h").exists()
    assert not (tree / "src" / "src").exists()
    assert (tree / "renamed.h").read_text() == "#pragma once\n"
    assert (tree / "multi" / "a.txt").exists() and (tree / "multi" / "b.txt").exists()
    assert (tree / "bin" / "run.sh").stat().st_mode & 0o777 == 0o755
    owned = (tree / "owned").stat()
    assert owned.st_mode & 0o777 == 0o640
    if os.geteuid() == 0:
        assert (owned.st_uid, owned.st_gid) == (1000, 50)
    assert not (tree / "bin" / "busybox").exists()  # scratch: only what was copied
    config = result.image.config()
    assert config.config.cmd == ("run.sh",)
    assert "PATH=/bin" in config.config.env
    texts = [h.created_by for h in config.history]
    assert texts[0] == "COPY --from=base /app / # buildkit"
    assert [h.empty_layer for h in config.history] == [False, False, True, True]


def test_build_dockerignore_respected(ctx: Path, busybox_base: str, image_tree: Tree) -> None:
    (ctx / ".dockerignore").write_text("b.txt\nsrc/deep\n")
    result = run_build(ctx, f"FROM {busybox_base}\nCOPY . /ctx/\n")
    tree = image_tree(result.image)
    assert (tree / "ctx" / "a.txt").exists()
    assert not (tree / "ctx" / "b.txt").exists()
    assert not (tree / "ctx" / "src" / "deep").exists()
    with pytest.raises(NotFound, match="not found"):
        run_build(ctx, f"FROM {busybox_base}\nCOPY b.txt /\n")


def test_build_multiple_sources_need_dir(ctx: Path, busybox_base: str) -> None:
    with pytest.raises(InvalidArgument, match="destination must be a directory"):
        run_build(ctx, f"FROM {busybox_base}\nCOPY a.txt b.txt /dest\n")


@pytest.mark.parametrize("line", ["COPY ../outside /x", "COPY src/../../outside /x", "ADD ../outside /x"])
def test_build_refuses_paths_outside_context(ctx: Path, busybox_base: str, line: str) -> None:
    (ctx.parent / "outside").write_text("host secret\n")
    with pytest.raises(UnsafePath, match="outside the build context"):
        run_build(ctx, f"FROM {busybox_base}\n{line}\n")


def test_build_refuses_symlink_out_of_context(ctx: Path, busybox_base: str) -> None:
    (ctx.parent / "outside").write_text("host secret\n")
    os.symlink(ctx.parent / "outside", ctx / "link")
    with pytest.raises(UnsafePath, match="symlink"):
        run_build(ctx, f"FROM {busybox_base}\nCOPY link /x\n")


def test_build_add_local_tar_is_extracted(ctx: Path, busybox_base: str, image_tree: Tree) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = b"from the tar\n"
        info = tarfile.TarInfo("pkg/file.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    (ctx / "bundle.tar.gz").write_bytes(buf.getvalue())
    result = run_build(ctx, f"FROM {busybox_base}\nADD bundle.tar.gz /opt/\nCOPY bundle.tar.gz /raw/\n")
    tree = image_tree(result.image)
    assert (tree / "opt" / "pkg" / "file.txt").read_text() == "from the tar\n"
    assert (tree / "raw" / "bundle.tar.gz").exists()


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kw: object) -> None:
            super().__init__(*args, directory=str(root), **kw)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()


def test_build_add_url_needs_checksum(ctx: Path, busybox_base: str, image_tree: Tree,
                                      http_server: tuple[str, Path]) -> None:
    url, root = http_server
    (root / "tool.bin").write_bytes(b"binary payload")
    good = "sha256:" + hashlib.sha256(b"binary payload").hexdigest()
    with pytest.raises(Unsupported, match="--checksum"):
        run_build(ctx, f"FROM {busybox_base}\nADD {url}/tool.bin /opt/\n")
    with pytest.raises(DigestMismatch):
        run_build(ctx, f"FROM {busybox_base}\nADD --checksum=sha256:{'0' * 64} {url}/tool.bin /opt/\n")
    result = run_build(ctx, f"FROM {busybox_base}\nADD --checksum={good} {url}/tool.bin /opt/\n")
    assert (image_tree(result.image) / "opt" / "tool.bin").read_bytes() == b"binary payload"


def test_build_heredoc_copy_and_metadata(ctx: Path, busybox_base: str, image_tree: Tree) -> None:
    result = run_build(ctx, f"""\
FROM {busybox_base}
ARG VERSION=1.2
LABEL version=$VERSION
COPY <<EOF /etc/app.conf
version=$VERSION
EOF
USER app:staff
EXPOSE 8080 53/udp
VOLUME /data
STOPSIGNAL SIGTERM
SHELL ["/bin/sh", "-ec"]
HEALTHCHECK --interval=5s CMD true
ENTRYPOINT ["/bin/sh"]
""", build_args={"VERSION": "2.0"}, labels={"extra": "yes"})
    assert (image_tree(result.image) / "etc" / "app.conf").read_text() == "version=2.0\n"
    run = result.image.config().config
    assert run.labels == {"version": "2.0", "extra": "yes"}
    assert run.user == "app:staff"
    assert run.exposed_ports == ("53/udp", "8080/tcp")
    assert run.volumes == ("/data",)
    assert run.entrypoint == ("/bin/sh",) and run.cmd is None
    raw = result.image.config().raw
    assert b'"Shell":["/bin/sh","-ec"]' in raw and b'"Interval":5000000000' in raw


def test_build_copy_file_onto_existing_dir(ctx: Path, busybox_base: str, image_tree: Tree) -> None:
    result = run_build(ctx, f"FROM {busybox_base}\nCOPY a.txt /tmp\nCOPY b.txt /etc/newname\n")
    tree = image_tree(result.image)
    assert (tree / "tmp" / "a.txt").read_text() == "alpha\n"
    assert (tree / "etc" / "newname").read_text() == "beta\n"


def test_build_copy_exclude(ctx: Path, busybox_base: str, image_tree: Tree) -> None:
    result = run_build(ctx, f"FROM {busybox_base}\nCOPY --exclude=src/deep --exclude=*.sh . /all/\n")
    tree = image_tree(result.image)
    assert (tree / "all" / "src" / "one.c").exists()
    assert not (tree / "all" / "src" / "deep").exists()
    assert not (tree / "all" / "run.sh").exists()


def test_build_onbuild_triggers_run_in_child(ctx: Path, busybox_base: str, image_tree: Tree) -> None:
    parent = run_build(ctx, f"FROM {busybox_base}\nONBUILD COPY a.txt /from-trigger.txt\n")
    assert b'"OnBuild":["COPY a.txt /from-trigger.txt"]' in parent.image.config().raw
    (ctx / "Dockerfile").write_text("FROM out:test\nCOPY b.txt /b.txt\n")
    from dockyard.build.executor import build as run
    child = run(BuildRequest(context=ctx, tags=("child:test",)), Progress(ProgressMode.QUIET))
    tree = image_tree(child.image)
    assert (tree / "from-trigger.txt").read_text() == "alpha\n"
    assert b'"OnBuild":["COPY' not in child.image.config().raw


def test_build_from_platform_and_target(ctx: Path, busybox_base: str) -> None:
    dockerfile = f"""\
FROM --platform=linux/arm64 scratch AS arm
COPY a.txt /
FROM {busybox_base} AS unused
COPY missing-file /
FROM scratch AS final
COPY b.txt /
"""
    arm = run_build(ctx, dockerfile, target="arm")
    assert arm.image.config().architecture == "arm64"
    final = run_build(ctx, dockerfile)  # the broken stage is never built: the target does not need it
    assert len(final.image.layers()) == 1


def test_build_copy_dotfiles_to_root(ctx: Path, busybox_base: str, image_tree: Tree) -> None:
    (ctx / ".hidden").write_text("dot\n")
    result = run_build(ctx, f"FROM {busybox_base}\nCOPY .hidden a.txt /\nCOPY src /\n")
    tree = image_tree(result.image)
    assert (tree / ".hidden").read_text() == "dot\n"
    assert (tree / "a.txt").exists() and (tree / "one.c").exists() and (tree / "deep" / "two.h").exists()
