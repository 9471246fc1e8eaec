"""The CNCF distribution registry (`docker-registry serve`) as a test peer: own port, storage and auth, always stopped.

The config is written as JSON (which is YAML): filesystem storage with deletes enabled, a loopback
address, and optionally htpasswd (bcrypt) Basic auth or token auth trusting a given certificate bundle.
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from dockyard.testing.peers import missing_peer, require_tool

PROGRAM = "docker-registry"


@dataclass(frozen=True, slots=True)
class TokenAuth:
    """Token auth settings: the registry sends clients to `realm` and trusts JWTs signed under `cert`."""

    realm: str
    service: str
    issuer: str
    cert: Path


@dataclass(frozen=True, slots=True)
class CncfRegistry:
    """A running registry: `host` is `127.0.0.1:PORT` (HTTPS when started with a certificate, else HTTP)."""

    host: str
    root: Path
    log: Path
    tls: bool = False

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def ref(self, name: str) -> str:
        """`host/name`, e.g. `ref("busybox:1")`."""
        return f"{self.host}/{name}"

    def log_tail(self, lines: int = 20) -> str:
        with suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def htpasswd_file(path: Path, users: Sequence[tuple[str, str]]) -> Path:
    """A bcrypt htpasswd file (`htpasswd -Bbn`), the only hash distribution accepts."""
    require_tool("htpasswd")
    lines = [subprocess.run(["htpasswd", "-Bbn", user, password], capture_output=True, text=True, check=True,
                            timeout=60).stdout.strip() for user, password in users]
    path.write_text("\n".join(lines) + "\n")
    return path


def self_signed(workdir: Path, name: str = "registry") -> tuple[Path, Path]:
    """A certificate (and key) for 127.0.0.1 and localhost, made with `openssl`; it is its own CA."""
    require_tool("openssl")
    cert, key = workdir / f"{name}.crt", workdir / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", f"/CN={name}",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   capture_output=True, check=True, timeout=120)
    return cert, key


def _config(root: Path, port: int, users: Sequence[tuple[str, str]], token: TokenAuth | None,
            tls: tuple[Path, Path] | None) -> dict[str, object]:
    http: dict[str, object] = {"addr": f"127.0.0.1:{port}", "secret": "dockyard-test"}
    if tls is not None:
        http["tls"] = {"certificate": str(tls[0]), "key": str(tls[1])}
    config: dict[str, object] = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": False}},
        "storage": {"filesystem": {"rootdirectory": str(root / "data")}, "delete": {"enabled": True}},
        "http": http,
    }
    if users:
        config["auth"] = {"htpasswd": {"realm": "dockyard-test", "path": str(htpasswd_file(root / "htpasswd", users))}}
    elif token is not None:
        config["auth"] = {"token": {"realm": token.realm, "service": token.service, "issuer": token.issuer,
                                    "rootcertbundle": str(token.cert)}}
    return config


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2, context=ssl._create_unverified_context()):
            return True
    except urllib.error.HTTPError as exc:
        return exc.code == 401
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def cncf_registry(workdir: Path, *, users: Sequence[tuple[str, str]] = (), token: TokenAuth | None = None,
                  tls: tuple[Path, Path] | None = None, startup_timeout: float = 30.0) -> Iterator[CncfRegistry]:
    """Start `docker-registry serve` under `workdir`, wait until `/v2/` answers, yield it, stop it.

    `users` turns on htpasswd Basic auth, `token` token auth, `tls` (certificate, key) HTTPS.

    Skips (or fails under DOCKYARD_REQUIRE_PEERS=1) when the registry is not installed.
    """
    if shutil.which(PROGRAM) is None:
        missing_peer(f"{PROGRAM} is not installed (apt-get install docker-registry)")
    workdir.mkdir(parents=True, exist_ok=True)
    failures = []
    for attempt in range(3):
        port = free_port()
        config = workdir / "config.yml"
        config.write_text(json.dumps(_config(workdir, port, users, token, tls), indent=1))
        log = workdir / f"registry-{attempt}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([PROGRAM, "serve", str(config)], stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        registry = CncfRegistry(f"127.0.0.1:{port}", workdir, log, tls is not None)
        deadline = time.monotonic() + startup_timeout
        while time.monotonic() < deadline and proc.poll() is None and not _answers(f"{registry.url}/v2/"):
            time.sleep(0.05)
        if proc.poll() is None and _answers(f"{registry.url}/v2/"):
            try:
                yield registry
            finally:
                _stop(proc)
            return
        _stop(proc)
        failures.append(registry.log_tail(5))
    raise RuntimeError(f"{PROGRAM} did not start: " + " | ".join(failures))
