"""`make demo`: build a tiny base image from this machine's busybox and walk it through every transport.

Runs against a private store under ./demo-out (never the user's), prints each step and what it made.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "demo-out"
DOCKYARD = [str(Path(sys.executable).parent / "dockyard")]


def busybox() -> Path | None:
    for candidate in ("/bin/busybox", "/usr/bin/busybox"):
        if Path(candidate).exists():
            return Path(candidate)
    found = shutil.which("busybox")
    return Path(found) if found else None


def make_rootfs(target: Path) -> None:
    """A minimal root filesystem: busybox and its applet links, or (without busybox) a static hello file."""
    (target / "bin").mkdir(parents=True)
    (target / "etc").mkdir()
    (target / "tmp").mkdir(mode=0o1777)
    (target / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n")
    (target / "etc" / "group").write_text("root:x:0:\napp:x:1000:\n")
    bb = busybox()
    if bb is None:
        print("  (busybox-static not installed: the image holds files only; apt-get install busybox-static)")
        (target / "hello.txt").write_text("hello from dockyard\n")
        return
    shutil.copy2(bb, target / "bin" / "busybox")
    subprocess.run([str(target / "bin" / "busybox"), "--install", "-s", str(target / "bin")], check=True)
    # busybox --install writes absolute links to its own path; relink them inside the image
    for link in (target / "bin").iterdir():
        if link.is_symlink():
            link.unlink()
            link.symlink_to("busybox")


def step(title: str, *args: str, quiet: bool = False) -> str:
    if not quiet:
        print(f"\n$ dockyard {' '.join(args)}    # {title}")
    done = subprocess.run([*DOCKYARD, *args], check=False, capture_output=True, text=True)
    if not quiet:
        sys.stdout.write(done.stdout)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"demo step failed: dockyard {' '.join(args)}")
    return done.stdout


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


DEMO_DOCKERFILE = """\
FROM python:latest
RUN apt-get update && apt-get install -y gcc
COPY . /app
WORKDIR /app
RUN pip install -r requirements.txt
CMD python app.py
"""


def lint_tour() -> None:
    """Lint a Dockerfile with common mistakes, then show the safe automatic fixes."""
    app = OUT / "app"
    app.mkdir(exist_ok=True)
    (app / "Dockerfile").write_text(DEMO_DOCKERFILE)
    print(f"\n# {app / 'Dockerfile'}:")
    sys.stdout.write("".join(f"#   {line}\n" for line in DEMO_DOCKERFILE.splitlines()))
    step("lint it: hadolint's rules and dockyard's", "lint", "--no-fail", str(app / "Dockerfile"))
    step("preview the safe fixes", "lint", "--fix", "--dry-run", str(app / "Dockerfile"))


def build_tour() -> None:
    """Build a two-stage Dockerfile on the demo image: RUN in a sandbox when this machine has one."""
    from dockyard.build.sandbox.detect import detect_sandbox, detect_tree_sandbox
    from dockyard.errors import Error

    sandbox: str | None
    try:
        sandbox = detect_sandbox().name
    except Error:
        try:  # no overlayfs (no root): the slower tree-diff fallback still runs RUN steps
            sandbox = detect_tree_sandbox().name
        except Error as exc:
            sandbox = None
            print(f"\n  (RUN needs runc or bwrap here: {exc}; building without RUN)")
    ctx = OUT / "build-ctx"
    ctx.mkdir(exist_ok=True)
    (ctx / "greeting.txt").write_text("hello from a dockyard build\n")
    (ctx / ".dockyard-secret").write_text("never in the image\n")
    (ctx / ".dockerignore").write_text(".dockyard-secret\n")
    build_stage = "FROM demo/busybox:1.0 AS build\nUSER 0\nCOPY greeting.txt /src/\n"
    if sandbox:
        build_stage += ('RUN mkdir -p /out && cp /src/greeting.txt /out/'
                        ' && echo "built by $(id -u)" >> /out/greeting.txt\n')
        final_copy = "COPY --from=build /out/greeting.txt /greeting.txt\n"
    else:
        final_copy = "COPY --from=build /src/greeting.txt /greeting.txt\n"
    dockerfile = (build_stage + "\nFROM demo/busybox:1.0\n" + final_copy +
                  'USER 1000\nCMD ["/bin/cat", "/greeting.txt"]\n')
    (ctx / "Dockerfile").write_text(dockerfile)
    print(f"\n# {ctx / 'Dockerfile'}:")
    sys.stdout.write("".join(f"#   {line}\n" for line in dockerfile.splitlines()))
    step("build it (multi-stage, cached, reproducible)", "build", "-t", "demo/app:1.0", "--progress", "plain",
         str(ctx))
    step("build again: every step is a cache hit", "build", "-t", "demo/app:1.0", "--progress", "plain", str(ctx))
    step("the result", "inspect", "demo/app:1.0")
    multi = OUT / "multi-ctx"
    multi.mkdir(exist_ok=True)
    (multi / "greeting.txt").write_text("the same file for every platform\n")
    (multi / "Dockerfile").write_text("FROM scratch\nCOPY --chmod=a=r greeting.txt /\n")
    step("build for two platforms at once: an OCI index", "build", "--platform", "linux/amd64,linux/arm64",
         "-o", f"type=oci,dest={OUT / 'multi'}", "-t", "demo/multi:1.0", "--progress", "quiet", str(multi))
    step("the index", "inspect", f"oci:{OUT / 'multi'}:1.0")


def cache_tour(host: str) -> None:
    """Export the build cache to the registry, then build on a 'new machine' (an empty store) from it."""
    ctx = str(OUT / "build-ctx")
    step("export the build cache to the registry (BuildKit's max mode)", "build", "-t", "demo/app:1.0",
         "--cache-to", f"{host}/demo/app:buildcache,mode=max", "--progress", "quiet", ctx)
    home = os.environ["DOCKYARD_HOME"]
    os.environ["DOCKYARD_HOME"] = str(OUT / "other-machine")
    try:
        step("on another machine: the same base image", "copy", f"oci:{OUT / 'layout'}:1.0", "demo/busybox:1.0")
        step("build there from the registry cache: nothing runs again", "build", "-t", "demo/app:1.0",
             "--cache-from", f"{host}/demo/app:buildcache", "--progress", "quiet", "--format", "json", ctx)
    finally:
        os.environ["DOCKYARD_HOME"] = home


def registry_tour() -> None:
    """Start `dockyard serve`, push with our client (and skopeo when installed), list, pull back, stop."""
    import time
    import urllib.request

    port = free_port()
    host = f"127.0.0.1:{port}"
    print(f"\n$ dockyard serve --port {port} --data-dir {OUT / 'registry'} &    # a private OCI registry")
    server = subprocess.Popen([*DOCKYARD, "serve", "--port", str(port), "--data-dir", str(OUT / "registry")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://{host}/v2/", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("demo: the registry did not start")
        step("push the image to it", "push", "demo/busybox:1.0", f"{host}/demo/busybox:1.0")
        if shutil.which("skopeo"):
            print(f"\n$ skopeo copy --dest-tls-verify=false oci:{OUT / 'layout'}:1.0 docker://{host}/demo/skopeo:1.0")
            subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", f"oci:{OUT / 'layout'}:1.0",
                            f"docker://{host}/demo/skopeo:1.0"], check=True)
        step("list its repositories", "catalog", host)
        step("list the tags of one", "tags", f"{host}/demo/busybox")
        step("ask for the digest a tag points to", "digest", f"{host}/demo/busybox:1.0")
        step("pull it back into the store", "pull", f"{host}/demo/busybox:1.0")
        cache_tour(host)
    finally:
        server.terminate()
        server.wait(timeout=10)
        print("\n(registry stopped)")


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    os.environ["DOCKYARD_HOME"] = str(OUT / "home")
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1700000000")
    print(f"dockyard demo: a private store in {OUT / 'home'}, outputs in {OUT}")
    with tempfile.TemporaryDirectory() as tmp:
        rootfs = Path(tmp) / "rootfs"
        make_rootfs(rootfs)
        step("import a root filesystem as an image", "import", str(rootfs), "-t", "demo/busybox:1.0",
             "-c", 'CMD ["/bin/sh"]', "-c", "ENV PATH=/bin", "-c", "USER 1000",
             "-m", "busybox from this machine")
    step("name it again", "tag", "demo/busybox:1.0", "demo/busybox:latest")
    step("list the store", "images")
    step("inspect it", "inspect", "demo/busybox:1.0")
    step("copy it to an OCI image layout", "copy", "demo/busybox:1.0", f"oci:{OUT / 'layout'}:1.0")
    step("save it as a docker-archive (docker load reads it)", "save", "demo/busybox:1.0",
         "-o", str(OUT / "busybox.tar"))
    step("copy the layout to an oci-archive", "copy", f"oci:{OUT / 'layout'}:1.0",
         f"oci-archive:{OUT / 'busybox.oci.tar'}")
    step("load the archive back", "load", "-i", str(OUT / "busybox.tar"))
    digests = {
        "store": step("digest in the store", "inspect", "demo/busybox:1.0", "-o", "json", quiet=True),
        "layout": step("digest in the layout", "inspect", f"oci:{OUT / 'layout'}:1.0", "-o", "json", quiet=True),
        "archive": step("digest in the docker-archive", "inspect", f"docker-archive:{OUT / 'busybox.tar'}",
                        "-o", "json", quiet=True),
    }

    seen = {name: json.loads(text)["digest"] for name, text in digests.items()}
    same = len(set(seen.values())) == 1
    step("analyze its layers: dive's metrics, reclaimable bytes, findings", "analyze", "demo/busybox:1.0")
    step("the same as a CI gate (dive's .dive-ci rules)", "analyze", "demo/busybox:1.0", "--ci")
    lint_tour()
    build_tour()
    registry_tour()
    step("remove a name", "rmi", "demo/busybox:latest")
    step("reclaim unused space (dry run)", "prune", "--all", "--dry-run")
    print("\nsummary:")
    for name, digest in seen.items():
        print(f"  {name:<8} {digest}")
    print(f"  digests identical across store, OCI layout and docker-archive: {'yes' if same else 'NO'}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
